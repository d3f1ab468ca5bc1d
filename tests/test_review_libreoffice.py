"""The review workbook in LibreOffice: it renders, and a file LibreOffice saved imports."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
from PIL import Image

from review import layout as L
from review.importer import import_review
from review.soffice import convert, first_page_png
from shinsei.model import DocState
from tests.review_support import KF_SHEET, Exported, build_template, col, copy_of, row_of

pytestmark = [
    pytest.mark.libreoffice,
    pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed"),
]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Exported:
    return build_template(tmp_path_factory.mktemp("review-lo-template"))


@pytest.fixture(scope="module")
def profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("lo-profile")


def test_exported_workbook_renders_in_libreoffice(
    template: Exported, profile: Path, tmp_path: Path
) -> None:
    pdf = convert(template.workbook, "pdf", tmp_path, profile)
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "確認が必要な理由" in text and "申請者番号" in text
    assert "確認表の使い方" in text  # the instructions sheet prints too
    # Hidden sheets are not printed: no manifest, no export payload.
    assert "row_key" not in text
    assert '"cells"' not in text
    png = first_page_png(pdf, tmp_path / "page1.png")
    with Image.open(png) as img:
        grey = img.convert("L")
        inked = sum(grey.histogram()[:200]) / (grey.width * grey.height)
    assert inked > 0.01, "the first page came out blank"


def test_a_file_saved_by_libreoffice_imports(
    template: Exported, profile: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ex = copy_of(template, tmp_path, monkeypatch)
    a, b = ex.kyufukin[0], ex.kyufukin[1]
    wb = openpyxl.load_workbook(ex.workbook)
    ws = wb[KF_SHEET]
    ws.cell(row=row_of(ws, a), column=col(ws, "@f:account_number"), value="0012345")
    ws.cell(row=row_of(ws, b), column=col(ws, L.COL_CONFIRM), value=L.CONFIRMED)
    edited = tmp_path / "edited.xlsx"
    wb.save(edited)

    saved = convert(edited, "xlsx:Calc MS Excel 2007 XML", tmp_path / "lo", profile)
    # What LibreOffice did to the workbook: the manifest survives (merely hidden),
    # the drop-downs and protection stay, text cells keep their leading zeros.
    lo = openpyxl.load_workbook(saved)
    assert lo[L.MANIFEST_SHEET].sheet_state in ("hidden", "veryHidden")
    lo_ws = lo[KF_SHEET]
    assert lo_ws.protection.sheet
    assert len(lo_ws.data_validations.dataValidation) >= 3
    cell = lo_ws.cell(row=row_of(lo_ws, a), column=col(lo_ws, "@f:account_number"))
    assert cell.value == "0012345" and cell.number_format == "@"

    report = import_review(saved, reviewer="佐藤")
    ledger = ex.ledger()
    assert ledger.load(a).value("account_number") == "0012345"
    assert ledger.load(b).state is DocState.READY
    assert report.cells_changed == 1
