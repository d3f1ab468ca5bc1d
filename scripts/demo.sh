#!/usr/bin/env bash
# Set shinsei up (scripts/setup.sh) and run the main job: the nightly batch on
# the committed sample batch, with the legacy stand-in and a local Prefect server.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh
exec .venv/bin/shinsei demo "$@"
