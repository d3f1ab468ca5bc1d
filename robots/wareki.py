"""和暦 as the legacy screens want it: an era and year / month / day numbers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

#: 元号 and their first days, newest first.
ERAS: tuple[tuple[str, date], ...] = (
    ("令和", date(2019, 5, 1)),
    ("平成", date(1989, 1, 8)),
    ("昭和", date(1926, 12, 25)),
    ("大正", date(1912, 7, 30)),
    ("明治", date(1868, 10, 23)),
)

_PRINTED = re.compile(r"^(明治|大正|昭和|平成|令和)(\d+|元)年(\d+)月(\d+)日$")


@dataclass(frozen=True)
class WarekiDate:
    """A date in the Japanese calendar, e.g. 令和2年5月10日."""

    era: str
    year: int
    month: int
    day: int

    @classmethod
    def from_iso(cls, iso: str) -> WarekiDate:
        """``"2020-05-10"`` → ``WarekiDate("令和", 2, 5, 10)``."""
        value = date.fromisoformat(iso)
        for era, start in ERAS:
            if value >= start:
                return cls(era, value.year - start.year + 1, value.month, value.day)
        raise ValueError(f"{iso} is before 明治")

    @classmethod
    def parse(cls, text: str) -> WarekiDate | None:
        """Read a printed date (``令和2年5月10日``, ``令和元年…``); ``None`` for a blank."""
        text = text.strip()
        if not text:
            return None
        m = _PRINTED.match(text)
        if m is None:
            raise ValueError(f"not a printed 和暦 date: {text!r}")
        year = 1 if m.group(2) == "元" else int(m.group(2))
        return cls(m.group(1), year, int(m.group(3)), int(m.group(4)))
