"""Ground truth in the ``shinsei process`` contract (DESIGN.md, "Contracts").

One JSON object per envelope, one line each in ``truth.jsonl``:

* ``file`` (relative to the batch folder), ``document_id`` (sha256 of the
  file's bytes), ``form_id`` (``null`` for a document that is no form),
  ``pages``, ``key`` (kyufukin: 申請者番号; kaigo_nintei: 被保険者番号, else
  個人番号);
* ``fields`` — **every** field of the form: ``{"value", "status"}`` with the
  canonical value of the dictionary's conventions; ``status`` is ``missing``
  when the field is blank (value ``null``, an unsigned signature), else ``ok``
  (an unticked checkbox is a reading, ``false``/``ok``);
* ``attachments`` — ``id_copy`` / ``passbook_copy`` as enclosed;
* ``decision`` — what a perfect reader deciding by the dictionary's rules
  decides: ``reject`` on any error finding, ``review`` on warnings only
  (a duplicate application), ``unknown`` for documents that are no form,
  else ``accept``;
* ``findings`` — ``[{"code", "fields", "severity"}]`` for the injected defects;
* ``generator`` — extras only the generator knows (seed, style, defects and
  non-defects injected, page order and rotation, scan mode, dpi …).

Lines keep the order the record was built in (fields in form order), without
ASCII escaping; the same batch gives the same bytes.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from forms import FormSpec, Kind
from samples.application import Application

ATTACHMENT_ORDER = ("id_copy", "passbook_copy")


def field_truth(spec: FormSpec, app: Application) -> dict[str, dict[str, Any]]:
    """``{field_id: {"value", "status"}}`` for every field of the form, in form order."""
    out: dict[str, dict[str, Any]] = {}
    for f in spec.fields:
        value = app.values.get(f.id)
        if f.kind in (Kind.CHECKBOX, Kind.SIGNATURE) and value is None:
            value = False
        if isinstance(value, list) and not value:
            value = None
        missing = value is None or (f.kind is Kind.SIGNATURE and value is False)
        out[f.id] = {"value": value, "status": "missing" if missing else "ok"}
    return out


def decide(findings: list[dict[str, Any]]) -> str:
    if any(f["severity"] == "error" for f in findings):
        return "reject"
    if findings:
        return "review"
    return "accept"


def record(
    *,
    file: str,
    data: bytes,
    pages: int,
    spec: FormSpec | None,
    app: Application | None,
    key: str | None,
    findings: list[dict[str, Any]],
    generator: dict[str, Any],
) -> dict[str, Any]:
    """The truth object of one envelope."""
    enclosed = set(app.enclosures) if app else set()
    return {
        "file": file,
        "document_id": hashlib.sha256(data).hexdigest(),
        "form_id": spec.form_id if spec else None,
        "pages": pages,
        "key": key,
        "fields": field_truth(spec, app) if spec and app else {},
        "attachments": [a for a in ATTACHMENT_ORDER if a in enclosed],
        "decision": decide(findings) if spec else "unknown",
        "findings": findings,
        "generator": generator,
    }


def dumps(obj: dict[str, Any]) -> str:
    """One deterministic JSON line."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def read_truth(path: Path) -> list[dict[str, Any]]:
    """Every record of a ``truth.jsonl``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]
