"""The night's report of a batch, computed from the ledger (never from Prefect state).

What an operator reads in the morning: documents per state, the
straight-through rate, the top reasons for review and rejection, how fast
each stage went, and every failed document with its reason. Personal
numbers are masked; the report holds no field values.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import and_, func, select

from shinsei.model import DocState
from shinsei.privacy import mask_text
from store.ledger import Ledger
from store.tables import audit_log, documents, findings

#: States that count as "accepted" once a document is past validation.
_ACCEPTED = (DocState.READY, DocState.KEYED)
_REJECTED = (DocState.REJECTED, DocState.LETTER_QUEUED, DocState.MAILED)


@dataclass
class StageTiming:
    """Wall time of one stage in one run, and how many documents it handled."""

    stage: str
    seconds: float
    documents: int

    @property
    def per_second(self) -> float:
        return self.documents / self.seconds if self.seconds > 0 else 0.0


@dataclass
class BatchReport:
    """Figures of one batch as the ledger has them now."""

    batch_id: str
    total: int
    by_state: dict[str, int]
    by_form: dict[str, int]
    straight_through: int
    decided: int
    review_reasons: list[tuple[str, int]]
    reject_reasons: list[tuple[str, int]]
    failed: list[tuple[str, str, str]]  # (document id short, stage, reason)
    timings: list[StageTiming] = field(default_factory=list)

    @property
    def straight_through_rate(self) -> float:
        """Share of documents of a known form accepted with no human touch."""
        return self.straight_through / self.decided if self.decided else 0.0

    def count(self, *states: DocState) -> int:
        return sum(self.by_state.get(str(s), 0) for s in states)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["straight_through_rate"] = round(self.straight_through_rate, 4)
        return data

    def table(self) -> list[dict[str, Any]]:
        """One row per state, for a Prefect table artifact."""
        return [{"state": s, "documents": n} for s, n in sorted(self.by_state.items())]

    def markdown(self) -> str:
        forms = ", ".join(f"{k} {v}" for k, v in self.by_form.items())
        lines = [
            f"# 夜間バッチ {self.batch_id}",
            "",
            f"- documents: **{self.total}** ({forms})",
            f"- accepted and keyed: **{self.count(DocState.KEYED)}**"
            f" (ready, not yet keyed: {self.count(DocState.READY)})",
            f"- in review: **{self.count(DocState.REVIEW, DocState.REVIEWED)}**",
            f"- rejected: **{self.count(*_REJECTED)}**"
            f" (letters queued {self.count(DocState.LETTER_QUEUED)},"
            f" mailed {self.count(DocState.MAILED)},"
            f" held {self.count(DocState.REJECTED)})",
            f"- unknown form: **{self.count(DocState.UNKNOWN)}**",
            f"- failed: **{self.count(DocState.FAILED)}**",
            f"- straight-through rate: **{self.straight_through_rate:.1%}**"
            f" ({self.straight_through} of {self.decided} forms with no human touch)",
            "",
            "| state | documents |",
            "|---|---|",
            *(f"| {s} | {n} |" for s, n in sorted(self.by_state.items())),
        ]
        if self.timings:
            lines += [
                "",
                "## Stages",
                "",
                "| stage | documents | seconds | docs/s |",
                "|---|---|---|---|",
            ]
            lines += [
                f"| {t.stage} | {t.documents} | {t.seconds:.1f} | {t.per_second:.2f} |"
                for t in self.timings
            ]
        for title, reasons in (
            ("Top reasons for review", self.review_reasons),
            ("Top reasons for rejection", self.reject_reasons),
        ):
            if reasons:
                lines += ["", f"## {title}", "", "| code | documents |", "|---|---|"]
                lines += [f"| {code} | {n} |" for code, n in reasons]
        if self.failed:
            lines += [
                "",
                "## Failed documents",
                "",
                "| document | stage | reason |",
                "|---|---|---|",
            ]
            lines += [f"| {d} | {stage} | {why} |" for d, stage, why in self.failed]
        return "\n".join(lines) + "\n"


def batch_report(
    ledger: Ledger, batch_id: str, timings: list[StageTiming] | None = None, top: int = 10
) -> BatchReport:
    """Compute the report of ``batch_id`` from the ledger."""
    in_batch = documents.c.batch_id == batch_id
    with ledger.engine.connect() as conn:
        by_state = {
            s: n
            for s, n in conn.execute(
                select(documents.c.state, func.count()).where(in_batch).group_by(documents.c.state)
            ).all()
        }
        by_form = {
            (f or "unknown"): n
            for f, n in conn.execute(
                select(documents.c.form_id, func.count())
                .where(in_batch)
                .group_by(documents.c.form_id)
                .order_by(documents.c.form_id)
            ).all()
        }
        touched = set(
            conn.execute(
                select(audit_log.c.document_id)
                .join(documents, documents.c.id == audit_log.c.document_id)
                .where(and_(in_batch, audit_log.c.to_state == str(DocState.REVIEW)))
                .distinct()
            ).scalars()
        )
        decided_rows = conn.execute(
            select(documents.c.id, documents.c.state).where(
                and_(in_batch, documents.c.form_id.is_not(None), documents.c.decision.is_not(None))
            )
        ).all()
        current = conn.execute(
            select(findings.c.code, findings.c.severity, documents.c.state)
            .join(documents, documents.c.id == findings.c.document_id)
            .where(and_(in_batch, findings.c.current))
        ).all()
        failed = conn.execute(
            select(documents.c.id, documents.c.failed_stage, documents.c.error)
            .where(and_(in_batch, documents.c.state == str(DocState.FAILED)))
            .order_by(documents.c.id)
        ).all()
    accepted = {str(s) for s in _ACCEPTED}
    straight = sum(
        1 for doc_id, state in decided_rows if state in accepted and doc_id not in touched
    )
    review_codes: Counter[str] = Counter()
    reject_codes: Counter[str] = Counter()
    rejected_states = {str(s) for s in _REJECTED}
    for code, severity, state in current:
        if state in rejected_states and severity == "error":
            reject_codes[code] += 1
        elif state in (str(DocState.REVIEW), str(DocState.REVIEWED)):
            review_codes[code] += 1
    return BatchReport(
        batch_id=batch_id,
        total=sum(by_state.values()),
        by_state=by_state,
        by_form=by_form,
        straight_through=straight,
        decided=len(decided_rows),
        review_reasons=review_codes.most_common(top),
        reject_reasons=reject_codes.most_common(top),
        failed=[(d[:12], stage or "", mask_text(err or "")) for d, stage, err in failed],
        timings=list(timings or []),
    )
