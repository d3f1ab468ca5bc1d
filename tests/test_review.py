"""The review round trip: export to .xlsx, a reviewer's edits, import back into the ledger."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from openpyxl.workbook.workbook import Workbook
from sqlalchemy import func, select

from review import layout as L
from review.exporter import NothingToReview, export_review
from review.importer import WorkbookRefused, import_review
from shinsei.model import DocState
from shinsei.residents import registry
from store import Ledger
from store.tables import field_values
from tests.review_support import (
    BATCH,
    KF_SHEET,
    KN_SHEET,
    Exported,
    build_template,
    col,
    copy_of,
    row_of,
)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Exported:
    return build_template(tmp_path_factory.mktemp("review-template"))


@pytest.fixture
def ex(template: Exported, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Exported:
    return copy_of(template, tmp_path, monkeypatch)


def edit(ex: Exported, change: Callable[[Workbook], None], name: str = "edited.xlsx") -> Path:
    wb = openpyxl.load_workbook(ex.workbook)
    change(wb)
    out = ex.workbook.with_name(name)
    wb.save(out)
    return out


def put(wb: Workbook, sheet: str, doc_id: str, machine_id: str, value: object) -> str:
    """Type ``value`` into a document's cell; return the cell's coordinate."""
    ws = wb[sheet]
    cell = ws.cell(row=row_of(ws, doc_id), column=col(ws, machine_id), value=value)
    return str(cell.coordinate)


def snapshot(ledger: Ledger) -> tuple[int, int, dict[str, int]]:
    with ledger.engine.connect() as conn:
        n_values = conn.execute(select(func.count()).select_from(field_values)).scalar_one()
    return ledger.verify_audit().rows, n_values, ledger.count_by_state(BATCH)


# -- the export -----------------------------------------------------------------


def test_export_one_sheet_per_form_with_flags_images_links_and_protection(ex: Exported) -> None:
    wb = openpyxl.load_workbook(ex.workbook)
    assert wb.sheetnames[:2] == [KF_SHEET, KN_SHEET]
    assert wb[L.MANIFEST_SHEET].sheet_state == "veryHidden"
    assert "保存の仕方" in "".join(str(c.value) for c in wb[L.INSTRUCTIONS_SHEET]["B"])

    ws = wb[KF_SHEET]
    assert [c.value for c in ws[L.HEADER_ROW]][:6] == [
        "No.",
        "申請者番号",
        "確認が必要な理由",
        "確認済",
        "返戻理由",
        "原本",
    ]
    assert ws.row_dimensions[L.ID_ROW].hidden
    assert ws.freeze_panes == "C3"
    assert ws.max_row - L.HEADER_ROW == len(ex.kyufukin)
    doc = ex.kyufukin[0]
    r = row_of(ws, doc)
    # Low confidence: yellow; a rule warning: orange with the reviewer message as comment.
    phone = ws.cell(row=r, column=col(ws, "@f:phone"))
    assert phone.fill.start_color.rgb.endswith(L.LOW_CONFIDENCE_FILL)
    branch = ws.cell(row=r, column=col(ws, "@f:branch_name"))
    assert branch.fill.start_color.rgb.endswith(L.RULE_FILL)
    assert branch.comment is not None and "支店名を金融機関コード表で確認" in branch.comment.text
    # One crop per flagged field and document, next to its value.
    assert len(ws._images) == len(ex.kyufukin) * 5
    # The page link opens an image that exists.
    link = ws.cell(row=r, column=col(ws, L.COL_PAGE)).hyperlink
    assert link is not None and Path(link.target.removeprefix("file://")).is_file()
    # Choice fields have drop-downs of their labels, and so have 確認済 and 返戻理由.
    formulas = {
        "".join(ch for ch in str(dv.sqref).split(":")[0] if ch.isalpha()): dv.formula1
        for dv in ws.data_validations.dataValidation
    }
    bank_type = openpyxl.utils.get_column_letter(col(ws, "@f:bank_type"))
    assert "銀行" in formulas[bank_type] and "信用金庫" in formulas[bank_type]
    lists = wb[L.LISTS_SHEET]
    reasons = [c.value for c in lists["A"] if c.value]
    assert any(str(v).startswith("KF_SIGNATURE_MISSING ") for v in reasons)
    # Ids locked, what a reviewer touches unlocked, the sheet protected.
    assert ws.protection.sheet
    assert ws.cell(row=r, column=col(ws, L.COL_DOC)).protection.locked
    assert ws.cell(row=r, column=col(ws, L.COL_NO)).protection.locked
    assert not phone.protection.locked
    assert not ws.cell(row=r, column=col(ws, L.COL_RETURN)).protection.locked
    # Digit columns are text, so leading zeros survive.
    assert ws.cell(row=r, column=col(ws, "@f:account_number")).number_format == "@"
    assert ws.cell(row=r, column=col(ws, L.COL_KEY)).value == ex.ledger().load(doc).key


def test_personal_numbers_appear_masked_everywhere_in_the_file(ex: Exported) -> None:
    ledger = ex.ledger()
    numbers = [ledger.load(d).value("my_number") for d in ex.kaigo]
    numbers += [ledger.load(d).value("account_number") for d in ex.kyufukin]
    with zipfile.ZipFile(ex.workbook) as z:
        xml = "".join(
            z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".xml")
        )
    for number in numbers:
        assert number and len(number) >= 7
        assert number not in xml
        assert "*" * (len(number) - 4) + number[-4:] in xml


def test_nothing_to_review_writes_no_workbook(ex: Exported, tmp_path: Path) -> None:
    out = tmp_path / "empty.xlsx"
    with pytest.raises(NothingToReview):
        export_review("no-such-batch", out, ledger=ex.ledger())
    assert not out.exists()


# -- the round trip ----------------------------------------------------------------


def test_only_changed_cells_become_corrections(ex: Exported) -> None:
    kf = ex.kyufukin[0]
    path = edit(ex, lambda wb: put(wb, KF_SHEET, kf, "@f:phone", "078-999-1234"))
    report = import_review(path, reviewer="佐藤")
    assert report.cells_changed == 1
    doc = ex.ledger().load(kf)
    phone = doc.fields["phone"]
    assert (phone.value, phone.source, phone.reviewer, phone.confidence) == (
        "078-999-1234",
        "review",
        "佐藤",
        1.0,
    )
    assert all(f.source != "review" for fid, f in doc.fields.items() if fid != "phone")
    # Other uncertain readings remain: the document is back in review, not ready.
    assert doc.state is DocState.REVIEW
    assert report.moved == {kf: "review"}
    # Untouched rows were left alone.
    for other in ex.kyufukin[1:] + ex.kaigo:
        assert all(f.source != "review" for f in ex.ledger().load(other).fields.values())
    assert ex.ledger().verify_audit().ok


def test_confirmed_and_corrected_rows_move_on_and_reimport_changes_nothing(ex: Exported) -> None:
    kf_ok, kf_fixed = ex.kyufukin[0], ex.kyufukin[1]
    branch = ex.ledger().load(kf_ok).value("branch_name")

    def change(wb: Workbook) -> None:
        put(wb, KF_SHEET, kf_ok, L.COL_CONFIRM, L.CONFIRMED)
        # Correct the misread branch name to the real one, then confirm the rest.
        real = {"木山": "本山", "三官": "三宮", "神声": "神戸"}
        fixed_branch = real[ex.ledger().load(kf_fixed).value("branch_name")]
        put(wb, KF_SHEET, kf_fixed, "@f:branch_name", fixed_branch)
        put(wb, KF_SHEET, kf_fixed, L.COL_CONFIRM, L.CONFIRMED)

    path = edit(ex, change)
    first = import_review(path, reviewer="佐藤")
    ledger = ex.ledger()
    # Confirmed as shown: the warning the reviewer saw is settled, the document is ready.
    assert ledger.load(kf_ok).state is DocState.READY
    assert ledger.load(kf_ok).value("branch_name") == branch
    fixed = ledger.load(kf_fixed)
    assert fixed.state is DocState.READY
    assert fixed.fields["branch_name"].source == "review"
    assert not [f for f in fixed.findings if f.code == "KF_BRANCH_NOT_FOUND"]
    assert first.counts() == {"ready": 2}

    before = snapshot(ledger)
    second = import_review(path, reviewer="佐藤")
    assert second.moved == {}
    assert second.already_applied == 2
    assert snapshot(ledger) == before


def test_returned_row_becomes_an_error_finding_and_rejects(ex: Exported) -> None:
    kf = ex.kyufukin[2]
    path = edit(
        ex, lambda wb: put(wb, KF_SHEET, kf, L.COL_RETURN, "KF_SIGNATURE_MISSING 申請者の署名…")
    )
    report = import_review(path, reviewer="佐藤")
    doc = ex.ledger().load(kf)
    assert doc.state is DocState.REJECTED
    assert report.moved == {kf: "rejected"}
    found = [f for f in doc.findings if f.code == "KF_SIGNATURE_MISSING"]
    assert found and found[0].severity == "error" and "署名" in found[0].message_ja


def test_excel_dates_numbers_full_width_digits_and_leading_zeros_are_accepted(
    ex: Exported,
) -> None:
    a, b, c = ex.kyufukin[:3]

    def change(wb: Workbook) -> None:
        put(wb, KF_SHEET, a, "@f:application_date", datetime(2020, 5, 21))
        put(wb, KF_SHEET, a, "@f:account_number", "0123456")
        put(wb, KF_SHEET, b, "@f:account_number", 7654321)  # typed as a number
        put(wb, KF_SHEET, b, "@f:application_date", "令和2年5月3日")
        put(wb, KF_SHEET, c, "@f:phone", "０７８－２２２－３３３３")
        put(wb, KF_SHEET, c, "@f:bank_type", "信用金庫")

    import_review(edit(ex, change), reviewer="佐藤")
    ledger = ex.ledger()
    assert ledger.load(a).value("application_date") == "2020-05-21"
    assert ledger.load(a).value("account_number") == "0123456"
    assert ledger.load(b).value("account_number") == "7654321"
    assert ledger.load(b).value("application_date") == "2020-05-03"
    assert ledger.load(c).value("phone") == "078-222-3333"
    assert ledger.load(c).value("bank_type") == "shinkin"


def test_a_new_full_my_number_replaces_the_masked_one(ex: Exported) -> None:
    kn = ex.kaigo[0]
    other = next(
        m.my_number
        for m in registry().members()
        if m.my_number != ex.ledger().load(kn).value("my_number")
    )
    import_review(
        edit(ex, lambda wb: put(wb, KN_SHEET, kn, "@f:my_number", other)), reviewer="佐藤"
    )
    assert ex.ledger().load(kn).value("my_number") == other


# -- what the import tolerates ------------------------------------------------------


def _sort_rows_descending(wb: Workbook) -> None:
    ws = wb[KF_SHEET]
    first, last = L.FIRST_DATA_ROW, ws.max_row
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=first, max_row=last)]
    for r, values in enumerate(reversed(rows), start=first):
        for c, value in enumerate(values, start=1):
            ws.cell(row=r, column=c, value=value)


def test_sorted_filtered_rows_extra_sheets_and_columns_are_tolerated(ex: Exported) -> None:
    target = ex.kyufukin[0]

    def change(wb: Workbook) -> None:
        _sort_rows_descending(wb)
        ws = wb[KF_SHEET]
        ws.insert_cols(4)  # a reviewer's own column
        ws.cell(row=L.HEADER_ROW, column=4, value="メモ")
        ws.cell(row=row_of(ws, target), column=4, value="電話で確認済み")
        ws.row_dimensions[row_of(ws, ex.kyufukin[1])].hidden = True  # filtered out
        wb.create_sheet("作業用").append(["自分用のメモ", "=1+1"])
        put(wb, KF_SHEET, target, "@f:phone", "078-111-2222")

    report = import_review(edit(ex, change), reviewer="佐藤")
    assert report.cells_changed == 1
    assert ex.ledger().load(target).value("phone") == "078-111-2222"


def test_deleted_rows_stay_in_review(ex: Exported) -> None:
    gone, kept = ex.kyufukin[0], ex.kyufukin[1]

    def change(wb: Workbook) -> None:
        ws = wb[KF_SHEET]
        ws.delete_rows(row_of(ws, gone))
        put(wb, KF_SHEET, kept, L.COL_CONFIRM, L.CONFIRMED)

    report = import_review(edit(ex, change), reviewer="佐藤")
    assert report.missing_rows == 1
    assert ex.ledger().load(gone).state is DocState.REVIEW
    assert ex.ledger().load(kept).state is DocState.READY


# -- what the import refuses, naming row and column ----------------------------------


def _refusal(ex: Exported, path: Path, *expected: str) -> str:
    ledger = ex.ledger()
    before = snapshot(ledger)
    with pytest.raises(WorkbookRefused) as info:
        import_review(path, reviewer="佐藤")
    message = str(info.value)
    for text in expected:
        assert text in message
    assert snapshot(ledger) == before
    return message


def test_letters_in_an_account_number_are_refused_with_row_and_column(ex: Exported) -> None:
    kf = ex.kyufukin[1]
    where: list[str] = []
    path = edit(ex, lambda wb: where.append(put(wb, KF_SHEET, kf, "@f:account_number", "12A4567")))
    row = row_of(openpyxl.load_workbook(path)[KF_SHEET], kf)
    letter = "".join(ch for ch in where[0] if ch.isalpha())
    _refusal(ex, path, f"{row}行 {letter}列（口座番号）", "数字以外")


def test_too_many_digits_and_a_bad_my_number_check_digit_are_refused(ex: Exported) -> None:
    kf, kn = ex.kyufukin[0], ex.kaigo[1]
    good = ex.ledger().load(kn).value("my_number")
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)

    def change(wb: Workbook) -> None:
        put(wb, KF_SHEET, kf, "@f:account_number", "12345678")
        put(wb, KN_SHEET, kn, "@f:my_number", bad)

    _refusal(ex, edit(ex, change), "（口座番号）: 7桁より多い", "（個人番号）")


def test_formulas_and_partly_edited_masked_numbers_are_refused(ex: Exported) -> None:
    kf, kn = ex.kyufukin[0], ex.kaigo[0]

    def change(wb: Workbook) -> None:
        put(wb, KF_SHEET, kf, "@f:phone", '=CONCAT("078-","111-2222")')
        put(wb, KN_SHEET, kn, "@f:my_number", "1234****6672")

    _refusal(ex, edit(ex, change), "（昼間連絡先 電話番号）: 数式は使えません", "全桁を入力")


def test_edited_ids_are_refused(ex: Exported) -> None:
    a, b, c = ex.kyufukin[:3]

    def change(wb: Workbook) -> None:
        put(wb, KF_SHEET, c, L.COL_NO, 999)
        put(wb, KF_SHEET, a, L.COL_DOC, b)

    _refusal(ex, edit(ex, change), "文書IDが書き換えられています", "No.「999」")


def _manifest_rows(wb: Workbook) -> list[list[object]]:
    return [[c.value for c in row] for row in wb[L.MANIFEST_SHEET].iter_rows()]


def test_an_edited_manifest_is_refused(ex: Exported) -> None:
    def change(wb: Workbook) -> None:
        ws = wb[L.MANIFEST_SHEET]
        for row in ws.iter_rows():
            if isinstance(row[4].value, str) and row[4].value.startswith("{"):
                payload = json.loads(row[4].value)
                payload["cells"]["phone"] = "000-000-0000"
                row[4].value = json.dumps(payload, ensure_ascii=False)
                break

    _refusal(ex, edit(ex, change), "管理シートが書き換えられています")


def test_a_forged_manifest_with_a_recomputed_checksum_is_refused(ex: Exported) -> None:
    from review.importer import read_manifest

    def change(wb: Workbook) -> None:
        ws = wb[L.MANIFEST_SHEET]
        manifest = read_manifest(wb, ex.workbook)
        manifest.rows[0].cells["phone"] = "000-000-0000"
        for row in ws.iter_rows():
            if row[0].value == manifest.rows[0].row_key:
                row[4].value = manifest.rows[0].payload()
            if row[0].value == "checksum":
                row[1].value = manifest.digest()

    _refusal(ex, edit(ex, change), "記録と管理シートが一致しません")


def test_a_workbook_of_another_export_is_refused(
    ex: Exported, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The same batch exported again: rows pasted from the first export do not belong.
    second = export_review(BATCH, tmp_path / "second.xlsx", ledger=ex.ledger())
    old = openpyxl.load_workbook(ex.workbook)[KF_SHEET]
    old_check = old.cell(row=L.FIRST_DATA_ROW, column=col(old, L.COL_CHECK)).value

    def change(wb: Workbook) -> None:
        ws = wb[KF_SHEET]
        ws.cell(row=L.FIRST_DATA_ROW, column=col(ws, L.COL_CHECK), value=old_check)

    wb = openpyxl.load_workbook(second.path)
    change(wb)
    wb.save(tmp_path / "mixed.xlsx")
    _refusal(ex, tmp_path / "mixed.xlsx", "照合コードが一致しません", f"{L.FIRST_DATA_ROW}行")
    # And a workbook from another ledger altogether.
    monkeypatch.setenv("SHINSEI_DATA_DIR", str(tmp_path / "other-data"))
    with pytest.raises(WorkbookRefused, match="この台帳から出力されていません"):
        import_review(ex.workbook, reviewer="佐藤", ledger=Ledger())


@pytest.mark.parametrize("suffix", [".xls", ".csv", ".ods"])
def test_xls_and_csv_are_refused_with_what_to_do(ex: Exported, suffix: str) -> None:
    path = ex.workbook.with_suffix(suffix)
    path.write_bytes(b"No.,phone\n1,078\n")
    _refusal(ex, path, ".xlsx", "保存し直してください")


def test_a_csv_renamed_to_xlsx_is_refused(ex: Exported) -> None:
    path = ex.workbook.with_name("renamed.xlsx")
    path.write_text("No.,phone\n1,078\n", encoding="utf-8")
    _refusal(ex, path, "中身が .xlsx 形式ではありません")


def test_values_not_in_the_lists_are_refused(ex: Exported) -> None:
    kf = ex.kyufukin[0]

    def change(wb: Workbook) -> None:
        put(wb, KF_SHEET, kf, L.COL_RETURN, "なんとなく")
        put(wb, KF_SHEET, kf, "@f:bank_type", "郵便局")

    _refusal(ex, edit(ex, change), "返戻理由の一覧にありません", "（金融機関の種別）")


def test_cli_export_and_import(ex: Exported, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from shinsei.cli import app

    runner = CliRunner()
    out = tmp_path / "cli.xlsx"
    result = runner.invoke(app, ["review", "export", "--batch", BATCH, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "6 documents" in result.output and out.is_file()
    wb = openpyxl.load_workbook(out)
    put(wb, KF_SHEET, ex.kyufukin[0], L.COL_CONFIRM, L.CONFIRMED)
    wb.save(out)
    result = runner.invoke(app, ["review", "import", str(out), "--reviewer", "佐藤"])
    assert result.exit_code == 0, result.output
    assert "ready 1" in result.output
    assert ex.ledger().load(ex.kyufukin[0]).state is DocState.READY
