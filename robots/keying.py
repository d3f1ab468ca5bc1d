"""The keying robot: ready documents from the ledger into the legacy system, exactly once.

:func:`key_records` is the stage's batch function (plain inputs, a plain
report; the Prefect flow only calls it). It opens one Chromium and up to
``contexts`` browser contexts -- each its own login session, never more than
``max_sessions`` -- and lets each take documents from one queue.

For every document the robot searches first; the rest is in
:mod:`robots.keyers`. This module is the one boundary where exceptions
become outcomes:

* a system fault (:class:`robots.errors.LegacyFaultError`, a Playwright
  error) is retried with exponential backoff, logging in again when the
  session expired; after the last attempt the document is ``failed`` with a
  masked screenshot and a scrubbed Playwright trace under
  ``<data_dir>/evidence/<doc_id>/`` (owner-only). The trace starts at the
  document's first fault and records its retries: a trace with DOM
  snapshots costs the browser about a quarter more CPU per page, and a
  document keyed at the first attempt needs no evidence;
* a value the legacy system refuses, an unknown bank, an applicant it does
  not know (business findings) send the document to ``review``;
* a registration that does not read back as typed is ``failed`` (outcome
  ``mismatch``), never ``keyed``; its evidence is the record's screen,
  fetched again (a GET) under the trace;
* wrong credentials (:class:`robots.errors.LegacyLoginError`) stop the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, BrowserContext, Page, ViewportSize, async_playwright
from playwright.async_api import Error as PlaywrightError

from robots.browser import frames_drawn, launch_browser
from robots.credentials import Credentials, load_credentials
from robots.entries import ENTRY_BUILDERS, Entry, source_fields
from robots.errors import (
    AlreadyRegisteredError,
    ApplicantNotFoundError,
    KeyingMismatchError,
    LegacyFaultError,
    LegacyLoginError,
    LegacyRefusedError,
    LegacyUnreachableError,
    SessionExpiredError,
    UnknownBankError,
)
from robots.keyers import KEYERS
from robots.pages import LoginPage, MenuPage, evidence_masks
from shinsei.config import settings
from shinsei.errors import ConfigError
from shinsei.model import DocState, Document, Finding
from shinsei.privacy import mask, mask_text
from store import keying as keying_store
from store.ledger import Ledger

log = logging.getLogger("shinsei.robots")


#: The legacy screens are 760 px wide, made for 800×600: a smaller window than
#: Playwright's 1280×720 is less for Chromium to paint after every page and keystroke
#: (failure screenshots are of the full page whatever the window).
VIEWPORT: ViewportSize = {"width": 800, "height": 600}


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a system fault is retried (exponential backoff, jittered)."""

    attempts: int = 8
    first_delay: float = 0.5
    factor: float = 2.0
    max_delay: float = 15.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        base = min(self.max_delay, self.first_delay * self.factor ** (attempt - 1))
        return base * random.uniform(0.5, 1.0)


@dataclass(frozen=True)
class KeyingConfig:
    """How a keying run behaves (plain values: it crosses process boundaries)."""

    legacy_url: str = field(default_factory=lambda: settings().legacy_url)
    contexts: int = 2
    max_sessions: int = 4
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    timeout: float = 20.0
    trace: bool = True
    headless: bool = True

    @property
    def sessions(self) -> int:
        return max(1, min(self.contexts, self.max_sessions))


@dataclass(frozen=True)
class Follow:
    """Key a batch while it is still being read: take documents as validation makes them ready.

    The run ends when none of the batch's documents waits upstream
    (``received`` or ``extracted``) and every ready one was taken -- or when
    that number has not moved for ``stall_seconds`` (the stages feeding the
    robot stopped: a crash, a failed task); what becomes ready later is left
    for the next run.
    """

    batch_id: str
    poll_seconds: float = 2.0
    stall_seconds: float = 300.0


#: The states a document passes through before it can be ``ready``.
UPSTREAM = (DocState.RECEIVED, DocState.EXTRACTED)


@dataclass
class KeyingReport:
    """What a run did, by outcome (document ids)."""

    registered: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    review: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    sessions: int = 0
    seconds: float = 0.0
    retries: int = 0

    @property
    def keyed(self) -> int:
        return len(self.registered) + len(self.existing)

    @property
    def per_minute(self) -> float:
        return 60.0 * self.keyed / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "registered": len(self.registered),
            "existing": len(self.existing),
            "review": len(self.review),
            "failed": len(self.failed),
            "skipped": len(self.skipped),
            "sessions": self.sessions,
            "seconds": round(self.seconds, 2),
            "records_per_minute": round(self.per_minute, 1),
            "retries": self.retries,
        }


def key_records(
    ledger: Ledger | None = None,
    doc_ids: Sequence[str] | None = None,
    *,
    batch_id: str | None = None,
    only_failed: bool = False,
    follow: bool = False,
    config: KeyingConfig | None = None,
    credentials: Credentials | None = None,
) -> KeyingReport:
    """Key every ``ready`` document (of ``batch_id`` / ``doc_ids``) into the legacy system.

    ``only_failed`` first sends the documents that failed at keying back to
    ``ready`` and keys only those. ``follow`` keys the batch while it is still
    being read and validated (:class:`Follow`).
    """
    ledger = ledger or Ledger()
    config = config or KeyingConfig()
    credentials = credentials or load_credentials()
    following = None
    if follow:
        if batch_id is None or doc_ids is not None or only_failed:
            raise ValueError("follow keys a whole batch: give batch_id, and no doc_ids")
        following = Follow(batch_id)
    if only_failed:
        ids = keying_store.reset_failed(ledger, batch_id=batch_id, doc_ids=doc_ids)
    else:
        ids = ledger.document_ids(batch_id=batch_id, states=[DocState.READY])
        if doc_ids is not None:
            wanted = set(doc_ids)
            ids = [i for i in ids if i in wanted]
    return asyncio.run(_run(ledger, ids, config, credentials, following))


async def _run(
    ledger: Ledger,
    ids: list[str],
    config: KeyingConfig,
    credentials: Credentials,
    follow: Follow | None,
) -> KeyingReport:
    if not ids and follow is None:
        return KeyingReport()
    async with async_playwright() as playwright:
        try:
            browser = await launch_browser(playwright, headless=config.headless)
        except PlaywrightError as exc:
            raise ConfigError(f"Chromium cannot be started: {exc.message.splitlines()[0]}") from exc
        try:
            return await key_documents(browser, ledger, ids, config, credentials, follow=follow)
        finally:
            await browser.close()


async def key_documents(
    browser: Browser,
    ledger: Ledger,
    ids: Sequence[str],
    config: KeyingConfig,
    credentials: Credentials,
    *,
    follow: Follow | None = None,
) -> KeyingReport:
    """Key ``ids`` with ``config.sessions`` contexts of an open ``browser``.

    With ``follow``, the documents of its batch that become ready meanwhile too.
    """
    queue: asyncio.Queue[str | None] = asyncio.Queue()  # None: no more work
    for doc_id in ids:
        queue.put_nowait(doc_id)
    sessions = config.sessions if follow else min(config.sessions, len(ids))
    report = KeyingReport(sessions=sessions)
    started = time.perf_counter()
    workers = [
        asyncio.create_task(_Worker(n, browser, ledger, config, credentials, report).run(queue))
        for n in range(sessions)
    ]
    if follow is None:
        for _ in range(sessions):
            queue.put_nowait(None)
    else:
        workers.append(asyncio.create_task(_feed(queue, ledger, follow, set(ids), sessions)))
    try:
        await asyncio.gather(*workers)
    except BaseException:
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        raise
    report.seconds = time.perf_counter() - started
    return report


async def _feed(
    queue: asyncio.Queue[str | None],
    ledger: Ledger,
    follow: Follow,
    taken: set[str],
    sessions: int,
) -> None:
    """Queue the batch's documents as they become ready; then tell every worker to stop."""
    upstream, since = -1, time.monotonic()
    try:
        while True:
            # Upstream first: when it is empty, the ready list read after it is complete.
            counts = await asyncio.to_thread(ledger.count_by_state, follow.batch_id)
            waiting = sum(counts.get(str(state), 0) for state in UPSTREAM)
            ready = await asyncio.to_thread(
                ledger.document_ids, batch_id=follow.batch_id, states=[DocState.READY]
            )
            for doc_id in ready:
                if doc_id not in taken:
                    taken.add(doc_id)
                    queue.put_nowait(doc_id)
            if waiting == 0:
                return
            if waiting != upstream:
                upstream, since = waiting, time.monotonic()
            elif time.monotonic() - since > follow.stall_seconds:
                log.warning(
                    "batch %s: %d documents have not moved on from reading or validation "
                    "for %.0f s; keying stops waiting for them",
                    follow.batch_id, waiting, follow.stall_seconds,
                )  # fmt: skip
                return
            await asyncio.sleep(follow.poll_seconds)
    finally:
        for _ in range(sessions):
            queue.put_nowait(None)


class _Worker:
    """One browser context = one login session, keying documents one after another."""

    def __init__(
        self,
        number: int,
        browser: Browser,
        ledger: Ledger,
        config: KeyingConfig,
        credentials: Credentials,
        report: KeyingReport,
    ) -> None:
        self.number = number
        self.browser = browser
        self.ledger = ledger
        self.config = config
        self.credentials = credentials
        self.report = report
        self.base_url = config.legacy_url.rstrip("/")
        self.logged_in = False
        self.tracing = False  # recording the current document's retries

    async def run(self, queue: asyncio.Queue[str | None]) -> None:
        context = await self.browser.new_context(
            locale="ja-JP", timezone_id="Asia/Tokyo", viewport=VIEWPORT
        )
        context.set_default_timeout(self.config.timeout * 1000)
        context.set_default_navigation_timeout(self.config.timeout * 1000)
        page = await context.new_page()
        try:
            while (doc_id := await queue.get()) is not None:
                await self.key_document(context, page, doc_id)
            if self.logged_in:
                await self._logout(page)
        finally:
            await context.close()

    async def _logout(self, page: Page) -> None:
        # If this fails, the session expires on its own.
        with contextlib.suppress(LegacyFaultError, PlaywrightError):
            await (await MenuPage.open(page, self.base_url)).logout()

    async def _login(self, page: Page) -> None:
        login = await LoginPage.open(page, self.base_url)
        await login.login(self.credentials.user, self.credentials.password)
        self.logged_in = True

    async def key_document(self, context: BrowserContext, page: Page, doc_id: str) -> None:
        doc = await asyncio.to_thread(self.ledger.load, doc_id)
        if doc.state is not DocState.READY or doc.form_id not in KEYERS:
            self.report.skipped.append(doc_id)
            return
        try:
            entry = ENTRY_BUILDERS[doc.form_id](doc)
        except UnknownBankError as exc:
            await self._review(doc, [_bank_finding(exc)], attempts=0)
            return
        keyer = KEYERS[doc.form_id]
        last: Exception | None = None
        attempt = relogins = 0
        # Session expiries do not use up attempts (logging in again is the cure),
        # but are bounded too, so a system that expires every session at once stops us.
        while attempt < self.config.retry.attempts and relogins <= self.config.retry.attempts:
            attempt += 1
            try:
                if not self.logged_in:
                    await self._login(page)
                keyed = await keyer(page, self.base_url, entry)
            except LegacyLoginError:
                raise
            except SessionExpiredError as exc:
                await self._start_trace(context, doc.id)
                self.logged_in = False
                last = exc
                attempt -= 1
                relogins += 1
                log.info("document %s: session expired, logging in again", doc.id[:12])
                continue
            except AlreadyRegisteredError as exc:
                last = exc  # somebody (or our own unanswered 登録) registered it: search again
                await self._start_trace(context, doc.id)
            except (LegacyFaultError, PlaywrightError) as exc:
                last = exc
                await self._start_trace(context, doc.id)
                if attempt < self.config.retry.attempts:
                    await asyncio.sleep(self.config.retry.delay(attempt))
            except LegacyRefusedError as exc:
                await self._stop_trace(context)
                await self._review(doc, _refused_findings(entry, exc), attempts=attempt)
                return
            except ApplicantNotFoundError as exc:
                await self._stop_trace(context)
                await self._review(doc, [_not_found_finding(doc, exc)], attempts=attempt)
                return
            except KeyingMismatchError as exc:
                await self._start_trace(context, doc.id)
                with contextlib.suppress(PlaywrightError):
                    await page.reload(wait_until="domcontentloaded")  # the record's screen: a GET
                evidence = await self._evidence(context, page, doc, entry)
                await asyncio.to_thread(
                    keying_store.record_failed,
                    self.ledger,
                    doc.id,
                    reason=str(exc),
                    attempts=attempt,
                    evidence=evidence,
                    outcome="mismatch",
                    detail={"fields": exc.fields, "existing": exc.existing},
                )
                self.report.failed.append(doc.id)
                log.warning("document %s: %s", doc.id[:12], exc)
                return
            else:
                await self._stop_trace(context)
                await asyncio.to_thread(
                    keying_store.record_keyed,
                    self.ledger,
                    doc.id,
                    receipt_no=keyed.receipt_no,
                    outcome=keyed.outcome,
                    attempts=attempt,
                    detail={"retried": [type(last).__name__] if last else [], "relogins": relogins},
                )
                (
                    self.report.registered
                    if keyed.outcome == "registered"
                    else self.report.existing
                ).append(doc.id)
                log.info("document %s: %s %s", doc.id[:12], keyed.outcome, keyed.receipt_no)
                return
            self.report.retries += 1
            log.info(
                "document %s: attempt %d/%d: %s",
                doc.id[:12], attempt, self.config.retry.attempts, mask_text(str(last)),
            )  # fmt: skip
        attempt = max(attempt, 1)
        reason = _reason(last, attempt)
        evidence = await self._evidence(context, page, doc, entry)
        await asyncio.to_thread(
            keying_store.record_failed,
            self.ledger,
            doc.id,
            reason=reason,
            attempts=attempt,
            evidence=evidence,
            detail={"error": type(last).__name__},
        )
        self.report.failed.append(doc.id)
        log.warning("document %s failed: %s", doc.id[:12], reason)

    async def _review(self, doc: Document, found: list[Finding], *, attempts: int) -> None:
        await asyncio.to_thread(
            keying_store.record_review,
            self.ledger,
            doc.id,
            found,
            attempts=attempts,
            detail={"codes": [f.code for f in found]},
        )
        self.report.review.append(doc.id)
        log.info("document %s: to review (%s)", doc.id[:12], ", ".join(f.code for f in found))

    async def _start_trace(self, context: BrowserContext, doc_id: str) -> None:
        """Record the document from now on (its first fault): the evidence if it fails."""
        if not self.config.trace or self.tracing:
            return
        try:
            await context.tracing.start(
                title=f"keying {doc_id[:12]}", snapshots=True, screenshots=False, sources=False
            )
        except PlaywrightError as exc:
            log.warning("document %s: no trace: %s", doc_id[:12], exc.message.splitlines()[0])
        else:
            self.tracing = True

    async def _stop_trace(self, context: BrowserContext) -> None:
        """Drop the recording: the document was keyed or went to review after all."""
        if self.tracing:
            self.tracing = False
            with contextlib.suppress(PlaywrightError):
                await context.tracing.stop()

    async def _evidence(
        self, context: BrowserContext, page: Page, doc: Document, entry: Entry
    ) -> str | None:
        """Save a masked screenshot and the scrubbed trace; the folder, relative to the data dir."""
        data_dir = self.ledger.data_dir
        folder = data_dir / "evidence" / doc.id
        _private_dir(folder.parent)
        _private_dir(folder)
        stamp = datetime.now().strftime("%Y%m%dT%H%M%S%f")
        secrets = [*entry.sensitive_values, self.credentials.password]
        shot = folder / f"keying-{stamp}.png"
        try:
            async with frames_drawn(page):  # the browser draws only when asked
                data = await page.screenshot(
                    full_page=True, mask=evidence_masks(page), timeout=10_000
                )
            _write_private(shot, data)
        except PlaywrightError as exc:
            log.warning("document %s: no screenshot: %s", doc.id[:12], exc.message.splitlines()[0])
        if self.tracing:
            self.tracing = False
            raw = folder / f".keying-{stamp}-trace.tmp"
            try:
                await context.tracing.stop(path=raw)
                _scrub_trace(raw, folder / f"keying-{stamp}-trace.zip", secrets)
            except PlaywrightError as exc:
                log.warning("document %s: no trace: %s", doc.id[:12], exc.message.splitlines()[0])
            finally:
                raw.unlink(missing_ok=True)
        return str(folder.relative_to(data_dir))


def _private_dir(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def _scrub_trace(source: Path, target: Path, secrets: Sequence[str]) -> None:
    """Copy a trace zip with every personal number and the password masked in its text."""
    # Longest first: an account number may be part of a longer number.
    replacements = [
        (s, mask(s) if s.isdigit() else "********")
        for s in sorted({s for s in secrets if s}, key=len, reverse=True)
    ]
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with (
        os.fdopen(fd, "wb") as out,
        zipfile.ZipFile(source) as zin,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout,
    ):
        for item in zin.infolist():
            data = zin.read(item)
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                zout.writestr(item, data)  # images: the screenshot masks already apply
                continue
            for secret, masked in replacements:
                text = text.replace(secret, masked)
            zout.writestr(item, text.encode("utf-8"))


def _reason(error: Exception | None, attempts: int) -> str:
    if isinstance(error, LegacyFaultError):
        what = error.reason_ja
    elif isinstance(error, PlaywrightError):
        what = LegacyUnreachableError.reason_ja
    else:
        what = "不明な障害"
    detail = str(error).splitlines()[0] if error else ""
    return mask_text(f"{what}（{attempts}回試行）: {detail}")


def _refused_findings(entry: Entry, exc: LegacyRefusedError) -> list[Finding]:
    found = []
    for attribute, message in exc.fields.items():
        found.append(
            Finding(
                code=f"LEGACY_REFUSED_{attribute.upper()}",
                fields=source_fields(entry, attribute),
                severity="warning",
                message_ja="市の基幹システムに登録できない記入内容があります。",
                reviewer_message_ja=f"基幹システムが受け付けませんでした（{message}）。"
                "申請書を確認し、値を修正してください。",
            )
        )
    return found


def _bank_finding(exc: UnknownBankError) -> Finding:
    fields = (
        ["bank_name", "bank_type"] if exc.field == "bank_name" else ["branch_name", "branch_type"]
    )
    code = "LEGACY_BANK_UNKNOWN" if exc.field == "bank_name" else "LEGACY_BRANCH_UNKNOWN"
    return Finding(
        code=code,
        fields=fields,
        severity="warning",
        message_ja="振込先の金融機関・支店を特定できません。",
        reviewer_message_ja=f"{exc}。口座の確認書類と照合して修正してください。",
    )


def _not_found_finding(doc: Document, exc: ApplicantNotFoundError) -> Finding:
    fields = ["applicant_no"] if doc.form_id == "kyufukin" else ["insured_number", "my_number"]
    return Finding(
        code="LEGACY_APPLICANT_NOT_FOUND",
        fields=fields,
        severity="warning",
        message_ja="申請者を市の基幹システムで確認できません。",
        reviewer_message_ja=f"{exc}。番号の読み取りを確認してください。",
    )


__all__ = ["Follow", "KeyingConfig", "KeyingReport", "RetryPolicy", "key_documents", "key_records"]
