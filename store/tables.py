"""The ledger's tables (SQLAlchemy Core). The ledger, not Prefect state, is the truth."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

batches = Table(
    "batches",
    metadata,
    Column("batch_id", String(64), primary_key=True),
    Column("receipt_date", Date, nullable=False),
    Column("inbox", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

documents = Table(
    "documents",
    metadata,
    Column("id", String(64), primary_key=True),  # sha256 of the file bytes
    Column("batch_id", String(64), ForeignKey("batches.batch_id"), nullable=False, index=True),
    Column("file", Text, nullable=False),  # path as received
    Column("stored_file", Text),  # content-addressed copy under the data directory
    Column("size_bytes", Integer, nullable=False),
    Column("pages", Integer, nullable=False, default=0),
    Column("form_id", String(64)),
    Column("doc_key", String(32)),
    Column("state", String(16), nullable=False, index=True),
    Column("decision", String(8)),
    Column("error", Text),
    Column("failed_stage", String(16)),
    Column("attempts", Integer, nullable=False, default=0),
    Column("form_page", Integer),
    Column("alignment_residual", Float),
    Column("attachments", JSON, nullable=False, default=list),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

pages = Table(
    "pages",
    metadata,
    Column("document_id", String(64), ForeignKey("documents.id"), primary_key=True),
    Column("page_no", Integer, primary_key=True),  # 1-based
    Column("width", Integer),
    Column("height", Integer),
    Column("page_class", String(16)),  # form | id_copy | passbook_copy | blank | other
    Column("rotation", Integer),
    Column("image", Text),  # aligned page image under the data directory, when kept
)

field_values = Table(
    "field_values",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("document_id", String(64), ForeignKey("documents.id"), nullable=False),
    Column("field_id", String(64), nullable=False),
    Column("value", JSON),
    Column("raw", Text),
    Column("confidence", Float, nullable=False),
    Column("char_confidences", JSON),
    Column("source", String(16), nullable=False),
    Column("status", String(8), nullable=False),
    Column("crop", Text),
    Column("reviewer", String(64)),
    Column("flags", JSON),
    Column("current", Boolean, nullable=False, default=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_field_values_doc_current", "document_id", "current"),
)

findings = Table(
    "findings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("document_id", String(64), ForeignKey("documents.id"), nullable=False),
    Column("code", String(64), nullable=False),
    Column("fields", JSON, nullable=False),
    Column("severity", String(8), nullable=False),
    Column("message_ja", Text, nullable=False),
    Column("reviewer_message_ja", Text, nullable=False, default=""),
    Column("current", Boolean, nullable=False, default=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_findings_doc_current", "document_id", "current"),
)

keying = Table(
    "keying",
    metadata,
    Column("document_id", String(64), ForeignKey("documents.id"), primary_key=True),
    Column("receipt_no", String(32)),
    Column("outcome", String(16), nullable=False),  # registered | existing | failed | refused
    Column("attempts", Integer, nullable=False, default=0),
    Column("detail", Text),
    Column("evidence", Text),  # screenshot / trace folder of a failure
    Column("keyed_at", DateTime(timezone=True)),
)

letters = Table(
    "letters",
    metadata,
    Column("document_id", String(64), ForeignKey("documents.id"), primary_key=True),
    Column("letter_type", String(32), nullable=False),
    Column("print_batch", String(64)),
    Column("file", Text),
    Column("held_reason", Text),
    Column("produced_at", DateTime(timezone=True)),
    Column("mailed_at", DateTime(timezone=True)),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", String(40), nullable=False),  # ISO-8601 UTC, part of the hash
    Column("actor", String(64), nullable=False),
    Column("action", String(32), nullable=False),
    Column("document_id", String(64)),
    Column("from_state", String(16)),
    Column("to_state", String(16)),
    Column("detail", Text, nullable=False),  # canonical JSON, personal data masked
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

# One row: the sequence number and hash of the newest audit row. Appending
# updates it, which serialises appenders on SQLite and PostgreSQL alike, and
# lets `audit verify` notice rows cut from the end of the chain.
audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("seq", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
)
