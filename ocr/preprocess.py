"""Page preprocessing: ink, drop-out colour, orientation, blank and unusable pages.

Everything works on luminance (``Page.gray``). A pixel is *ink* when it is
darker than :data:`INK_LEVEL`. The drop-out ink of a form (kyufukin's light
red, luminance ~174) is lighter than that, so it never counts as ink for
identification, OMR or blank checks; in the crops given to the recogniser it
is whitened (:func:`drop_out`), which keeps the writing that crosses a
drop-out line. A bilevel scan of a drop-out form has no drop-out ink left.
A form printed in black (kaigo) loses its printed lines in crops by
subtracting the blank template (:mod:`ocr.templates`).

Skew and orientation of form pages are not corrected by rotating the page:
the registration marks give a homography, and every region is cut through it
(:mod:`ocr.align`). Only landscape pages are turned upright here, and
180° is decided by the QR code or the layout.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

INK_LEVEL = 140
"""Luminance below which a pixel is writing or black print."""
PRINT_LEVEL = 215
"""Luminance below which a template pixel is printed (drop-out ink included)."""
DROPOUT_MARGIN = 30
"""A crop pixel lighter than the drop-out ink's luminance minus this is whitened."""
SMALL = 0.25
"""Scale of the working copy for marks, layout and page checks (75 dpi from 300)."""


def luminance(rgb: tuple[int, int, int] | list[int]) -> float:
    r, g, b = rgb
    return 0.299 * r + 0.587 * g + 0.114 * b


def dropout_level(dropout_rgb: list[int] | None) -> int | None:
    """Luminance above which a crop pixel is drop-out ink (or paper), for a drop-out form."""
    if dropout_rgb is None:
        return None
    return max(INK_LEVEL + 5, round(luminance(dropout_rgb)) - DROPOUT_MARGIN)


def drop_out(crop: np.ndarray, level: int | None) -> np.ndarray:
    """Whiten everything as light as the drop-out ink or lighter (see :func:`dropout_level`)."""
    if level is None:
        return crop
    out = crop.copy()
    out[crop >= level] = 255
    return out


def dropout_index(dropout_rgb: list[int]) -> int:
    """The colour channel (0 red, 1 green, 2 blue) in which the drop-out ink is
    brightest (red for kyufukin).

    In that channel the form's printed lines are as light as the paper while
    blue or black writing stays dark -- what a drop-out scanner sees.
    """
    return int(np.argmax(dropout_rgb))


def downscale(gray: np.ndarray, scale: float = SMALL) -> np.ndarray:
    """``gray`` shrunk by ``scale`` (≤ 1), each pixel the mean of the area it covers.

    Halving has OpenCV's fast path; a quarter taken as two halves costs a
    third of one general area pass over a 300 dpi page.
    """
    while scale <= 0.5 and min(gray.shape[:2]) >= 4:
        gray = cv2.resize(gray, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
        scale *= 2
    if scale == 1:
        return gray
    return cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)


def upright(gray: np.ndarray) -> tuple[np.ndarray, int]:
    """A landscape page turned to portrait (90° clockwise) and the turn applied, in degrees.

    Whether the result is upside down is decided later (QR code or layout).
    """
    h, w = gray.shape[:2]
    if w > h * 1.05:
        return cv2.rotate(gray, cv2.ROTATE_90_CLOCKWISE), 90
    return gray, 0


def rotate(gray: np.ndarray, degrees: int) -> np.ndarray:
    """Rotate clockwise by a multiple of 90°."""
    codes = {
        90: cv2.ROTATE_90_CLOCKWISE,
        180: cv2.ROTATE_180,
        270: cv2.ROTATE_90_COUNTERCLOCKWISE,
    }
    degrees %= 360
    return gray if degrees == 0 else cv2.rotate(gray, codes[degrees])


@dataclass(frozen=True)
class PageQuality:
    """What a quick look at a page says: ink coverage and whether it can be read."""

    ink_ratio: float
    blank: bool
    unusable: str | None
    """Why the page cannot be read (too dark, no contrast), ``None`` when it can."""


BLANK_INK = 0.0015
"""A page with less ink than this (fraction of its area, margins excluded) is blank."""


def _percentile(values: np.ndarray, q: int) -> float:
    """The ``q``-th percentile by partial sort (``np.percentile`` sorts everything)."""
    flat = values.ravel()
    k = min(flat.size - 1, flat.size * q // 100)
    return float(np.partition(flat, k)[k])


def page_quality(small: np.ndarray) -> PageQuality:
    """Blank and unusable checks on the downscaled page.

    A 5 % margin is ignored: scanners leave dark edges and punch holes there.
    """
    h, w = small.shape
    inner = small[h // 20 : h - h // 20, w // 20 : w - w // 20]
    ink = float((inner < INK_LEVEL).mean())
    unusable = None
    if ink > 0.6:
        unusable = "ページ全体が暗く読み取れません（スキャン設定を確認してください）"
    elif _percentile(inner, 99) < 150:
        unusable = "用紙の地色が暗く読み取れません"
    return PageQuality(ink, ink < BLANK_INK and unusable is None, unusable)
