"""What a return letter (返戻通知書) says, decided from the ledger and the registry.

:func:`compose_letter` turns a rejected :class:`~shinsei.model.Document` into
a :class:`Letter`: its one letter type, its addressee from the resident
registry (never from OCR) and one line per error finding. :func:`letter_text`
turns a letter into every string the page shows (:class:`LetterText`), so the
glyph check and the renderer see exactly the same text.

Anything that keeps a letter from being printed unattended raises
:class:`LetterHeld`; the print batch turns it into a held letter for a person.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from forms.schema import FormSpec, LetterSpec, LetterType
from shinsei.errors import BusinessError
from shinsei.model import Document
from shinsei.privacy import mask, mask_text
from shinsei.residents import Household, Member, ResidentRegistry

_WEEKDAYS = "月火水木金土日"


class LetterHeld(BusinessError):
    """The letter cannot be printed unattended; ``reason`` (Japanese) tells a person why."""

    def __init__(self, reason: str, letter_type: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.letter_type = letter_type


@dataclass(frozen=True)
class LetterBook:
    """What the letter writer needs of one form: its ``letters:`` spec and field labels."""

    form_id: str
    spec: LetterSpec
    labels: dict[str, str]

    @classmethod
    def of_form(cls, form: FormSpec) -> LetterBook | None:
        """The book of a loaded form, ``None`` when its form.yaml has no ``letters:`` block."""
        if form.letters is None:
            return None
        return cls(form.form_id, form.letters, {f.id: f.label_ja for f in form.fields})

    def item_label(self, field_ids: list[str]) -> str:
        """The 項目 column: the printed labels of the fields a finding is about."""
        labels: list[str] = []
        for fid in field_ids:
            label = self.spec.item_labels.get(fid) or self.labels.get(fid)
            if label and label not in labels:
                labels.append(label)
        if not labels:
            return "申請書"
        # A finding about a whole group (every account field) names its first fields only.
        return "・".join(labels) if len(labels) <= 3 else "・".join(labels[:2]) + " ほか"


@dataclass(frozen=True)
class Addressee:
    """Whom the letter goes to, as the registry has it (宛先)."""

    postal_code: str
    address: str
    name: str

    @property
    def address_lines(self) -> list[str]:
        """The address; the building (after the registry's half-width space) on its own line."""
        street, _, building = self.address.partition(" ")
        return [street, building] if building else [street]


@dataclass(frozen=True)
class Letter:
    """One letter to one resident about one rejected document."""

    document_id: str
    form_id: str
    letter_type: LetterType
    addressee: Addressee
    items: tuple[tuple[str, str], ...]
    """(項目, 内容) per error finding, in the order the validators found them."""


@dataclass(frozen=True)
class LetterText:
    """Every string the letter page shows, in its place."""

    window: tuple[str, ...]
    """〒 line and address lines, inside the envelope window."""
    addressee_name: str
    reference: str
    date: str
    sender: tuple[str, ...]
    title: str
    subtitle: str
    opening: str
    items: tuple[tuple[str, str, str], ...]
    return_items: tuple[str, ...]
    deadline: str
    return_how: str
    note: str
    correction_note: str
    contact: tuple[str, ...]
    footer: str

    def strings(self) -> list[str]:
        """All of it, for the glyph check."""
        out = [*self.window, self.addressee_name, self.reference, self.date, *self.sender]
        out += [self.title, self.subtitle, self.opening]
        out += [cell for row in self.items for cell in row]
        out += [*self.return_items, self.deadline, self.return_how, self.note]
        out += [self.correction_note, *self.contact, self.footer]
        return out


def wareki(day: date) -> str:
    """``date(2020, 6, 2)`` → ``'令和2年6月2日'`` (元年 for the first year of an era)."""
    if day >= date(2019, 5, 1):
        era, year = "令和", day.year - 2018
    elif day >= date(1989, 1, 8):
        era, year = "平成", day.year - 1988
    else:
        era, year = "昭和", day.year - 1925
    return f"{era}{'元' if year == 1 else year}年{day.month}月{day.day}日"


def with_weekday(day: date) -> str:
    """``'令和2年6月16日（火）'``."""
    return f"{wareki(day)}（{_WEEKDAYS[day.weekday()]}）"


def reference_no(document_id: str) -> str:
    """The 整理番号 printed on the letter and the mailing list: the document id's first 12 hex."""
    return document_id[:12]


# -- the addressee, from the registry -------------------------------------------


def _value(doc: Document, field: str) -> str | None:
    value = doc.key if field == "key" else doc.value(field)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _lookup(registry: ResidentRegistry, index: str, value: str) -> Member | None:
    if index == "applicant_no":
        household = registry.by_applicant_no(value)
        return None if household is None else household.head
    if index == "insured_number":
        return registry.by_insured_number(value)
    return registry.by_my_number(value)


def _shown(index: str, value: str) -> str:
    labels = {
        "applicant_no": "申請者番号",
        "insured_number": "被保険者番号",
        "my_number": "個人番号",
    }
    return f"{labels[index]} {mask(value) if index == 'my_number' else value}"


def find_addressee(doc: Document, book: LetterBook, registry: ResidentRegistry) -> Addressee:
    """The addressee of ``doc``'s letter from the registry; :class:`LetterHeld` if not certain."""
    rule = book.spec.addressee
    found: dict[str, Member] = {}
    tried: list[str] = []
    for key in rule.keys:
        value = _value(doc, key.field)
        if value is None:
            continue
        tried.append(_shown(key.index, value))
        member = _lookup(registry, key.index, value)
        if member is not None:
            found.setdefault(member.member_no, member)
    if not found and rule.search:
        for member in _search(doc, rule.search, registry):
            found.setdefault(member.member_no, member)
        if len(found) > 1:
            raise LetterHeld(
                "番号で該当者が見つからず、"
                + book.item_label(list(rule.search))
                + "で検索すると複数の方が該当します（宛先を確認してください）"
            )
    if not found:
        what = "、".join(dict.fromkeys(tried)) or "検索に使える番号の記入なし"
        raise LetterHeld(f"住民基本台帳に該当する方が見つかりません（{what}）")
    if len(found) > 1:
        raise LetterHeld(
            "申請書の番号が住民基本台帳の別々の方を指しています（宛先を確認してください）"
        )
    member = next(iter(found.values()))
    compared = [
        (field, attr) for field, attr in rule.corroborate.items() if _value(doc, field) is not None
    ]
    if compared and not any(
        _same(_value(doc, field), getattr(member, attr)) for field, attr in compared
    ):
        raise LetterHeld(
            "申請書の記載（"
            + book.item_label([field for field, _ in compared])
            + "）が住民基本台帳の該当者と一致しません（宛先を確認してください）"
        )
    household: Household = registry.household_of(member)
    person = household.head if rule.to == "household_head" else member
    return Addressee(postal_code=household.postal_code, address=household.address, name=person.name)


def _search(doc: Document, search: Mapping[str, str], registry: ResidentRegistry) -> list[Member]:
    """Residents whose entry matches every ``search`` field of ``doc`` (all must be filled in)."""
    written = {attr: _value(doc, field) for field, attr in search.items()}
    if any(value is None for value in written.values()):
        return []
    return [
        m
        for m in registry.members()
        if all(_same(value, getattr(m, attr)) for attr, value in written.items())
    ]


def _same(written: str | None, registered: str) -> bool:
    if written is None:
        return False
    strip = str.maketrans("", "", " \u3000")
    return written.translate(strip) == registered.translate(strip)


# -- the letter -----------------------------------------------------------------


def compose_letter(doc: Document, book: LetterBook, registry: ResidentRegistry) -> Letter:
    """The letter for a rejected document: one type, every error finding, the registry's address.

    Warnings are for reviewers and are left out. Raises :class:`LetterHeld`.
    """
    errors = [f for f in doc.findings if f.severity == "error"]
    letter_type = book.spec.choose([f.code for f in errors])
    if not errors:
        raise LetterHeld("返戻の理由となる不備（error）が記録されていません", letter_type.id)
    try:
        addressee = find_addressee(doc, book, registry)
    except LetterHeld as held:
        raise LetterHeld(held.reason, letter_type.id) from held
    items = tuple(
        (book.item_label(list(f.fields)), mask_text(f.message_ja.strip())) for f in errors
    )
    return Letter(doc.id, book.form_id, letter_type, addressee, items)


def letter_text(letter: Letter, book: LetterBook, letter_date: date, received: date) -> LetterText:
    """Every string of the letter, for the letter date and the date the mail was received."""
    spec = book.spec
    sender = spec.sender
    deadline = letter_date + timedelta(days=spec.reply_days)
    ref = reference_no(letter.document_id)
    opening = (
        "日頃から市政にご理解とご協力をいただき、ありがとうございます。\n"
        f"{wareki(received)}に受け付けました{spec.form_name_ja}の内容を確認しましたところ、"
        "下記の箇所に不備がありましたので、申請書をお返しします。"
        "お手数をおかけしますが、下記の内容をご確認のうえ、訂正した申請書を期限までに"
        "ご返送くださいますよう、お願いいたします。"
    )
    return LetterText(
        window=(f"〒{letter.addressee.postal_code}", *letter.addressee.address_lines),
        addressee_name=f"{letter.addressee.name}\u3000様",
        reference=f"整理番号 {ref}",
        date=wareki(letter_date),
        sender=(
            f"{sender.organization}\u3000{sender.department}",
            f"〒{sender.postal_code}\u3000{sender.address}",
            f"電話 {sender.phone}",
        ),
        title=spec.title_ja,
        subtitle=f"（{letter.letter_type.title_ja}）",
        opening=opening,
        items=tuple((str(i), item, text) for i, (item, text) in enumerate(letter.items, start=1)),
        return_items=(*spec.return_items, *letter.letter_type.enclosures),
        deadline=f"{with_weekday(deadline)}までに届くよう、ご返送ください。",
        return_how=spec.return_how_ja,
        note=letter.letter_type.note_ja,
        correction_note=spec.correction_note_ja,
        contact=(
            "【お問い合わせ先】",
            spec.contact.name,
            f"電話 {spec.contact.phone}\u3000受付時間 {spec.contact.hours}",
        ),
        footer=f"返戻種別 {letter.letter_type.id}（{letter.letter_type.title_ja}）",
    )
