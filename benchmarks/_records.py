"""Ready documents made from the resident registry, for keying tests and benchmarks.

Each document carries the canonical values of DESIGN.md as a perfect OCR +
validation pass would leave them, and is registered in a ledger and moved
to ``ready`` through the ledger's own stage methods (intake → extraction →
validation), so the robot meets exactly what production gives it.
"""

from __future__ import annotations

import hashlib
import json
import random
import unicodedata
from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from zengin_code import Bank

from shinsei.model import Document, FieldValue
from shinsei.residents import Household, Member, registry
from store.ledger import Ledger

RECEIPT_DATE = date(2020, 6, 1)
REFERENCE_DATE = date(2020, 4, 27)

#: Banks residents of 神戸市 write, as (bank code, the name written, its type).
_BANKS = [
    ("0009", "三井住友", "bank"),
    ("0005", "三菱UFJ", "bank"),
    ("0001", "みずほ", "bank"),
    ("0010", "りそな", "bank"),
    ("0164", "但馬", "bank"),
    ("1688", "尼崎", "shinkin"),
    ("1680", "神戸", "shinkin"),
    ("2978", "近畿", "rokin"),
]
_CLINICS = [
    ("神戸中央クリニック", "山本　一郎", "神戸市中央区加納町6丁目5番1号", "078-331-8181"),
    ("灘内科医院", "中村　和子", "神戸市灘区水道筋3丁目12番4号", "078-861-2020"),
    ("須磨よつば診療所", "小林　誠", "神戸市須磨区大黒町2丁目1番3号", "078-731-5511"),
    ("北神戸病院", "加藤　裕子", "神戸市北区鈴蘭台北町1丁目9番1号", "078-592-3300"),
]
_INSURERS = [
    ("全国健康保険協会兵庫支部", "1234・567"),
    ("神戸市国民健康保険", "神戸・20815"),
    ("兵庫県市町村職員共済組合", "52・3301"),
]
_DISEASES = ["脳血管疾患", "初老期における認知症", "関節リウマチ", "脊柱管狭窄症"]


def _fv(field_id: str, value: Any) -> FieldValue:
    source = "preprinted" if field_id.startswith(("applicant_no", "head_", "member_")) else "ocr"
    return FieldValue(
        field_id=field_id,
        value=value,
        confidence=0.99,
        source=source,  # type: ignore[arg-type]
        raw=None if value is None else str(value),
        status="missing" if value in (None, [], "") else "ok",
    )


def _is_jis(text: str) -> bool:
    try:
        text.encode("shift_jis")
    except UnicodeEncodeError:
        return False
    return True


def _plain_branch(rng: random.Random, bank_code: str) -> tuple[str, str]:
    """A branch of the bank whose name carries no type word (a 支店), or 本店."""
    branches = Bank.all[bank_code].branches
    names = [
        unicodedata.normalize("NFKC", b.name)
        for b in branches.values()
        if not b.name.endswith(("出張所", "営業部", "本店")) and not b.name[0].isdigit()
    ]
    if "本店" in {b.name for b in branches.values()} and rng.random() < 0.1:
        return "本店", "honten"
    return rng.choice(names), "shiten"


def _application_date(rng: random.Random) -> str:
    return (date(2020, 5, 1) + timedelta(days=rng.randrange(31))).isoformat()


def _phone(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return f"078-{rng.randrange(200, 999)}-{rng.randrange(10000):04d}"
    return f"090-{rng.randrange(1000, 9999)}-{rng.randrange(10000):04d}"


def kyufukin_document(household: Household, rng: random.Random, **overrides: Any) -> Document:
    """A ready 特別定額給付金 application of ``household`` (``overrides``: field id → value)."""
    head = household.head
    values: dict[str, Any] = {
        "applicant_no": household.applicant_no,
        "qr_code": f"KF1|{household.applicant_no}",
        "application_date": _application_date(rng),
        "head_name_kana": head.name_kana,
        "head_name": head.name,
        "refuse_benefit": False,
        "head_birth_date": head.birth_date,
        "phone": _phone(rng),
        "head_address": f"{household.postal_code} {household.address}",
    }
    for n in range(1, 6):
        member = household.members[n - 1] if n <= len(household.members) else None
        values[f"member_{n}_name"] = member.name if member else None
        values[f"member_{n}_relation"] = member.relation if member else None
        values[f"member_{n}_birth_date"] = member.birth_date if member else None
        values[f"member_{n}_refuse"] = bool(member) and n > 1 and rng.random() < 0.05
    code, bank_name, bank_type = rng.choice(_BANKS)
    branch_name, branch_type = _plain_branch(rng, code)
    values.update(
        payment_method="transfer" if rng.random() < 0.9 else "copy_attached",
        bank_name=bank_name,
        bank_type=bank_type,
        branch_name=branch_name,
        branch_type=branch_type,
        account_type="futsu" if rng.random() < 0.95 else "toza",
        account_number=f"{rng.randrange(10**7):07d}",
        account_holder_kana=head.name_kana,
        id_documents=[rng.choice(["drivers_license", "my_number_card", "health_insurance_card"])],
        id_document_other=None,
        signature=True,
        agent_name=None,
        agent_phone=None,
        agent_address=None,
    )
    values.update(overrides)
    return _document("kyufukin", household.applicant_no, values)


def _age(member: Member, on: date) -> int:
    born = date.fromisoformat(member.birth_date)
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _era(iso: str) -> str:
    born = date.fromisoformat(iso)
    if born >= date(1926, 12, 25):
        return "showa"
    return "taisho" if born >= date(1912, 7, 30) else "meiji"


def kaigo_document(member: Member, rng: random.Random, **overrides: Any) -> Document:
    """A ready 要介護認定 application of ``member`` (40 or older)."""
    household = registry().household_of(member)
    application_type = rng.choices(["new", "renewal", "change"], [6, 3, 1])[0]
    follow_up = application_type != "new"
    second = member.insured_number is None
    clinic, doctor, clinic_address, clinic_phone = rng.choice(_CLINICS)
    insurer, symbol = rng.choice(_INSURERS)
    by_family = rng.random() < 0.4 and len(household.members) > 1
    applicant = (
        next((m for m in household.members if m is not member), member) if by_family else member
    )
    values: dict[str, Any] = {
        "qr_code": "FORM|kaigo_nintei|KN-2020-01",
        "application_date": _application_date(rng),
        "application_type": application_type,
        "applicant_name": applicant.name,
        "applicant_relation": "family" if applicant is not member else "self",
        "applicant_relation_detail": rng.choice(["妻", "夫", "長男", "長女", "長男の妻"])
        if applicant is not member
        else None,
        "agent_type": None,
        "agent_name": None,
        "insured_number": member.insured_number,
        "my_number": member.my_number,
        "name_kana": member.name_kana,
        "name": member.name,
        "sex": "male" if member.sex == "男" else "female",
        "birth_era": _era(member.birth_date),
        "birth_date": member.birth_date,
        "postal_code": household.postal_code.replace("-", ""),
        "address": household.address,
        "phone": _phone(rng),
        "previous_level": rng.choice(["support_2", "care_1", "care_2", "care_3"])
        if follow_up
        else None,
        "previous_valid_from": "2019-06-01" if follow_up else None,
        "previous_valid_to": "2020-05-31" if follow_up else None,
        "doctor_clinic": clinic,
        "doctor_name": doctor,
        "doctor_address": clinic_address,
        "doctor_phone": clinic_phone,
        "insurer_name": insurer if second else None,
        "insurance_symbol_number": symbol if second else None,
        "specified_disease": rng.choice(_DISEASES) if second else None,
        "consent_signature": rng.random() < 0.9,
    }
    values.update(overrides)
    return _document("kaigo_nintei", member.insured_number or member.my_number, values)


def _document(form_id: str, key: str, values: dict[str, Any]) -> Document:
    # The id is the hash of the "scan": here, of the values themselves.
    payload = json.dumps({"form": form_id, **values}, ensure_ascii=False, sort_keys=True)
    doc_id = hashlib.sha256(payload.encode("utf-8")).hexdigest()
    return Document(
        id=doc_id,
        file=f"{form_id}-{doc_id[:12]}.json",
        pages=1,
        form_id=form_id,
        key=key,
        fields={k: _fv(k, v) for k, v in values.items()},
        attachments=["id_copy"],
        decision="accept",
    )


def households(*, jis_only: bool = True, start: int = 0) -> Iterator[Household]:
    """Households of the registry in a stable order (heads storable in Shift_JIS by default)."""
    for household in list(registry().households.values())[start:]:
        if not jis_only or all(_is_jis(m.name) for m in household.members):
            yield household


def care_applicants(
    *, second_insured: bool | None = None, jis_only: bool = True
) -> Iterator[Member]:
    """Residents old enough for 介護保険 (40+), 第1号 or 第2号 as asked, in a stable order."""
    for member in registry().members():
        age = _age(member, REFERENCE_DATE)
        if age < 40 or (jis_only and not _is_jis(member.name)):
            continue
        household = registry().household_of(member)
        if jis_only and not all(_is_jis(m.name) for m in household.members):
            continue
        if second_insured is None or second_insured == (member.insured_number is None):
            yield member


def make_ready(
    ledger: Ledger, docs: Iterable[Document], scratch: Path, *, batch_id: str = "bench"
) -> list[str]:
    """Register ``docs`` and move each to ``ready`` through intake, extraction and validation."""
    ledger.ensure_batch(batch_id, RECEIPT_DATE)
    scratch.mkdir(parents=True, exist_ok=True)
    ids = []
    for doc in docs:
        source = scratch / doc.file
        source.write_text(json.dumps(doc.to_dict(), ensure_ascii=False), encoding="utf-8")
        ledger.register_document(
            doc_id=doc.id,
            batch_id=batch_id,
            file=str(source),
            source=source,
            size_bytes=source.stat().st_size,
            page_sizes=[(2480, 3508)],
        )
        ledger.save_extraction(doc)
        ledger.save_validation(doc.id, "accept", [])
        ids.append(doc.id)
    return ids


def mixed_documents(count: int, *, seed: int = 2020, kaigo_share: float = 0.3) -> list[Document]:
    """``count`` documents of both forms, each applicant once, JIS-storable names only."""
    rng = random.Random(seed)
    houses = households()
    carers = care_applicants()
    docs = []
    for _ in range(count):
        if rng.random() < kaigo_share:
            docs.append(kaigo_document(next(carers), rng))
        else:
            docs.append(kyufukin_document(next(houses), rng))
    return docs
