"""What a resident puts on a form, and what a perfect reader would take from it.

An :class:`Application` pairs, for every field, the :class:`Entry` (what is
on paper: the characters as written, which boxes are marked and how, a
correction, a blacked-out area) with the canonical value of the
``shinsei process`` contract. Content modules (``samples/content/<form_id>.py``)
build a clean application from the registry; defects and non-defects
(``samples/defects.py``) change both sides together, so the truth always says
what the paper says. Where the entry goes on the page is never decided here:
that comes from ``forms/<form_id>/form.yaml`` (see ``samples/fill.py``).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Literal

MarkStyle = Literal["tick", "cross", "circle", "fill"]


@dataclass(frozen=True)
class Entry:
    """What is written in one field.

    * ``text`` — a single box or a comb (one character per cell);
    * ``pieces`` — a split field, one string per part in the form's part
      order (a date: year, month, day; a phone number: its three groups); a
      field that has one box instead gets the pieces joined by its joiner;
    * ``marks`` — choice/multichoice option values marked (a checkbox: ``["on"]``);
    * ``preprinted`` — typed by the city (black Gothic), not by the resident;
    * ``align`` — ``right`` for numbers written right-aligned in a comb;
    * ``wrong`` — a first attempt struck through with two lines (訂正), the
      correct text written beside or above it;
    * ``outside`` — marks that stray partly outside their box;
    * ``blacked_out`` — the field is covered with marker after writing.
    """

    text: str | None = None
    pieces: tuple[str, ...] | None = None
    marks: tuple[str, ...] = ()
    style: MarkStyle = "tick"
    preprinted: bool = False
    align: Literal["left", "right", "center"] = "left"
    wrong: str | None = None
    outside: bool = False
    blacked_out: bool = False
    qr_payload: str | None = None

    def with_(self, **changes: Any) -> Entry:
        return replace(self, **changes)


@dataclass
class Application:
    """One filled form: entries, canonical values, enclosures and facts for the defects.

    ``values`` holds the canonical value of **every** field of the form
    (``None`` when blank). ``enclosures`` are the attachment kinds put into
    the envelope with the form (``id_copy``, ``passbook_copy``). ``facts``
    carries what defects need to know about the applicant (e.g. ``insured_class``).
    ``flags`` lists per field what a reader should notice beyond the value
    (``corrected``, ``outside_box``, ``blacked_out``), as in ``FieldValue.flags``.
    """

    form_id: str
    entries: dict[str, Entry]
    values: dict[str, Any]
    enclosures: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    flags: dict[str, list[str]] = field(default_factory=dict)
    card: dict[str, Any] = field(default_factory=dict)
    """What the enclosed copies show (ID card holder, passbook bank/account)."""

    def set(self, field_id: str, entry: Entry | None, value: Any) -> None:
        """Put ``entry`` on paper for ``field_id`` and record its canonical ``value``."""
        if field_id not in self.values:
            raise KeyError(f"{self.form_id} has no field {field_id!r}")
        if entry is None:
            self.entries.pop(field_id, None)
        else:
            self.entries[field_id] = entry
        self.values[field_id] = value

    def blank(self, field_id: str) -> None:
        """Leave the field empty (a checkbox reads ``False``, a signature ``False``)."""
        old = self.values.get(field_id)
        self.set(field_id, None, False if isinstance(old, bool) else None)

    def flag(self, field_id: str, flag: str) -> None:
        self.flags.setdefault(field_id, [])
        if flag not in self.flags[field_id]:
            self.flags[field_id].append(flag)


# --------------------------------------------------------------------------- canonical helpers


def nfkc(text: str) -> str:
    """The canonical form of free text: NFKC, stripped; CJK compatibility ideographs
    (﨑 U+FA11) stay as written, as the dictionaries' "glyphs as written" asks.
    """
    out = []
    for ch in text:
        keep = 0xF900 <= ord(ch) <= 0xFAFF or 0x2F800 <= ord(ch) <= 0x2FA1F
        out.append(ch if keep else unicodedata.normalize("NFKC", ch))
    return "".join(out).strip()


def name_value(written: str) -> str:
    """A written name as its canonical value: one full-width space between family and given."""
    return "\u3000".join(nfkc(written).split())


def address_value(written: str) -> str:
    """An address as written, NFKC, one half-width space before a building name."""
    return " ".join(nfkc(written).split())


_ERAS: list[tuple[str, str, date]] = [
    ("reiwa", "令和", date(2019, 5, 1)),
    ("heisei", "平成", date(1989, 1, 8)),
    ("showa", "昭和", date(1926, 12, 25)),
    ("taisho", "大正", date(1912, 7, 30)),
    ("meiji", "明治", date(1868, 1, 25)),
]


def wareki(d: date) -> tuple[str, str, int]:
    """``(era value, era kanji, year in era)`` of a Gregorian date."""
    for value, kanji, start in _ERAS:
        if d >= start:
            return value, kanji, d.year - start.year + 1
    raise ValueError(f"{d} is before the Meiji era")


def wareki_text(d: date) -> str:
    """The city's printed form of a date: ``昭和8年2月5日``, ``平成元年5月3日``."""
    _, kanji, year = wareki(d)
    y = "元" if year == 1 else str(year)
    return f"{kanji}{y}年{d.month}月{d.day}日"


def date_pieces(d: date, *, pad: bool) -> tuple[str, str, str]:
    """Year-in-era, month and day as a resident writes them in 2-digit boxes."""
    _, _, year = wareki(d)
    if pad:
        return f"{year:02d}", f"{d.month:02d}", f"{d.day:02d}"
    return str(year), str(d.month), str(d.day)


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))
