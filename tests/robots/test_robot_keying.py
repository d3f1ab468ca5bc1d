"""The keying robot in real Chromium against the real stand-in server."""

from __future__ import annotations

import stat
import threading
import time
import zipfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from robots import pages
from robots.credentials import Credentials
from robots.entries import kyufukin_entry
from robots.errors import LegacyLoginError
from robots.keying import Follow, KeyingConfig, KeyingReport, key_documents
from shinsei.model import DocState, FieldValue
from store.keying import keying_record
from store.ledger import Ledger
from tests.robots.conftest import PASSWORD, USER, Applicants, BrowserRunner, LegacyServer

pytestmark = pytest.mark.browser

Key = Callable[..., KeyingReport]
Ready = Callable[..., list[str]]


def _receipt(ledger: Ledger, doc_id: str) -> str | None:
    record = keying_record(ledger, doc_id)
    return None if record is None else record.receipt_no


def test_login_and_wrong_password(
    browser_runner: BrowserRunner, legacy_server: LegacyServer
) -> None:
    async def scenario() -> tuple[str, str]:
        context = await browser_runner.browser.new_context()
        page = await context.new_page()
        try:
            login = await pages.LoginPage.open(page, legacy_server.url)
            menu = await login.login(USER, PASSWORD)
            after_logout = await menu.logout()
            try:
                await after_logout.login(USER, "wrong")
            except LegacyLoginError as exc:
                refused = str(exc)
            else:
                refused = ""
            return menu.HEADING, refused
        finally:
            await context.close()

    heading, refused = browser_runner.run(scenario)
    assert heading == "業務メニュー"
    assert "正しくありません" in refused


def test_keys_a_kyufukin_application(
    legacy_server: LegacyServer, ledger: Ledger, ready: Ready, key: Key, applicants: Applicants
) -> None:
    doc = applicants.kyufukin(
        members=2, member_2_refuse=True, account_holder_kana="キョウコ　ヤマダ"
    )
    (doc_id,) = ready(doc)

    report = key(legacy_server, [doc_id])

    assert report.registered == [doc_id]
    assert ledger.find_document(doc_id).state is DocState.KEYED  # type: ignore[union-attr]
    (stored,) = [r for r in legacy_server.registrations() if r["key"] == doc.value("applicant_no")]
    assert _receipt(ledger, doc_id) == stored["receipt_no"]
    entry = kyufukin_entry(doc)
    data = stored["data"]
    # What the quirky screen needed: codes, half-width large kana, the era date.
    assert (data["bank_code"], data["branch_code"]) == (entry.bank_code, entry.branch_code)
    assert data["account_holder"] == "ｷﾖｳｺ ﾔﾏﾀﾞ"
    assert data["account_number"] == doc.value("account_number")
    assert data["application_date"] == doc.value("application_date")
    assert data["refusing_members"] == [2]
    assert data["payment"] in ("transfer", "copy")


@pytest.mark.parametrize("second_insured", [False, True], ids=["first-insured", "second-insured"])
def test_keys_a_kaigo_application(
    legacy_server: LegacyServer,
    ledger: Ledger,
    ready: Ready,
    key: Key,
    applicants: Applicants,
    second_insured: bool,
) -> None:
    doc = applicants.kaigo(
        second_insured=second_insured,
        application_type="renewal",
        previous_level="care_2",
        previous_valid_from="2019-06-01",
        previous_valid_to="2020-05-31",
    )
    assert (doc.value("insured_number") is None) == second_insured
    (doc_id,) = ready(doc)

    report = key(legacy_server, [doc_id])

    assert report.registered == [doc_id]
    who = (doc.value("name"), doc.value("birth_date"))
    stored = [
        r
        for r in legacy_server.registrations("kn_applications")
        if (r["data"]["name"], r["data"]["birth_date"]) == who
    ]
    assert len(stored) == 1
    data = stored[0]["data"]
    assert _receipt(ledger, doc_id) == stored[0]["receipt_no"]
    assert data["previous_level"] == "care_2"
    assert data["previous_valid_to"] == "2020-05-31"
    assert data["postal_code"] == doc.value("postal_code")
    assert data["name_kana"] == doc.value("name_kana")
    assert (data["specified_disease"] is not None) == second_insured


def test_an_option_is_chosen_whatever_the_width_of_its_brackets(
    legacy_server: LegacyServer, ledger: Ledger, ready: Ready, key: Key, applicants: Applicants
) -> None:
    # the reader folds width: がん(末期) is the system's がん（末期）
    doc = applicants.kaigo(second_insured=True, specified_disease="がん(末期)")
    (doc_id,) = ready(doc)

    report = key(legacy_server, [doc_id])
    assert report.registered == [doc_id], (report, ledger.load(doc_id).findings)
    (stored,) = [
        r
        for r in legacy_server.registrations("kn_applications")
        if r["data"]["name"] == doc.value("name")
    ]
    assert stored["data"]["specified_disease"] == "がん（末期）"


def test_an_applicant_already_registered_is_not_keyed_twice(
    legacy_server: LegacyServer, ledger: Ledger, ready: Ready, key: Key, applicants: Applicants
) -> None:
    first = applicants.kyufukin()
    (first_id,) = ready(first)
    key(legacy_server, [first_id])
    # The same application arrives again as another envelope (another scan, another id).
    again = replace(first, id="f" * 64, file="second-scan.pdf")
    (again_id,) = ready(again)

    report = key(legacy_server, [again_id])

    assert report.existing == [again_id]
    rows = [r for r in legacy_server.registrations() if r["key"] == first.value("applicant_no")]
    assert len(rows) == 1
    assert _receipt(ledger, again_id) == _receipt(ledger, first_id) == rows[0]["receipt_no"]
    assert keying_record(ledger, again_id).outcome == "existing"  # type: ignore[union-attr]


def test_a_different_existing_registration_is_a_failure_not_a_success(
    legacy_server: LegacyServer,
    ledger: Ledger,
    ready: Ready,
    key: Key,
    applicants: Applicants,
    data_dir: Path,
) -> None:
    first = applicants.kyufukin(phone="078-111-2222", account_number="7654321")
    (first_id,) = ready(first)
    key(legacy_server, [first_id])
    fields = dict(first.fields)
    fields["phone"] = FieldValue("phone", "078-999-8888", 0.99, "ocr")
    other = replace(first, id="e" * 64, file="other.pdf", fields=fields)
    (other_id,) = ready(other)

    report = key(legacy_server, [other_id])

    assert report.failed == [other_id]
    row = ledger.find_document(other_id)
    assert row is not None and row.state is DocState.FAILED and row.failed_stage == "keying"
    record = keying_record(ledger, other_id)
    assert record is not None and record.outcome == "mismatch"
    assert record.detail["fields"] == ["phone"]
    assert (
        len([r for r in legacy_server.registrations() if r["key"] == first.value("applicant_no")])
        == 1
    )
    # The evidence shows the screen, but neither the account number nor the password.
    folder = data_dir / (record.evidence or "-")
    files = sorted(folder.iterdir())
    assert {f.suffix for f in files} == {".png", ".zip"}
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
    with zipfile.ZipFile(next(f for f in files if f.suffix == ".zip")) as z:
        text = b"".join(z.read(n) for n in z.namelist())
    assert "世帯詳細".encode() in text
    assert b"7654321" not in text and b"***4321" in text
    assert PASSWORD.encode() not in text


@pytest.mark.parametrize(
    ("form", "overrides", "code"),
    [
        ("kyufukin", {"account_number": "123456"}, "LEGACY_REFUSED_ACCOUNT_NUMBER"),
        ("kaigo", {"name": "髙橋　一郎"}, "LEGACY_REFUSED_NAME"),
        (
            "kyufukin",
            {"account_holder_kana": "ヤマダ　タロウ" * 4},
            "LEGACY_REFUSED_ACCOUNT_HOLDER",
        ),
        ("kyufukin", {"bank_name": "存在しない", "bank_type": "bank"}, "LEGACY_BANK_UNKNOWN"),
        (
            "kaigo",
            {"second_insured": True, "specified_disease": "かぜ"},
            "LEGACY_REFUSED_SPECIFIED_DISEASE",
        ),
    ],
    ids=["short-account-number", "gaiji-name", "holder-too-long", "unknown-bank", "no-option"],
)
def test_a_refused_value_sends_the_document_to_review(
    legacy_server: LegacyServer,
    ledger: Ledger,
    ready: Ready,
    key: Key,
    applicants: Applicants,
    form: str,
    overrides: dict[str, Any],
    code: str,
) -> None:
    doc = applicants.kyufukin(**overrides) if form == "kyufukin" else applicants.kaigo(**overrides)
    before = len(legacy_server.receipts())
    (doc_id,) = ready(doc)

    report = key(legacy_server, [doc_id])

    assert report.review == [doc_id]
    loaded = ledger.load(doc_id)
    assert loaded.state is DocState.REVIEW
    found = [f for f in loaded.findings if f.code == code]
    assert found and found[0].severity == "warning" and found[0].reviewer_message_ja
    assert keying_record(ledger, doc_id).attempts <= 1  # type: ignore[union-attr]  # never retried
    assert len(legacy_server.receipts()) == before  # nothing registered


def test_maintenance_fails_after_the_retries_with_private_masked_evidence(
    start_legacy: Callable[..., LegacyServer],
    ledger: Ledger,
    ready: Ready,
    key: Key,
    applicants: Applicants,
    data_dir: Path,
) -> None:
    server = start_legacy(maintenance="00:00-23:59,23:59-00:00")
    doc = applicants.kyufukin()
    (doc_id,) = ready(doc)

    report = key(server, [doc_id], contexts=1)

    assert report.failed == [doc_id]
    row = ledger.find_document(doc_id)
    assert row is not None and row.state is DocState.FAILED
    assert row.failed_stage == "keying" and "メンテナンス" in (row.error or "")
    record = keying_record(ledger, doc_id)
    assert record is not None and record.attempts == 8 and record.evidence
    folder = data_dir / record.evidence
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(folder.parent.stat().st_mode) == 0o700
    files = sorted(folder.iterdir())
    assert {f.suffix for f in files} == {".png", ".zip"}
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
    trace = next(f for f in files if f.suffix == ".zip")
    with zipfile.ZipFile(trace) as z:
        text = b"".join(z.read(n) for n in z.namelist())
    assert "メンテナンス".encode() in text  # the trace shows why
    assert row.attempts == 1


def test_a_fault_run_keys_everything_exactly_once(
    start_legacy: Callable[..., LegacyServer],
    ledger: Ledger,
    ready: Ready,
    key: Key,
    applicants: Applicants,
    data_dir: Path,
) -> None:
    server = start_legacy(
        busy_rate=0.1, drop_rate=0.05, session_lifetime_minutes=0.25, seed=7, access_log=True
    )
    docs = [applicants.kyufukin() for _ in range(7)] + [applicants.kaigo() for _ in range(3)]
    ids = ready(*docs)

    report = key(server, ids, contexts=2)

    assert sorted(report.registered + report.existing) == sorted(ids), report.to_dict()
    # the faults happened: busy pages served (most are retried in place, so the
    # report's document-level retries may be none)
    assert server.answered(503) > 0
    receipts = server.receipts()
    assert len(receipts) == len(ids)  # each applicant registered once, none twice
    assert {_receipt(ledger, i) for i in ids} == set(receipts)
    for doc in docs[:7]:
        matching = [r for r, k in receipts.items() if k == doc.value("applicant_no")]
        assert len(matching) == 1
    # Traced from their first fault, but keyed in the end: no evidence kept.
    assert not (data_dir / "evidence").exists()


def test_following_a_batch_keys_what_becomes_ready_and_stops_when_nothing_waits(
    legacy_server: LegacyServer,
    ledger: Ledger,
    ready: Ready,
    applicants: Applicants,
    browser_runner: BrowserRunner,
    credentials: Credentials,
    tmp_path: Path,
) -> None:
    first = ready(applicants.kyufukin())
    later = [applicants.kyufukin(), applicants.kaigo()]
    for doc in later:  # still being read: extracted, not yet validated
        source = tmp_path / doc.file
        source.write_text("{}")
        ledger.register_document(
            doc_id=doc.id, batch_id="test", file=str(source), source=source,
            size_bytes=2, page_sizes=[(2480, 3508)],
        )  # fmt: skip
        ledger.save_extraction(doc)

    def validate_later() -> None:
        time.sleep(1.0)  # the robot has keyed the first one and found nothing more ready
        for doc in later:
            ledger.save_validation(doc.id, "accept", [])

    validator = threading.Thread(target=validate_later)
    validator.start()
    config = KeyingConfig(legacy_url=legacy_server.url, contexts=2, timeout=10.0)
    follow = Follow("test", poll_seconds=0.2)
    report = browser_runner.run(
        lambda: key_documents(
            browser_runner.browser, ledger, first, config, credentials, follow=follow
        )
    )
    validator.join()

    assert sorted(report.registered) == sorted(first + [d.id for d in later])
    assert report.seconds >= 1.0  # it waited for them
    assert {ledger.load(i).state for i in report.registered} == {DocState.KEYED}


def test_following_stops_when_the_stages_upstream_stall(
    legacy_server: LegacyServer,
    ledger: Ledger,
    ready: Ready,
    applicants: Applicants,
    browser_runner: BrowserRunner,
    credentials: Credentials,
    tmp_path: Path,
) -> None:
    first = ready(applicants.kyufukin())
    stuck = applicants.kyufukin()  # received, and nothing will ever read it
    source = tmp_path / stuck.file
    source.write_text("{}")
    ledger.register_document(
        doc_id=stuck.id, batch_id="test", file=str(source), source=source,
        size_bytes=2, page_sizes=[(2480, 3508)],
    )  # fmt: skip
    config = KeyingConfig(legacy_url=legacy_server.url, contexts=1, timeout=10.0)
    follow = Follow("test", poll_seconds=0.1, stall_seconds=0.5)

    report = browser_runner.run(
        lambda: key_documents(
            browser_runner.browser, ledger, first, config, credentials, follow=follow
        ),
        timeout=60,
    )

    assert report.registered == first
    assert ledger.load(stuck.id).state is DocState.RECEIVED
