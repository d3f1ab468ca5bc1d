"""Cutting field regions off an aligned page and leaving only what the resident wrote.

A region is cut through the alignment in template pixels (:func:`ocr.align.cut`),
then *cleaned*: the form's drop-out ink is whitened (:func:`ocr.preprocess.drop_out`)
and so is everything the blank template prints there (its dilated black
print, :attr:`ocr.templates.Template.printed`) -- this removes a comb's cell
lines, a box's border and printed labels, whatever their colour. Thin
straight lines left by a slightly imperfect alignment are removed by a
morphological opening.

On the cleaned region, this module finds:

* which comb cells hold a character (:func:`inked_cells`) and the runs of
  consecutive inked cells (a gap is a space in a kana name);
* the written line in a free-text box, with a two-line strike-through
  correction (訂正) removed and wide gaps marked as word breaks
  (:func:`text_pieces`);
* a blacked-out field (塗りつぶし, :func:`blacked_out`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from ocr.align import Alignment, cut
from ocr.preprocess import INK_LEVEL, drop_out
from ocr.templates import Template

Box = tuple[int, int, int, int]

CELL_INK = 0.012
"""Share of a comb cell's pixels that must be ink for the cell to hold a character."""
CELL_INK_MIN_PX = 40
BOX_INK_MIN_PX = 60
"""Fewest ink pixels for a free-text box to count as written."""
SPECK_PX = 8
"""Ink blobs smaller than this (pixels) are dust or JPEG noise."""
BLACKOUT = 0.45
"""Share of very dark pixels over which a field counts as blacked out."""


def union(boxes: list[list[int]] | list[Box]) -> Box:
    x0 = min(b[0] for b in boxes)
    y0 = min(b[1] for b in boxes)
    x1 = max(b[0] + b[2] for b in boxes)
    y1 = max(b[1] + b[3] for b in boxes)
    return (x0, y0, x1 - x0, y1 - y0)


def grow(box: Box | list[int], dx: int, dy: int | None = None, *, limit: tuple[int, int]) -> Box:
    """``box`` grown by ``dx``/``dy`` on each side, kept inside a ``limit`` (width, height) page."""
    dy = dx if dy is None else dy
    x, y, w, h = box
    x0, y0 = max(0, x - dx), max(0, y - dy)
    x1, y1 = min(limit[0], x + w + dx), min(limit[1], y + h + dy)
    return (x0, y0, x1 - x0, y1 - y0)


@dataclass
class Cut:
    """A cleaned region: ``image`` is luminance in template pixels, ``box`` where it is."""

    box: Box
    raw: np.ndarray
    image: np.ndarray
    ink: np.ndarray = field(repr=False)
    """``uint8`` 0/1 ink mask of ``image``, specks removed."""

    def sub(self, box: Box | list[int]) -> tuple[np.ndarray, np.ndarray]:
        """The cleaned image and ink of a template box inside this cut."""
        x, y, w, h = box
        ox, oy = x - self.box[0], y - self.box[1]
        x0, y0 = max(0, ox), max(0, oy)
        x1, y1 = min(self.image.shape[1], ox + w), min(self.image.shape[0], oy + h)
        return self.image[y0:y1, x0:x1], self.ink[y0:y1, x0:x1]


def _despeckle(ink: np.ndarray) -> np.ndarray:
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    if n <= 1:
        return ink
    small = stats[:, cv2.CC_STAT_AREA] < SPECK_PX
    small[0] = False
    if not small.any():
        return ink
    out = ink.copy()
    out[small[labels]] = 0
    return out


def _remove_rules(image: np.ndarray, ink: np.ndarray, lengths: tuple[int, int]) -> None:
    """Whiten thin straight lines at least ``lengths`` (horizontal, vertical) long, in place."""
    lh, lv = lengths
    for kernel in (np.ones((1, lh), np.uint8), np.ones((lv, 1), np.uint8)):
        lines = cv2.morphologyEx(ink, cv2.MORPH_OPEN, kernel)
        if lines.any():
            lines = cv2.dilate(lines, np.ones((3, 3), np.uint8))
            # only thin lines: a filled (blacked-out) area is left alone
            thin = cv2.erode(lines, np.ones((9, 9), np.uint8))
            lines[cv2.dilate(thin, np.ones((11, 11), np.uint8)) > 0] = 0
            image[lines > 0] = 255
            ink[lines > 0] = 0


def clean_cut(
    gray: np.ndarray,
    alignment: Alignment,
    tpl: Template,
    box: Box,
    *,
    rules: tuple[int, int] | None = None,
) -> Cut:
    """Cut ``box`` off the page and remove the form's print (see the module docstring).

    ``rules``: remove leftover straight lines at least this long (horizontal,
    vertical) -- the cell lines of a comb, the border of a box.
    """
    raw = cut(gray, alignment, box)
    image = drop_out(raw, tpl.dropout_level)
    x, y, w, h = box
    printed = tpl.printed[y : y + h, x : x + w]
    image = image.copy() if image is raw else image
    image[printed > 0] = 255
    ink = (image < INK_LEVEL).astype(np.uint8)
    if rules is not None:
        _remove_rules(image, ink, rules)
    ink = _despeckle(ink)
    return Cut(box, raw, image, ink)


# -- combs ---------------------------------------------------------------------


def cell_ink(c: Cut, cell: list[int] | Box) -> float:
    """Share of a cell's pixels (a 10 % border excluded) that are ink."""
    x, y, w, h = cell
    mx, my = max(1, w // 10), max(1, h // 10)
    _, ink = c.sub((x + mx, y + my, w - 2 * mx, h - 2 * my))
    return float(ink.mean()) if ink.size else 0.0


def inked_cells(c: Cut, cells: list[list[int]]) -> list[bool]:
    out = []
    for cell in cells:
        share = cell_ink(c, cell)
        area = cell[2] * cell[3] * 0.64
        out.append(share >= CELL_INK and share * area >= CELL_INK_MIN_PX)
    return out


def runs(flags: list[bool]) -> list[tuple[int, int]]:
    """``(first, last)`` index pairs of consecutive ``True`` flags."""
    out: list[tuple[int, int]] = []
    start = None
    for i, f in enumerate([*flags, False]):
        if f and start is None:
            start = i
        elif not f and start is not None:
            out.append((start, i - 1))
            start = None
    return out


# -- free text -----------------------------------------------------------------


def ink_bbox(ink: np.ndarray) -> tuple[int, int, int, int] | None:
    """``(x, y, w, h)`` around the ink, ``None`` when there is none."""
    ys, xs = np.nonzero(ink)
    if len(xs) == 0:
        return None
    x0, x1, y0, y1 = int(xs.min()), int(xs.max()), int(ys.min()), int(ys.max())
    return (x0, y0, x1 - x0 + 1, y1 - y0 + 1)


def blacked_out(c: Cut) -> bool:
    """Whether most of the region is covered with marker (塗りつぶし)."""
    dark = c.raw < 80
    return float(dark.mean()) >= BLACKOUT


@dataclass
class TextLine:
    """The writing in a free-text box, ready for the recogniser."""

    pieces: list[np.ndarray]
    """Crops of the writing split at word gaps (one crop when there is no gap)."""
    corrected: bool = False
    ink_px: int = 0
    bbox: Box | None = None
    """Where the writing is, in template pixels."""


def _strikes(ink: np.ndarray, char_h: float) -> np.ndarray:
    """Mask of long near-horizontal strokes: the two lines of a correction (二重線)."""
    length = max(60, int(char_h * 1.8))
    if ink.shape[1] < length:
        return np.zeros_like(ink)
    lines = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((1, length), np.uint8))
    return lines


def _remove_struck(ink: np.ndarray, char_h: float) -> tuple[np.ndarray, bool]:
    """Ink without a struck-through attempt; whether one was found.

    The two strike lines run through the middle of the first attempt, so every
    stroke they touch belongs to it; strokes inside the band they span (a
    dakuten, the top of 二) go with it.
    """
    lines = _strikes(ink, char_h)
    if not lines.any():
        return ink, False
    n, labels, stats, _ = cv2.connectedComponentsWithStats(lines, connectivity=8)
    segs = [stats[i] for i in range(1, n) if stats[i][cv2.CC_STAT_WIDTH] >= 60]
    if len(segs) < 2:
        return ink, False
    # the strike band: x span of the lines, y from a char height above to below
    x0 = min(int(s[0]) for s in segs)
    x1 = max(int(s[0] + s[2]) for s in segs)
    ymid = float(np.mean([s[1] + s[3] / 2 for s in segs]))
    out = ink.copy()
    n2, labels2, stats2, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    touched = set(np.unique(labels2[lines > 0]).tolist()) - {0}
    for i in range(1, n2):
        bx, by, bw, bh, _ = stats2[i]
        cx, cy = bx + bw / 2, by + bh / 2
        inside = x0 - 4 <= cx <= x1 + 4 and abs(cy - ymid) <= char_h * 0.6
        if i in touched or inside:
            out[labels2 == i] = 0
    return out, True


def _char_height(ink: np.ndarray) -> float:
    """Typical height of the written characters (median blob height, robust to lines)."""
    rows = np.nonzero(ink.any(axis=1))[0]
    if len(rows) == 0:
        return 0.0
    return float(rows[-1] - rows[0] + 1)


def _gaps(ink: np.ndarray, min_gap: float) -> list[tuple[int, int]]:
    """Column spans of the writing separated by empty gaps at least ``min_gap`` wide."""
    cols = ink.any(axis=0)
    xs = np.nonzero(cols)[0]
    if len(xs) == 0:
        return []
    spans = []
    start = prev = int(xs[0])
    for x in xs[1:]:
        x = int(x)
        if x - prev - 1 >= min_gap:
            spans.append((start, prev + 1))
            start = x
        prev = x
    spans.append((start, prev + 1))
    return spans


def keep_ink(image: np.ndarray, ink: np.ndarray) -> np.ndarray:
    """``image`` with everything but the ink (and its soft edge) whitened."""
    near = cv2.dilate(ink, np.ones((3, 3), np.uint8))
    return np.where(near > 0, image, 255).astype(np.uint8)


def text_line(c: Cut, *, word_gap: float | None) -> TextLine | None:
    """The writing in a cleaned free-text box, ``None`` when the box is blank.

    ``word_gap``: split the line where the gap between strokes is at least this
    many character heights (a space between family and given name); ``None``
    keeps the line whole.
    """
    ink = c.ink
    total = int(ink.sum())
    if total < BOX_INK_MIN_PX:
        return None
    bbox = ink_bbox(ink)
    assert bbox is not None
    char_h = _char_height(ink)
    ink, corrected = _remove_struck(ink, min(char_h, c.image.shape[0] * 0.6))
    if corrected:
        ink = _despeckle(ink)
        if int(ink.sum()) < BOX_INK_MIN_PX:
            return TextLine([], True, total, None)
        bbox = ink_bbox(ink)
        assert bbox is not None
        char_h = _char_height(ink)
    image = keep_ink(c.image, ink)
    x, y, w, h = bbox
    line_ink = ink[y : y + h, x : x + w]
    line = image[y : y + h, x : x + w]
    spans = [(0, w)] if word_gap is None else _gaps(line_ink, word_gap * char_h)
    pieces = []
    for a, b in spans:
        rows = np.nonzero(line_ink[:, a:b].any(axis=1))[0]
        pieces.append(line[int(rows[0]) : int(rows[-1]) + 1, a:b])
    box = (c.box[0] + x, c.box[1] + y, w, h)
    return TextLine(pieces, corrected, total, box)


def run_crop(c: Cut, cells: list[list[int]]) -> np.ndarray | None:
    """The writing of a run of comb cells (their union, a little beyond), cut tightly."""
    x, y, w, h = union(cells)
    pad_x, pad_y = max(2, w // 40), max(2, h // 8)
    image, ink = c.sub((x - pad_x, y - pad_y, w + 2 * pad_x, h + 2 * pad_y))
    bbox = ink_bbox(ink)
    if bbox is None:
        return None
    bx, by, bw, bh = bbox
    return keep_ink(image, ink)[by : by + bh, bx : bx + bw]
