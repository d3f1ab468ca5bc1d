"""Japanese domain checks on offline reference data.

=============================  ==================================================
rule                           what it checks (parameters name the fields)
=============================  ==================================================
postal_matches_address         the postal code exists and its town is the address's
                               (``postal``, ``address``; without ``postal`` a
                               〒NNN-NNNN written in the address is used)
bank_exists                    a bank of that name exists (``bank_name``, ``bank_type``)
bank_names_match               the ticked type is the type of the bank of that name,
                               and the words written after the name agree
branch_exists                  a branch of that name exists under that bank
                               (``bank_name``, ``bank_type``, ``branch_name``)
account_holder_matches_head    口座名義 = the head of household's kana in the
                               registry, small kana read as large
                               (``holder``, ``applicant_no``, ``head_kana``)
my_number_valid                個人番号: 12 digits with a correct check digit
applicant_in_registry          申請者番号 exists (and passes its Luhn digit); the
                               printed head and members are the registry's
insured_in_registry            被保険者番号 / 個人番号 belong to the person named, born
                               on that date, and to the same person
duplicate_application          no earlier application of the same form and key
=============================  ==================================================

Blank values are skipped: a missing field is its ``required`` rule's finding.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field
from stdnum import luhn
from stdnum.jp import in_ as my_number

from forms.schema import RuleSpec
from shinsei.model import Document
from shinsei.residents import Member
from validators.conditions import as_date, is_blank
from validators.japanese import same_kana, same_name
from validators.reference import (
    address_matches_postal,
    find_banks,
    find_branches,
    postal_towns,
    written_type,
)
from validators.registry import Violation, register_rule
from validators.wareki import to_wareki

if TYPE_CHECKING:
    from validators.engine import RuleContext


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _own(rule: RuleSpec) -> dict[str, object]:
    return {k: v for k, v in rule.params.items() if k != "when"}


def _text(doc: Document, field_id: str | None) -> str | None:
    if field_id is None:
        return None
    value = doc.value(field_id)
    return None if is_blank(value) or not isinstance(value, str) else value


def _raw(doc: Document, field_id: str) -> str | None:
    fv = doc.fields.get(field_id)
    return None if fv is None else fv.raw


# -- postal codes ----------------------------------------------------------------


class PostalParams(_Params):
    postal: str | None = None
    address: str


_POSTAL_IN_TEXT = re.compile(r"〒?\s*(\d{3})\s*[-－ー‐−]?\s*(\d{4})")


@register_rule("postal_matches_address", params=PostalParams, field_params=("postal", "address"))
def postal_matches_address(doc: Document, rule: RuleSpec, ctx: RuleContext) -> Violation | None:
    """The postal code exists and belongs to the town of the address (日本郵便のデータ)."""
    p = PostalParams.model_validate(_own(rule))
    address = _text(doc, p.address)
    if address is None:
        return None
    fields = [f for f in (p.postal, p.address) if f]
    if p.postal is not None:
        code = _text(doc, p.postal)
    else:
        m = _POSTAL_IN_TEXT.search(address)
        code = m.group(1) + m.group(2) if m else None
        address = _POSTAL_IN_TEXT.sub("", address).strip() if m else address
    if code is None:
        return None
    towns = postal_towns(code)
    shown = f"〒{code[:3]}-{code[3:]}" if len(code) == 7 else code
    if not towns:
        return Violation(fields, f"郵便番号{shown}は存在しません", {"postal": shown})
    if address_matches_postal(address, code):
        return None
    where = "、".join(sorted({t.city + t.neighborhood for t in towns}))
    return Violation(
        fields, f"郵便番号{shown}は{where}の番号です", {"postal": shown, "town": where}
    )


# -- banks -----------------------------------------------------------------------

_TYPE_LABEL = {
    "bank": "銀行",
    "shinkin": "信用金庫",
    "shinkumi": "信用組合",
    "nokyo": "農協",
    "rokin": "労金",
    "other": "その他",
}


class BankParams(_Params):
    bank_name: str = "bank_name"
    bank_type: str = "bank_type"


class BranchParams(BankParams):
    branch_name: str = "branch_name"
    branch_type: str = "branch_type"


def _ticked_type(doc: Document, field_id: str) -> str | None:
    value = doc.value(field_id)
    return value if isinstance(value, str) else None


@register_rule("bank_exists", params=BankParams, field_params=("bank_name", "bank_type"))
def bank_exists(doc: Document, rule: RuleSpec, ctx: RuleContext) -> Violation | None:
    """A financial institution of the written name exists (全銀協の金融機関コード)."""
    p = BankParams.model_validate(_own(rule))
    name = _text(doc, p.bank_name)
    if name is None or find_banks(name):
        return None
    return Violation([p.bank_name], f"「{name}」という金融機関が見つかりません", {"bank": name})


@register_rule("bank_names_match", params=BankParams, field_params=("bank_name", "bank_type"))
def bank_names_match(doc: Document, rule: RuleSpec, ctx: RuleContext) -> Violation | None:
    """The ticked type (銀行・信用金庫…) is that of the bank of the written name.

    Also the type words written after the name (神戸信用金庫) must agree with
    the ticked box. An unknown name is ``bank_exists``'s finding.
    """
    p = BankParams.model_validate(_own(rule))
    name = _text(doc, p.bank_name)
    ticked = _ticked_type(doc, p.bank_type)
    if name is None or ticked is None:
        return None
    fields = [p.bank_name, p.bank_type]
    said = written_type(_raw(doc, p.bank_name))
    if said is not None and said != ticked:
        return Violation(
            fields,
            f"金融機関名の「{_TYPE_LABEL[said]}」と"
            f"種別の「{_TYPE_LABEL.get(ticked, ticked)}」が違います",
        )
    banks = find_banks(name)
    if not banks or any(b.type == ticked for b in banks):
        return None
    kinds = "、".join(f"{b.name}（{_TYPE_LABEL.get(b.type, b.type)}）" for b in banks)
    return Violation(
        fields, f"「{name}」は{kinds}で、{_TYPE_LABEL.get(ticked, ticked)}ではありません"
    )


@register_rule(
    "branch_exists",
    params=BranchParams,
    field_params=("bank_name", "bank_type", "branch_name", "branch_type"),
)
def branch_exists(doc: Document, rule: RuleSpec, ctx: RuleContext) -> Violation | None:
    """A branch of the written name exists under the bank (of the ticked type when known)."""
    p = BranchParams.model_validate(_own(rule))
    name = _text(doc, p.bank_name)
    branch = _text(doc, p.branch_name)
    if name is None or branch is None:
        return None
    banks = find_banks(name, _ticked_type(doc, p.bank_type)) or find_banks(name)
    if not banks:
        return None  # bank_exists reports it
    if any(find_branches(b.code, branch) for b in banks):
        return None
    names = "、".join(b.name for b in banks)
    return Violation(
        [p.branch_name],
        f"{names}に「{branch}」という本支店が見つかりません",
        {"bank": names, "branch": branch},
    )


# -- the registry ------------------------------------------------------------------


class HolderParams(_Params):
    holder: str = "account_holder_kana"
    applicant_no: str = "applicant_no"
    head_kana: str | None = "head_name_kana"


@register_rule(
    "account_holder_matches_head",
    params=HolderParams,
    field_params=("holder", "applicant_no", "head_kana"),
)
def account_holder_matches_head(
    doc: Document, rule: RuleSpec, ctx: RuleContext
) -> Violation | None:
    """口座名義（カナ）is the head of household's フリガナ (small kana read as large).

    The head's kana comes from the registry by 申請者番号; when the number is
    not in the registry, from the printed フリガナ.
    """
    p = HolderParams.model_validate(_own(rule))
    holder = _text(doc, p.holder)
    if holder is None:
        return None
    applicant_no = _text(doc, p.applicant_no)
    household = ctx.registry.by_applicant_no(applicant_no) if applicant_no else None
    head_kana = household.head.name_kana if household else _text(doc, p.head_kana)
    if head_kana is None or same_kana(holder, head_kana, fold_small=True):
        return None
    return Violation(
        [p.holder], f"口座名義「{holder}」、世帯主「{head_kana}」", {"head_kana": head_kana}
    )


@register_rule("my_number_valid")
def my_number_valid(doc: Document, rule: RuleSpec, ctx: RuleContext) -> Violation | None:
    """Each filled 個人番号 has 12 digits and a correct check digit (番号法施行令第8条)."""
    bad = [
        f
        for f in rule.fields
        if _text(doc, f) is not None and not my_number.is_valid(_text(doc, f) or "")
    ]
    return Violation(bad, "桁数またはチェックデジットが正しくありません") if bad else None


class ApplicantParams(_Params):
    applicant_no: str = "applicant_no"
    head_name: str | None = "head_name"
    head_name_kana: str | None = "head_name_kana"
    head_birth_date: str | None = "head_birth_date"
    member_rows: int = Field(default=0, ge=0, le=20)
    """Check the printed rows ``member_<n>_name`` / ``member_<n>_birth_date`` (n from 1)."""

    def field_ids(self) -> list[str]:
        ids = []
        for n in range(1, self.member_rows + 1):
            ids += [f"member_{n}_name", f"member_{n}_birth_date"]
        return ids


def _person_differs(
    doc: Document,
    member: Member,
    *,
    name: str | None,
    kana: str | None,
    birth: str | None,
    label: str,
) -> list[tuple[str, str]]:
    """(field, what differs) for each printed/written value that is not the registry's."""
    out: list[tuple[str, str]] = []
    written_name = _text(doc, name)
    if name and written_name is not None and not same_name(written_name, member.name):
        out.append((name, f"{label}氏名「{written_name}」≠住民記録「{member.name}」"))
    written_kana = _text(doc, kana)
    if kana and written_kana is not None and not same_kana(written_kana, member.name_kana):
        out.append((kana, f"{label}フリガナ「{written_kana}」≠住民記録「{member.name_kana}」"))
    written_birth = as_date(doc.value(birth)) if birth else None
    registry_birth = as_date(member.birth_date)
    if birth and written_birth is not None and written_birth != registry_birth:
        shown = to_wareki(registry_birth) if registry_birth else member.birth_date
        out.append((birth, f"{label}生年月日{to_wareki(written_birth)}≠住民記録{shown}"))
    return out


@register_rule(
    "applicant_in_registry",
    params=ApplicantParams,
    field_params=("applicant_no", "head_name", "head_name_kana", "head_birth_date"),
)
def applicant_in_registry(doc: Document, rule: RuleSpec, ctx: RuleContext) -> Violation | None:
    """申請者番号 is a household of the registry; the printed head and members are its own."""
    p = ApplicantParams.model_validate(_own(rule))
    number = _text(doc, p.applicant_no)
    if number is None:
        return None
    if not luhn.is_valid(number) or len(number) != 10:
        return Violation(
            [p.applicant_no], f"申請者番号{number}の桁数またはチェックデジットが違います"
        )
    household = ctx.registry.by_applicant_no(number)
    if household is None:
        return Violation([p.applicant_no], f"申請者番号{number}は住民記録にありません")
    problems = _person_differs(
        doc,
        household.head,
        name=p.head_name,
        kana=p.head_name_kana,
        birth=p.head_birth_date,
        label="世帯主",
    )
    for n in range(1, p.member_rows + 1):
        name_f, birth_f = f"member_{n}_name", f"member_{n}_birth_date"
        if n <= len(household.members):
            problems += _person_differs(
                doc,
                household.members[n - 1],
                name=name_f,
                kana=None,
                birth=birth_f,
                label=f"給付対象者{n} ",
            )
        elif _text(doc, name_f) is not None:
            problems.append((name_f, f"給付対象者{n}の行は住民記録にない人です"))
    if not problems:
        return None
    return Violation([f for f, _ in problems], "；".join(d for _, d in problems))


class InsuredParams(_Params):
    insured_number: str = "insured_number"
    my_number: str | None = "my_number"
    name: str | None = "name"
    name_kana: str | None = "name_kana"
    birth_date: str | None = "birth_date"


@register_rule(
    "insured_in_registry",
    params=InsuredParams,
    field_params=("insured_number", "my_number", "name", "name_kana", "birth_date"),
)
def insured_in_registry(doc: Document, rule: RuleSpec, ctx: RuleContext) -> Violation | None:
    """被保険者番号 and 個人番号 are one person's, who has the name and birth date written.

    Names are compared with variant kanji folded (髙橋 = 高橋). With no
    被保険者番号 (第2号被保険者) the person is found by 個人番号.
    """
    p = InsuredParams.model_validate(_own(rule))
    insured = _text(doc, p.insured_number)
    number = _text(doc, p.my_number)
    by_insured = ctx.registry.by_insured_number(insured) if insured else None
    by_number = ctx.registry.by_my_number(number) if number and my_number.is_valid(number) else None
    problems: list[tuple[str, str]] = []
    if insured and by_insured is None:
        problems.append((p.insured_number, f"被保険者番号{insured}は住民記録にありません"))
    if by_insured and by_number and by_insured.member_no != by_number.member_no:
        problems.append(
            (p.my_number or p.insured_number, "被保険者番号と個人番号が別の人のものです")
        )
    person = by_insured or by_number
    if person is not None:
        problems += _person_differs(
            doc, person, name=p.name, kana=p.name_kana, birth=p.birth_date, label=""
        )
    elif number and not insured:
        problems.append((p.my_number or "", "個人番号の人が住民記録にありません"))
    if not problems:
        return None
    return Violation([f for f, _ in problems if f], "；".join(d for _, d in problems))


# -- the ledger ----------------------------------------------------------------------


def document_key(doc: Document, ctx: RuleContext) -> str | None:
    """The applicant's key: the document's ``key``, else the first filled key field."""
    if doc.key:
        return doc.key
    for fid in ctx.form.key_fields:
        value = _text(doc, fid)
        if value:
            return value
    return None


@register_rule("duplicate_application")
def duplicate_application(doc: Document, rule: RuleSpec, ctx: RuleContext) -> Violation | None:
    """No earlier application of the same form and key (二重申請); else a person decides."""
    key = document_key(doc, ctx)
    if key is None:
        return None
    earlier = ctx.prior_applications(ctx.form.form_id, key, doc.id)
    if not earlier:
        return None
    ids = "、".join(e[:12] for e in earlier)
    fields = list(rule.fields) or list(ctx.form.key_fields[:1])
    return Violation(fields, f"同じ申請者の先の申請があります（文書 {ids}）", {"earlier": ids})
