"""Return mail (返戻): letters that tell residents what to fix, and mailing lists.

The stage function is :func:`produce_letters` (one print batch per run, only
letters not produced before); :func:`store.letters.mark_mailed` records that
the operator mailed a print batch. The letter types, sender, contact and
deadline of each form are data: the ``letters:`` block of its form.yaml.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

# Imported on first use, so that ``shinsei --help`` does not load reportlab and pandas.
_WHERE = {
    "HeldLetter": "returns.batch",
    "PrintBatchReport": "returns.batch",
    "TypeSummary": "returns.batch",
    "produce_letters": "returns.batch",
    "Addressee": "returns.letter",
    "Letter": "returns.letter",
    "LetterBook": "returns.letter",
    "LetterHeld": "returns.letter",
    "compose_letter": "returns.letter",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'returns' has no attribute {name!r}")


__all__ = [
    "Addressee",
    "HeldLetter",
    "Letter",
    "LetterBook",
    "LetterHeld",
    "PrintBatchReport",
    "TypeSummary",
    "compose_letter",
    "produce_letters",
]
