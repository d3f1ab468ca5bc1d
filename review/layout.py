"""What the review workbook looks like, shared by the export and the import.

Each form sheet has two header rows: row 1 (hidden, locked) holds a machine
id per column (``@no``, ``@f:account_number`` …) so the import finds its
columns wherever a reviewer moved them and ignores columns it did not write;
row 2 holds the Japanese headers. Data start on row 3, one row per document.

Cell text is the one representation both sides compare: the export records
the text of every value cell it wrote in the manifest, and the import treats
a cell as corrected only when its text differs from that.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from forms.schema import FieldSpec, Kind

FORMAT = "shinsei-review/1"

MANIFEST_SHEET = "_shinsei"
LISTS_SHEET = "_選択肢"
INSTRUCTIONS_SHEET = "記入方法"

ID_ROW = 1
HEADER_ROW = 2
FIRST_DATA_ROW = 3

# Machine ids of the fixed columns (row 1).
COL_NO = "@no"
COL_KEY = "@key"
COL_REASONS = "@reasons"
COL_CONFIRM = "@confirm"
COL_RETURN = "@return"
COL_PAGE = "@page"
COL_DOC = "@doc"
COL_CHECK = "@check"
FIELD_PREFIX = "@f:"
IMAGE_PREFIX = "@img:"

CONFIRMED = "確認済"
MARK_YES = "あり"
MARK_NO = "なし"
#: Separator of several choices in one cell (read back by the normaliser too).
LIST_SEPARATOR = "、"

# Colours (ARGB without alpha): why a cell is flagged.
LOW_CONFIDENCE_FILL = "FFF59D"  # yellow: the reading is uncertain
RULE_FILL = "FFB74D"  # orange: a rule did not hold, see the comment
LOCKED_FILL = "EEF0F3"  # grey: written by shinsei, not to be changed
HEADER_FILL = "DCE6F1"
RETURN_FILL = "FCE4EC"


def field_column(field_id: str) -> str:
    return FIELD_PREFIX + field_id


def image_column(field_id: str) -> str:
    return IMAGE_PREFIX + field_id


def check_code(export_id: str, row_key: str, doc_id: str) -> str:
    """The short code (照合) that ties a row's number to its document in this export."""
    return hashlib.sha256(f"{export_id}|{row_key}|{doc_id}".encode()).hexdigest()[:10]


def cell_text(value: Any) -> str:
    """The text of a cell's value as both sides compare it.

    A date cell is its ISO date, a whole number its digits, a boolean
    あり/なし; text is stripped. LibreOffice and Excel may hand back the same
    value with another type (``5.0`` for ``5``, a datetime for a date).
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return MARK_YES if value else MARK_NO
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value).strip()


def option_label(spec: FieldSpec, value: str) -> str:
    for opt in spec.options or []:
        if opt.value == value:
            return opt.label_ja
    return value


def display_value(spec: FieldSpec, value: Any) -> Any:
    """The cell value a canonical value is shown as (labels for choices, あり/なし for marks)."""
    if spec.kind in (Kind.CHECKBOX, Kind.SIGNATURE):
        if value is None:
            return None
        return MARK_YES if value else MARK_NO
    if spec.kind in (Kind.CHOICE, Kind.MULTICHOICE):
        if value is None or value == []:
            return None
        values = value if isinstance(value, list) else [value]
        return LIST_SEPARATOR.join(option_label(spec, str(v)) for v in values)
    if isinstance(value, list):
        return LIST_SEPARATOR.join(str(v) for v in value)
    if spec.kind is Kind.DATE and isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value
    return value


@dataclass
class ManifestRow:
    """What the export wrote for one document (one row of the hidden sheet).

    ``cells`` is the text of each value cell (sensitive numbers masked);
    ``flagged`` the fields shown for review; ``codes`` the finding codes the
    reviewer saw.
    """

    row_key: str
    form_id: str
    document_id: str
    check: str
    cells: dict[str, str] = field(default_factory=dict)
    flagged: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)

    def payload(self) -> str:
        return json.dumps(
            {"cells": self.cells, "flagged": self.flagged, "codes": self.codes},
            ensure_ascii=False,
            sort_keys=True,
            separators=(",", ":"),
        )


@dataclass
class Manifest:
    """The hidden sheet: export id, batch, every row's document and exported values."""

    export_id: str
    batch_id: str
    created_at: str
    rows: list[ManifestRow]
    sheets: dict[str, str] = field(default_factory=dict)
    """Sheet title → form id, as exported."""

    def digest(self) -> str:
        """SHA-256 over everything the import relies on (stored in the ledger too)."""
        body = json.dumps(
            {
                "format": FORMAT,
                "export_id": self.export_id,
                "batch_id": self.batch_id,
                "created_at": self.created_at,
                "sheets": self.sheets,
                "rows": [
                    [r.row_key, r.form_id, r.document_id, r.check, r.payload()] for r in self.rows
                ],
            },
            ensure_ascii=False,
            sort_keys=True,
            separators=(",", ":"),
        )
        return hashlib.sha256(body.encode("utf-8")).hexdigest()
