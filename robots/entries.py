"""What the robot keys: a ready :class:`~shinsei.model.Document` turned into screen values.

An *entry* holds each value as the legacy screen shows it (labels of
choices, 和暦 dates, half-width kana, bank codes), so the robot can compare
what it typed with what it reads back by plain equality. The page objects
fill an entry in and read one back; this module only translates canonical
values (DESIGN.md) into screen values and says which document fields an
entry attribute came from, for the reviewer's findings.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

import jaconv

from robots.banks import bank_and_branch_codes
from robots.wareki import WarekiDate
from shinsei.model import Document

PAYMENTS = {"transfer": "口座振込", "copy_attached": "口座の写し添付"}
DECLINE = "受給辞退（世帯全員）"
ACCOUNT_TYPES = {"futsu": "普通", "toza": "当座"}
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
MEMBER_ROWS = 5

# 全銀 account names have no small kana: banks print キヨウコ for キョウコ.
_LARGE_KANA = str.maketrans("ｧｨｩｪｫｬｭｮｯ", "ｱｲｳｴｵﾔﾕﾖﾂ")


def account_holder_half_width(kana: str) -> str:
    """``"ヤマダ　キョウコ"`` → ``"ﾔﾏﾀﾞ ｷﾖｳｺ"`` (half-width, large kana, one space)."""
    half = jaconv.z2h(kana.replace("\u3000", " "), kana=True, ascii=True, digit=True)
    return " ".join(half.translate(_LARGE_KANA).split())


def _date(value: Any) -> WarekiDate | None:
    return WarekiDate.from_iso(value) if value else None


def _label(options: dict[str, str], value: Any) -> str | None:
    """The screen label of a choice; ``None`` when blank (or several marked)."""
    return options.get(value) if isinstance(value, str) else None


def _as_listed(doc: Document, field_id: str) -> str | None:
    """A closed-list field's value as the city's list writes it.

    The reader folds width (がん(末期)); the list, and the legacy system's
    options, say がん（末期）.
    """
    from forms.loader import load_form

    value = _text(doc.value(field_id))
    if value is None or doc.form_id is None:
        return value
    listed = load_form(doc.form_id).field(field_id).allowed_values or []
    same = [
        x
        for x in listed
        if unicodedata.normalize("NFKC", x) == unicodedata.normalize("NFKC", value)
    ]
    return same[0] if same else value


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


@dataclass(frozen=True)
class KyufukinEntry:
    """特別定額給付金 as keyed on screen KF0040 (``applicant_no`` is the search key)."""

    applicant_no: str = field(compare=False)
    application_date: WarekiDate | None
    phone: str | None
    payment: str | None
    bank_code: str | None
    branch_code: str | None
    account_type: str | None
    account_number: str | None = field(repr=False)
    account_holder: str | None
    refusing_members: tuple[int, ...]
    id_documents: tuple[str, ...]
    id_document_other: str | None

    #: Entry attribute → document fields it was made from.
    SOURCES: ClassVar[dict[str, list[str]]] = {
        "application_date": ["application_date"],
        "phone": ["phone"],
        "payment": ["payment_method", "refuse_benefit"],
        "bank_code": ["bank_name", "bank_type"],
        "branch_code": ["branch_name", "branch_type"],
        "account_type": ["account_type"],
        "account_number": ["account_number"],
        "account_holder": ["account_holder_kana"],
        "refusing_members": [f"member_{n}_refuse" for n in range(1, MEMBER_ROWS + 1)],
        "id_documents": ["id_documents"],
        "id_document_other": ["id_document_other"],
    }

    @property
    def search_key(self) -> str:
        return self.applicant_no

    @property
    def sensitive_values(self) -> list[str]:
        """Values to mask in evidence (account numbers)."""
        return [self.account_number] if self.account_number else []


@dataclass(frozen=True)
class KaigoEntry:
    """要介護認定申請 as keyed on screen KN0040.

    ``my_number`` is only the search key of a 第2号 applicant, who has no
    被保険者番号 yet; it is never shown on the entry screen, nor compared.
    """

    insured_number: str | None = field(compare=False)
    my_number: str | None = field(repr=False, compare=False)
    application_date: WarekiDate | None
    application_type: str | None
    applicant_name: str | None
    applicant_relation: str | None
    applicant_relation_detail: str | None
    agent_type: str | None
    agent_name: str | None
    name: str | None
    name_kana: str | None
    birth_date: WarekiDate | None
    sex: str | None
    postal_code: str | None
    address: str | None
    phone: str | None
    previous_level: str | None
    previous_valid_from: WarekiDate | None
    previous_valid_to: WarekiDate | None
    doctor_clinic: str | None
    doctor_name: str | None
    doctor_address: str | None
    doctor_phone: str | None
    insurer_name: str | None
    insurance_symbol_number: str | None
    specified_disease: str | None
    consent: bool

    SOURCES: ClassVar[dict[str, list[str]]] = {
        "birth_date": ["birth_era", "birth_date"],
        "consent": ["consent_signature"],
    }

    @property
    def search_key(self) -> str:
        return self.insured_number or self.my_number or ""

    @property
    def sensitive_values(self) -> list[str]:
        return [self.my_number] if self.my_number else []


Entry = KyufukinEntry | KaigoEntry


def kyufukin_entry(doc: Document) -> KyufukinEntry:
    """The 給付金 entry of a ready document (raises UnknownBankError for unknown names)."""
    v = doc.value
    declined = v("refuse_benefit") is True
    bank = branch = None
    if v("bank_name") and not declined:
        bank, branch = bank_and_branch_codes(
            v("bank_name"), v("bank_type"), v("branch_name") or "", v("branch_type")
        )
    holder = v("account_holder_kana")
    ids = v("id_documents") or []
    return KyufukinEntry(
        applicant_no=v("applicant_no") or doc.key or "",
        application_date=_date(v("application_date")),
        phone=_text(v("phone")),
        payment=DECLINE if declined else _label(PAYMENTS, v("payment_method")),
        bank_code=bank,
        branch_code=branch,
        account_type=None if declined else _label(ACCOUNT_TYPES, v("account_type")),
        account_number=None if declined else _text(v("account_number")),
        account_holder=account_holder_half_width(holder) if holder and not declined else None,
        # A tick in a row without a pre-printed member refuses nobody.
        refusing_members=tuple(
            n
            for n in range(1, MEMBER_ROWS + 1)
            if v(f"member_{n}_refuse") is True and v(f"member_{n}_name")
        ),
        id_documents=tuple(label for code, label in ID_DOCUMENTS.items() if code in ids),
        id_document_other=_text(v("id_document_other")),
    )


def kaigo_entry(doc: Document) -> KaigoEntry:
    """The 要介護認定 entry of a ready document."""
    v = doc.value
    return KaigoEntry(
        insured_number=_text(v("insured_number")),
        my_number=_text(v("my_number")),
        application_date=_date(v("application_date")),
        application_type=_label(APPLICATION_TYPES, v("application_type")),
        applicant_name=_text(v("applicant_name")),
        applicant_relation=_label(RELATIONS, v("applicant_relation")),
        applicant_relation_detail=_text(v("applicant_relation_detail")),
        agent_type=_label(AGENT_TYPES, v("agent_type")),
        agent_name=_text(v("agent_name")),
        name=_text(v("name")),
        name_kana=_text(v("name_kana")),
        birth_date=_date(v("birth_date")),
        sex=_label(SEXES, v("sex")),
        postal_code=_text(v("postal_code")),
        address=_text(v("address")),
        phone=_text(v("phone")),
        previous_level=_label(CARE_LEVELS, v("previous_level")),
        previous_valid_from=_date(v("previous_valid_from")),
        previous_valid_to=_date(v("previous_valid_to")),
        doctor_clinic=_text(v("doctor_clinic")),
        doctor_name=_text(v("doctor_name")),
        doctor_address=_text(v("doctor_address")),
        doctor_phone=_text(v("doctor_phone")),
        insurer_name=_text(v("insurer_name")),
        insurance_symbol_number=_text(v("insurance_symbol_number")),
        specified_disease=_as_listed(doc, "specified_disease"),
        consent=v("consent_signature") is True,
    )


#: form_id → how to build its entry. Adding a form adds a builder and its screens.
ENTRY_BUILDERS: dict[str, Callable[[Document], Entry]] = {
    "kyufukin": kyufukin_entry,
    "kaigo_nintei": kaigo_entry,
}


def source_fields(entry: Entry, attribute: str) -> list[str]:
    """The document fields an entry attribute was made from."""
    return entry.SOURCES.get(attribute, [attribute])


def differences(typed: Entry, shown: Entry) -> list[str]:
    """Entry attributes whose values differ (only compared ones)."""
    return [
        f.name
        for f in fields(typed)
        if f.compare and getattr(typed, f.name) != getattr(shown, f.name)
    ]
