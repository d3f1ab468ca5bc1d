"""Fields the city printed from the resident registry (kyufukin): taken from the registry.

The city printed the applicant number, the head of household's kana, name,
birth date and address, and the member rows from the registry before
mailing. Once the applicant number is known -- from the QR code, else from
the printed comb digits read by OCR and checked with their Luhn digit --
these values are the registry's, exactly (source ``preprinted``,
confidence 1.0): reading them back by OCR could only add errors.

Which registry column a field holds is its form.yaml ``source``:
``households.<column>``, ``members.<column>（世帯主）`` for the head,
``members.<column>`` for the member of the row named in the field id
(``member_3_name`` → the third member, ``None`` beyond the household's
size), and ``a + b`` for several columns printed together (a postal code is
printed with 〒, one half-width space before the address).
"""

from __future__ import annotations

import re
from typing import Any

from forms.schema import FieldSpec, FormSpec, Kind
from shinsei.residents import Household, Member, registry

_MEMBER_ROW = re.compile(r"member_(\d+)_")


def luhn_ok(number: str) -> bool:
    """Whether a digit string passes the Luhn (mod 10) check."""
    if not number.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def registry_fields(spec: FormSpec) -> list[FieldSpec]:
    """The pre-printed fields whose value comes from the registry (they have a ``source``)."""
    return [f for f in spec.fields if f.kind is Kind.PREPRINTED and f.source]


def _column(source: str, spec: FieldSpec, hh: Household) -> Any:
    table, _, rest = source.strip().partition(".")
    column = re.split(r"[（(\s]", rest, maxsplit=1)[0]
    if table == "households":
        value = getattr(hh, column)
        return f"〒{value}" if column == "postal_code" else value
    if table == "members":
        member: Member | None
        if "世帯主" in source:
            member = hh.head
        else:
            m = _MEMBER_ROW.match(spec.id)
            row = int(m.group(1)) if m else 1
            member = hh.members[row - 1] if row <= len(hh.members) else None
        return None if member is None else getattr(member, column)
    raise ValueError(f"field {spec.id}: unknown source {source!r}")


def registry_value(spec: FieldSpec, hh: Household) -> Any:
    """The canonical value of a pre-printed field for household ``hh``."""
    assert spec.source is not None
    pieces = [_column(s, spec, hh) for s in spec.source.split("+")]
    if any(p is None for p in pieces):
        return None
    return " ".join(str(p) for p in pieces)


def household(applicant_no: str | None) -> Household | None:
    if not applicant_no:
        return None
    return registry().by_applicant_no(applicant_no)


#: Variant glyphs (異体字) of registry names and the common form a recogniser reads.
#: PP-OCR's dictionary has no 﨑, and 髙 or 邊 written by hand look like 高 or 辺.
VARIANTS = str.maketrans("﨑髙邊齋濱櫻廣德", "崎高辺斎浜桜広徳")


def registry_member(values: dict[str, Any]) -> Member | None:
    """The resident a form is about, from the numbers read on it (個人番号, 被保険者番号)."""
    reg = registry()
    for field_id, lookup in (
        ("my_number", reg.by_my_number),
        ("insured_number", reg.by_insured_number),
    ):
        number = values.get(field_id)
        if isinstance(number, str) and number:
            member = lookup(number)
            if member is not None:
                return member
    return None


def registry_glyphs(read: str, member: Member) -> str | None:
    """The registry's spelling of a name read with common glyphs (山崎 → 山﨑), if it is that name.

    Only the glyph variants differ; a name that differs in anything else is
    not the registry's and stays as read.
    """
    if read != member.name and read.translate(VARIANTS) == member.name.translate(VARIANTS):
        return member.name
    return None
