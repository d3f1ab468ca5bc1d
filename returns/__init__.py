"""Return mail (返戻): letters that tell residents what to fix, and mailing lists.

The stage function is :func:`produce_letters` (one print batch per run, only
letters not produced before); :func:`store.letters.mark_mailed` records that
the operator mailed a print batch. The letter types, sender, contact and
deadline of each form are data: the ``letters:`` block of its form.yaml.
"""

from returns.batch import HeldLetter, PrintBatchReport, TypeSummary, produce_letters
from returns.letter import Addressee, Letter, LetterBook, LetterHeld, compose_letter

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
