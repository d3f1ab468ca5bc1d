"""The rule engine and the generic checks, table-driven: passes, fails, message."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from forms.loader import FORMS_DIR, FormDefinitionError, parse_form
from shinsei.model import Document
from tests.validators_support import context, document, fv, synthetic_form
from validators.conditions import Condition, legal_age
from validators.engine import apply_validation, validate

KF = "kyufukin"
KN = "kaigo_nintei"


def _rule(text: str) -> dict[str, Any]:
    base = {"code": "T_RULE", "severity": "error", "message_ja": "{labels}を確認してください。"}
    return {**base, **yaml.safe_load(text)}


def _run(form_id: str, rule: dict[str, Any], values: dict[str, Any], **doc_kw: Any) -> list[Any]:
    form = synthetic_form(form_id, [rule])
    return validate(document(form_id, values, **doc_kw), context(form)).findings


# (form, rule, values that pass, values that fail, fields cited, message)
TABLE: list[tuple[str, str, dict[str, Any], dict[str, Any], list[str], str]] = [
    (
        KF,
        "{rule: required, fields: [phone, signature]}",
        {"phone": "078-1", "signature": True},
        {"phone": None, "signature": False},
        ["phone", "signature"],
        "昼間連絡先 電話番号、申請者（世帯主）署名を確認してください。",
    ),
    (
        KF,
        "{rule: required, fields: [id_documents]}",
        {"id_documents": ["passport"]},
        {"id_documents": []},
        ["id_documents"],
        "本人確認書類を確認してください。",
    ),
    (
        KF,
        "{rule: required_if, fields: [bank_name], when: {field: payment_method, equals: transfer}}",
        {"payment_method": "copy_attached", "bank_name": None},
        {"payment_method": "transfer", "bank_name": "  "},
        ["bank_name"],
        "金融機関名を確認してください。",
    ),
    (
        KF,
        "{rule: forbidden_if, fields: [bank_name, account_number],"
        " when: {field: refuse_benefit, equals: true}}",
        {"refuse_benefit": True, "bank_name": None, "account_number": None},
        {"refuse_benefit": True, "bank_name": "みなと", "account_number": "1234567"},
        ["bank_name", "account_number"],
        "金融機関名、口座番号を確認してください。",
    ),
    (
        KF,
        "{rule: exactly_one, fields: [payment_method], message_ja: '{detail}'}",
        {"payment_method": "transfer"},
        {"payment_method": ["transfer", "copy_attached"]},
        ["payment_method"],
        "複数記入",
    ),
    (
        KF,
        "{rule: exactly_one, fields: [payment_method], message_ja: '{detail}'}",
        {"payment_method": "transfer"},
        {"payment_method": None},
        ["payment_method"],
        "未記入",
    ),
    (
        KF,
        "{rule: exactly_one, fields: [agent_name, agent_phone]}",
        {"agent_name": "山田　花子", "agent_phone": None},
        {"agent_name": "山田　花子", "agent_phone": "078-1-2"},
        ["agent_name", "agent_phone"],
        "代理人氏名、代理人電話を確認してください。",
    ),
    (
        KF,
        "{rule: at_least_one, fields: [agent_name, agent_phone]}",
        {"agent_phone": "078-1-2"},
        {"agent_name": None, "agent_phone": None},
        ["agent_name", "agent_phone"],
        "代理人氏名、代理人電話を確認してください。",
    ),
    (
        KF,
        "{rule: at_most_one, fields: [account_type]}",
        {"account_type": "futsu"},
        {"account_type": ["futsu", "toza"]},
        ["account_type"],
        "分類を確認してください。",
    ),
    (
        KF,
        "{rule: at_most_one, fields: [agent_name, agent_phone]}",
        {"agent_name": None, "agent_phone": "078-1-2"},
        {"agent_name": "山田　花子", "agent_phone": "078-1-2"},
        ["agent_name", "agent_phone"],
        "代理人氏名、代理人電話を確認してください。",
    ),
    (
        KF,
        r"{rule: pattern, fields: [phone], regex: '^0\d{1,4}-\d{1,4}-\d{4}$'}",
        {"phone": "078-123-4567"},
        {"phone": "78-123"},
        ["phone"],
        "昼間連絡先 電話番号を確認してください。",
    ),
    (
        KF,
        "{rule: length, fields: [account_number], exact: 7, message_ja: '{length}桁です。'}",
        {"account_number": "1234567"},
        {"account_number": "123456"},
        ["account_number"],
        "6桁です。",
    ),
    (
        KF,
        "{rule: length, fields: [account_holder_kana], max: 5}",
        {"account_holder_kana": "アイウ"},
        {"account_holder_kana": "アイウエオカ"},
        ["account_holder_kana"],
        "口座名義（カナ）を確認してください。",
    ),
    (
        KF,
        "{rule: date_range, fields: [application_date], max: receipt_date,"
        " message_ja: '{date}は{max}より後です。'}",
        {"application_date": "2020-06-01"},
        {"application_date": "2020-06-02"},
        ["application_date"],
        "2020年6月2日は2020年6月1日より後です。",
    ),
    (
        KF,
        "{rule: date_range, fields: [application_date], min: window_from,"
        " message_ja: '{date}は{min}より前です。'}",
        {"application_date": "2020-05-01"},
        {"application_date": "2020-04-30"},
        ["application_date"],
        "2020年4月30日は2020年5月1日より前です。",
    ),
    (
        KF,
        "{rule: date_range, fields: [application_date], min: '2020-05-10', max: '2020-05-20'}",
        {"application_date": "2020-05-15"},
        {"application_date": "2020-05-21"},
        ["application_date"],
        "申請日を確認してください。",
    ),
    (
        KN,
        "{rule: date_range, fields: [previous_valid_from], max: previous_valid_to}",
        {"previous_valid_from": "2019-05-01", "previous_valid_to": "2020-04-30"},
        {"previous_valid_from": "2020-05-01", "previous_valid_to": "2020-04-30"},
        ["previous_valid_from"],
        "有効期間（開始日）を確認してください。",
    ),
    (
        KN,
        "{rule: age_range, fields: [birth_date], birth: birth_date, at: application_date,"
        " min: 40, message_ja: '{age}歳です。'}",
        {"birth_date": "1980-05-21", "application_date": "2020-05-20"},  # 40 the day before
        {"birth_date": "1980-05-22", "application_date": "2020-05-20"},
        ["birth_date"],
        "39歳です。",
    ),
    (
        KN,
        "{rule: allowed_values, fields: [specified_disease], match: loose}",
        {"specified_disease": "パーキンソン病"},
        {"specified_disease": "かぜ"},
        ["specified_disease"],
        "特定疾病名を確認してください。",
    ),
    (
        KN,
        "{rule: allowed_values, fields: [specified_disease]}",
        {"specified_disease": "がん（末期）"},
        {"specified_disease": "がん末期"},
        ["specified_disease"],
        "特定疾病名を確認してください。",
    ),
    (
        KF,
        "{rule: attachment_required, fields: [payment_method], attachment: passbook_copy,"
        " when: {field: payment_method, equals: copy_attached}}",
        {"payment_method": "transfer"},
        {"payment_method": "copy_attached"},
        ["payment_method"],
        "受取方法を確認してください。",
    ),
]


@pytest.mark.parametrize(
    ("form_id", "rule", "passing", "failing", "fields", "message"),
    TABLE,
    ids=[f"{i}-{row[1].split(',')[0][7:]}" for i, row in enumerate(TABLE)],
)
def test_rule(
    form_id: str,
    rule: str,
    passing: dict[str, Any],
    failing: dict[str, Any],
    fields: list[str],
    message: str,
) -> None:
    spec = _rule(rule)
    assert _run(form_id, spec, passing) == []
    found = _run(form_id, spec, failing)
    assert [f.code for f in found] == ["T_RULE"]
    assert found[0].fields == fields
    assert found[0].severity == "error"
    assert found[0].message_ja == message


def test_attachment_present_passes() -> None:
    rule = _rule("{rule: attachment_required, fields: [id_documents], attachment: id_copy}")
    assert _run(KF, rule, {}, attachments=["id_copy"]) == []
    assert len(_run(KF, rule, {}, attachments=["passbook_copy"])) == 1


def test_legible_defaults_to_the_fields_required_now() -> None:
    rules = [
        _rule("{rule: legible}"),
        _rule(
            "{rule: required_if, code: T_BANK, fields: [bank_name],"
            " when: {field: payment_method, equals: transfer}}"
        ),
    ]
    form = synthetic_form(KF, rules)
    blacked = fv("bank_name", None, 0.99, flags=["blacked_out"])
    doc = document(KF, {"payment_method": "transfer", "bank_name": blacked})
    found = validate(doc, context(form)).findings
    # Reported once, as illegible, not also as missing.
    assert [(f.code, f.fields) for f in found] == [("T_RULE", ["bank_name"])]
    doc = document(KF, {"payment_method": "copy_attached", "bank_name": blacked})
    assert validate(doc, context(form)).findings == []
    # A 'yes' field needs no rule to be required.
    doc = document(KF, {"phone": fv("phone", None, 0.2, flags=["blacked_out"])})
    result = validate(doc, context(form))
    assert [f.fields for f in result.findings] == [["phone"]]
    assert result.decision == "reject"  # blacked out on purpose: no doubt about the reading


def test_legible_optional_scope_covers_the_fields_not_required() -> None:
    rules = [
        _rule("{rule: legible, scope: optional, severity: warning}"),
        _rule(
            "{rule: required_if, code: T_BANK, fields: [bank_name],"
            " when: {field: payment_method, equals: transfer}}"
        ),
    ]
    form = synthetic_form(KF, rules)
    blacked = fv("bank_name", None, 0.99, flags=["blacked_out"])
    doc = document(KF, {"payment_method": "copy_attached", "bank_name": blacked})
    result = validate(doc, context(form))
    assert [(f.code, f.fields, f.severity) for f in result.findings] == [
        ("T_RULE", ["bank_name"], "warning")
    ]
    doc = document(KF, {"payment_method": "transfer", "bank_name": blacked})
    assert validate(doc, context(form)).findings == []  # required now: not this rule's case


# -- conditions ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("when", "values", "holds"),
    [
        ({"field": "payment_method", "equals": "transfer"}, {"payment_method": "transfer"}, True),
        (
            {"field": "payment_method", "equals": "transfer"},
            {"payment_method": ["transfer", "copy_attached"]},
            False,
        ),
        (
            {"field": "application_type", "in": ["renewal", "change"]},
            {"application_type": "change"},
            True,
        ),
        (
            {"field": "application_type", "in": ["renewal", "change"]},
            {"application_type": "new"},
            False,
        ),
        (
            {"field": "id_documents", "includes": "other"},
            {"id_documents": ["passport", "other"]},
            True,
        ),
        ({"field": "id_documents", "includes": "other"}, {"id_documents": ["passport"]}, False),
        ({"field": "id_documents", "is_blank": True}, {"id_documents": []}, True),
        ({"field": "id_documents", "is_blank": True}, {}, True),
        ({"field": "agent_type", "is_filled": True}, {"agent_type": "kyotaku_shien"}, True),
        ({"not": {"field": "refuse_benefit", "equals": True}}, {}, True),
        ({"not": {"field": "refuse_benefit", "equals": True}}, {"refuse_benefit": True}, False),
        (
            {
                "all": [
                    {"field": "sex", "equals": "male"},
                    {"field": "birth_era", "equals": "showa"},
                ]
            },
            {"sex": "male", "birth_era": "taisho"},
            False,
        ),
        (
            {
                "any": [
                    {"field": "sex", "equals": "male"},
                    {"field": "birth_era", "equals": "showa"},
                ]
            },
            {"sex": "male", "birth_era": "taisho"},
            True,
        ),
        (
            {"age_at_least": {"birth": "birth_date", "at": "application_date", "years": 65}},
            {"birth_date": "1955-05-21", "application_date": "2020-05-20"},
            True,  # 65 on the day before the 65th birthday (年齢計算ニ関スル法律)
        ),
        (
            {"age_at_least": {"birth": "birth_date", "at": "application_date", "years": 65}},
            {"birth_date": "1955-05-22", "application_date": "2020-05-20"},
            False,
        ),
        (
            {"age_below": {"birth": "birth_date", "at": "application_date", "years": 65}},
            {"birth_date": None, "application_date": "2020-05-20"},
            False,  # no birth date: no age test holds
        ),
        ({"has_attachment": "id_copy"}, {}, False),
    ],
)
def test_condition(when: dict[str, Any], values: dict[str, Any], holds: bool) -> None:
    condition = Condition.model_validate(when)
    kf = synthetic_form(KF)
    # Each condition reads fields of one of the two forms.
    form = kf if set(condition.field_ids()) <= set(kf.field_ids) else synthetic_form(KN)
    assert condition.holds(document(form.form_id, values), context(form)) is holds


@pytest.mark.parametrize(
    "when",
    [
        {"field": "sex"},
        {"field": "sex", "equals": "male", "in": ["male"]},
        {"all": [], "any": []},
        {"age_at_least": {"birth": "birth_date", "years": -1}},
        {"field": "sex", "equal": "male"},
    ],
)
def test_bad_conditions_are_refused(when: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"."):
        Condition.model_validate(when)


@pytest.mark.parametrize(
    ("birth", "on", "age"),
    [
        ("1955-05-21", "2020-05-20", 65),
        ("1955-05-21", "2020-05-19", 64),
        ("1956-02-29", "2021-02-27", 64),
        ("1956-02-29", "2021-02-28", 65),
    ],
)
def test_legal_age(birth: str, on: str, age: int) -> None:
    from datetime import date

    assert legal_age(date.fromisoformat(birth), date.fromisoformat(on)) == age


# -- decisions -----------------------------------------------------------------------

RULES: list[dict[str, Any]] = [
    {"rule": "required", "code": "T_PHONE", "severity": "error", "fields": ["phone"],
     "message_ja": "電話番号を記入してください。"},
    {"rule": "length", "code": "T_ACCOUNT", "severity": "error", "fields": ["account_number"],
     "exact": 7, "message_ja": "口座番号を7桁で記入してください。"},
    {"rule": "required", "code": "T_AGENT", "severity": "warning", "fields": ["agent_name"],
     "message_ja": "代理人氏名がありません。"},
]  # fmt: skip


def _decide(values: dict[str, Any]) -> tuple[str, list[str], dict[str, Any], Document]:
    form = synthetic_form(KF, RULES)
    doc = document(KF, {"agent_name": "代理　人", **values})
    result = validate(doc, context(form))
    return result.decision, result.codes, result.field_status, doc


def test_accept_when_nothing_is_wrong() -> None:
    decision, codes, status, _ = _decide({"phone": "078-1-2", "account_number": "1234567"})
    assert (decision, codes) == ("accept", [])
    assert status["phone"] == "ok"
    assert status["bank_name"] == "missing"  # absent from the document


def test_all_findings_are_collected_before_deciding() -> None:
    decision, codes, _, _ = _decide({"phone": None, "account_number": "12", "agent_name": None})
    assert decision == "reject"
    assert codes == ["T_PHONE", "T_ACCOUNT", "T_AGENT"]


def test_warning_sends_to_review() -> None:
    decision, codes, status, _ = _decide(
        {"phone": "078-1-2", "account_number": "1234567", "agent_name": None}
    )
    assert (decision, codes) == ("review", ["T_AGENT"])
    assert status["agent_name"] == "missing"


def test_low_confidence_field_sends_to_review() -> None:
    decision, codes, status, _ = _decide(
        {"phone": fv("phone", "078-1-2", 0.5), "account_number": "1234567"}
    )
    assert (decision, codes, status["phone"]) == ("review", [], "review")


def test_ambiguous_field_sends_to_review() -> None:
    decision, _, status, _ = _decide(
        {
            "phone": "078-1-2",
            "account_number": "1234567",
            "payment_method": fv(
                "payment_method", ["transfer", "copy_attached"], flags=["ambiguous"]
            ),
        }
    )
    assert (decision, status["payment_method"]) == ("review", "review")


@pytest.mark.parametrize(
    "account",
    [
        fv("account_number", "12345678", 0.6),  # maybe a misread
        fv("account_number", "12345678", 0.99, flags=["corrected"]),  # read past a correction
        fv("account_number", "12345678", 0.99, flags=["outside_box"]),
    ],
)
def test_error_on_a_doubtful_reading_does_not_reject(account: Any) -> None:
    decision, codes, status, _ = _decide({"phone": "078-1-2", "account_number": account})
    assert decision == "review"
    assert codes == ["T_ACCOUNT"]  # the finding is kept for the reviewer
    assert status["account_number"] == "review"


def test_firm_error_rejects_even_with_a_doubtful_field_elsewhere() -> None:
    decision, codes, _, _ = _decide(
        {"phone": None, "account_number": fv("account_number", "1234567", 0.5)}
    )
    assert (decision, codes) == ("reject", ["T_PHONE"])


def test_flags_alone_never_reject() -> None:
    decision, codes, _, _ = _decide(
        {
            "phone": fv("phone", "078-1-2", 0.99, flags=["corrected"]),
            "account_number": fv("account_number", "1234567", 0.99, flags=["outside_box"]),
        }
    )
    assert (decision, codes) == ("accept", [])


def test_softened_finding_tells_the_reviewer_why() -> None:
    form = synthetic_form(KF, RULES)
    doc = document(
        KF,
        {"phone": "078-1-2", "agent_name": "x", "account_number": fv("account_number", "1", 0.3)},
    )
    result = validate(doc, context(form))
    assert "返戻せず確認" in result.findings[0].reviewer_message_ja
    apply_validation(doc, result)
    assert doc.decision == "review"
    assert doc.fields["account_number"].status == "review"
    assert doc.findings[0].code == "T_ACCOUNT"


def test_threshold_is_a_parameter() -> None:
    form = synthetic_form(KF, RULES)
    doc = document(
        KF, {"phone": fv("phone", "078-1-2", 0.8), "account_number": "1234567", "agent_name": "x"}
    )
    assert validate(doc, context(form, confidence_threshold=0.9)).decision == "review"
    assert validate(doc, context(form, confidence_threshold=0.7)).decision == "accept"


def test_document_of_another_form_is_refused() -> None:
    form = synthetic_form(KF, RULES)
    with pytest.raises(ValueError, match="kaigo_nintei"):
        validate(document(KN, {}), context(form))


def test_reviewer_message_defaults_and_detail() -> None:
    rule = _rule("{rule: length, fields: [account_number], exact: 7}")
    found = _run(KF, rule, {"account_number": "12"})
    assert found[0].reviewer_message_ja == "口座番号を確認してください。（2文字）"


# -- the form loader names the file and the rule ------------------------------------


def _form_dir(tmp_path: Path, form_id: str, rules: list[dict[str, Any]]) -> Path:
    folder = tmp_path / form_id
    folder.mkdir()
    raw = yaml.safe_load((FORMS_DIR / form_id / "form.yaml").read_text(encoding="utf-8"))
    raw["rules"] = rules
    (folder / "form.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    shutil.copy(FORMS_DIR / form_id / "blank.png", folder / "blank.png")
    return folder / "form.yaml"


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        ({"rule": "no_such_check", "code": "KF_X"}, "unknown rule 'no_such_check'"),
        ({"rule": "length", "code": "KF_X", "fields": ["phone"]}, "length needs"),
        ({"rule": "length", "code": "KF_X", "exact": 7, "colour": "red"}, "colour"),
        ({"rule": "required_if", "code": "KF_X", "fields": ["phone"]}, "needs a 'when:'"),
        (
            {"rule": "required", "code": "KF_X", "when": {"field": "nope", "is_blank": True}},
            "'nope', which is not a field",
        ),
        (
            {"rule": "date_range", "code": "KF_X", "max": "no_field"},
            "'no_field', which is not a field",
        ),
        ({"rule": "postal_matches_address", "code": "KF_X", "address": "addr"}, "'addr'"),
    ],
)
def test_bad_rule_fails_at_load_naming_file_and_rule(
    tmp_path: Path, rule: dict[str, Any], problem: str
) -> None:
    rule = {"severity": "error", "message_ja": "x", **rule}
    path = _form_dir(tmp_path, KF, [rule])
    with pytest.raises(FormDefinitionError) as info:
        parse_form(path)
    message = str(info.value)
    assert str(path) in message
    assert "KF_X" in message
    assert problem in message


def test_unknown_normaliser_fails_at_load(tmp_path: Path) -> None:
    path = _form_dir(tmp_path, KF, [])
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw["fields"][0]["normalize"] = "roman_numerals"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(FormDefinitionError, match="roman_numerals") as info:
        parse_form(path)
    assert str(path) in str(info.value)
