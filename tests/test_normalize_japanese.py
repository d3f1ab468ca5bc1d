"""Normalisers: canonical values of the dictionaries' conventions, and their properties."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from forms.loader import load_form
from shinsei.errors import BusinessError
from validators.japanese import (
    fold_width,
    is_katakana,
    kana_key,
    same_kana,
    same_name,
    to_katakana,
)
from validators.normalize import InvalidValue, normalize_field
from validators.registry import normalizer
from validators.wareki import ERAS, era_of, from_wareki, parse_date, to_wareki

# -- the named normalisers, table-driven -------------------------------------------

CASES = [
    # (normaliser, raw, canonical)
    ("text", "  ＡＢＣ１２３ ", "ABC123"),
    ("text", "神戸市北区　", "神戸市北区"),
    ("text", "   ", None),
    ("name", "山田 太郎", "山田\u3000太郎"),
    ("name", "山田　　太郎 ", "山田\u3000太郎"),
    ("name", "髙橋\u3000一郎", "髙橋\u3000一郎"),  # 髙 stays 髙
    ("name", "山\ufa11 花子", "山\ufa11\u3000花子"),  # 﨑 U+FA11 is not folded to 崎
    ("name", "渡邊　ｶｽﾞｵ", "渡邊\u3000カズオ"),
    ("kana", "ｻｸﾗｲ ｶｽﾞｵ", "サクライ\u3000カズオ"),
    ("kana", "さくらい　かずお", "サクライ\u3000カズオ"),
    ("kana", "シュウイチ", "シュウイチ"),  # small kana kept in the value
    ("kana", "オ-クボ", "オークボ"),
    ("kana", "", None),
    ("digits", "１２３４５６７", "1234567"),
    ("digits", "123 4567", "1234567"),
    ("digits", "12345", "12345"),  # short stays short
    ("postal_code", "〒651-1623", "6511623"),
    ("postal_code", "６５１－１６２３", "6511623"),
    ("phone", "078-123-4567", "078-123-4567"),
    ("phone", "０７８（１２３）４５６７", "078-123-4567"),
    ("phone", "078 123 4567", "078-123-4567"),
    ("phone", "0781234567", "078-123-4567"),  # grouped as the numbering plan groups it
    ("phone", "09012345678", "090-1234-5678"),
    ("phone", "0797-123-456", "0797-12-3456"),
    ("phone", "078123456", "078123456"),  # no number of the plan: as written
    ("phone", "090ー1234ー5678", "090-1234-5678"),
    ("phone", "--", None),
    ("wareki_date", "令和2年5月10日", "2020-05-10"),
    ("wareki_date", "令和元年5月1日", "2019-05-01"),
    ("wareki_date", "R2.5.10", "2020-05-10"),
    ("wareki_date", "R2年5月10日", "2020-05-10"),
    ("wareki_date", "2020/5/10", "2020-05-10"),
    ("wareki_date", "2020-05-10", "2020-05-10"),
    ("wareki_date", "２０２０年５月１０日", "2020-05-10"),
    ("wareki_date", "令和２年５月１０日", "2020-05-10"),
    ("wareki_date", "令和二年五月十日", "2020-05-10"),
    ("wareki_date", "昭和25年3月4日", "1950-03-04"),
    ("wareki_date", "S25.3.4", "1950-03-04"),
    ("wareki_date", "昭和64年1月7日", "1989-01-07"),
    ("wareki_date", "平成元年1月8日", "1989-01-08"),
    ("wareki_date", "大正15年12月24日", "1926-12-24"),
    ("wareki_date", "明治45年7月29日", "1912-07-29"),
    ("wareki_date", "令和02年05月10日", "2020-05-10"),
    ("wareki_date", "20200510", "2020-05-10"),
    ("wareki_date", "2020-05-10 00:00:00", "2020-05-10"),
    ("bank_name", "三井住友銀行", "三井住友"),
    ("bank_name", "神戸信用金庫", "神戸"),
    ("bank_name", "兵庫六甲農業協同組合", "兵庫六甲"),
    ("bank_name", "近畿労働金庫", "近畿"),
    ("bank_name", "近畿労金", "近畿"),
    ("bank_name", "みなと", "みなと"),
    ("bank_name", "三菱ＵＦＪ銀行", "三菱UFJ"),
    ("branch_name", "三宮支店", "三宮"),
    ("branch_name", "本店", "本店"),  # nothing would be left: kept
    ("branch_name", "本店営業部", "本店"),
    ("branch_name", "西神文化センター出張所", "西神文化センター"),
    ("address", "神戸市北区淡河町野瀬３ー４ー５", "神戸市北区淡河町野瀬3-4-5"),
]


@pytest.mark.parametrize(("name", "raw", "expected"), CASES)
def test_normaliser(name: str, raw: str, expected: str | None) -> None:
    assert normalizer(name)(raw) == expected


BAD = [
    ("kana", "サクライ Kazuo"),
    ("digits", "12a4567"),
    ("phone", "078-ABC-4567"),
    ("wareki_date", "令和2年2月30日"),  # no such day
    ("wareki_date", "令和元年4月30日"),  # before 令和 began
    ("wareki_date", "平成1年1月7日"),  # still 昭和64年
    ("wareki_date", "5月10日"),
    ("wareki_date", "きのう"),
]


@pytest.mark.parametrize(("name", "raw"), BAD)
def test_normaliser_refuses(name: str, raw: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        normalizer(name)(raw)


def test_nfkc_would_change_the_variant_but_we_do_not() -> None:
    # 﨑 U+FA11 survives NFKC itself, but U+F929 (朗) does not: we keep both.
    assert unicodedata.normalize("NFKC", "\uf929") != "\uf929"
    assert fold_width("\uf929男") == "\uf929男"
    assert normalizer("text")("\uf929男") == "\uf929男"


# -- normalize_field: the contract OCR and the review import call ------------------

KF = load_form("kyufukin")
KN = load_form("kaigo_nintei")


@pytest.mark.parametrize(
    ("form", "field_id", "raw", "expected"),
    [
        (KF, "application_date", "令和2年5月10日", "2020-05-10"),
        (KF, "application_date", "2.5.10", "2020-05-10"),  # the printed era is 令和
        (KF, "application_date", date(2020, 5, 10), "2020-05-10"),
        (KF, "application_date", datetime(2020, 5, 10, 0, 0), "2020-05-10"),
        (KF, "application_date", 43961, "2020-05-10"),  # an Excel serial
        (KF, "application_date", "", None),
        (KF, "application_date", None, None),
        (KF, "head_birth_date", "昭和8年2月5日", "1933-02-05"),
        (KF, "head_name", "桜井 和夫", "桜井\u3000和夫"),
        (KF, "head_name_kana", "ｻｸﾗｲ ｶｽﾞｵ", "サクライ\u3000カズオ"),
        (KF, "phone", "078-123-4567", "078-123-4567"),
        (KF, "phone", "078--4567", "078-4567"),
        (KF, "account_number", "１２３４５６７", "1234567"),
        (KF, "account_number", 1234567, "1234567"),
        (KF, "account_number", 1234567.0, "1234567"),
        (KF, "bank_name", "みなと銀行", "みなと"),
        (KF, "branch_name", "本山支店", "本山"),
        (KF, "account_holder_kana", "さくらい かずお", "サクライ\u3000カズオ"),
        (KF, "refuse_benefit", True, True),
        (KF, "refuse_benefit", None, False),
        (KF, "refuse_benefit", "✓", True),
        (KF, "signature", False, False),
        (KF, "payment_method", "transfer", "transfer"),
        (KF, "payment_method", ["transfer"], "transfer"),
        (KF, "payment_method", ["copy_attached", "transfer"], ["transfer", "copy_attached"]),
        (KF, "payment_method", None, None),
        (KF, "payment_method", "指定口座への振込", "transfer"),  # a label typed by a reviewer
        (KF, "bank_type", "信用金庫", "shinkin"),
        (KF, "id_documents", ["passport", "drivers_license"], ["drivers_license", "passport"]),
        (KF, "id_documents", [], None),
        (KF, "id_documents", "運転免許証、パスポート", ["drivers_license", "passport"]),
        (KN, "birth_date", "昭和25年3月4日", "1950-03-04"),
        (KN, "postal_code", "651-1623", "6511623"),
        (KN, "name", "山\ufa11　花子", "山\ufa11\u3000花子"),
        (KN, "address", "神戸市北区淡河町野瀬２１４０", "神戸市北区淡河町野瀬2140"),
        (KN, "my_number", "6392 7712 7980", "639277127980"),
        (KN, "sex", "female", "female"),
    ],
)
def test_normalize_field(form: object, field_id: str, raw: object, expected: object) -> None:
    spec = form.field(field_id)  # type: ignore[attr-defined]
    assert normalize_field(spec, raw) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field_id", "raw", "message"),
    [
        ("account_number", "12a4567", "数字以外"),
        ("application_date", "令和2年2月30日", "存在しない"),
        ("account_holder_kana", "SAKURAI", "カタカナ以外"),
        ("payment_method", "cash", "選択肢"),
        ("refuse_benefit", "maybe", "あり/なし"),
        ("bank_name", ["a", "b"], "1つだけ"),
    ],
)
def test_normalize_field_refuses(field_id: str, raw: object, message: str) -> None:
    with pytest.raises(InvalidValue, match=message) as info:
        normalize_field(KF.field(field_id), raw)  # type: ignore[arg-type]
    assert info.value.field_id == field_id
    assert isinstance(info.value, BusinessError)


def test_birth_date_without_era_is_refused() -> None:
    # birth_date's era comes from the birth_era boxes: a bare 25.3.4 cannot be placed.
    with pytest.raises(InvalidValue, match="元号"):
        normalize_field(KN.field("birth_date"), "25.3.4")


# -- names and kana --------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("髙橋\u3000一郎", "高橋 一郎", True),
        ("山\ufa11\u3000花子", "山崎　花子", True),
        ("渡邊　和夫", "渡辺　和夫", True),
        ("渡邉　和夫", "渡邊和夫", True),
        ("齋藤　明", "斎藤　明", True),
        ("齊藤　明", "斉藤　明", True),
        ("濱田　誠", "浜田　誠", True),
        ("櫻井　恵子", "桜井　恵子", True),
        ("廣瀬　勇", "広瀬　勇", True),
        ("德永　修", "徳永　修", True),
        ("高橋　一郎", "高橋　二郎", False),
        ("山崎　花子", None, False),
    ],
)
def test_same_name(a: str, b: str | None, same: bool) -> None:
    assert same_name(a, b) is same


@pytest.mark.parametrize(
    ("a", "b", "fold_small", "same"),
    [
        ("シユウイチ", "シュウイチ", True, True),
        ("キヨウコ", "キョウコ", True, True),
        ("サクライ　カズオ", "サクライカズオ", True, True),
        ("ｻｸﾗｲ ｶｽﾞｵ", "サクライ　カズオ", True, True),
        ("オ-クボ", "オークボ", True, True),
        ("さくらい", "サクライ", True, True),
        ("シユウイチ", "シュウイチ", False, False),
        ("サクライ　カズオ", "サクライ　カズコ", True, False),
    ],
)
def test_same_kana(a: str, b: str, fold_small: bool, same: bool) -> None:
    assert same_kana(a, b, fold_small=fold_small) is same


# -- properties --------------------------------------------------------------------

ascii_text = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=30)
katakana = st.text(alphabet=st.characters(min_codepoint=0x30A1, max_codepoint=0x30F6), min_size=1)
DATES = st.dates(min_value=date(1868, 1, 1), max_value=date(2100, 12, 31))


def _to_fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if 0x21 <= ord(c) <= 0x7E else c for c in text)


@given(ascii_text)
def test_width_folding_round_trip(text: str) -> None:
    # Full-width Latin and digits fold back to exactly the ASCII they widen.
    assert fold_width(_to_fullwidth(text)) == text
    assert fold_width(text) == text


@given(katakana)
def test_halfwidth_katakana_round_trip(text: str) -> None:
    import jaconv

    half = jaconv.z2h(text, kana=True, ascii=False, digit=False)
    # ヮヰヱヵヶ have no half-width form and stay as they are.
    assert to_katakana(half) == to_katakana(text)


@given(
    st.sampled_from(["text", "name", "kana", "digits", "phone", "bank_name", "branch_name"]),
    st.text(max_size=25),
)
@example("bank_name", "みずほ銀行銀行")
@example("bank_name", "A\u00b4")  # a space taken out joins A and the accent
@example("branch_name", "本店営業部")
@example("name", " 山田 \u3000 太郎 ")
@example("phone", "(078) 123 - 4567")
def test_normalisers_are_idempotent(name: str, raw: str) -> None:
    fn = normalizer(name)
    try:
        once = fn(raw)
    except ValueError:
        return
    if once is not None:
        assert fn(once) == once


@given(
    st.text(
        alphabet="ァィゥェォッャュョヮアイウエオカキクケコサシスセソタチツテトヤユヨワンー　",
        max_size=20,
    )
)
def test_kana_values_are_katakana_and_keys_are_stable(raw: str) -> None:
    value = normalizer("kana")(raw)
    if value is not None:
        assert is_katakana(value)
        assert kana_key(value) == kana_key(kana_key(value))


@given(DATES, st.booleans())
def test_wareki_iso_round_trip(d: date, gannen: bool) -> None:
    written = to_wareki(d, gannen=gannen)
    assert parse_date(written) == d
    assert normalizer("wareki_date")(written) == d.isoformat()
    assert normalizer("wareki_date")(d.isoformat()) == d.isoformat()


@given(DATES)
def test_wareki_years_are_positive_and_gannen_is_year_one(d: date) -> None:
    e = era_of(d)
    year = d.year - e.start.year + 1
    assert year >= 1
    assert to_wareki(d).startswith(e.name + ("元" if year == 1 else str(year)))


@pytest.mark.parametrize(
    ("iso", "wareki"),
    [
        ("1989-01-07", "昭和64年1月7日"),
        ("1989-01-08", "平成元年1月8日"),
        ("2019-04-30", "平成31年4月30日"),
        ("2019-05-01", "令和元年5月1日"),
        ("1926-12-24", "大正15年12月24日"),
        ("1926-12-25", "昭和元年12月25日"),
        ("1912-07-29", "明治45年7月29日"),
        ("1912-07-30", "大正元年7月30日"),
        ("2020-06-01", "令和2年6月1日"),
    ],
)
def test_era_boundaries(iso: str, wareki: str) -> None:
    d = date.fromisoformat(iso)
    assert to_wareki(d) == wareki
    assert parse_date(wareki) == d


def test_year_past_era_end_is_arithmetic() -> None:
    # Forms printed before the change of era were filled in as 平成32年.
    assert from_wareki("heisei", 32, 5, 10) == date(2020, 5, 10)
    assert [e.id for e in ERAS] == ["meiji", "taisho", "showa", "heisei", "reiwa"]
