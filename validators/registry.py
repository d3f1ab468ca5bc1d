"""The rule and normaliser registries: the extension point of validation.

A form.yaml refers to rules and normalisers by name; code registers them here.

* A **rule check** is a function ``check(doc, rule, ctx) -> Violation | None``
  (see :data:`RuleCheck`): it returns ``None`` when the rule holds, else
  the fields at fault. The engine turns a violation into a
  :class:`shinsei.model.Finding` with the rule's code, severity and messages.
  A check may declare a pydantic model of its parameters; the form loader
  validates every rule's parameters against it, so an unknown rule name or a
  bad parameter fails when the form is loaded, naming the file and rule.
* A **normaliser** turns what was read into the canonical value of the data
  dictionary's ``conventions`` (``normalize(raw) -> value``).
* Any rule may carry ``when:`` (:mod:`validators.conditions`); the engine
  checks the rule only when the condition holds, so checks never see it.
  A check registered with ``needs_when=True`` (``required_if``) must have one.

Register a custom check::

    from validators.registry import register_rule

    class _Params(BaseModel):
        field: str

    @register_rule("my_check", params=_Params)
    def my_check(doc, rule, ctx):
        ...
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, ValidationError

if TYPE_CHECKING:
    from forms.schema import FormSpec, RuleSpec
    from shinsei.model import Document
    from validators.conditions import Condition


@dataclass
class Violation:
    """A rule that does not hold: the fields at fault, and optional detail for the reviewer.

    ``values`` fill the ``{placeholders}`` of the rule's messages (besides
    ``{labels}``, the printed labels of ``fields``, and ``{detail}``).
    """

    fields: list[str]
    detail: str = ""
    values: dict[str, Any] = field(default_factory=dict)


RuleCheck = Callable[["Document", "RuleSpec", Any], "Violation | None"]
Normalizer = Callable[[str], Any]


class NoParams(BaseModel):
    """Parameters of a check that takes none besides ``fields``."""

    model_config = ConfigDict(extra="forbid")


@dataclass
class _RegisteredRule:
    check: RuleCheck
    params: type[BaseModel]
    field_params: tuple[str, ...] = field(default=())
    needs_when: bool = False


_RULES: dict[str, _RegisteredRule] = {}
_NORMALIZERS: dict[str, Normalizer] = {}


def register_rule(
    name: str,
    *,
    params: type[BaseModel] = NoParams,
    field_params: tuple[str, ...] = (),
    needs_when: bool = False,
) -> Callable[[RuleCheck], RuleCheck]:
    """Register ``check`` under ``name``.

    ``params`` is the pydantic model of the rule's parameters (besides
    ``code``, ``severity``, the messages, ``fields`` and ``when``);
    ``field_params`` name parameters holding field ids (checked at load);
    ``needs_when`` makes ``when:`` mandatory.
    """

    def deco(check: RuleCheck) -> RuleCheck:
        if name in _RULES:
            raise ValueError(f"rule {name!r} is registered twice")
        _RULES[name] = _RegisteredRule(check, params, field_params, needs_when)
        return check

    return deco


def register_normalizer(name: str) -> Callable[[Normalizer], Normalizer]:
    """Register a normaliser under ``name``."""

    def deco(fn: Normalizer) -> Normalizer:
        if name in _NORMALIZERS:
            raise ValueError(f"normaliser {name!r} is registered twice")
        _NORMALIZERS[name] = fn
        return fn

    return deco


def _load_builtins() -> None:
    # The built-in checks and normalisers register themselves on import.
    import validators.checks  # noqa: F401
    import validators.domain  # noqa: F401
    import validators.normalize  # noqa: F401


def rule_check(name: str) -> RuleCheck:
    _load_builtins()
    try:
        return _RULES[name].check
    except KeyError:
        raise ValueError(
            f"unknown rule {name!r}; known rules: {', '.join(sorted(_RULES))}"
        ) from None


def _check_params(rule: RuleSpec) -> dict[str, Any]:
    return {k: v for k, v in rule.params.items() if k != "when"}


def rule_params(rule: RuleSpec) -> BaseModel:
    """The rule's parameters, parsed by the model its check declared."""
    _load_builtins()
    return _RULES[rule.rule].params.model_validate(_check_params(rule))


def rule_condition(rule: RuleSpec) -> Condition | None:
    """The rule's ``when:`` condition, parsed; ``None`` when it has none."""
    from validators.conditions import Condition

    raw = rule.params.get("when")
    return None if raw is None else Condition.model_validate(raw)


def normalizer(name: str) -> Normalizer:
    _load_builtins()
    try:
        return _NORMALIZERS[name]
    except KeyError:
        known = ", ".join(sorted(_NORMALIZERS))
        raise ValueError(f"unknown normaliser {name!r}; known normalisers: {known}") from None


def check_normalizer(name: str) -> None:
    """Raise ``ValueError`` if no normaliser is registered under ``name``."""
    normalizer(name)


def check_rule(rule: RuleSpec, form: FormSpec) -> None:
    """Raise ``ValueError`` if the rule's name, parameters or field ids are not valid."""
    rule_check(rule.rule)
    registered = _RULES[rule.rule]
    try:
        params = registered.params.model_validate(_check_params(rule))
        condition = rule_condition(rule)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ValueError(f"bad parameters: {problems}") from None
    if registered.needs_when and condition is None:
        raise ValueError(f"rule {rule.rule!r} needs a 'when:' condition")
    known = set(form.field_ids)
    for pname in registered.field_params:
        value = getattr(params, pname, None)
        ids = value if isinstance(value, list) else [value] if value else []
        for fid in ids:
            if fid not in known:
                raise ValueError(f"parameter {pname!r} names {fid!r}, which is not a field")
    named: list[tuple[str, str]] = [
        ("when", fid) for fid in (condition.field_ids() if condition else [])
    ]
    extra = getattr(params, "field_ids", None)
    if callable(extra):
        named += [("parameters", fid) for fid in extra()]
    for where, fid in named:
        if fid not in known:
            raise ValueError(f"{where} names {fid!r}, which is not a field")
