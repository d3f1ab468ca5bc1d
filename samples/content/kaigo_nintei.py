"""How a resident (or the family) fills the 要介護認定・要支援認定 申請書 (kaigo_nintei).

The insured person is a registry member aged 40 or over on the application
date: 65 and over are 第1号被保険者 and write their 被保険者番号 (the
registry has one only for them); 40–64 are 第2号 and instead name their
medical insurer, card number and 特定疾病. Clinics and doctors are invented.
This module decides values only; positions come from form.yaml.
"""

from __future__ import annotations

import random
import re
from datetime import date, timedelta

from forms import FormSpec
from samples.application import (
    Application,
    Entry,
    MarkStyle,
    address_value,
    age_on,
    date_pieces,
    name_value,
    nfkc,
    wareki,
)
from samples.content._common import (
    INSURERS,
    RECEIPT_DATE,
    clinic_name,
    doctor_name,
    phone_groups,
    random_date,
    town_of,
)
from shinsei.residents import Member, ResidentRegistry

FORM_ID = "kaigo_nintei"
QR_PAYLOAD = "FORM|kaigo_nintei|KN-2020-01"
APPLICATION_START = date(2020, 5, 7)
#: Members whose 40th or 65th birthday falls in this window are left out: their
#: insurance class on the application date would not match the registry's
#: insured_number (which the registry fixes on 2020-04-27).
_AMBIGUOUS = (date(2020, 4, 1), date(2020, 6, 30))


def _class(birth: date) -> int | None:
    for years in (40, 65):
        try:
            birthday = birth.replace(year=birth.year + years)
        except ValueError:  # 29 February
            birthday = date(birth.year + years, 3, 1)
        if _AMBIGUOUS[0] <= birthday <= _AMBIGUOUS[1]:
            return None
    age = age_on(birth, RECEIPT_DATE)
    if age >= 65:
        return 1
    if age >= 40:
        return 2
    return None


def subjects(reg: ResidentRegistry) -> list[str]:
    """Members who can apply: aged 40+, with an unambiguous insurance class."""
    out = []
    for m in reg.members():
        cls = _class(date.fromisoformat(m.birth_date))
        if cls == 1 and not m.insured_number:
            continue
        if cls is not None:
            out.append(m.member_no)
    return sorted(out)


def facts(reg: ResidentRegistry, subject: str) -> dict[str, object]:
    m = reg.member(subject)
    assert m is not None
    return {"insured_class": _class(date.fromisoformat(m.birth_date))}


_DASHED = [
    (re.compile(r"(\d+)丁目(\d+)番(\d+)号"), r"\1-\2-\3"),
    (re.compile(r"(\d+)丁目(\d+)番地?の?(\d+)"), r"\1-\2-\3"),
    (re.compile(r"(\d+)番(\d+)号"), r"\1-\2"),
]


def _written_address(address: str, rng: random.Random) -> str:
    """The registry address as people write it: often 3丁目4番5号 as 3-4-5."""
    if rng.random() < 0.4:
        for pattern, repl in _DASHED:
            address = pattern.sub(repl, address)
    if rng.random() < 0.1:
        address = "兵庫県" + address
    return address


#: Generation of each 続柄 (relation to the head of household) relative to the head.
_GENERATION = {
    "世帯主": 0,
    "妻": 0,
    "夫": 0,
    "子": 1,
    "孫": 2,
    "父": -1,
    "母": -1,
    "祖父": -2,
    "祖母": -2,
}


def _relation(applicant: Member, insured: Member) -> str:
    """続柄 of the applicant as seen from the insured person (長女, 妻, 長男の妻 …)."""
    a, i = applicant.relation, insured.relation
    male = applicant.sex == "男"
    diff = _GENERATION.get(a, 0) - _GENERATION.get(i, 0)
    if diff == 0:
        if "世帯主" in (a, i) and {a, i} & {"妻", "夫"}:
            return "夫" if male else "妻"
        older = applicant.birth_date < insured.birth_date
        return ("兄" if older else "弟") if male else ("姉" if older else "妹")
    if diff == 1:
        # the head's spouse looking after the head's parent is a child-in-law
        if a in ("妻", "夫") and i in ("父", "母"):
            return "長男の妻" if not male else "長女の夫"
        return "長男" if male else "長女"
    if diff == 2:
        return "孫"
    if diff == -1:
        return "父" if male else "母"
    return "祖父" if male else "祖母"


def _mark_style(rng: random.Random) -> MarkStyle:
    styles: list[MarkStyle] = ["tick", "cross", "circle", "fill"]
    return rng.choices(styles, weights=[72, 6, 16, 6], k=1)[0]


def build(
    spec: FormSpec,
    reg: ResidentRegistry,
    subject: str,
    rng: random.Random,
    *,
    enclosures: bool = True,
) -> Application:
    """A clean application for member ``subject`` (no defects)."""
    insured = reg.member(subject)
    assert insured is not None
    hh = reg.household_of(insured)
    birth = date.fromisoformat(insured.birth_date)
    cls = _class(birth)
    app = Application(FORM_ID, entries={}, values=dict.fromkeys(spec.field_ids))
    style = _mark_style(rng)
    app.facts.update(insured_class=cls, mark_style=style)
    app.set("qr_code", None, QR_PAYLOAD)  # printed on every blank

    applied = random_date(rng, APPLICATION_START, RECEIPT_DATE)
    app.set(
        "application_date",
        Entry(pieces=date_pieces(applied, pad=rng.random() < 0.3)),
        applied.isoformat(),
    )
    kind = rng.choices(["new", "renewal", "change"], weights=[55, 35, 10], k=1)[0]
    app.set("application_type", Entry(marks=(kind,), style=style), kind)

    # who hands in the form: the insured person or a family member
    others = [
        m
        for m in hh.members
        if m.member_no != insured.member_no
        and age_on(date.fromisoformat(m.birth_date), applied) >= 20
    ]
    if others and rng.random() < 0.6:
        applicant = rng.choice(others)
        app.set("applicant_name", Entry(text=applicant.name), applicant.name)
        app.set("applicant_relation", Entry(marks=("family",), style=style), "family")
        detail = _relation(applicant, insured)
        app.set("applicant_relation_detail", Entry(text=detail), detail)
    else:
        applicant = insured
        app.set("applicant_name", Entry(text=insured.name), insured.name)
        app.set("applicant_relation", Entry(marks=("self",), style=style), "self")

    town = town_of(hh.address)
    if rng.random() < 0.2:
        agent = rng.choices(
            ["chiiki_houkatsu", "kyotaku_shien", "kaigo_shisetsu"], weights=[60, 30, 10], k=1
        )[0]
        agent_name = {
            "chiiki_houkatsu": f"{town}あんしんすこやかセンター",
            "kyotaku_shien": f"ケアプランセンター{town}",
            "kaigo_shisetsu": f"特別養護老人ホーム{town}荘",
        }[agent]
        app.set("agent_type", Entry(marks=(agent,), style=style), agent)
        app.set("agent_name", Entry(text=agent_name), nfkc(agent_name))

    if cls == 1 and insured.insured_number:
        app.set("insured_number", Entry(text=insured.insured_number), insured.insured_number)
    app.set("my_number", Entry(text=insured.my_number), insured.my_number)
    app.set("name_kana", Entry(text=insured.name_kana), insured.name_kana)
    app.set("name", Entry(text=insured.name), name_value(insured.name))
    sex = "male" if insured.sex == "男" else "female"
    app.set("sex", Entry(marks=(sex,), style=style), sex)
    era, _, _ = wareki(birth)
    app.set("birth_era", Entry(marks=(era,), style=style), era)
    app.set(
        "birth_date", Entry(pieces=date_pieces(birth, pad=rng.random() < 0.3)), birth.isoformat()
    )
    area, town_code = hh.postal_code.split("-")
    app.set("postal_code", Entry(pieces=(area, town_code)), area + town_code)
    written = _written_address(hh.address, rng)
    app.set("address", Entry(text=written), address_value(written))
    phone = "-".join(phone_groups(rng, mobile_share=0.25))
    app.set("phone", Entry(text=phone), phone)

    if kind in ("renewal", "change"):
        level = rng.choice(
            ["support_1", "support_2", "care_1", "care_2", "care_3", "care_4", "care_5"]
        )
        app.set("previous_level", Entry(marks=(level,), style=style), level)
        # a twelve-month certification ending within three months of the application
        end = rng.choice([6, 7, 8])
        valid_to = date(2020, end + 1, 1) - timedelta(days=1)
        valid_from = date(2019, end + 1, 1)
        pad = rng.random() < 0.3
        app.set(
            "previous_valid_from",
            Entry(pieces=date_pieces(valid_from, pad=pad)),
            valid_from.isoformat(),
        )
        app.set(
            "previous_valid_to", Entry(pieces=date_pieces(valid_to, pad=pad)), valid_to.isoformat()
        )

    family = rng.choice(reg.members()).name.split("\u3000")[0]
    clinic = clinic_name(rng, family, town)
    doctor = doctor_name(rng, family)
    app.set("doctor_clinic", Entry(text=clinic), nfkc(clinic))
    app.set("doctor_name", Entry(text=doctor), name_value(doctor))
    if rng.random() < 0.7:
        other = reg.households[sorted(reg.households)[rng.randrange(len(reg.households))]]
        clinic_address = other.address.split(" ")[0]
        app.set("doctor_address", Entry(text=clinic_address), address_value(clinic_address))
    if rng.random() < 0.7:
        doc_phone = "-".join(phone_groups(rng, mobile_share=0.0))
        app.set("doctor_phone", Entry(text=doc_phone), doc_phone)

    if cls == 2:
        insurer = rng.choice(INSURERS)
        symbol = f"{rng.randint(1000, 99999999)}・{rng.randint(1, 9999)}"
        disease = rng.choice(spec.field("specified_disease").allowed_values or ["脳血管疾患"])
        app.set("insurer_name", Entry(text=insurer), nfkc(insurer))
        app.set("insurance_symbol_number", Entry(text=symbol), nfkc(symbol))
        app.set("specified_disease", Entry(text=disease), nfkc(disease))
        if enclosures and rng.random() < 0.7:
            app.enclosures.append("id_copy")  # copy of the health insurance card
    elif enclosures and rng.random() < 0.15:
        app.enclosures.append("id_copy")

    if rng.random() < 0.9:
        app.set(
            "consent_signature",
            Entry(text=insured.name if rng.random() < 0.7 else applicant.name),
            True,
        )
    app.card.update(
        id_kind="health_insurance_card",
        holder=insured,
        address=hh.address,
        postal_code=hh.postal_code,
        insurer=app.values.get("insurer_name"),
    )
    app.facts["key"] = app.values["insured_number"] or app.values["my_number"]
    return app
