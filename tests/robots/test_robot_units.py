"""The robot's parts that need no browser: entries, banks, retries, evidence, ledger writes."""

from __future__ import annotations

import random
import stat
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from benchmarks._records import (
    care_applicants,
    households,
    kaigo_document,
    kyufukin_document,
    make_ready,
)
from robots.banks import bank_and_branch_codes
from robots.credentials import Credentials, load_credentials
from robots.entries import account_holder_half_width, differences, kaigo_entry, kyufukin_entry
from robots.errors import UnknownBankError
from robots.keying import RetryPolicy, _scrub_trace
from robots.wareki import WarekiDate
from shinsei.errors import ConfigError, IllegalTransitionError
from shinsei.model import DocState, Finding
from store import keying as keying_store
from store.ledger import Ledger


def test_bank_and_branch_codes_from_the_names_on_the_form() -> None:
    assert bank_and_branch_codes("三井住友", "bank", "神戸駅前", "shiten") == ("0009", "313")
    assert bank_and_branch_codes("三井住友銀行", "bank", "神戸駅前支店", "shiten") == (
        "0009",
        "313",
    )
    assert bank_and_branch_codes("三菱UFJ", "bank", "本店", "honten")[0] == "0005"
    bank, branch = bank_and_branch_codes("神戸", "shinkin", "本店", "honten")
    assert bank == "1680" and len(branch) == 3
    assert bank_and_branch_codes("尼崎信用金庫", "shinkin", "本店", "honten")[0] == "1688"
    with pytest.raises(UnknownBankError) as info:
        bank_and_branch_codes("どこにもない", "bank", "本店", "honten")
    assert info.value.field == "bank_name"
    with pytest.raises(UnknownBankError) as info:
        bank_and_branch_codes("三井住友", "bank", "どこにもない", "shiten")
    assert info.value.field == "branch_name"


def test_account_holder_becomes_half_width_large_kana() -> None:
    assert account_holder_half_width("ヤマダ　キョウコ") == "ﾔﾏﾀﾞ ｷﾖｳｺ"
    assert account_holder_half_width("ヴィクトル　ハッピー") == "ｳﾞｲｸﾄﾙ ﾊﾂﾋﾟｰ"


def test_wareki_dates() -> None:
    assert WarekiDate.from_iso("2020-05-10") == WarekiDate("令和", 2, 5, 10)
    assert WarekiDate.from_iso("2019-04-30") == WarekiDate("平成", 31, 4, 30)
    assert WarekiDate.from_iso("1926-07-15") == WarekiDate("大正", 15, 7, 15)
    assert WarekiDate.parse("令和元年5月1日") == WarekiDate("令和", 1, 5, 1)
    assert WarekiDate.parse("") is None
    with pytest.raises(ValueError):
        WarekiDate.parse("2020/05/10")


def test_kyufukin_entry_from_canonical_values() -> None:
    rng = random.Random(1)
    house = next(h for h in households() if len(h.members) >= 2)
    doc = kyufukin_document(
        house,
        rng,
        member_2_refuse=True,
        member_5_refuse=True,  # a tick in an empty row refuses nobody
        id_documents=["passport", "drivers_license"],
        bank_name="三井住友",
        bank_type="bank",
        branch_name="神戸駅前",
        branch_type="shiten",
    )
    if len(house.members) < 5:
        doc.fields["member_5_name"].value = None
    entry = kyufukin_entry(doc)
    assert (entry.bank_code, entry.branch_code) == ("0009", "313")
    assert entry.refusing_members == ((2, 5) if len(house.members) >= 5 else (2,))
    assert entry.id_documents == ("運転免許証", "パスポート")  # printed order
    assert entry.application_date is not None and entry.application_date.era == "令和"
    assert entry.account_number and entry.account_number not in repr(entry)
    declined = kyufukin_entry(kyufukin_document(house, rng, refuse_benefit=True))
    assert declined.payment == "受給辞退（世帯全員）" and declined.bank_code is None
    assert declined.account_number is None


def test_kaigo_entry_keeps_my_number_out_of_sight() -> None:
    member = next(care_applicants(second_insured=True))
    entry = kaigo_entry(kaigo_document(member, random.Random(2)))
    assert entry.insured_number is None and entry.search_key == member.my_number
    assert member.my_number not in repr(entry)
    assert entry.sensitive_values == [member.my_number]
    assert entry.birth_date == WarekiDate.from_iso(member.birth_date)
    # The search keys are not part of what is compared with the screen.
    assert differences(entry, replace(entry, my_number=None, insured_number="0000000000")) == []
    assert differences(entry, replace(entry, phone="000-000-0000")) == ["phone"]


def test_retry_policy_backs_off_within_bounds() -> None:
    policy = RetryPolicy(attempts=5, first_delay=1.0, factor=2.0, max_delay=5.0)
    delays = [policy.delay(n) for n in range(1, 6)]
    assert all(0.5 <= d <= 1.0 for d in delays[:1])
    assert all(d <= 5.0 for d in delays)
    assert 1.0 <= policy.delay(2) <= 2.0


def test_credentials_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHINSEI_LEGACY_SECRET_BLOCK", raising=False)
    monkeypatch.delenv("SHINSEI_LEGACY_USER", raising=False)
    monkeypatch.delenv("SHINSEI_LEGACY_PASSWORD", raising=False)
    with pytest.raises(ConfigError):
        load_credentials()
    monkeypatch.setenv("SHINSEI_LEGACY_USER", "robot9")
    monkeypatch.setenv("SHINSEI_LEGACY_PASSWORD", "pw")
    creds = load_credentials()
    assert creds == Credentials("robot9", "pw") and "pw" not in repr(creds)


def test_trace_scrubbing_masks_personal_numbers_and_the_password(tmp_path: Path) -> None:
    source = tmp_path / "raw.zip"
    with zipfile.ZipFile(source, "w") as z:
        z.writestr("trace.trace", '{"value":"1234567"} {"value":"hunter2"} 123456789012')
        z.writestr("resources/page.html", "<td>1234567</td>")
        z.writestr("resources/shot.jpeg", bytes([0xFF, 0xD8, 0xFF, 0x00, 0x99]))
    target = tmp_path / "trace.zip"

    _scrub_trace(source, target, ["1234567", "123456789012", "hunter2"])

    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    with zipfile.ZipFile(target) as z:
        trace = z.read("trace.trace").decode()
        assert "***4567" in trace and "********9012" in trace and "********" in trace
        assert '1234567"' not in trace and "hunter2" not in trace and "123456789012" not in trace
        assert "1234567" not in z.read("resources/page.html").decode()
        assert z.read("resources/shot.jpeg") == bytes([0xFF, 0xD8, 0xFF, 0x00, 0x99])


def _one_ready(ledger: Ledger, tmp_path: Path) -> str:
    doc = kyufukin_document(next(households()), random.Random(3))
    (doc_id,) = make_ready(ledger, [doc], tmp_path / "in", batch_id="t")
    return doc_id


def test_keyed_is_one_transaction_and_only_from_ready(ledger: Ledger, tmp_path: Path) -> None:
    doc_id = _one_ready(ledger, tmp_path)
    keying_store.record_keyed(
        ledger, doc_id, receipt_no="KF2020-000001", outcome="registered", attempts=1
    )
    assert ledger.find_document(doc_id).state is DocState.KEYED  # type: ignore[union-attr]
    record = keying_store.keying_record(ledger, doc_id)
    assert record is not None and record.receipt_no == "KF2020-000001" and record.keyed_at
    with pytest.raises(IllegalTransitionError):
        keying_store.record_keyed(
            ledger, doc_id, receipt_no="KF2020-000002", outcome="existing", attempts=1
        )
    assert keying_store.keying_record(ledger, doc_id).receipt_no == "KF2020-000001"  # type: ignore[union-attr]
    assert ledger.verify_audit().ok


def test_refused_goes_to_review_with_findings(ledger: Ledger, tmp_path: Path) -> None:
    doc_id = _one_ready(ledger, tmp_path)
    finding = Finding(
        "LEGACY_REFUSED_ACCOUNT_NUMBER", ["account_number"], "warning", "登録できません", "7桁"
    )
    keying_store.record_review(ledger, doc_id, [finding], attempts=1)
    doc = ledger.load(doc_id)
    assert doc.state is DocState.REVIEW and doc.decision == "review"
    assert [f.code for f in doc.findings] == ["LEGACY_REFUSED_ACCOUNT_NUMBER"]
    assert keying_store.keying_record(ledger, doc_id).outcome == "refused"  # type: ignore[union-attr]


def test_failed_then_reset_for_another_run(ledger: Ledger, tmp_path: Path) -> None:
    doc_id = _one_ready(ledger, tmp_path)
    keying_store.record_failed(
        ledger, doc_id, reason="混雑 account 1234567", attempts=8, evidence="evidence/x"
    )
    row = ledger.find_document(doc_id)
    assert row is not None and row.state is DocState.FAILED and row.failed_stage == "keying"
    assert row.attempts == 1 and "1234567" not in (row.error or "")
    assert keying_store.keying_record(ledger, doc_id).evidence == "evidence/x"  # type: ignore[union-attr]

    assert keying_store.reset_failed(ledger) == [doc_id]

    row = ledger.find_document(doc_id)
    assert row is not None and row.state is DocState.READY and row.error is None
    assert keying_store.reset_failed(ledger) == []
