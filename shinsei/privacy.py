"""Masking of personal numbers (個人番号, 口座番号) wherever data leaves the ledger.

My Number and account numbers appear in logs, Prefect artifacts and exports
with their last four digits only. Fields are marked sensitive by id; a
logging filter masks any stray 7- or 12-digit run as a safety net.
"""

from __future__ import annotations

import logging
import re
from typing import Any

#: Field ids whose values are personal numbers.
SENSITIVE_FIELDS = frozenset({"my_number", "account_number"})

#: A 7- or 12-digit run, unless it is part of a lower-case hex id (a document id
#: such as 4e10f3286686 is not an account number).
_LONG_DIGITS = re.compile(r"(?<![\da-f])(\d{7}|\d{12})(?![\da-f])")


def mask(value: Any) -> Any:
    """``'123456789012'`` → ``'********9012'``; anything not a string passes through."""
    if not isinstance(value, str) or len(value) <= 4:
        return value
    return "*" * (len(value) - 4) + value[-4:]


def mask_field(field_id: str, value: Any) -> Any:
    """The value as it may be shown outside the ledger."""
    return mask(value) if field_id in SENSITIVE_FIELDS else value


def mask_text(text: str) -> str:
    """Mask every 7- or 12-digit run in free text (log lines, error messages)."""
    return _LONG_DIGITS.sub(lambda m: mask(m.group(1)), text)


class MaskingFilter(logging.Filter):
    """A logging filter that masks personal numbers in every record it passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


#: Loggers whose handlers carry run logs elsewhere (Prefect sends these to its API).
_LOGGERS = ("", "prefect", "prefect.flow_runs", "prefect.task_runs", "shinsei")


def install_log_masking() -> None:
    """Attach :class:`MaskingFilter` to every handler that writes or ships shinsei's logs.

    Called by the command line and at the start of every flow run, so a
    personal number in a log line is masked before it reaches a terminal, a
    log file or the Prefect server.
    """
    for name in _LOGGERS:
        for handler in logging.getLogger(name).handlers:
            if not any(isinstance(f, MaskingFilter) for f in handler.filters):
                handler.addFilter(MaskingFilter())
