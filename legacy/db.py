"""The stand-in's own SQLite database: residents, accounts, sessions and registrations.

It is seeded once from the resident registry (住民基本台帳) and then only
grows: registrations are never updated. ``kf_applications.applicant_no`` and
``kn_applications.member_no`` are unique, so the database itself refuses a
second registration of the same applicant, however the requests interleave.
"""

from __future__ import annotations

import json
import queue
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from werkzeug.security import generate_password_hash

from shinsei.residents import ResidentRegistry, registry

SCHEMA = """
CREATE TABLE IF NOT EXISTS households (
    applicant_no   TEXT PRIMARY KEY,
    household_id   TEXT NOT NULL UNIQUE,
    postal_code    TEXT NOT NULL,
    address        TEXT NOT NULL,
    head_member_no TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS residents (
    member_no      TEXT PRIMARY KEY,
    household_id   TEXT NOT NULL,
    seq            INTEGER NOT NULL,
    name           TEXT NOT NULL,
    name_kana      TEXT NOT NULL,
    relation       TEXT NOT NULL,
    sex            TEXT NOT NULL,
    birth_date     TEXT NOT NULL,
    my_number      TEXT NOT NULL UNIQUE,
    insured_number TEXT UNIQUE
);
CREATE INDEX IF NOT EXISTS ix_residents_household ON residents (household_id, seq);
CREATE TABLE IF NOT EXISTS users (
    user_id       TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    sid        TEXT PRIMARY KEY,
    user_id    TEXT,
    csrf       TEXT NOT NULL,
    created_at REAL NOT NULL,
    last_seen  REAL NOT NULL,
    draft      TEXT
);
CREATE TABLE IF NOT EXISTS kf_applications (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    receipt_no    TEXT NOT NULL UNIQUE,
    applicant_no  TEXT NOT NULL UNIQUE REFERENCES households (applicant_no),
    data          TEXT NOT NULL,
    registered_by TEXT NOT NULL,
    registered_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS kn_applications (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    receipt_no    TEXT NOT NULL UNIQUE,
    member_no     TEXT NOT NULL UNIQUE REFERENCES residents (member_no),
    data          TEXT NOT NULL,
    registered_by TEXT NOT NULL,
    registered_at TEXT NOT NULL
);
"""

#: Receipt number prefixes (受付番号) per application table.
RECEIPT_PREFIX = {"kf_applications": "KF2020-", "kn_applications": "KN2020-"}


class AlreadyRegisteredError(Exception):
    """The applicant already has a registration; ``receipt_no`` is the existing one."""

    def __init__(self, receipt_no: str) -> None:
        super().__init__(receipt_no)
        self.receipt_no = receipt_no


def connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    # WAL + NORMAL: a commit survives a crash of the process (not of the OS).
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


class ConnectionPool:
    """Reused connections: closing the last SQLite connection costs a WAL checkpoint each time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._idle: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()

    def get(self) -> sqlite3.Connection:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            return connect(self.path)

    def put(self, conn: sqlite3.Connection) -> None:
        if conn.in_transaction:  # a request died mid-transaction
            conn.execute("ROLLBACK")
        self._idle.put(conn)


@contextmanager
def write_tx(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction holding the write lock from its start."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def initialise(
    path: Path, users: dict[str, str], *, source: ResidentRegistry | None = None
) -> None:
    """Create the schema, seed residents once from the registry, replace the accounts."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = connect(path)
    try:
        conn.executescript(SCHEMA)
        with write_tx(conn):
            if conn.execute("SELECT COUNT(*) FROM households").fetchone()[0] == 0:
                _seed(conn, source or registry())
            conn.execute("DELETE FROM users")
            conn.executemany(
                "INSERT INTO users (user_id, password_hash) VALUES (?, ?)",
                [(u, generate_password_hash(p)) for u, p in users.items()],
            )
            # Sessions do not survive a restart of the system.
            conn.execute("DELETE FROM sessions")
    finally:
        conn.close()
    path.chmod(0o600)


def _seed(conn: sqlite3.Connection, source: ResidentRegistry) -> None:
    conn.executemany(
        "INSERT INTO households VALUES (?, ?, ?, ?, ?)",
        [
            (h.applicant_no, h.household_id, h.postal_code, h.address, h.head_member_no)
            for h in source.households.values()
        ],
    )
    conn.executemany(
        "INSERT INTO residents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                m.member_no,
                m.household_id,
                seq,
                m.name,
                m.name_kana,
                m.relation,
                m.sex,
                m.birth_date,
                m.my_number,
                m.insured_number,
            )
            for h in source.households.values()
            for seq, m in enumerate(h.members, start=1)
        ],
    )


def register(
    conn: sqlite3.Connection, table: str, key_column: str, key: str, data: dict[str, Any], user: str
) -> str:
    """Insert one registration and return its new receipt number (受付番号)."""
    with write_tx(conn):
        existing = conn.execute(
            f"SELECT receipt_no FROM {table} WHERE {key_column} = ?", (key,)
        ).fetchone()
        if existing is not None:
            raise AlreadyRegisteredError(existing["receipt_no"])
        next_id = conn.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}").fetchone()[0]
        receipt_no = f"{RECEIPT_PREFIX[table]}{next_id:06d}"
        conn.execute(
            f"INSERT INTO {table} (id, receipt_no, {key_column}, data, registered_by,"
            " registered_at) VALUES (?, ?, ?, ?, ?, ?)",
            (
                next_id,
                receipt_no,
                key,
                json.dumps(data, ensure_ascii=False),
                user,
                datetime.now().isoformat(timespec="seconds"),
            ),
        )
    return receipt_no


def registration(
    conn: sqlite3.Connection, table: str, key_column: str, key: str
) -> tuple[str, dict[str, Any]] | None:
    """``(receipt_no, data)`` of the applicant's registration, or ``None``."""
    row = conn.execute(
        f"SELECT receipt_no, data FROM {table} WHERE {key_column} = ?", (key,)
    ).fetchone()
    return None if row is None else (row["receipt_no"], json.loads(row["data"]))
