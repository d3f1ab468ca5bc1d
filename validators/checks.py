"""The built-in rule checks a form.yaml may name."""

from __future__ import annotations

from typing import Any

from forms.schema import RuleSpec
from shinsei.model import Document
from validators.registry import Violation, register_rule


def _blank(value: Any) -> bool:
    return value is None or value == "" or value == [] or value is False


@register_rule("required")
def required(doc: Document, rule: RuleSpec, ctx: Any) -> Violation | None:
    """Every field in ``fields`` must be filled in."""
    missing = [f for f in rule.fields if _blank(doc.value(f))]
    return Violation(missing) if missing else None
