"""Load and validate form definitions (``forms/<form_id>/form.yaml``).

Every problem is reported as a :class:`FormDefinitionError` naming the file,
the field (or rule) and what is wrong, so an administrator adding a form can
fix it without reading code.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from forms.schema import FormSpec
from shinsei.errors import ConfigError

FORMS_DIR = Path(__file__).resolve().parent


class FormDefinitionError(ConfigError):
    """A form.yaml that cannot be used; the message names file, field and problem."""


def _where(raw: dict[str, Any], loc: tuple[int | str, ...]) -> str:
    """Turn a pydantic error location into 'field account_number (cells[3])'."""
    if len(loc) >= 2 and loc[0] in ("fields", "rules") and isinstance(loc[1], int):
        items = raw.get(str(loc[0])) or []
        item = items[loc[1]] if loc[1] < len(items) else {}
        if loc[0] == "fields":
            name = f"field {item.get('id', '#' + str(loc[1]))!r}"
        else:
            name = f"rule {item.get('code') or item.get('rule') or '#' + str(loc[1])!r}"
        rest = ".".join(str(p) for p in loc[2:])
        return f"{name} ({rest})" if rest else name
    return ".".join(str(p) for p in loc) or "top level"


def parse_form(path: Path) -> FormSpec:
    """Parse and validate one form.yaml; raise :class:`FormDefinitionError` on any problem."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise FormDefinitionError(f"{path}: cannot read the form definition: {exc}") from exc
    if not isinstance(raw, dict):
        raise FormDefinitionError(f"{path}: the form definition must be a mapping")
    try:
        spec = FormSpec.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{_where(raw, tuple(err['loc']))}: {err['msg']}" for err in exc.errors()
        )
        raise FormDefinitionError(f"{path}: {problems}") from exc
    if spec.form_id != path.parent.name:
        raise FormDefinitionError(
            f"{path}: form_id {spec.form_id!r} does not match its folder {path.parent.name!r}"
        )
    template = path.parent / spec.template
    if not template.is_file():
        raise FormDefinitionError(f"{path}: template {spec.template!r} is missing")
    _check_named_parts(path, spec)
    return spec


def _check_named_parts(path: Path, spec: FormSpec) -> None:
    """Rules and normalisers are referred to by name: every name must exist."""
    from validators.registry import check_normalizer, check_rule

    for f in spec.fields:
        if f.normalize is not None:
            try:
                check_normalizer(f.normalize)
            except ValueError as exc:
                raise FormDefinitionError(f"{path}: field {f.id!r}: {exc}") from exc
    for rule in spec.rules:
        try:
            check_rule(rule, spec)
        except ValueError as exc:
            raise FormDefinitionError(f"{path}: rule {rule.code} ({rule.rule}): {exc}") from exc


def form_dir(form_id: str) -> Path:
    return FORMS_DIR / form_id


def form_ids() -> list[str]:
    """Ids of every form defined under ``forms/``."""
    return sorted(p.parent.name for p in FORMS_DIR.glob("*/form.yaml"))


@cache
def load_form(form_id: str) -> FormSpec:
    """The validated definition of ``form_id`` (cached per process)."""
    path = form_dir(form_id) / "form.yaml"
    if not path.is_file():
        known = ", ".join(form_ids()) or "none"
        raise FormDefinitionError(f"unknown form {form_id!r} (defined forms: {known})")
    return parse_form(path)


def load_forms() -> dict[str, FormSpec]:
    """Every defined form, by id."""
    return {fid: load_form(fid) for fid in form_ids()}
