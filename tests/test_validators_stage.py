"""The validation stage over the ledger: states, findings, statuses, duplicates, faults."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from shinsei.model import DocState, Document, FieldValue
from store import Ledger
from tests.validators_support import fv, household, kyufukin_values
from validators.stage import validate_batch


def _extracted(
    ledger: Ledger, tmp_path: Path, n: int, values: dict[str, Any], attachments: list[str]
) -> str:
    doc_id = f"{n:x}" * 64
    src = tmp_path / f"scan{n}.png"
    src.write_bytes(doc_id.encode())
    ledger.register_document(
        doc_id=doc_id[:64],
        batch_id="b1",
        file=src.name,
        source=src,
        size_bytes=64,
        page_sizes=[(10, 10)],
    )
    fields = {k: v if isinstance(v, FieldValue) else fv(k, v) for k, v in values.items()}
    doc = Document(
        id=doc_id[:64],
        file=src.name,
        batch="b1",
        form_id="kyufukin",
        key=values["applicant_no"],
        fields=fields,
        attachments=attachments,  # type: ignore[arg-type]
    )
    ledger.save_extraction(doc)
    return doc_id[:64]


def test_validate_batch(ledger: Ledger, tmp_path: Path) -> None:
    ledger.ensure_batch("b1", date(2020, 6, 1))
    clean = kyufukin_values(household("H000001"))
    first = _extracted(ledger, tmp_path, 1, clean, ["id_copy"])
    again = _extracted(ledger, tmp_path, 2, clean, ["id_copy"])  # the same household twice
    other = kyufukin_values(household("H000002"))
    late = _extracted(ledger, tmp_path, 3, {**other, "application_date": "2020-06-03"}, ["id_copy"])
    doubt = kyufukin_values(household("H000003"))
    unsure = _extracted(
        ledger, tmp_path, 4, {**doubt, "phone": fv("phone", "078-123-4567", 0.4)}, ["id_copy"]
    )

    counts = validate_batch("b1", ledger)
    assert counts == {"accept": 1, "review": 2, "reject": 1}
    assert ledger.load(first).state is DocState.READY
    second = ledger.load(again)
    assert second.state is DocState.REVIEW
    assert [f.code for f in second.findings] == ["KF_DUPLICATE_APPLICATION"]
    rejected = ledger.load(late)
    assert (rejected.state, rejected.decision) == (DocState.REJECTED, "reject")
    assert [f.code for f in rejected.findings] == ["KF_APPLICATION_DATE_AFTER_RECEIPT"]
    reviewed = ledger.load(unsure)
    assert reviewed.state is DocState.REVIEW
    assert reviewed.fields["phone"].status == "review"
    assert reviewed.fields["agent_name"].status == "missing"
    # Nothing is left to do: a re-run changes nothing.
    assert validate_batch("b1", ledger) == {}


def test_one_broken_document_does_not_stop_the_batch(
    ledger: Ledger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger.ensure_batch("b1", date(2020, 6, 1))
    good = _extracted(ledger, tmp_path, 1, kyufukin_values(household("H000001")), ["id_copy"])
    bad = _extracted(ledger, tmp_path, 2, kyufukin_values(household("H000002")), ["id_copy"])
    import validators.stage as stage

    real = stage.validate

    def flaky(doc: Document, ctx: Any) -> Any:
        if doc.id == bad:
            raise RuntimeError("registry unavailable")
        return real(doc, ctx)

    monkeypatch.setattr(stage, "validate", flaky)
    assert validate_batch("b1", ledger) == {"accept": 1, "failed": 1}
    assert ledger.load(good).state is DocState.READY
    row = ledger.find_document(bad)
    assert row is not None
    assert (row.state, row.failed_stage, row.error) == (
        DocState.FAILED,
        "validate",
        "registry unavailable",
    )
