"""The append-only, hash-chained audit log.

Each row carries the hash of the previous row; ``verify`` recomputes the
chain and reports an edited, inserted or deleted row. The database refuses
UPDATE and DELETE on the table (triggers), so tampering needs a deliberate
bypass, and the chain shows it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, text, update

from shinsei.privacy import mask_text
from store.tables import audit_head, audit_log

GENESIS = "0" * 64

_SQLITE_TRIGGERS = [
    """CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
]

_POSTGRES_TRIGGERS = [
    """CREATE OR REPLACE FUNCTION shinsei_audit_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'the audit log is append-only'; END; $$ LANGUAGE plpgsql""",
    """DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log""",
    """CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
       FOR EACH ROW EXECUTE FUNCTION shinsei_audit_append_only()""",
]


def install_guards(engine: Engine) -> None:
    """Make the database itself refuse edits and deletions of audit rows."""
    statements = _POSTGRES_TRIGGERS if engine.dialect.name == "postgresql" else _SQLITE_TRIGGERS
    with engine.begin() as conn:
        for stmt in statements:
            conn.execute(text(stmt))
        if conn.execute(select(audit_head.c.id)).first() is None:
            conn.execute(insert(audit_head).values(id=1, seq=0, hash=GENESIS))


def _row_hash(row: dict[str, Any]) -> str:
    payload = json.dumps(
        [
            row["seq"],
            row["at"],
            row["actor"],
            row["action"],
            row["document_id"],
            row["from_state"],
            row["to_state"],
            row["detail"],
            row["prev_hash"],
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def append(
    conn: Connection,
    *,
    actor: str,
    action: str,
    document_id: str | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one audit row inside the caller's transaction.

    ``detail`` is stored as canonical JSON after masking personal numbers.
    """
    head = conn.execute(
        select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1).with_for_update()
    ).one()
    row: dict[str, Any] = {
        "seq": head.seq + 1,
        "at": datetime.now(UTC).isoformat(timespec="microseconds"),
        "actor": actor,
        "action": action,
        "document_id": document_id,
        "from_state": from_state,
        "to_state": to_state,
        "detail": mask_text(
            json.dumps(detail or {}, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        ),
        "prev_hash": head.hash,
    }
    row["hash"] = _row_hash(row)
    conn.execute(insert(audit_log).values(**row))
    conn.execute(
        update(audit_head).where(audit_head.c.id == 1).values(seq=row["seq"], hash=row["hash"])
    )


@dataclass
class ChainReport:
    """Result of :func:`verify`: rows checked and every problem found."""

    rows: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(conn: Connection) -> ChainReport:
    """Recompute the whole chain; report edited, missing or re-ordered rows."""
    problems: list[str] = []
    prev_hash = GENESIS
    expected_seq = 1
    count = 0
    for r in conn.execute(select(audit_log).order_by(audit_log.c.seq)).mappings():
        count += 1
        row = dict(r)
        if row["seq"] != expected_seq:
            problems.append(f"row {expected_seq}: missing (next row is {row['seq']})")
        if row["prev_hash"] != prev_hash:
            problems.append(f"row {row['seq']}: does not follow the row before it")
        if _row_hash(row) != row["hash"]:
            problems.append(f"row {row['seq']}: its content was changed after it was written")
        prev_hash = row["hash"]
        expected_seq = row["seq"] + 1
    head = conn.execute(select(audit_head.c.seq, audit_head.c.hash)).first()
    if head is not None and (head.seq != expected_seq - 1 or head.hash != prev_hash):
        problems.append(f"the newest row(s) after row {expected_seq - 1} were removed")
    return ChainReport(rows=count, problems=problems)
