"""Helpers of the review tests: a batch in review exported once, copied per test."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from openpyxl.worksheet.worksheet import Worksheet

from review import layout as L
from review.demo import make_review_batch
from review.exporter import export_review
from shinsei.model import DocState
from store import Ledger

BATCH = "b-review"
KF_SHEET = "特別定額給付金申請書"
KN_SHEET = "介護保険 要介護認定・要支援認定 申請書"

#: Every document of a form has exactly these readings uncertain.
FLAGGED = {
    "kyufukin": ["application_date", "phone", "bank_type", "branch_name", "account_number"],
    "kaigo_nintei": ["my_number", "insured_number"],
}


@dataclass
class Exported:
    """A copy of the exported batch that one test may change."""

    data_dir: Path
    workbook: Path
    export_id: str
    kyufukin: list[str]
    kaigo: list[str]

    def ledger(self) -> Ledger:
        return Ledger()


def build_template(root: Path) -> Exported:
    data = root / "data"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SHINSEI_DATA_DIR", str(data))
        mp.delenv("SHINSEI_DB_URL", raising=False)
        ledger = Ledger()
        made = make_review_batch(ledger, batch_id=BATCH, kyufukin=4, kaigo=2, flag=FLAGGED)
        assert len(ledger.document_ids(batch_id=BATCH, states=[DocState.REVIEW])) == 6
        report = export_review(BATCH, root / "review.xlsx", ledger=ledger)
    return Exported(
        data_dir=data,
        workbook=root / "review.xlsx",
        export_id=report.export_id,
        kyufukin=made.by_form["kyufukin"],
        kaigo=made.by_form["kaigo_nintei"],
    )


def copy_of(template: Exported, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Exported:
    data = tmp_path / "data"
    shutil.copytree(template.data_dir, data)
    workbook = tmp_path / "review.xlsx"
    shutil.copyfile(template.workbook, workbook)
    monkeypatch.setenv("SHINSEI_DATA_DIR", str(data))
    monkeypatch.delenv("SHINSEI_DB_URL", raising=False)
    return Exported(data, workbook, template.export_id, template.kyufukin, template.kaigo)


def col(ws: Worksheet, machine_id: str) -> int:
    """The column of a machine id (hidden row 1)."""
    for cell in ws[L.ID_ROW]:
        if cell.value == machine_id:
            return int(cell.column)
    raise KeyError(machine_id)


def row_of(ws: Worksheet, doc_id: str) -> int:
    c = col(ws, L.COL_DOC)
    for r in range(L.FIRST_DATA_ROW, ws.max_row + 1):
        if ws.cell(row=r, column=c).value == doc_id:
            return r
    raise KeyError(doc_id)
