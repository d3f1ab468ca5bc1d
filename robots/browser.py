"""Launching Chromium for the robots.

Playwright's own browser download cannot run on the offline machines this
is deployed on, so Debian's Chromium is used: ``SHINSEI_CHROMIUM`` if set,
else for headless runs the old headless shell (package
``chromium-headless-shell``; the same engine, about half the CPU per page
of the full browser in headless mode), else ``/usr/bin/chromium``, else the
browser Playwright installed. Every launch gets a fresh temporary profile
(Playwright's default), so no cookie or cache survives from one run to the
next.

**Frames on demand.** The headless shell is launched with
``--enable-begin-frame-control``: the compositor draws a frame only when
asked (``HeadlessExperimental.beginFrame``). The robot reads the DOM and
never looks at pixels, and without the flag every page load and every
``fill()`` was painted, rastered and composited for nobody -- about a third
of the browser's CPU time (measured: 95-115 -> 72 ms a page load, 28 -> 16 ms
a ``fill()``). What does need frames -- a screenshot, Playwright's
``click()``/``check()`` (they wait for two animation frames), anything
waiting for ``requestAnimationFrame`` -- runs inside :func:`frames_drawn`.
A headed browser, or a Chromium that is not a headless shell, draws as
usual and :func:`frames_drawn` does nothing.

**One document per tab.** Chromium's ``RenderDocument`` gives every
navigation a new document host in the renderer, even from one page of the
legacy system to the next. Switched off, a page load costs the browser
about half the CPU time (measured: 0.78 -> 0.39 s a keyed record, goto of
a screen 39 -> 23 ms) and a context keys 52 -> 74 records a minute. Chromium
keeps only the last ``--disable-features`` on its command line, so the
switch repeats Playwright's own list (:data:`PLAYWRIGHT_DISABLED_FEATURES`,
checked against the installed Playwright by the tests) and adds ours.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

from playwright.async_api import Browser, Error, Page, Playwright

#: The features Playwright switches off (its ``chromiumSwitches``). A second
#: ``--disable-features`` replaces the first, so ours carries these too.
PLAYWRIGHT_DISABLED_FEATURES = (
    "AvoidUnnecessaryBeforeUnloadCheckSync",
    "DestroyProfileOnBrowserClose",
    "HttpsUpgrades",
    "HttpsFirstBalancedModeAutoEnable",
    "LensOverlay",
    "MediaRouter",
    "PaintHolding",
    "ThirdPartyStoragePartitioning",
    "AvoidCorsURLLoaderRestartOnRedirect",
    "TcpPortRandomizationWin",
    "OptimizationHints",
    "NetworkTimeServiceQuerying",
    "AimEnabled",
    "PreconnectToSearch",
    "msForceBrowserSignIn",
    "msEdgeUpdateLaunchServicesPreferredVersion",
)

#: What shinsei switches off besides: a new document host for every page load.
DISABLED_FEATURES = ("RenderDocument",)

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
    "--disable-features=" + ",".join(PLAYWRIGHT_DISABLED_FEATURES + DISABLED_FEATURES),
]

#: A headless shell draws a frame only when asked (:func:`frames_drawn`); the second
#: switch is what ``HeadlessExperimental.beginFrame`` requires.
FRAMES_ON_DEMAND_ARGS = [
    "--enable-begin-frame-control",
    "--run-all-compositor-stages-before-draw",
]

#: How often :func:`frames_drawn` asks for a frame (60 a second, as a display would).
FRAME_INTERVAL = 1 / 60


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


def frames_on_demand(executable: str | None, *, headless: bool) -> bool:
    """Whether this browser is launched to draw frames only when asked."""
    if not headless:
        return False
    # Playwright's own headless Chromium is its headless shell too.
    return executable is None or "headless" in Path(executable).name.replace("_", "-")


async def launch_browser(playwright: Playwright, *, headless: bool = True) -> Browser:
    """One Chromium for a robot run; each worker opens its own context in it."""
    executable = chromium_executable(headless=headless)
    args = list(CHROMIUM_ARGS)
    if frames_on_demand(executable, headless=headless):
        args += FRAMES_ON_DEMAND_ARGS
    return await playwright.chromium.launch(
        executable_path=executable, headless=headless, args=args
    )


@contextlib.asynccontextmanager
async def frames_drawn(page: Page) -> AsyncIterator[None]:
    """Draw frames for ``page`` while the block runs (a screenshot, a click).

    Asks the compositor for a frame every :data:`FRAME_INTERVAL` until the
    block ends. A browser that draws on its own refuses the request: then
    nothing more is asked, and nothing is needed.
    """
    try:
        session = await page.context.new_cdp_session(page)
    except Error:
        yield  # not Chromium: it draws on its own
        return

    async def draw() -> None:
        with contextlib.suppress(Error):
            while True:
                await session.send("HeadlessExperimental.beginFrame", {})
                await asyncio.sleep(FRAME_INTERVAL)

    drawing = asyncio.create_task(draw())
    try:
        yield
    finally:
        drawing.cancel()
        with contextlib.suppress(asyncio.CancelledError, Error):
            await drawing
        with contextlib.suppress(Error):
            await session.detach()
