"""Doubtful readings confirmed by reference data that says exactly the same.

A handwritten name read at 0.6 is a question for a person -- unless the
resident registry, found through the personal number printed on the same
form, spells the same name. Two independent sources agreeing on every
character is stronger evidence than the recogniser's own probability: a
misreading that lands exactly on the registry's spelling is not a thing that
happens by chance. Commercial AI-OCR does the same with its address and
name dictionaries.

Which reference confirms a field is its form.yaml ``confirm_by``
(:data:`forms.schema.ConfirmBy`). A confirmed reading gets the confidence
:data:`CONFIRMED` (if it had less) and the flag ``confirmed``; its value is
never changed. A reading that differs from the reference is left alone: it
may be a misreading or what the resident really wrote, and the validation
rules (registry match, account holder, bank and branch) decide what that
means. Readings flagged for any other reason (corrected, ambiguous, not a
value of the field) are not confirmed: a person looks at those.

Some references also doubt (:data:`DOUBTS`): a confident reading that
nearly, but not exactly, says what the reference says is lowered to
:data:`DOUBTED`, so that a misreading goes to a person instead of returning
a clean application. An address one character off the city and town of its
postal code, where no real town of the city matches (西舞了 for 西舞子); a
kana name that differs from the registry's only in voicing marks or in one
kana (ヤスタ or サスロウ for ヤスダ, サブロウ: a misread kana is far likelier than a
resident's account in a name one kana off their own).

And the registry decides what the reading cannot (:data:`SPELLS`): whether a
handwritten kana is small or large (a guess from its size) and where the
family name ends, for the resident's own name and kana.

The bank list decides a bank or branch name it does not hold as read
(:data:`REFERENCE_SPELLS`, flag ``reference_spelling``): when one character
of the reading is in doubt, the rest are sure, and exactly one listed name
is what that character could have been (三営 with 営 in doubt, where the bank
has 三宮 and no 三田), or the name is written with type words the form does not
use (三宮店). Never when the list offers two (a person chooses), nor when the
doubtful character could be a real name either way: that is a question of
which branch, and a misread branch would send the money elsewhere. Japan
Post's list decides a doubtful character of an address's city and town the
same way, from its postal code. Where no one character can be pointed at
(a character the engine dropped: 神 for 神戸), the engine's own lattice
scores every listed name of the bank or branch list (:func:`_as_seen`).
And the registry decides one or two doubtful characters of a resident's own
furigana and address (flag
``registry_spelling``) once the form's number has found them and their name
or birth date agrees: タリヤ with リ in doubt is their タツヤ; a reading that is
their address as registered, or dashed (3-4-5 for 3丁目4番5号), is confirmed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from functools import cache

from forms.schema import FieldSpec, FormSpec
from ocr import preprinted
from ocr.confidence import auto_accept, status_for
from ocr.engine import Recognition
from shinsei.model import FieldValue
from shinsei.residents import Household, Member, registry
from validators.japanese import kana_key

CONFIRMED = 0.95
"""Confidence of a reading the reference spells exactly the same. Above the
auto-accept threshold; below the 1.0 of a value taken from the registry."""


def _name_key(text: str) -> str:
    return "".join(text.split()).translate(preprinted.VARIANTS)


def _kana(text: str) -> str:
    return kana_key(text, fold_small=False)


class _References:
    """The reference data of one document, looked up once and only when asked."""

    def __init__(
        self,
        form: FormSpec,
        values: dict[str, FieldValue],
        seen: Mapping[str, Recognition] | None = None,
    ) -> None:
        self.values = values
        self.seen = seen or {}
        """The engine's own reading of a field, with its lattice (:data:`LATTICE_LISTS`)."""
        self.about = {f.confirm_by: f.id for f in form.fields if f.confirm_by}
        """The field that holds each attribute of the resident (``member.name`` → ``name``)."""

    def value(self, field_id: str) -> str | None:
        fv = self.values.get(field_id)
        return fv.value if fv is not None and isinstance(fv.value, str) else None

    def member(self) -> Member | None:
        return preprinted.registry_member({k: v.value for k, v in self.values.items()})

    def household(self) -> Household | None:
        member = self.member()
        if member is not None:
            return registry().household_of(member)
        return preprinted.household(self.value("applicant_no"))

    def agrees(self, spec: FieldSpec, read: str) -> bool:
        """Whether ``spec``'s reference spells ``read`` exactly."""
        return CHECKS[spec.confirm_by or ""](self, read)


def _member_number(refs: _References, read: str) -> bool:
    # the number finds a resident, and the form's name or birth date is theirs
    reg = registry()
    m = reg.by_my_number(read) or reg.by_insured_number(read)
    if m is None:
        return False
    name = refs.value(refs.about.get("member.name", ""))
    born = refs.value(refs.about.get("member.birth_date", ""))
    return (name is not None and _name_key(name) == _name_key(m.name)) or born == m.birth_date


def _member_name(refs: _References, read: str) -> bool:
    m = refs.member()
    return m is not None and _name_key(m.name) == _name_key(read)


def _member_kana(refs: _References, read: str) -> bool:
    m = refs.member()
    return m is not None and _kana(m.name_kana) == _kana(read)


def _member_birth(refs: _References, read: str) -> bool:
    m = refs.member()
    return m is not None and m.birth_date == read


def _household_member_name(refs: _References, read: str) -> bool:
    hh = refs.household()
    return hh is not None and any(_name_key(m.name) == _name_key(read) for m in hh.members)


def _head_kana(refs: _References, read: str) -> bool:
    # Spelled as the registry spells it, small kana included: a holder written the
    # banks' way (シユウイチ) is fine for the rules, but a reading whose kana sizes
    # differ may be the size guess gone wrong (ョシムラ), so it is not confirmed.
    hh = refs.household()
    return hh is not None and _kana(hh.head.name_kana) == _kana(read)


def _bank(refs: _References, read: str) -> bool:
    from validators.reference import find_banks

    return len(find_banks(read, refs.value("bank_type"))) == 1


def _branch(refs: _References, read: str) -> bool:
    from validators.reference import find_banks, find_branches

    bank_name = refs.value("bank_name")
    banks = find_banks(bank_name, refs.value("bank_type")) if bank_name else []
    return len(banks) == 1 and len(find_branches(banks[0].code, read)) == 1


def _never(refs: _References, read: str) -> bool:
    return False


def _unvoiced(kana: str) -> str:
    """``kana`` without its voicing marks (ダ → タ, パ → ハ)."""
    return "".join(c for c in unicodedata.normalize("NFD", kana) if c not in "\u3099\u309a")


def _nearly(read: str, reference: str) -> bool:
    """Whether a kana name is off its reference only by voicing marks and at most one kana."""
    written, wanted = kana_key(read), kana_key(reference)
    if written == wanted or len(written) != len(wanted):
        return False
    pairs = zip(_unvoiced(written), _unvoiced(wanted), strict=True)
    return sum(a != b for a, b in pairs) <= 1


def _near_member_kana(refs: _References, read: str) -> bool:
    m = refs.member()
    return m is not None and _nearly(read, m.name_kana)


def _near_head_kana(refs: _References, read: str) -> bool:
    hh = refs.household()
    return hh is not None and _nearly(read, hh.head.name_kana)


def _town_sure(refs: _References, fv: FieldValue) -> float | None:
    """An address's confidence once its town is confirmed by its postal code, if that raises it.

    Only when the address starts with the city and town Japan Post lists for
    the postal code, character for character, and the weakest character --
    the one that made the reading doubtful -- is one of the town's: then the
    rest of the address (番地, building) decides how sure the reading is.
    """
    from validators.reference import postal_town_length

    postal_code = refs.value("postal_code")
    chars = fv.char_confidences
    if postal_code is None or fv.raw is None or len("".join(fv.raw.split())) != len(chars):
        return None
    town = postal_town_length(fv.raw, postal_code)
    if not town or not chars:
        return None
    weakest = min(chars)
    if abs(weakest - fv.confidence) > 1e-3 or min(chars[:town]) > weakest:
        return None  # something else than a character of the town is in doubt
    sure = min(CONFIRMED, *chars[town:])
    return sure if sure > fv.confidence else None


def _near_town(refs: _References, read: str) -> bool:
    from validators.reference import address_near_postal

    postal_code = refs.value("postal_code")
    return postal_code is not None and address_near_postal(read, postal_code)


CHECKS: dict[str, Callable[[_References, str], bool]] = {
    "member.number": _member_number,
    "member.name": _member_name,
    "member.name_kana": _member_kana,
    "member.birth_date": _member_birth,
    "household.member_name": _household_member_name,
    "household.head_name_kana": _head_kana,
    "bank": _bank,
    "branch": _branch,
    "postal.town": _never,  # a town confirms no 番地: only its own characters (_town_sure)
}

DOUBTS: dict[str, Callable[[_References, str], bool]] = {
    "postal.town": _near_town,
    "member.name_kana": _near_member_kana,
    "household.head_name_kana": _near_head_kana,
}
"""References that make a confident reading doubtful when it nearly, but not
exactly, says what they say: a misreading is likelier than the resident
writing a town one character off their own postal code, or their own name
one kana or a ゛ off."""
DOUBTED = 0.5


def _voiced_as(read: str, reference: str) -> str | None:
    """``read`` with the voicing marks of ``reference`` put back where the reading lost them.

    A handwritten ゛ or ゜ is two small strokes the reader often does not see
    (ウエタ for ウエダ), and nobody leaves one out of their own name. ``None``
    unless lost voicing marks (and the size of a kana: banks print シユウイチ)
    are all that differs; spaces and kana sizes stay as read.
    """
    bare, ref = "".join(read.split()), "".join(reference.split())
    if len(bare) != len(ref):
        return None
    voiced = []
    for r, f in zip(bare, ref, strict=True):
        if kana_key(r) == kana_key(f):
            voiced.append(r)
        elif len(f) == 1 and _unvoiced(f) == r:
            voiced.append(f)
        else:
            return None
    if voiced == list(bare):
        return None
    it = iter(voiced)
    return "".join(c if c.isspace() else next(it) for c in read)


def _member_kana_spelling(refs: _References, read: str) -> str | None:
    # Whether a handwritten kana is small (ョ) or large (ヨ) is a guess from its
    # written size, and residents write small kana large: the registry knows.
    # So does it whether a ゛ the reader did not see is there.
    m = refs.member()
    if m is None or _kana(m.name_kana) == _kana(read):
        return None
    voiced = _voiced_as(read, m.name_kana) or read
    return m.name_kana if kana_key(m.name_kana) == kana_key(voiced) else None


def _head_kana_voicing(refs: _References, read: str) -> str | None:
    # The account holder keeps the bank's kana sizes as written; only the lost
    # voicing marks of the head of household's name are put back.
    hh = refs.household()
    return _voiced_as(read, hh.head.name_kana) if hh is not None else None


def _respaced(read: str, reference: str) -> str | None:
    """``read`` with its spaces where ``reference`` has them, if that is all that differs."""
    bare, ref = "".join(read.split()), reference.split()
    if len(bare) != sum(map(len, ref)) or read == reference:
        return None
    words, at = [], 0
    for word in ref:
        words.append(bare[at : at + len(word)])
        at += len(word)
    spaced = "\u3000".join(words)
    return spaced if spaced != read else None


#: Characters a recogniser cannot tell apart in a name (トミ read 卜三, 子 read 了 in print).
LOOKALIKES = str.maketrans("卜三口工力二八夕一了", "トミロエカニハター子")


def _lookalike_key(text: str) -> str:
    return _name_key(text).translate(LOOKALIKES)


def _as_registry(read: str, reference: str) -> str | None:
    """``read`` spaced as ``reference``, its look-alikes written as there; ``None`` if more differs.

    Variant kanji stay as written (髙 stays 髙): the resident may write either.
    """
    if _lookalike_key(read) != _lookalike_key(reference):
        return None
    bare, ref = "".join(read.split()), "".join(reference.split())
    if len(bare) != len(ref):
        return None
    kept = "".join(
        r if r.translate(preprinted.VARIANTS) == w.translate(preprinted.VARIANTS) else w
        for r, w in zip(bare, ref, strict=True)
    )
    spaced = _respaced(kept, reference) or kept
    return spaced if spaced != read else None


def _member_name_spacing(refs: _References, read: str) -> str | None:
    # Where the family name ends, and トミ or 卜三, the registry knows: 西村誠 is 西村　誠.
    m = refs.member()
    return _as_registry(read, m.name) if m else None


def _household_name_spacing(refs: _References, read: str) -> str | None:
    hh = refs.household()
    same = [m for m in (hh.members if hh else []) if _lookalike_key(m.name) == _lookalike_key(read)]
    return _as_registry(read, same[0].name) if len(same) == 1 else None


SPELLS: dict[str, Callable[[_References, str], str | None]] = {
    "member.name_kana": _member_kana_spelling,
    "member.name": _member_name_spacing,
    "household.member_name": _household_name_spacing,
    "household.head_name_kana": _head_kana_voicing,
}
"""References that decide what the reading cannot: a reading that differs from
the resident's registry kana only in the size of a kana (キヨコ / キョコ) or in
voicing marks the reader lost (ウエタ for ウエダ) takes the registry's
spelling; a name that differs from the registry's only in where the space
between family and given name falls, or in look-alikes (卜三 for トミ, 了 for
子), takes the registry's spacing and look-alikes (variant kanji stay
as written: 髙 stays 髙). Flagged ``registry_spelling``; ``raw`` keeps what was
read. The account holder takes only the head of household's lost voicing
marks: there a resident writes the bank's kana sizes, シユン, as often as the
registry's. Spelling comes before doubting (:data:`DOUBTS`): a reading one
lost ゛ off the registry is spelled, one kana off is doubted."""

SURE_CHARACTER = CONFIRMED
"""A character read at least this sure is taken as read when a list decides
another, doubtful, character of the same reading. As sure as a confirmed
reading: below it, characters are misread about one time in a hundred."""


def _misread_at(read: str, at: int, name: str) -> bool:
    """Whether ``name`` is ``read`` with its character ``at`` misread, lost or split.

    That character read for another, for none, or for two (one added beside
    it, or 須磨 read as one 年): the other characters as read.
    """
    if name == read:
        return False
    if len(name) == len(read):
        return name[:at] == read[:at] and name[at + 1 :] == read[at + 1 :]
    if len(name) == len(read) - 1:
        return name == read[:at] + read[at + 1 :]
    if len(name) == len(read) + 1:
        return name[:at] == read[:at] and name[at + 2 :] == read[at + 1 :]
    return False


def _misread_only_at(read: str, at: list[int], name: str) -> bool:
    """Whether ``name`` is ``read`` with some of its characters ``at`` misread, the rest as read."""
    return len(name) == len(read) and all(
        a == b or i in at for i, (a, b) in enumerate(zip(name, read, strict=True))
    )


def _merged_at(read: str, at: int, name: str) -> bool:
    """Whether ``name`` is ``read`` with its character ``at`` and a neighbour read as one."""
    if len(name) != len(read) - 1:
        return False
    with_before = at > 0 and name[: at - 1] == read[: at - 1] and name[at:] == read[at + 1 :]
    with_after = at + 1 < len(read) and name[:at] == read[:at] and name[at + 1 :] == read[at + 2 :]
    return with_before or with_after


def _as_listed(
    fv: FieldValue,
    spellings: Mapping[str, frozenset[str]],
    fits: Callable[[str], bool] = lambda name: True,
    doubts: int = 1,
) -> tuple[str, float] | None:
    """The listed name a reading spells, and how sure that is; ``None`` when the list cannot say.

    ``spellings`` maps every way a listed name is written (with and without
    its type words: 三宮, 三宮支店, 三宮店) to the names it may be; only names
    that ``fits`` are taken. A reading written so of exactly one name is that
    name, :data:`CONFIRMED`.

    Else, when exactly one character of the reading is in doubt (below
    :data:`SURE_CHARACTER`) and at least one other is sure, the list decides
    that character: the names it could have been (misread, lost, or two
    characters read as one -- :func:`_misread_at`) are looked up, and also
    the names where it and a neighbour could have been one (:func:`_merged_at`).
    Exactly one name in all, reached with the sure characters as read, and the
    reading is that name, as sure as those characters. Never when several names
    are that near (三営 for 三宮, 三田 or 三鷹; 北年 for 北播 or 北須磨): a person
    chooses.

    With ``doubts=2`` (for a caller whose ``fits`` brings evidence of its own)
    two doubtful characters may be decided so, each misread for one other.
    """
    from validators.reference import written_key

    if fv.raw is None:
        return None
    read = written_key(fv.raw)
    exact = {n for n in spellings.get(read, ()) if fits(n)}
    if exact:
        return (next(iter(exact)), CONFIRMED) if len(exact) == 1 else None
    chars = fv.char_confidences
    if not chars or len(chars) != len(read) or abs(min(chars) - fv.confidence) > 1e-3:
        return None  # characters not one to one, or something else than one is in doubt
    weak = [i for i, c in enumerate(chars) if c < SURE_CHARACTER]
    if not 1 <= len(weak) <= doubts or len(weak) >= len(chars):
        return None  # too many in doubt, or nothing sure to go by
    sure = min([CONFIRMED, *(c for i, c in enumerate(chars) if i not in weak)])
    if len(weak) == 2:
        # both misread, or either misread, lost, split or merged: only one name in all
        both = {
            n for k in spellings if _misread_only_at(read, weak, k) for n in spellings[k] if fits(n)
        }
        either = {
            n
            for at in weak
            for k in spellings
            if _misread_at(read, at, k) or _merged_at(read, at, k)
            for n in spellings[k]
            if fits(n)
        }
        return (both.pop(), sure) if len(both) == 1 and either <= both else None
    at = weak[0]
    misread = {n for k in spellings if _misread_at(read, at, k) for n in spellings[k] if fits(n)}
    merged = {n for k in spellings if _merged_at(read, at, k) for n in spellings[k] if fits(n)}
    if len(misread) != 1 or not merged <= misread:
        return None
    return misread.pop(), sure


#: A spelling a reference decided: the value, how sure it is, and the flag it carries
#: (:data:`LISTED` for the bank and postal lists, :data:`REGISTERED` for the registry).
Spelled = tuple[str, float, str]
LISTED = "reference_spelling"
REGISTERED = "registry_spelling"


def _bank_spelling(refs: _References, fv: FieldValue) -> Spelled | None:
    # A bank the list does not hold, one doubtful character off a bank of the
    # ticked type. The branch written chooses among several such banks (the
    # one it is found under); when it is found under none, the name decides alone.
    from validators.normalize import BANK_SUFFIXES, strip_suffix
    from validators.reference import bank, bank_spellings, find_banks, find_branches

    if not isinstance(fv.value, str):
        return None
    kind, branch = refs.value("bank_type"), refs.value("branch_name")
    found = find_banks(fv.value)
    if found:
        # listed as read, but for the kana's script (リそな for りそな: the twins ー/一 and
        # リ/り are drawn alike): the list's spelling
        if len(found) == 1 and kind in (None, found[0].type):
            name = strip_suffix(found[0].name, BANK_SUFFIXES)
            if name != fv.value and _kana(name) == _kana(fv.value):
                return name, CONFIRMED, LISTED
        return None

    def of_type(code: str) -> bool:
        ref = bank(code)
        return ref is not None and kind in (None, ref.type)

    def with_branch(code: str) -> bool:
        return of_type(code) and branch is not None and bool(find_branches(code, branch))

    # with_branch's names are of_type's too: where the first is ambiguous, so is the
    # second. The branch is evidence of its own: with it, two doubtful characters
    # may be decided (みずぽ read with ず and ぽ in doubt: みずほ, not みなと, has 長田).
    listed = (
        _as_listed(fv, bank_spellings(), with_branch, doubts=2)
        or _as_listed(fv, bank_spellings(), of_type)
        or _as_seen(refs.seen.get(fv.field_id), _written_banks(kind))
    )
    if listed is None:
        return None
    code, sure = listed
    ref = bank(code)
    return (strip_suffix(ref.name, BANK_SUFFIXES), sure, LISTED) if ref is not None else None


def _branch_spelling(refs: _References, fv: FieldValue) -> Spelled | None:
    # A branch its bank does not list, of a bank found without doubt.
    from validators.reference import branch_spellings, find_banks, find_branches

    bank_name = refs.value("bank_name")
    banks = find_banks(bank_name, refs.value("bank_type")) if bank_name else []
    if len(banks) != 1 or not isinstance(fv.value, str) or find_branches(banks[0].code, fv.value):
        return None
    spellings = branch_spellings(banks[0].code)
    listed = _as_listed(fv, spellings) or _as_seen(
        refs.seen.get(fv.field_id), _written_branches(spellings)
    )
    return (*listed, LISTED) if listed is not None else None


@cache
def _written_banks(kind: str | None) -> dict[str, str]:
    """Every way a resident writes each bank of type ``kind`` (any type when ``None``),
    to its code: its name with and without its type words (三井住友, 三井住友銀行).
    """
    from validators.normalize import BANK_SUFFIXES, strip_suffix
    from validators.reference import WRITTEN_TYPES, bank, bank_spellings

    out: dict[str, str] = {}
    for code in sorted({c for codes in bank_spellings().values() for c in codes}):
        ref = bank(code)
        if ref is None or kind not in (None, ref.type):
            continue
        stem = strip_suffix(ref.name, BANK_SUFFIXES)
        for word in ("", *(w for w, t in WRITTEN_TYPES if t == ref.type)):
            out.setdefault(stem + word, code)
    return out


def _written_branches(spellings: Mapping[str, frozenset[str]]) -> dict[str, str]:
    """Every way a resident writes each branch of ``spellings`` (三宮, 三宮支店, 三宮店 → 三宮)."""
    from validators.reference import WRITTEN_BRANCH_SUFFIXES

    names = {n for group in spellings.values() for n in group}
    return {n + suffix: n for n in names for suffix in WRITTEN_BRANCH_SUFFIXES}


LATTICE_LISTS = frozenset({"bank", "branch"})
"""References whose fields the engine keeps its lattice for (:func:`_as_seen`)."""

UNLISTED = 0.02
"""How much the engine's own reading weighs against the listed names in :func:`_as_seen`
(the odds that a resident wrote a name the list does not have, as the engine read it)."""

SEEN_FLOOR = 1e-3
"""A character the engine gave less than this anywhere in the crop is not there."""


def _as_seen(read: Recognition | None, written: Mapping[str, str]) -> tuple[str, float] | None:
    """The listed name the crop most likely shows, by the engine's lattice, and how sure.

    ``written`` maps every way of writing each listed name (三宮, 三宮支店, …)
    to the name. Each way is scored by how likely the engine finds it in the
    crop, the ways of one name summed. The name is as sure as its share of all
    the names' likelihood and of the engine's own reading weighed by
    :data:`UNLISTED`: a character the engine dropped (神 for 神戸, 戸 at 0.18
    against the blank) leaves the listed name nearly as likely as the reading
    and far likelier than any other name; a character the engine read firmly
    otherwise leaves it far behind. ``None`` when no name is more likely than
    not, or without a lattice.
    """
    if read is None or read.lattice is None or not read.text:
        return None
    present = _present(read, {ch for text in written for ch in text})
    ways = sorted(text for text in written if set(text) <= present)
    if not ways:
        return None
    scores = read.lattice.likelihood([*ways, read.text])
    by_name: dict[str, float] = {}
    for text, score in zip(ways, scores[:-1], strict=False):
        by_name[written[text]] = by_name.get(written[text], 0.0) + float(score)
    best = max(by_name, key=lambda n: by_name[n])
    total = sum(by_name.values()) + UNLISTED * float(scores[-1])
    sure = by_name[best] / total if total > 0 else 0.0
    return (best, min(sure, CONFIRMED)) if sure > 0.5 else None


def _present(read: Recognition, characters: set[str]) -> set[str]:
    """Those of ``characters`` the engine saw somewhere in the crop (:data:`SEEN_FLOOR`)."""
    lattice = read.lattice
    assert lattice is not None
    return {ch for ch in characters if lattice.peak(ch) >= SEEN_FLOOR}


#: How people write a registry address's 丁目・番・号 (3丁目4番5号 as 3-4-5, 4番5号 as 4-5).
_DASHED = (
    (re.compile(r"(\d+)丁目(\d+)番地?の?(\d+)号?"), r"\1-\2-\3"),
    (re.compile(r"(\d+)番地?の?(\d+)号?"), r"\1-\2"),
)


def _written_forms(address: str) -> set[str]:
    """A registry address as residents write it: as registered or dashed, with or without 兵庫県."""
    from validators.reference import _address_key

    dashed = address
    for pattern, repl in _DASHED:
        dashed = pattern.sub(repl, dashed)
    forms = {address, dashed}
    return {_address_key(prefix + f) for f in forms for prefix in ("", "兵庫県")}


def _identified_resident(refs: _References) -> Member | None:
    """The resident the form's number finds, when the form's name or birth date is theirs too."""
    member = refs.member()
    if member is None:
        return None
    name = refs.value(refs.about.get("member.name", ""))
    born = refs.value(refs.about.get("member.birth_date", ""))
    agrees = (name is not None and _name_key(name) == _name_key(member.name)) or (
        born == member.birth_date
    )
    return member if agrees else None


def _as_registered(
    read: str, chars: list[float], registered: set[str], differ: int = 2
) -> str | None:
    """The one registered spelling ``read`` is, but for at most ``differ`` doubtful characters.

    ``read`` and the spellings are compared character by character (the same
    length): every character that differs must be one read in doubt (below
    :data:`SURE_CHARACTER`), and at least three others must agree.
    """
    if len(chars) != len(read):
        return None
    meant = []
    for spelling in registered:
        if len(spelling) != len(read):
            continue
        off = [i for i, (a, b) in enumerate(zip(read, spelling, strict=True)) if a != b]
        if (
            1 <= len(off) <= differ
            and len(read) - len(off) >= 3
            and all(chars[i] < SURE_CHARACTER for i in off)
        ):
            meant.append(spelling)
    return meant[0] if len(meant) == 1 else None


def _registered_address(refs: _References, fv: FieldValue) -> Spelled | None:
    # The resident's own address (the form's number finds them, and their name or
    # birth date agrees), as they write it: read so, the registry confirms it; read
    # so but for one or two doubtful characters, it decides those.
    from validators.reference import _address_key

    resident = _identified_resident(refs)
    if resident is None or not isinstance(fv.value, str):
        return None
    household = registry().household_of(resident)
    if household is None:
        return None
    forms = _written_forms(household.address)
    read = _address_key(fv.value)
    if read in forms:
        return fv.value, CONFIRMED, REGISTERED
    meant = _as_registered(read, fv.char_confidences, forms)
    if meant is None:
        return None
    where = [i for i, c in enumerate(fv.value) if not c.isspace()]
    spelled = list(fv.value)
    for at, (a, b) in enumerate(zip(read, meant, strict=True)):
        if a != b:
            spelled[where[at]] = b
    return "".join(spelled), CONFIRMED, REGISTERED


def _registered_kana(refs: _References, fv: FieldValue) -> Spelled | None:
    # The resident's own furigana, one or two doubtful kana off the registry's
    # (タリヤ for タツヤ, リ read sure for nothing): the registry's, the resident
    # found by number and by name or birth date.
    resident = _identified_resident(refs)
    if resident is None or not isinstance(fv.value, str):
        return None
    read = "".join(fv.value.split())
    if _as_registered(read, fv.char_confidences, {"".join(resident.name_kana.split())}) is None:
        return None
    return resident.name_kana, CONFIRMED, REGISTERED


def _address_spelling(refs: _References, fv: FieldValue) -> Spelled | None:
    registered = _registered_address(refs, fv)
    if registered is not None:
        return registered
    # An address whose weakest character is the one that keeps it off the city and
    # town of its postal code (長H区 for 長田区), the postal code read sure: the
    # town's character, when exactly one town of the code can be meant. The other
    # characters of the town are the list's own; the rest (番地, building) decides
    # how sure the address is, as for a town confirmed as read (_town_sure).
    from validators.reference import _address_key, address_near_postal, town_spellings

    postal = refs.values.get("postal_code")
    if (
        postal is None
        or not isinstance(postal.value, str)
        or postal.status != "ok"
        or postal.confidence < SURE_CHARACTER
        or fv.raw is None
        or not address_near_postal(fv.raw, postal.value)
    ):
        return None
    read = _address_key(fv.raw)
    chars = fv.char_confidences
    written = fv.value if isinstance(fv.value, str) else ""
    if not chars or not len(chars) == len(read) == len("".join(written.split())):
        return None
    at = min(range(len(chars)), key=chars.__getitem__)
    if chars[at] >= SURE_CHARACTER or abs(chars[at] - fv.confidence) > 1e-3:
        return None  # no character in doubt, or the doubt is not in a character
    # what the doubtful character stands for (a character, none, or two), and where
    # the town ends in the reading; the fewest changes first (梅ケ杏町 is 梅ケ香町, not
    # 梅ケ香町町 with 杏 read for 香町)
    meant = sorted(
        {
            (len(town) > end, town[at : at + 1 + len(town) - end], end)
            for town in town_spellings(postal.value)
            for end in (len(town) - 1, len(town), len(town) + 1)
            if at < end <= len(read) and _misread_at(read[:end], at, town)
        }
    )
    fewest = [m for m in meant if m[0] == meant[0][0]] if meant else []
    if len(fewest) != 1:
        return None
    _, character, end = fewest[0]
    where = [i for i, c in enumerate(written) if not c.isspace()][at]
    spelled = written[:where] + character + written[where + 1 :]
    return spelled, min([CONFIRMED, *chars[end:]]), LISTED


REFERENCE_SPELLS: dict[str, Callable[[_References, FieldValue], Spelled | None]] = {
    "bank": _bank_spelling,
    "branch": _branch_spelling,
    "postal.town": _address_spelling,
    "member.name_kana": _registered_kana,
}
"""References that spell a name they do not list as read: a branch of the
bank written (only when the bank is found, and only one), or a bank, one
doubtful character off exactly one name of the list (三営 with 営 in doubt,
where the bank has 三宮 and no other 三?, 三?? or ?), or written with type
words the normaliser does not take off (三宮店). The value becomes the listed
name without type words (the form's value: 三宮, 三井住友); ``raw`` keeps what
was read; flagged ``reference_spelling``. The confidence is that of the
characters kept (see :func:`_as_listed`): the list decides only the doubtful
one. A bank only of the type ticked; among several, the one the branch
written is found under. And an address's city and town, one character off
those of its postal code (read sure) where the reading is weakest, and
exactly one town of the code can be meant: that character becomes the
town's (長H区源平町 → 長田区源平町), the rest stays as read and decides how sure
the address is. Before that, a resident's own address as the registry has it
(:func:`_registered_address`). Spelling comes before doubting
(:data:`DOUBTS`): what the list cannot decide is doubted."""


def corroborate(
    form: FormSpec, values: dict[str, FieldValue], seen: Mapping[str, Recognition] | None = None
) -> list[str]:
    """Raise the confidence of doubtful readings their reference confirms; the ids confirmed.

    Also lowers to :data:`DOUBTED` a reading its reference nearly matches (:data:`DOUBTS`),
    and gives a reading the reference's spelling where only the reference can
    decide (:data:`SPELLS`, :data:`REFERENCE_SPELLS`). A spelled field counts as
    confirmed when it ends at or above the auto-accept threshold.
    """
    refs = _References(form, values, seen)
    confirmed = []
    for spec in form.fields:
        fv = values.get(spec.id)
        spell = SPELLS.get(spec.confirm_by or "")
        spelling = (
            spell(refs, fv.value)
            if spell is not None
            and fv is not None
            and fv.source == "ocr"
            and isinstance(fv.value, str)
            and not fv.flags
            else None
        )
        if fv is not None and spelling is not None:
            fv.value = spelling
            fv.confidence = max(fv.confidence, CONFIRMED)
            fv.flags = ["registry_spelling"]
            fv.status = status_for(fv.confidence, blank=False)
            confirmed.append(spec.id)
            continue
        listed = REFERENCE_SPELLS.get(spec.confirm_by or "")
        spelled = (
            listed(refs, fv)
            if listed is not None
            and fv is not None
            and fv.source == "ocr"
            and isinstance(fv.value, str)
            and fv.value
            and not fv.flags
            else None
        )
        if fv is not None and spelled is not None:
            as_read = spelled[0] == fv.value
            fv.value, listed_sure, flag = spelled
            fv.confidence = max(fv.confidence, listed_sure)
            fv.flags = ["confirmed" if as_read else flag]
            fv.status = status_for(fv.confidence, blank=False)
            if fv.confidence >= auto_accept():
                confirmed.append(spec.id)
            continue
        doubt = DOUBTS.get(spec.confirm_by or "")
        if (
            doubt is not None
            and fv is not None
            and fv.source == "ocr"
            and isinstance(fv.value, str)
            and fv.confidence > DOUBTED
            and doubt(refs, fv.value)
        ):
            fv.confidence = DOUBTED
            fv.status = status_for(fv.confidence, blank=False)
            continue
        if (
            spec.confirm_by is None
            or fv is None
            or fv.source != "ocr"
            or not isinstance(fv.value, str)
            or not fv.value
            or fv.confidence >= CONFIRMED
            or fv.flags
            or fv.raw is None
        ):
            continue
        if spec.confirm_by == "postal.town":
            sure = _town_sure(refs, fv)
            if sure is not None:
                fv.confidence = sure
                fv.flags = ["confirmed"]
                fv.status = status_for(fv.confidence, blank=False)
                confirmed.append(spec.id)
            continue
        if refs.agrees(spec, fv.value):
            fv.confidence = CONFIRMED
            fv.flags = ["confirmed"]
            fv.status = status_for(fv.confidence, blank=False)
            confirmed.append(spec.id)
    return confirmed
