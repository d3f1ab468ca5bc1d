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

_LONG_DIGITS = re.compile(r"(?<!\d)(\d{7}|\d{12})(?!\d)")


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


def install_log_masking(logger: logging.Logger | None = None) -> None:
    """Attach :class:`MaskingFilter` to the handlers of ``logger`` (root by default)."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, MaskingFilter) for f in handler.filters):
            handler.addFilter(MaskingFilter())
