"""What the other pages of an envelope are: ID card copy, passbook copy, blank, other.

A copy of a card or a passbook is a small document on a large sheet: all
the ink sits in one block (:func:`_content`; a grey card ground may vanish
in a bilevel scan, the ink does not). The block's size in millimetres (an A4
sheet is 210 mm wide) decides:

* landscape and wider than :data:`PASSBOOK_MIN_MM` -- an open passbook (通帳)
  → ``passbook_copy`` if its first lines name a bank (a short letter has the
  same shape);
* card-sized (ID-1 is 85.6 × 54 mm; copies are often enlarged, sometimes with
  the back copied below) -- an ID photo (a large dark block in the card) makes
  it an ``id_copy``; without one (健康保険証, キャッシュカード) its first text
  lines are read and bank words (銀行, 金庫, 預金 ...) make it a
  ``passbook_copy`` (a cash card copy counts as the account proof), anything
  else an ``id_copy``.

Pages whose content fills the sheet (a cover letter, a flyer) are ``other``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import cv2
import numpy as np

from ocr.charsets import text_charset
from ocr.preprocess import INK_LEVEL

if TYPE_CHECKING:
    from ocr.identify import PageKind, PageReading
    from ocr.io import Page

A4_WIDTH_MM = 210.0
SCALE = 0.125
CARD_MM = (60.0, 150.0)
"""Longer side (mm) of a card copy: ID-1 from a little reduced to well enlarged."""
PASSBOOK_MIN_MM = 150.0
BANK_WORDS = re.compile(r"銀行|金庫|信用組合|農協|労金|ゆうちょ|キャッシュ|預金|通帳|BANK|口座")

Box = tuple[int, int, int, int]


def _content(gray: np.ndarray) -> Box | None:
    """The box around all the ink on the page (edge shadows left out), page pixels."""
    ink = (gray < INK_LEVEL).astype(np.uint8) * 255
    small = cv2.resize(ink, None, fx=SCALE, fy=SCALE, interpolation=cv2.INTER_AREA) > 10
    n, _, stats, _ = cv2.connectedComponentsWithStats(small.astype(np.uint8), connectivity=8)
    h, w = small.shape
    boxes = []
    for i in range(1, n):
        x, y, bw, bh, _ = (int(v) for v in stats[i])
        if x == 0 or y == 0 or x + bw >= w or y + bh >= h:
            continue
        boxes.append((x, y, x + bw, y + bh))
    if not boxes:
        return None
    x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
    x1, y1 = max(b[2] for b in boxes), max(b[3] for b in boxes)
    return (int(x0 / SCALE), int(y0 / SCALE), int((x1 - x0) / SCALE), int((y1 - y0) / SCALE))


def _has_photo(gray: np.ndarray, box: Box, mm: float) -> bool:
    """Whether a card holds an ID photo: a dark, solid blob at least 8 mm each way.

    Printed characters on a card are under 6 mm and mostly thin strokes.
    """
    x, y, w, h = box
    region = gray[y : y + h, x : x + w]
    dark = cv2.morphologyEx(
        (region < 110).astype(np.uint8), cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8)
    )
    n, _, stats, _ = cv2.connectedComponentsWithStats(dark, connectivity=8)
    side = 8.0 / mm
    for i in range(1, n):
        bw, bh, area = int(stats[i][2]), int(stats[i][3]), int(stats[i][4])
        if bw >= side and bh >= side and area >= 0.45 * bw * bh:
            return True
    return False


def _top_lines(gray: np.ndarray, box: Box, count: int = 2) -> list[np.ndarray]:
    """Crops of the first text lines inside a box (big blobs such as a photo left out)."""
    x, y, w, h = box
    region = gray[y : y + h, x : x + w]
    ink = (region < INK_LEVEL).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    big = (stats[:, cv2.CC_STAT_HEIGHT] > h * 0.12) | (stats[:, cv2.CC_STAT_WIDTH] > w * 0.5)
    big[0] = True
    ink[big[labels]] = 0
    rows = ink.sum(axis=1) > 0
    lines: list[np.ndarray] = []
    start = None
    for i, on in enumerate([*rows.tolist(), False]):
        if on and start is None:
            start = i
        elif not on and start is not None:
            if i - start >= max(8, h * 0.02):
                band = ink[start:i]
                crop = np.where(band > 0, region[start:i], 255).astype(np.uint8)
                # the first phrase only: a passbook's facing page shares the row
                cols = np.nonzero(band.any(axis=0))[0]
                breaks = np.nonzero(np.diff(cols) > (i - start))[0]
                end = cols[breaks[0]] if len(breaks) else cols[-1]
                lines.append(crop[:, cols[0] : end + 1])
                if len(lines) == count:
                    break
            start = None
    return lines


def classify_page(page: Page, reading: PageReading, engine: str | None = None) -> PageKind:
    """The kind of a non-form page (see the module docstring)."""
    if reading.kind in ("blank", "unusable"):
        return reading.kind
    gray = page.gray
    mm = A4_WIDTH_MM / min(gray.shape[:2])
    box = _content(gray)
    if box is None:
        return "other"
    w_mm, h_mm = box[2] * mm, box[3] * mm
    if PASSBOOK_MIN_MM <= w_mm <= 220 and 60 <= h_mm < w_mm:
        # an open passbook -- or a short letter: the first lines say which
        return "passbook_copy" if _bank_words(gray, box, engine) else "other"
    card = CARD_MM[0] <= max(w_mm, h_mm) <= CARD_MM[1] and min(w_mm, h_mm) <= 0.8 * max(w_mm, h_mm)
    front_and_back = CARD_MM[0] <= w_mm <= CARD_MM[1] and w_mm < h_mm <= 1.8 * w_mm
    if not (card or front_and_back):
        return "other"
    if _has_photo(gray, box, mm):
        return "id_copy"
    return "passbook_copy" if _bank_words(gray, box, engine, lines=1) else "id_copy"


def _bank_words(gray: np.ndarray, box: Box, engine: str | None, lines: int = 3) -> bool:
    """Whether the first text lines in ``box`` name a bank or an account (a few crops read)."""
    crops = _top_lines(gray, box, lines)
    if not crops:
        return False
    from ocr.engine import DEFAULT_ENGINE, get_engine

    texts = get_engine(engine or DEFAULT_ENGINE).recognize(crops, text_charset())
    return any(BANK_WORDS.search(t.text) for t in texts)
