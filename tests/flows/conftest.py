"""Fixtures of the flow tests: one Prefect test server for the session, the real stand-in."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from shinsei.config import REPO_ROOT
from tests.robots.conftest import PASSWORD, USER, LegacyServer

DEMO = REPO_ROOT / "samples" / "batch-demo"


@pytest.fixture(scope="session")
def prefect_api() -> Iterator[str]:
    """A Prefect server for the whole session (it takes ~10 s to start).

    Its URL is also put in the environment, so worker processes, Dask
    workers and subprocesses started by a test reach the same server.
    """
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        url = str(PREFECT_API_URL.value())
        old = os.environ.get("PREFECT_API_URL")
        os.environ["PREFECT_API_URL"] = url
        try:
            yield url
        finally:
            if old is None:
                os.environ.pop("PREFECT_API_URL", None)
            else:
                os.environ["PREFECT_API_URL"] = old


@pytest.fixture
def robot_env(monkeypatch: pytest.MonkeyPatch, legacy: LegacyServer) -> LegacyServer:
    """The robots' settings point at the test's stand-in."""
    monkeypatch.setenv("SHINSEI_LEGACY_URL", legacy.url)
    monkeypatch.setenv("SHINSEI_LEGACY_USER", USER)
    monkeypatch.setenv("SHINSEI_LEGACY_PASSWORD", PASSWORD)
    return legacy


@pytest.fixture
def legacy(tmp_path: Path) -> Iterator[LegacyServer]:
    """A fresh stand-in for one test (its database is the test's own)."""
    server = LegacyServer(tmp_path / "legacy")
    yield server
    server.stop()


def demo_truth() -> dict[str, dict[str, object]]:
    """The demo batch's truth by file name."""
    lines = (DEMO / "truth.jsonl").read_text(encoding="utf-8").splitlines()
    return {rec["file"]: rec for rec in map(json.loads, filter(None, lines))}


#: The final state each truth decision leads to after a whole night.
FINAL_STATE = {
    "accept": "keyed",
    "review": "review",
    "reject": "letter_queued",
    "unknown": "unknown",
}
