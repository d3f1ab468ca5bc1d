"""The reader's text rules: charsets, look-alikes, word gaps, small kana, lists, pre-print."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from forms.loader import load_form
from ocr import charsets
from ocr.engine import Recognition
from ocr.fields import (
    Draft,
    Part,
    digit_gaps,
    finish_text,
    kana_sizes,
    plausible,
    raw_text,
    snap,
    spell_small_kana,
    with_dashes,
    with_dots,
    with_space,
)
from ocr.preprinted import luhn_ok, registry_glyphs, registry_value
from ocr.regions import _dots, _flat_columns
from shinsei.residents import registry


def test_charsets_follow_the_field() -> None:
    kaigo = load_form("kaigo_nintei")
    assert charsets.field_charset(kaigo.field("my_number")) == charsets.DIGITS
    assert charsets.field_charset(kaigo.field("phone")) == charsets.PHONE
    kana = charsets.field_charset(kaigo.field("name_kana"))
    assert kana is not None and "ョ" in kana and "\u3000" in kana and "力" not in kana
    text = charsets.field_charset(kaigo.field("address"))
    assert text == charsets.text_charset()
    assert "ｱ" not in text  # half-width kana are not in the text set
    assert "·" not in text and "・" in text


def test_tidy_text_fixes_look_alike_marks() -> None:
    assert charsets.tidy_text("ワコ-レ10一14") == "ワコーレ10-14"
    assert charsets.tidy_text("77056518 .396") == "77056518・396"
    assert charsets.tidy_text("76641020●8438") == "76641020・8438"  # a dot written large
    assert charsets.tidy_text("1-21-6") == "1-21-6"
    assert charsets.tidy_text("中郷町5J目6番13号") == "中郷町5丁目6番13号"


def test_twins_are_decided_by_their_neighbours() -> None:
    assert charsets.settle_twins("エ業") == ("工業", False)
    assert charsets.settle_twins("クリ二ック") == ("クリニック", False)
    assert charsets.settle_twins("ワコーレ") == ("ワコーレ", False)
    assert charsets.settle_twins("井ロクリニック") == ("井ロクリニック", True)  # left to a person
    assert charsets.settle_twins("ケアプランセンタ一久保") == ("ケアプランセンター久保", False)
    assert charsets.settle_twins("金子一郎") == ("金子一郎", False)
    assert charsets.settle_twins("台帳力一ド") == ("台帳カード", False)  # ー starts no word
    assert charsets.settle_twins("井ロクリニック")[1]  # one twin between kanji and kana
    names = {"井口", "谷口"}  # family names the city knows: the twin ends one
    assert charsets.settle_twins("井ロクリニック", names) == ("井口クリニック", False)
    assert charsets.settle_twins("長谷ロクリニック", names) == ("長谷口クリニック", False)
    assert charsets.settle_twins("森ロクリニック", names)[1]  # 森口: not a name it knows
    assert charsets.settle_twins("ロイヤルコート星が丘") == ("ロイヤルコート星が丘", False)
    assert charsets.settle_twins("ロイヤルコー卜星が丘")[1]  # read as a kanji: a person decides
    assert charsets.settle_twins("須磨区ーノ谷町") == ("須磨区一ノ谷町", False)
    assert charsets.tidy_text("32752361:1074") == "32752361・1074"  # a ・ read as a colon
    assert charsets.settle_twins("区ーノ谷")[0] == "区一ノ谷"


def test_old_forms_become_todays_outside_names() -> None:
    assert charsets.today_forms("神戸市西區 公立學校共済組合") == "神戸市西区 公立学校共済組合"
    assert charsets.today_forms("增田整形外科") == "増田整形外科"  # the recogniser's 增
    assert charsets.jis_level("区") == 1 and charsets.jis_level("區") == 2
    assert charsets.jis_level("髙") == 3 and charsets.jis_level("カ") == 0


def line(text: str, spans: list[tuple[float, float]]) -> Recognition:
    return Recognition(text, 0.99, [0.99] * len(text), spans)


def test_a_name_gets_one_space_in_its_widest_gap_between_characters() -> None:
    # 五十嵐　勉: the widest gap lies between 嵐 and 勉, not inside 十
    part = Part("", space="\u3000", gaps=[(150, 210), (40, 52)], height=60, width=300)
    r = line("五十嵐勉", [(0.05, 0.1), (0.25, 0.3), (0.4, 0.45), (0.82, 0.87)])
    assert with_space(part, r) == ("五十嵐\u3000勉", 1.0)


def test_free_text_keeps_numbers_and_katakana_words_whole() -> None:
    part = Part("", space=" ", min_gap=0.6, min_ratio=2.0, gaps=[(110, 140)], height=50, width=300)
    centres = [10, 40, 70, 100, 150, 180, 210, 240]
    digits = line("12345678", [(c / 300, c / 300) for c in centres])
    text, sure = with_space(part, digits)
    assert text == "12345678" and sure < 0.8  # a wide gap between digits: a missed mark?
    part.dots = [125.0]
    dotted = with_dots(part, digits)
    assert dotted.text == "1234・5678"


def test_a_dot_the_recogniser_read_weakly_is_sure_where_the_ink_shows_one() -> None:
    part = Part("", space=" ", min_gap=0.6, min_ratio=2.0, gaps=[], height=50, width=300)
    centres = [10, 40, 70, 100, 125, 150, 180, 210, 240]
    read = Recognition(
        "1234.5678", 0.56, [1.0] * 4 + [0.56] + [1.0] * 4, [(c / 300, c / 300) for c in centres]
    )
    assert with_dots(part, read).confidence == 0.56  # no blob: the dot stays doubtful
    part.dots = [126.0]
    assert with_dots(part, read).confidence == 0.9
    # a second blob where nothing was read: a broken stroke as likely as a dot
    part.dots = [55.0, 126.0]
    twice = with_dots(part, read)
    assert twice.text == "12・34.5678" and twice.confidence < 0.85
    plain = Recognition(
        "12345678", 0.7, [1.0] * 8, [(c / 300, c / 300) for c in centres[:4] + centres[5:]]
    )
    assert with_dots(part, plain).text == "12・34・5678"
    assert with_dots(part, plain).confidence < 0.85  # two put back: one may be a broken stroke
    part.dots = [126.0]
    assert with_dots(part, plain).confidence == 0.9


def test_small_kana_in_combs_by_written_size() -> None:
    # キヨウコ written with ヨ at its usual size, ョ at two thirds
    assert kana_sizes("キヨウコ", [40, 36, 40, 38])[0] == "キヨウコ"
    assert kana_sizes("キヨウコ", [40, 26, 40, 38])[0] == "キョウコ"
    assert kana_sizes("キョウコ", [40, 36, 40, 38])[0] == "キヨウコ"
    assert kana_sizes("キヨウコ", [40, 30, 40, 38])[1] < 0.8  # in between: doubted
    # where Japanese spelling allows no small kana, it is large whatever its size
    assert kana_sizes("ツヨシ", [40, 26, 40]) == ("ツヨシ", 1.0)
    assert kana_sizes("ョシムラ", [26, 40, 40, 40]) == ("ヨシムラ", 1.0)
    assert kana_sizes("カツャ", [40, 40, 40]) == ("カツヤ", 1.0)
    assert kana_sizes("ハツトリ", [40, 26, 40, 40])[0] == "ハットリ"
    assert kana_sizes("イヶダ", [40, 40, 40])[0] == "イケダ"
    assert kana_sizes("タッヤ", [40, 26, 40])[0] == "タツヤ"  # no ッ before a y sound


def test_kana_fields_only_hold_small_kana_where_spelling_allows() -> None:
    assert spell_small_kana("コャマ\u3000カツヤ") == "コヤマ\u3000カツヤ"
    assert spell_small_kana("ハットリ\u3000ショウ") == "ハットリ\u3000ショウ"
    assert (
        spell_small_kana("ウェダ\u3000ュミ") == "ウェダ\u3000ユミ"
    )  # ウェ is spelling; ュ starts no word


def test_dates_read_as_wareki_text() -> None:
    spec = load_form("kaigo_nintei").field("birth_date")
    assert raw_text(spec, {"year": "41", "month": "02", "day": "11"}, "showa") == "昭和41年02月11日"
    assert raw_text(spec, {"year": "", "month": "", "day": ""}, "showa") is None


def test_phone_numbers_must_have_three_groups() -> None:
    spec = load_form("kaigo_nintei").field("phone")
    assert plausible(spec, "078-868-0705")
    assert not plausible(spec, "078-8680705")


def test_closed_lists_snap_only_when_clear() -> None:
    spec = load_form("kaigo_nintei").field("specified_disease")
    assert snap(spec, "脊髓小腦変性症", 0.5)[0] == "脊髄小脳変性症"
    assert snap(spec, "風邪", 0.5) == ("風邪", 0.5)
    # spelled exactly as listed, and far from every other listed name: sure
    assert snap(spec, "脊髄小脳変性症", 0.8) == ("脊髄小脳変性症", 0.99)


def test_preprint_comes_from_the_registry() -> None:
    spec = load_form("kyufukin")
    household = next(h for h in registry().households.values() if len(h.members) >= 2)
    number = household.applicant_no
    assert luhn_ok(number) and luhn_ok("0941197584")
    assert not luhn_ok(number[:-1] + str((int(number[-1]) + 1) % 10))
    address = registry_value(spec.field("head_address"), household)
    assert address == f"〒{household.postal_code} {household.address}"
    assert registry_value(spec.field("member_2_name"), household) == household.members[1].name
    assert registry_value(spec.field("member_5_name"), household) is (
        None if len(household.members) < 5 else household.members[4].name
    )


def test_registry_glyphs_only_for_variant_spellings() -> None:
    member = next(m for m in registry().members() if "﨑" in m.name)
    read = member.name.replace("﨑", "崎")
    assert registry_glyphs(read, member) == member.name
    assert registry_glyphs("別人\u3000太郎", member) is None


def test_a_printed_dot_is_found_between_the_digits_and_a_dash_is_not() -> None:
    ink = np.zeros((33, 200), np.uint8)
    ink[2:31, 10:20] = 1  # a digit's stem, the line's height
    cv2.circle(ink, (60, 16), 5, 1, -1)  # a printed ・: 11 px across, a third of the line
    ink[15:19, 100:112] = 1  # a dash at mid-height
    cv2.circle(ink, (150, 16), 8, 1, -1)  # a blob half the line high: a character's part
    assert _dots(ink, 33.0) == [pytest.approx(60.0, abs=1)]


def test_a_hyphen_the_ink_shows_between_two_digits_is_put_back() -> None:
    # 078-714 4348 read with the second hyphen lost; it touches both 4s in the ink
    centres = [19, 55, 78, 102, 126, 161, 196, 244, 279, 302, 338]
    read = Recognition(
        "078-7144348", 0.5, [1.0] * 11, [((c - 5) / 347, (c + 5) / 347) for c in centres]
    )
    ink = np.zeros((51, 347), np.uint8)
    for c in centres:
        ink[5:46, c - 8 : c + 8] = 1  # the characters, the line's full height
    ink[30:34, 204:236] = 1  # the hyphen, thin, a little below the middle
    part = Part("", height=45.0, width=347, flat=_flat_columns(ink, 45.0))
    dashed = with_dashes(part, read)
    assert dashed.text == "078-714-4348" and dashed.confidence == 0.9
    part.flat = _flat_columns(np.where(np.arange(347) > 200, 0, ink).astype(np.uint8), 45.0)
    assert with_dashes(part, read) == read  # no stroke in the step: as read
    tight = Recognition("0787144348", 0.5, [1.0] * 10, read.spans[:3] + read.spans[4:])
    part.flat = _flat_columns(ink, 45.0)
    assert with_dashes(part, tight).text == "0787144348"  # one hyphen short: not a phone's shape


def test_one_character_alone_is_no_name() -> None:
    spec = next(f for f in load_form("kaigo_nintei").fields if f.id == "applicant_name")
    assert not plausible(spec, "一")  # a stray stroke in a blank box
    assert plausible(spec, "吉田　勇")


def _spaced(*centres: float, width: int = 400) -> list[tuple[float, float]]:
    return [((c - 8) / width, (c + 8) / width) for c in centres]


def test_digits_wide_apart_are_doubted_only_where_a_mark_had_room() -> None:
    # two narrow 1s at the line's usual pitch leave a wide blank: nothing is missing there
    part = Part("", space=" ", gaps=[(58, 82)], height=42, width=400)
    ones = Recognition("11446", 0.99, [0.99] * 5, _spaced(50, 90, 130, 170, 210))
    assert not digit_gaps(part, ones)
    # the same blank where the digits stand two steps apart: a ・ or - may be lost
    part = Part("", space=" ", gaps=[(138, 202)], height=42, width=400)
    apart = Recognition("11446", 0.99, [0.99] * 5, _spaced(50, 90, 130, 210, 250))
    assert digit_gaps(part, apart)


@pytest.mark.parametrize(
    ("read", "confs", "doubt", "value", "sure"),
    [
        # the hyphens' place follows from 078's numbering: a weak one is no doubt
        (
            "078-335-7432",
            [1.0, 1.0, 1.0, 0.61, 1.0, 1.0, 1.0, 0.5, 0.96, 1.0, 1.0, 1.0],
            0.0,
            "078-335-7432",
            0.96,
        ),
        # none read at all: the plan puts them where they go
        ("0783430366", [1.0] * 10, 0.1, "078-343-0366", 0.9),
        # a weak digit stays a doubt
        (
            "078-335-7432",
            [1.0, 1.0, 1.0, 1.0, 0.61, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
            0.0,
            "078-335-7432",
            0.61,
        ),
        # no number of the plan (one digit short): the weak hyphen counts
        (
            "078-335-743",
            [1.0, 1.0, 1.0, 0.61, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
            0.0,
            "078-335-743",
            0.5,
        ),
    ],
)
def test_a_phone_numbers_hyphens_are_the_numbering_plans(
    read: str, confs: list[float], doubt: float, value: str, sure: float
) -> None:
    spec = load_form("kaigo_nintei").field("doctor_phone")
    reading = Recognition(read, min([*confs, 1 - doubt]), confs, None, doubt=doubt)
    fv = finish_text(Draft(spec, [Part("", segments=[0])]), [reading], None)
    assert fv.value == value
    assert fv.confidence == pytest.approx(sure)
