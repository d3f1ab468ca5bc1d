#!/usr/bin/env bash
# Set up shinsei on a Debian/Ubuntu machine: system packages, a virtualenv, the package.
# Idempotent and quick when everything is already there. Sourced by demo.sh and test.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

APT_PACKAGES=(
  python3 python3-venv python3-pip       # the interpreter and venv
  poppler-utils                          # PDF pages → images (pdf2image), pdffonts
  fonts-ipaexfont fonts-noto-cjk         # Japanese fonts for letters, overlays, sample forms
  fonts-klee fonts-seto fonts-yozvox-yozfont  # handwriting-like fonts of the sample generator
  chromium                               # the browser the keying robots drive
  chromium-headless-shell                # its old headless shell: half the CPU per page
  tesseract-ocr tesseract-ocr-jpn        # the comparator OCR engine
  libreoffice-calc                       # opens the review workbook in tests
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "shinsei setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.shinsei-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "shinsei setup: installing Python packages into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[dev]'
  echo "$want" > "$stamp"
fi

# No telemetry, no downloads at run time.
export PREFECT_SERVER_ANALYTICS_ENABLED=false
export DO_NOT_TRACK=1
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
