"""How a household fills the 特別定額給付金申請書 (kyufukin).

The city has pre-printed the household: 申請者番号 and its QR code, the
head's フリガナ・氏名・生年月日（和暦）・〒住所, one row per member (氏名, 続柄,
生年月日, 100,000円). The head adds the date, a daytime phone number, the
payment method and account, ticks the ID documents enclosed and signs.
This module decides those values; where they go comes from form.yaml.
"""

from __future__ import annotations

import random
from datetime import date

from forms import FormSpec
from samples.application import (
    Application,
    Entry,
    MarkStyle,
    address_value,
    date_pieces,
    wareki_text,
)
from samples.content._common import (
    OTHER_ID_DOCUMENTS,
    account_number,
    large_kana,
    phone_groups,
    pick_branch,
    random_date,
)
from shinsei.residents import Household, ResidentRegistry

FORM_ID = "kyufukin"
MAX_ROWS = 5
AMOUNT_TEXT = "100,000円"
APPLICATION_START = date(2020, 5, 1)
APPLICATION_LAST = date(2020, 6, 1)


def qr_payload(applicant_no: str) -> str:
    return f"KF1|{applicant_no}"


def subjects(reg: ResidentRegistry) -> list[str]:
    """Households whose members all fit on the form (at most 5 rows)."""
    return sorted(
        h.household_id for h in reg.households.values() if 1 <= len(h.members) <= MAX_ROWS
    )


def facts(reg: ResidentRegistry, subject: str) -> dict[str, object]:
    hh = reg.households[subject]
    return {"members": len(hh.members), "key": hh.applicant_no}


def _amount_boxes(spec: FormSpec, rows: int) -> list[tuple[tuple[int, int, int, int], str]]:
    """Where the city prints 100,000円 in each member row.

    form.yaml has no field for the amount (nobody reads it), so it is put in
    the column right of the row's birth date box, measured from that box.
    """
    out = []
    for i in range(1, rows + 1):
        x, y, w, h = spec.field(f"member_{i}_birth_date").box or [0, 0, 0, 0]
        out.append(((x + w + 4, y, int(w * 0.62), h), AMOUNT_TEXT))
    return out


def _preprint(app: Application, hh: Household) -> None:
    head = hh.head
    app.set("applicant_no", Entry(text=hh.applicant_no, preprinted=True), hh.applicant_no)
    payload = qr_payload(hh.applicant_no)
    app.set("qr_code", Entry(qr_payload=payload, preprinted=True), payload)
    app.set("head_name_kana", Entry(text=head.name_kana, preprinted=True), head.name_kana)
    app.set("head_name", Entry(text=head.name, preprinted=True), head.name)
    birth = date.fromisoformat(head.birth_date)
    app.set("head_birth_date", Entry(text=wareki_text(birth), preprinted=True), birth.isoformat())
    postal = f"〒{hh.postal_code}"
    app.set(
        "head_address",
        Entry(text=f"{postal}\u3000{hh.address}", preprinted=True),
        f"{postal} {hh.address}",
    )
    for i in range(1, MAX_ROWS + 1):
        app.set(f"member_{i}_refuse", None, False)
        if i > len(hh.members):
            for part in ("name", "relation", "birth_date"):
                app.set(f"member_{i}_{part}", None, None)
            continue
        m = hh.members[i - 1]
        mb = date.fromisoformat(m.birth_date)
        app.set(f"member_{i}_name", Entry(text=m.name, preprinted=True), m.name)
        app.set(f"member_{i}_relation", Entry(text=m.relation, preprinted=True), m.relation)
        app.set(
            f"member_{i}_birth_date", Entry(text=wareki_text(mb), preprinted=True), mb.isoformat()
        )


def _mark_style(rng: random.Random) -> MarkStyle:
    styles: list[MarkStyle] = ["tick", "cross", "circle", "fill"]
    return rng.choices(styles, weights=[70, 10, 14, 6], k=1)[0]


def build(
    spec: FormSpec,
    reg: ResidentRegistry,
    subject: str,
    rng: random.Random,
    *,
    enclosures: bool = True,
) -> Application:
    """A clean application of household ``subject`` (no defects).

    ``enclosures=False`` when the scan file can hold one page only (PNG,
    JPEG): nothing is enclosed, so payment is by method ① and the ID box is ticked.
    """
    hh = reg.households[subject]
    head = hh.head
    app = Application(FORM_ID, entries={}, values=dict.fromkeys(spec.field_ids))
    _preprint(app, hh)
    app.card["preprint_extras"] = _amount_boxes(spec, len(hh.members))
    style = _mark_style(rng)  # one writer, one way of marking boxes
    app.facts.update(mark_style=style, members=len(hh.members), key=hh.applicant_no)

    applied = random_date(rng, APPLICATION_START, APPLICATION_LAST)
    app.set(
        "application_date",
        Entry(pieces=date_pieces(applied, pad=rng.random() < 0.3)),
        applied.isoformat(),
    )
    groups = phone_groups(rng)
    app.set("phone", Entry(pieces=groups), "-".join(groups))
    app.set("refuse_benefit", None, False)

    # one member sometimes declines their share (×)
    if len(hh.members) > 1 and rng.random() < 0.04:
        i = rng.randint(2, len(hh.members))
        app.set(f"member_{i}_refuse", Entry(marks=("on",), style="cross"), True)

    method = "transfer" if not enclosures or rng.random() < 0.8 else "copy_attached"
    app.set("payment_method", Entry(marks=(method,), style=style), method)
    branch = pick_branch(rng)
    number = account_number(rng)
    holder = head.name_kana if rng.random() < 0.75 else large_kana(head.name_kana)
    if len(holder) > 20:
        holder = holder.replace("\u3000", "")[:20]
    app.card.update(
        branch=branch,
        account_number=number,
        account_type="futsu",
        account_holder_kana=holder,
    )
    if method == "transfer" or rng.random() < 0.3:
        app.set("bank_name", Entry(text=branch.written_bank(rng)), branch.bank_name)
        app.set("bank_type", Entry(marks=(branch.bank_type,), style=style), branch.bank_type)
        app.set("branch_name", Entry(text=branch.written_branch(rng)), branch.branch_name)
        app.set("branch_type", Entry(marks=(branch.branch_type,), style=style), branch.branch_type)
        account_type = "futsu" if rng.random() < 0.96 else "toza"
        app.card["account_type"] = account_type
        app.set("account_type", Entry(marks=(account_type,), style=style), account_type)
        app.set("account_number", Entry(text=number, align="right"), number)
        app.set("account_holder_kana", Entry(text=holder), holder)

    # ID documents: what is ticked, and the copy enclosed
    kind = rng.choices(
        ["drivers_license", "my_number_card", "health_insurance_card", "passport", "other"],
        weights=[45, 20, 28, 3, 4],
        k=1,
    )[0]
    ticked = [kind]
    if rng.random() < 0.08:
        ticked.append(
            "health_insurance_card" if kind != "health_insurance_card" else "drivers_license"
        )
    ticked = [v for v in spec.field("id_documents").option_values() if v in ticked]
    copy_enclosed = enclosures
    tick_box = not enclosures or rng.random() < 0.92
    if tick_box:
        app.set("id_documents", Entry(marks=tuple(ticked), style=style), ticked)
        if "other" in ticked:
            other = rng.choice(OTHER_ID_DOCUMENTS)
            app.set("id_document_other", Entry(text=other), other)
    app.card["id_kind"] = kind if kind != "other" else "health_insurance_card"
    app.card["holder"] = head
    app.card["address"] = hh.address
    app.card["postal_code"] = hh.postal_code
    if copy_enclosed:
        app.enclosures.append("id_copy")
    if enclosures and (method == "copy_attached" or rng.random() < 0.25):
        app.enclosures.append("passbook_copy")

    # signature, and now and then an agent who applies for the head
    signer = head.name
    if rng.random() < 0.04 and len(hh.members) > 1:
        agent = hh.members[1]
        agent_groups = phone_groups(rng, mobile_share=0.8)
        app.set("agent_name", Entry(text=agent.name), agent.name)
        app.set("agent_phone", Entry(text="-".join(agent_groups)), "-".join(agent_groups))
        app.set("agent_address", Entry(text=hh.address), address_value(hh.address))
        signer = agent.name if rng.random() < 0.5 else head.name
    app.set("signature", Entry(text=signer), True)
    return app
