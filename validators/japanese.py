"""Japanese text rules: width folding, kana, names with variant kanji.

Two kinds of functions live here:

* **folding for values** (:func:`fold_width`, :func:`to_katakana`,
  :func:`normalize_spaces`): what the canonical value of a field may change.
  They keep the glyphs a resident wrote -- 髙 stays 髙, 﨑 (U+FA11) stays 﨑.
* **keys for comparison** (:func:`name_key`, :func:`kana_key`,
  :func:`same_name`, :func:`same_kana`): two names that a clerk would call the
  same give the same key (髙橋 = 高橋, シユウイチ = シュウイチ). Keys are never
  stored as values.
"""

from __future__ import annotations

import re
import unicodedata

import jaconv

FULLWIDTH_SPACE = "\u3000"

#: Small kana and the large kana banks print instead (口座名義: シユウイチ for シュウイチ).
SMALL_TO_LARGE = str.maketrans("ァィゥェォッャュョヮヵヶ", "アイウエオツヤユヨワカケ")

#: Every way a long vowel mark or a dash is written or read in a kana field.
_LONG_VOWELS = "ー－-‐‑‒–—―─━ｰ~～〜−"
_LONG_VOWEL_RE = re.compile("[" + re.escape(_LONG_VOWELS) + "]")

#: Old and variant kanji (旧字・異体字) and the common form a registry match uses.
#: Only the comparison key uses this table; values keep what was written.
VARIANT_KANJI: dict[str, str] = {
    "髙": "高",
    "﨑": "崎",
    "嵜": "崎",
    "碕": "崎",
    "邊": "辺",
    "邉": "辺",
    "齋": "斎",
    "齊": "斎",
    "斉": "斎",
    "濱": "浜",
    "櫻": "桜",
    "廣": "広",
    "德": "徳",
    "澤": "沢",
    "濵": "浜",
    "國": "国",
    "實": "実",
    "眞": "真",
    "藏": "蔵",
    "冨": "富",
    "來": "来",
    "惠": "恵",
    "瀨": "瀬",
    "槇": "槙",
    "嶋": "島",
    "嶌": "島",
    "條": "条",
    "淺": "浅",
    "曾": "曽",
    "圓": "円",
    "澁": "渋",
    "彌": "弥",
    "龍": "竜",
    "峯": "峰",
    "埜": "野",
    "兒": "児",
    "榮": "栄",
    "禮": "礼",
    "壽": "寿",
    "龜": "亀",
    "靜": "静",
    "綠": "緑",
    "萬": "万",
    "驒": "騨",
    "﨔": "欅",
    "舘": "館",
    "籠": "篭",
    "晉": "晋",
    "豐": "豊",
    "傳": "伝",
    "邨": "村",
    "黑": "黒",
}
_VARIANT_TABLE = str.maketrans(VARIANT_KANJI)

_SPACES_RE = re.compile(r"[\s\u3000]+")


def _is_compat_ideograph(ch: str) -> bool:
    # CJK Compatibility Ideographs (and the supplement): NFKC would replace
    # them by their unified forms, which changes what the resident wrote.
    cp = ord(ch)
    return 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F


def fold_width(text: str) -> str:
    """NFKC except for CJK compatibility ideographs, which are kept as written.

    Full-width digits and Latin letters become ASCII, half-width katakana
    become full-width (ｶﾞ → ガ), the full-width space becomes a space. 﨑
    (U+FA11) and other compatibility ideographs are left alone.
    """
    out: list[str] = []
    run: list[str] = []
    for ch in text:
        if _is_compat_ideograph(ch):
            if run:
                out.append(unicodedata.normalize("NFKC", "".join(run)))
                run = []
            out.append(ch)
        else:
            run.append(ch)
    if run:
        out.append(unicodedata.normalize("NFKC", "".join(run)))
    return "".join(out)


def normalize_spaces(text: str) -> str:
    """Strip, and make every run of blanks inside one full-width space (姓と名の間)."""
    return _SPACES_RE.sub(FULLWIDTH_SPACE, text.strip())


def to_katakana(text: str) -> str:
    """Hiragana and half-width katakana to full-width katakana; dashes to ー.

    Blanks become one full-width space. Other characters are kept, so the
    caller can tell whether the result is all katakana.
    """
    text = fold_width(text)  # half-width kana → full-width, NFKC composes ｶﾞ
    text = jaconv.hira2kata(text)
    text = _LONG_VOWEL_RE.sub("ー", text)
    return normalize_spaces(text)


_KATAKANA_RE = re.compile(r"^[\u30A1-\u30FA\u30FC\u30FD\u30FE\u30FB\u3000]+$")


def is_katakana(text: str) -> bool:
    """Whether ``text`` is full-width katakana (with ー, ・ and full-width spaces) only."""
    return bool(_KATAKANA_RE.match(text))


def kana_key(text: str, *, fold_small: bool = True) -> str:
    """Comparison key of a kana string: katakana, no spaces or ・, one long-vowel sign.

    With ``fold_small`` the small kana are read as large ones, as banks print
    them (シユウイチ = シュウイチ).
    """
    key = to_katakana(text)
    key = _SPACES_RE.sub("", key).replace("・", "")  # ・ separates like a space
    if fold_small:
        key = key.translate(SMALL_TO_LARGE)
    return key


def same_kana(a: str | None, b: str | None, *, fold_small: bool = True) -> bool:
    """Whether two kana names are the same (spaces, width, long vowels, small kana folded)."""
    if a is None or b is None:
        return False
    return kana_key(a, fold_small=fold_small) == kana_key(b, fold_small=fold_small)


def name_key(text: str) -> str:
    """Comparison key of a written name: NFKC, variant kanji folded, no spaces."""
    key = unicodedata.normalize("NFKC", text)
    key = key.translate(_VARIANT_TABLE)
    return _SPACES_RE.sub("", key)


def same_name(a: str | None, b: str | None) -> bool:
    """Whether two written names are the same person's name as a clerk would read them.

    Old and variant kanji count as their common forms (髙/高, 﨑/崎,
    邊/邉/辺, 齋/斎/斉 …) and spaces are ignored.
    """
    if a is None or b is None:
        return False
    return name_key(a) == name_key(b)


_KANJI_DIGITS = str.maketrans("〇零一二三四五六七八九", "00123456789")
_KANJI_NUMBER_RE = re.compile(r"[〇零一二三四五六七八九十]+")


def _kanji_number(match: re.Match[str]) -> str:
    text = match.group(0)
    if "十" not in text:
        return text.translate(_KANJI_DIGITS)
    tens, _, ones = text.partition("十")
    value = (int(tens.translate(_KANJI_DIGITS)) if tens else 1) * 10
    value += int(ones.translate(_KANJI_DIGITS)) if ones else 0
    return str(value)


def kanji_numerals_to_digits(text: str) -> str:
    """``令和二年五月十日`` → ``令和2年5月10日`` (numbers below 100, as dates have)."""
    return _KANJI_NUMBER_RE.sub(_kanji_number, text)
