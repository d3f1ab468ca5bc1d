"""The one model that flows through every stage.

A :class:`Document` is one mailed envelope. OCR fills its :class:`FieldValue`
objects, the validators add :class:`Finding` objects and a decision, reviewers
replace field values, the robots key it and the letter writer reads its
findings. Every type exports to and rebuilds from plain dicts (``to_dict`` /
``from_dict``) so it can cross process boundaries, live in the ledger and make
the spreadsheet round trip.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, Literal

FieldSource = Literal["ocr", "omr", "review", "preprinted"]
FieldStatus = Literal["ok", "review", "missing"]
Severity = Literal["error", "warning"]
Decision = Literal["accept", "review", "reject", "unknown"]
Attachment = Literal["id_copy", "passbook_copy"]


class DocState(StrEnum):
    """Where a document is in the pipeline (DESIGN.md, "Document states")."""

    RECEIVED = "received"
    EXTRACTED = "extracted"
    VALIDATED = "validated"
    REVIEW = "review"
    REVIEWED = "reviewed"
    READY = "ready"
    KEYED = "keyed"
    REJECTED = "rejected"
    LETTER_QUEUED = "letter_queued"
    MAILED = "mailed"
    UNKNOWN = "unknown"
    FAILED = "failed"


S = DocState

#: Every legal move. ``failed`` documents go back to the stage that failed
#: them; ``reprocess`` may send a document that has not left the building
#: (not keyed, not queued for mail) back to an earlier stage.
TRANSITIONS: dict[DocState, frozenset[DocState]] = {
    S.RECEIVED: frozenset({S.EXTRACTED, S.UNKNOWN, S.FAILED}),
    S.EXTRACTED: frozenset({S.VALIDATED, S.FAILED, S.RECEIVED}),
    S.VALIDATED: frozenset({S.REVIEW, S.READY, S.REJECTED, S.RECEIVED, S.EXTRACTED}),
    S.REVIEW: frozenset({S.REVIEWED, S.RECEIVED, S.EXTRACTED}),
    S.REVIEWED: frozenset({S.READY, S.REVIEW, S.REJECTED, S.RECEIVED, S.EXTRACTED}),
    S.READY: frozenset({S.KEYED, S.FAILED, S.REVIEW, S.RECEIVED, S.EXTRACTED}),
    S.KEYED: frozenset(),
    S.REJECTED: frozenset({S.LETTER_QUEUED, S.RECEIVED, S.EXTRACTED}),
    S.LETTER_QUEUED: frozenset({S.MAILED}),
    S.MAILED: frozenset(),
    S.UNKNOWN: frozenset({S.RECEIVED}),
    S.FAILED: frozenset({S.RECEIVED, S.EXTRACTED, S.READY}),
}


def can_move(current: DocState, target: DocState) -> bool:
    """Whether ``current -> target`` is a legal state transition."""
    return target in TRANSITIONS[current]


@dataclass
class FieldValue:
    """One field of one document as read, corrected or pre-printed.

    ``raw`` is what was read (or typed by a reviewer); ``value`` the canonical
    value of the dictionary's ``conventions`` (``None`` when blank).
    ``confidence`` is 0..1. ``crop`` is a path, relative to the data
    directory, of the field's image cut from the aligned page. ``status`` is
    ``missing`` for a blank field, ``review`` when a person must look at it.
    """

    field_id: str
    value: Any
    confidence: float
    source: FieldSource
    raw: str | None = None
    status: FieldStatus = "ok"
    crop: str | None = None
    char_confidences: list[float] = field(default_factory=list)
    reviewer: str | None = None
    flags: list[str] = field(default_factory=list)
    """What OCR observed beyond the value: ``blacked_out`` (塗りつぶし, unreadable on
    purpose), ``corrected`` (a two-line correction was read past), ``outside_box``
    (a mark slightly outside its box), ``ambiguous`` (an exactly-one group with
    several marks)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FieldValue:
        return cls(**data)


@dataclass
class Finding:
    """A rule that did not hold on a document.

    ``severity`` ``error`` rejects the application (return mail, 返戻);
    ``warning`` sends it to a reviewer. ``message_ja`` is written for the
    resident's letter, ``reviewer_message_ja`` for the reviewer's comment.
    """

    code: str
    fields: list[str]
    severity: Severity
    message_ja: str
    reviewer_message_ja: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        return cls(**data)


@dataclass
class Document:
    """One envelope, from the scan to keying or return mail.

    ``id`` is the sha256 of the file's bytes, so the same envelope scanned
    twice is one document. ``key`` is the applicant number (給付金) or the
    insured number / My Number (介護) that identifies the applicant.
    """

    id: str
    file: str
    batch: str = ""
    pages: int = 0
    form_id: str | None = None
    key: str | None = None
    state: DocState = DocState.RECEIVED
    fields: dict[str, FieldValue] = field(default_factory=dict)
    attachments: list[Attachment] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    decision: Decision | None = None
    error: str | None = None
    form_page: int | None = None
    alignment_residual: float | None = None

    def value(self, field_id: str) -> Any:
        """The canonical value of a field, ``None`` when absent or blank."""
        fv = self.fields.get(field_id)
        return None if fv is None else fv.value

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["state"] = str(self.state)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Document:
        data = dict(data)
        data["state"] = DocState(data.get("state", DocState.RECEIVED))
        data["fields"] = {
            k: v if isinstance(v, FieldValue) else FieldValue.from_dict(v)
            for k, v in data.get("fields", {}).items()
        }
        data["findings"] = [
            f if isinstance(f, Finding) else Finding.from_dict(f) for f in data.get("findings", [])
        ]
        return cls(**data)

    def result_record(self, *, with_validation: bool = True) -> dict[str, Any]:
        """The ``shinsei process`` JSON object of DESIGN.md for this document."""
        record: dict[str, Any] = {
            "file": self.file,
            "document_id": self.id,
            "form_id": self.form_id,
            "pages": self.pages,
            "key": self.key,
            "fields": {
                fid: {"value": fv.value, "confidence": round(fv.confidence, 4), "status": fv.status}
                for fid, fv in self.fields.items()
            },
            "attachments": list(self.attachments),
        }
        if self.error:
            record["error"] = self.error
        if with_validation:
            record["decision"] = self.decision
            record["findings"] = [
                {
                    "code": f.code,
                    "fields": list(f.fields),
                    "severity": f.severity,
                    "message_ja": f.message_ja,
                }
                for f in self.findings
            ]
        return record
