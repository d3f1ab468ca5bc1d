"""Per-field character sets: what a recogniser may return for a field.

A field's charset is its ``charset`` in form.yaml, else follows from its kind.
The sets are plain strings of allowed characters (:data:`ocr.engine.Charset`):

* ``digits`` -- ``0-9``; ``phone`` -- ``0-9`` and ``-``;
* ``kana`` -- full-width katakana including the small ones (ァ ッ ャ ヵ ...), ``ー``
  and the full-width space;
* ``text`` -- every character of JIS X 0213 (the characters the ``euc_jis_2004``
  codec encodes, half-width katakana excepted), plus :data:`EXTRA_TEXT`,
  minus :data:`EXCLUDED_TEXT`.
  Simplified Chinese forms such as 纳 or 宫 are not in JIS X 0213, so a
  Chinese-trained model cannot put them into a Japanese name or address.

Variant glyphs of names (異体字). The registry holds surnames with 髙
(U+9AD9) and 﨑 (U+FA11), both IBM extension kanji. 﨑 is in JIS X 0213
(plane 1) and so in ``text``, but the PP-OCR dictionary has no 﨑, so no
model output can hold it. 髙 is *not* in JIS X 0213 but is in the model's
dictionary and written on real forms, so it is allowed explicitly: it is the
one deliberate exception (see ocr/README.md).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from functools import cache

from forms.schema import Charset as CharsetName
from forms.schema import FieldSpec, Kind
from ocr.engine import Charset

DIGITS = "0123456789"
PHONE = DIGITS + "-"
KATAKANA = "".join(chr(c) for c in range(0x30A1, 0x30FB))  # ァ … ヺ, small kana included
KANA = KATAKANA + "ー\u3000"
EXTRA_TEXT = "髙"
"""Characters outside JIS X 0213 that Japanese names need (IBM extension kanji)."""
EXCLUDED_TEXT = "·"
"""JIS X 0213 characters a Japanese form never holds but a model confuses with one
that it does: the Latin middle dot (U+00B7) is written ・ (U+30FB) here."""


@cache
def jis_x_0213() -> str:
    """Every single character of JIS X 0213 (plus ASCII), from the ``euc_jis_2004`` codec.

    Decoding every 2- and 3-byte code point takes ~25 ms, against ~0.4 s for
    testing every Unicode code point with ``encode``.
    """
    chars = {chr(b) for b in range(0x20, 0x7F)}
    for hi in range(0xA1, 0xFF):
        for lo in range(0xA1, 0xFF):
            for seq in (bytes((hi, lo)), bytes((0x8F, hi, lo))):
                try:
                    text = seq.decode("euc_jis_2004")
                except UnicodeDecodeError:
                    continue
                if len(text) == 1:  # some code points are combining sequences
                    chars.add(text)
    return "".join(sorted(chars))


@cache
def text_charset() -> str:
    return "".join(sorted((set(jis_x_0213()) | set(EXTRA_TEXT)) - set(EXCLUDED_TEXT)))


_DASHES = "-－−‐―—一ｰ"
_DIGIT_DOT = re.compile(r"(?<=[0-9])\s*[•·∙●.．･°˚:：]\s*(?=[0-9])")

#: Old character forms (旧字体) and the forms official writing uses today (新字体).
#: A recogniser trained on Chinese text reads 区 as 區 and 会 as 會; addresses and
#: the names of clinics or insurers are written in today's forms. People's names
#: keep theirs (their glyphs are as written, see ocr/preprinted.py).
OLD_FORMS = str.maketrans(
    "區國會學號險醫縣靜齡髓腦黑藝體與舊來團圖壽實寫廳樂營縱證鐵驛發變價"
    "兒勞圓鹽應歐假擧據劍險檢權顯關歸氣僞戲曉狹鄕緣遞轉傳當黨燈鬪獨讀賣"
    "拔鉢濱佛拂辨邊寶豐萬滿默藥譯豫餘搖樣謠覽亂龍兩獵禮勵靈曆歷爐勞錄灣增德莊",
    "区国会学号険医県静齢髄脳黒芸体与旧来団図寿実写庁楽営縦証鉄駅発変価"
    "児労円塩応欧仮挙拠剣険検権顕関帰気偽戯暁狭郷縁逓転伝当党灯闘独読売"
    "抜鉢浜仏払弁辺宝豊万満黙薬訳予余揺様謡覧乱竜両猟礼励霊暦歴炉労録湾増徳荘",
)


def today_forms(text: str) -> str:
    """Old character forms replaced by today's (區 → 区); for text other than names."""
    return text.translate(OLD_FORMS)


_KATA_DASH = re.compile(rf"(?<=[ァ-ヺ])[{_DASHES}](?=[ァ-ヺー])")
_CHOME = re.compile(r"(?<=[0-9０-９])(?:丁[日HＨ]|[JＪ][目日])(?=[0-9０-９])")
_DIGIT_DASH = re.compile(r"(?<=[0-9０-９])[一ー―—](?=[0-9０-９])")


def tidy_text(text: str) -> str:
    """Undo the look-alike slips a line recogniser makes in Japanese text.

    A dash after a katakana is the long vowel mark (ワコ-レ → ワコーレ); the kanji
    一 or a long vowel mark between two digits is a hyphen (10一14 → 10-14); a
    dot between two digits is the Japanese middle dot (1234.567 → 1234・567,
    as insurance card numbers are written); an address's 丁目 read as 丁日, 丁H
    or J目 is 丁目 (3丁日8番 → 3丁目8番).
    """
    text = _KATA_DASH.sub("ー", text)
    text = _DIGIT_DOT.sub("・", text)
    text = _CHOME.sub("丁目", text)
    return _DIGIT_DASH.sub("-", text)


_KANA_TWINS = "ロエカニハタトー"
_KANJI_TWINS = "口工力二八夕卜一"
TWINS = dict(zip(_KANA_TWINS + _KANJI_TWINS, _KANJI_TWINS + _KANA_TWINS, strict=True))
"""Katakana and kanji that are drawn alike (ロ/口, カ/力, ー/一 ...)."""


def _script(ch: str) -> str:
    if "\u30a1" <= ch <= "\u30fc":
        return "kana"
    if "\u4e00" <= ch <= "\u9fff" or ch in "々〆":
        return "kanji"
    return "other"


def settle_twins(text: str, names: Collection[str] = ()) -> tuple[str, bool]:
    """Katakana/kanji look-alikes decided by their neighbours; whether one stays in doubt.

    ロ between kanji is 口, 口 between katakana is ロ (the recogniser sees the
    same strokes). A run of look-alikes (タ一 in センタ一久保) is decided as
    one by the characters on either side of it. Where those disagree
    (井ロクリニック, 台帳力一ド: a kanji on one side, katakana on the other) the
    reading is left as it is and the doubt is reported, for a person to decide
    -- except a run after katakana and before a kanji that ends in ー/一 (a
    long vowel sign ends the katakana word it lengthens: センター久保) or that
    was read as katakana (the end of the word: ロイヤルコート星が丘), and a run
    of two or more after a kanji and before katakana that ends in ー/一 (the
    katakana word starts there and the sign lengthens it: 住民基本台帳カード). A lone ー
    after a kanji is 一 (須磨区ーノ谷町): nothing after a kanji is lengthened.
    And a lone twin after kanji and before katakana is the kanji when the
    kanji before it and it end one of ``names`` (family names: 谷ロクリニック is
    谷口クリニック when 谷口 is a name the city knows).
    """
    out = list(text)
    doubt = False
    i = 0
    while i < len(text):
        if text[i] not in TWINS:
            i += 1
            continue
        end = i
        while end < len(text) and text[end] in TWINS:
            end += 1
        left = _script(text[i - 1]) if i > 0 else "other"
        right = _script(text[end]) if end < len(text) else "other"
        if left == "kanji" and end == i + 1 and text[i] == "ー":
            out[i] = "一"  # a long vowel mark lengthens a kana, never a kanji: 区ーノ谷 is 区一ノ谷
            i = end
            continue
        sides = {left, right} - {"other"}
        if left == "kana" and right == "kanji" and text[end - 1] in "ー一":
            sides = {"kana"}
        if left == "kana" and right == "kanji" and all(_script(c) == "kana" for c in text[i:end]):
            sides = {"kana"}  # read as the end of the katakana word: コート星が丘
        if left == "kanji" and right == "kana" and end - i > 1 and text[end - 1] in "ー一":
            sides = {"kana"}  # a long vowel sign inside the katakana word it starts: 台帳カード
        if left == "kanji" and right == "kana" and end == i + 1 and _ends_name(text, i, names):
            sides = {"kanji"}  # the end of a family name: 谷口クリニック
        if len(sides) == 1:
            want = sides.pop()
            for j in range(i, end):
                if _script(text[j]) != want:
                    out[j] = TWINS[text[j]]
        elif len(sides) > 1:
            doubt = True
        i = end
    return "".join(out), doubt


def _ends_name(text: str, at: int, names: Collection[str]) -> bool:
    """Whether the kanji before ``text[at]`` and its kanji twin end one of ``names``."""
    if not names:
        return False
    twin = text[at] if _script(text[at]) == "kanji" else TWINS[text[at]]
    start = at
    while start > 0 and _script(text[start - 1]) == "kanji":
        start -= 1
    return any(text[k:at] + twin in names for k in range(start, at))


def jis_level(ch: str) -> int:
    """How common a character is in Japanese writing, by its JIS level.

    0 -- not a kanji (kana, digits, symbols, Latin); 1 -- JIS X 0208 level 1 kanji
    (the common ones: 区, 国, 会); 2 -- level 2 kanji (区's old form 區, rare name
    kanji such as 翔, 颯); 3 -- only in JIS X 0213 or outside it (增, 德, 髙).
    """
    try:
        code = ch.encode("shift_jis")
    except UnicodeEncodeError:
        return 3
    if len(code) != 2:
        return 0
    value = code[0] << 8 | code[1]
    if value < 0x889F:
        return 0
    return 1 if value <= 0x9872 else 2


def named(name: CharsetName | str) -> Charset:
    """The allowed characters of a named charset (``None`` for ``any``)."""
    name = CharsetName(name)
    if name is CharsetName.DIGITS:
        return DIGITS
    if name is CharsetName.PHONE:
        return PHONE
    if name is CharsetName.KANA:
        return KANA
    if name is CharsetName.TEXT:
        return text_charset()
    return None


_BY_KIND = {
    Kind.DIGITS: CharsetName.DIGITS,
    Kind.DATE: CharsetName.DIGITS,
    Kind.KANA: CharsetName.KANA,
    Kind.TEXT: CharsetName.TEXT,
    Kind.PREPRINTED: CharsetName.TEXT,
}


def field_charset(spec: FieldSpec) -> Charset:
    """The charset a recogniser must keep to when reading ``spec``."""
    if spec.charset is not None:
        return named(spec.charset)
    name = _BY_KIND.get(spec.kind)
    return named(name) if name is not None else None
