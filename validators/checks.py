"""The generic rule checks a form.yaml may name.

Every check reads the document's canonical values and returns ``None`` when
the rule holds, else a :class:`~validators.registry.Violation` naming the
fields at fault. Checks skip blank values unless blankness is their subject
(``required``): a blank field is reported once, by its own ``required``
rule. Parameters are validated when the form is loaded.

=================  ==========================================================
rule               parameters (besides ``fields`` and ``when``)
=================  ==========================================================
required           —  every field in ``fields`` filled in
required_if        ``when`` (mandatory) — the same, when the condition holds
forbidden_if       ``when`` (mandatory) — every field in ``fields`` blank
exactly_one        —  exactly one of ``fields`` filled; for one choice field,
                   exactly one option marked
at_least_one       —  one of ``fields`` filled
at_most_one        —  not several of ``fields``; for one choice field, not
                   several options marked
pattern            ``regex`` — each filled field matches it entirely
length             ``min``, ``max``, ``exact`` — characters of each filled field
date_range         ``min``, ``max`` — date references (``receipt_date``,
                   ``today``, ``window_from``, ``window_to``, ISO date, field)
age_range          ``birth``, ``at``, ``min``, ``max`` — legal age in years
allowed_values     ``values`` (default: the field's ``allowed_values``),
                   ``match``: ``exact`` or ``loose``
legible            ``scope`` — no required field flagged ``blacked_out``
                   (default fields: those required by ``required`` /
                   ``required_if`` rules whose condition holds, and
                   ``required: 'yes'``; ``scope: optional``: all the others)
attachment_required ``attachment`` — the envelope holds that kind of page
=================  ==========================================================
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from forms.schema import RuleSpec
from shinsei.model import Document
from validators.conditions import (
    AgeTest,
    date_ref_fields,
    is_blank,
    resolve_date,
)
from validators.registry import Violation, register_rule, rule_condition

if TYPE_CHECKING:
    from validators.engine import RuleContext


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _several(value: Any) -> bool:
    return isinstance(value, list) and len(value) > 1


def _filled(doc: Document, field_ids: list[str]) -> list[str]:
    return [f for f in field_ids if not is_blank(doc.value(f))]


def _blacked_out(doc: Document, field_id: str) -> bool:
    fv = doc.fields.get(field_id)
    return fv is not None and "blacked_out" in fv.flags


@register_rule("required")
def required(doc: Document, rule: RuleSpec, ctx: RuleContext) -> Violation | None:
    """Every field in ``fields`` must be filled in (必須).

    A field OCR flagged ``blacked_out`` is left to the ``legible`` rule, so
    the resident is not told twice about the same box.
    """
    missing = [f for f in rule.fields if is_blank(doc.value(f)) and not _blacked_out(doc, f)]
    return Violation(missing) if missing else None


@register_rule("required_if", needs_when=True)
def required_if(doc: Document, rule: RuleSpec, ctx: RuleContext) -> Violation | None:
    """Like ``required``, checked only when ``when`` holds (the engine evaluates it)."""
    return required(doc, rule, ctx)


@register_rule("forbidden_if", needs_when=True)
def forbidden_if(doc: Document, rule: RuleSpec, ctx: RuleContext) -> Violation | None:
    """When ``when`` holds, every field in ``fields`` must be blank (意思の矛盾)."""
    filled = _filled(doc, rule.fields)
    return Violation(filled) if filled else None


@register_rule("exactly_one")
def exactly_one(doc: Document, rule: RuleSpec, ctx: RuleContext) -> Violation | None:
    """Exactly one of ``fields`` is filled; one choice field: exactly one option marked."""
    if len(rule.fields) == 1:
        value = doc.value(rule.fields[0])
        ok = not is_blank(value) and not _several(value)
        return (
            None
            if ok
            else Violation(list(rule.fields), "未記入" if is_blank(value) else "複数記入")
        )
    filled = _filled(doc, rule.fields)
    if len(filled) == 1:
        return None
    return Violation(filled or list(rule.fields), "複数記入" if filled else "未記入")


@register_rule("at_least_one")
def at_least_one(doc: Document, rule: RuleSpec, ctx: RuleContext) -> Violation | None:
    """At least one of ``fields`` is filled in."""
    return None if _filled(doc, rule.fields) else Violation(list(rule.fields))


@register_rule("at_most_one")
def at_most_one(doc: Document, rule: RuleSpec, ctx: RuleContext) -> Violation | None:
    """Not several of ``fields``; for a single choice field, not several options (両方に記入)."""
    if len(rule.fields) == 1:
        value = doc.value(rule.fields[0])
        return Violation(list(rule.fields), "複数記入") if _several(value) else None
    filled = _filled(doc, rule.fields)
    return Violation(filled, "複数記入") if len(filled) > 1 else None


class PatternParams(_Params):
    regex: str

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str) -> str:
        re.compile(value)
        return value


@register_rule("pattern", params=PatternParams)
def pattern(doc: Document, rule: RuleSpec, ctx: RuleContext) -> Violation | None:
    """Each filled field matches ``regex`` entirely."""
    params = PatternParams.model_validate(_own(rule))
    regex = re.compile(params.regex)
    bad = [
        f
        for f in _filled(doc, rule.fields)
        if not (isinstance(doc.value(f), str) and regex.fullmatch(doc.value(f)))
    ]
    return Violation(bad) if bad else None


class LengthParams(_Params):
    min: int | None = Field(default=None, ge=0)
    max: int | None = Field(default=None, ge=0)
    exact: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _some_bound(self) -> LengthParams:
        if self.min is None and self.max is None and self.exact is None:
            raise ValueError("length needs 'min', 'max' or 'exact'")
        return self


@register_rule("length", params=LengthParams)
def length(doc: Document, rule: RuleSpec, ctx: RuleContext) -> Violation | None:
    """Each filled field has the number of characters asked (口座番号は7桁)."""
    params = LengthParams.model_validate(_own(rule))
    bad: list[str] = []
    got: list[str] = []
    for f in _filled(doc, rule.fields):
        n = len(str(doc.value(f)))
        if (
            (params.exact is not None and n != params.exact)
            or (params.min is not None and n < params.min)
            or (params.max is not None and n > params.max)
        ):
            bad.append(f)
            got.append(str(n))
    if not bad:
        return None
    return Violation(bad, f"{'、'.join(got)}文字", {"length": "、".join(got)})


class DateRangeParams(_Params):
    min: str | None = None
    max: str | None = None

    @model_validator(mode="after")
    def _some_bound(self) -> DateRangeParams:
        if self.min is None and self.max is None:
            raise ValueError("date_range needs 'min' or 'max'")
        return self

    def field_ids(self) -> list[str]:
        return date_ref_fields(self.min) + date_ref_fields(self.max)


def _jp(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


@register_rule("date_range", params=DateRangeParams)
def date_range(doc: Document, rule: RuleSpec, ctx: RuleContext) -> Violation | None:
    """Each filled date lies within ``min`` .. ``max`` (both inclusive).

    A bound that refers to a blank field is not checked.
    """
    params = DateRangeParams.model_validate(_own(rule))
    low = resolve_date(params.min, doc, ctx) if params.min else None
    high = resolve_date(params.max, doc, ctx) if params.max else None
    for f in _filled(doc, rule.fields):
        value = resolve_date(f, doc, ctx)
        if value is None:
            continue
        if low is not None and value < low:
            return Violation(
                [f], f"{_jp(value)}は{_jp(low)}より前", {"date": _jp(value), "min": _jp(low)}
            )
        if high is not None and value > high:
            return Violation(
                [f], f"{_jp(value)}は{_jp(high)}より後", {"date": _jp(value), "max": _jp(high)}
            )
    return None


class AgeRangeParams(_Params):
    birth: str
    at: str = "receipt_date"
    min: int | None = Field(default=None, ge=0)
    max: int | None = Field(default=None, ge=0)

    def field_ids(self) -> list[str]:
        return date_ref_fields(self.birth) + date_ref_fields(self.at)


@register_rule("age_range", params=AgeRangeParams)
def age_range(doc: Document, rule: RuleSpec, ctx: RuleContext) -> Violation | None:
    """The legal age (by ``birth``, on ``at``) lies within ``min`` .. ``max`` years."""
    params = AgeRangeParams.model_validate(_own(rule))
    age = AgeTest(birth=params.birth, at=params.at, years=0).age(doc, ctx)
    if age is None:
        return None
    if (params.min is not None and age < params.min) or (
        params.max is not None and age > params.max
    ):
        fields = list(rule.fields) or date_ref_fields(params.birth)
        return Violation(fields, f"{age}歳", {"age": age})
    return None


class AllowedValuesParams(_Params):
    values: list[str] | None = None
    match: Literal["exact", "loose"] = "exact"


_LOOSE_DROP = re.compile(r"[\s\u3000（）()「」、，,・。.]")
_LOOSE_SPLIT = re.compile(r"、|及び|又は|および|または")


def _loose(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).replace("靭", "靱")
    return _LOOSE_DROP.sub("", text)


@register_rule("allowed_values", params=AllowedValuesParams)
def allowed_values(doc: Document, rule: RuleSpec, ctx: RuleContext) -> Violation | None:
    """Each filled field holds one of ``values`` (default: the field's ``allowed_values``).

    ``match: loose`` ignores brackets, spaces and punctuation and accepts one
    item of a listed name (パーキンソン病 for 「…及びパーキンソン病」).
    """
    params = AllowedValuesParams.model_validate(_own(rule))
    bad: list[str] = []
    for f in _filled(doc, rule.fields):
        allowed = params.values or list(ctx.form.field(f).allowed_values or [])
        value = doc.value(f)
        values = value if isinstance(value, list) else [value]
        for v in values:
            text = str(v)
            if params.match == "exact":
                ok = text in allowed
            else:
                key = _loose(text)
                ok = any(
                    key == _loose(a) or key in {_loose(p) for p in _LOOSE_SPLIT.split(a)}
                    for a in allowed
                )
            if not ok:
                bad.append(f)
                break
    return Violation(bad) if bad else None


class LegibleParams(_Params):
    scope: Literal["required", "optional"] = "required"


@register_rule("legible", params=LegibleParams)
def legible(doc: Document, rule: RuleSpec, ctx: RuleContext) -> Violation | None:
    """No required field is blacked out (塗りつぶし等で判読できない必須項目).

    Without ``fields``, the required fields are those of ``required: 'yes'``
    and those a ``required`` / ``required_if`` rule asks for right now;
    ``scope: optional`` checks every other field instead (a blacked-out box
    that is not needed: a person may look, the city does not return it).
    """
    params = LegibleParams.model_validate(_own(rule))
    if rule.fields:
        fields = list(rule.fields)
    else:
        needed = _required_now(doc, ctx)
        if params.scope == "required":
            fields = needed
        else:
            fields = [f for f in ctx.form.field_ids if f not in needed]
    unreadable = [f for f in fields if _blacked_out(doc, f)]
    return Violation(unreadable) if unreadable else None


def _required_now(doc: Document, ctx: RuleContext) -> list[str]:
    ids = [f.id for f in ctx.form.fields if f.required == "yes"]
    for other in ctx.form.rules:
        if other.rule not in ("required", "required_if"):
            continue
        condition = rule_condition(other)
        if condition is None or condition.holds(doc, ctx):
            ids.extend(f for f in other.fields if f not in ids)
    return ids


class AttachmentParams(_Params):
    attachment: Literal["id_copy", "passbook_copy"]


@register_rule("attachment_required", params=AttachmentParams)
def attachment_required(doc: Document, rule: RuleSpec, ctx: RuleContext) -> Violation | None:
    """The envelope holds a page of kind ``attachment`` (通帳の写し, 本人確認書類の写し)."""
    params = AttachmentParams.model_validate(_own(rule))
    if params.attachment in doc.attachments:
        return None
    return Violation(list(rule.fields), f"{params.attachment} がありません")


def _own(rule: RuleSpec) -> dict[str, Any]:
    """The rule's own parameters (``when`` belongs to the engine)."""
    return {k: v for k, v in rule.params.items() if k != "when"}
