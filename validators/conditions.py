"""The small condition language of form.yaml rules (``when:``).

Any rule may carry ``when:``; the rule is checked only when its condition
holds. ``required_if`` and ``forbidden_if`` must have one. A condition is one
of these mappings::

    {field: payment_method, equals: transfer}       # value equals (a list never equals)
    {field: application_type, in: [renewal, change]}
    {field: id_documents, includes: other}           # a multichoice list holds it
    {field: id_documents, is_blank: true}            # None, "", [], false
    {field: agent_type, is_filled: true}
    {all: [cond, ...]}   {any: [cond, ...]}   {not: cond}
    {age_at_least: {birth: birth_date, at: application_date, years: 65}}
    {age_below:    {birth: birth_date, at: application_date, years: 65}}
    {has_attachment: passbook_copy}

``at`` (and every date reference of the rules) is a field id or one of
``receipt_date`` (the batch's 受付日), ``today``, ``window_from`` /
``window_to`` (the form's ``application_window``) or an ISO date.

Ages follow 年齢計算ニ関スル法律: a person reaches an age on the day before
the birthday (介護保険の第1号被保険者になるのは65歳の誕生日の前日). An age test
whose dates are blank or unreadable is false.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

if TYPE_CHECKING:
    from shinsei.model import Document
    from validators.engine import RuleContext

#: Date references that are not field ids.
DATE_TOKENS = frozenset({"receipt_date", "today", "window_from", "window_to"})


def is_blank(value: Any) -> bool:
    """Blank as the rules see it: ``None``, empty text, an empty list, an unticked box."""
    if value is None or value is False:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, list | tuple) and not value


def as_date(value: Any) -> date | None:
    """A canonical ``YYYY-MM-DD`` value (or a date) as a date; ``None`` if it is not one."""
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def resolve_date(ref: str, doc: Document, ctx: RuleContext) -> date | None:
    """The date a rule parameter refers to (token, ISO literal or field id)."""
    if ref == "receipt_date":
        return ctx.receipt_date
    if ref == "today":
        return date.today()
    if ref in ("window_from", "window_to"):
        window = ctx.form.application_window or {}
        return as_date(window.get(ref.removeprefix("window_")))
    literal = as_date(ref)
    if literal is not None:
        return literal
    return as_date(doc.value(ref))


def date_ref_fields(ref: str | None) -> list[str]:
    """The field ids a date reference names (none for tokens and literals)."""
    if ref is None or ref in DATE_TOKENS or as_date(ref) is not None:
        return []
    return [ref]


def legal_age(birth: date, on: date) -> int:
    """Age on ``on`` under 年齢計算ニ関スル法律 (the age is reached the day before the birthday)."""
    day = on + timedelta(days=1)
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


class AgeTest(BaseModel):
    """A person's age (by the date in ``birth``) on the date ``at``, against ``years``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    birth: str
    at: str = "receipt_date"
    years: int = Field(ge=0, le=150)

    def age(self, doc: Document, ctx: RuleContext) -> int | None:
        birth = resolve_date(self.birth, doc, ctx)
        at = resolve_date(self.at, doc, ctx)
        if birth is None or at is None:
            return None
        return legal_age(birth, at)


_FIELD_TESTS = ("equals", "in_", "includes", "is_blank", "is_filled")
_OTHER_FORMS = ("all_", "any_", "not_", "age_at_least", "age_below", "has_attachment")


class Condition(BaseModel):
    """One ``when:`` condition (see the module docstring for the forms it takes)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    field: str | None = None
    equals: Any = None
    in_: list[Any] | None = Field(default=None, alias="in")
    includes: Any = None
    is_blank: bool | None = None
    is_filled: bool | None = None
    all_: list[Condition] | None = Field(default=None, alias="all")
    any_: list[Condition] | None = Field(default=None, alias="any")
    not_: Condition | None = Field(default=None, alias="not")
    age_at_least: AgeTest | None = None
    age_below: AgeTest | None = None
    has_attachment: str | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Condition:
        given = self.model_fields_set
        tests = [t for t in _FIELD_TESTS if t in given]
        others = [o for o in _OTHER_FORMS if o in given]
        if self.field is not None:
            if len(tests) != 1 or others:
                raise ValueError(
                    "a condition on a field needs exactly one of "
                    "equals, in, includes, is_blank, is_filled"
                )
        elif len(others) != 1 or tests:
            raise ValueError(
                "a condition needs 'field' with a test, or exactly one of "
                "all, any, not, age_at_least, age_below, has_attachment"
            )
        return self

    def field_ids(self) -> list[str]:
        """Every field id this condition reads (checked when the form is loaded)."""
        ids: list[str] = []
        if self.field is not None:
            ids.append(self.field)
        for sub in (self.all_ or []) + (self.any_ or []) + ([self.not_] if self.not_ else []):
            ids.extend(sub.field_ids())
        for age in (self.age_at_least, self.age_below):
            if age is not None:
                ids += date_ref_fields(age.birth) + date_ref_fields(age.at)
        return ids

    def holds(self, doc: Document, ctx: RuleContext) -> bool:
        """Whether the condition is true of ``doc``."""
        given = self.model_fields_set
        if self.field is not None:
            value = doc.value(self.field)
            if "equals" in given:
                return not isinstance(value, list) and value == self.equals
            if "in_" in given:
                return not isinstance(value, list) and value in (self.in_ or [])
            if "includes" in given:
                return value == self.includes or (
                    isinstance(value, list) and self.includes in value
                )
            if "is_blank" in given:
                return is_blank(value) == bool(self.is_blank)
            return (not is_blank(value)) == bool(self.is_filled)
        if self.all_ is not None:
            return all(c.holds(doc, ctx) for c in self.all_)
        if self.any_ is not None:
            return any(c.holds(doc, ctx) for c in self.any_)
        if self.not_ is not None:
            return not self.not_.holds(doc, ctx)
        if self.age_at_least is not None:
            age = self.age_at_least.age(doc, ctx)
            return age is not None and age >= self.age_at_least.years
        if self.age_below is not None:
            age = self.age_below.age(doc, ctx)
            return age is not None and age < self.age_below.years
        return self.has_attachment in doc.attachments
