"""Ledger writes of the keying stage: the state change and its result in one transaction.

A document leaves ``ready`` in exactly one of three ways, each one
transaction that also writes its ``keying`` row and audit row:

* :func:`record_keyed` -- ``keyed`` with the receipt number (受付番号),
  whether this run registered it or found it registered;
* :func:`record_review` -- ``review`` with the findings of a value the legacy
  system refused (a business finding, never retried);
* :func:`record_failed` -- ``failed`` at stage ``keying`` with the reason and
  the folder of the screenshot and trace (a system fault after the last
  retry, or a registration that does not read back as typed).

If the process dies after the legacy system registered a document and
before :func:`record_keyed`, the document is still ``ready``; the next run
searches first, finds the registration and records it -- exactly once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import Connection, insert, select, update

from shinsei.model import DocState, Finding
from shinsei.privacy import mask_text
from store.ledger import Ledger
from store.tables import documents, keying

Outcome = Literal["registered", "existing", "refused", "failed", "mismatch"]
ACTOR = "robots"


@dataclass(frozen=True)
class KeyingRecord:
    """The ``keying`` row of one document."""

    document_id: str
    receipt_no: str | None
    outcome: str
    attempts: int
    detail: dict[str, Any]
    evidence: str | None
    keyed_at: datetime | None


def _now() -> datetime:
    return datetime.now(UTC)


def _write_row(conn: Connection, doc_id: str, **values: Any) -> None:
    if "detail" in values:
        values["detail"] = json.dumps(values["detail"] or {}, ensure_ascii=False)
    found = conn.execute(select(keying.c.document_id).where(keying.c.document_id == doc_id)).first()
    if found is None:
        conn.execute(insert(keying).values(document_id=doc_id, **values))
    else:
        conn.execute(update(keying).where(keying.c.document_id == doc_id).values(**values))


def record_keyed(
    ledger: Ledger,
    doc_id: str,
    *,
    receipt_no: str,
    outcome: Literal["registered", "existing"],
    attempts: int,
    detail: dict[str, Any] | None = None,
    actor: str = ACTOR,
) -> None:
    """``ready → keyed`` with the receipt number, in one transaction."""
    with ledger.tx() as conn:
        ledger.move(
            conn,
            doc_id,
            DocState.KEYED,
            actor=actor,
            action="keyed",
            detail={"receipt_no": receipt_no, "outcome": outcome, "attempts": attempts},
            expect=[DocState.READY],
            error=None,
            failed_stage=None,
        )
        _write_row(
            conn,
            doc_id,
            receipt_no=receipt_no,
            outcome=outcome,
            attempts=attempts,
            detail=detail,
            evidence=None,
            keyed_at=_now(),
        )


def record_review(
    ledger: Ledger,
    doc_id: str,
    found: Sequence[Finding],
    *,
    attempts: int,
    detail: dict[str, Any] | None = None,
    actor: str = ACTOR,
) -> None:
    """``ready → review`` with the findings of a refused value, in one transaction.

    The validators' findings stay current beside the new ones: the reviewer
    sees everything that is known about the document.
    """
    with ledger.tx() as conn:
        ledger.write_findings(conn, doc_id, found, replace=False)
        ledger.move(
            conn,
            doc_id,
            DocState.REVIEW,
            actor=actor,
            action="keying_refused",
            detail={"codes": [f.code for f in found]},
            expect=[DocState.READY],
            decision="review",
        )
        _write_row(
            conn,
            doc_id,
            receipt_no=None,
            outcome="refused",
            attempts=attempts,
            detail=detail,
            evidence=None,
            keyed_at=None,
        )


def record_failed(
    ledger: Ledger,
    doc_id: str,
    *,
    reason: str,
    attempts: int,
    evidence: str | None,
    outcome: Literal["failed", "mismatch"] = "failed",
    detail: dict[str, Any] | None = None,
    actor: str = ACTOR,
) -> None:
    """``ready → failed`` at stage ``keying`` (as :meth:`Ledger.fail`), with the evidence folder."""
    reason = mask_text(reason)
    with ledger.tx() as conn:
        previous = conn.execute(
            select(documents.c.attempts).where(documents.c.id == doc_id)
        ).scalar_one()
        ledger.move(
            conn,
            doc_id,
            DocState.FAILED,
            actor=actor,
            action="failed",
            detail={"stage": "keying", "reason": reason, "evidence": evidence},
            expect=[DocState.READY],
            error=reason,
            failed_stage="keying",
            attempts=previous + 1,
        )
        _write_row(
            conn,
            doc_id,
            receipt_no=None,
            outcome=outcome,
            attempts=attempts,
            detail=detail,
            evidence=evidence,
            keyed_at=None,
        )


def reset_failed(
    ledger: Ledger,
    *,
    batch_id: str | None = None,
    doc_ids: Iterable[str] | None = None,
    actor: str = ACTOR,
) -> list[str]:
    """Send documents that failed at keying back to ``ready`` for another run; their ids."""
    query = select(documents.c.id).where(
        (documents.c.state == str(DocState.FAILED)) & (documents.c.failed_stage == "keying")
    )
    if batch_id is not None:
        query = query.where(documents.c.batch_id == batch_id)
    if doc_ids is not None:
        query = query.where(documents.c.id.in_(list(doc_ids)))
    with ledger.engine.connect() as conn:
        ids = list(conn.execute(query.order_by(documents.c.created_at, documents.c.id)).scalars())
    for doc_id in ids:
        with ledger.tx() as conn:
            ledger.move(
                conn,
                doc_id,
                DocState.READY,
                actor=actor,
                action="retry_keying",
                expect=[DocState.FAILED],
                error=None,
                failed_stage=None,
            )
    return ids


def keying_record(ledger: Ledger, doc_id: str) -> KeyingRecord | None:
    """The keying result of one document, or ``None`` if it was never keyed."""
    with ledger.engine.connect() as conn:
        row = conn.execute(select(keying).where(keying.c.document_id == doc_id)).mappings().first()
    return None if row is None else _record(row)


def keying_records(ledger: Ledger, doc_ids: Sequence[str] | None = None) -> list[KeyingRecord]:
    """Keying results, of ``doc_ids`` or of every document."""
    query = select(keying).order_by(keying.c.document_id)
    if doc_ids is not None:
        query = query.where(keying.c.document_id.in_(list(doc_ids)))
    with ledger.engine.connect() as conn:
        return [_record(r) for r in conn.execute(query).mappings()]


def _record(row: Any) -> KeyingRecord:
    return KeyingRecord(
        document_id=row["document_id"],
        receipt_no=row["receipt_no"],
        outcome=row["outcome"],
        attempts=row["attempts"],
        detail=json.loads(row["detail"]) if row["detail"] else {},
        evidence=row["evidence"],
        keyed_at=row["keyed_at"],
    )
