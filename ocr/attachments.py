"""What the other pages of an envelope are: ID card copy, passbook copy, blank, other.

A copy of a card or a passbook is a small document on a large sheet: all
the ink sits in one block (:func:`_content`; ink is what is darker than the
paper around it, so a card's grey ground or a scanner lamp's shading is
not). The block's size in millimetres (an A4 sheet is 210 mm wide) decides:

* wider than :data:`PASSBOOK_MIN_MM` and low -- an open passbook (通帳)
  → ``passbook_copy`` (a letter's text block is about as tall as it is wide);
* card-sized (ID-1 is 85.6 × 54 mm; copies are often enlarged, sometimes with
  the back copied below) -- an ID photo (a large dark block in the card) makes
  it an ``id_copy``; without one (健康保険証, キャッシュカード) its title line
  is read and bank words (銀行, 金庫, 預金 ...) make it a
  ``passbook_copy`` (a cash card copy counts as the account proof), anything
  else an ``id_copy``.

Pages whose content fills the sheet (a cover letter, a flyer) are ``other``.

:func:`sort_page` does not read a title line itself: it hands back the crops
(:class:`TitleCheck`), and the pipeline reads them with the batch's field
crops in one engine call. :func:`classify_page` reads them on the spot.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np

from ocr.charsets import text_charset
from ocr.preprocess import SMALL, downscale
from ocr.regions import paper_level

if TYPE_CHECKING:
    from ocr.identify import PageKind, PageReading
    from ocr.io import Page

A4_WIDTH_MM = 210.0
SCALE = 0.25
TITLE_SCALE = 0.5
"""Scale at which a block's title lines are looked for (a card's outline stays whole)."""
CARD_MM = (60.0, 150.0)
"""Longer side (mm) of a card copy: ID-1 from a little reduced to well enlarged."""
PASSBOOK_MIN_MM = 150.0
PASSBOOK_MAX_HEIGHT = 0.85
PASSBOOK_SURE = 0.7
"""An open passbook is wide and low (height under 0.7 of its width); a short letter's
text block can be nearly as low, and then the first line decides."""
BANK_WORDS = re.compile(r"銀行|金庫|信用組合|農協|労金|ゆうちょ|キャッシュ|預金|通帳|BANK|口座")

Box = tuple[int, int, int, int]


def _content(small: np.ndarray) -> Box | None:
    """The box around all the ink of a downscaled page (edge shadows left out), small pixels."""
    # against the paper around each pixel (its brightest within ~5 mm): a scanner
    # lamp's uneven light, or a card's grey ground, is no ink
    paper = cv2.blur(cv2.dilate(small, np.ones((15, 15), np.uint8)), (15, 15))
    ink = (small.astype(np.float32) < paper.astype(np.float32) * 0.85).astype(np.uint8)
    _, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    h, w = small.shape
    x, y, bw, bh, area = stats[1:].T
    keep = (x > 0) & (y > 0) & (x + bw < w) & (y + bh < h) & (area >= 3)
    if not keep.any():
        return None
    x0, y0 = int(x[keep].min()), int(y[keep].min())
    x1, y1 = int((x + bw)[keep].max()), int((y + bh)[keep].max())
    return (x0, y0, x1 - x0, y1 - y0)


def _has_photo(small: np.ndarray, box: Box, mm: float) -> bool:
    """Whether a card holds an ID photo: a dark, solid blob at least 8 mm each way.

    Printed characters on a card are under 6 mm and mostly thin strokes.
    """
    x, y, w, h = box
    region = small[y : y + h, x : x + w]
    dark = cv2.morphologyEx(
        (region < paper_level(small) * 0.5).astype(np.uint8),
        cv2.MORPH_CLOSE,
        np.ones((3, 3), np.uint8),
    )
    n, _, stats, _ = cv2.connectedComponentsWithStats(dark, connectivity=8)
    side = 8.0 / mm
    for i in range(1, n):
        bw, bh, area = int(stats[i][2]), int(stats[i][3]), int(stats[i][4])
        if bw >= side and bh >= side and area >= 0.45 * bw * bh:
            return True
    return False


def _side_by_side(small: np.ndarray, box: Box, mm: float) -> bool:
    """Whether a block is two copies side by side: blank paper down its middle.

    A card copied front and back and fed sideways is as wide as an open
    passbook, but its two halves stand apart; a passbook's pages meet at
    the fold.
    """
    x, y, w, h = box
    region = small[y : y + h, x : x + w]
    inked = np.count_nonzero(region < paper_level(small) * 0.7, axis=0) > 0
    middle = inked[int(0.3 * w) : int(0.7 * w)]
    run = longest = 0
    for ink in middle:
        run = 0 if ink else run + 1
        longest = max(longest, run)
    return longest * mm >= SIDE_BY_SIDE_GAP_MM


#: The blank gap between two copies side by side (mm).
SIDE_BY_SIDE_GAP_MM = 3.0


#: Ink blobs smaller than this (pixels, at :data:`TITLE_SCALE`) are scanner noise.
SPECK_PX = 6


def _title(small: np.ndarray) -> Box | None:
    """The first text line of a block (at :data:`TITLE_SCALE`), a photo or other big blob
    left out.

    Worked out from the ink's connected components alone: a component spans
    every row and column between its edges, so the rows with ink, and the
    columns with ink in a line, are unions of the components' extents -- no
    pass over the pixels after the labelling.
    """
    height, width = small.shape[:2]
    ink = (small < paper_level(small) * 0.7).astype(np.uint8)
    _, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    x, y, w, h, area = stats[1:].T
    # a big blob is a photo or a card's outline; a speck is a black-and-white
    # scan's noise, no line of words
    keep = (h <= height * 0.12) & (w <= width * 0.5) & (area >= SPECK_PX)
    x, y, w, h = x[keep], y[keep], w[keep], h[keep]
    inked = _covered(y, h, height)
    start = 0
    while True:
        rows = np.nonzero(inked[start:])[0]
        if len(rows) == 0:
            return None
        start = end = start + int(rows[0])
        while end + 1 < height and inked[end + 1]:
            end += 1
        # every component with ink in these rows lies wholly within them
        line = (y >= start) & (y + h - 1 <= end)
        cols = np.nonzero(_covered(x[line], w[line], width))[0]
        band = end + 1 - start
        # the line's first group of words: a passbook's bank name, not the column
        # headings of the facing page on the same line
        gaps = np.nonzero(np.diff(cols) > band)[0]
        last = int(cols[gaps[0]]) if len(gaps) else int(cols[-1])
        if last + 1 - int(cols[0]) >= band:
            return (int(cols[0]), start, last + 1 - int(cols[0]), band)
        # narrower than high: a broken rule's piece (the fold between a passbook's
        # pages), not a line of words; look below it
        start = end + 1


def _covered(starts: np.ndarray, lengths: np.ndarray, size: int) -> np.ndarray:
    """Which of ``size`` positions lie in any of the intervals ``[start, start + length)``."""
    edges = np.zeros(size + 1, np.int32)
    np.add.at(edges, starts, 1)
    np.add.at(edges, starts + lengths, -1)
    return np.cumsum(edges[:size]) > 0


@dataclass
class TitleCheck:
    """A page whose kind its title lines decide, once they are read.

    Bank words in any of ``crops`` make it a ``passbook_copy``, else it is
    ``otherwise``. The crops are read with every field crop of the batch, in
    the same engine call (:func:`ocr.pipeline.recognize_plans`).
    """

    crops: list[np.ndarray]
    otherwise: PageKind

    def settle(self, texts: Sequence[str]) -> PageKind:
        """The page's kind given what its title lines read."""
        return "passbook_copy" if any(BANK_WORDS.search(t) for t in texts) else self.otherwise


def sort_page(page: Page, reading: PageReading) -> PageKind | TitleCheck:
    """The kind of a non-form page, or the title lines that decide it (module docstring)."""
    if reading.kind in ("blank", "unusable"):
        return reading.kind
    gray = page.gray
    small = page.small() if SCALE == SMALL else downscale(gray, SCALE)
    mm = A4_WIDTH_MM / min(small.shape[:2])
    box = _content(small)
    if box is None:
        return "other"
    w_mm, h_mm = box[2] * mm, box[3] * mm
    if PASSBOOK_MIN_MM <= w_mm <= 220 and 60 <= h_mm <= PASSBOOK_MAX_HEIGHT * w_mm:
        if h_mm <= PASSBOOK_SURE * w_mm:
            return "passbook_copy"
        # as low as a short letter: a passbook's first line names its bank
        # (the copy may have gone through the scanner upside down); two cards
        # side by side (front and back, fed sideways) are an ID copy otherwise
        pair = _side_by_side(small, box, mm) and CARD_MM[0] <= h_mm <= CARD_MM[1]
        return TitleCheck(_Block(gray, box).titles((0, 180)), "id_copy" if pair else "other")
    crops: list[np.ndarray] = []
    block = _Block(gray, box)
    if PASSBOOK_MIN_MM <= h_mm <= 220 and 60 <= w_mm <= PASSBOOK_MAX_HEIGHT * h_mm:
        # a passbook copy fed sideways: its bank name is the first line once turned
        crops += block.titles((90, 270))
    card = CARD_MM[0] <= max(w_mm, h_mm) <= CARD_MM[1] and min(w_mm, h_mm) <= 0.8 * max(w_mm, h_mm)
    front_and_back = CARD_MM[0] <= w_mm <= CARD_MM[1] and w_mm < h_mm <= 1.8 * w_mm
    kind: PageKind = "id_copy"
    if not (card or front_and_back):
        kind = "other"
    elif not _has_photo(small, box, mm):
        # no photo: a health insurance card, or a bank's cash card -- its title says which
        crops += block.titles((0,))
    return TitleCheck(crops, kind) if crops else kind


def classify_page(page: Page, reading: PageReading, engine: str | None = None) -> PageKind:
    """The kind of a non-form page, its title lines read at once when they decide it."""
    kind = sort_page(page, reading)
    if not isinstance(kind, TitleCheck):
        return kind
    from ocr.engine import DEFAULT_ENGINE, get_engine

    reads = get_engine(engine or DEFAULT_ENGINE).recognize(kind.crops, text_charset())
    return kind.settle([r.text for r in reads])


_TURN = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}


def _unturn(box: Box, turn: int, size: tuple[int, int]) -> Box:
    """A box found in an image turned ``turn`` degrees clockwise, in the unturned image.

    ``size`` is the unturned image's (width, height).
    """
    x, y, w, h = box
    width, height = size
    if turn == 90:
        return (y, height - x - w, h, w)
    if turn == 180:
        return (width - x - w, height - y - h, w, h)
    if turn == 270:
        return (width - y - h, x, h, w)
    return box


class _Block:
    """The content block of a page, where its title lines are looked for.

    Lines are found at :data:`TITLE_SCALE` (the block downscaled once, and
    turned there when asked); only the crops are cut at full resolution and
    turned.
    """

    def __init__(self, gray: np.ndarray, small_box: Box) -> None:
        x, y, w, h = (int(v / SCALE) for v in small_box)
        self.region = gray[y : y + h, x : x + w]
        self._half: np.ndarray | None = None

    @property
    def half(self) -> np.ndarray:
        if self._half is None:
            self._half = cv2.resize(
                self.region, None, fx=TITLE_SCALE, fy=TITLE_SCALE, interpolation=cv2.INTER_AREA
            )
        return self._half

    def titles(self, turns: tuple[int, ...]) -> list[np.ndarray]:
        """The title lines of the block turned by each of ``turns`` degrees (clockwise):
        for each turn, its first line and the first line of its left half (an open
        passbook's left page, whose bank name may sit below the facing page's
        column headings).
        """
        hh, hw = self.half.shape[:2]
        out: list[np.ndarray] = []
        for turn in turns:
            turned = self.half if turn == 0 else cv2.rotate(self.half, _TURN[turn])
            for width in (turned.shape[1], turned.shape[1] // 2):
                found = _title(turned[:, :width])
                if found is None:
                    continue
                x, y, w, h = (round(v / TITLE_SCALE) for v in _unturn(found, turn, (hw, hh)))
                crop = self.region[y : y + h, x : x + w]
                out.append(crop if turn == 0 else cv2.rotate(crop, _TURN[turn]))
        return out
