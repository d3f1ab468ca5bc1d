"""Accuracy of extraction on generated envelopes, and the auto-accept threshold.

Two sets are generated with the samples generator on a seed never used while
developing the reader: printed (typed) and handwriting-style, each with the
generator's default mix (both forms, all file formats, scan modes and
resolutions, defects, corrections, enclosures, damaged QR codes, unknown
documents). Extraction runs with the threshold at 0, so every field keeps
its confidence and ``review`` means only "flagged" (ambiguous, blacked out,
unreadable as its kind); then, for every threshold, a field is
*auto-accepted* when it is not flagged and its confidence reaches the
threshold.

Reported, per style:

* exact-match field accuracy per field kind (the canonical value equals the truth);
* checkbox accuracy (checkboxes, choices, multichoices, signatures: OMR);
* form identification accuracy, with a readable QR code and without one;
* attachments (ID / passbook copy) exact per envelope;
* for each candidate threshold: share of fields auto-accepted and the error
  rate among them -- the threshold chosen is the lowest that keeps that
  error rate at or below 0.2 % in both styles (it goes into
  ``ocr/confidence.py``).

    python -m benchmarks.extract_accuracy                       # 200 + 200 envelopes
    python -m benchmarks.extract_accuracy --count 40 --workers 2

Prints tables and writes ``benchmarks/results/extract_accuracy.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
SEED = 9100
TARGET_ERROR = 0.002
THRESHOLDS = [0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99]
OMR_KINDS = {"checkbox", "choice", "multichoice", "signature"}


def generate(
    out: Path, style: str, count: int, seed: int
) -> tuple[list[dict[str, Any]], list[str]]:
    from benchmarks._extract_sets import generate as build
    from samples.generator import Options

    return build(out, Options(count=count, seed=seed, style=style, prefix=style))


def extract(folder: Path, truth: list[dict[str, Any]], workers: int) -> list[dict[str, Any]]:
    """Field readings per envelope: value, confidence, flagged (review at threshold 0)."""
    os.environ["SHINSEI_AUTO_ACCEPT"] = "0"
    from ocr.pipeline import Options, extract_files

    files = [folder / t["file"] for t in truth]
    out = []
    for doc in extract_files(files, workers=workers, options=Options()):
        out.append(
            {
                "file": Path(doc.file).name,
                "form_id": doc.form_id,
                "key": doc.key,
                "attachments": sorted(doc.attachments),
                "error": doc.error,
                "fields": {
                    fid: {
                        "value": fv.value,
                        "confidence": fv.confidence,
                        "flagged": fv.status == "review",
                        "source": fv.source,
                    }
                    for fid, fv in doc.fields.items()
                },
            }
        )
    return out


def score(truth: list[dict[str, Any]], read: list[dict[str, Any]]) -> dict[str, Any]:
    from forms.loader import load_form

    by_file = {r["file"]: r for r in read}
    kinds: Counter[str] = Counter()
    kinds_ok: Counter[str] = Counter()
    ident = {"qr": [0, 0], "no_qr": [0, 0]}
    attachments = [0, 0]
    fields: list[tuple[float, bool, bool]] = []  # (confidence, flagged, correct)
    misread: list[str] = []
    for t in truth:
        r = by_file[t["file"]]
        damaged = bool(t.get("generator", {}).get("qr_damaged"))
        bucket = ident["no_qr" if damaged else "qr"]
        bucket[1] += 1
        bucket[0] += r["form_id"] == t["form_id"]
        attachments[1] += 1
        attachments[0] += r["attachments"] == sorted(t["attachments"])
        if t["form_id"] is None or r["form_id"] != t["form_id"]:
            continue
        spec = load_form(t["form_id"])
        for fid, expected in t["fields"].items():
            kind = spec.field(fid).kind.value
            got = r["fields"].get(fid, {"value": None, "confidence": 0.0, "flagged": True})
            correct = got["value"] == expected["value"]
            kinds[kind] += 1
            kinds_ok[kind] += correct
            fields.append((got["confidence"], got["flagged"], correct))
            if not correct:
                misread.append(
                    f"{t['file']} {fid}: {got['value']!r} != {expected['value']!r} "
                    f"({got['confidence']:.3f}{', flagged' if got['flagged'] else ''})"
                )
    omr = sum(kinds_ok[k] for k in OMR_KINDS), sum(kinds[k] for k in OMR_KINDS)
    curve = []
    for th in THRESHOLDS:
        accepted = [c for conf, flagged, c in fields if not flagged and conf >= th]
        errors = sum(1 for c in accepted if not c)
        curve.append(
            {
                "threshold": th,
                "auto_accepted": len(accepted) / max(1, len(fields)),
                "error_rate": errors / max(1, len(accepted)),
                "errors": errors,
            }
        )
    total_ok = sum(kinds_ok.values())
    return {
        "envelopes": len(truth),
        "fields": len(fields),
        "fields_exact": total_ok / max(1, len(fields)),
        "by_kind": {k: {"exact": kinds_ok[k] / kinds[k], "n": kinds[k]} for k in sorted(kinds)},
        "checkboxes": {"exact": omr[0] / max(1, omr[1]), "n": omr[1]},
        "identification_with_qr": {
            "exact": ident["qr"][0] / max(1, ident["qr"][1]),
            "n": ident["qr"][1],
        },
        "identification_without_qr": {
            "exact": ident["no_qr"][0] / max(1, ident["no_qr"][1]),
            "n": ident["no_qr"][1],
        },
        "attachments_exact": attachments[0] / max(1, attachments[1]),
        "threshold_curve": curve,
        "misread": misread,
    }


def choose(results: dict[str, dict[str, Any]]) -> float | None:
    """The lowest threshold whose auto-accept error rate is within target for every style."""
    for i, th in enumerate(THRESHOLDS):
        if all(r["threshold_curve"][i]["error_rate"] <= TARGET_ERROR for r in results.values()):
            return th
    return None


def tables(results: dict[str, dict[str, Any]], chosen: float | None) -> str:
    styles = list(results)
    kinds = sorted({k for r in results.values() for k in r["by_kind"]})
    out = ["| | " + " | ".join(styles) + " |", "|---|" + "---|" * len(styles)]

    def row(label: str, cells: list[str]) -> None:
        out.append(f"| {label} | " + " | ".join(cells) + " |")

    row("envelopes", [str(results[s]["envelopes"]) for s in styles])
    row(
        "fields exact (all)",
        [f"{results[s]['fields_exact']:.2%} of {results[s]['fields']}" for s in styles],
    )
    for k in kinds:
        row(
            f"  {k}",
            [
                f"{results[s]['by_kind'][k]['exact']:.2%} of {results[s]['by_kind'][k]['n']}"
                if k in results[s]["by_kind"]
                else "—"
                for s in styles
            ],
        )
    row("checkboxes (OMR)", [f"{results[s]['checkboxes']['exact']:.2%}" for s in styles])
    row(
        "identification, QR readable",
        [
            f"{results[s]['identification_with_qr']['exact']:.2%} of "
            f"{results[s]['identification_with_qr']['n']}"
            for s in styles
        ],
    )
    row(
        "identification, no QR",
        [
            f"{results[s]['identification_without_qr']['exact']:.2%} of "
            f"{results[s]['identification_without_qr']['n']}"
            for s in styles
        ],
    )
    row("attachments exact", [f"{results[s]['attachments_exact']:.2%}" for s in styles])
    out += ["", "| threshold | " + " | ".join(f"{s}: accepted / error" for s in styles) + " |"]
    out.append("|---|" + "---|" * len(styles))
    for i, th in enumerate(THRESHOLDS):
        cells = []
        for s in styles:
            c = results[s]["threshold_curve"][i]
            cells.append(f"{c['auto_accepted']:.1%} / {c['error_rate']:.2%} ({c['errors']})")
        mark = " ←" if th == chosen else ""
        out.append(f"| {th:.2f}{mark} | " + " | ".join(cells) + " |")
    out.append("")
    out.append(
        f"chosen auto-accept threshold: {chosen} (error among auto-accepted ≤ {TARGET_ERROR:.1%})"
    )
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=200, help="envelopes per style")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", type=Path, default=RESULTS / "extract_accuracy.json")
    args = parser.parse_args()
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="shinsei-acc-") as tmp:
        os.environ["SHINSEI_DATA_DIR"] = str(Path(tmp) / "data")
        for offset, style in enumerate(("printed", "handwriting")):
            folder = Path(tmp) / style
            truth, skipped = generate(folder, style, args.count, args.seed + offset)
            read = extract(folder, truth, args.workers)
            results[style] = score(truth, read)
            results[style]["generator_failures"] = skipped
    chosen = choose(results)
    report = tables(results, chosen)
    print(report)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps(
            {"seed": args.seed, "results": results, "chosen_threshold": chosen, "table": report},
            ensure_ascii=False,
            indent=2,
        ),
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
