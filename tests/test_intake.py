from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from intake import intake_inbox
from ocr.io import probe
from shinsei.errors import BadInputError
from shinsei.model import DocState
from store import Ledger
from tests.bad_inputs import encrypted_pdf, huge_png, truncated_pdf, zero_page_pdf

BLANK = Path(__file__).resolve().parent.parent / "forms" / "kaigo_nintei" / "blank.pdf"
BLANK_PNG = BLANK.with_suffix(".png")


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    box = tmp_path / "inbox"
    (box / "sub").mkdir(parents=True)
    shutil.copy(BLANK, box / "form1.pdf")
    shutil.copy(BLANK, box / "sub" / "form1-rescan.pdf")  # same bytes: a duplicate
    shutil.copy(BLANK_PNG, box / "form2.png")
    (box / "empty.pdf").write_bytes(b"")
    truncated_pdf(box / "truncated.pdf", BLANK)
    encrypted_pdf(box / "locked.pdf")
    zero_page_pdf(box / "nopages.pdf")
    huge_png(box / "bomb.png")
    (box / "letter.jpg").write_text("this is not a picture")
    (box / "notes.txt").write_text("operator notes")
    return box


def test_intake_registers_good_files_once_and_records_bad_ones(inbox: Path, ledger: Ledger) -> None:
    report = intake_inbox([inbox], "2020-06-01", date(2020, 6, 1), ledger)
    assert len(report.registered) == 2
    assert [Path(p).name for p, _ in report.duplicates] == ["form1-rescan.pdf"]
    reasons = {Path(p).name: why for p, why in report.failed}
    assert reasons == {
        "bomb.png": reasons["bomb.png"],
        "empty.pdf": "the file is empty (0 bytes)",
        "letter.jpg": "not a scan this office accepts (PDF, TIFF, PNG or JPEG)",
        "locked.pdf": "the PDF is encrypted (password protected)",
        "nopages.pdf": reasons["nopages.pdf"],
        "truncated.pdf": "the PDF is damaged or truncated",
    }
    assert "over the limit" in reasons["bomb.png"]
    assert "no pages" in reasons["nopages.pdf"] or "damaged" in reasons["nopages.pdf"]
    assert [Path(p).name for p in report.skipped] == ["notes.txt"]

    counts = ledger.count_by_state("2020-06-01")
    assert counts == {DocState.RECEIVED: 2, DocState.FAILED: 6}
    for doc_id in ledger.document_ids(states=[DocState.FAILED]):
        row = ledger.find_document(doc_id)
        assert row is not None and row.error and row.failed_stage == "intake"
    assert ledger.verify_audit().ok


def test_intake_rerun_changes_nothing(inbox: Path, ledger: Ledger) -> None:
    intake_inbox([inbox], "2020-06-01", date(2020, 6, 1), ledger)
    rows = ledger.verify_audit().rows
    again = intake_inbox([inbox], "2020-06-01", date(2020, 6, 1), ledger)
    assert len(again.registered) == 2
    assert ledger.verify_audit().rows == rows
    assert len(ledger.document_ids()) == 8


def test_registered_file_is_copied_into_the_data_dir(inbox: Path, ledger: Ledger) -> None:
    report = intake_inbox([inbox / "form2.png"], "b", date(2020, 6, 1), ledger)
    row = ledger.find_document(report.registered[0])
    assert row is not None
    stored = ledger.stored_path(row)
    assert stored.read_bytes() == (inbox / "form2.png").read_bytes()
    assert stored.stat().st_mode & 0o777 == 0o600


def test_probe_names_file_and_problem(tmp_path: Path) -> None:
    bomb = huge_png(tmp_path / "bomb.png")
    with pytest.raises(BadInputError) as err:
        probe(bomb)
    assert str(bomb) in str(err.value)
    assert "50000×50000" in str(err.value)
    assert probe(BLANK).page_sizes == [(2480, 3508)]
