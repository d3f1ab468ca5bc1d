"""The rule engine: apply a form's rules to a document, collect every finding, decide.

``validate(doc, ctx)`` runs every rule of ``ctx.form`` (the ``rules:`` block
of its form.yaml) on the document's canonical values, collects all findings
first and only then decides:

* ``reject`` (返戻) if any ``error`` finding holds on firm readings;
* ``review`` if any ``warning``, any field below the confidence threshold or
  flagged ``ambiguous``, or an error that rests on a doubtful reading;
* ``accept`` otherwise.

A reading is doubtful when its confidence is below
``ctx.confidence_threshold`` or OCR flagged it ``corrected`` (a two-line
correction was read past) or ``outside_box`` (a mark slightly outside its
box). The city does not count those as deficiencies, so an error citing such
a field sends the document to a person instead of rejecting it; the finding
is kept, and its reviewer message says why it did not reject.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from forms.schema import FormSpec, RuleSpec
from ocr.confidence import AUTO_ACCEPT
from shinsei.model import Decision, Document, FieldStatus, Finding
from shinsei.residents import ResidentRegistry, registry
from validators.conditions import is_blank
from validators.normalize import InvalidValue, normalize_field
from validators.registry import Violation, rule_check, rule_condition

#: Flags that make an error on the field a question for a person, never a reject by themselves.
SOFT_FLAGS = frozenset({"corrected", "outside_box"})

#: Below this confidence a field is a question for a person. It is OCR's
#: auto-accept threshold, chosen on the accuracy benchmark (ocr/confidence.py):
#: one number, so OCR's field status and the decision never disagree.
DEFAULT_CONFIDENCE_THRESHOLD = AUTO_ACCEPT

PriorApplications = Callable[[str, str, str], list[str]]


def no_prior_applications(form_id: str, key: str, document_id: str) -> list[str]:
    """The default when no ledger is at hand: nobody applied before."""
    return []


@dataclass
class RuleContext:
    """What the rules may consult besides the document.

    ``prior_applications(form_id, key, document_id)`` returns the ids of
    OTHER documents of the same form and key registered before this one
    (the ledger provides it: :meth:`store.ledger.Ledger.prior_applications`).
    ``receipt_date`` is the batch's 受付日.
    """

    form: FormSpec
    receipt_date: date
    registry: ResidentRegistry = field(default_factory=registry)
    prior_applications: PriorApplications = no_prior_applications
    confidence_threshold: float = DEFAULT_CONFIDENCE_THRESHOLD


@dataclass
class Validation:
    """The outcome of :func:`validate`: decision, every finding, each field's status."""

    decision: Decision
    findings: list[Finding]
    field_status: dict[str, FieldStatus]

    @property
    def codes(self) -> list[str]:
        return [f.code for f in self.findings]


class _Placeholders(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _fill(template: str, values: dict[str, Any]) -> str:
    # A message may name placeholders the violation does not fill: keep them as written.
    try:
        return string.Formatter().vformat(template, (), _Placeholders(values))
    except (ValueError, IndexError):
        return template


def _labels(form: FormSpec, field_ids: list[str]) -> str:
    labels = []
    for fid in field_ids:
        try:
            labels.append(form.field(fid).label_ja)
        except KeyError:
            labels.append(fid)
    return "、".join(labels)


def finding_of(rule: RuleSpec, violation: Violation, form: FormSpec) -> Finding:
    """The finding a violated rule produces (messages filled from the violation)."""
    fields = violation.fields or list(rule.fields)
    values = {
        "labels": _labels(form, fields),
        "detail": violation.detail,
        **violation.values,
    }
    reviewer = rule.reviewer_message_ja or "{labels}を確認してください。"
    reviewer = _fill(reviewer, values)
    if violation.detail and "{detail}" not in (rule.reviewer_message_ja or ""):
        reviewer = f"{reviewer}（{violation.detail}）"
    return Finding(
        code=rule.code,
        fields=fields,
        severity=rule.severity,
        message_ja=_fill(rule.message_ja, values),
        reviewer_message_ja=reviewer,
    )


def invalid_fields(doc: Document, form: FormSpec) -> set[str]:
    """Fields whose value is not one the field can hold (OCR keeps the raw text then)."""
    bad = set()
    for spec in form.fields:
        fv = doc.fields.get(spec.id)
        if fv is None or fv.value is None:
            continue
        try:
            normalize_field(spec, fv.value)
        except InvalidValue:
            bad.add(spec.id)
    return bad


def _doubtful_fields(doc: Document, ctx: RuleContext) -> set[str]:
    """Fields whose reading a person must confirm before a rule may reject on them."""
    doubtful = invalid_fields(doc, ctx.form)
    for fid, fv in doc.fields.items():
        if "blacked_out" in fv.flags:
            continue  # unreadable on purpose: that is itself the finding
        if fv.confidence < ctx.confidence_threshold or SOFT_FLAGS & set(fv.flags):
            doubtful.add(fid)
    return doubtful


def field_statuses(doc: Document, ctx: RuleContext) -> dict[str, FieldStatus]:
    """Each field's status: ``review``, ``missing`` or ``ok``.

    ``review`` below the threshold, flagged ``ambiguous`` or not a value of
    the field; ``missing`` when blank; else ``ok``.
    """
    status: dict[str, FieldStatus] = {}
    invalid = invalid_fields(doc, ctx.form)
    for spec in ctx.form.fields:
        fv = doc.fields.get(spec.id)
        if fv is None:
            status[spec.id] = "missing"
        elif (
            fv.confidence < ctx.confidence_threshold
            or "ambiguous" in fv.flags
            or spec.id in invalid
        ):
            status[spec.id] = "review"
        elif is_blank(fv.value) and spec.kind.value != "checkbox":
            # An unticked box is an answer (false); an unsigned signature is missing.
            status[spec.id] = "missing"
        else:
            status[spec.id] = "ok"
    return status


def run_rules(doc: Document, ctx: RuleContext) -> list[Finding]:
    """Every finding of every rule of the form, in the order the rules are declared."""
    found: list[Finding] = []
    for rule in ctx.form.rules:
        condition = rule_condition(rule)
        if condition is not None and not condition.holds(doc, ctx):
            continue
        violation = rule_check(rule.rule)(doc, rule, ctx)
        if violation is not None:
            found.append(finding_of(rule, violation, ctx.form))
    return found


_SOFTENED_NOTE = "（読取りに確認が必要な項目を含むため、返戻せず確認に回しています）"


def validate(doc: Document, ctx: RuleContext) -> Validation:
    """Check ``doc`` against every rule of ``ctx.form`` and decide.

    All findings are collected before deciding. An ``error`` rejects unless
    one of its fields is doubtful (low confidence, ``corrected``,
    ``outside_box``): then the document goes to review with the finding kept.
    """
    if doc.form_id is not None and doc.form_id != ctx.form.form_id:
        raise ValueError(f"document is a {doc.form_id}, the rules are {ctx.form.form_id}'s")
    findings = run_rules(doc, ctx)
    status = field_statuses(doc, ctx)
    doubtful = _doubtful_fields(doc, ctx)

    firm_error = False
    needs_person = any(s == "review" for s in status.values())
    for finding in findings:
        if finding.severity == "warning":
            needs_person = True
            for fid in finding.fields:
                if status.get(fid) == "ok":
                    status[fid] = "review"
        elif doubtful & set(finding.fields):
            needs_person = True
            finding.reviewer_message_ja += _SOFTENED_NOTE
            for fid in finding.fields:
                if fid in status and status[fid] != "missing":
                    status[fid] = "review"
        else:
            firm_error = True
    decision: Decision = "reject" if firm_error else "review" if needs_person else "accept"
    return Validation(decision=decision, findings=findings, field_status=status)


def apply_validation(doc: Document, result: Validation) -> Document:
    """Write the decision, findings and field statuses into ``doc`` (in place; returned)."""
    doc.decision = result.decision
    doc.findings = list(result.findings)
    for fid, fv in doc.fields.items():
        if fid in result.field_status:
            fv.status = result.field_status[fid]
    return doc
