"""Generated envelope sets for the extraction benchmarks (samples generator, fixed seeds)."""

from __future__ import annotations

import json
import multiprocessing as mp
from pathlib import Path
from typing import Any


def _build(plan: Any) -> tuple[str, bytes, dict[str, Any]] | tuple[str, None, str]:
    from samples.generator import build_envelope

    try:
        env = build_envelope(plan)
    except Exception as exc:  # a generator fault loses one envelope, not the benchmark
        return plan.file_name, None, f"{type(exc).__name__}: {exc}"
    return env.file_name, env.data, env.truth


def generate(out: Path, options: Any, workers: int = 2) -> tuple[list[dict[str, Any]], list[str]]:
    """Build every planned envelope into ``out``; the truth records and the envelopes skipped."""
    from samples.generator import plan_batch

    out.mkdir(parents=True, exist_ok=True)
    plans = plan_batch(options)
    truth: list[dict[str, Any]] = []
    skipped: list[str] = []
    with mp.get_context("spawn").Pool(workers) as pool:
        for name, data, rec in pool.imap(_build, plans, chunksize=1):
            if data is None:
                skipped.append(f"{name}: {rec}")
                continue
            assert isinstance(rec, dict)
            (out / name).write_bytes(data)
            truth.append(rec)
    (out / "truth.jsonl").write_text(
        "".join(json.dumps(t, ensure_ascii=False) + "\n" for t in truth), encoding="utf-8"
    )
    return truth, skipped
