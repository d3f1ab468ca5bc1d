"""和暦 (Japanese era) dates to and from ISO dates.

Only the five modern eras are known; that is every date a living resident
or a 2020 application can carry. Era n's year is ``start_year + n - 1``,
the first year is written 元年 or 1年.

Parsing accepts what residents write and reviewers type::

    令和2年5月10日   令和元年5月1日   R2.5.10   R2年5月10日   令2/5/10
    昭和25年3月4日   2020/5/10   2020-05-10   2020年5月10日   20200510
    full-width digits, kanji numerals (令和二年五月十日), 年月日 or not

A date before its era began (令和元年4月30日) is impossible and rejected.
A year past the end of its era (平成32年) is accepted by arithmetic, as
municipal offices did with forms printed before the change of era.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from validators.japanese import fold_width, kanji_numerals_to_digits


@dataclass(frozen=True)
class Era:
    """One 元号: its id (as form.yaml spells it), name, Latin initial and first day."""

    id: str
    name: str
    initial: str
    start: date


#: Oldest first. 明治 starts on 1868-01-01 here (改元 applied to the whole of 明治元年).
ERAS: tuple[Era, ...] = (
    Era("meiji", "明治", "M", date(1868, 1, 1)),
    Era("taisho", "大正", "T", date(1912, 7, 30)),
    Era("showa", "昭和", "S", date(1926, 12, 25)),
    Era("heisei", "平成", "H", date(1989, 1, 8)),
    Era("reiwa", "令和", "R", date(2019, 5, 1)),
)

_BY_KEY: dict[str, Era] = {}
for _era in ERAS:
    for _key in (_era.id, _era.name, _era.name[0], _era.initial, _era.initial.lower()):
        _BY_KEY[_key] = _era


def era(key: str) -> Era:
    """The era named ``key``: ``reiwa``, ``令和``, ``令``, ``R`` or ``r``."""
    try:
        return _BY_KEY[key]
    except KeyError:
        raise ValueError(f"unknown era {key!r}") from None


def era_of(d: date) -> Era:
    """The era ``d`` falls in."""
    for candidate in reversed(ERAS):
        if d >= candidate.start:
            return candidate
    raise ValueError(f"{d.isoformat()} is before 明治")


def to_wareki(d: date, *, gannen: bool = True) -> str:
    """``2019-05-01`` → ``令和元年5月1日`` (``令和1年5月1日`` without ``gannen``)."""
    e = era_of(d)
    year = d.year - e.start.year + 1
    year_text = "元" if year == 1 and gannen else str(year)
    return f"{e.name}{year_text}年{d.month}月{d.day}日"


def from_wareki(era_key: str, year: int, month: int, day: int) -> date:
    """The date of 和暦 ``era year/month/day``; ``ValueError`` if it cannot exist."""
    e = era(era_key)
    if year < 1:
        raise ValueError(f"{e.name}{year}年はありません")
    try:
        d = date(e.start.year + year - 1, month, day)
    except ValueError:
        raise ValueError(f"{e.name}{year}年{month}月{day}日は存在しない日付です") from None
    if d < e.start:
        raise ValueError(f"{e.name}{year}年{month}月{day}日は{e.name}が始まる前の日付です")
    return d


_ERA_NAMES = "|".join(
    sorted(
        {k for k in _BY_KEY if not k.isascii()}
        | {"M", "T", "S", "H", "R", "m", "t", "s", "h", "r"},
        key=len,
        reverse=True,
    )
)
_SEP = r"\s*(?:[年月./\-]|\s)\s*"
_ERA_RE = re.compile(
    rf"^(?P<era>{_ERA_NAMES})\s*(?P<y>\d{{1,2}}|元)\s*(?:[年./\-]|\s)\s*(?P<m>\d{{1,2}}){_SEP}"
    r"(?P<d>\d{1,2})\s*日?$"
)
_WESTERN_RE = re.compile(rf"^(?P<y>\d{{4}}){_SEP}(?P<m>\d{{1,2}}){_SEP}(?P<d>\d{{1,2}})\s*日?$")
_COMPACT_RE = re.compile(r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})$")
_SHORT_RE = re.compile(
    rf"^(?P<y>\d{{1,2}}|元)\s*(?:[年./\-]|\s)\s*(?P<m>\d{{1,2}}){_SEP}(?P<d>\d{{1,2}})\s*日?$"
)
_TIME_SUFFIX_RE = re.compile(r"[T\s]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?$")


def parse_date(text: str, *, default_era: str | None = None) -> date:
    """Parse a written or typed date (和暦 or 西暦); ``ValueError`` with a Japanese message.

    ``default_era`` is the era printed before the boxes (``reiwa``) and is
    used when the text carries no era and a short year (``2.5.10``).
    """
    cleaned = kanji_numerals_to_digits(fold_width(text)).strip()
    cleaned = _TIME_SUFFIX_RE.sub("", cleaned)
    cleaned = cleaned.replace("(", "").replace(")", "")
    if not cleaned:
        raise ValueError("日付が空です")

    def number(value: str) -> int:
        return 1 if value == "元" else int(value)

    m = _ERA_RE.match(cleaned)
    if m:
        return from_wareki(m["era"], number(m["y"]), int(m["m"]), int(m["d"]))
    m = _WESTERN_RE.match(cleaned) or _COMPACT_RE.match(cleaned)
    if m:
        try:
            return date(int(m["y"]), int(m["m"]), int(m["d"]))
        except ValueError:
            raise ValueError(f"「{text}」は存在しない日付です") from None
    m = _SHORT_RE.match(cleaned)
    if m:
        if default_era is None:
            raise ValueError(
                f"「{text}」は元号がわかりません（令和2年5月10日のように記入してください）"
            )
        return from_wareki(default_era, number(m["y"]), int(m["m"]), int(m["d"]))
    raise ValueError(f"「{text}」は日付として読めません")
