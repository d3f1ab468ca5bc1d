"""Personal numbers masked in free text (shinsei/privacy.py)."""

from __future__ import annotations

import logging

import pytest

from shinsei.privacy import MaskingFilter, mask_text


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("口座番号1234567です", "口座番号***4567です"),
        ("my_number=123456789012", "my_number=********9012"),
        (
            "個人番号：１２３ is not ASCII; 123456789012。",
            "個人番号：１２３ is not ASCII; ********9012。",
        ),
        ("numbers 1234567 and 7654321", "numbers ***4567 and ***4321"),
        ("document 4e10f3286686: registered", "document 4e10f3286686: registered"),
        ("applicant 0248331811 (10 digits)", "applicant 0248331811 (10 digits)"),
        ("12345678", "12345678"),
    ],
)
def test_mask_text(text: str, masked: str) -> None:
    assert mask_text(text) == masked


def test_the_logging_filter_masks_the_formatted_message() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "account %s", ("1234567",), None)
    assert MaskingFilter().filter(record)
    assert record.getMessage() == "account ***4567"
