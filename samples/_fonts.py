"""Fonts for the generator: handwriting-like faces, typed faces, glyph coverage.

A character a font lacks must never come out as a blank box, so every font
is asked (through its ``cmap``, read with fontTools) before it is used, and a
missing glyph falls back to the next font of the same family of looks
(handwriting → other handwriting fonts → typed fonts).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import cv2
import numpy as np
from fontTools.ttLib import TTFont
from PIL import Image, ImageDraw, ImageFont

from shinsei.errors import ConfigError

Mask = np.ndarray
"""A ``uint8`` coverage mask (0 = no ink, 255 = full ink)."""

#: Handwriting-like faces (Debian fonts-klee, fonts-seto, fonts-yozvox-yozfont).
HANDWRITING_FONTS: dict[str, str] = {
    "klee": "/usr/share/fonts/truetype/klee/KleeOne-Regular.ttf",
    "klee_semibold": "/usr/share/fonts/truetype/klee/KleeOne-SemiBold.ttf",
    "seto": "/usr/share/fonts/truetype/seto/setofont.ttf",
    "yoz": "/usr/share/fonts/truetype/yozvox-yozfont/YOzRN_.ttf",
    "yoz_c": "/usr/share/fonts/truetype/yozvox-yozfont/YOzRC_.ttf",
}

#: Typed faces (fonts-ipaexfont, fonts-noto-cjk).
PRINTED_FONTS: dict[str, str] = {
    "gothic": "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf",
    "mincho": "/usr/share/fonts/opentype/ipaexfont-mincho/ipaexm.ttf",
    "noto_sans": "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "noto_serif": "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "noto_sans_bold": "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
}

#: Face index of the Japanese face inside the Noto CJK collections.
_TTC_INDEX = {".ttc": 0}

#: Side of the square a glyph is rasterised into before it is transformed.
GLYPH_PX = 128


def _path(name: str) -> str:
    path = HANDWRITING_FONTS.get(name) or PRINTED_FONTS.get(name)
    if path is None:
        raise ConfigError(f"unknown font {name!r}")
    if not Path(path).is_file():
        raise ConfigError(f"font {name!r} is not installed ({path}); install the Debian package")
    return path


@cache
def coverage(name: str) -> frozenset[int]:
    """Code points the font has a glyph for."""
    path = _path(name)
    font = TTFont(path, fontNumber=_TTC_INDEX.get(Path(path).suffix, 0), lazy=True)
    cmap = font.getBestCmap() or {}
    font.close()
    return frozenset(cmap)


def has_glyph(name: str, ch: str) -> bool:
    return ch.isspace() or ord(ch) in coverage(name)


#: Fallback order when a face lacks a character: a hand falls back to another
#: hand first, a typeface to another typeface; either ends with every face.
_HAND_FALLBACK = ["klee", "seto", "yoz", "klee_semibold", "yoz_c"]
_TYPE_FALLBACK = ["gothic", "mincho", "noto_sans", "noto_serif", "noto_sans_bold"]


def face_for(name: str, ch: str) -> str:
    """``name`` if it has ``ch``, else the first fallback face that has it."""
    if has_glyph(name, ch):
        return name
    hand = name in HANDWRITING_FONTS
    order = (_HAND_FALLBACK + _TYPE_FALLBACK) if hand else (_TYPE_FALLBACK + _HAND_FALLBACK)
    for other in order:
        if other != name and has_glyph(other, ch):
            return other
    raise ConfigError(f"no installed font has a glyph for {ch!r} (U+{ord(ch):04X})")


@cache
def pil_font(name: str, size: int) -> ImageFont.FreeTypeFont:
    path = _path(name)
    return ImageFont.truetype(path, size, index=_TTC_INDEX.get(Path(path).suffix, 0))


@dataclass(frozen=True)
class Glyph:
    """One character rasterised on a ``GLYPH_PX`` square, centred on its em box.

    ``advance`` is the horizontal advance as a fraction of the em (half-width
    digits are about 0.5).
    """

    mask: Mask
    advance: float


@lru_cache(maxsize=4096)  # 16 KB each: at most 64 MB per process
def glyph(name: str, ch: str, weight: int = 0) -> Glyph:
    """The glyph of ``ch`` in face ``name`` (falling back when missing), thickened by ``weight``.

    ``weight`` > 0 dilates the strokes that many pixels, < 0 erodes them: the
    pen's stroke width.
    """
    face = face_for(name, ch)
    size = int(GLYPH_PX * 0.8)
    font = pil_font(face, size)
    img = Image.new("L", (GLYPH_PX, GLYPH_PX), 0)
    ImageDraw.Draw(img).text((GLYPH_PX / 2, GLYPH_PX / 2), ch, font=font, fill=255, anchor="mm")
    mask: Mask = np.asarray(img, dtype=np.uint8).copy()
    if weight > 0:
        mask = cv2.dilate(mask, np.ones((3, 3), np.uint8), iterations=weight)
    elif weight < 0:
        mask = cv2.erode(mask, np.ones((2, 2), np.uint8), iterations=-weight)
    # blanks have no ink to measure: a full-width blank is one em, a half-width one half
    blank = 1.0 if ch == "\u3000" else 0.5
    advance = blank if ch.isspace() else font.getlength(ch) / size
    return Glyph(mask=mask, advance=max(advance, 0.3))


def missing_glyphs(name: str, text: str) -> list[str]:
    """Characters of ``text`` that no installed font can draw (should be empty)."""
    out = []
    for ch in text:
        try:
            face_for(name, ch)
        except ConfigError:
            out.append(ch)
    return out
