"""The auto-accept threshold: the one knob the reviewers' workload depends on.

A field whose confidence is at or above :data:`AUTO_ACCEPT` is taken as read
(status ``ok``); below it, a person checks it (``review``). A blank field is
``missing``. The number is chosen from the data: on every generated set the
current reader was measured on (tuning seeds 11500 and 11600, the
accuracy benchmark's fresh seeds 10100-10300), the error rate among
auto-accepted fields stayed at or below 0.2 % on printed and
handwriting-style documents down to a threshold of 0.6-0.7; 0.75 keeps a
step of margin above the highest of those. See ocr/README.md for the tables.
``SHINSEI_AUTO_ACCEPT`` overrides it (for re-calibration runs only).
"""

from __future__ import annotations

import os

from shinsei.model import FieldStatus

AUTO_ACCEPT = 0.75


def auto_accept() -> float:
    override = os.environ.get("SHINSEI_AUTO_ACCEPT")
    return float(override) if override else AUTO_ACCEPT


def status_for(confidence: float, *, blank: bool, flagged: bool = False) -> FieldStatus:
    """The status of a reading.

    ``review`` when flagged or less sure than the threshold (a doubtful blank
    too: there may be something written); else ``missing`` for a blank field
    and ``ok`` for a value.
    """
    if flagged or confidence < auto_accept():
        return "review"
    return "missing" if blank else "ok"
