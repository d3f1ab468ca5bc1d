"""Realistic values shared by the content modules: phones, banks, doctors, dates.

Banks and branches are real (the ``zengin_code`` package's data), chosen
among the institutions residents of Kobe use, with branches in or near the
city. Clinics and doctors are invented.
"""

from __future__ import annotations

import importlib.util
import json
import random
import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path

from samples.application import nfkc
from shinsei.errors import ConfigError

#: Mail is received on this day (受付日): every application date is on or before it.
RECEIPT_DATE = date(2020, 6, 1)


def random_date(rng: random.Random, start: date, end: date) -> date:
    """A day in ``[start, end]``."""
    return start + timedelta(days=rng.randint(0, (end - start).days))


def phone_groups(rng: random.Random, *, mobile_share: float = 0.45) -> tuple[str, str, str]:
    """A Kobe landline (078-xxx-xxxx) or a mobile number (090/080/070-xxxx-xxxx)."""
    if rng.random() < mobile_share:
        return (
            rng.choice(["090", "080", "070"]),
            f"{rng.randint(1000, 9999)}",
            f"{rng.randint(0, 9999):04d}",
        )
    return "078", f"{rng.randint(200, 999)}", f"{rng.randint(0, 9999):04d}"


# --------------------------------------------------------------------------- banks

#: Institutions around Kobe: zengin code, type option, weight, branch names as in zengin.
_KOBE_BANKS: list[tuple[str, str, int, list[str]]] = [
    (
        "0009",
        "bank",
        14,
        [
            "三宮",
            "神戸駅前",
            "六甲",
            "御影",
            "住吉",
            "甲南",
            "灘",
            "兵庫",
            "湊川",
            "長田",
            "板宿",
            "須磨",
            "垂水",
            "鈴蘭台",
            "北鈴蘭台",
            "藤原台",
            "西神中央",
            "神戸学園都市",
            "岡本",
            "本山",
        ],
    ),
    (
        "0562",
        "bank",
        16,
        [
            "本山",
            "水道筋",
            "兵庫",
            "長田",
            "板宿",
            "垂水",
            "西鈴蘭台",
            "高倉台",
            "青木",
            "横尾",
            "谷上",
            "春日野",
            "西神中央",
            "住吉",
            "六甲道",
            "藤原台",
            "三宮",
            "学園都市",
            "甲南",
            "鈴蘭台",
            "押部谷",
            "神戸駅前",
            "舞子",
            "月見山",
            "伊川谷",
            "岩岡",
        ],
    ),
    ("0005", "bank", 8, ["神戸中央", "三宮", "岡本駅前", "東神戸", "住吉", "神戸", "兵庫", "長田"]),
    ("0001", "bank", 6, ["神戸", "灘", "垂水", "長田", "住吉"]),
    ("0010", "bank", 4, ["神戸", "西神戸", "神戸岡本", "北鈴蘭台", "垂水", "押部谷出張所"]),
    ("0161", "bank", 3, ["神戸", "六甲", "住吉御影"]),
    (
        "0164",
        "bank",
        3,
        ["神戸", "長田", "甲南", "垂水", "月見山", "箕谷", "兵庫", "藤原台", "六甲道", "西神中央"],
    ),
    ("0159", "bank", 2, ["神戸中央", "神戸"]),
    (
        "1680",
        "shinkin",
        5,
        [
            "西神戸",
            "春日野",
            "西灘",
            "長田",
            "板宿",
            "兵庫",
            "月見山",
            "須磨",
            "垂水",
            "東灘",
            "白川台",
            "西鈴蘭台",
            "学園都市",
            "西神ニュータウン",
            "玉津",
            "塩屋",
            "北野",
            "六甲",
        ],
    ),
    ("1688", "shinkin", 4, ["神戸東", "神戸", "六甲", "長田東", "深江"]),
    ("2606", "shinkumi", 2, ["兵庫", "三宮", "六甲道"]),
    (
        "7213",
        "nokyo",
        2,
        [
            "垂水",
            "押部",
            "神出",
            "玉津",
            "岩岡",
            "須磨",
            "谷上",
            "道場",
            "八多",
            "大沢",
            "淡河",
            "北神長尾",
            "小部",
            "西鈴蘭台出張所",
        ],
    ),
    ("2978", "rokin", 2, ["神戸", "北須磨出張所"]),
]

#: How zengin abbreviates each type, and the words residents write after the name.
_ZENGIN_SUFFIX = {
    "bank": "",
    "shinkin": "信金",
    "shinkumi": "信組",
    "nokyo": "農協",
    "rokin": "労金",
}
_WRITTEN_SUFFIX = {
    "bank": ["銀行"],
    "shinkin": ["信用金庫", "信用金庫", "信金"],
    "shinkumi": ["信用組合"],
    "nokyo": ["農協", "農業協同組合"],
    "rokin": ["労働金庫"],
}


@dataclass(frozen=True)
class Branch:
    """A real bank branch as the form asks for it: names without their type words."""

    bank_code: str
    bank_name: str
    """Canonical value of ``bank_name`` (without 銀行/信用金庫…; NFKC: 三菱UFJ)."""
    bank_type: str
    branch_code: str
    branch_name: str
    """Canonical value of ``branch_name`` (without 支店/出張所)."""
    branch_type: str

    def written_bank(self, rng: random.Random) -> str:
        """The name as a resident writes it: usually bare, sometimes with its type."""
        if rng.random() < 0.3:
            return self.bank_name + rng.choice(_WRITTEN_SUFFIX[self.bank_type])
        return self.bank_name

    def written_branch(self, rng: random.Random) -> str:
        if rng.random() < 0.25:
            return self.branch_name + ("出張所" if self.branch_type == "shutchojo" else "支店")
        return self.branch_name

    def display(self) -> tuple[str, str]:
        """Full names as printed on a passbook: ``三井住友銀行``, ``三宮支店``."""
        return (
            self.bank_name + _WRITTEN_SUFFIX[self.bank_type][0],
            self.branch_name + ("出張所" if self.branch_type == "shutchojo" else "支店"),
        )


def _zengin_dir() -> Path:
    spec = importlib.util.find_spec("zengin_code")
    if spec is None or spec.origin is None:
        raise ConfigError("the zengin-code package is not installed")
    return Path(spec.origin).parent / "source-data" / "data"


@cache
def kobe_branches() -> tuple[tuple[Branch, int], ...]:
    """Every (branch, weight) of :data:`_KOBE_BANKS`, checked against the zengin data."""
    data = _zengin_dir()
    banks = json.loads((data / "banks.json").read_text(encoding="utf-8"))
    out: list[tuple[Branch, int]] = []
    for code, kind, weight, names in _KOBE_BANKS:
        bank = banks[code]
        zname = nfkc(bank["name"])
        suffix = _ZENGIN_SUFFIX[kind]
        if suffix and not zname.endswith(suffix):
            raise ConfigError(f"zengin bank {code} {zname} is not a {kind}")
        bank_name = zname[: -len(suffix)] if suffix else zname
        branches = json.loads((data / "branches" / f"{code}.json").read_text(encoding="utf-8"))
        by_name = {b["name"]: b["code"] for b in branches.values()}
        for name in names:
            if name not in by_name:
                raise ConfigError(f"zengin has no branch {name} of {zname} ({code})")
            btype = "shutchojo" if name.endswith("出張所") else "shiten"
            bname = re.sub("出張所$", "", name)
            branch = Branch(code, bank_name, kind, by_name[name], bname, btype)
            out.append((branch, max(1, weight * 10 // len(names))))
    return tuple(out)


def pick_branch(rng: random.Random) -> Branch:
    choices = kobe_branches()
    return rng.choices([b for b, _ in choices], weights=[w for _, w in choices], k=1)[0]


def account_number(rng: random.Random) -> str:
    return f"{rng.randint(1, 9)}{rng.randint(0, 999999):06d}"


# --------------------------------------------------------------------------- kana

_SMALL_TO_LARGE = str.maketrans("ャュョッァィゥェォ", "ヤユヨツアイウエオ")


def large_kana(kana: str) -> str:
    """Small kana written large, as many passbooks print names (キョウコ → キヨウコ)."""
    return kana.translate(_SMALL_TO_LARGE)


# --------------------------------------------------------------------------- doctors, clinics

_CLINIC_PATTERNS = [
    "{town}内科クリニック",
    "{family}内科医院",
    "{family}医院",
    "{town}診療所",
    "{family}クリニック",
    "医療法人{family}会 {family}内科",
    "{town}ファミリークリニック",
    "{family}整形外科",
    "{town}中央病院",
    "{family}脳神経外科クリニック",
]
_DOCTOR_GIVEN = [
    "一郎",
    "健一",
    "誠",
    "浩",
    "隆",
    "茂",
    "直樹",
    "裕子",
    "恵子",
    "修",
    "博之",
    "智子",
    "明美",
    "大輔",
    "剛",
    "俊介",
    "聡",
    "洋子",
    "正樹",
    "和彦",
]


def clinic_name(rng: random.Random, family: str, town: str) -> str:
    return rng.choice(_CLINIC_PATTERNS).format(family=family, town=town)


def doctor_name(rng: random.Random, family: str) -> str:
    return f"{family}\u3000{rng.choice(_DOCTOR_GIVEN)}"


INSURERS = [
    "全国健康保険協会兵庫支部",
    "神戸市国民健康保険",
    "兵庫県市町村職員共済組合",
    "健康保険組合連合会兵庫連合会",
    "公立学校共済組合兵庫支部",
    "神戸製鋼所健康保険組合",
    "川崎重工業健康保険組合",
]

OTHER_ID_DOCUMENTS = [
    "住民基本台帳カード",
    "身体障害者手帳",
    "年金手帳",
    "後期高齢者医療被保険者証",
    "介護保険被保険者証",
    "療育手帳",
]


def town_of(address: str) -> str:
    """The town part of a Kobe address (神戸市灘区水道筋4丁目… → 水道筋)."""
    m = re.match(r"神戸市[^区]+区([^\d\s]+)", address)
    if not m:
        return "神戸"
    return re.split("[町通]", m.group(1))[0][:4] or "神戸"
