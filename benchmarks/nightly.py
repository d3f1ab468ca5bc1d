"""The nightly batch on a night's worth of generated envelopes: wall time per stage and in total.

Generates the envelopes (samples generator; a seed not used for tuning), then
runs :func:`flows.nightly.nightly_batch` exactly as the nightly deployment
does -- a local Prefect server, the legacy stand-in at its default latency,
real Chromium -- and reads the stage timings from the run's report (keying
runs alongside reading, so its seconds overlap theirs). The
outcome of every envelope is compared with its truth.

    python -m benchmarks.nightly                    # 1,000 envelopes
    python -m benchmarks.nightly --envelopes 100 --workers 2 --contexts 2

Prints a table and writes ``benchmarks/results/nightly.json``. The target on
a 2-core machine is a whole night of 1,000 envelopes in 10 minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
SEED = 4711
OUTCOME = {"accept": "keyed", "review": "review", "reject": "letter_queued", "unknown": "unknown"}


def _generate(inbox: Path, envelopes: int, workers: int) -> float:
    from samples.generator import Options, generate_batch, plan_batch

    started = time.perf_counter()
    plans = plan_batch(Options(count=envelopes, seed=SEED))
    generate_batch(inbox, plans, workers=workers)
    return time.perf_counter() - started


def _compare(inbox: Path, batch: str) -> dict[str, Any]:
    from store import Ledger

    truth = {
        rec["file"]: rec
        for rec in map(json.loads, (inbox / "truth.jsonl").read_text().splitlines())
    }
    ledger = Ledger()
    got: Counter[str] = Counter()
    wrong: Counter[str] = Counter()
    for row in ledger.rows(ledger.document_ids(batch_id=batch)):
        want = OUTCOME[truth[Path(row.file).name]["decision"]]
        got[str(row.state)] += 1
        if str(row.state) != want:
            wrong[f"{want} → {row.state}"] += 1
    expected = Counter(OUTCOME[r["decision"]] for r in truth.values())
    return {"expected": dict(expected), "actual": dict(got), "differences": dict(wrong)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--envelopes", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--contexts", type=int, default=2)
    parser.add_argument(
        "--keep", type=Path, help="use this folder (kept) instead of a temporary one"
    )
    args = parser.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="shinsei-nightly-"))
    work.mkdir(parents=True, exist_ok=True)
    inbox = work / "inbox"
    os.environ["SHINSEI_DATA_DIR"] = str(work / "data")
    from flows.server import ensure_legacy, ensure_prefect_server, quiet_prefect_env

    os.environ.update(quiet_prefect_env())
    generated = 0.0
    if not (inbox / "truth.jsonl").exists():
        generated = _generate(inbox, args.envelopes, args.workers)
        print(f"generated {args.envelopes} envelopes in {generated:.0f} s → {inbox}")

    password = secrets.token_urlsafe(12)
    legacy = ensure_legacy(8870, f"bench:{password}")
    server = ensure_prefect_server(4270)
    os.environ.update(
        PREFECT_API_URL=server.url,
        SHINSEI_LEGACY_URL=legacy.url,
        SHINSEI_LEGACY_USER="bench",
        SHINSEI_LEGACY_PASSWORD=password,
    )
    from flows.nightly import nightly_batch

    batch = "bench-night"
    started = time.perf_counter()
    try:
        result = nightly_batch(
            inbox=str(inbox),
            batch_date=batch,
            receipt_date="2020-06-01",
            workers=args.workers,
            contexts=args.contexts,
            max_sessions=args.contexts,
            letter_date="2020-06-02",
        )
    finally:
        total = time.perf_counter() - started
        # the run's last log lines are still on their way to the server: send them
        # before it stops ("Error logging to API" otherwise)
        from prefect.logging.handlers import APILogWorker

        APILogWorker.drain_all(timeout=5)
        for service in (legacy, server):
            if service.pid:
                os.kill(service.pid, 15)

    timings = result["report"]["timings"]
    print(
        f"\nnightly batch, {args.envelopes} envelopes, {args.workers} workers, "
        f"{args.contexts} browser contexts, load {os.getloadavg()[0]:.1f}"
    )
    print(f"{'stage':<22}{'documents':>10}{'seconds':>10}{'docs/s':>10}")
    for t in timings:
        rate = t["documents"] / t["seconds"] if t["seconds"] else 0.0
        print(f"{t['stage']:<22}{t['documents']:>10}{t['seconds']:>10.1f}{rate:>10.2f}")
    print(f"{'total':<22}{'':>10}{total:>10.1f}   (target ≤ 600 s)")
    print("(keying runs alongside reading and validation; its seconds overlap theirs)")
    comparison = _compare(inbox, batch)
    print("outcomes:", comparison)
    RESULTS.mkdir(exist_ok=True)
    out = {
        "envelopes": args.envelopes,
        "workers": args.workers,
        "contexts": args.contexts,
        "generation_seconds": round(generated, 1),
        "total_seconds": round(total, 1),
        "stages": timings,
        "straight_through_rate": result["report"]["straight_through_rate"],
        "outcomes": comparison,
    }
    (RESULTS / "nightly.json").write_text(json.dumps(out, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
