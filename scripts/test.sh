#!/usr/bin/env bash
# Set shinsei up (scripts/setup.sh) and run its checks: ruff, mypy, pytest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh

.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy

set +e
.venv/bin/python -m pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: that is a broken test suite, not a pass" >&2
  exit 1
fi
exit "$status"
