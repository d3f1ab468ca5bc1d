"""What the legacy system's input fields accept: its character sets and 和暦 dates.

The system was built on Shift_JIS: anything outside JIS X 0208 (髙, 﨑, ①)
is a 外字 it cannot store, the account holder must be half-width katakana as
in the 全銀 format (no small kana), and dates are entered as an era and
year/month/day boxes.
"""

from __future__ import annotations

import re
from datetime import date

#: 元号 and the first day of each, newest first.
ERAS: tuple[tuple[str, date], ...] = (
    ("令和", date(2019, 5, 1)),
    ("平成", date(1989, 1, 8)),
    ("昭和", date(1926, 12, 25)),
    ("大正", date(1912, 7, 30)),
    ("明治", date(1868, 10, 23)),
)
ERA_NAMES = tuple(name for name, _ in ERAS)

_HALF_KANA = re.compile(r"^[ｦ-ﾟA-Z0-9 ().,/-]+$")
_SMALL_HALF_KANA = re.compile(r"[ｧ-ｯ]")
_FULL_KATAKANA = re.compile(r"^[ァ-ヶー　]+$")
_PHONE = re.compile(r"^[0-9]{2,5}(-?[0-9]{1,4})(-?[0-9]{3,4})$")
_DIGITS = re.compile(r"^[0-9]+$")


def wareki_to_date(era: str, year: str, month: str, day: str) -> date:
    """``("令和", "2", "5", "10")`` → ``date(2020, 5, 10)``; else ``ValueError`` (in Japanese)."""
    starts = dict(ERAS)
    if era not in starts:
        raise ValueError("元号を選択してください")
    if not all(_DIGITS.match(part or "") for part in (year, month, day)):
        raise ValueError("年月日は半角数字で入力してください")
    first = starts[era]
    try:
        value = date(first.year + int(year) - 1, int(month), int(day))
    except ValueError as exc:
        raise ValueError("存在しない日付です") from exc
    newer = [start for _name, start in ERAS if start > first]
    if value < first or (newer and value >= min(newer)):
        raise ValueError(f"{era}{int(year)}年{int(month)}月{int(day)}日は{era}の期間外です")
    return value


def date_to_wareki(value: date) -> tuple[str, int, int, int]:
    """``date(2020, 5, 10)`` → ``("令和", 2, 5, 10)``."""
    for name, start in ERAS:
        if value >= start:
            return name, value.year - start.year + 1, value.month, value.day
    raise ValueError(f"{value} is before 明治")


def wareki_text(iso: str | None) -> str:
    """``"2020-05-10"`` → ``"令和2年5月10日"`` as the system prints it; blank stays blank."""
    if not iso:
        return ""
    era, year, month, day = date_to_wareki(date.fromisoformat(iso))
    return f"{era}{year}年{month}月{day}日"


def jis_x0208_error(text: str) -> str | None:
    """Why the system cannot store ``text`` (a 外字), or ``None``."""
    for char in text:
        try:
            char.encode("shift_jis")
        except UnicodeEncodeError:
            return f"「{char}」は外字のため入力できません（外字登録が必要です）"
    return None


def half_width_kana_error(text: str) -> str | None:
    """The 口座名義 rule: half-width katakana, upper-case letters, digits, ``().,/-`` and space."""
    if _SMALL_HALF_KANA.search(text):
        return "小書き文字（ｧｨｩｪｫｬｭｮｯ）は使用できません"
    if not _HALF_KANA.match(text):
        return "半角カタカナで入力してください"
    return None


def full_width_katakana_error(text: str) -> str | None:
    if not _FULL_KATAKANA.match(text):
        return "全角カタカナで入力してください"
    return None


def phone_error(text: str) -> str | None:
    digits = text.replace("-", "")
    if not _PHONE.match(text) or not 10 <= len(digits) <= 11:
        return "電話番号は半角数字とハイフンで入力してください"
    return None


def digits_error(text: str, length: int, label: str) -> str | None:
    if not _DIGITS.match(text) or len(text) != length:
        return f"{label}は{length}桁の半角数字で入力してください"
    return None
