"""Launching Chromium for the robots.

Playwright's own browser download cannot run on the offline machines this
is deployed on, so Debian's ``/usr/bin/chromium`` (or ``SHINSEI_CHROMIUM``)
is used when present, else the browser Playwright installed. Every launch
gets a fresh temporary profile (Playwright's default), so no cookie or
cache survives from one run to the next.
"""

from __future__ import annotations

import os
from pathlib import Path

from playwright.async_api import Browser, Playwright

#: Headless, sandbox off (root in a container), and none of Chromium's calls home:
#: the machines have no network beyond the legacy system.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


def chromium_executable() -> str | None:
    """The Chromium binary to drive, or ``None`` for Playwright's own."""
    configured = os.environ.get("SHINSEI_CHROMIUM")
    if configured:
        return configured
    debian = Path("/usr/bin/chromium")
    return str(debian) if debian.exists() else None


async def launch_browser(playwright: Playwright, *, headless: bool = True) -> Browser:
    """One Chromium for a robot run; each worker opens its own context in it."""
    return await playwright.chromium.launch(
        executable_path=chromium_executable(), headless=headless, args=CHROMIUM_ARGS
    )
