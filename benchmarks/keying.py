"""Keying throughput and the fault run, against the stand-in legacy system.

    python -m benchmarks.keying                      # 1, 2, 4 contexts, 60 records each
    python -m benchmarks.keying --contexts 2 --records 120
    python -m benchmarks.keying --fault-run          # 500 records, 10 % busy, 2 % drops,
                                                     # a session expiry every 3 minutes

Each run starts its own stand-in (default latency unless ``--latency``), a
fresh ledger of ready documents made from the registry, and the robot in
this process; a sampler thread adds up CPU time and memory of the browser's
processes (and, apart, of Playwright's driver; the robot's own CPU time is
this process's). Other work on the machine slows every figure: the load
average at the start and at the end of each run is in the results. Prints a
table and writes JSON to ``benchmarks/results/``.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import psutil

from benchmarks._records import make_ready, mixed_documents
from legacy.config import DEFAULT_LATENCY
from robots.credentials import Credentials
from robots.keying import KeyingConfig, key_records
from shinsei.residents import registry
from store.keying import keying_records
from store.ledger import Ledger

RESULTS = Path(__file__).resolve().parent / "results"
USER, PASSWORD = "bench", "bench-only-pass"


class StandIn:
    """A stand-in server process with the given knobs."""

    def __init__(self, workdir: Path, **knobs: Any) -> None:
        self.db = workdir / "legacy.db"
        args = [sys.executable, "-m", "legacy", "serve", "--port", "0", "--db", str(self.db)]
        args += ["--user", f"{USER}:{PASSWORD}"]
        for name, value in knobs.items():
            args += [f"--{name.replace('_', '-')}", str(value)]
        env = {**os.environ, "SHINSEI_DATA_DIR": str(workdir)}
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, text=True, env=env)
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().split()[-1]

    def registrations(self) -> list[tuple[str, str, str]]:
        """(table, key, receipt_no) of every registration."""
        conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True)
        try:
            rows = [
                ("kf", k, r)
                for k, r in conn.execute("SELECT applicant_no, receipt_no FROM kf_applications")
            ]
            rows += [
                ("kn", k, r)
                for k, r in conn.execute("SELECT member_no, receipt_no FROM kn_applications")
            ]
        finally:
            conn.close()
        return rows

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


@dataclass
class Sampler:
    """CPU seconds and peak memory of this process's browser descendants (and of the driver)."""

    interval: float = 0.5
    peak_rss_mb: float = 0.0
    peak_processes: int = 0
    cpu_seconds: dict[int, float] = field(default_factory=dict)
    driver_cpu_seconds: dict[int, float] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def _children(self) -> tuple[list[psutil.Process], list[psutil.Process]]:
        browsers, drivers = [], []
        for child in psutil.Process().children(recursive=True):
            try:
                name = child.name()
            except psutil.Error:
                continue
            if "chrom" in name.lower() or "headless_shell" in name:
                browsers.append(child)
            elif name.startswith("node"):  # Playwright's driver
                drivers.append(child)
        return browsers, drivers

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def sample(self) -> None:
        """Add up what the processes used so far, and the memory they hold now."""
        rss = 0
        browsers, drivers = self._children()
        for proc in browsers + drivers:
            try:
                with proc.oneshot():
                    times = proc.cpu_times()
                    used = times.user + times.system
                    if proc in drivers:
                        self.driver_cpu_seconds[proc.pid] = used
                        continue
                    rss += proc.memory_info().rss
                    self.cpu_seconds[proc.pid] = used
            except psutil.Error:
                continue
        self.peak_rss_mb = max(self.peak_rss_mb, rss / 2**20)
        self.peak_processes = max(self.peak_processes, len(browsers))

    def __enter__(self) -> Sampler:
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    @property
    def cpu_total(self) -> float:
        return sum(self.cpu_seconds.values())

    @property
    def driver_cpu_total(self) -> float:
        return sum(self.driver_cpu_seconds.values())


def _ledger(workdir: Path, count: int, seed: int) -> tuple[Ledger, list[str], list[Any]]:
    os.environ["SHINSEI_DATA_DIR"] = str(workdir / "data")
    ledger = Ledger()
    docs = mixed_documents(count, seed=seed)
    ids = make_ready(ledger, docs, workdir / "scans", batch_id="bench")
    return ledger, ids, docs


def throughput(contexts: int, records: int, latency: float, trace: bool) -> dict[str, Any]:
    """Key ``records`` ready documents with ``contexts`` browser contexts."""
    with tempfile.TemporaryDirectory(prefix="shinsei-bench-") as tmp:
        workdir = Path(tmp)
        server = StandIn(workdir, latency=latency)
        try:
            ledger, ids, _docs = _ledger(workdir, records, seed=contexts)
            config = KeyingConfig(
                legacy_url=server.url, contexts=contexts, max_sessions=contexts, trace=trace
            )
            stand_in = psutil.Process(server.process.pid)
            server_cpu = sum(stand_in.cpu_times()[:2])
            robot_cpu = sum(psutil.Process().cpu_times()[:2])
            load = os.getloadavg()[0]
            with Sampler() as sampler:
                report = key_records(
                    ledger, ids, config=config, credentials=Credentials(USER, PASSWORD)
                )
            load_end = os.getloadavg()[0]
            server_cpu = sum(stand_in.cpu_times()[:2]) - server_cpu
            robot_cpu = sum(psutil.Process().cpu_times()[:2]) - robot_cpu
        finally:
            server.stop()
    per_minute = report.per_minute
    return {
        "contexts": contexts,
        "records": records,
        "latency_s": latency,
        "trace": trace,
        "keyed": report.keyed,
        "failed": len(report.failed),
        "seconds": round(report.seconds, 1),
        "records_per_minute": round(per_minute, 1),
        "per_context_per_minute": round(per_minute / contexts, 1),
        "seconds_per_record_per_context": round(60 * contexts / per_minute, 2)
        if per_minute
        else None,
        "browser_cpu_seconds": round(sampler.cpu_total, 1),
        "browser_cpu_s_per_record": round(sampler.cpu_total / report.keyed, 2)
        if report.keyed
        else None,
        "browser_cpu_percent": round(100 * sampler.cpu_total / report.seconds, 1)
        if report.seconds
        else None,
        "browser_peak_rss_mb": round(sampler.peak_rss_mb),
        "browser_processes": sampler.peak_processes,
        "driver_cpu_s_per_record": round(sampler.driver_cpu_total / report.keyed, 2)
        if report.keyed
        else None,
        "robot_cpu_s_per_record": round(robot_cpu / report.keyed, 2) if report.keyed else None,
        "stand_in_cpu_seconds": round(server_cpu, 1),
        "load_average_at_start": round(load, 2),
        "load_average_at_end": round(load_end, 2),
    }


def fault_run(records: int, contexts: int, latency: float) -> dict[str, Any]:
    """The fault run of the issue: busy pages, drops, session expiries; exactly once?"""
    with tempfile.TemporaryDirectory(prefix="shinsei-fault-") as tmp:
        workdir = Path(tmp)
        server = StandIn(
            workdir,
            latency=latency,
            busy_rate=0.10,
            drop_rate=0.02,
            session_lifetime_minutes=3,
            seed=2020,
        )
        try:
            ledger, ids, docs = _ledger(workdir, records, seed=500)
            config = KeyingConfig(legacy_url=server.url, contexts=contexts, max_sessions=contexts)
            report = key_records(
                ledger, ids, config=config, credentials=Credentials(USER, PASSWORD)
            )
            rounds = 1
            while report.failed and rounds < 3:  # what operators do: re-run the failed ones
                again = key_records(
                    ledger, only_failed=True, config=config, credentials=Credentials(USER, PASSWORD)
                )
                report.failed = again.failed
                report.registered += again.registered
                report.existing += again.existing
                report.seconds += again.seconds
                rounds += 1
            registrations = server.registrations()
        finally:
            server.stop()
        records_by_id = {r.document_id: r for r in keying_records(ledger, ids)}
    expected_key = {doc.id: _legacy_key(doc) for doc in docs}
    by_receipt = {receipt: key for _table, key, receipt in registrations}
    keys = [key for _table, key, _receipt in registrations]
    matching = sum(
        1
        for doc_id in ids
        if doc_id in records_by_id
        and by_receipt.get(records_by_id[doc_id].receipt_no or "") == expected_key[doc_id]
    )
    return {
        "records": records,
        "contexts": contexts,
        "latency_s": latency,
        "busy_rate": 0.10,
        "drop_rate": 0.02,
        "session_lifetime_minutes": 3,
        "rounds": rounds,
        "keyed": report.keyed,
        "registered_by_this_run": len(report.registered),
        "found_registered_on_retry": len(report.existing),
        "failed": len(report.failed),
        "retries": report.retries,
        "seconds": round(report.seconds, 1),
        "stand_in_registrations": len(registrations),
        "registered_twice": len(keys) - len(set(keys)),
        "all_registered_once": sorted(keys) == sorted(expected_key.values()),
        "ledger_receipts_matching_stand_in": matching,
    }


def _legacy_key(doc: Any) -> str:
    """The stand-in's key of a document's applicant (申請者番号, or 宛名番号 for 介護)."""
    if doc.form_id == "kyufukin":
        return str(doc.value("applicant_no"))
    reg = registry()
    member = (
        reg.by_insured_number(doc.value("insured_number"))
        if doc.value("insured_number")
        else reg.by_my_number(doc.value("my_number"))
    )
    assert member is not None
    return member.member_no


def _table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    widths = [max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in columns]
    lines = ["  ".join(c.rjust(w) for c, w in zip(columns, widths, strict=True))]
    lines += [
        "  ".join(str(r.get(c, "")).rjust(w) for c, w in zip(columns, widths, strict=True))
        for r in rows
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--contexts", default="1,2,4", help="comma-separated context counts")
    parser.add_argument("--records", type=int, default=60, help="records per throughput run")
    parser.add_argument(
        "--latency", type=float, default=DEFAULT_LATENCY, help="stand-in latency (s)"
    )
    parser.add_argument("--no-trace", action="store_true", help="run the robot without tracing")
    parser.add_argument("--fault-run", action="store_true", help="run the fault run instead")
    parser.add_argument(
        "--fault-records",
        type=int,
        default=500,
        help="documents in the fault run (500, ~10-15 min; 100 for a quick check, ~3 min)",
    )
    parser.add_argument("--fault-contexts", type=int, default=2, help="contexts in the fault run")
    args = parser.parse_args()

    stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
    RESULTS.mkdir(exist_ok=True)
    machine = {"cpus": os.cpu_count(), "memory_gb": round(psutil.virtual_memory().total / 2**30)}
    if args.fault_run:
        result = fault_run(args.fault_records, args.fault_contexts, args.latency)
        print(_table([result], list(result)))
        out = RESULTS / f"keying-faults-{stamp}.json"
        out.write_text(json.dumps({"machine": machine, "fault_run": result}, indent=2))
    else:
        rows = []
        for contexts in (int(c) for c in args.contexts.split(",")):
            rows.append(throughput(contexts, args.records, args.latency, not args.no_trace))
            print(_table(rows[-1:], list(rows[-1])), flush=True)
        print()
        print(_table(rows, list(rows[0])))
        out = RESULTS / f"keying-{stamp}.json"
        out.write_text(json.dumps({"machine": machine, "throughput": rows}, indent=2))
    print(f"\nwritten: {out}")


if __name__ == "__main__":
    main()
