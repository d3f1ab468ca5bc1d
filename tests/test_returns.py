"""Return letters (返戻通知): content, layout, fonts, print batches and the ledger moves."""

from __future__ import annotations

import csv
import hashlib
import re
import subprocess
from datetime import date
from fnmatch import fnmatchcase
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from forms.loader import load_form
from returns import LetterBook, produce_letters
from returns.fonts import missing_glyphs
from returns.letter import letter_text, wareki
from returns.render import WINDOW, WINDOW_MARGIN, check_printable
from shinsei.errors import SystemError_
from shinsei.model import DocState, Document, FieldValue, Finding
from shinsei.residents import DEFAULT_DIR, ResidentRegistry, registry
from store import Ledger
from store.letters import letter_rows, mark_mailed

BATCH = "2020-06-01"
LETTER_DATE = date(2020, 6, 2)

# Registry rows the tests write to (samples/registry).
SAKURAI = "H000001"  # 桜井　和夫, 〒651-1623 神戸市北区淡河町野瀬2140番地
TAKAHASHI = "H000054"  # 髙橋　英雄 (髙 U+9AD9), insured 0055966279
YAMAZAKI = "H000454"  # 山﨑　千尋 (﨑 U+FA11)
BUILDING = "H000004"  # address with a building on its own line


def books() -> dict[str, LetterBook]:
    out = {}
    for form_id in ("kyufukin", "kaigo_nintei"):
        book = LetterBook.of_form(load_form(form_id))
        assert book is not None, f"forms/{form_id}/form.yaml has no letters: block"
        out[form_id] = book
    return out


def _err(code: str, fields: list[str], message: str) -> Finding:
    return Finding(code, fields, "error", message)


ACCOUNT = _err("KF_ACCOUNT_NUMBER_LENGTH", ["account_number"], "口座番号は7桁でご記入ください。")
SIGNATURE = _err("KF_SIGNATURE_MISSING", ["signature"], "申請者（世帯主）の署名がありません。")
IDENTITY = _err(
    "KF_ID_DOCUMENT_MISSING", ["id_documents"], "本人確認書類の写しが同封されていません。"
)
WARNING = Finding("KF_PHONE_SUSPECT", ["phone"], "warning", "電話番号を確認してください（審査用）")


def _reject(
    ledger: Ledger,
    tmp_path: Path,
    findings: list[Finding],
    *,
    form_id: str = "kyufukin",
    key: str | None = None,
    fields: dict[str, object] | None = None,
    name: str = "scan",
) -> str:
    """A document of BATCH in state ``rejected`` with ``findings``, through the ledger's API."""
    src = tmp_path / f"{name}.png"
    src.write_bytes(f"scan bytes of {name}".encode())
    doc_id = hashlib.sha256(src.read_bytes()).hexdigest()
    ledger.ensure_batch(BATCH, date(2020, 6, 1))
    ledger.register_document(
        doc_id=doc_id,
        batch_id=BATCH,
        file=str(src),
        source=src,
        size_bytes=src.stat().st_size,
        page_sizes=[(2480, 3508)],
    )
    values = {fid: FieldValue(fid, v, 0.99, "ocr") for fid, v in (fields or {}).items()}
    ledger.save_extraction(
        Document(id=doc_id, file=str(src), pages=1, form_id=form_id, key=key, fields=values)
    )
    ledger.save_validation(doc_id, "reject", findings)
    return doc_id


def _applicant_no(household_id: str) -> str:
    return registry().households[household_id].applicant_no


def _produce(ledger: Ledger, letter_date: date = LETTER_DATE):  # type: ignore[no-untyped-def]
    return produce_letters(ledger, BATCH, letter_date, books=books())


def _pdftotext(pdf: Path, *args: str) -> str:
    out = subprocess.run(
        ["pdftotext", "-layout", *args, str(pdf), "-"], capture_output=True, text=True, check=True
    )
    # pdftotext turns the ideographic space into spaces: compare with single spaces.
    return re.sub(r"[ \u3000]+", " ", out.stdout)


def _mm_to_pt(v: float) -> int:
    return round(v * 72 / 25.4)


# -- the letter ------------------------------------------------------------------


def test_letter_page_has_address_in_window_and_table_below(ledger: Ledger, tmp_path: Path) -> None:
    _reject(ledger, tmp_path, [ACCOUNT, SIGNATURE, WARNING], key=_applicant_no(SAKURAI))
    report = _produce(ledger)
    assert report.letters == 1
    pdf = Path(report.types[0].pdf)

    subprocess.run(["pdftoppm", "-r", "100", "-png", str(pdf), str(tmp_path / "page")], check=True)
    page = np.asarray(Image.open(tmp_path / "page-1.png").convert("L"))
    assert page.shape == (1170, 827)  # A4 at 100 dpi

    def ink(x0: float, y0: float, x1: float, y1: float) -> int:
        px = 100 / 25.4
        box = page[round(y0 * px) : round(y1 * px), round(x0 * px) : round(x1 * px)]
        return int((box < 128).sum())

    x, y, w, h = WINDOW
    assert ink(x, y, x + w, y + h) > 500  # the address block
    assert ink(110, 100, 190, 140) > 500  # the table of what to fix (right half of it)
    # The window shows only the addressee: 〒, the address and 「氏名 様」.
    window_text = _pdftotext(
        pdf,
        "-f", "1", "-l", "1",
        "-x", str(_mm_to_pt(x)), "-y", str(_mm_to_pt(y)),
        "-W", str(_mm_to_pt(w)), "-H", str(_mm_to_pt(h)),
    )  # fmt: skip
    lines = [ln.strip() for ln in window_text.splitlines() if ln.strip()]
    assert lines == ["〒651-1623", "神戸市北区淡河町野瀬2140番地", "桜井 和夫 様"]

    text = _pdftotext(pdf)
    assert "令和2年6月2日" in text
    assert "特別定額給付金申請書の不備について（返戻通知）" in text
    assert "口座番号は7桁でご記入ください。" in text
    assert "申請者（世帯主）の署名がありません。" in text
    assert "審査用" not in text  # warnings are for reviewers, not residents
    assert "令和2年6月16日（火）までに" in text  # 14 days after the letter date
    assert "078-000-" in text  # the contact line


def test_window_text_keeps_inside_the_window_margin(ledger: Ledger) -> None:
    book = books()["kyufukin"]
    hh = registry().households[BUILDING]
    doc = Document(id="f" * 64, file="x", form_id="kyufukin", key=hh.applicant_no,
                   findings=[ACCOUNT])  # fmt: skip
    from returns.letter import compose_letter

    text = letter_text(compose_letter(doc, book, registry()), book, LETTER_DATE, date(2020, 6, 1))
    assert text.window == ("〒652-0056", "神戸市兵庫区滝山町15番18号", "プレサンス滝山町1203号室")
    lines = check_printable(text)
    x, y, w, h = WINDOW
    assert lines[-1].text == "太田　秀樹　様"
    assert all(y + WINDOW_MARGIN < ln.baseline < y + h - WINDOW_MARGIN for ln in lines)


def test_fonts_are_embedded(ledger: Ledger, tmp_path: Path) -> None:
    _reject(ledger, tmp_path, [ACCOUNT], key=_applicant_no(TAKAHASHI))
    pdf = Path(_produce(ledger).types[0].pdf)
    out = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True)
    rows = out.stdout.splitlines()[2:]
    assert rows, out.stdout
    for row in rows:
        assert "IPAex" in row, row  # no base-14 font sneaks in
        emb, sub = row.split()[-5:-3]
        assert (emb, sub) == ("yes", "yes"), row


def test_variant_glyph_names_are_in_the_font_and_in_the_pdf(ledger: Ledger, tmp_path: Path) -> None:
    _reject(ledger, tmp_path, [ACCOUNT], key=_applicant_no(TAKAHASHI), name="t")
    _reject(ledger, tmp_path, [ACCOUNT], key=_applicant_no(YAMAZAKI), name="y")
    report = _produce(ledger)
    assert report.letters == 2 and not report.held
    text = _pdftotext(Path(report.types[0].pdf))
    assert "髙橋 英雄 様" in text  # U+9AD9, not 高
    assert "山﨑 千尋 様" in text  # U+FA11, not 崎
    # Every character of both forms' letter definitions is in the font.
    for book in books().values():
        spec = book.spec
        strings = [spec.title_ja, spec.form_name_ja, *spec.return_items, spec.return_how_ja]
        strings += [spec.correction_note_ja, spec.contact.name, spec.contact.hours]
        strings += [spec.sender.organization, spec.sender.department, spec.sender.address]
        for t in spec.types:
            strings += [t.title_ja, t.note_ja, *t.enclosures]
        assert missing_glyphs(*strings) == []
    # And every member name of the registry.
    assert missing_glyphs(*(m.name for m in registry().members())) == []


def test_character_missing_from_the_font_holds_the_letter(ledger: Ledger, tmp_path: Path) -> None:
    odd = _err("KF_OTHER_TEXT", ["bank_name"], "金融機関名「𠮷田信用金庫」を確認できません。")
    doc_id = _reject(ledger, tmp_path, [odd], key=_applicant_no(SAKURAI))
    report = _produce(ledger)
    assert report.letters == 0 and report.print_batch is None
    assert len(report.held) == 1
    assert "U+20BB7" in report.held[0].reason
    assert ledger.load(doc_id).state is DocState.REJECTED


def test_long_letter_continues_on_a_second_page_with_its_page_count(
    ledger: Ledger, tmp_path: Path
) -> None:
    many = [
        _err(f"KF_OTHER_{i}", ["bank_name"], f"記入内容 {i} を確認できませんでした。" * 3)
        for i in range(30)
    ]
    _reject(ledger, tmp_path, many, key=_applicant_no(SAKURAI), name="long")
    _reject(ledger, tmp_path, [SIGNATURE], key=_applicant_no(TAKAHASHI), name="short")
    report = _produce(ledger)
    pages = {t.letter_type: t.pages for t in report.types}
    assert pages["kf_entry"] == 1 and pages["kf_other"] >= 2
    n = pages["kf_other"]
    text = _pdftotext(Path(next(t.pdf for t in report.types if t.letter_type == "kf_other")))
    footers = [page.strip().splitlines()[-1] for page in text.split("\f") if page.strip()]
    assert [f.split()[-1] for f in footers] == [f"{i}/{n}" for i in range(1, n + 1)]
    with Path(report.mailing_list or "").open(encoding="utf-8-sig") as f:
        assert {r["letter_type"]: int(r["pages"]) for r in csv.DictReader(f)} == pages


# -- letter types ------------------------------------------------------------------


def test_one_letter_of_the_highest_priority_type_lists_every_error(
    ledger: Ledger, tmp_path: Path
) -> None:
    _reject(ledger, tmp_path, [SIGNATURE, ACCOUNT, IDENTITY], key=_applicant_no(SAKURAI))
    report = _produce(ledger)
    assert [(t.letter_type, t.letters) for t in report.types] == [("kf_identity", 1)]
    text = _pdftotext(Path(report.types[0].pdf))
    for finding in (SIGNATURE, ACCOUNT, IDENTITY):
        assert finding.message_ja in text
    assert "本人確認書類の写し（" in text  # the type's enclosure


@pytest.mark.parametrize("form_id", ["kyufukin", "kaigo_nintei"])
def test_every_error_rule_of_the_form_is_named_by_a_letter_type(form_id: str) -> None:
    form = load_form(form_id)
    assert form.letters is not None
    named = [
        rule.code
        for rule in form.rules
        if rule.severity == "error"
        and any(fnmatchcase(rule.code, p) for t in form.letters.types for p in t.codes)
    ]
    errors = [rule.code for rule in form.rules if rule.severity == "error"]
    assert errors and named == errors


def test_code_no_type_covers_goes_to_the_default_type() -> None:
    spec = books()["kyufukin"].spec
    assert spec.choose(["KF_SOMETHING_NEW"]).id == spec.default_type
    assert spec.choose(["KF_SOMETHING_NEW", "KF_ACCOUNT_MISSING"]).id == "kf_account"


def test_one_pdf_per_letter_type_sorted_by_postal_code(ledger: Ledger, tmp_path: Path) -> None:
    _reject(ledger, tmp_path, [ACCOUNT], key=_applicant_no(SAKURAI), name="a")  # 651-
    _reject(ledger, tmp_path, [ACCOUNT], key=_applicant_no(YAMAZAKI), name="b")  # 658-
    _reject(ledger, tmp_path, [ACCOUNT], key=_applicant_no(TAKAHASHI), name="c")  # 653-
    _reject(ledger, tmp_path, [SIGNATURE], key=_applicant_no(BUILDING), name="d")
    report = _produce(ledger)
    assert [(t.letter_type, t.letters, t.pages) for t in report.types] == [
        ("kf_account", 3, 3),
        ("kf_entry", 1, 1),
    ]
    directory = Path(report.directory or "")
    assert sorted(p.name for p in directory.iterdir()) == [
        "kf_account.pdf",
        "kf_entry.pdf",
        "mailing_list.csv",
        "summary.json",
    ]
    with (directory / "mailing_list.csv").open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    account = [r for r in rows if r["letter_type"] == "kf_account"]
    assert [r["postal_code"] for r in account] == ["651-1623", "653-0055", "658-0045"]
    assert [r["sequence"] for r in account] == ["1", "2", "3"]


# -- addressee from the registry -------------------------------------------------------


def test_unknown_applicant_is_held_for_a_person(ledger: Ledger, tmp_path: Path) -> None:
    held_id = _reject(ledger, tmp_path, [ACCOUNT], key="0000000000", name="ghost")
    ok_id = _reject(ledger, tmp_path, [ACCOUNT], key=_applicant_no(SAKURAI), name="ok")
    report = _produce(ledger)
    assert report.letters == 1
    assert [(h.document_id, h.letter_type) for h in report.held] == [(held_id, "kf_account")]
    assert "住民基本台帳" in report.held[0].reason
    assert ledger.load(held_id).state is DocState.REJECTED
    assert ledger.load(ok_id).state is DocState.LETTER_QUEUED
    rows = {r.document_id: r for r in letter_rows(ledger, batch_id=BATCH)}
    assert rows[held_id].held_reason and rows[held_id].print_batch is None
    # Still held on the next night's run, and recorded (and audited) once.
    again = _produce(ledger)
    assert [h.document_id for h in again.held] == [held_id]
    assert ledger.verify_audit().ok


def test_held_letter_is_produced_once_the_registry_knows_the_household(
    ledger: Ledger, tmp_path: Path
) -> None:
    # An extract of the registry without 桜井's household (a move-in not yet registered).
    extract = tmp_path / "registry"
    extract.mkdir()
    for name in ("households.csv", "members.csv"):
        lines = (DEFAULT_DIR / name).read_text(encoding="utf-8").splitlines(keepends=True)
        kept = [ln for ln in lines if not ln.startswith(SAKURAI + ",")]
        (extract / name).write_text("".join(kept), encoding="utf-8")
    doc_id = _reject(ledger, tmp_path, [ACCOUNT], key=_applicant_no(SAKURAI))

    first = produce_letters(ledger, BATCH, LETTER_DATE, books=books(),
                            residents=ResidentRegistry(extract))  # fmt: skip
    assert [h.document_id for h in first.held] == [doc_id] and first.letters == 0

    second = produce_letters(ledger, BATCH, LETTER_DATE, books=books(), residents=registry())
    assert second.letters == 1 and not second.held
    row = letter_rows(ledger, batch_id=BATCH)[0]
    assert row.held_reason is None and row.print_batch == f"{BATCH}-L1"
    assert ledger.load(doc_id).state is DocState.LETTER_QUEUED


def test_kaigo_letter_goes_to_the_insured_person_from_the_registry(
    ledger: Ledger, tmp_path: Path
) -> None:
    finding = _err(
        "KN_DOCTOR_CLINIC_MISSING", ["doctor_clinic", "doctor_name"], "主治医の記入がありません。"
    )
    # The OCR'd name is wrong on purpose: the letter must use the registry's name.
    _reject(
        ledger,
        tmp_path,
        [finding],
        form_id="kaigo_nintei",
        key="0055966279",
        fields={"insured_number": "0055966279", "name": "高橋　英男", "birth_date": "1926-07-15"},
    )
    report = _produce(ledger)
    assert [t.letter_type for t in report.types] == ["kn_doctor"]
    text = _pdftotext(Path(report.types[0].pdf))
    assert "髙橋 英雄 様" in text and "高橋 英男" not in text
    assert "〒653-0055" in text
    assert "医療機関名・医師氏名" in text  # the item column uses the form's labels


def test_kaigo_numbers_of_two_people_are_held(ledger: Ledger, tmp_path: Path) -> None:
    other = registry().households[SAKURAI].head.my_number
    finding = _err("KN_DOCTOR_NAME_MISSING", ["doctor_name"], "主治医の記入がありません。")
    _reject(
        ledger,
        tmp_path,
        [finding],
        form_id="kaigo_nintei",
        fields={"insured_number": "0055966279", "my_number": other},
    )
    report = _produce(ledger)
    assert report.letters == 0
    assert "別々の方" in report.held[0].reason
    assert other not in report.held[0].reason  # My Number is never shown


def test_kaigo_letter_held_when_the_form_contradicts_the_registry(
    ledger: Ledger, tmp_path: Path
) -> None:
    finding = _err("KN_DOCTOR_NAME_MISSING", ["doctor_name"], "主治医の記入がありません。")
    _reject(
        ledger,
        tmp_path,
        [finding],
        form_id="kaigo_nintei",
        fields={"insured_number": "0055966279", "birth_date": "1950-01-01"},
    )
    report = _produce(ledger)
    assert report.letters == 0 and "一致しません" in report.held[0].reason


def test_kaigo_with_a_wrong_my_number_is_found_by_name_and_birth_date(
    ledger: Ledger, tmp_path: Path
) -> None:
    finding = _err("KN_MY_NUMBER_INVALID", ["my_number"], "個人番号に誤りがあります。")
    _reject(
        ledger,
        tmp_path,
        [finding],
        form_id="kaigo_nintei",
        fields={"my_number": "892169621520", "name": "髙橋　英雄", "birth_date": "1926-07-15"},
    )
    report = _produce(ledger)
    assert report.letters == 1 and not report.held
    assert "髙橋 英雄 様" in _pdftotext(Path(report.types[0].pdf))


def test_kaigo_with_a_wrong_my_number_and_a_name_nobody_has_is_held(
    ledger: Ledger, tmp_path: Path
) -> None:
    finding = _err("KN_MY_NUMBER_INVALID", ["my_number"], "個人番号に誤りがあります。")
    _reject(
        ledger,
        tmp_path,
        [finding],
        form_id="kaigo_nintei",
        fields={"my_number": "892169621520", "name": "髙橋　英夫", "birth_date": "1926-07-15"},
    )
    report = _produce(ledger)
    assert report.letters == 0 and "見つかりません" in report.held[0].reason


# -- print batches, re-runs, mailing list, mailed ----------------------------------------


def test_rerun_produces_nothing_new(ledger: Ledger, tmp_path: Path) -> None:
    first_id = _reject(ledger, tmp_path, [ACCOUNT], key=_applicant_no(SAKURAI), name="1")
    first = _produce(ledger)
    assert first.print_batch == f"{BATCH}-L1" and first.letters == 1
    pdf = Path(first.types[0].pdf)
    before = pdf.read_bytes()

    again = _produce(ledger)
    assert again.print_batch is None and again.letters == 0
    assert again.already_produced == 1
    assert pdf.read_bytes() == before

    # A document rejected later (after review) goes into a second print batch, alone.
    second_id = _reject(ledger, tmp_path, [SIGNATURE], key=_applicant_no(TAKAHASHI), name="2")
    second = _produce(ledger)
    assert second.print_batch == f"{BATCH}-L2" and second.letters == 1
    rows = {r.document_id: r.print_batch for r in letter_rows(ledger, batch_id=BATCH)}
    assert rows == {first_id: f"{BATCH}-L1", second_id: f"{BATCH}-L2"}


def test_failed_ledger_write_leaves_no_print_batch_behind(
    ledger: Ledger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc_id = _reject(ledger, tmp_path, [ACCOUNT], key=_applicant_no(SAKURAI))

    def locked(*_args: object, **_kwargs: object) -> None:
        raise SystemError_("database is locked")

    monkeypatch.setattr("returns.batch.queue_letters", locked)
    with pytest.raises(SystemError_):
        _produce(ledger)
    letters_dir = ledger.data_dir / "letters" / BATCH
    assert list(letters_dir.iterdir()) == []  # no PDF of unrecorded letters to print
    assert ledger.load(doc_id).state is DocState.REJECTED

    monkeypatch.undo()
    report = _produce(ledger)
    assert report.print_batch == f"{BATCH}-L1" and report.letters == 1


def test_mailing_list_has_the_vendor_columns_and_no_personal_numbers(
    ledger: Ledger, tmp_path: Path
) -> None:
    hh = registry().households[TAKAHASHI]
    doc_id = _reject(
        ledger,
        tmp_path,
        [ACCOUNT],
        key=hh.applicant_no,
        fields={"account_number": "1234567", "applicant_no": hh.applicant_no},
    )
    report = _produce(ledger)
    raw = Path(report.mailing_list or "").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads it as UTF-8
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert list(rows[0]) == [
        "print_batch",
        "letter_type",
        "sequence",
        "postal_code",
        "address",
        "name",
        "document_id",
        "pages",
    ]
    assert rows == [
        {
            "print_batch": f"{BATCH}-L1",
            "letter_type": "kf_account",
            "sequence": "1",
            "postal_code": "653-0055",
            "address": "神戸市長田区浪松町5丁目6番10号",
            "name": "髙橋　英雄",
            "document_id": doc_id[:12],
            "pages": "1",
        }
    ]
    for number in (hh.head.my_number, "1234567"):
        assert number.encode() not in raw
    summary = (Path(report.directory or "") / "summary.json").read_text(encoding="utf-8")
    assert '"letters": 1' in summary


def test_mailed_is_recorded_when_the_operator_confirms(ledger: Ledger, tmp_path: Path) -> None:
    doc_id = _reject(ledger, tmp_path, [ACCOUNT], key=_applicant_no(SAKURAI))
    report = _produce(ledger)
    assert ledger.load(doc_id).state is DocState.LETTER_QUEUED

    result = mark_mailed(ledger, report.print_batch or "", actor="operator:test")
    assert (result.mailed, result.already_mailed) == (1, 0)
    assert ledger.load(doc_id).state is DocState.MAILED
    assert letter_rows(ledger, print_batch=report.print_batch)[0].mailed_at is not None
    again = mark_mailed(ledger, report.print_batch or "", actor="operator:test")
    assert (again.mailed, again.already_mailed) == (0, 1)
    with pytest.raises(KeyError):
        mark_mailed(ledger, "no-such-print-batch", actor="operator:test")
    assert ledger.verify_audit().ok


def test_cli_produce_and_mailed(ledger: Ledger, tmp_path: Path) -> None:
    from shinsei.cli import app

    _reject(ledger, tmp_path, [ACCOUNT], key=_applicant_no(SAKURAI), name="a")
    _reject(ledger, tmp_path, [ACCOUNT], key="0000000000", name="ghost")
    runner = CliRunner()
    out = runner.invoke(app, ["letters", "produce", "--batch", BATCH, "--date", "2020-06-02"])
    assert out.exit_code == 0, out.output
    assert f"print batch {BATCH}-L1: 1 letters, 1 pages" in out.output
    assert "held for a person" in out.output
    out = runner.invoke(app, ["letters", "mailed", f"{BATCH}-L1", "--operator", "tanaka"])
    assert out.exit_code == 0, out.output
    assert "1 letters marked mailed" in out.output
    out = runner.invoke(app, ["letters", "status", "--batch", BATCH])
    assert "mailed" in out.output and "held" in out.output


def test_wareki() -> None:
    assert wareki(date(2020, 6, 2)) == "令和2年6月2日"
    assert wareki(date(2019, 5, 1)) == "令和元年5月1日"
    assert wareki(date(2019, 4, 30)) == "平成31年4月30日"
