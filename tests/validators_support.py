"""Helpers of the validators' tests: synthetic forms and documents built from the registry."""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Any

import yaml

from forms.loader import FORMS_DIR
from forms.schema import FormSpec
from shinsei.model import Document, FieldValue
from shinsei.residents import Household, Member, registry
from validators.engine import RuleContext
from validators.wareki import to_wareki

RECEIPT = date(2020, 6, 1)


@cache
def dictionary(form_id: str) -> dict[str, Any]:
    path = FORMS_DIR / form_id / "dictionary.yaml"
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def _geometry(field: dict[str, Any], n: int) -> dict[str, Any]:
    """Dummy boxes: rules never look at geometry, the schema wants some."""
    y = 100 + 60 * n
    box = [100, y, 200, 40]
    spec: dict[str, Any] = {
        k: field[k] for k in ("id", "label_ja", "kind", "required", "allowed_values") if k in field
    }
    kind = field["kind"]
    if kind in ("choice", "multichoice"):
        spec["options"] = [
            {"value": o["value"], "label_ja": o["label_ja"], "box": [100 + 50 * i, y, 40, 40]}
            for i, o in enumerate(field["options"])
        ]
    elif kind == "date":
        spec["parts"] = [
            {"name": p, "box": [100 + 100 * i, y, 80, 40]}
            for i, p in enumerate(("year", "month", "day"))
        ]
        if field["id"] == "birth_date":
            spec["era_field"] = "birth_era"
        else:
            spec["era"] = "reiwa"
    else:
        spec["box"] = box
    if kind == "digits":
        spec["charset"] = "digits"
    if field["id"].endswith("phone"):
        spec["charset"] = "phone"
    return spec


def synthetic_form(form_id: str, rules: list[dict[str, Any]] | str | None = None) -> FormSpec:
    """The form of ``form_id``'s dictionary with dummy geometry and the given rules."""
    data = dictionary(form_id)
    if isinstance(rules, str):
        rules = yaml.safe_load(rules) or []
    raw = {
        "form_id": form_id,
        "version": "test",
        "title_ja": data["title_ja"],
        "form_code": data["form_code"],
        "size": [2480, 3508],
        "registration_marks": {
            "top_left": [83, 83, 59, 59],
            "top_right": [2338, 83, 59, 59],
            "bottom_left": [83, 3366, 59, 59],
            "bottom_right": [2338, 3366, 59, 59],
        },
        "qr": {"box": [2000, 100, 300, 300], "pattern": r"^KF1\|(?P<key>\d{10})$"},
        "key_fields": ["applicant_no"]
        if form_id == "kyufukin"
        else ["insured_number", "my_number"],
        "application_window": (
            {"from": "2020-05-01", "to": "2020-08-31"} if form_id == "kyufukin" else None
        ),
        "fields": [_geometry(f, i) for i, f in enumerate(data["fields"])],
        "rules": list(rules or []),
    }
    return FormSpec.model_validate(raw)


def fv(field_id: str, value: Any, confidence: float = 0.99, **kw: Any) -> FieldValue:
    source = kw.pop("source", "ocr")
    return FieldValue(field_id=field_id, value=value, confidence=confidence, source=source, **kw)


def document(form_id: str, values: dict[str, Any], **kw: Any) -> Document:
    fields = {fid: v if isinstance(v, FieldValue) else fv(fid, v) for fid, v in values.items()}
    return Document(
        id=kw.pop("id", "d" * 64), file="test.pdf", form_id=form_id, fields=fields, **kw
    )


def context(form: FormSpec, **kw: Any) -> RuleContext:
    return RuleContext(
        form=form, receipt_date=kw.pop("receipt_date", RECEIPT), registry=registry(), **kw
    )


def household(household_id: str = "H000001") -> Household:
    return registry().households[household_id]


def kyufukin_values(hh: Household) -> dict[str, Any]:
    """A clean 特別定額給付金 application of ``hh``: transfer to a real bank, head's own account."""
    head = hh.head
    values: dict[str, Any] = {
        "applicant_no": hh.applicant_no,
        "qr_code": f"KF1|{hh.applicant_no}",
        "application_date": "2020-05-10",
        "head_name_kana": head.name_kana,
        "head_name": head.name,
        "refuse_benefit": False,
        "head_birth_date": head.birth_date,
        "phone": "078-123-4567",
        "head_address": f"〒{hh.postal_code} {hh.address}",
        "payment_method": "transfer",
        "bank_name": "みなと",
        "bank_type": "bank",
        "branch_name": "本山",
        "branch_type": "shiten",
        "account_type": "futsu",
        "account_number": "1234567",
        "account_holder_kana": head.name_kana,
        "id_documents": ["drivers_license"],
        "id_document_other": None,
        "signature": True,
        "agent_name": None,
        "agent_phone": None,
        "agent_address": None,
    }
    for n in range(1, 6):
        member = hh.members[n - 1] if n <= len(hh.members) else None
        values[f"member_{n}_name"] = member.name if member else None
        values[f"member_{n}_relation"] = member.relation if member else None
        values[f"member_{n}_birth_date"] = member.birth_date if member else None
        values[f"member_{n}_refuse"] = False
    return values


def kaigo_values(
    member: Member, hh: Household, *, application_date: str = "2020-05-20"
) -> dict[str, Any]:
    """A clean 要介護認定 application by the insured person themself."""
    birth = date.fromisoformat(member.birth_date)
    era = to_wareki(birth)[:2]
    era_value = {"明治": "meiji", "大正": "taisho", "昭和": "showa"}[era]
    values: dict[str, Any] = {
        "qr_code": "FORM|kaigo_nintei|KN-2020-01",
        "application_date": application_date,
        "application_type": "new",
        "applicant_name": member.name,
        "applicant_relation": "self",
        "applicant_relation_detail": None,
        "agent_type": None,
        "agent_name": None,
        "insured_number": member.insured_number,
        "my_number": member.my_number,
        "name_kana": member.name_kana,
        "name": member.name,
        "sex": "male" if member.sex == "男" else "female",
        "birth_era": era_value,
        "birth_date": member.birth_date,
        "postal_code": hh.postal_code.replace("-", ""),
        "address": hh.address,
        "phone": "078-987-6543",
        "previous_level": None,
        "previous_valid_from": None,
        "previous_valid_to": None,
        "doctor_clinic": "神戸中央クリニック",
        "doctor_name": "山本　一郎",
        "doctor_address": "神戸市中央区加納町6丁目5番1号",
        "doctor_phone": "078-333-4444",
        "insurer_name": None,
        "insurance_symbol_number": None,
        "specified_disease": None,
        "consent_signature": True,
    }
    return values
