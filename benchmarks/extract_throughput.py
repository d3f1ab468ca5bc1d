"""Throughput of extraction, end to end, against the full-page baseline and the model floor.

For each form, a set of 300 dpi PDF envelopes is generated (samples generator,
default content: defects, enclosures, all three scan modes; a seed not used
for tuning), then, each measurement in a fresh process:

* **shinsei** -- :func:`ocr.pipeline.extract_files`, file → Document, with 1 and
  2 worker processes: documents per second and peak RSS per worker;
* **model floor** -- the PP-OCR recognition model alone (ONNX Runtime, in the
  batches shinsei makes) on exactly the crops shinsei recognises (the field
  crops, and the enclosures' title lines that decide their kind; cut and
  made into the model's input beforehand, untimed; no CTC decoding): what no
  pipeline around this model can beat;
* **pages and CTC** -- what any reader of these envelopes pays besides the
  model, at the least: the PDF parsed and every page decoded (the drop-out
  channel of a colour form page too), and the model's output decoded under
  the fields' character sets. Nothing identified, aligned, cut or ticked.
  ``(floor + pages + CTC) ÷ floor`` is the lowest ``total ÷ floor`` a
  reader that looks at the pages as scanned could reach (one process);
* **full-page baseline** -- what a user would otherwise build: RapidOCR's
  default pipeline (PP-OCR detection + direction classifier + recognition) on
  the form page, then each recognised line matched to the field whose
  (aligned) box holds its centre. Run on a subset, one process.

All ONNX Runtime sessions run one thread per process, as shinsei's workers do.

    python -m benchmarks.extract_throughput                 # 40 envelopes per form, 3 rounds
    python -m benchmarks.extract_throughput --docs 12 --baseline-docs 3 --rounds 1

Prints a table and writes ``benchmarks/results/extract_throughput.json``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
SEED = 7301
FORMS = ("kyufukin", "kaigo_nintei")


def generate(out: Path, form: str, count: int, seed: int) -> list[Path]:
    from benchmarks._extract_sets import generate as build
    from samples.generator import Options

    options = Options(
        count=count,
        seed=seed,
        forms=(form,),
        formats=("pdf",),
        dpis=(300,),
        unknown_rate=0.0,
        duplicate_rate=0.0,
        prefix=form,
    )
    build(out, options)
    return sorted(out.glob("*.pdf"))


def _peak_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def _shinsei(files: list[str], workers: int, queue: Any) -> None:
    os.environ["SHINSEI_ORT_THREADS"] = "1"
    from concurrent.futures import as_completed

    from ocr.engine import get_engine
    from ocr.pipeline import Options, extract_files, worker_pool
    from ocr.templates import templates
    from shinsei.residents import registry

    pool = None
    if workers == 1:  # a worker loads these once; not part of the per-document time
        import cv2

        cv2.setNumThreads(1)
        get_engine()
        templates()
        registry()
    else:  # the nightly batch keeps its workers: start them before the clock
        pool = worker_pool(workers)
        for _ in as_completed([pool.submit(time.sleep, 1.0) for _ in range(workers)]):
            pass
    start = time.perf_counter()
    docs = list(
        extract_files([Path(f) for f in files], workers=workers, options=Options(), pool=pool)
    )
    seconds = time.perf_counter() - start
    if pool is not None:
        pool.shutdown()
    peak = _peak_mb(resource.RUSAGE_SELF if workers == 1 else resource.RUSAGE_CHILDREN)
    queue.put(
        {
            "seconds": seconds,
            "docs": len(docs),
            "errors": sum(1 for d in docs if d.error),
            "peak_rss_mb_per_worker": round(peak, 1),
        }
    )


def _crops(files: list[str], path: str) -> None:
    """Cut every crop shinsei would recognise and pickle them (untimed)."""
    import pickle

    from ocr.charsets import text_charset
    from ocr.pipeline import Options, plan_document

    crops: list[tuple[Any, Any, Any]] = []
    for f in files:
        plan = plan_document(Path(f), Options())
        if plan.fields is not None:
            crops.extend((s.crop, s.charset, s.length) for s in plan.fields.segments)
        # the enclosures' title lines that decide their kind are read in the same call
        crops.extend((c, text_charset(), None) for _, check in plan.titles for c in check.crops)
    with Path(path).open("wb") as fh:
        pickle.dump(crops, fh)


def _floor(path: str, part: int, parts: int, queue: Any) -> None:
    import pickle

    os.environ["SHINSEI_ORT_THREADS"] = "1"
    from ocr.engines.onnx import OnnxEngine

    with Path(path).open("rb") as fh:
        crops = pickle.load(fh)[part::parts]
    engine = OnnxEngine(threads=1)
    inputs = [engine.prepare(c)[0] for c, _, _ in crops]  # the model's input, untimed
    engine.probabilities(inputs[:1])  # warm up
    start = time.perf_counter()
    probs = engine.probabilities(inputs)  # batched as shinsei batches them; no CTC decoding
    seconds = time.perf_counter() - start
    ctc = None
    if parts == 1:  # alone on the machine, as the pages are decoded
        start = time.perf_counter()
        for p, (_, charset, length) in zip(probs, crops, strict=True):
            engine.decode(p, charset, length)
        ctc = time.perf_counter() - start
    queue.put({"seconds": seconds, "crops": len(crops), "ctc_seconds": ctc})


def _pages(files: list[str], queue: Any) -> None:
    """Parse each file and decode its pages, and the form page's drop-out channel."""
    import cv2

    from ocr.io import probe, read_pages
    from ocr.pipeline import Options, field_image, plan_document

    cv2.setNumThreads(1)
    options = Options()
    forms = []  # (form page index, template): found beforehand, untimed
    for f in files:
        plan = plan_document(Path(f), options)
        page = plan.doc.form_page
        forms.append((page - 1, plan.tpl) if page and plan.tpl is not None else None)
    start = time.perf_counter()
    for f, form in zip(files, forms, strict=True):
        pages = read_pages(Path(f), probe(Path(f)))
        if form is not None:
            field_image(pages[form[0]], form[1])
    queue.put({"seconds": time.perf_counter() - start})


def _baseline(files: list[str], queue: Any) -> None:
    """RapidOCR's default pipeline on the form page, lines matched to field boxes."""
    import cv2
    import numpy as np
    from rapidocr import RapidOCR

    from ocr.identify import identify_page
    from ocr.io import read_pages
    from ocr.templates import templates

    engine = RapidOCR(
        params={"EngineConfig.onnxruntime.intra_op_num_threads": 1, "Global.log_level": "error"}
    )
    forms = templates()
    engine(np.full((64, 256, 3), 255, np.uint8))  # warm up
    start = time.perf_counter()
    matched = 0
    for f in files:
        for page in read_pages(Path(f)):
            reading = identify_page(page, forms)
            if reading.kind != "form" or reading.alignment is None:
                continue
            out: Any = engine(cv2.cvtColor(page.gray, cv2.COLOR_GRAY2BGR))
            spec = forms[reading.form_id or ""].spec
            inverse = np.linalg.inv(reading.alignment.homography())
            for box, _text in zip(
                out.boxes if out.boxes is not None else [], out.txts or (), strict=False
            ):
                cx, cy = np.asarray(box).mean(axis=0)
                tx, ty, tw = inverse @ np.array([cx, cy, 1.0])
                tx, ty = tx / tw, ty / tw
                for field in spec.fields:
                    if any(x <= tx <= x + w and y <= ty <= y + h for x, y, w, h in field.boxes()):
                        matched += 1
                        break
            break
    queue.put(
        {"seconds": time.perf_counter() - start, "docs": len(files), "lines_matched": matched}
    )


def _run(target: Any, *args: Any) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(*args, queue))
    proc.start()
    result: dict[str, Any] = queue.get(timeout=7200)
    proc.join()
    return result


def _parallel_floor(path: str, parts: int) -> float:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_floor, args=(path, i, parts, queue)) for i in range(parts)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=7200) for _ in procs]
    for p in procs:
        p.join()
    return max(r["seconds"] for r in results)


def bench_form(
    form: str, docs: int, baseline_docs: int, seed: int, work: Path, rounds: int = 3
) -> dict[str, Any]:
    """One form's row. shinsei and the floor are measured in turn, ``rounds`` times, and
    the fastest of each kept: this machine's speed drifts by 15 % within minutes, and
    both sides of the ratio get the same chance."""
    folder = work / form
    files = [str(p) for p in generate(folder, form, docs, seed)]
    crops = str(work / f"{form}-crops.pkl")
    ctx = mp.get_context("spawn")
    proc = ctx.Process(target=_crops, args=(files, crops))
    proc.start()
    proc.join()
    ones, twos, floors1, floors2, pages = [], [], [], [], []
    for _ in range(rounds):
        floors1.append(_run(_floor, crops, 0, 1))
        pages.append(_run(_pages, files)["seconds"])
        ones.append(_run(_shinsei, files, 1))
        twos.append(_run(_shinsei, files, 2))
        floors2.append(_parallel_floor(crops, 2))
    one = min(ones, key=lambda r: r["seconds"])
    two = min(twos, key=lambda r: r["seconds"])
    floor1, floor2 = min(floors1, key=lambda r: r["seconds"]), min(floors2)
    base = _run(_baseline, files[:baseline_docs])
    n = len(files)
    row = {
        "form": form,
        "documents": n,
        "rounds": rounds,
        "crops": floor1["crops"],
        "docs_per_s_1_worker": n / one["seconds"],
        "docs_per_s_2_workers": n / two["seconds"],
        "peak_rss_mb_1_worker": max(r["peak_rss_mb_per_worker"] for r in ones),
        "peak_rss_mb_per_worker_2_workers": max(r["peak_rss_mb_per_worker"] for r in twos),
        "floor_docs_per_s_1": n / floor1["seconds"],
        "floor_docs_per_s_2": n / floor2,
        "baseline_docs_per_s_1": base["docs"] / base["seconds"],
        "baseline_docs": base["docs"],
        "errors": one["errors"] + two["errors"],
        "seconds_each_round": {
            "1_worker": [round(r["seconds"], 2) for r in ones],
            "2_workers": [round(r["seconds"], 2) for r in twos],
            "floor_1": [round(r["seconds"], 2) for r in floors1],
            "floor_2": [round(s, 2) for s in floors2],
            "pages": [round(s, 2) for s in pages],
        },
    }
    row["speedup_vs_baseline_1_worker"] = row["docs_per_s_1_worker"] / row["baseline_docs_per_s_1"]
    row["total_over_floor_1_worker"] = one["seconds"] / floor1["seconds"]
    row["total_over_floor_2_workers"] = two["seconds"] / floor2
    # CTC is timed in every floor round: its fastest, like the pages'.
    least = min(pages) + min(r["ctc_seconds"] for r in floors1)
    row["pages_and_ctc_ms_per_doc"] = 1000 * least / n
    row["least_total_over_floor_1_worker"] = 1 + least / floor1["seconds"]
    return row


def table(rows: list[dict[str, Any]], load: tuple[float, float, float]) -> str:
    lines = [
        f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
        f"({os.cpu_count()} cores)",
        "",
        "| form | docs | docs/s 1 worker | docs/s 2 workers | peak RSS/worker | "
        "floor docs/s (1 / 2) | total ÷ floor (1 / 2) | (floor + pages + CTC) ÷ floor | "
        "baseline docs/s | × baseline |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['form']} | {r['documents']} | {r['docs_per_s_1_worker']:.2f} | "
            f"{r['docs_per_s_2_workers']:.2f} | {r['peak_rss_mb_per_worker_2_workers']:.0f} MB | "
            f"{r['floor_docs_per_s_1']:.2f} / {r['floor_docs_per_s_2']:.2f} | "
            f"{r['total_over_floor_1_worker']:.2f} / {r['total_over_floor_2_workers']:.2f} | "
            f"{r['least_total_over_floor_1_worker']:.2f} | "
            f"{r['baseline_docs_per_s_1']:.3f} | {r['speedup_vs_baseline_1_worker']:.1f}× |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=40, help="envelopes per form")
    parser.add_argument("--baseline-docs", type=int, default=6)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--forms", default=",".join(FORMS))
    parser.add_argument(
        "--rounds", type=int, default=3, help="shinsei and the floor measured in turn, fastest kept"
    )
    parser.add_argument("--json", type=Path, default=RESULTS / "extract_throughput.json")
    args = parser.parse_args()
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="shinsei-bench-") as tmp:
        os.environ["SHINSEI_DATA_DIR"] = str(Path(tmp) / "data")
        rows = [
            bench_form(form, args.docs, args.baseline_docs, args.seed, Path(tmp), args.rounds)
            for form in args.forms.split(",")
        ]
    report = table(rows, load)
    print(report)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps({"load_average": load, "rows": rows, "table": report}, indent=2),
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
