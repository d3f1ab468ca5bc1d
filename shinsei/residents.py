"""The resident registry extract (住民基本台帳) the forms are pre-printed from.

Read-only reference data: the validators match applicants against it, the
letter writer takes names and addresses from it (never from OCR), the
sample generator fills forms from it and the legacy stand-in is seeded
from it. ``SHINSEI_REGISTRY_DIR`` points at another extract with the same
two files (``households.csv``, ``members.csv``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

import pandas as pd

from shinsei.config import REPO_ROOT

DEFAULT_DIR = REPO_ROOT / "samples" / "registry"


@dataclass(frozen=True)
class Member:
    """One resident (世帯員)."""

    household_id: str
    member_no: str
    name: str
    name_kana: str
    relation: str
    sex: str
    birth_date: str
    my_number: str
    insured_number: str | None


@dataclass(frozen=True)
class Household:
    """One household (世帯) with its members, head first."""

    household_id: str
    applicant_no: str
    postal_code: str
    address: str
    head_member_no: str
    members: tuple[Member, ...]

    @property
    def head(self) -> Member:
        return next(m for m in self.members if m.member_no == self.head_member_no)


class ResidentRegistry:
    """Lookups over the registry extract, indexed once."""

    def __init__(self, directory: Path | None = None) -> None:
        directory = directory or Path(os.environ.get("SHINSEI_REGISTRY_DIR", DEFAULT_DIR))
        text = {"dtype": str, "keep_default_na": False}
        households = pd.read_csv(directory / "households.csv", **text)
        members = pd.read_csv(directory / "members.csv", **text)
        by_household: dict[str, list[Member]] = {}
        for rec in members.to_dict("records"):
            member = Member(**{**rec, "insured_number": rec["insured_number"] or None})
            by_household.setdefault(member.household_id, []).append(member)
        self.households: dict[str, Household] = {}
        self._by_applicant: dict[str, Household] = {}
        self._members: dict[str, Member] = {}
        self._by_insured: dict[str, Member] = {}
        self._by_my_number: dict[str, Member] = {}
        for rec in households.to_dict("records"):
            hh = Household(**rec, members=tuple(by_household.get(rec["household_id"], ())))
            self.households[hh.household_id] = hh
            self._by_applicant[hh.applicant_no] = hh
            for m in hh.members:
                self._members[m.member_no] = m
                self._by_my_number[m.my_number] = m
                if m.insured_number:
                    self._by_insured[m.insured_number] = m

    def by_applicant_no(self, applicant_no: str) -> Household | None:
        return self._by_applicant.get(applicant_no)

    def by_insured_number(self, insured_number: str) -> Member | None:
        return self._by_insured.get(insured_number)

    def by_my_number(self, my_number: str) -> Member | None:
        return self._by_my_number.get(my_number)

    def member(self, member_no: str) -> Member | None:
        return self._members.get(member_no)

    def household_of(self, member: Member) -> Household:
        return self.households[member.household_id]

    def members(self) -> list[Member]:
        return list(self._members.values())

    @cached_property
    def family_names(self) -> frozenset[str]:
        """Every family name (姓) in the registry: the surnames the city knows."""
        return frozenset(m.name.split("\u3000")[0] for m in self._members.values())


@cache
def registry() -> ResidentRegistry:
    """The process-wide registry (loaded once; about 0.1 s)."""
    return ResidentRegistry()
