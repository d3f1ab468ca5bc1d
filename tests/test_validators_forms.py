"""The municipality's rules in forms/<id>/form.yaml, on applications built from the registry.

A clean application is accepted; each deficiency rule of the dictionary
rejects with its own code; what the city does not count as a deficiency
(a legible correction, a mark slightly outside its box) never rejects.
"""

from __future__ import annotations

from typing import Any

import pytest

from forms.loader import load_form
from shinsei.residents import Member, registry
from tests.validators_support import (
    context,
    dictionary,
    document,
    fv,
    household,
    kaigo_values,
    kyufukin_values,
)
from validators.engine import Validation, validate

KF = load_form("kyufukin")
KN = load_form("kaigo_nintei")


def _kf(
    changes: dict[str, Any], attachments: list[str] | None = None, hh_id: str = "H000001"
) -> Validation:
    values = {**kyufukin_values(household(hh_id)), **changes}
    doc = document(
        "kyufukin", values, attachments=["id_copy"] if attachments is None else attachments
    )
    return validate(doc, context(KF))


def _errors(result: Validation) -> list[str]:
    return [f.code for f in result.findings if f.severity == "error"]


# -- kyufukin -----------------------------------------------------------------------

VARIANT_HEADS = [
    hh.household_id
    for hh in registry().households.values()
    if any(ch in hh.head.name for ch in "髙﨑邊齋濱櫻廣德")
][:4]


@pytest.mark.parametrize("hh_id", ["H000001", "H000002", "H000003", "H000004", *VARIANT_HEADS])
def test_kyufukin_clean_application_is_accepted(hh_id: str) -> None:
    result = _kf({}, hh_id=hh_id)
    assert result.findings == []
    assert result.decision == "accept"
    assert set(result.field_status.values()) <= {"ok", "missing"}


@pytest.mark.parametrize(
    ("changes", "attachments"),
    [
        # 受給を希望しない: no payment method, no account needed.
        (
            {
                "refuse_benefit": True,
                "payment_method": None,
                "bank_name": None,
                "bank_type": None,
                "branch_name": None,
                "branch_type": None,
                "account_type": None,
                "account_number": None,
                "account_holder_kana": None,
            },
            None,
        ),
        # ② with the passbook copy enclosed.
        (
            {
                "payment_method": "copy_attached",
                "bank_name": None,
                "bank_type": None,
                "branch_name": None,
                "branch_type": None,
                "account_type": None,
                "account_number": None,
                "account_holder_kana": None,
            },
            ["id_copy", "passbook_copy"],
        ),
        # No ID box ticked, but the copy is enclosed: not a deficiency.
        ({"id_documents": []}, ["id_copy"]),
        # Ticked, copy not found by the page classifier: not a deficiency either.
        ({"id_documents": ["my_number_card"]}, []),
        # Banks print small kana large.
        ({"account_holder_kana": "サクライ　カズオ"}, None),
        # Bank written with its type, in kana, 本店.
        ({"bank_name": "ミナト", "branch_name": "本店", "branch_type": "honten"}, None),
        ({"bank_name": "神戸", "bank_type": "shinkin", "branch_name": "垂水"}, None),
        ({"id_documents": ["other"], "id_document_other": "在留カード"}, None),
    ],
)
def test_kyufukin_accepts_other_complete_applications(
    changes: dict[str, Any], attachments: list[str] | None
) -> None:
    result = _kf(changes, attachments)
    assert (result.decision, result.codes) == ("accept", [])


NO_ACCOUNT = {
    "bank_name": None,
    "bank_type": None,
    "branch_name": None,
    "branch_type": None,
    "account_type": None,
    "account_number": None,
    "account_holder_kana": None,
}

KF_DEFICIENCIES: list[tuple[str, dict[str, Any], list[str] | None]] = [
    ("KF_APPLICATION_DATE_MISSING", {"application_date": None}, None),
    ("KF_APPLICATION_DATE_AFTER_RECEIPT", {"application_date": "2020-06-02"}, None),
    ("KF_APPLICATION_DATE_BEFORE_START", {"application_date": "2020-04-30"}, None),
    ("KF_PHONE_MISSING", {"phone": None}, None),
    ("KF_SIGNATURE_MISSING", {"signature": False}, None),
    ("KF_PAYMENT_METHOD_MISSING", {"payment_method": None}, None),
    ("KF_PAYMENT_METHOD_BOTH", {"payment_method": ["transfer", "copy_attached"]}, None),
    ("KF_BANK_NAME_MISSING", {"bank_name": None}, None),
    ("KF_BANK_TYPE_MISSING", {"bank_type": None}, None),
    ("KF_BRANCH_NAME_MISSING", {"branch_name": None}, None),
    ("KF_BRANCH_TYPE_MISSING", {"branch_type": None}, None),
    ("KF_ACCOUNT_TYPE_MISSING", {"account_type": None}, None),
    ("KF_ACCOUNT_NUMBER_MISSING", {"account_number": None}, None),
    ("KF_ACCOUNT_HOLDER_MISSING", {"account_holder_kana": None}, None),
    ("KF_ACCOUNT_TYPE_BOTH", {"account_type": ["futsu", "toza"]}, None),
    ("KF_ACCOUNT_NUMBER_LENGTH", {"account_number": "123456"}, None),
    ("KF_ACCOUNT_NUMBER_LENGTH", {"account_number": "12345678"}, None),
    ("KF_ACCOUNT_HOLDER_MISMATCH", {"account_holder_kana": "サクライ　ミホ"}, None),
    (
        "KF_PASSBOOK_COPY_MISSING",
        {"payment_method": "copy_attached", **NO_ACCOUNT},
        ["id_copy"],
    ),
    ("KF_REFUSAL_WITH_ACCOUNT", {"refuse_benefit": True, "payment_method": None}, None),
    ("KF_REFUSAL_WITH_ACCOUNT", {"refuse_benefit": True}, None),  # ① still ticked
    ("KF_ID_DOCUMENT_MISSING", {"id_documents": []}, []),
    ("KF_ILLEGIBLE", {"phone": fv("phone", None, 0.99, flags=["blacked_out"])}, None),
    (
        "KF_ILLEGIBLE",
        {"account_number": fv("account_number", None, 0.99, flags=["blacked_out"])},
        None,
    ),
]


@pytest.mark.parametrize(
    ("code", "changes", "attachments"),
    KF_DEFICIENCIES,
    ids=[f"{i}-{row[0]}" for i, row in enumerate(KF_DEFICIENCIES)],
)
def test_kyufukin_deficiency_rejects_with_its_code(
    code: str, changes: dict[str, Any], attachments: list[str] | None
) -> None:
    result = _kf(changes, attachments)
    assert result.decision == "reject"
    assert _errors(result) == [code]
    finding = next(f for f in result.findings if f.code == code)
    assert finding.message_ja.endswith("。")
    assert finding.reviewer_message_ja


# -- what is not a deficiency --------------------------------------------------------


@pytest.mark.parametrize("flag", ["corrected", "outside_box"])
def test_correction_or_mark_outside_the_box_never_rejects(flag: str) -> None:
    # A correct value read past a correction: accepted as it is.
    result = _kf({"account_number": fv("account_number", "1234567", 0.99, flags=[flag])})
    assert (result.decision, result.codes) == ("accept", [])
    # Both boxes seen because one mark strays: a person looks, no return letter.
    result = _kf(
        {"payment_method": fv("payment_method", ["transfer", "copy_attached"], 0.99, flags=[flag])}
    )
    assert result.decision == "review"
    assert result.codes == ["KF_PAYMENT_METHOD_BOTH"]


def test_low_confidence_reading_goes_to_review_not_reject() -> None:
    result = _kf({"account_number": fv("account_number", "123456", 0.55)})
    assert result.decision == "review"
    assert result.codes == ["KF_ACCOUNT_NUMBER_LENGTH"]
    assert result.field_status["account_number"] == "review"


@pytest.mark.parametrize(
    ("code", "changes"),
    [
        ("KF_BANK_NOT_FOUND", {"bank_name": "架空"}),
        ("KF_BANK_TYPE_MISMATCH", {"bank_type": "shinkin"}),
        ("KF_BRANCH_NOT_FOUND", {"branch_name": "三宮東"}),
        ("KF_REGISTRY_MISMATCH", {"head_birth_date": "1933-02-06"}),
        ("KF_PHONE_FORMAT", {"phone": "12-34"}),
        ("KF_ID_DOCUMENT_OTHER_MISSING", {"id_documents": ["other"]}),
        ("KF_AGENT_PHONE_MISSING", {"agent_name": "桜井　美穂", "agent_address": "神戸市北区"}),
        ("KF_ACCOUNT_HOLDER_CHARS", {"account_holder_kana": "サクライ・カズオ"}),
        ("KF_REFUSAL_WITH_PAYMENT_METHOD", {"refuse_benefit": True, **NO_ACCOUNT}),
        ("KF_BANK_TYPE_MULTIPLE", {"bank_type": ["bank", "shinkin"]}),
        (
            "KF_BLACKED_OUT",  # ② with the passbook copy: the bank name was not needed
            {
                "payment_method": "copy_attached",
                "bank_name": fv("bank_name", None, flags=["blacked_out"]),
            },
        ),
    ],
)
def test_kyufukin_warnings_send_to_review(code: str, changes: dict[str, Any]) -> None:
    result = _kf(changes, ["id_copy", "passbook_copy"])
    assert result.decision == "review"
    assert code in result.codes
    assert _errors(result) == []


def test_second_application_of_a_household_is_held() -> None:
    doc = document("kyufukin", kyufukin_values(household()), attachments=["id_copy"])
    ctx = context(KF, prior_applications=lambda form, key, doc_id: ["a" * 64])
    result = validate(doc, ctx)
    assert (result.decision, result.codes) == ("review", ["KF_DUPLICATE_APPLICATION"])


# -- kaigo_nintei -----------------------------------------------------------------------


def _first(predicate: Any) -> Member:
    return next(m for m in registry().members() if predicate(m))


ELDER = _first(lambda m: m.insured_number and m.birth_date < "1940-01-01")
MIDDLE = _first(lambda m: not m.insured_number and "1960-01-01" < m.birth_date < "1975-01-01")
SECOND_GROUP = {
    "insurer_name": "全国健康保険協会兵庫支部",
    "insurance_symbol_number": "1234・567",
    "specified_disease": "脳血管疾患",
}
RENEWAL = {
    "application_type": "renewal",
    "previous_level": "care_1",
    "previous_valid_from": "2019-06-01",
    "previous_valid_to": "2020-05-31",
}


def _kn(person: Member, changes: dict[str, Any]) -> Validation:
    values = kaigo_values(person, registry().household_of(person))
    if person is MIDDLE:
        values.update(SECOND_GROUP)
    values.update(changes)
    return validate(document("kaigo_nintei", values), context(KN))


@pytest.mark.parametrize(
    ("person", "changes"),
    [
        (ELDER, {}),
        (MIDDLE, {}),
        (ELDER, RENEWAL),
        (ELDER, {"applicant_relation": "family", "applicant_relation_detail": "長女"}),
        (ELDER, {"agent_type": "kyotaku_shien", "agent_name": "北区ケアプランセンター"}),
        (ELDER, {"address": ELDER and registry().household_of(ELDER).address.replace("番地", "")}),
        (MIDDLE, {"specified_disease": "パーキンソン病"}),
    ],
)
def test_kaigo_clean_application_is_accepted(person: Member, changes: dict[str, Any]) -> None:
    result = _kn(person, changes)
    assert (result.decision, result.codes) == ("accept", [])


KN_DEFICIENCIES: list[tuple[str, Member, dict[str, Any]]] = [
    ("KN_APPLICATION_DATE_MISSING", ELDER, {"application_date": None}),
    ("KN_APPLICATION_DATE_AFTER_RECEIPT", ELDER, {"application_date": "2020-06-05"}),
    ("KN_APPLICATION_TYPE_MISSING", ELDER, {"application_type": None}),
    ("KN_APPLICATION_TYPE_MULTIPLE", ELDER, {"application_type": ["new", "renewal"]}),
    ("KN_INSURED_NUMBER_MISSING", ELDER, {"insured_number": None}),
    ("KN_MY_NUMBER_MISSING", ELDER, {"my_number": None}),
    ("KN_MY_NUMBER_INVALID", ELDER, {"my_number": "123456789012"}),
    ("KN_BIRTH_DATE_MISSING", ELDER, {"birth_date": None}),
    ("KN_BIRTH_DATE_MISSING", ELDER, {"birth_era": None, "birth_date": None}),
    ("KN_SEX_MISSING", ELDER, {"sex": None}),
    ("KN_PHONE_MISSING", ELDER, {"phone": None}),
    ("KN_APPLICANT_NAME_MISSING", ELDER, {"applicant_name": None}),
    ("KN_POSTAL_CODE_MISMATCH", ELDER, {"postal_code": "6500001"}),
    ("KN_PREVIOUS_RESULT_MISSING", ELDER, {**RENEWAL, "previous_level": None}),
    ("KN_PREVIOUS_RESULT_MISSING", ELDER, {**RENEWAL, "previous_valid_to": None}),
    (
        "KN_PREVIOUS_RESULT_MISSING",
        ELDER,
        {"application_type": "change", "previous_level": "care_2"},
    ),
    ("KN_INSURER_INFO_MISSING", MIDDLE, {"insurer_name": None}),
    ("KN_INSURER_INFO_MISSING", MIDDLE, {"insurance_symbol_number": None}),
    ("KN_INSURER_INFO_MISSING", MIDDLE, {"specified_disease": None}),
    ("KN_DOCTOR_MISSING", ELDER, {"doctor_clinic": None}),
    ("KN_DOCTOR_MISSING", ELDER, {"doctor_name": None}),
    ("KN_ILLEGIBLE", ELDER, {"my_number": fv("my_number", None, 0.99, flags=["blacked_out"])}),
]


@pytest.mark.parametrize(
    ("code", "person", "changes"),
    KN_DEFICIENCIES,
    ids=[f"{i}-{row[0]}" for i, row in enumerate(KN_DEFICIENCIES)],
)
def test_kaigo_deficiency_rejects_with_its_code(
    code: str, person: Member, changes: dict[str, Any]
) -> None:
    result = _kn(person, changes)
    assert result.decision == "reject"
    assert _errors(result) == [code]


def test_grouped_deficiency_names_the_missing_fields() -> None:
    result = _kn(ELDER, {"doctor_clinic": None, "doctor_name": None})
    (finding,) = result.findings
    assert finding.fields == ["doctor_clinic", "doctor_name"]
    assert finding.message_ja.startswith("主治医の医療機関名、医師氏名が記入されていません。")
    result = _kn(MIDDLE, {"specified_disease": None})
    (finding,) = result.findings
    assert (finding.code, finding.fields) == ("KN_INSURER_INFO_MISSING", ["specified_disease"])
    assert "（第2号被保険者）の特定疾病名が記入されていません。" in finding.message_ja


def test_kaigo_age_is_taken_at_the_application_date() -> None:
    # 65 on the day before the 65th birthday: from then on, the insured number is required.
    birth = "1955-05-21"
    person = MIDDLE
    base = {"birth_date": birth, "insured_number": None, **SECOND_GROUP}
    on_eve = _kn(person, {**base, "application_date": "2020-05-20"})
    assert "KN_INSURED_NUMBER_MISSING" in _errors(on_eve)
    before = _kn(person, {**base, "application_date": "2020-05-19"})
    assert "KN_INSURED_NUMBER_MISSING" not in _errors(before)
    # 第1号 need no 医療保険 fields; 第2号 do.
    assert "KN_INSURER_INFO_MISSING" not in _errors(
        _kn(person, {**base, "insurer_name": None, "application_date": "2020-05-20"})
    )
    assert "KN_INSURER_INFO_MISSING" in _errors(
        _kn(person, {**base, "insurer_name": None, "application_date": "2020-05-19"})
    )


@pytest.mark.parametrize(
    ("code", "person", "changes"),
    [
        ("KN_REGISTRY_MISMATCH", ELDER, {"name": "山田　太郎"}),
        ("KN_SPECIFIED_DISEASE_UNKNOWN", MIDDLE, {"specified_disease": "腰痛"}),
        ("KN_PREVIOUS_PERIOD_ORDER", ELDER, {**RENEWAL, "previous_valid_from": "2020-06-01"}),
        ("KN_NAME_MISSING", ELDER, {"name": None}),
        ("KN_ADDRESS_MISSING", ELDER, {"postal_code": None}),
        ("KN_RELATION_DETAIL_MISSING", ELDER, {"applicant_relation": "family"}),
        ("KN_AGENT_NAME_MISSING", ELDER, {"agent_type": "chiiki_houkatsu"}),
        ("KN_AGE_UNDER_40", MIDDLE, {"birth_date": "1990-01-01", "my_number": None}),
    ],
)
def test_kaigo_warnings_send_to_review(code: str, person: Member, changes: dict[str, Any]) -> None:
    result = _kn(person, changes)
    assert code in result.codes
    if code != "KN_AGE_UNDER_40":  # that one is built with a missing My Number
        assert (result.decision, _errors(result)) == ("review", [])


# -- the lists agree ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("form", "tested"),
    [
        (KF, {row[0] for row in KF_DEFICIENCIES}),
        (KN, {row[0] for row in KN_DEFICIENCIES}),
    ],
)
def test_every_error_code_has_a_rejection_test(form: Any, tested: set[str]) -> None:
    errors = {r.code for r in form.rules if r.severity == "error"}
    assert errors == tested


@pytest.mark.parametrize("form", [KF, KN])
def test_every_rule_has_messages_and_a_prefixed_code(form: Any) -> None:
    prefix = {"kyufukin": "KF_", "kaigo_nintei": "KN_"}[form.form_id]
    deficiencies = [
        d for d in dictionary(form.form_id)["deficiency_rules"] if "不備としない" not in d
    ]
    errors = {r.code for r in form.rules if r.severity == "error"}
    assert len(errors) >= len(deficiencies)
    for rule in form.rules:
        assert rule.code.startswith(prefix)
        assert rule.message_ja.endswith("。")
        assert rule.reviewer_message_ja


def test_readme_lists_every_code() -> None:
    from pathlib import Path

    import validators

    readme = (Path(validators.__file__).parent / "README.md").read_text(encoding="utf-8")
    for form in (KF, KN):
        for rule in form.rules:
            assert f"| `{rule.code}` | {form.form_id} | {rule.severity} |" in readme


def test_a_value_the_field_cannot_hold_goes_to_review() -> None:
    # OCR keeps the raw text when normalize_field refuses it.
    result = _kf({"application_date": "令和2年2月30日"})
    assert (result.decision, result.codes) == ("review", [])
    assert result.field_status["application_date"] == "review"
    # An error resting on such a reading is for a person, not a letter.
    result = _kf({"account_number": "12a456"})
    assert result.decision == "review"
    assert result.codes == ["KF_ACCOUNT_NUMBER_LENGTH"]
