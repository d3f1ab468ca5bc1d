"""The form definition contract: what a ``forms/<form_id>/form.yaml`` may say.

Everything that differs between forms lives in that file, so adding a form
adds files, not code. Coordinates are pixels of the blank template (300 dpi,
origin top left) as ``[x, y, width, height]``.

A field's geometry depends on its kind:

* comb fields (``digits``, ``kana``, a ``preprinted`` number) list their
  ``cells``, one box per character;
* split fields (a date as year/month/day, a phone number in three boxes, a
  postal code as 3 + 4 cells) list their ``parts``, each with a ``box`` or
  ``cells``;
* ``checkbox`` and ``signature`` fields and free ``text`` have one ``box``;
* ``choice`` and ``multichoice`` fields list their ``options``, each with the
  printed box residents tick and the box of its printed label (residents
  circle labels too).
"""

from __future__ import annotations

import re
from enum import StrEnum
from fnmatch import fnmatchcase
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Box = Annotated[list[int], Field(min_length=4, max_length=4)]
"""``[x, y, width, height]`` in template pixels."""


class Kind(StrEnum):
    """Field kinds of the data dictionaries."""

    PREPRINTED = "preprinted"
    DATE = "date"
    TEXT = "text"
    DIGITS = "digits"
    KANA = "kana"
    CHECKBOX = "checkbox"
    CHOICE = "choice"
    MULTICHOICE = "multichoice"
    SIGNATURE = "signature"


class Charset(StrEnum):
    """Named character sets a recogniser may restrict a field to."""

    DIGITS = "digits"  # 0-9
    PHONE = "phone"  # 0-9 and -
    KANA = "kana"  # full-width katakana, ー, full-width space
    TEXT = "text"  # characters of JIS X 0213 (no simplified Chinese)
    ANY = "any"  # the recogniser's whole dictionary


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Part(_Strict):
    """One piece of a split field: a date's year, a phone number's area code."""

    name: str
    box: Box | None = None
    cells: list[Box] | None = None

    @model_validator(mode="after")
    def _geometry(self) -> Part:
        if (self.box is None) == (self.cells is None):
            raise ValueError(f"part {self.name!r} needs exactly one of 'box' or 'cells'")
        return self


class Option(_Strict):
    """One printed choice: its canonical value, its label and where it is."""

    value: str
    label_ja: str
    box: Box
    label_box: Box | None = None


ConfirmBy = Literal[
    "member.number",
    "member.name",
    "member.name_kana",
    "member.birth_date",
    "household.member_name",
    "household.head_name_kana",
    "bank",
    "branch",
    "postal.town",
]
"""Where a reading can be confirmed: a personal number that finds a resident
whose name or birth date is what the form says (``member.number``), the form's
resident (found by its personal numbers), any member of their household, the
household head's kana (found by the applicant number), the bank list, the
bank's branch list. ``postal.town``
only ever doubts: an address one character off the town of its postal code
is taken for a misreading (a person looks), never confirmed by it."""


class FieldSpec(_Strict):
    """One field of a form, with the geometry its kind needs."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label_ja: str
    kind: Kind
    required: Literal["yes", "no", "conditional"] = "no"
    charset: Charset | None = None
    length: int | None = None
    box: Box | None = None
    cells: list[Box] | None = None
    parts: list[Part] | None = None
    options: list[Option] | None = None
    joiner: str = ""
    """What joins the parts' text (``-`` for a phone number)."""
    era: str | None = None
    """Fixed era printed before a date's boxes (``reiwa``)."""
    era_field: str | None = None
    """Choice field that holds the era of a date (``birth_era``)."""
    normalize: str | None = None
    """Name of the validators' normaliser for the canonical value."""
    source: str | None = None
    """For pre-printed fields: where the city took the value from."""
    confirm_by: ConfirmBy | None = None
    """Reference data that confirms a doubtful reading when it says exactly the same
    (:mod:`ocr.corroborate`): the resident's registry entry, the bank list."""
    allowed_values: list[str] | None = None

    @model_validator(mode="after")
    def _geometry_fits_kind(self) -> FieldSpec:
        kind = self.kind
        if kind in (Kind.CHOICE, Kind.MULTICHOICE):
            if not self.options:
                raise ValueError(f"a {kind} field needs 'options', each with its box")
        elif kind in (Kind.CHECKBOX, Kind.SIGNATURE):
            if self.box is None:
                raise ValueError(f"a {kind} field needs 'box'")
        elif kind is Kind.DATE:
            names = {p.name for p in self.parts or []}
            if not {"year", "month", "day"} <= names:
                raise ValueError("a date field needs 'parts' named year, month and day")
            if (self.era is None) == (self.era_field is None):
                raise ValueError("a date field needs exactly one of 'era' or 'era_field'")
        elif self.box is None and self.cells is None and self.parts is None:
            raise ValueError(f"a {kind} field needs 'box', 'cells' or 'parts'")
        if self.length is not None and self.cells is not None and len(self.cells) != self.length:
            raise ValueError(f"'length' is {self.length} but {len(self.cells)} cells are given")
        return self

    def boxes(self) -> list[Box]:
        """Every box this field occupies (for overlays and bounds checks)."""
        out: list[Box] = []
        if self.box is not None:
            out.append(self.box)
        out.extend(self.cells or [])
        for part in self.parts or []:
            if part.box is not None:
                out.append(part.box)
            out.extend(part.cells or [])
        for opt in self.options or []:
            out.append(opt.box)
            if opt.label_box is not None:
                out.append(opt.label_box)
        return out

    def crop_box(self, page_size: tuple[int, int], margin: int = 10) -> tuple[int, int, int, int]:
        """The field's picture on the aligned page: all its boxes and ``margin`` px round them.

        What a reviewer is shown beside the value (x, y, w, h), kept inside the page.
        """
        boxes = self.boxes()
        x0 = max(0, min(b[0] for b in boxes) - margin)
        y0 = max(0, min(b[1] for b in boxes) - margin)
        x1 = min(page_size[0], max(b[0] + b[2] for b in boxes) + margin)
        y1 = min(page_size[1], max(b[1] + b[3] for b in boxes) + margin)
        return (x0, y0, x1 - x0, y1 - y0)

    def option_values(self) -> list[str]:
        return [o.value for o in self.options or []]


class RuleSpec(BaseModel):
    """A rule declared by name, with its code, severity, messages and parameters.

    Parameters other than the ones below are passed to the named check, which
    validates them when the form is loaded.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    rule: str
    code: str = Field(pattern=r"^[A-Z][A-Z0-9_]+$")
    severity: Literal["error", "warning"]
    message_ja: str
    reviewer_message_ja: str = ""
    fields: list[str] = Field(default_factory=list)

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class QRSpec(_Strict):
    """The QR area and what its payload says."""

    box: Box
    pattern: str
    """Regular expression the payload matches; a group named ``key`` is the applicant's key."""

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        re.compile(value)
        return value


class RegistrationMarks(_Strict):
    """The four solid squares printed near the corners, for registration."""

    top_left: Box
    top_right: Box
    bottom_left: Box
    bottom_right: Box

    def centers(self) -> list[tuple[float, float]]:
        return [
            (b[0] + b[2] / 2, b[1] + b[3] / 2)
            for b in (self.top_left, self.top_right, self.bottom_left, self.bottom_right)
        ]


class LetterSender(_Strict):
    """The city's sender block (差出人) printed on a return letter."""

    organization: str
    """``神戸市``."""
    department: str
    """``特別定額給付金室``."""
    postal_code: str = Field(pattern=r"^\d{3}-\d{4}$")
    address: str
    phone: str


class LetterContact(_Strict):
    """The contact line (お問い合わせ先) of a return letter."""

    name: str
    phone: str
    hours: str
    """``平日 9時～17時（土日祝日を除く）``."""


class RegistryKey(_Strict):
    """Where to look an applicant up in the resident registry: a value and the index it is.

    ``field`` is a field id of the form, or ``key`` for the document's key.
    """

    field: str
    index: Literal["applicant_no", "insured_number", "my_number"]


class LetterAddressee(_Strict):
    """Whom a return letter goes to. Names and addresses come from the registry, never OCR.

    Every key that finds someone must find the same person, else the letter
    is held. ``corroborate`` maps field ids to registry attributes
    (``birth_date: birth_date``): when the form has any of them filled in and
    none matches the person found, the letter is held for a person.
    """

    to: Literal["household_head", "member"]
    keys: list[RegistryKey] = Field(min_length=1)
    corroborate: dict[str, Literal["name", "name_kana", "birth_date"]] = Field(default_factory=dict)
    search: dict[str, Literal["name", "name_kana", "birth_date"]] = Field(default_factory=dict)
    """When no number on the form finds anyone (a My Number with a wrong check
    digit): the one resident whose entry matches every one of these fields,
    as a clerk searches by 氏名 and 生年月日. None or several: the letter is held."""


class LetterType(_Strict):
    """One kind of return letter; each kind is printed and mailed by one team.

    ``codes`` are finding codes or shell-style patterns (``KF_ACCOUNT_*``).
    A document gets one letter, of the type with the lowest ``priority``
    number among the types its error findings fall under, and that letter
    lists all its error findings.
    """

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=32)
    title_ja: str
    """What the letter is about, printed under the title (``振込先口座の記入について``)."""
    priority: int = Field(ge=1)
    codes: list[str] = Field(default_factory=list)
    enclosures: list[str] = Field(default_factory=list)
    """What to send back besides the corrected form (同封するもの)."""
    note_ja: str = ""
    """An extra paragraph for this kind of letter."""


class LetterSpec(_Strict):
    """The ``letters:`` block of a form.yaml: return letters (返戻通知) for the form."""

    form_name_ja: str
    """The form as the letter names it (``特別定額給付金申請書``)."""
    title_ja: str
    sender: LetterSender
    contact: LetterContact
    addressee: LetterAddressee
    reply_days: int = Field(default=14, ge=1)
    """The reply deadline is this many days after the letter date."""
    return_items: list[str]
    """What every letter asks to send back (the returned form, corrected)."""
    return_how_ja: str = ""
    """How to send it back (``同封の返信用封筒でご返送ください。``)."""
    correction_note_ja: str = ""
    """How to correct the form (``二重線で消して…``)."""
    item_labels: dict[str, str] = Field(default_factory=dict)
    """Labels of finding field ids that are not fields of the form (``passbook_copy``)."""
    default_type: str
    """The type of a finding code no type covers, so no finding is lost."""
    types: list[LetterType] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> LetterSpec:
        ids = [t.id for t in self.types]
        if len(set(ids)) != len(ids):
            raise ValueError("letter type ids must be unique")
        priorities = [t.priority for t in self.types]
        if len(set(priorities)) != len(priorities):
            raise ValueError("letter type priorities must be unique")
        if self.default_type not in ids:
            raise ValueError(f"default_type {self.default_type!r} is not a letter type")
        return self

    def type_of(self, code: str) -> LetterType:
        """The letter type a finding code falls under (the default type if none covers it)."""
        for letter_type in sorted(self.types, key=lambda t: t.priority):
            if any(fnmatchcase(code, pattern) for pattern in letter_type.codes):
                return letter_type
        return self.letter_type(self.default_type)

    def choose(self, codes: list[str]) -> LetterType:
        """The one letter type of a document with these error codes (highest priority wins)."""
        if not codes:
            return self.letter_type(self.default_type)
        return min((self.type_of(c) for c in codes), key=lambda t: t.priority)

    def letter_type(self, type_id: str) -> LetterType:
        for letter_type in self.types:
            if letter_type.id == type_id:
                return letter_type
        raise KeyError(f"no letter type {type_id!r}")


class FormSpec(_Strict):
    """A parsed, validated ``form.yaml``."""

    form_id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    version: str
    title_ja: str
    form_code: str
    template: str = "blank.png"
    template_pdf: str = "blank.pdf"
    dpi: int = 300
    size: Annotated[list[int], Field(min_length=2, max_length=2)]
    """Template size in pixels, ``[width, height]``."""
    dropout_ink_rgb: Annotated[list[int], Field(min_length=3, max_length=3)] | None = None
    registration_marks: RegistrationMarks
    qr: QRSpec
    key_fields: list[str]
    """Fields that identify the applicant, first non-blank wins."""
    application_window: dict[str, str] | None = None
    identify: dict[str, Any] = Field(default_factory=dict)
    """Extra hints for identifying the form by layout when the QR is unreadable."""
    fields: list[FieldSpec]
    rules: list[RuleSpec] = Field(default_factory=list)
    letters: LetterSpec | None = None
    """Return letters (返戻通知) for rejected applications of this form."""

    @model_validator(mode="after")
    def _consistent(self) -> FormSpec:
        seen: set[str] = set()
        for f in self.fields:
            if f.id in seen:
                raise ValueError(f"field {f.id!r} is defined twice")
            seen.add(f.id)
        for key in self.key_fields:
            if key not in seen:
                raise ValueError(f"key field {key!r} is not a field of the form")
        width, height = self.size
        for f in self.fields:
            for box in f.boxes():
                x, y, w, h = box
                if w <= 0 or h <= 0 or x < 0 or y < 0 or x + w > width or y + h > height:
                    raise ValueError(f"field {f.id!r}: box {box} is not inside the page")
            if f.era_field is not None and f.era_field not in seen:
                raise ValueError(f"field {f.id!r}: era_field {f.era_field!r} is not a field")
        for rule in self.rules:
            for fid in rule.fields:
                if fid not in seen:
                    raise ValueError(f"rule {rule.code}: field {fid!r} is not a field of the form")
        return self

    def field(self, field_id: str) -> FieldSpec:
        for f in self.fields:
            if f.id == field_id:
                return f
        raise KeyError(f"{self.form_id} has no field {field_id!r}")

    @property
    def field_ids(self) -> list[str]:
        return [f.id for f in self.fields]
