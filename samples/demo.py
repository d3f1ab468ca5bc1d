"""The demo batch committed in ``samples/batch-demo/``: 30 envelopes, each with a purpose.

Every envelope is planned by hand (:data:`DEMO`) so the small batch covers
both forms, both writing styles, every file format and scan mode, a set of
defect codes, the two non-defects, a duplicate application, an upside-down
and a sideways page, a damaged QR code, extra pages in a different order and
two envelopes that hold no form. ``shinsei samples generate --demo --out
samples/batch-demo`` rebuilds it byte for byte and rewrites its README.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from samples.defects import BY_CODE
from samples.generator import (
    UNKNOWN_KINDS,
    EnvelopePlan,
    SubjectPool,
    envelope_seed,
    first_same_key,
)
from samples.truth import read_truth
from shinsei.residents import ResidentRegistry, registry

DEMO_SEED = 2020
DEMO_DIR = Path(__file__).resolve().parent / "batch-demo"


@dataclass(frozen=True)
class Demo:
    """One envelope of the demo batch: what it is, how it is scanned, what it tests."""

    kind: str
    style: str
    fmt: str
    mode: str
    dpi: int
    note: str
    defects: tuple[str, ...] = ()
    non_defects: tuple[str, ...] = ()
    pin: dict[str, Any] = field(default_factory=dict)
    """Plan fields pinned (upside_down, qr_damaged …), ``requires`` (applicant facts) and
    ``duplicate_of`` (the 1-based index of the envelope this one repeats)."""


KF, KN, HW, PR = "kyufukin", "kaigo_nintei", "handwriting", "printed"

# fmt: off
DEMO: list[Demo] = [
    Demo(KF, HW, "pdf", "color", 200,
         "clean handwritten application, colour scan, ID copy enclosed",
         pin={"enclosures": True}),
    Demo(KF, PR, "pdf", "gray", 200,
         "entries typed and printed onto the form (ticks and signature by hand)"),
    Demo(KF, HW, "tiff", "bilevel", 300,
         "bilevel drop-out scan (Group 4 TIFF): the red form vanishes; "
         "registration marks, QR, black pre-print and writing remain"),
    Demo(KF, HW, "pdf", "gray", 300,
         "form page upside down in the feeder",
         pin={"upside_down": True}),
    Demo(KF, HW, "pdf", "color", 200,
         "QR code unreadable (stain or scribble); the printed 申請者番号 identifies the household",
         pin={"qr_damaged": True}),
    Demo(KF, HW, "pdf", "gray", 300,
         "two-line correction, the right value beside or above: not a defect",
         non_defects=("correction",)),
    Demo(KF, HW, "pdf", "color", 200,
         "a tick slightly outside its box: not a defect",
         non_defects=("outside_mark",)),
    Demo(KF, HW, "pdf", "gray", 200,
         "application dated after the receipt date 2020-06-01",
         defects=("KF_APPLICATION_DATE_AFTER_RECEIPT",)),
    Demo(KF, PR, "pdf", "gray", 300,
         "both payment methods ticked",
         defects=("KF_PAYMENT_METHOD_BOTH",)),
    Demo(KF, HW, "tiff", "gray", 200,
         "six-digit account number",
         defects=("KF_ACCOUNT_NUMBER_LENGTH",)),
    Demo(KF, HW, "pdf", "bilevel", 200,
         "account holder is not the head of household",
         defects=("KF_ACCOUNT_HOLDER_MISMATCH",)),
    Demo(KF, HW, "pdf", "gray", 200,
         "payment method ② without the passbook copy",
         defects=("KF_PASSBOOK_COPY_MISSING",)),
    Demo(KF, HW, "pdf", "color", 200,
         "no ID box ticked and no ID copy enclosed",
         defects=("KF_ID_DOCUMENT_MISSING",)),
    Demo(KF, HW, "pdf", "gray", 300,
         "a required field blacked out with marker",
         defects=("KF_ILLEGIBLE",)),
    Demo(KF, PR, "png", "bilevel", 300,
         "unsigned; single-page PNG",
         defects=("KF_SIGNATURE_MISSING",)),
    Demo(KF, HW, "pdf", "gray", 200,
         "pages in another order (form not first), blank back with show-through",
         pin={"shuffle": True, "blank_back": True, "enclosures": True}),
    Demo(KF, HW, "pdf", "gray", 200,
         "「受給を希望しません」 ticked and an account written",
         defects=("KF_REFUSAL_WITH_ACCOUNT",)),
    Demo(KF, HW, "jpeg", "color", 200,
         "the household of scan_0001 applies again (another scan): held for review",
         pin={"duplicate_of": 1}),
    Demo(KF, HW, "jpeg", "gray", 200,
         "dated before the application window opened (令和2年5月1日); single-page JPEG",
         defects=("KF_APPLICATION_DATE_BEFORE_START",)),
    Demo(KN, HW, "pdf", "color", 200,
         "clean handwritten application of a 第1号被保険者 (65+)",
         pin={"requires": {"insured_class": 1}}),
    Demo(KN, PR, "tiff", "gray", 300,
         "typed application of a 第2号被保険者 (40–64) with insurer and 特定疾病",
         pin={"requires": {"insured_class": 2}, "enclosures": True}),
    Demo(KN, HW, "pdf", "gray", 200,
         "My Number with a wrong check digit",
         defects=("KN_MY_NUMBER_INVALID",)),
    Demo(KN, HW, "pdf", "bilevel", 300,
         "postal code of another town; bilevel scan of the black form",
         defects=("KN_POSTAL_CODE_MISMATCH",)),
    Demo(KN, PR, "pdf", "gray", 200,
         "renewal without the previous result / validity period",
         defects=("KN_PREVIOUS_RESULT_MISSING",)),
    Demo(KN, HW, "pdf", "color", 200,
         "第2号被保険者 without (part of) the medical insurer information",
         defects=("KN_INSURER_INFO_MISSING",)),
    Demo(KN, HW, "pdf", "gray", 300,
         "two-line correction: not a defect",
         non_defects=("correction",)),
    Demo(KN, HW, "jpeg", "gray", 200,
         "page scanned sideways (90°); single-page JPEG",
         pin={"rotate90": True}),
    Demo(KN, HW, "pdf", "gray", 200,
         "第1号被保険者 without the 被保険者番号",
         defects=("KN_INSURED_NUMBER_MISSING",)),
    Demo("cover_letter", PR, "pdf", "gray", 300,
         "a typed letter to the city: no form (unknown)"),
    Demo("flyer", PR, "jpeg", "color", 200,
         "a colour flyer: no form (unknown)"),
]
# fmt: on


def demo_plans(reg: ResidentRegistry | None = None) -> list[EnvelopePlan]:
    """The plans of the demo batch (deterministic)."""
    reg = reg or registry()
    subjects = SubjectPool(reg, ["kyufukin", "kaigo_nintei"], random.Random(DEMO_SEED))
    plans: list[EnvelopePlan] = []
    for index, demo in enumerate(DEMO, start=1):
        kind = demo.kind
        pinned = dict(demo.pin)
        requires = dict(pinned.pop("requires", {}))
        duplicate_of = pinned.pop("duplicate_of", None)
        subject = None
        if kind not in UNKNOWN_KINDS:
            if duplicate_of is not None:
                subject = plans[duplicate_of - 1].subject
            else:
                for code in demo.defects:
                    requires.update(
                        {k: v for k, v in BY_CODE[code].requires.items() if k != "enclosures"}
                    )
                subject = subjects.take(kind, requires)
        fixed: dict[str, Any] = {"shuffle": False, "upside_down": False, "blank_back": False}
        fixed.update(pinned)
        plan = EnvelopePlan(
            index=index,
            name=f"scan_{index:04d}",
            kind=kind,
            subject=subject,
            style=demo.style,
            defects=demo.defects,
            non_defects=demo.non_defects,
            fmt=demo.fmt,
            mode=demo.mode,
            dpi=demo.dpi,
            note=demo.note,
            seed=envelope_seed(DEMO_SEED, index),
            rates=(0.0, 0.0),
            **fixed,
        )
        if duplicate_of is not None:
            earlier = [p for p in plans if p.kind == kind]
            plan = replace(plan, duplicate_of=first_same_key(plan, earlier, reg))
        plans.append(plan)
    return plans


def write_readme(out_dir: Path) -> Path:
    """``README.md`` of a demo batch: one row per envelope from its truth record."""
    records = read_truth(out_dir / "truth.jsonl")
    size = sum((out_dir / r["file"]).stat().st_size for r in records)
    lines = [
        "# batch-demo — a small sample batch with ground truth",
        "",
        "Generated by `shinsei samples generate --demo --out samples/batch-demo` (seed "
        f"{DEMO_SEED}; byte-identical on every run). {len(records)} envelopes, "
        f"{size / 1e6:.1f} MB. Mail received (受付日) 2020-06-01. The ground truth is "
        "`truth.jsonl`, "
        "one JSON object per envelope in the `shinsei process` contract (DESIGN.md), with "
        "generator-only extras under `generator` (style, pen, defects and non-defects injected, "
        "page order and rotation, scan mode, dpi). All people are fictional (samples/registry/).",
        "",
        "| file | form | style | pages | scan | decision | findings | what it tests |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in records:
        g = r["generator"]
        pages = " · ".join(
            p["kind"] + (f" ({p['rotation']}°)" if p["rotation"] else "") for p in g["pages"]
        )
        codes = ", ".join(f["code"] for f in r["findings"]) or "—"
        style = g["style"] if r["form_id"] else "—"
        scan = f"{g['scan_mode']} {g['dpi']} dpi"
        form = r["form_id"] or g.get("document", "—")
        lines.append(
            f"| `{r['file']}` | {form} | {style} | {pages} | {scan} | "
            f"{r['decision']} | {codes} | {g['note']} |"
        )
    lines += [
        "",
        "Notes",
        "",
        "* `fields` lists every field of the form: `value` is the canonical value of the "
        "dictionary's conventions, `status` is `missing` for a blank field (an unticked checkbox "
        "is `false`/`ok`, an unsigned signature `false`/`missing`).",
        "* A damaged QR code reads as `qr_code: null` (missing); the form is still identified by "
        "its layout and the printed 申請者番号.",
        "* A duplicate application is the later file (intake registers files in name order); "
        "the earlier one is decided on its own.",
        "* Corrections and marks outside their box are listed under `generator.flags` "
        "(`corrected`, `outside_box`, `blacked_out`, `damaged`), as OCR reports them in "
        "`FieldValue.flags`.",
        "",
    ]
    path = out_dir / "README.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
