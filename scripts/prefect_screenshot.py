"""Screenshot of the Prefect UI's deployments page for the README (docs/prefect-deployments.png).

Run with ``shinsei serve`` up: ``.venv/bin/python scripts/prefect_screenshot.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

from robots.browser import CHROMIUM, CHROMIUM_ARGS

UI = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:4200"
OUT = Path(__file__).resolve().parent.parent / "docs" / "prefect-deployments.png"

with sync_playwright() as p:
    browser = p.chromium.launch(
        executable_path=str(CHROMIUM) if CHROMIUM.exists() else None, args=CHROMIUM_ARGS
    )
    page = browser.new_page(viewport={"width": 1440, "height": 800})
    page.goto(f"{UI}/deployments", wait_until="networkidle")
    page.get_by_text("nightly").first.wait_for(timeout=30_000)
    page.wait_for_timeout(1500)
    page.screenshot(path=str(OUT))
    browser.close()
print(OUT)
