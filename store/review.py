"""The ledger side of the review round trip (確認表の出力と取込み).

* ``review_exports`` remembers every workbook handed to reviewers: its id,
  batch, documents and the SHA-256 digest of its manifest (the hidden sheet
  of exported values). The import finds the export by id and compares
  digests, so a workbook whose hidden sheet was edited, or that belongs to
  another export or another ledger, is refused. The digest lives in the
  ledger, not in a key of the environment: nothing secret has to be shared
  between the machine that exports and the one that imports, and nobody can
  forge a manifest without write access to the ledger.
* ``review_applied`` remembers each row plan (a document's corrections,
  confirmation and return reason) an import applied, by digest, so
  importing the same workbook again changes nothing.
* :meth:`ReviewStore.load_documents` loads many documents in three queries
  (the export and import of 1,000 documents must not query per document).
* :meth:`ReviewStore.apply` writes one reviewed document (corrections,
  ``review → reviewed``, findings, ``reviewed → ready|rejected|review``) with
  its audit rows inside the caller's transaction, so an import is all or
  nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Connection,
    DateTime,
    String,
    Table,
    Text,
    insert,
    select,
)

from shinsei.model import DocState, Document, FieldValue, Finding
from store import audit
from store.ledger import Ledger
from store.tables import documents, field_values, findings, metadata, pages

review_exports = Table(
    "review_exports",
    metadata,
    Column("export_id", String(64), primary_key=True),
    Column("batch_id", String(64), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("file", Text, nullable=False),
    Column("document_ids", JSON, nullable=False),
    Column("manifest_sha256", String(64), nullable=False),
)

review_applied = Table(
    "review_applied",
    metadata,
    Column("export_id", String(64), primary_key=True),
    Column("document_id", String(64), primary_key=True),
    Column("plan_sha256", String(64), primary_key=True),
    Column("reviewer", String(64), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("applied_at", DateTime(timezone=True), nullable=False),
)

#: SQLite allows a few tens of thousands of parameters per statement; stay well below.
_CHUNK = 500

_TARGET = {"accept": DocState.READY, "review": DocState.REVIEW, "reject": DocState.REJECTED}


@dataclass(frozen=True)
class ReviewExport:
    """One workbook handed to reviewers, as the ledger remembers it."""

    export_id: str
    batch_id: str
    created_at: datetime
    created_by: str
    file: str
    document_ids: list[str]
    manifest_sha256: str


@dataclass(frozen=True)
class PageImage:
    """Where a document's page can be seen: the aligned page image, else the stored scan."""

    document_id: str
    page_no: int
    path: Path
    aligned: bool = False
    """The page warped onto its form's template: field crops are cut from it by the form's boxes."""


class ReviewStore:
    """Review queries and writes over a :class:`~store.ledger.Ledger`."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        metadata.create_all(ledger.engine, tables=[review_exports, review_applied])

    # -- exports ----------------------------------------------------------------

    def record_export(
        self,
        *,
        export_id: str,
        batch_id: str,
        file: str,
        document_ids: Sequence[str],
        manifest_sha256: str,
        created_by: str,
    ) -> None:
        """Remember an export and write its audit row (one transaction)."""
        with self.ledger.tx() as conn:
            conn.execute(
                insert(review_exports).values(
                    export_id=export_id,
                    batch_id=batch_id,
                    created_at=datetime.now(UTC),
                    created_by=created_by,
                    file=file,
                    document_ids=list(document_ids),
                    manifest_sha256=manifest_sha256,
                )
            )
            audit.append(
                conn,
                actor=created_by,
                action="review_exported",
                detail={
                    "export_id": export_id,
                    "batch": batch_id,
                    "documents": len(document_ids),
                    "file": file,
                },
            )

    def latest_export(self, batch_id: str) -> ReviewExport | None:
        """The batch's most recent export, if any."""
        with self.ledger.engine.connect() as conn:
            export_id = conn.execute(
                select(review_exports.c.export_id)
                .where(review_exports.c.batch_id == batch_id)
                .order_by(review_exports.c.created_at.desc())
                .limit(1)
            ).scalar_one_or_none()
        return None if export_id is None else self.find_export(export_id)

    def find_export(self, export_id: str) -> ReviewExport | None:
        with self.ledger.engine.connect() as conn:
            row = (
                conn.execute(select(review_exports).where(review_exports.c.export_id == export_id))
                .mappings()
                .first()
            )
        if row is None:
            return None
        return ReviewExport(
            export_id=row["export_id"],
            batch_id=row["batch_id"],
            created_at=row["created_at"],
            created_by=row["created_by"],
            file=row["file"],
            document_ids=list(row["document_ids"]),
            manifest_sha256=row["manifest_sha256"],
        )

    # -- bulk reads ----------------------------------------------------------------

    def load_documents(self, ids: Sequence[str]) -> dict[str, Document]:
        """The documents with their current field values and findings, by id (bulk)."""
        docs: dict[str, Document] = {}
        with self.ledger.engine.connect() as conn:
            for chunk in _chunks(ids):
                for row in conn.execute(
                    select(documents).where(documents.c.id.in_(chunk))
                ).mappings():
                    docs[row["id"]] = Document(
                        id=row["id"],
                        file=row["file"],
                        batch=row["batch_id"],
                        pages=row["pages"],
                        form_id=row["form_id"],
                        key=row["doc_key"],
                        state=DocState(row["state"]),
                        attachments=list(row["attachments"] or []),
                        decision=row["decision"],
                        error=row["error"],
                        form_page=row["form_page"],
                        alignment_residual=row["alignment_residual"],
                    )
                for r in conn.execute(
                    select(field_values)
                    .where(field_values.c.document_id.in_(chunk) & field_values.c.current)
                    .order_by(field_values.c.id)
                ).mappings():
                    docs[r["document_id"]].fields[r["field_id"]] = FieldValue(
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
                for r in conn.execute(
                    select(findings)
                    .where(findings.c.document_id.in_(chunk) & findings.c.current)
                    .order_by(findings.c.id)
                ).mappings():
                    docs[r["document_id"]].findings.append(
                        Finding(
                            code=r["code"],
                            fields=list(r["fields"]),
                            severity=r["severity"],
                            message_ja=r["message_ja"],
                            reviewer_message_ja=r["reviewer_message_ja"],
                        )
                    )
        return docs

    def page_images(self, docs: Iterable[Document]) -> dict[str, PageImage]:
        """For each document, the page a reviewer should open (the form's page first).

        The aligned page image OCR kept (``pages.image``) when there is one,
        else the stored scan file itself.
        """
        wanted = {d.id: d for d in docs}
        found: dict[str, PageImage] = {}
        data_dir = self.ledger.data_dir
        with self.ledger.engine.connect() as conn:
            for chunk in _chunks(list(wanted)):
                rows = conn.execute(
                    select(pages.c.document_id, pages.c.page_no, pages.c.image)
                    .where(pages.c.document_id.in_(chunk) & pages.c.image.is_not(None))
                    .order_by(pages.c.document_id, pages.c.page_no)
                ).all()
                for doc_id, page_no, image in rows:
                    form_page = wanted[doc_id].form_page
                    current = found.get(doc_id)
                    # The form's own page wins over other pages; else the first.
                    if current is None or (page_no == form_page and current.page_no != form_page):
                        aligned = page_no == form_page
                        found[doc_id] = PageImage(doc_id, page_no, data_dir / image, aligned)
                stored = conn.execute(
                    select(documents.c.id, documents.c.stored_file).where(
                        documents.c.id.in_(chunk) & documents.c.stored_file.is_not(None)
                    )
                ).all()
                for doc_id, stored_file in stored:
                    if doc_id not in found:
                        page = wanted[doc_id].form_page or 1
                        found[doc_id] = PageImage(doc_id, page, data_dir / stored_file)
        return found

    # -- writes ------------------------------------------------------------------------

    def apply(
        self,
        conn: Connection,
        doc_id: str,
        corrections: Sequence[FieldValue],
        *,
        reviewer: str,
        decision: str,
        found: Sequence[Finding],
        detail: dict[str, Any],
    ) -> DocState:
        """Inside ``conn``: store one reviewed document and move it on; return its new state.

        ``review → reviewed`` (with the corrections, source ``review``), then
        the findings of the re-run rules and ``reviewed → ready | rejected |
        review`` by ``decision``. Each move writes its audit row. Raises
        :class:`~shinsei.errors.IllegalTransitionError` if the document is no
        longer in ``review``.
        """
        actor = f"reviewer:{reviewer}"
        if corrections:
            self.ledger.write_fields(conn, doc_id, corrections, replace_all=False)
        self.ledger.move(
            conn,
            doc_id,
            DocState.REVIEWED,
            actor=actor,
            action="reviewed",
            detail={**detail, "fields": [c.field_id for c in corrections]},
            expect=[DocState.REVIEW],
        )
        self.ledger.write_findings(conn, doc_id, found, replace=True)
        target = _TARGET[decision]
        self.ledger.move(
            conn,
            doc_id,
            target,
            actor=actor,
            action="decided",
            detail={
                "decision": decision,
                "codes": [f.code for f in found],
                "export_id": detail.get("export_id"),
            },
            decision=decision,
        )
        return target

    def applied_plans(self, export_id: str, doc_ids: Sequence[str]) -> dict[str, set[str]]:
        """For each document, the digests of the row plans of ``export_id`` already applied."""
        out: dict[str, set[str]] = {}
        with self.ledger.engine.connect() as conn:
            for chunk in _chunks(doc_ids):
                for doc_id, digest in conn.execute(
                    select(review_applied.c.document_id, review_applied.c.plan_sha256).where(
                        (review_applied.c.export_id == export_id)
                        & review_applied.c.document_id.in_(chunk)
                    )
                ).all():
                    out.setdefault(doc_id, set()).add(digest)
        return out

    def record_plan(
        self,
        conn: Connection,
        export_id: str,
        doc_id: str,
        plan_sha256: str,
        reviewer: str,
        outcome: str,
    ) -> None:
        """Inside ``conn``: remember that this row plan was applied (re-imports skip it)."""
        conn.execute(
            insert(review_applied).values(
                export_id=export_id,
                document_id=doc_id,
                plan_sha256=plan_sha256,
                reviewer=reviewer,
                outcome=outcome,
                applied_at=datetime.now(UTC),
            )
        )

    def record_import(
        self, conn: Connection, *, export_id: str, reviewer: str, detail: dict[str, Any]
    ) -> None:
        """Inside ``conn``: the audit row of one import (what changed, from which file)."""
        audit.append(
            conn,
            actor=f"reviewer:{reviewer}",
            action="review_imported",
            detail={"export_id": export_id, **detail},
        )


def _chunks(ids: Sequence[str]) -> Iterable[list[str]]:
    ids = list(ids)
    for i in range(0, len(ids), _CHUNK):
        yield ids[i : i + _CHUNK]
