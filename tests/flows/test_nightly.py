"""The nightly batch end to end: real Prefect server, real stand-in, real Chromium."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import openpyxl
import pytest

from store import Ledger
from tests.flows.conftest import DEMO, FINAL_STATE, demo_truth
from tests.robots.conftest import LegacyServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

BATCH = "2020-06-01"


def _final_states(ledger: Ledger) -> dict[str, str]:
    return {
        Path(r.file).name: str(r.state) for r in ledger.rows(ledger.document_ids(batch_id=BATCH))
    }


def test_nightly_batch_on_the_demo_batch(
    prefect_api: str, data_dir: Path, robot_env: LegacyServer
) -> None:
    from flows.nightly import nightly_batch

    result = nightly_batch(inbox=str(DEMO), batch_date=BATCH, letter_date="2020-06-02")

    ledger = Ledger()
    truth = demo_truth()
    states = _final_states(ledger)
    assert set(states) == set(truth)
    # Every envelope ends as the truth says, or -- when the reader was unsure of a
    # field -- waits for a reviewer. Nothing is keyed or returned that should not be.
    doubtful = []
    for row in ledger.rows(ledger.document_ids(batch_id=BATCH)):
        name, want = Path(row.file).name, FINAL_STATE[str(truth[Path(row.file).name]["decision"])]
        if states[name] == want:
            continue
        unsure = [f for f, fv in ledger.load(row.id).fields.items() if fv.status == "review"]
        assert states[name] == "review" and unsure, f"{name}: {states[name]}, truth {want}"
        doubtful.append(name)
    # Unsure readings are the exception, not the rule (2 of 30 when this was written).
    assert len(doubtful) <= 4, doubtful

    # Every keyed document is registered once in the stand-in, under the ledger's receipt.
    receipts = robot_env.receipts()
    keyed = [r for r in ledger.rows(ledger.document_ids(batch_id=BATCH)) if str(r.state) == "keyed"]
    from store.keying import keying_record

    for row in keyed:
        record = keying_record(ledger, row.id)
        assert record is not None and record.receipt_no in receipts
    assert len(receipts) == len(keyed)

    # One return letter per rejected document, one review workbook.
    assert result["letters"]["letters"] == Counter(states.values())["letter_queued"]
    assert result["letters"]["letters"] >= Counter(
        FINAL_STATE[str(rec["decision"])] for rec in truth.values()
    )["letter_queued"] - len(doubtful)
    assert result["review_workbook"] and Path(result["review_workbook"]).is_file()
    # The reviewer sees the pictures of the doubtful fields, cut from the kept page.
    workbook = openpyxl.load_workbook(result["review_workbook"])
    assert sum(len(ws._images) for ws in workbook.worksheets) >= len(doubtful) > 0
    assert result["report"]["total"] == len(truth)
    assert ledger.verify_audit().ok

    # A second run of the same night finds nothing left to do.
    audit_rows = ledger.verify_audit().rows
    again = nightly_batch(inbox=str(DEMO), batch_date=BATCH, letter_date="2020-06-02")
    assert again["extract"].get("extracted", 0) == 0
    assert again["keying"].get("registered", 0) == 0
    assert again["letters"]["letters"] == 0
    assert again["review_workbook"] == result["review_workbook"]
    assert _final_states(ledger) == states
    assert ledger.verify_audit().rows == audit_rows
