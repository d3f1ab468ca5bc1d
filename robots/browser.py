"""Launching Chromium for the robots.

Playwright's own browser download cannot run on the offline machines this
is deployed on, so Debian's Chromium is used: ``SHINSEI_CHROMIUM`` if set,
else for headless runs the old headless shell (package
``chromium-headless-shell``; the same engine, about half the CPU per page
of the full browser in headless mode), else ``/usr/bin/chromium``, else the
browser Playwright installed. Every launch gets a fresh temporary profile
(Playwright's default), so no cookie or cache survives from one run to the
next.
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


HEADLESS_SHELL = Path("/usr/lib/chromium/chromium-headless-shell")
CHROMIUM = Path("/usr/bin/chromium")


def chromium_executable(*, headless: bool = True) -> str | None:
    """The Chromium binary to drive, or ``None`` for Playwright's own."""
    configured = os.environ.get("SHINSEI_CHROMIUM")
    if configured:
        return configured
    for candidate in (HEADLESS_SHELL, CHROMIUM) if headless else (CHROMIUM,):
        if candidate.exists():
            return str(candidate)
    return None


async def launch_browser(playwright: Playwright, *, headless: bool = True) -> Browser:
    """One Chromium for a robot run; each worker opens its own context in it."""
    return await playwright.chromium.launch(
        executable_path=chromium_executable(headless=headless),
        headless=headless,
        args=CHROMIUM_ARGS,
    )
