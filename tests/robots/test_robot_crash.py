"""Kill the robot between 登録 and the ledger write, run it again: still exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from robots.keying import KeyingReport
from shinsei.model import DocState
from store.keying import keying_record
from store.ledger import Ledger
from tests.robots.conftest import PASSWORD, USER, Applicants, LegacyServer

pytestmark = pytest.mark.browser


def _robot(server: LegacyServer, data_dir: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "SHINSEI_DATA_DIR": str(data_dir),
        "SHINSEI_LEGACY_USER": USER,
        "SHINSEI_LEGACY_PASSWORD": PASSWORD,
    }
    command = "from shinsei.cli import main; main()"
    return subprocess.Popen(
        [sys.executable, "-c", command, "key", "--legacy-url", server.url, "--contexts", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: the browser dies with it
    )


def test_killed_after_registering_then_run_again_keys_exactly_once(
    start_legacy: Callable[..., LegacyServer],
    ledger: Ledger,
    ready: Callable[..., list[str]],
    key: Callable[..., KeyingReport],
    applicants: Applicants,
    data_dir: Path,
) -> None:
    # The 登録完了 page is late: the registration is committed, the robot waits for its answer.
    server = start_legacy(receipt_latency=60)
    doc = applicants.kyufukin()
    (doc_id,) = ready(doc)

    robot = _robot(server, data_dir)
    try:
        deadline = time.monotonic() + 90
        while not server.registrations() and time.monotonic() < deadline:
            assert robot.poll() is None, "the robot ended before registering"
            time.sleep(0.2)
        assert server.registrations(), "the robot never registered"
    finally:
        os.killpg(robot.pid, signal.SIGKILL)
        robot.wait()
    # Registered in the legacy system, nothing in the ledger.
    assert ledger.find_document(doc_id).state is DocState.READY  # type: ignore[union-attr]
    assert keying_record(ledger, doc_id) is None

    report = key(server, [doc_id])

    assert report.existing == [doc_id]
    (registration,) = server.registrations()
    assert registration["key"] == doc.value("applicant_no")
    assert ledger.find_document(doc_id).state is DocState.KEYED  # type: ignore[union-attr]
    assert keying_record(ledger, doc_id).receipt_no == registration["receipt_no"]  # type: ignore[union-attr]
