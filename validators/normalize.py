"""Normalisers: what was read or typed → the canonical value of the data dictionary.

The canonical values are those of the ``conventions`` block of every
``forms/<form_id>/dictionary.yaml``: dates ``YYYY-MM-DD``, digits ASCII,
phone numbers ASCII digits with hyphens between the groups, kana full-width
katakana with one full-width space between family and given name, names
with one full-width space and the glyphs as written, text NFKC and
stripped, blank → ``None``.

:func:`normalize_field` is the one entry point OCR and the review import
call. It picks the normaliser named by the field's ``normalize`` key, or one
by the field's kind and charset. A value the field cannot hold (letters in a
digits field, 2月30日) raises :class:`InvalidValue`, which names the field
and says in Japanese what is wrong; OCR turns it into a field for review.

Each normaliser is registered by name (``register_normalizer``) so a
form.yaml can choose it; each takes the text and returns the canonical value,
raising ``ValueError`` with a Japanese message when the text cannot be one.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

from forms.schema import FieldSpec, Kind
from shinsei.errors import BusinessError
from validators.japanese import (
    fold_width,
    is_katakana,
    normalize_spaces,
    to_katakana,
)
from validators.registry import normalizer, register_normalizer
from validators.wareki import parse_date


class InvalidValue(BusinessError):
    """A value the field cannot hold; ``message_ja`` says why, for the reviewer."""

    def __init__(self, field_id: str, message_ja: str) -> None:
        super().__init__(f"{field_id}: {message_ja}")
        self.field_id = field_id
        self.message_ja = message_ja


# -- the named normalisers ---------------------------------------------------


@register_normalizer("text")
def normalize_text(raw: str) -> str | None:
    """NFKC (compatibility ideographs kept as written), surrounding blanks removed."""
    value = fold_width(raw).strip()
    return value or None


@register_normalizer("name")
def normalize_name(raw: str) -> str | None:
    """A person's name: width folded, one full-width space between family and given name.

    The glyphs stay as written: 髙 stays 髙 and 﨑 (U+FA11) is not turned into 崎.
    """
    value = normalize_spaces(fold_width(raw))
    return value or None


@register_normalizer("kana")
def normalize_kana(raw: str) -> str | None:
    """Full-width katakana (hiragana and half-width kana converted), one full-width space."""
    value = to_katakana(raw)
    if not value:
        return None
    if not is_katakana(value):
        bad = "".join(sorted({ch for ch in value if not is_katakana(ch)}))
        raise ValueError(f"カタカナ以外の文字（{bad}）が含まれています")
    return value


_DIGIT_SEPARATORS = re.compile(r"[\s\-‐－ー−―・.,/〒]")


@register_normalizer("digits")
def normalize_digits(raw: str) -> str | None:
    """ASCII digits only, as written (short stays short); separators dropped."""
    value = _DIGIT_SEPARATORS.sub("", fold_width(raw))
    if not value:
        return None
    if not value.isascii() or not value.isdigit():
        raise ValueError(f"数字以外の文字が含まれています（{value}）")
    return value


@register_normalizer("postal_code")
def normalize_postal_code(raw: str) -> str | None:
    """A postal code as 7 ASCII digits without the hyphen (〒 and hyphens dropped)."""
    return normalize_digits(raw)


_PHONE_GROUP_SEP = re.compile(r"[\s\-‐－ー−―()（）・.]+")


@register_normalizer("phone")
def normalize_phone(raw: str) -> str | None:
    """ASCII digits with one hyphen between the groups (``078-123-4567``).

    The groups are the Japanese numbering plan's when the digits are a number
    it holds (0783430366 → 078-343-0366, 09012345678 → 090-1234-5678: where a
    hyphen goes follows from the area code), else as written.
    """
    text = fold_width(raw).strip()
    groups = [g for g in _PHONE_GROUP_SEP.split(text) if g]
    if not groups:
        return None
    value = "-".join(groups)
    if not all(g.isascii() and g.isdigit() for g in groups):
        raise ValueError(f"電話番号に数字以外の文字が含まれています（{value}）")
    return on_numbering_plan("".join(groups)) or value


def on_numbering_plan(digits: str) -> str | None:
    """``digits`` grouped as the Japanese numbering plan groups them; ``None`` when
    they are no number the plan holds (too short, too long, no such area code).
    """
    import phonenumbers

    if not (digits.isascii() and digits.isdigit()) or not digits.startswith("0"):
        return None
    try:
        number = phonenumbers.parse(digits, "JP")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    grouped = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return grouped if grouped.replace("-", "") == digits else None


@register_normalizer("wareki_date")
def normalize_wareki_date(raw: str) -> str | None:
    """A 和暦 or 西暦 date as ``YYYY-MM-DD`` (see :mod:`validators.wareki`)."""
    if not raw.strip():
        return None
    return parse_date(raw).isoformat()


#: Type words that follow a bank's name; the dictionary's value is the name without them.
BANK_SUFFIXES = (
    "農業協同組合",
    "信用金庫",
    "信用組合",
    "労働金庫",
    "銀行",
    "信金",
    "信組",
    "農協",
    "労金",
)
#: Type words that follow a branch's name.
BRANCH_SUFFIXES = ("営業部", "出張所", "支店", "本店", "支所")


def strip_suffix(name: str, suffixes: tuple[str, ...]) -> str:
    """``name`` without its trailing type words, unless nothing would be left (本店 stays)."""
    stripped = True
    while stripped:
        stripped = False
        for suffix in suffixes:
            if name.endswith(suffix) and len(name) > len(suffix):
                name = name[: -len(suffix)]
                stripped = True
                break
    return name


def _without_spaces(raw: str) -> str:
    # folded again: a space taken out may join a letter and a combining mark (A ´ → Á)
    return fold_width(fold_width(raw).replace(" ", "").replace("\u3000", ""))


@register_normalizer("bank_name")
def normalize_bank_name(raw: str) -> str | None:
    """A financial institution's name without its type (三井住友銀行 → 三井住友)."""
    value = _without_spaces(raw)
    if not value:
        return None
    return strip_suffix(value, BANK_SUFFIXES)


@register_normalizer("branch_name")
def normalize_branch_name(raw: str) -> str | None:
    """A branch's name without its type (三宮支店 → 三宮; 本店 stays 本店)."""
    value = _without_spaces(raw)
    if not value:
        return None
    return strip_suffix(value, BRANCH_SUFFIXES)


_ADDRESS_DASH = re.compile(r"(?<=\d)\s*[‐－ー−―—–ｰ]\s*(?=\d)")


@register_normalizer("address")
def normalize_address(raw: str) -> str | None:
    """An address as written, width folded, dashes between numbers as ``-`` (3ー4ー5 → 3-4-5)."""
    value = fold_width(raw).strip()
    value = _ADDRESS_DASH.sub("-", value)
    value = re.sub(r"\s+", " ", value)
    return value or None


# -- choosing a normaliser and the marks -------------------------------------

_TRUE_WORDS = {
    "true",
    "1",
    "yes",
    "y",
    "✓",
    "✔",
    "レ",
    "○",
    "◯",
    "〇",
    "x",
    "×",
    "●",
    "■",
    "あり",
    "有",
}
_FALSE_WORDS = {"false", "0", "no", "n", "なし", "無", ""}


def _default_normalizer(spec: FieldSpec) -> str:
    """The normaliser of a field whose form.yaml does not name one."""
    kind = spec.kind
    if kind is Kind.DATE:
        return "wareki_date"
    if kind is Kind.KANA:
        return "kana"
    if kind is Kind.DIGITS:
        return "digits"
    if spec.charset is not None and spec.charset.value == "phone":
        return "phone"
    if spec.charset is not None and spec.charset.value == "digits":
        return "digits"
    if kind is Kind.PREPRINTED:
        # Pre-printed fields carry the registry's data: tell them by their name.
        fid = spec.id
        if fid.endswith("_date"):
            return "wareki_date"
        if fid.endswith("_kana"):
            return "kana"
        if fid.endswith("_name") or fid == "name":
            return "name"
    return "text"


def _excel_serial(serial: float) -> date:
    # Excel's day 0 is 1899-12-30 once its 1900 leap-year bug is accounted for.
    return date(1899, 12, 30) + timedelta(days=int(serial))


def _as_text(spec: FieldSpec, raw: str | date | int | float) -> str:
    if isinstance(raw, datetime):
        return raw.date().isoformat()
    if isinstance(raw, date):
        return raw.isoformat()
    if isinstance(raw, bool):
        raise InvalidValue(spec.id, "この項目にはチェックではなく文字を記入します")
    if isinstance(raw, int | float):
        if spec.kind is Kind.DATE or (spec.normalize == "wareki_date"):
            return _excel_serial(float(raw)).isoformat()
        if isinstance(raw, float) and raw.is_integer():
            return str(int(raw))
        return str(raw)
    return raw


def _mark(spec: FieldSpec, raw: Any) -> bool:
    """A checkbox or signature: ``True`` when marked / signed."""
    if raw is None or isinstance(raw, bool):
        return bool(raw)
    if isinstance(raw, int | float):
        return raw != 0
    word = fold_width(str(raw)).strip().lower()
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    if spec.kind is Kind.SIGNATURE:
        return True  # a typed name in the review sheet: the signature is there
    raise InvalidValue(spec.id, f"チェック欄の値「{raw}」はあり/なしとして読めません")


def _option(spec: FieldSpec, value: Any) -> str:
    """An option value from its value or its printed label."""
    text = fold_width(str(value)).strip()
    for opt in spec.options or []:
        if text in (opt.value, fold_width(opt.label_ja)):
            return opt.value
    for opt in spec.options or []:
        # Labels are printed with a number (①指定口座への振込): accept the words alone.
        if text and text in fold_width(opt.label_ja):
            return opt.value
    choices = "、".join(o.label_ja for o in spec.options or [])
    raise InvalidValue(spec.id, f"「{value}」は選択肢（{choices}）にありません")


def _options(spec: FieldSpec, raw: Any) -> list[str]:
    if raw is None:
        return []
    items: list[Any]
    if isinstance(raw, list | tuple):
        items = list(raw)
    else:
        items = [p for p in re.split(r"[,、，;；\n]", str(raw)) if p.strip()]
    values = {_option(spec, item) for item in items}
    # Canonical order is the printed order.
    return [v for v in spec.option_values() if v in values]


def normalize_field(spec: FieldSpec, raw: str | date | int | float | list[Any] | None) -> Any:
    """The canonical value of ``spec``'s field from what was read or typed.

    * ``None`` or blank text → ``None`` (``False`` for a checkbox or signature).
    * checkbox / signature → ``bool``; choice → the option value, ``None`` when
      blank, the list of values when several are marked; multichoice → the list
      of values in printed order, ``None`` when none is marked. OMR's values
      pass through; labels typed by a reviewer are mapped to their values;
      anything else raises.
    * everything else → the normaliser named by ``spec.normalize``, else the
      one of the field's kind and charset (date → ``wareki_date`` with the
      form's fixed era as default, kana → ``kana``, digits → ``digits``,
      phone charset → ``phone``, text → ``text``; pre-printed fields by their
      id: ``*_date``, ``*_kana``, ``*_name``).
    * ``datetime.date`` / ``datetime`` (an Excel date cell) become ISO dates;
      an Excel serial number in a date field is converted; numbers in other
      fields become their digits.

    Raises :class:`InvalidValue` naming the field when the value cannot be one of its values.
    """
    kind = spec.kind
    if kind in (Kind.CHECKBOX, Kind.SIGNATURE):
        return _mark(spec, raw)
    if kind is Kind.CHOICE:
        values = _options(spec, raw)
        if not values:
            return None
        return values[0] if len(values) == 1 else values
    if kind is Kind.MULTICHOICE:
        return _options(spec, raw) or None
    if raw is None:
        return None
    if isinstance(raw, list | tuple):
        raise InvalidValue(spec.id, "この項目には値を1つだけ記入します")
    text = _as_text(spec, raw)
    if not text.strip():
        return None
    name = spec.normalize or _default_normalizer(spec)
    fn = normalizer(name)  # unknown names fail when the form is loaded, not here
    try:
        if name == "wareki_date":
            # The era printed before the boxes is the default for 2.5.10.
            return parse_date(text, default_era=spec.era).isoformat()
        return fn(text)
    except ValueError as exc:
        raise InvalidValue(spec.id, str(exc)) from None
