"""The two entry screens of the stand-in: what each accepts and how it prints a registration.

``parse_*`` turns a submitted entry form into the data the system stores
plus the errors it shows in red next to each field (field name → message);
``display_*`` turns stored data into the rows of the 申請内容 table that the
確認 and detail screens print. Both screens print the same rows, so what a
clerk (or a robot) confirms is what it will find when it re-opens the record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from zengin_code import Bank

from legacy.text import (
    digits_error,
    full_width_katakana_error,
    half_width_kana_error,
    jis_x0208_error,
    phone_error,
    wareki_text,
    wareki_to_date,
)

Form = Mapping[str, str]
Errors = dict[str, str]

PAYMENTS = {"transfer": "口座振込", "copy": "口座の写し添付", "decline": "受給辞退（世帯全員）"}
ACCOUNT_TYPES = {"1": "普通", "2": "当座"}
ID_DOCUMENTS = {
    "drivers_license": "運転免許証",
    "my_number_card": "マイナンバーカード",
    "health_insurance_card": "健康保険証",
    "passport": "パスポート",
    "other": "その他",
}
APPLICATION_TYPES = {"new": "新規", "renewal": "更新", "change": "区分変更"}
RELATIONS = {"self": "本人", "family": "家族"}
AGENT_TYPES = {
    "chiiki_houkatsu": "地域包括支援センター",
    "kyotaku_shien": "居宅介護支援事業者",
    "kaigo_shisetsu": "介護保険施設",
}
SEXES = {"male": "男", "female": "女"}
CARE_LEVELS = {
    "support_1": "要支援1",
    "support_2": "要支援2",
    "care_1": "要介護1",
    "care_2": "要介護2",
    "care_3": "要介護3",
    "care_4": "要介護4",
    "care_5": "要介護5",
}
SPECIFIED_DISEASES = (
    "がん（末期）",
    "関節リウマチ",
    "筋萎縮性側索硬化症",
    "後縦靱帯骨化症",
    "骨折を伴う骨粗鬆症",
    "初老期における認知症",
    "進行性核上性麻痺、大脳皮質基底核変性症及びパーキンソン病",
    "脊髄小脳変性症",
    "脊柱管狭窄症",
    "早老症",
    "多系統萎縮症",
    "糖尿病性神経障害、糖尿病性腎症及び糖尿病性網膜症",
    "脳血管疾患",
    "閉塞性動脈硬化症",
    "慢性閉塞性肺疾患",
    "両側の膝関節又は股関節に著しい変形を伴う変形性関節症",
)

#: Field lengths; the entry screens set the same ``maxlength`` on their inputs.
MAXLEN = {
    "phone": 13,
    "account_holder": 30,
    "id_document_other": 20,
    "applicant_name": 20,
    "applicant_relation_detail": 10,
    "agent_name": 30,
    "name": 20,
    "name_kana": 30,
    "address": 60,
    "doctor_clinic": 30,
    "doctor_name": 20,
    "doctor_address": 60,
    "doctor_phone": 13,
    "insurer_name": 30,
    "insurance_symbol_number": 30,
}


@dataclass(frozen=True)
class DisplayRow:
    """One row of the 申請内容 table: the printed label and value."""

    label: str
    value: str


def bank_name(code: str | None) -> str:
    bank = Bank.all.get(code or "")
    return "" if bank is None else str(bank.name)


def branch_name(bank_code: str | None, branch_code: str | None) -> str:
    bank = Bank.all.get(bank_code or "")
    branch = None if bank is None else bank.branches.get(branch_code or "")
    return "" if branch is None else str(branch.name)


def _date(form: Form, name: str, errors: Errors, *, required: bool) -> str | None:
    parts = [form.get(f"{name}_{p}", "").strip() for p in ("era", "year", "month", "day")]
    if not any(parts[1:]):
        if required:
            errors[name] = "日付を入力してください"
        return None
    try:
        return wareki_to_date(*parts).isoformat()
    except ValueError as exc:
        errors[name] = str(exc)
        return None


def _text(
    form: Form, name: str, errors: Errors, *, required: bool, check: Any = jis_x0208_error
) -> str | None:
    value = form.get(name, "").strip()
    if not value:
        if required:
            errors[name] = "必須項目です"
        return None
    if len(value) > MAXLEN.get(name, 60):
        errors[name] = f"{MAXLEN.get(name, 60)}文字以内で入力してください"
        return None
    problem = check(value) if check else None
    if problem:
        errors[name] = problem
        return None
    return value


def _choice(
    form: Form, name: str, options: Mapping[str, str], errors: Errors, *, required: bool
) -> str | None:
    value = form.get(name, "")
    if not value:
        if required:
            errors[name] = "選択してください"
        return None
    if value not in options:
        errors[name] = "選択肢にない値です"
        return None
    return value


# -- 特別定額給付金 ----------------------------------------------------------------


def parse_kyufukin(form: Form, member_count: int) -> tuple[dict[str, Any], Errors]:
    """Check a submitted 給付金 entry form: (data to store, errors by field name)."""
    errors: Errors = {}
    data: dict[str, Any] = {
        "application_date": _date(form, "application_date", errors, required=True),
        "phone": _text(form, "phone", errors, required=True, check=phone_error),
        "payment": _choice(form, "payment", PAYMENTS, errors, required=True),
    }
    bank_fields = ("bank_code", "branch_code", "account_type", "account_number", "account_holder")
    given = [f for f in bank_fields if form.get(f, "").strip()]
    if data["payment"] == "decline" and given:
        errors[given[0]] = "受給辞退の場合は口座を入力できません"
    needs_account = data["payment"] == "transfer" or (data["payment"] == "copy" and bool(given))

    def bank_error(code: str) -> str | None:
        if digits_error(code, 4, "金融機関コード"):
            return digits_error(code, 4, "金融機関コード")
        return None if bank_name(code) else "金融機関コードが存在しません"

    def branch_error(code: str) -> str | None:
        if digits_error(code, 3, "店舗コード"):
            return digits_error(code, 3, "店舗コード")
        if not data["bank_code"] or branch_name(data["bank_code"], code):
            return None
        return "店舗コードが存在しません"

    data["bank_code"] = _text(form, "bank_code", errors, required=needs_account, check=bank_error)
    data["branch_code"] = _text(
        form, "branch_code", errors, required=needs_account, check=branch_error
    )
    data["account_type"] = _choice(
        form, "account_type", ACCOUNT_TYPES, errors, required=bool(needs_account)
    )
    data["account_number"] = _text(
        form, "account_number", errors, required=needs_account,
        check=lambda v: digits_error(v, 7, "口座番号"),
    )  # fmt: skip
    data["account_holder"] = _text(
        form, "account_holder", errors, required=needs_account, check=half_width_kana_error
    )
    data["refusing_members"] = [
        seq for seq in range(1, member_count + 1) if form.get(f"refuse_{seq}") == "1"
    ]
    ids = [code for code in ID_DOCUMENTS if form.get(f"id_{code}") == "1"]
    data["id_documents"] = ids
    data["id_document_other"] = _text(form, "id_document_other", errors, required="other" in ids)
    if data["id_document_other"] and "other" not in ids:
        errors["id_document_other"] = "「その他」を選択してください"
    return data, errors


def display_kyufukin(data: Mapping[str, Any]) -> list[DisplayRow]:
    """The 申請内容 rows of a 給付金 registration (members are listed separately)."""
    ids = [ID_DOCUMENTS[c] for c in data.get("id_documents", [])]
    return [
        DisplayRow("申請日", wareki_text(data.get("application_date"))),
        DisplayRow("電話番号", data.get("phone") or ""),
        DisplayRow("受取方法", PAYMENTS.get(data.get("payment") or "", "")),
        DisplayRow("金融機関コード", data.get("bank_code") or ""),
        DisplayRow("金融機関名", bank_name(data.get("bank_code"))),
        DisplayRow("店舗コード", data.get("branch_code") or ""),
        DisplayRow("店舗名", branch_name(data.get("bank_code"), data.get("branch_code"))),
        DisplayRow("預金種目", ACCOUNT_TYPES.get(data.get("account_type") or "", "")),
        DisplayRow("口座番号", data.get("account_number") or ""),
        DisplayRow("口座名義（ｶﾅ）", data.get("account_holder") or ""),
        DisplayRow("本人確認書類", "、".join(ids) if ids else "なし"),
        DisplayRow("その他の書類名", data.get("id_document_other") or ""),
    ]


# -- 要介護認定 ----------------------------------------------------------------------


def parse_kaigo(form: Form, *, second_insured: bool) -> tuple[dict[str, Any], Errors]:
    """Check a submitted 要介護認定 entry form; ``second_insured`` for 第2号 (40–64)."""
    errors: Errors = {}
    data: dict[str, Any] = {
        "application_date": _date(form, "application_date", errors, required=True),
        "application_type": _choice(
            form, "application_type", APPLICATION_TYPES, errors, required=True
        ),
        "applicant_name": _text(form, "applicant_name", errors, required=True),
        "applicant_relation": _choice(form, "applicant_relation", RELATIONS, errors, required=True),
    }
    data["applicant_relation_detail"] = _text(
        form, "applicant_relation_detail", errors, required=data["applicant_relation"] == "family"
    )
    data["agent_type"] = _choice(form, "agent_type", AGENT_TYPES, errors, required=False)
    data["agent_name"] = _text(form, "agent_name", errors, required=bool(data["agent_type"]))
    data["name"] = _text(form, "name", errors, required=True)
    data["name_kana"] = _text(
        form, "name_kana", errors, required=True, check=full_width_katakana_error
    )
    data["birth_date"] = _date(form, "birth_date", errors, required=True)
    data["sex"] = _choice(form, "sex", SEXES, errors, required=True)
    first = form.get("postal_code_1", "").strip()
    last = form.get("postal_code_2", "").strip()
    problem = digits_error(first, 3, "郵便番号（前3桁）") or digits_error(
        last, 4, "郵便番号（後4桁）"
    )
    if problem:
        errors["postal_code"] = problem
    data["postal_code"] = None if problem else first + last
    data["address"] = _text(form, "address", errors, required=True)
    data["phone"] = _text(form, "phone", errors, required=True, check=phone_error)
    follow_up = data["application_type"] in ("renewal", "change")
    data["previous_level"] = _choice(
        form, "previous_level", CARE_LEVELS, errors, required=follow_up
    )
    data["previous_valid_from"] = _date(form, "previous_valid_from", errors, required=follow_up)
    data["previous_valid_to"] = _date(form, "previous_valid_to", errors, required=follow_up)
    if (
        data["previous_valid_from"]
        and data["previous_valid_to"]
        and data["previous_valid_from"] > data["previous_valid_to"]
    ):
        errors["previous_valid_to"] = "有効期間の終了日が開始日より前です"
    data["doctor_clinic"] = _text(form, "doctor_clinic", errors, required=True)
    data["doctor_name"] = _text(form, "doctor_name", errors, required=True)
    data["doctor_address"] = _text(form, "doctor_address", errors, required=False)
    data["doctor_phone"] = _text(form, "doctor_phone", errors, required=False, check=phone_error)
    data["insurer_name"] = _text(form, "insurer_name", errors, required=second_insured)
    data["insurance_symbol_number"] = _text(
        form, "insurance_symbol_number", errors, required=second_insured
    )
    disease = form.get("specified_disease", "")
    if disease and disease not in SPECIFIED_DISEASES:
        errors["specified_disease"] = "特定疾病の一覧から選択してください"
    elif not disease and second_insured:
        errors["specified_disease"] = "第2号被保険者は特定疾病を選択してください"
    data["specified_disease"] = disease or None
    data["consent"] = form.get("consent") == "1"
    return data, errors


def display_kaigo(data: Mapping[str, Any]) -> list[DisplayRow]:
    """The 申請内容 rows of a 要介護認定 registration."""
    postal = data.get("postal_code") or ""
    return [
        DisplayRow("申請日", wareki_text(data.get("application_date"))),
        DisplayRow("申請区分", APPLICATION_TYPES.get(data.get("application_type") or "", "")),
        DisplayRow("申請者氏名", data.get("applicant_name") or ""),
        DisplayRow("本人との関係", RELATIONS.get(data.get("applicant_relation") or "", "")),
        DisplayRow("続柄", data.get("applicant_relation_detail") or ""),
        DisplayRow("提出代行者", AGENT_TYPES.get(data.get("agent_type") or "", "")),
        DisplayRow("提出代行者名称", data.get("agent_name") or ""),
        DisplayRow("被保険者氏名", data.get("name") or ""),
        DisplayRow("フリガナ", data.get("name_kana") or ""),
        DisplayRow("生年月日", wareki_text(data.get("birth_date"))),
        DisplayRow("性別", SEXES.get(data.get("sex") or "", "")),
        DisplayRow("郵便番号", f"{postal[:3]}-{postal[3:]}" if postal else ""),
        DisplayRow("住所", data.get("address") or ""),
        DisplayRow("電話番号", data.get("phone") or ""),
        DisplayRow("前回の要介護度", CARE_LEVELS.get(data.get("previous_level") or "", "")),
        DisplayRow("有効期間（開始）", wareki_text(data.get("previous_valid_from"))),
        DisplayRow("有効期間（終了）", wareki_text(data.get("previous_valid_to"))),
        DisplayRow("医療機関名", data.get("doctor_clinic") or ""),
        DisplayRow("医師氏名", data.get("doctor_name") or ""),
        DisplayRow("医療機関所在地", data.get("doctor_address") or ""),
        DisplayRow("医療機関電話番号", data.get("doctor_phone") or ""),
        DisplayRow("医療保険者名", data.get("insurer_name") or ""),
        DisplayRow("記号番号", data.get("insurance_symbol_number") or ""),
        DisplayRow("特定疾病", data.get("specified_disease") or ""),
        DisplayRow("主治医意見書の提供", "同意する" if data.get("consent") else "同意しない"),
    ]
