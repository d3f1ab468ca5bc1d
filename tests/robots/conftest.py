"""Fixtures of the keying tests: a real stand-in server process, real Chromium, ready documents."""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

import pytest
from playwright.async_api import Browser, async_playwright

from benchmarks._records import (
    care_applicants,
    households,
    kaigo_document,
    kyufukin_document,
    make_ready,
)
from robots.browser import launch_browser
from robots.credentials import Credentials
from robots.keying import KeyingConfig, KeyingReport, RetryPolicy, key_documents
from shinsei.model import Document
from shinsei.residents import Household, Member
from store.ledger import Ledger

T = TypeVar("T")
USER, PASSWORD = "robot1", "test-only-pass"


class LegacyServer:
    """A ``python -m legacy serve`` process on a free port, and a reader of its database."""

    def __init__(self, workdir: Path, *, access_log: bool = False, **knobs: Any) -> None:
        self.db_path = workdir / "legacy.db"
        self.log_path = workdir / "stand-in.log"
        args = [sys.executable, "-m", "legacy", "serve", "--port", "0", "--db", str(self.db_path)]
        args += ["--user", f"{USER}:{PASSWORD}", "--latency", str(knobs.pop("latency", 0))]
        for name, value in knobs.items():
            args += [f"--{name.replace('_', '-')}", str(value)]
        if access_log:
            args.append("--access-log")
        env = {**os.environ, "SHINSEI_DATA_DIR": str(workdir / "data")}
        workdir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("w") as log:  # the child keeps its own handle
            self.process = subprocess.Popen(
                args, stdout=subprocess.PIPE, stderr=log, text=True, env=env
            )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if "listening on" not in line:
            self.process.kill()
            raise RuntimeError(f"the stand-in did not start: {line!r}")
        self.url = line.split()[-1]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)

    def registrations(self, table: str = "kf_applications") -> list[dict[str, Any]]:
        """Every registration the stand-in holds (key, receipt number, data)."""
        key = "applicant_no" if table == "kf_applications" else "member_no"
        conn = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True)
        try:
            rows = conn.execute(f"SELECT {key}, receipt_no, data FROM {table}").fetchall()
        finally:
            conn.close()
        return [{"key": k, "receipt_no": r, "data": json.loads(d)} for k, r, d in rows]

    def answered(self, status: int) -> int:
        """How many requests the access log shows answered with ``status`` (``access_log=True``)."""
        pattern = re.compile(rf'" {status} ')
        return sum(1 for line in self.log_path.read_text().splitlines() if pattern.search(line))

    def receipts(self) -> dict[str, str]:
        """Receipt number → applicant key, over both forms."""
        found = {}
        for table in ("kf_applications", "kn_applications"):
            found.update({r["receipt_no"]: r["key"] for r in self.registrations(table)})
        return found


@pytest.fixture(scope="session")
def legacy_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LegacyServer]:
    """The stand-in, fault-free and without latency, shared by the session."""
    server = LegacyServer(tmp_path_factory.mktemp("legacy"))
    yield server
    server.stop()


@pytest.fixture
def start_legacy(tmp_path: Path) -> Iterator[Callable[..., LegacyServer]]:
    """Start a stand-in of one's own with fault knobs (stopped after the test)."""
    started: list[LegacyServer] = []

    def start(**knobs: Any) -> LegacyServer:
        server = LegacyServer(tmp_path / f"legacy{len(started)}", **knobs)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


class BrowserRunner:
    """One Chromium for the session, driven from an event loop in a background thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self._playwright: Any = None
        self.browser: Browser = self.run(self._start)

    async def _start(self) -> Browser:
        self._playwright = await async_playwright().start()
        return await launch_browser(self._playwright)

    def run(self, make: Callable[[], Awaitable[T]], timeout: float = 600) -> T:
        future: Future[T] = asyncio.run_coroutine_threadsafe(make(), self.loop)  # type: ignore[arg-type]
        return future.result(timeout)

    def close(self) -> None:
        async def stop() -> None:
            await self.browser.close()
            await self._playwright.stop()

        self.run(stop)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture(scope="session")
def browser_runner() -> Iterator[BrowserRunner]:
    runner = BrowserRunner()
    yield runner
    runner.close()


@pytest.fixture
def credentials() -> Credentials:
    return Credentials(USER, PASSWORD)


#: Retries fast enough for tests; the policy itself is what is under test, not its patience.
FAST_RETRY = RetryPolicy(attempts=8, first_delay=0.05, factor=2.0, max_delay=0.5)


@pytest.fixture
def key(
    browser_runner: BrowserRunner, ledger: Ledger, credentials: Credentials
) -> Callable[..., KeyingReport]:
    """Key ready documents of the test's ledger with the session's browser."""

    def run(server: LegacyServer, ids: list[str], **options: Any) -> KeyingReport:
        options.setdefault("retry", FAST_RETRY)
        options.setdefault("timeout", 10.0)
        config = KeyingConfig(legacy_url=server.url, **options)
        return browser_runner.run(
            lambda: key_documents(browser_runner.browser, ledger, ids, config, credentials)
        )

    return run


class Applicants:
    """Hands out registry applicants no other test of the session has used."""

    def __init__(self) -> None:
        self._households = households(start=100)
        self._first = care_applicants(second_insured=False)
        self._second = care_applicants(second_insured=True)
        self.rng = random.Random(6)

    def household(self, *, members: int = 1) -> Household:
        return next(h for h in self._households if len(h.members) >= members)

    def carer(self, *, second_insured: bool = False) -> Member:
        return next(self._second if second_insured else self._first)

    def kyufukin(self, *, members: int = 1, **overrides: Any) -> Document:
        return kyufukin_document(self.household(members=members), self.rng, **overrides)

    def kaigo(self, *, second_insured: bool = False, **overrides: Any) -> Document:
        return kaigo_document(self.carer(second_insured=second_insured), self.rng, **overrides)


@pytest.fixture(scope="session")
def applicants() -> Applicants:
    return Applicants()


@pytest.fixture
def ready(ledger: Ledger, tmp_path: Path) -> Callable[..., list[str]]:
    """Register documents and bring them to ``ready``; their ids."""

    def make(*docs: Document) -> list[str]:
        return make_ready(ledger, docs, tmp_path / "scans-in", batch_id="test")

    return make
