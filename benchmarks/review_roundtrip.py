"""Benchmark of the review round trip: export 1,000 documents with crops, import 10 % changed.

Targets (issue 5): export ≤ 60 s and ≤ 50 MB, import ≤ 30 s.

    python -m benchmarks.review_roundtrip            # 1,000 documents
    python -m benchmarks.review_roundtrip --docs 200 --json out.json

The batch is built from the resident registry by :mod:`review.demo` (one to
three uncertain readings per document, each with its crop, some rule
warnings) in a scratch data directory. Export and import each run in a fresh
process, so their time and peak memory (max RSS) are their own.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import resource
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl

from forms.loader import load_form
from forms.schema import FieldSpec, Kind
from review import layout as L
from review.demo import make_review_batch
from shinsei.residents import registry
from store import Ledger

BATCH = "bench-review"


def _in_child(kind: str, data_dir: str, path: str, queue: Any) -> None:
    os.environ["SHINSEI_DATA_DIR"] = data_dir
    from review.exporter import export_review
    from review.importer import import_review

    start = time.perf_counter()
    if kind == "export":
        report = export_review(BATCH, Path(path))
        detail: dict[str, Any] = {"documents": report.documents, "images": report.images}
    else:
        imported = import_review(Path(path), reviewer="bench")
        detail = {"cells_changed": imported.cells_changed, "moved": imported.counts()}
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put({"seconds": round(seconds, 2), "peak_rss_mb": round(peak_mb, 1), **detail})


def _run(kind: str, data_dir: Path, path: Path) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_in_child, args=(kind, str(data_dir), str(path), queue))
    proc.start()
    result: dict[str, Any] = queue.get(timeout=1800)
    proc.join()
    return result


def _new_value(spec: FieldSpec, rng: random.Random) -> Any:
    """A value a reviewer could type into this field's cell."""
    if spec.id == "my_number":
        return rng.choice(registry().members()).my_number
    if spec.kind is Kind.DIGITS:
        return "".join(rng.choice("0123456789") for _ in range(spec.length or 7))
    if spec.kind is Kind.DATE:
        return datetime(2020, 5, rng.randrange(1, 29))
    if spec.kind in (Kind.CHECKBOX, Kind.SIGNATURE):
        return L.MARK_YES
    if spec.kind is Kind.CHOICE:
        return rng.choice(spec.options or []).label_ja
    if spec.id.endswith("phone"):
        return f"078-{rng.randrange(200, 999)}-{rng.randrange(0, 10000):04d}"
    if spec.id == "branch_name":
        return rng.choice(["本山", "三宮", "神戸"])
    return None  # free text and kana: left alone (any change would be a guess)


def change_cells(src: Path, dst: Path, share: float, seed: int = 7) -> int:
    """Change ``share`` of the value cells of ``src``; return how many were changed."""
    rng = random.Random(seed)
    wb = openpyxl.load_workbook(src)
    changed = 0
    for ws in wb.worksheets:
        ids = {c.value: c.column for c in ws[L.ID_ROW] if isinstance(c.value, str)}
        if L.COL_DOC not in ids:
            continue
        manifest_form = None
        for title, form_id in _sheet_forms(wb).items():
            if title == ws.title:
                manifest_form = load_form(form_id)
        assert manifest_form is not None
        for mid, column in ids.items():
            if not mid.startswith(L.FIELD_PREFIX):
                continue
            spec = manifest_form.field(mid.removeprefix(L.FIELD_PREFIX))
            for r in range(L.FIRST_DATA_ROW, ws.max_row + 1):
                if rng.random() >= share:
                    continue
                value = _new_value(spec, rng)
                if value is not None:
                    ws.cell(row=r, column=column, value=value)
                    changed += 1
    wb.save(dst)
    return changed


def _sheet_forms(wb: Any) -> dict[str, str]:
    out = {}
    for row in wb[L.MANIFEST_SHEET].iter_rows(values_only=True):
        if row and row[0] == "sheet":
            out[str(row[1])] = str(row[2])
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=1000)
    parser.add_argument("--share", type=float, default=0.10, help="share of value cells changed")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="shinsei-bench-review-") as tmp:
        root = Path(tmp)
        data = root / "data"
        os.environ["SHINSEI_DATA_DIR"] = str(data)
        start = time.perf_counter()
        kaigo = args.docs // 10
        make_review_batch(Ledger(), batch_id=BATCH, kyufukin=args.docs - kaigo, kaigo=kaigo)
        setup = time.perf_counter() - start

        workbook = root / "review.xlsx"
        export = _run("export", data, workbook)
        export["size_mb"] = round(workbook.stat().st_size / 1e6, 2)
        edited = root / "reviewed.xlsx"
        changed = change_cells(workbook, edited, args.share)
        imported = _run("import", data, edited)

    results = {
        "documents": args.docs,
        "setup_seconds": round(setup, 1),
        "export": export,
        "cells_changed_in_workbook": changed,
        "import": imported,
        "targets": {"export_seconds": 60, "export_size_mb": 50, "import_seconds": 30},
    }
    print(json.dumps(results, ensure_ascii=False, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
