"""What operators rely on: runs started through the API, crashes survived, scale-out on Dask."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from flows.tasks import LEGACY_SESSIONS
from shinsei.model import DocState, Document, FieldValue, Finding
from store import Ledger
from tests.flows.conftest import DEMO, FINAL_STATE, demo_truth
from tests.robots.conftest import PASSWORD, USER, LegacyServer

pytestmark = [pytest.mark.slow]

BATCH = "2020-06-01"


def _wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _rejected_document(ledger: Ledger, tmp_path: Path) -> str:
    """A kyufukin application of household H000001, rejected for a missing signature."""
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(b"%PDF- a scan")
    doc_id = "d" * 64
    ledger.ensure_batch("b1", date(2020, 6, 1))
    ledger.register_document(
        doc_id=doc_id,
        batch_id="b1",
        file=str(scan),
        source=scan,
        size_bytes=12,
        page_sizes=[(1, 1)],
    )
    applicant = "0941197584"
    ledger.save_extraction(
        Document(
            id=doc_id,
            file=str(scan),
            pages=1,
            form_id="kyufukin",
            key=applicant,
            fields={"applicant_no": FieldValue("applicant_no", applicant, 1.0, "preprinted")},
        )
    )
    finding = Finding("KF_SIGNATURE_MISSING", ["signature"], "error", "署名がありません。")
    ledger.save_validation(doc_id, "reject", [finding])
    return doc_id


def _deployment_exists(name: str) -> Callable[[], bool]:
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    def exists() -> bool:
        with get_client(sync_client=True) as client:
            try:
                client.read_deployment_by_name(name)
            except ObjectNotFound:
                return False
        return True

    return exists


def test_a_deployment_run_with_parameters_through_the_api(
    prefect_api: str, data_dir: Path, tmp_path: Path
) -> None:
    """What the UI's "Custom run" does: create a run of a served deployment with parameters."""
    from prefect.client.schemas.objects import StateType
    from prefect.deployments import run_deployment

    ledger = Ledger()
    doc_id = _rejected_document(ledger, tmp_path)
    script = (
        "from prefect import serve\n"
        "from flows.nightly import produce_letters\n"
        "serve(produce_letters.to_deployment(name='test-letters'))\n"
    )
    env = {
        **os.environ,
        "PREFECT_API_URL": prefect_api,
        "PREFECT_RUNNER_POLL_FREQUENCY": "1",
        "SHINSEI_DATA_DIR": str(data_dir),
    }
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", script],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_for(_deployment_exists("produce-letters/test-letters"), 120, "the deployment")
        run = run_deployment(
            "produce-letters/test-letters",
            parameters={"batch_id": "b1", "letter_date": "2020-06-02"},
            timeout=240,
            poll_interval=1,
        )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    assert run.state is not None and run.state.type is StateType.COMPLETED, run.state
    assert run.parameters == {"batch_id": "b1", "letter_date": "2020-06-02"}
    assert ledger.load(doc_id).state is DocState.LETTER_QUEUED
    assert list((data_dir / "letters" / "b1").rglob("*.pdf"))


def test_extraction_on_a_dask_cluster_of_two_workers(
    prefect_api: str, data_dir: Path, tmp_path: Path
) -> None:
    from distributed import LocalCluster
    from prefect_dask import DaskTaskRunner

    from flows.nightly import extract_stage
    from intake import intake_inbox

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    names = ["scan_0001.pdf", "scan_0015.png", "scan_0020.pdf", "scan_0029.pdf"]
    for name in names:
        shutil.copy(DEMO / name, inbox / name)
    ledger = Ledger()
    intake_inbox([inbox], "dask", date(2020, 6, 1), ledger)

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True) as cluster:
        assert len(cluster.workers) == 2
        runner = DaskTaskRunner(address=cluster.scheduler_address)
        counts = extract_stage.with_options(task_runner=runner)("dask", chunk_size=1)

    assert counts == {"skipped": 0, "extracted": 3, "unknown": 1}
    truth = demo_truth()
    for row in ledger.rows(ledger.document_ids(batch_id="dask")):
        doc = ledger.load(row.id)
        assert doc.form_id == truth[Path(row.file).name]["form_id"]


# -- the crash test ------------------------------------------------------------------

#: A night small enough to crash twice: accepted forms of both kinds (keying), a
#: rejection, a review, an unknown envelope.
CRASH_SET = [
    "scan_0001.pdf",
    "scan_0002.pdf",
    "scan_0003.tif",
    "scan_0006.pdf",
    "scan_0007.pdf",
    "scan_0009.pdf",
    "scan_0018.jpg",
    "scan_0020.pdf",
    "scan_0021.tif",
    "scan_0029.pdf",
]


def _night(inbox: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    script = (
        "import sys\n"
        "from flows.nightly import nightly_batch\n"
        f"nightly_batch(inbox=sys.argv[1], batch_date='{BATCH}', letter_date='2020-06-02',"
        " chunk_size=2)\n"
    )
    return subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", script, str(inbox)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its worker processes die with it
    )


def _kill(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    _repossess_sessions()


def _repossess_sessions() -> None:
    """Free the session slots the killed night held, as a Prefect server does.

    The robots key while the night is still being read, so a kill at any
    point may leave slots of the legacy-sessions limit held. A real server's
    repossessor frees them when their lease runs out (a minute); the test
    harness's server runs no services, so the test does what it would.
    """
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitUpdate
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client, contextlib.suppress(ObjectNotFound):
        client.update_global_concurrency_limit(
            LEGACY_SESSIONS, GlobalConcurrencyLimitUpdate(active_slots=0)
        )


@pytest.mark.browser
def test_the_night_survives_kill_9_during_extraction_and_during_keying(
    prefect_api: str, data_dir: Path, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name in CRASH_SET:
        shutil.copy(DEMO / name, inbox / name)
    # The 登録完了 page comes 2 s after the registration is committed: a kill
    # in that gap is a kill between 登録 and the ledger write.
    legacy = LegacyServer(tmp_path / "legacy", receipt_latency=2)
    try:
        _crash_twice_then_finish(inbox, data_dir, legacy, prefect_api)
    finally:
        legacy.stop()


def _crash_twice_then_finish(
    inbox: Path, data_dir: Path, legacy: LegacyServer, prefect_api: str
) -> None:
    env = {
        **os.environ,
        "PREFECT_API_URL": prefect_api,
        "SHINSEI_DATA_DIR": str(data_dir),
        "SHINSEI_LEGACY_URL": legacy.url,
        "SHINSEI_LEGACY_USER": USER,
        "SHINSEI_LEGACY_PASSWORD": PASSWORD,
    }
    ledger = Ledger()

    def states() -> dict[str, int]:
        return ledger.count_by_state(BATCH)

    # 1. kill -9 while documents are being read
    night = _night(inbox, env)
    _wait_for(
        lambda: states().get("received", 0) > 0 and states().get("extracted", 0) >= 1,
        600,
        "extraction to be under way",
    )
    _kill(night)
    assert states().get("received", 0) > 0

    # 2. kill -9 after a registration the ledger has not recorded yet
    night = _night(inbox, env)

    def registered_not_recorded() -> bool:
        registered = len(legacy.registrations("kf_applications")) + len(
            legacy.registrations("kn_applications")
        )
        return registered > states().get("keyed", 0)

    _wait_for(registered_not_recorded, 900, "a registration not yet in the ledger")
    _kill(night)

    # 3. the operator re-runs the night: it finishes the batch
    night = _night(inbox, env)
    assert night.wait(timeout=900) == 0

    truth = demo_truth()
    rows = ledger.rows(ledger.document_ids(batch_id=BATCH))
    assert {Path(r.file).name: str(r.state) for r in rows} == {
        name: FINAL_STATE[truth[name]["decision"]] for name in CRASH_SET
    }
    from store.keying import keying_record

    registrations = legacy.registrations("kf_applications") + legacy.registrations(
        "kn_applications"
    )
    keys = [r["key"] for r in registrations]
    assert len(keys) == len(set(keys)), "an applicant was registered twice"
    keyed = [r for r in rows if r.state is DocState.KEYED]
    assert len(registrations) == len(keyed)
    receipts = legacy.receipts()
    for row in keyed:
        record = keying_record(ledger, row.id)
        assert record is not None and record.receipt_no in receipts
    assert ledger.verify_audit().ok


def test_personal_numbers_reach_the_prefect_server_masked(prefect_api: str) -> None:
    from prefect import flow, get_run_logger
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.runtime import flow_run

    from shinsei.privacy import install_log_masking

    @flow(name="privacy-check")
    def talk() -> str:
        install_log_masking()
        get_run_logger().info("個人番号 123456789018、口座番号 1234567 を確認しました")
        return str(flow_run.id)

    run_id = talk()
    with get_client(sync_client=True) as client:
        messages: list[str] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not messages:
            logs = client.read_logs(
                log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id]))
            )
            messages = [log.message for log in logs if "確認しました" in log.message]
            time.sleep(0.5)
    assert messages, "the log line never reached the server"
    assert all("123456789018" not in m and "1234567 " not in m for m in messages)
    assert any("********9018" in m and "***4567" in m for m in messages)


def test_a_night_whose_robot_cannot_log_in_still_reads_writes_letters_and_reports(
    prefect_api: str,
    data_dir: Path,
    robot_env: LegacyServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    from flows.nightly import nightly_batch
    from robots.errors import LegacyLoginError

    truth = demo_truth()
    chosen = {
        decision: sorted(n for n, rec in truth.items() if rec["decision"] == decision)[:2]
        for decision in ("accept", "reject")
    }
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name in chosen["accept"] + chosen["reject"]:
        shutil.copy(DEMO / name, inbox / name)
    monkeypatch.setenv("SHINSEI_LEGACY_PASSWORD", "not-the-password")

    with pytest.raises(LegacyLoginError):
        nightly_batch(inbox=str(inbox), batch_date=BATCH, letter_date="2020-06-02")

    ledger = Ledger()
    states = {Path(r.file).name: str(r.state) for r in ledger.rows(ledger.document_ids())}
    assert "keyed" not in states.values()
    assert {states[n] for n in chosen["reject"]} == {"letter_queued"}
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import TaskRunFilter, TaskRunFilterName
    from prefect.client.schemas.sorting import TaskRunSort

    with get_client(sync_client=True) as client:
        reports = [a for a in client.read_latest_artifacts() if a.key == "batch-2020-06-01"]
        (keying,) = client.read_task_runs(
            task_run_filter=TaskRunFilter(name=TaskRunFilterName(like_="key_task")),
            sort=TaskRunSort.EXPECTED_START_TIME_DESC,
            limit=1,
        )
    assert len(reports) == 1 and "| letter_queued | 2 |" in str(reports[0].data)  # this night's
    # Wrong credentials are not retried: waiting cannot mend them.
    assert keying.state is not None and keying.state.is_failed()
    assert keying.run_count == 1
    assert robot_env.registrations("kf_applications") == []
