"""Normalisers: what was read → the canonical value of the data dictionary."""

from __future__ import annotations

import unicodedata

from validators.registry import register_normalizer


@register_normalizer("text")
def normalize_text(raw: str) -> str | None:
    """NFKC, surrounding blanks removed; blank → ``None``."""
    value = unicodedata.normalize("NFKC", raw).strip()
    return value or None
