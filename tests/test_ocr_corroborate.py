"""Doubtful readings confirmed by the registry and the bank list (ocr/corroborate.py)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from forms.loader import load_form
from ocr.confidence import AUTO_ACCEPT
from ocr.corroborate import (
    CONFIRMED,
    _as_registry,
    _as_seen,
    _written_branches,
    corroborate,
)
from ocr.engine import Recognition
from ocr.engines.onnx import CtcLattice
from shinsei.model import FieldValue


def _read(field_id: str, value: Any, confidence: float = 0.55, **kw: Any) -> FieldValue:
    return FieldValue(field_id, value, confidence, "ocr", raw=str(value), status="review", **kw)


def _printed(field_id: str, value: Any) -> FieldValue:
    return FieldValue(field_id, value, 1.0, "preprinted", raw=str(value), status="ok")


def _kaigo(**read: FieldValue) -> dict[str, FieldValue]:
    # 桜井　和夫, born 1933-02-05, insured number 0070705318, household H000001
    values = {"insured_number": _read("insured_number", "0070705318", 0.99)}
    values.update(read)
    return values


def test_the_residents_own_name_kana_and_birth_date_are_confirmed() -> None:
    values = _kaigo(
        name=_read("name", "桜井　和夫"),
        name_kana=_read("name_kana", "サクライ　カズオ", 0.7),
        birth_date=_read("birth_date", "1933-02-05", 0.6),
        applicant_name=_read("applicant_name", "桜井　美穂"),  # the daughter applies
    )
    confirmed = corroborate(load_form("kaigo_nintei"), values)
    assert sorted(confirmed) == ["applicant_name", "birth_date", "name", "name_kana"]
    for fid in confirmed:
        assert values[fid].confidence == CONFIRMED >= AUTO_ACCEPT
        assert values[fid].status == "ok" and values[fid].flags == ["confirmed"]
    assert values["name"].value == "桜井　和夫"  # the value is never changed


@pytest.mark.parametrize(
    ("field_id", "read"),
    [
        ("name", "桜井　和未"),  # one character off
        ("name_kana", "サクライ　カズヨ"),
        ("birth_date", "1933-02-06"),
        ("applicant_name", "桜井　一郎"),  # nobody of the household
    ],
)
def test_a_reading_that_differs_is_left_to_a_person(field_id: str, read: str) -> None:
    values = _kaigo(**{field_id: _read(field_id, read)})
    assert corroborate(load_form("kaigo_nintei"), values) == []
    assert values[field_id].confidence <= 0.55 and values[field_id].status == "review"


def test_without_a_resident_found_nothing_is_confirmed() -> None:
    values = {
        "insured_number": _read("insured_number", "9999999999", 0.99),
        "name": _read("name", "桜井　和夫"),
    }
    assert corroborate(load_form("kaigo_nintei"), values) == []


def test_a_flagged_reading_is_not_confirmed() -> None:
    values = _kaigo(name=_read("name", "桜井　和夫", flags=["corrected"]))
    assert corroborate(load_form("kaigo_nintei"), values) == []
    assert values["name"].status == "review"


@pytest.mark.parametrize(
    ("form_id", "field_id", "read", "spelled"),
    [
        ("kyufukin", "account_holder_kana", "オオクホ　ジュン", "オオクボ　ジュン"),
        (
            "kyufukin",
            "account_holder_kana",
            "オオクホ　シユン",
            "オオクボ　ジユン",
        ),  # bank's size kept
        ("kyufukin", "account_holder_kana", "オオクホ　ジョン", None),  # and a kana off: doubted
        ("kyufukin", "account_holder_kana", "オオクポ　ジュン", None),  # ゜ is not a lost ゛
        ("kyufukin", "account_holder_kana", "オオクボ　ジュン", None),  # as registered: confirmed
        ("kaigo_nintei", "name_kana", "サクライ　カスオ", "サクライ　カズオ"),
        ("kaigo_nintei", "name_kana", "サクライ　カスォ", "サクライ　カズオ"),  # and a size
        ("kaigo_nintei", "name_kana", "サクライ　カスヨ", None),
    ],
)
def test_voicing_marks_the_reader_lost_are_the_registrys_to_put_back(
    form_id: str, field_id: str, read: str, spelled: str | None
) -> None:
    values = (
        _kaigo()
        if form_id == "kaigo_nintei"
        else {"applicant_no": _printed("applicant_no", "0874816119")}  # head: オオクボ　ジュン
    )
    values[field_id] = _read(field_id, read, 0.9)
    corroborate(load_form(form_id), values)
    fv = values[field_id]
    if spelled is None:
        assert fv.value == read and "registry_spelling" not in fv.flags
    else:
        assert fv.value == spelled and fv.raw == read and fv.flags == ["registry_spelling"]
        assert fv.status == "ok" and fv.confidence == CONFIRMED


def test_account_holder_bank_and_branch_are_confirmed_by_the_registry_and_bank_list() -> None:
    values = {
        "applicant_no": _printed("applicant_no", "0874816119"),  # head: オオクボ　ジュン
        "bank_type": _read("bank_type", "bank", 0.99),
        "bank_name": _read("bank_name", "三菱UFJ"),
        "branch_name": _read("branch_name", "神戸"),
        "account_holder_kana": _read("account_holder_kana", "オオクボ　ジュン"),
    }
    confirmed = corroborate(load_form("kyufukin"), values)
    assert sorted(confirmed) == ["account_holder_kana", "bank_name", "branch_name"]
    # as banks print it (large ユ): fine for the rules, but the size may be a misreading
    banks = {**values, "account_holder_kana": _read("account_holder_kana", "オオクボ　ジユン")}
    assert corroborate(load_form("kyufukin"), banks) == []
    assert banks["account_holder_kana"].value == "オオクボ　ジユン"


def test_a_bank_that_does_not_exist_or_another_holder_is_not_confirmed() -> None:
    values = {
        "applicant_no": _printed("applicant_no", "0874816119"),
        "bank_type": _read("bank_type", "bank", 0.99),
        "bank_name": _read("bank_name", "三菱UEJ"),
        "branch_name": _read("branch_name", "神戸"),
        "account_holder_kana": _read("account_holder_kana", "オオクボ　ハナコ"),
    }
    assert corroborate(load_form("kyufukin"), values) == []


def test_a_personal_number_is_confirmed_by_the_residents_name_or_birth_date() -> None:
    values = {
        "insured_number": _read("insured_number", "0070705318", 0.6),
        "my_number": _read("my_number", "639277127980", 0.6),
        "birth_date": _read("birth_date", "1933-02-05", 0.99),
    }
    assert sorted(corroborate(load_form("kaigo_nintei"), values)) == ["insured_number", "my_number"]
    other = {
        "my_number": _read("my_number", "639277127980", 0.6),
        "name": _read("name", "大久保　淳", 0.99),  # somebody else's name
    }
    assert corroborate(load_form("kaigo_nintei"), other) == []


@pytest.mark.parametrize(
    ("address", "doubted"),
    [
        ("神戸市垂水区西舞了3-27-11", True),  # 西舞子 misread: no such town
        ("神戸市垂水区西舞子3-27-11", False),  # the postal code's town
        ("神市垂水区西舞子3-27-11", True),  # 戸 dropped
        ("神戸市垂水区西西舞子3-27-11", True),  # 西 doubled
        ("神戸市須磨区戎町2-27-8", False),  # another ward: a wrong postal code, not a misreading
        ("神戸市垂水区東舞子町3-27-11", False),  # a real town: what the resident wrote
    ],
)
def test_an_address_one_character_off_its_postal_towns_is_doubted(
    address: str, doubted: bool
) -> None:
    values = {
        "postal_code": _read("postal_code", "6550048", 0.99),
        "address": _read("address", address, 0.98),
    }
    assert corroborate(load_form("kaigo_nintei"), values) == []
    assert (values["address"].confidence < AUTO_ACCEPT) is doubted


@pytest.mark.parametrize(
    ("form_id", "field_id", "read", "doubted"),
    [
        ("kyufukin", "account_holder_kana", "オオクポ　ジュン", True),  # ゛ read as ゜
        ("kyufukin", "account_holder_kana", "オオクボ　ジユン", False),  # as banks print: agrees
        ("kyufukin", "account_holder_kana", "オオクボ　ハナコ", False),  # another name: the rules
        ("kyufukin", "account_holder_kana", "オオクボ　ジョン", True),  # one kana off
        ("kyufukin", "account_holder_kana", "オオクホ　ジョン", True),  # and a ゛
        ("kyufukin", "account_holder_kana", "オオクボ　ジョコ", False),  # two kana off
        ("kaigo_nintei", "name_kana", "サクライ　カズホ", True),
        ("kaigo_nintei", "name_kana", "サクライ　カズヨ", True),  # one kana off too
    ],
)
def test_a_kana_name_one_kana_or_a_voicing_mark_off_its_reference_is_doubted(
    form_id: str, field_id: str, read: str, doubted: bool
) -> None:
    values = (
        _kaigo()
        if form_id == "kaigo_nintei"
        else {"applicant_no": _printed("applicant_no", "0874816119")}  # head: オオクボ　ジュン
    )
    values[field_id] = _read(field_id, read, 0.9)
    corroborate(load_form(form_id), values)
    assert (values[field_id].confidence < AUTO_ACCEPT) is doubted


@pytest.mark.parametrize(
    ("read", "spelled"),
    [
        ("サクライ　カヅオ", None),  # another kana: left alone
        ("サクライ　カズォ", "サクライ　カズオ"),  # a large kana read small
    ],
)
def test_kana_size_is_the_registrys_to_decide(read: str, spelled: str | None) -> None:
    values = _kaigo(name_kana=_read("name_kana", read, 0.7))
    corroborate(load_form("kaigo_nintei"), values)
    fv = values["name_kana"]
    if spelled is None:
        assert fv.value == read and "registry_spelling" not in fv.flags
    else:
        assert fv.value == spelled and fv.raw == read and fv.flags == ["registry_spelling"]
        assert fv.status == "ok" and fv.confidence == CONFIRMED


def test_where_the_family_name_ends_is_the_registrys_to_decide() -> None:
    values = _kaigo(
        name=_read("name", "桜井和夫", 0.7),
        applicant_name=_read("applicant_name", "桜井美　穂", 0.7),
    )
    corroborate(load_form("kaigo_nintei"), values)
    assert values["name"].value == "桜井　和夫" and values["name"].raw == "桜井和夫"
    assert values["applicant_name"].value == "桜井　美穂"
    assert values["name"].flags == ["registry_spelling"] and values["name"].status == "ok"


def test_katakana_read_as_look_alike_kanji_in_a_name_is_spelled_as_registered() -> None:
    # 工藤　トミ read 工藤　卜三: the registry's resident, found by the insured number
    values = _kaigo(name=_read("name", "桜井　和夫"))
    spelled = _as_registry("工藤　卜三", "工藤　トミ")
    assert spelled == "工藤　トミ"
    assert _as_registry("髙橋　卜三", "高橋　トミ") == "髙橋　トミ"  # the variant stays as written
    assert _as_registry("工藤　卜二", "工藤　トミ") is None  # 二 is no ミ
    assert _as_registry("中島　正了", "中島　正子") == "中島　正子"  # 子 printed, read 了
    assert _as_registry("中島　了", "中島　正子") is None
    assert corroborate(load_form("kaigo_nintei"), values) == ["name"]


@pytest.mark.parametrize(
    ("weak_at", "raised"),
    [
        (8, True),  # ケ of 梅ケ香町: the postal code's town confirms it
        (13, False),  # a digit of the 番地: nothing confirms it
    ],
)
def test_a_doubtful_character_of_the_town_is_confirmed_by_the_postal_code(
    weak_at: int, raised: bool
) -> None:
    address = "神戸市長田区梅ケ香町3-18-3"
    chars = [1.0] * len(address)
    chars[weak_at] = 0.61
    values = {
        "postal_code": _read("postal_code", "6530021", 0.99),
        "address": _read("address", address, 0.61, char_confidences=chars),
    }
    corroborate(load_form("kaigo_nintei"), values)
    assert (values["address"].confidence >= AUTO_ACCEPT) is raised
    assert values["address"].value == address


@pytest.mark.parametrize(
    ("address", "weak_at", "postal_sure", "spelled"),
    [
        ("神戸市長田区梅ケ杏町3-18-3", 8, True, "神戸市長田区梅ケ香町3-18-3"),
        ("長田区梅ケ杏町3-18-3", 5, True, "長田区梅ケ香町3-18-3"),  # the ward alone
        ("神戸市長田区梅ケ杏町3-18-3", 8, False, None),  # the postal code itself in doubt
        ("神戸市長田区梅ケ杏町3-18-3", 12, True, None),  # the doubt is in the 番地
        ("神戸市長田区梅ケ杏町3-18-3", 2, True, None),  # the doubt is not in the character off
        ("神戸市長田区東尻池町3-18-3", 6, True, None),  # another real town: as written
    ],
)
def test_the_postal_codes_town_spells_the_one_doubtful_character_off_it(
    address: str, weak_at: int, postal_sure: bool, spelled: str | None
) -> None:
    chars = [1.0] * len(address)
    chars[weak_at] = 0.61
    postal = FieldValue(
        "postal_code", "6530021", 0.99 if postal_sure else 0.7, "ocr", raw="6530021", status="ok"
    )
    values = {
        "postal_code": postal,
        "address": _read("address", address, 0.61, char_confidences=chars),
    }
    corroborate(load_form("kaigo_nintei"), values)
    fv = values["address"]
    if spelled is None:
        assert fv.value == address and fv.confidence < AUTO_ACCEPT
    else:
        assert fv.value == spelled and fv.raw == address and fv.flags == ["reference_spelling"]
        assert fv.confidence == CONFIRMED and fv.status == "ok"


# 北川　健一, born 1926-06-07, insured number 0091071964:
# 神戸市中央区割塚通4丁目11番22号 シティハイツ202号室
KITAGAWA = "神戸市中央区割塚通4丁目11番22号 シティハイツ202号室"
KITAGAWA_DASHED = "神戸市中央区割塚通4-11-22 シティハイツ202号室"


@pytest.mark.parametrize(
    ("read", "weak", "name", "spelled"),
    [
        (KITAGAWA, {9: 0.6}, "北川　健一", KITAGAWA),  # as registered: confirmed
        (KITAGAWA_DASHED, {9: 0.6}, "北川　健一", KITAGAWA_DASHED),  # as people write it
        ("兵庫県" + KITAGAWA_DASHED, {12: 0.6}, "北川　健一", "兵庫県" + KITAGAWA_DASHED),
        (KITAGAWA_DASHED.replace("塚", "琢"), {7: 0.6}, "北川　健一", KITAGAWA_DASHED),
        (KITAGAWA_DASHED.replace("-22", "-27"), {15: 0.5}, "北川　健一", KITAGAWA_DASHED),
        (  # two characters in doubt, each decided
            KITAGAWA.replace("割塚", "剖琢"),
            {6: 0.5, 7: 0.6},
            "北川　健一",
            KITAGAWA,
        ),
        (KITAGAWA_DASHED.replace("塚", "琢"), {7: 0.6}, "北川　健二", None),  # not the resident
        (KITAGAWA_DASHED.replace("塚", "琢"), {8: 0.6}, "北川　健一", None),  # 琢 read sure
        (KITAGAWA_DASHED.replace("-22", "-2"), {14: 0.6}, "北川　健一", None),  # a digit lost
        (  # three in doubt: a person reads it
            KITAGAWA.replace("割塚通", "剖琢道"),
            {6: 0.5, 7: 0.6, 8: 0.6},
            "北川　健一",
            None,
        ),
    ],
)
def test_the_residents_own_address_decides_its_doubtful_characters(
    read: str, weak: dict[int, float], name: str, spelled: str | None
) -> None:
    values = {
        "insured_number": _read("insured_number", "0091071964", 0.99),
        "name": _read("name", name, 0.99),
        "address": _weak("address", read, read, weak),
    }
    corroborate(load_form("kaigo_nintei"), values)
    fv = values["address"]
    if spelled is None:
        assert fv.value == read and fv.confidence < AUTO_ACCEPT
    else:
        assert fv.value == spelled and fv.raw == read and fv.status == "ok"
        assert fv.flags == ["confirmed" if spelled == read else "registry_spelling"]
        assert fv.confidence == CONFIRMED


@pytest.mark.parametrize(
    ("read", "weak", "born", "spelled"),
    [
        ("サクライ　カズヨ", {6: 0.6}, "1933-02-05", "サクライ　カズオ"),  # ヨ in doubt
        ("リクライ　カズヨ", {0: 0.6, 6: 0.8}, "1933-02-05", "サクライ　カズオ"),  # two
        ("サクライ　カズヨ", {}, "1933-02-05", None),  # ヨ read sure: doubted, a person looks
        ("サクライ　カズヨ", {6: 0.6}, "1950-01-01", None),  # the resident is not found
        (
            "リクライ　カズヨ",
            {0: 0.6, 6: 0.8, 3: 0.6},
            "1933-02-05",
            "サクライ　カズオ",
        ),  # イ agrees
        ("リクラ　カズヨ", {0: 0.6, 5: 0.8}, "1933-02-05", None),  # a kana lost
        ("リクライ　ガズヨ", {0: 0.6, 4: 0.6, 6: 0.6}, "1933-02-05", None),  # three off
    ],
)
def test_the_residents_own_kana_decides_one_or_two_doubtful_kana(
    read: str, weak: dict[int, float], born: str, spelled: str | None
) -> None:
    values = _kaigo(
        birth_date=_read("birth_date", born, 0.99),
        name_kana=_weak("name_kana", read, read, weak),
    )
    corroborate(load_form("kaigo_nintei"), values)
    fv = values["name_kana"]
    if spelled is None:
        assert fv.value == read and fv.confidence < AUTO_ACCEPT
    else:
        assert fv.value == spelled and fv.raw == read and fv.flags == ["registry_spelling"]
        assert fv.confidence == CONFIRMED and fv.status == "ok"


def _account(
    bank: str, branch: str, *, bank_type: str = "shinkin", **read: FieldValue
) -> dict[str, FieldValue]:
    values = {
        "bank_type": _read("bank_type", bank_type, 0.99),
        "bank_name": _read("bank_name", bank, 0.99),
        "branch_name": _read("branch_name", branch, 0.99),
    }
    values.update(read)
    return values


def _weak(field_id: str, raw: str, value: str, weak: dict[int, float]) -> FieldValue:
    """A reading of ``raw`` (normalised to ``value``) with the characters of ``weak`` in doubt."""
    chars = [0.99] * len("".join(raw.split()))
    for at, c in weak.items():
        chars[at] = c
    fv = _read(field_id, value, min(chars), char_confidences=chars)
    fv.raw = raw
    return fv


@pytest.mark.parametrize(
    ("bank", "raw", "value", "weak", "spelled"),
    [
        # 神戸信金 has 塩屋 and no other 塩?: 尾, in doubt, was 屋
        ("神戸", "塩尾", "塩尾", {1: 0.6}, "塩屋"),
        ("神戸", "塩尾支店", "塩尾", {1: 0.6}, "塩屋"),  # type words written
        ("神戸", "塩屋支庄", "塩屋支庄", {3: 0.6}, "塩屋"),  # 店 misread
        ("神戸", "北灘", "北灘", {1: 0.6}, "北野"),  # 北 is sure: 北野 is the only 北?
        ("神戸", "北灘", "北灘", {0: 0.6}, None),  # ?灘: 西灘 or 東灘, a person chooses
        ("神戸", "北灘", "北灘", {}, None),  # every character sure: what was written
        ("神戸", "北灘", "北灘", {0: 0.6, 1: 0.6}, None),  # two in doubt
        ("神戸", "塩", "塩", {0: 0.6}, None),  # nothing sure to go by
        ("神戸", "須摩", "須摩", {1: 0.6}, "須磨"),
        ("存在しない", "塩尾", "塩尾", {1: 0.6}, None),  # the bank is unknown
        ("三井住友", "三営", "三営", {1: 0.6}, None),  # 三宮, 三田, 三鷹, 三木 ...
    ],
)
def test_a_branch_the_bank_does_not_list_takes_the_one_name_a_doubtful_character_allows(
    bank: str, raw: str, value: str, weak: dict[int, float], spelled: str | None
) -> None:
    kind = "bank" if bank == "三井住友" else "shinkin"
    values = _account(bank, value, bank_type=kind)
    values["branch_name"] = _weak("branch_name", raw, value, weak)
    corroborate(load_form("kyufukin"), values)
    fv = values["branch_name"]
    if spelled is None:
        assert fv.value == value and fv.flags == [] and fv.confidence == min([0.99, *weak.values()])
    else:
        assert fv.value == spelled and fv.raw == raw and fv.flags == ["reference_spelling"]
        assert fv.confidence == CONFIRMED and fv.status == "ok"  # 0.99 of the rest, capped


def test_a_branch_written_as_its_shop_takes_its_name() -> None:
    # 北野店: a resident's way of writing 北野支店 (or 支 lost): the name is the list's
    values = _account("神戸", "北野店")
    values["branch_name"] = _weak("branch_name", "北野店", "北野店", {1: 0.7})
    corroborate(load_form("kyufukin"), values)
    assert values["branch_name"].value == "北野" and values["branch_name"].confidence == CONFIRMED


@pytest.mark.parametrize(
    ("raw", "weak", "kind", "branch", "spelled"),
    [
        ("三菱JFJ", {2: 0.6}, "bank", "神戸", "三菱UFJ"),
        ("三菱JFJ銀行", {2: 0.6}, "bank", "神戸", "三菱UFJ"),
        ("三井住", {2: 0.78}, "bank", "三宮", "三井住友"),  # 友 lost after a doubtful 住
        ("三菱JFJ", {2: 0.6}, "shinkin", "神戸", None),  # not of the ticked type
        ("三菱JFJ", {2: 0.6}, "bank", "存在しない", "三菱UFJ"),  # the name alone decides
        ("百日本", {0: 0.6}, "bank", "八戸", "北日本"),  # 北 東 南日本: 八戸 is 北日本's
        ("百日本", {0: 0.6}, "bank", "存在しない", None),  # 北 東 南日本: a person chooses
        ("みずぽ", {1: 0.6, 2: 0.5}, "bank", "神戸", "みずほ"),  # of み?? only みずほ has 神戸
        ("みずぽ", {1: 0.6, 2: 0.5}, "bank", "長田", None),  # みなと has a 長田 too
        ("みずぽ", {1: 0.6, 2: 0.5}, "bank", "存在しない", None),  # two in doubt: not by name alone
        ("三菱JFJ", {0: 0.6}, "bank", "神戸", None),  # the doubt is elsewhere
        ("リそな銀行", {}, "bank", "神戸", "りそな"),  # listed, but for the kana's script
        ("リそな", {}, "shinkin", "神戸", None),  # not of the ticked type
    ],
)
def test_a_bank_the_list_does_not_hold_takes_the_one_name_its_branch_allows(
    raw: str, weak: dict[int, float], kind: str, branch: str, spelled: str | None
) -> None:
    values = _account(raw, branch, bank_type=kind)
    values["bank_name"] = _weak("bank_name", raw, raw.removesuffix("銀行"), weak)
    corroborate(load_form("kyufukin"), values)
    fv = values["bank_name"]
    if spelled is None:
        assert fv.value == raw.removesuffix("銀行") and fv.flags == []
    else:
        assert fv.value == spelled and fv.raw == raw and fv.flags == ["reference_spelling"]
        assert fv.status == "ok"


def _seen(text: str, steps: list[dict[str, float]]) -> Recognition:
    """The engine's reading ``text`` of a crop whose time steps gave these characters
    these probabilities (the rest of each step is the blank's)."""
    classes = ["", *sorted({ch for step in steps for ch in step})]
    probs = np.zeros((len(steps), len(classes)))
    for t, step in enumerate(steps):
        for ch, p in step.items():
            probs[t, classes.index(ch)] = p
        probs[t, 0] = 1.0 - sum(step.values())
    return Recognition(text, 0.8, [0.99] * len(text), lattice=CtcLattice(probs, classes))


_BRANCHES = {
    "北野": frozenset({"北野"}),
    "北野支店": frozenset({"北野"}),
    "北野法人": frozenset({"北野法人"}),
    "北山": frozenset({"北山"}),
    "垂水": frozenset({"垂水"}),
    "東灘": frozenset({"東灘"}),
}


@pytest.mark.parametrize(
    ("read", "steps", "spelled"),
    [
        # 野 dropped: the engine gave it 0.2 against the blank; no other name is near
        ("北", [{}, {"北": 0.99}, {}, {"野": 0.2}, {}], "北野"),
        # 野 and 灘 both faint: the list has no 北灘, so 北野 still
        ("北", [{}, {"北": 0.99}, {}, {"野": 0.2, "灘": 0.2}, {}], "北野"),
        # the engine never saw 野: nothing to choose by
        ("北", [{}, {"北": 0.99}, {}, {"灘": 0.2}, {}], None),
        # a firm 川 where the name has 野: what was written is not the list's
        ("北川", [{}, {"北": 0.99}, {}, {"川": 0.98, "野": 0.01}, {}], None),
        # 野 and 山 equally faint: 北野 or 北山, a person chooses
        ("北", [{}, {"北": 0.99}, {}, {"野": 0.2, "山": 0.2}, {}], None),
    ],
)
def test_the_engines_lattice_chooses_the_listed_branch_it_saw(
    read: str, steps: list[dict[str, float]], spelled: str | None
) -> None:
    found = _as_seen(_seen(read, steps), _written_branches(_BRANCHES))
    if spelled is None:
        assert found is None
    else:
        assert found is not None and found[0] == spelled and AUTO_ACCEPT <= found[1] <= CONFIRMED


def test_a_branch_the_engine_half_dropped_is_the_banks_branch_it_saw() -> None:
    # 神戸信金's 北野, read 北 with the 野 the engine nearly wrote
    values = _account("神戸", "北")
    values["branch_name"] = _weak("branch_name", "北", "北", {0: 0.8})
    values["branch_name"].confidence = 0.6
    seen = {"branch_name": _seen("北", [{}, {"北": 0.99}, {}, {"野": 0.25}, {}])}
    corroborate(load_form("kyufukin"), values, seen)
    fv = values["branch_name"]
    assert (fv.value, fv.raw, fv.flags, fv.status) == ("北野", "北", ["reference_spelling"], "ok")
    # without what the engine saw, the list alone cannot say
    values = _account("神戸", "北")
    values["branch_name"] = _weak("branch_name", "北", "北", {0: 0.8})
    corroborate(load_form("kyufukin"), values)
    assert values["branch_name"].value == "北"
