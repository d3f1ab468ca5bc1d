"""Validation on generated applications with known defects: recall, false rejects, straight-through.

For each style (printed, handwriting) a set is generated with the samples
generator (a seed not used for tuning; defects injected at a high rate), read
by the real OCR (:func:`ocr.pipeline.extract_files`) and validated as
``shinsei process`` does (:func:`validators.stage.validate_documents`). Against
the truth:

* **defect recall** -- deficient applications (truth ``reject``) not accepted;
* **false rejects** -- clean applications (truth ``accept``) rejected;
* **straight-through** -- clean applications accepted with no human touch;
* a confusion table per defect code: how the applications carrying it were
  decided, and whether the code itself was found.

    python -m benchmarks.validation                  # 200 per style
    python -m benchmarks.validation --docs 40

Targets: recall ≥ 99.5 %, false rejects ≤ 1 %, straight-through ≥ 85 %
(handwriting) and ≥ 95 % (printed). Writes ``benchmarks/results/validation.json``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
SEED = 90210
RECEIPT = date(2020, 6, 1)


def _generate(out: Path, style: str, count: int, seed: int) -> dict[str, dict[str, Any]]:
    from samples.generator import Options, generate_batch, plan_batch

    options = Options(count=count, seed=seed, style=style, defect_rate=0.45, unknown_rate=0.0)
    generate_batch(out, plan_batch(options), workers=2)
    lines = (out / "truth.jsonl").read_text(encoding="utf-8").splitlines()
    return {rec["file"]: rec for rec in map(json.loads, lines)}


def _run(folder: Path, workers: int) -> dict[str, Any]:
    from ocr.pipeline import extract_files
    from validators.stage import validate_documents

    files = sorted(p for p in folder.iterdir() if p.name != "truth.jsonl")
    docs = validate_documents(extract_files(files, workers=workers), RECEIPT)
    return {Path(d.file).name: d for d in docs}


def _measure(truth: dict[str, dict[str, Any]], got: dict[str, Any]) -> dict[str, Any]:
    clean = [f for f, t in truth.items() if t["decision"] == "accept"]
    deficient = [f for f, t in truth.items() if t["decision"] == "reject"]
    decided = {f: got[f].decision for f in truth}
    per_code: dict[str, Counter[str]] = defaultdict(Counter)
    for f in deficient:
        codes = {x["code"] for x in truth[f]["findings"] if x["severity"] == "error"}
        found = {x.code for x in got[f].findings}
        for code in codes:
            per_code[code][decided[f]] += 1
            per_code[code]["found"] += code in found
            per_code[code]["total"] += 1
    # why clean applications waited for a person: fields in review, warnings
    held: Counter[str] = Counter()
    wrong_values: Counter[str] = Counter()
    for f in clean:
        if decided[f] != "review":
            continue
        doc = got[f]
        for fid, fv in doc.fields.items():
            if fv.status == "review":
                held[f"field {fid}"] += 1
                if fv.value != truth[f]["fields"].get(fid, {}).get("value"):
                    wrong_values[fid] += 1
        for x in doc.findings:
            if x.severity == "warning":
                held[f"warning {x.code}"] += 1
    missed = [f for f in deficient if decided[f] == "accept"]
    false_rejects = [f for f in clean if decided[f] == "reject"]
    return {
        "documents": len(truth),
        "clean": len(clean),
        "deficient": len(deficient),
        "recall": 1 - len(missed) / max(1, len(deficient)),
        "false_reject_rate": len(false_rejects) / max(1, len(clean)),
        "straight_through": sum(decided[f] == "accept" for f in clean) / max(1, len(clean)),
        "missed": missed,
        "false_rejects": false_rejects,
        "per_code": {code: dict(c) for code, c in sorted(per_code.items())},
        "clean_held_for": dict(held.most_common()),
        "clean_held_misread": dict(wrong_values.most_common()),
    }


def _print(style: str, m: dict[str, Any]) -> None:
    counts = f"{m['clean']} clean, {m['deficient']} deficient"
    print(f"\n== {style}: {m['documents']} applications ({counts})")
    print(f"defect recall (deficient not accepted): {m['recall']:.2%}   (target ≥ 99.5%)")
    print(f"false rejects of clean applications:    {m['false_reject_rate']:.2%}   (target ≤ 1%)")
    target = "85" if style == "handwriting" else "95"
    stp = m["straight_through"]
    print(f"straight-through (clean, no human):     {stp:.2%}   (target ≥ {target}%)")
    print(f"{'defect code':<36}{'n':>5}{'reject':>8}{'review':>8}{'accept':>8}{'code found':>12}")
    for code, c in m["per_code"].items():
        print(
            f"{code:<36}{c['total']:>5}{c.get('reject', 0):>8}{c.get('review', 0):>8}"
            f"{c.get('accept', 0):>8}{c.get('found', 0):>12}"
        )
    held = m["clean_held_for"]
    if held:
        print("clean applications sent to review, by reason (misread: the value was wrong):")
        for reason, n in list(held.items())[:12]:
            fid = reason.removeprefix("field ")
            wrong = m["clean_held_misread"].get(fid, 0) if reason.startswith("field ") else 0
            print(f"  {reason:<40}{n:>5}" + (f"   misread {wrong}" if wrong else ""))
    if m["missed"] or m["false_rejects"]:
        print("missed:", m["missed"], "false rejects:", m["false_rejects"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=200, help="applications per style")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()

    out: dict[str, Any] = {"seed": args.seed}
    with tempfile.TemporaryDirectory(prefix="shinsei-validation-") as tmp:
        for i, style in enumerate(("printed", "handwriting")):
            folder = Path(tmp) / style
            truth = _generate(folder, style, args.docs, args.seed + i)
            measured = _measure(truth, _run(folder, args.workers))
            _print(style, measured)
            out[style] = measured
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "validation.json").write_text(json.dumps(out, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
