"""The Japanese fonts embedded in every letter, and the check that they can draw it.

The letters use IPAex Gothic (headings, the address in the window) and IPAex
Mincho (body text) from Debian's ``fonts-ipaexfont``. They are TrueType
fonts, so reportlab embeds them as subsets: the print vendor needs no fonts.

A character the font lacks would print as an empty box (豆腐) on a letter
to a resident, so every string of a letter is checked against both fonts'
character maps before it is drawn; a letter that fails is held for a person
(:func:`missing_glyphs`).
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from shinsei.errors import ConfigError

GOTHIC = "IPAexGothic"
MINCHO = "IPAexMincho"

#: Font files (``SHINSEI_LETTER_FONT_GOTHIC`` / ``..._MINCHO`` point elsewhere).
FONT_FILES = {
    GOTHIC: Path("/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf"),
    MINCHO: Path("/usr/share/fonts/opentype/ipaexfont-mincho/ipaexm.ttf"),
}
_ENV = {GOTHIC: "SHINSEI_LETTER_FONT_GOTHIC", MINCHO: "SHINSEI_LETTER_FONT_MINCHO"}

# Characters that are layout, not ink.
_NOT_DRAWN = frozenset("\n\r\t")


def font_path(name: str) -> Path:
    """The TrueType file of ``name`` (``IPAexGothic`` or ``IPAexMincho``)."""
    return Path(os.environ.get(_ENV[name], FONT_FILES[name]))


@cache
def register_fonts() -> tuple[str, str]:
    """Register both fonts with reportlab once per process; return (gothic, mincho).

    Raises :class:`ConfigError` when a font file is missing.
    """
    for name in (GOTHIC, MINCHO):
        path = font_path(name)
        if not path.is_file():
            raise ConfigError(
                f"letter font {name} not found at {path}: install Debian's fonts-ipaexfont "
                f"or set {_ENV[name]}"
            )
        pdfmetrics.registerFont(TTFont(name, str(path)))
    return GOTHIC, MINCHO


@cache
def _cmap(name: str) -> frozenset[int]:
    register_fonts()
    font = pdfmetrics.getFont(name)
    # Glyph 0 is .notdef: a code point mapped to it has no real glyph.
    return frozenset(cp for cp, glyph in font.face.charToGlyph.items() if glyph)


def missing_glyphs(*texts: str) -> list[str]:
    """Characters of ``texts`` that either letter font cannot draw, in order of first use."""
    gothic, mincho = _cmap(GOTHIC), _cmap(MINCHO)
    missing: list[str] = []
    for text in texts:
        for ch in text:
            if ch in _NOT_DRAWN or ch in missing:
                continue
            if ord(ch) not in gothic or ord(ch) not in mincho:
                missing.append(ch)
    return missing


def describe(chars: list[str]) -> str:
    """``'𠮷 (U+20BB7)'`` for a held letter's reason."""
    return "、".join(f"{ch} (U+{ord(ch):04X})" for ch in chars)
