"""Ledger writes for return letters (返戻通知): queued, held and mailed.

A letter's row and its document's state change share one transaction:
``rejected → letter_queued`` when the letter is in a print batch,
``letter_queued → mailed`` when the operator confirms the batch was mailed.
A letter that cannot be printed unattended is *held*: its row carries the
reason and the document stays ``rejected``, so the next run tries again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, insert, select, update

from shinsei.model import DocState
from store import audit
from store.ledger import Ledger
from store.tables import documents, letters


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class LetterRow:
    """One row of the ``letters`` table."""

    document_id: str
    letter_type: str
    print_batch: str | None
    file: str | None
    held_reason: str | None
    produced_at: datetime | None
    mailed_at: datetime | None


@dataclass(frozen=True)
class QueuedLetter:
    """A letter that is in a print batch's PDF."""

    document_id: str
    letter_type: str
    file: str
    """The PDF that holds it (relative to the data directory when inside it)."""


@dataclass(frozen=True)
class MailedReport:
    """What ``letters mailed PRINT_BATCH`` did."""

    print_batch: str
    mailed: int
    already_mailed: int


def _upsert(conn: Connection, doc_id: str, **values: object) -> None:
    exists = conn.execute(
        select(letters.c.document_id).where(letters.c.document_id == doc_id)
    ).first()
    if exists is None:
        conn.execute(insert(letters).values(document_id=doc_id, **values))
    else:
        conn.execute(update(letters).where(letters.c.document_id == doc_id).values(**values))


def letter_rows(
    ledger: Ledger, *, batch_id: str | None = None, print_batch: str | None = None
) -> list[LetterRow]:
    """Letter rows of a night's batch and/or one print batch."""
    query = select(letters).join(documents, documents.c.id == letters.c.document_id)
    if batch_id is not None:
        query = query.where(documents.c.batch_id == batch_id)
    if print_batch is not None:
        query = query.where(letters.c.print_batch == print_batch)
    with ledger.engine.connect() as conn:
        found = conn.execute(query.order_by(letters.c.document_id)).mappings()
        return [LetterRow(**r) for r in found]


def print_batches(ledger: Ledger, batch_id: str) -> list[str]:
    """Print batches already produced for a night's batch."""
    query = (
        select(letters.c.print_batch)
        .join(documents, documents.c.id == letters.c.document_id)
        .where((documents.c.batch_id == batch_id) & letters.c.print_batch.is_not(None))
        .distinct()
    )
    with ledger.engine.connect() as conn:
        return sorted(p for p in conn.execute(query).scalars() if p)


def queue_letters(
    ledger: Ledger, print_batch: str, queued: Sequence[QueuedLetter], *, actor: str = "returns"
) -> None:
    """Record a print batch: every letter's row and ``rejected → letter_queued``, all or nothing."""
    now = _now()
    with ledger.tx() as conn:
        for q in queued:
            _upsert(
                conn,
                q.document_id,
                letter_type=q.letter_type,
                print_batch=print_batch,
                file=q.file,
                held_reason=None,
                produced_at=now,
                mailed_at=None,
            )
            ledger.move(
                conn,
                q.document_id,
                DocState.LETTER_QUEUED,
                actor=actor,
                action="letter_queued",
                detail={"print_batch": print_batch, "letter_type": q.letter_type},
                expect=[DocState.REJECTED],
            )


def hold_letter(
    ledger: Ledger, doc_id: str, letter_type: str, reason: str, *, actor: str = "returns"
) -> bool:
    """Hold a document's letter for a person; the document stays ``rejected``.

    Returns whether anything changed (the same hold is recorded, and audited, once).
    """
    with ledger.tx() as conn:
        row = conn.execute(
            select(letters.c.held_reason, letters.c.letter_type).where(
                letters.c.document_id == doc_id
            )
        ).first()
        if row is not None and tuple(row) == (reason, letter_type):
            return False
        _upsert(conn, doc_id, letter_type=letter_type, held_reason=reason, print_batch=None)
        audit.append(
            conn,
            actor=actor,
            action="letter_held",
            document_id=doc_id,
            detail={"letter_type": letter_type, "reason": reason},
        )
    return True


def mark_mailed(ledger: Ledger, print_batch: str, *, actor: str) -> MailedReport:
    """The operator confirms ``print_batch`` was mailed: ``letter_queued → mailed`` for each letter.

    Raises :class:`KeyError` for a print batch the ledger does not know.
    Confirming again changes nothing.
    """
    now = _now()
    with ledger.tx() as conn:
        rows = conn.execute(
            select(letters.c.document_id, documents.c.state)
            .join(documents, documents.c.id == letters.c.document_id)
            .where(letters.c.print_batch == print_batch)
            .order_by(letters.c.document_id)
        ).all()
        if not rows:
            raise KeyError(f"no print batch {print_batch!r} in the ledger")
        mailed = already = 0
        for doc_id, state in rows:
            if DocState(state) is DocState.MAILED:
                already += 1
                continue
            ledger.move(
                conn,
                doc_id,
                DocState.MAILED,
                actor=actor,
                action="mailed",
                detail={"print_batch": print_batch},
                expect=[DocState.LETTER_QUEUED],
            )
            conn.execute(
                update(letters).where(letters.c.document_id == doc_id).values(mailed_at=now)
            )
            mailed += 1
    return MailedReport(print_batch, mailed, already)
