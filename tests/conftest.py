"""Fixtures shared by every test module."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from store import Ledger

# No telemetry from the Prefect servers the tests start, and no browser downloads.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private data directory (ledger, scans, crops) for one test."""
    path = tmp_path / "data"
    monkeypatch.setenv("SHINSEI_DATA_DIR", str(path))
    monkeypatch.delenv("SHINSEI_DB_URL", raising=False)
    return path


@pytest.fixture
def ledger(data_dir: Path) -> Ledger:
    """A fresh SQLite ledger in the test's data directory."""
    return Ledger()
