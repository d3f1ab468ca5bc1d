"""Settings read from the environment (never from code).

| variable | meaning | default |
|---|---|---|
| ``SHINSEI_DATA_DIR`` | ledger file, page images, crops, workbooks, letters, traces | ``./data`` |
| ``SHINSEI_DB_URL`` | the ledger's URL (``postgresql+psycopg://…``) | SQLite in the data dir |
| ``SHINSEI_MAX_PIXELS`` | largest page a scan may have, in pixels | 100,000,000 |
| ``SHINSEI_LEGACY_URL`` | the legacy municipal system | ``http://127.0.0.1:8800`` |
| ``SHINSEI_LEGACY_USER`` / ``SHINSEI_LEGACY_PASSWORD`` | the robots' credentials | none |
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    """Resolved settings of one process."""

    data_dir: Path
    db_url: str
    max_pixels: int
    legacy_url: str

    def ensure_dirs(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # The data directory holds personal data: owner-only.
        self.data_dir.chmod(0o700)


def settings() -> Settings:
    """Read the settings from the environment now (tests change it between calls)."""
    data_dir = Path(os.environ.get("SHINSEI_DATA_DIR", "data")).resolve()
    db_url = os.environ.get("SHINSEI_DB_URL") or f"sqlite:///{data_dir / 'shinsei.db'}"
    return Settings(
        data_dir=data_dir,
        db_url=db_url,
        max_pixels=int(os.environ.get("SHINSEI_MAX_PIXELS", "100000000")),
        legacy_url=os.environ.get("SHINSEI_LEGACY_URL", "http://127.0.0.1:8800"),
    )
