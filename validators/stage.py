"""The validation stage over the ledger: extracted documents → ready, review or rejected.

Flows call :func:`validate_batch`; it asks the ledger what is left to do
(documents in ``extracted``), so re-running it is safe. Each document is
validated against its form's rules with the batch's 受付日 and the ledger's
earlier applications (二重申請), and its findings, decision and field
statuses are stored in one transaction.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import date

from forms.loader import load_form
from shinsei.errors import ConfigError
from shinsei.model import DocState, Document
from store.ledger import Ledger
from validators.engine import (
    DEFAULT_CONFIDENCE_THRESHOLD,
    RuleContext,
    Validation,
    apply_validation,
    validate,
)

log = logging.getLogger(__name__)


def validate_document(
    ledger: Ledger, doc_id: str, *, confidence_threshold: float = DEFAULT_CONFIDENCE_THRESHOLD
) -> Validation:
    """Validate one ``extracted`` document and store the outcome (state, findings, statuses)."""
    doc = ledger.load(doc_id)
    if doc.form_id is None:
        raise ValueError(f"document {doc_id[:12]} has no form; it cannot be validated")
    ctx = RuleContext(
        form=load_form(doc.form_id),
        receipt_date=ledger.receipt_date(doc.batch),
        prior_applications=ledger.prior_applications,
        confidence_threshold=confidence_threshold,
    )
    result = validate(doc, ctx)
    changed = [
        replace(fv, status=result.field_status[fid])
        for fid, fv in doc.fields.items()
        if fid in result.field_status and fv.status != result.field_status[fid]
    ]
    ledger.save_validation(doc.id, result.decision, result.findings, normalized=changed)
    return result


def validate_batch(
    batch_id: str,
    ledger: Ledger | None = None,
    *,
    doc_ids: Iterable[str] | None = None,
    confidence_threshold: float = DEFAULT_CONFIDENCE_THRESHOLD,
) -> dict[str, int]:
    """Validate every ``extracted`` document of the batch (among ``doc_ids``); count by decision.

    Documents are validated in the order they were received, so that of two
    applications of one person the later one is the duplicate. A broken form
    definition stops the run (:class:`ConfigError`); any other fault fails
    that document only (``failed`` at stage ``validate``) and the batch goes on.
    """
    ledger = ledger or Ledger()
    counts: Counter[str] = Counter()
    ids = ledger.document_ids(batch_id=batch_id, states=[DocState.EXTRACTED])
    if doc_ids is not None:
        wanted = set(doc_ids)
        ids = [i for i in ids if i in wanted]
    for doc_id in ids:
        try:
            result = validate_document(ledger, doc_id, confidence_threshold=confidence_threshold)
        except ConfigError:
            raise
        except Exception as exc:  # one document's fault must not stop the batch
            log.exception("validation failed for %s", doc_id[:12])
            ledger.fail(doc_id, stage="validate", reason=str(exc), actor="validators")
            counts["failed"] += 1
            continue
        counts[result.decision] += 1
    return dict(counts)


def validate_documents(
    docs: Iterable[Document],
    receipt_date: date,
    *,
    confidence_threshold: float = DEFAULT_CONFIDENCE_THRESHOLD,
) -> Iterator[Document]:
    """Validate documents read without a ledger (``shinsei process``), in the order given.

    An applicant who appears twice in the run is a duplicate application from
    the second document on, exactly as with the ledger. Documents without a
    form are decided ``unknown``.
    """
    seen: dict[tuple[str, str], list[str]] = {}

    def prior(form_id: str, key: str, doc_id: str) -> list[str]:
        return [d for d in seen.get((form_id, key), []) if d != doc_id]

    for doc in docs:
        if doc.form_id is None:
            doc.decision = "unknown"
            yield doc
            continue
        ctx = RuleContext(
            form=load_form(doc.form_id),
            receipt_date=receipt_date,
            prior_applications=prior,
            confidence_threshold=confidence_threshold,
        )
        apply_validation(doc, validate(doc, ctx))
        if doc.key:
            seen.setdefault((doc.form_id, doc.key), []).append(doc.id)
        yield doc
