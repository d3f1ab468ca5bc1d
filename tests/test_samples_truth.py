"""The generator's truth against the dictionaries' rules, and the committed demo batch.

The truth is written by the generator from what it put on paper; the
validators decide from the canonical values. Both read the same dictionaries,
so on a perfect reading they must agree on every finding and decision.
"""

from __future__ import annotations

import hashlib
import random
from collections import defaultdict
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from forms import load_form
from samples import defects
from samples.demo import DEMO, DEMO_DIR, demo_plans
from samples.generator import EnvelopePlan, Options, SubjectPool, build_application, plan_batch
from samples.truth import decide, field_truth, read_truth
from shinsei.model import Document, FieldValue
from shinsei.residents import registry
from validators.engine import RuleContext, validate

RECEIPT = date(2020, 6, 1)


def _perfect_reading(plan: EnvelopePlan) -> tuple[Document, list[dict[str, Any]]]:
    """The document a perfect reader makes of the planned envelope, and the injected findings."""
    spec, app, findings, _ = build_application(plan, random.Random(plan.seed), registry())
    doc = Document(id=f"doc{plan.index:05d}", file=plan.file_name, form_id=spec.form_id)
    doc.key = app.facts.get("key")
    for fid, cell in field_truth(spec, app).items():
        doc.fields[fid] = FieldValue(
            fid, cell["value"], 1.0, "ocr", status=cell["status"], flags=app.flags.get(fid, [])
        )
    doc.attachments = [a for a in ("id_copy", "passbook_copy") if a in app.enclosures]
    return doc, findings


def _validate_in_order(
    plans: list[EnvelopePlan],
) -> list[tuple[EnvelopePlan, Any, list[dict[str, Any]]]]:
    seen: dict[tuple[str, str], list[str]] = defaultdict(list)
    out = []
    for plan in plans:
        doc, findings = _perfect_reading(plan)
        assert doc.form_id is not None

        def prior(form_id: str, key: str, doc_id: str) -> list[str]:
            return [d for d in seen[(form_id, key)] if d < doc_id]

        ctx = RuleContext(
            form=load_form(doc.form_id), receipt_date=RECEIPT, prior_applications=prior
        )
        result = validate(doc, ctx)
        if doc.key:
            seen[(doc.form_id, doc.key)].append(doc.id)
        out.append((plan, result, findings))
    return out


def _codes(findings: list[Any]) -> list[tuple[str, str]]:
    return sorted(
        (f["code"], f["severity"]) if isinstance(f, dict) else (f.code, f.severity)
        for f in findings
    )


def test_truth_agrees_with_the_validators_on_a_random_batch() -> None:
    options = Options(
        count=240,
        seed=17,
        defect_rate=0.5,
        non_defect_rate=0.3,
        unknown_rate=0.0,
        duplicate_rate=0.05,
    )
    for plan, result, findings in _validate_in_order(plan_batch(options)):
        assert _codes(findings) == _codes(result.findings), (plan.index, plan.defects, result.codes)
        assert decide(findings) == result.decision, (plan.index, plan.defects, result.codes)


@pytest.mark.parametrize("code", [d.code for d in defects.CATALOGUE])
def test_each_defect_gives_its_finding_and_a_reject(code: str) -> None:
    defect = defects.BY_CODE[code]
    options = Options(
        count=1,
        seed=5,
        forms=(defect.form_id,),
        defect_rate=0.0,
        unknown_rate=0.0,
        formats=("pdf",),
    )
    base = plan_batch(options)[0]
    requires = {k: v for k, v in defect.requires.items() if k != "enclosures"}
    subject = SubjectPool(registry(), [defect.form_id], random.Random(3)).take(
        defect.form_id, requires
    )
    for seed in (1, 2, 3):
        plan = replace(base, subject=subject, defects=(code,), seed=seed)
        [(_, result, findings)] = _validate_in_order([plan])
        assert code in result.codes
        assert result.decision == "reject"
        assert _codes(findings) == _codes(result.findings)


@pytest.mark.parametrize("kind", sorted(defects.NON_DEFECTS))
@pytest.mark.parametrize("form_id", ["kyufukin", "kaigo_nintei"])
def test_non_defects_keep_the_application_accepted(kind: str, form_id: str) -> None:
    options = Options(
        count=6, seed=23, forms=(form_id,), defect_rate=0.0, unknown_rate=0.0, non_defect_rate=0.0
    )
    plans = [replace(p, non_defects=(kind,)) for p in plan_batch(options)]
    applied = 0
    for plan, result, findings in _validate_in_order(plans):
        assert findings == [] and result.decision == "accept", (plan.index, result.codes)
        _, app, _, done = build_application(plan, random.Random(plan.seed), registry())
        # a correction needs a free-text field with something written in it
        if done:
            applied += 1
            assert app.flags[done[0]["field"]] in (["corrected"], ["outside_box"])
    assert applied >= len(plans) - 2


def test_the_catalogue_has_a_defect_for_every_error_rule_of_the_forms() -> None:
    for form_id in ("kyufukin", "kaigo_nintei"):
        errors = {r.code for r in load_form(form_id).rules if r.severity == "error"}
        injected = {d.code for d in defects.for_form(form_id)}
        assert errors == injected, form_id


# --------------------------------------------------------------------------- the demo batch


def test_the_demo_batch_is_committed_with_its_truth() -> None:
    records = read_truth(DEMO_DIR / "truth.jsonl")
    assert len(records) == len(DEMO) <= 30
    total = 0
    for r in records:
        data = (DEMO_DIR / r["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == r["document_id"], r["file"]
        assert len(data) <= 5_000_000
        total += len(data)
    assert total <= 15_000_000
    readme = (DEMO_DIR / "README.md").read_text(encoding="utf-8")
    assert all(f"`{r['file']}`" in readme for r in records)


def test_the_demo_batch_covers_what_it_promises() -> None:
    records = read_truth(DEMO_DIR / "truth.jsonl")
    forms = {r["form_id"] for r in records}
    assert {"kyufukin", "kaigo_nintei", None} <= forms
    assert {r["generator"]["style"] for r in records if r["form_id"]} == {"handwriting", "printed"}
    codes = {f["code"] for r in records for f in r["findings"]}
    assert len(codes) >= 8 and "KF_DUPLICATE_APPLICATION" in codes
    flags = {flag for r in records for fl in r["generator"]["flags"].values() for flag in fl}
    assert {"corrected", "outside_box", "blacked_out", "damaged"} <= flags
    pages = [p for r in records for p in r["generator"]["pages"]]
    assert any(p["kind"] == "form" and p["rotation"] == 180 for p in pages)
    assert {"id_copy", "passbook_copy", "blank"} <= {p["kind"] for p in pages}
    assert any(
        r["form_id"] == "kyufukin" and r["generator"]["scan_mode"] == "bilevel" for r in records
    )
    assert {Path(r["file"]).suffix for r in records} == {".pdf", ".tif", ".png", ".jpg"}
    assert {r["decision"] for r in records} == {"accept", "review", "reject", "unknown"}


def test_the_demo_truth_is_what_the_current_generator_plans() -> None:
    """Fields, findings and decisions of the committed truth follow from the demo plans
    (the rendering itself may differ between library versions; the truth may not)."""
    records = {r["file"]: r for r in read_truth(DEMO_DIR / "truth.jsonl")}
    for plan in demo_plans():
        record = records[plan.file_name]
        if plan.subject is None:
            assert record["form_id"] is None
            continue
        spec, app, findings, _ = build_application(plan, random.Random(plan.seed), registry())
        assert record["fields"] == field_truth(spec, app), plan.file_name
        assert record["findings"] == findings, plan.file_name
        assert record["decision"] == decide(findings), plan.file_name
