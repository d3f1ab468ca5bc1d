"""The ledger: documents, their field values, findings, keying and letters.

Every state change is one transaction that checks the transition is legal,
writes the new state together with what the stage produced, and appends one
audit row. Any flow can be re-run because it asks the ledger what is left to
do, never Prefect's state.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    create_engine,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.pool import NullPool

from shinsei.config import settings
from shinsei.errors import IllegalTransitionError
from shinsei.model import DocState, Document, FieldValue, Finding, can_move
from store import audit
from store.tables import (
    batches,
    documents,
    field_values,
    findings,
    metadata,
    pages,
)


def _now() -> datetime:
    return datetime.now(UTC)


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, a busy timeout and write-locking BEGINs."""
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"timeout": 60}, poolclass=NullPool)

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy issue BEGIN itself (below) instead of pysqlite.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        # Take the write lock up front: several worker processes share the
        # file, and a read-then-write transaction would otherwise deadlock.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


@dataclass(frozen=True)
class DocumentRow:
    """The ledger's summary of one document (without fields and findings)."""

    id: str
    batch_id: str
    file: str
    stored_file: str | None
    pages: int
    form_id: str | None
    key: str | None
    state: DocState
    decision: str | None
    error: str | None
    failed_stage: str | None
    attempts: int


class Ledger:
    """Access to the ledger database. Cheap to create; one per process or task."""

    def __init__(self, url: str | None = None, data_dir: Path | None = None) -> None:
        conf = settings()
        self.data_dir = data_dir or conf.data_dir
        self.url = url or conf.db_url
        if self.url.startswith("sqlite:///"):
            Path(self.url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.engine = make_engine(self.url)
        metadata.create_all(self.engine)
        audit.install_guards(self.engine)

    @contextmanager
    def tx(self) -> Iterator[Connection]:
        """One transaction; committed on success, rolled back on any exception."""
        with self.engine.begin() as conn:
            yield conn

    # -- batches and intake -------------------------------------------------

    def ensure_batch(self, batch_id: str, receipt_date: date, inbox: str | None = None) -> None:
        with self.tx() as conn:
            found = conn.execute(
                select(batches.c.batch_id).where(batches.c.batch_id == batch_id)
            ).first()
            if found is None:
                conn.execute(
                    insert(batches).values(
                        batch_id=batch_id, receipt_date=receipt_date, inbox=inbox, created_at=_now()
                    )
                )
                audit.append(
                    conn,
                    actor="intake",
                    action="batch_opened",
                    detail={"batch": batch_id, "receipt_date": receipt_date.isoformat()},
                )

    def receipt_date(self, batch_id: str) -> date:
        with self.engine.connect() as conn:
            value = conn.execute(
                select(batches.c.receipt_date).where(batches.c.batch_id == batch_id)
            ).scalar_one_or_none()
        if value is None:
            raise KeyError(f"no batch {batch_id!r} in the ledger")
        return value

    def find_document(self, doc_id: str) -> DocumentRow | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(documents).where(documents.c.id == doc_id)).mappings().first()
        return None if row is None else _doc_row(row)

    def register_document(
        self,
        *,
        doc_id: str,
        batch_id: str,
        file: str,
        source: Path,
        size_bytes: int,
        page_sizes: Sequence[tuple[int, int]],
        error: str | None = None,
    ) -> DocumentRow:
        """Register a received envelope (state ``received``, or ``failed`` with ``error``).

        The file is copied into the data directory under its hash, so the
        batch survives the inbox being emptied. A document that is already
        registered is returned unchanged: the same envelope is never
        registered twice.
        """
        existing = self.find_document(doc_id)
        if existing is not None:
            return existing
        stored: str | None = None
        if error is None:
            target = self.data_dir / "scans" / doc_id[:2] / (doc_id + source.suffix.lower())
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists():
                shutil.copyfile(source, target)
                target.chmod(0o600)
            stored = str(target.relative_to(self.data_dir))
        state = DocState.FAILED if error else DocState.RECEIVED
        now = _now()
        with self.tx() as conn:
            conn.execute(
                insert(documents).values(
                    id=doc_id,
                    batch_id=batch_id,
                    file=file,
                    stored_file=stored,
                    size_bytes=size_bytes,
                    pages=len(page_sizes),
                    state=state,
                    error=error,
                    failed_stage="intake" if error else None,
                    attempts=0,
                    attachments=[],
                    created_at=now,
                    updated_at=now,
                )
            )
            for i, (w, h) in enumerate(page_sizes, start=1):
                conn.execute(insert(pages).values(document_id=doc_id, page_no=i, width=w, height=h))
            audit.append(
                conn,
                actor="intake",
                action="registered",
                document_id=doc_id,
                to_state=state,
                detail={"batch": batch_id, "file": file, "pages": len(page_sizes), "error": error},
            )
        row = self.find_document(doc_id)
        assert row is not None
        return row

    def stored_path(self, row: DocumentRow) -> Path:
        if row.stored_file is None:
            raise FileNotFoundError(f"{row.file}: no stored copy (it failed at intake)")
        return self.data_dir / row.stored_file

    # -- state machine ------------------------------------------------------

    def move(
        self,
        conn: Connection,
        doc_id: str,
        target: DocState,
        *,
        actor: str,
        action: str,
        detail: dict[str, Any] | None = None,
        expect: Iterable[DocState] | None = None,
        **columns: Any,
    ) -> DocState:
        """Inside ``conn``: apply ``-> target`` if legal, write its audit row; return the old state.

        Other store modules (keying, letters) compose this with their own
        writes so the state change and the stage's result share one transaction.
        """
        current_raw = conn.execute(
            select(documents.c.state).where(documents.c.id == doc_id).with_for_update()
        ).scalar_one_or_none()
        if current_raw is None:
            raise KeyError(f"no document {doc_id} in the ledger")
        current = DocState(current_raw)
        if expect is not None and current not in set(expect):
            raise IllegalTransitionError(
                f"document {doc_id[:12]} is {current}, expected one of "
                f"{', '.join(sorted(expect))} for {action}"
            )
        if current != target and not can_move(current, target):
            raise IllegalTransitionError(
                f"document {doc_id[:12]}: {current} → {target} is not allowed ({action})"
            )
        conn.execute(
            update(documents)
            .where(documents.c.id == doc_id)
            .values(state=target, updated_at=_now(), **columns)
        )
        audit.append(
            conn,
            actor=actor,
            action=action,
            document_id=doc_id,
            from_state=current,
            to_state=target,
            detail=detail,
        )
        return current

    def transition(
        self,
        doc_id: str,
        target: DocState,
        *,
        actor: str,
        action: str = "transition",
        detail: dict[str, Any] | None = None,
        **columns: Any,
    ) -> None:
        """Move a document to ``target`` (raises :class:`IllegalTransitionError`)."""
        with self.tx() as conn:
            self.move(conn, doc_id, target, actor=actor, action=action, detail=detail, **columns)

    def fail(self, doc_id: str, *, stage: str, reason: str, actor: str) -> None:
        """Record a system fault: the document is ``failed`` at ``stage`` with ``reason``."""
        with self.tx() as conn:
            attempts = conn.execute(
                select(documents.c.attempts).where(documents.c.id == doc_id)
            ).scalar_one()
            self.move(
                conn,
                doc_id,
                DocState.FAILED,
                actor=actor,
                action="failed",
                detail={"stage": stage, "reason": reason},
                error=reason,
                failed_stage=stage,
                attempts=attempts + 1,
            )

    # -- stage results ------------------------------------------------------

    def write_findings(
        self, conn: Connection, doc_id: str, found: Iterable[Finding], *, replace: bool
    ) -> None:
        """Inside ``conn``: add findings (``replace``: the earlier ones stop being current)."""
        if replace:
            conn.execute(
                update(findings).where(findings.c.document_id == doc_id).values(current=False)
            )
        now = _now()
        for f in found:
            conn.execute(
                insert(findings).values(
                    document_id=doc_id,
                    code=f.code,
                    fields=list(f.fields),
                    severity=f.severity,
                    message_ja=f.message_ja,
                    reviewer_message_ja=f.reviewer_message_ja,
                    current=True,
                    created_at=now,
                )
            )

    def write_fields(
        self, conn: Connection, doc_id: str, values: Iterable[FieldValue], *, replace_all: bool
    ) -> None:
        """Inside ``conn``: new current field values (``replace_all``: all earlier ones retire)."""
        values = list(values)
        cond = field_values.c.document_id == doc_id
        if not replace_all:
            cond = cond & field_values.c.field_id.in_([v.field_id for v in values])
        conn.execute(update(field_values).where(cond).values(current=False))
        now = _now()
        rows = [
            {
                "document_id": doc_id,
                "field_id": fv.field_id,
                "value": fv.value,
                "raw": fv.raw,
                "confidence": fv.confidence,
                "char_confidences": fv.char_confidences,
                "source": fv.source,
                "status": fv.status,
                "crop": fv.crop,
                "reviewer": fv.reviewer,
                "flags": list(fv.flags),
                "current": True,
                "created_at": now,
            }
            for fv in values
        ]
        if rows:  # one statement for all of them (executemany), not one per field
            conn.execute(insert(field_values), rows)

    def save_extraction(self, doc: Document, *, actor: str = "ocr") -> None:
        """Store what OCR read and move the document to ``extracted`` (or ``unknown``).

        Re-extracting replaces every current field value in the same transaction.
        """
        target = DocState.UNKNOWN if doc.form_id is None else DocState.EXTRACTED
        with self.tx() as conn:
            self.write_fields(conn, doc.id, doc.fields.values(), replace_all=True)
            self.move(
                conn,
                doc.id,
                target,
                actor=actor,
                action="extracted",
                detail={"form_id": doc.form_id, "fields": len(doc.fields), "pages": doc.pages},
                form_id=doc.form_id,
                doc_key=doc.key,
                attachments=list(doc.attachments),
                form_page=doc.form_page,
                alignment_residual=doc.alignment_residual,
                error=doc.error,
                failed_stage=None,
            )

    def save_page_classes(self, doc_id: str, classes: dict[int, dict[str, Any]]) -> None:
        """Record each page's class, rotation and kept image (page_no → columns)."""
        with self.tx() as conn:
            for page_no, cols in classes.items():
                conn.execute(
                    update(pages)
                    .where((pages.c.document_id == doc_id) & (pages.c.page_no == page_no))
                    .values(**cols)
                )

    def save_validation(
        self,
        doc_id: str,
        decision: str,
        found: Sequence[Finding],
        *,
        actor: str = "validators",
        target: DocState | None = None,
        normalized: Iterable[FieldValue] = (),
    ) -> DocState:
        """Store the findings and decision; move to ``review``, ``ready`` or ``rejected``.

        ``normalized`` replaces field values whose canonical value changed.
        """
        if target is None:
            target = {
                "accept": DocState.READY,
                "review": DocState.REVIEW,
                "reject": DocState.REJECTED,
            }[decision]
        with self.tx() as conn:
            normalized = list(normalized)
            if normalized:
                self.write_fields(conn, doc_id, normalized, replace_all=False)
            self.write_findings(conn, doc_id, found, replace=True)
            state = conn.execute(
                select(documents.c.state).where(documents.c.id == doc_id)
            ).scalar_one()
            if DocState(state) is DocState.EXTRACTED:
                self.move(conn, doc_id, DocState.VALIDATED, actor=actor, action="validated")
            self.move(
                conn,
                doc_id,
                target,
                actor=actor,
                action="decided",
                detail={"decision": decision, "codes": [f.code for f in found]},
                decision=decision,
            )
        return target

    def save_corrections(
        self, doc_id: str, corrections: Sequence[FieldValue], *, reviewer: str
    ) -> None:
        """Store a reviewer's corrections (source ``review``) and mark the document ``reviewed``."""
        with self.tx() as conn:
            self.write_fields(conn, doc_id, corrections, replace_all=False)
            self.move(
                conn,
                doc_id,
                DocState.REVIEWED,
                actor=f"reviewer:{reviewer}",
                action="reviewed",
                detail={"fields": [c.field_id for c in corrections]},
            )

    # -- reads ----------------------------------------------------------------

    def document_ids(
        self,
        *,
        batch_id: str | None = None,
        states: Iterable[DocState] | None = None,
        form_id: str | None = None,
    ) -> list[str]:
        query = select(documents.c.id).order_by(documents.c.created_at, documents.c.id)
        if batch_id is not None:
            query = query.where(documents.c.batch_id == batch_id)
        if states is not None:
            query = query.where(documents.c.state.in_([str(s) for s in states]))
        if form_id is not None:
            query = query.where(documents.c.form_id == form_id)
        with self.engine.connect() as conn:
            return list(conn.execute(query).scalars())

    def prior_applications(self, form_id: str, key: str, doc_id: str) -> list[str]:
        """Ids of OTHER documents of ``form_id`` with the same key, registered before ``doc_id``.

        "Before" is (created_at, id) order; documents that are ``failed`` or
        ``unknown`` do not count. The validators' duplicate-application rule
        (二重申請) holds the later document for a person.
        """
        with self.engine.connect() as conn:
            mine = conn.execute(
                select(documents.c.created_at).where(documents.c.id == doc_id)
            ).scalar_one_or_none()
            query = (
                select(documents.c.id)
                .where(
                    (documents.c.form_id == form_id)
                    & (documents.c.doc_key == key)
                    & (documents.c.id != doc_id)
                    & documents.c.state.not_in([str(DocState.FAILED), str(DocState.UNKNOWN)])
                )
                .order_by(documents.c.created_at, documents.c.id)
            )
            if mine is not None:
                query = query.where(
                    (documents.c.created_at < mine)
                    | ((documents.c.created_at == mine) & (documents.c.id < doc_id))
                )
            return list(conn.execute(query).scalars())

    def rows(self, ids: Sequence[str]) -> list[DocumentRow]:
        with self.engine.connect() as conn:
            found = conn.execute(select(documents).where(documents.c.id.in_(list(ids)))).mappings()
            by_id = {r["id"]: _doc_row(r) for r in found}
        return [by_id[i] for i in ids if i in by_id]

    def load(self, doc_id: str) -> Document:
        """The document with its current field values and findings."""
        with self.engine.connect() as conn:
            row = conn.execute(select(documents).where(documents.c.id == doc_id)).mappings().one()
            fv_rows = conn.execute(
                select(field_values)
                .where((field_values.c.document_id == doc_id) & field_values.c.current)
                .order_by(field_values.c.id)
            ).mappings()
            fields = {
                r["field_id"]: FieldValue(
                    field_id=r["field_id"],
                    value=r["value"],
                    confidence=r["confidence"],
                    source=r["source"],
                    raw=r["raw"],
                    status=r["status"],
                    crop=r["crop"],
                    char_confidences=list(r["char_confidences"] or []),
                    reviewer=r["reviewer"],
                    flags=list(r["flags"] or []),
                )
                for r in fv_rows
            }
            found = [
                Finding(
                    code=r["code"],
                    fields=list(r["fields"]),
                    severity=r["severity"],
                    message_ja=r["message_ja"],
                    reviewer_message_ja=r["reviewer_message_ja"],
                )
                for r in conn.execute(
                    select(findings)
                    .where((findings.c.document_id == doc_id) & findings.c.current)
                    .order_by(findings.c.id)
                ).mappings()
            ]
        return Document(
            id=row["id"],
            file=row["file"],
            batch=row["batch_id"],
            pages=row["pages"],
            form_id=row["form_id"],
            key=row["doc_key"],
            state=DocState(row["state"]),
            fields=fields,
            attachments=list(row["attachments"] or []),
            findings=found,
            decision=row["decision"],
            error=row["error"],
            form_page=row["form_page"],
            alignment_residual=row["alignment_residual"],
        )

    def count_by_state(self, batch_id: str | None = None) -> dict[str, int]:
        query = select(documents.c.state, func.count()).group_by(documents.c.state)
        if batch_id is not None:
            query = query.where(documents.c.batch_id == batch_id)
        with self.engine.connect() as conn:
            return {state: n for state, n in conn.execute(query).all()}

    def verify_audit(self) -> audit.ChainReport:
        with self.engine.connect() as conn:
            return audit.verify(conn)


def _doc_row(r: Any) -> DocumentRow:
    return DocumentRow(
        id=r["id"],
        batch_id=r["batch_id"],
        file=r["file"],
        stored_file=r["stored_file"],
        pages=r["pages"],
        form_id=r["form_id"],
        key=r["doc_key"],
        state=DocState(r["state"]),
        decision=r["decision"],
        error=r["error"],
        failed_stage=r["failed_stage"],
        attempts=r["attempts"],
    )
