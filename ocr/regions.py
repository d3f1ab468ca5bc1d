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
  correction (訂正) removed and the gaps between strokes measured
  (:func:`text_line`);
* a blacked-out field (塗りつぶし, :func:`blacked_out`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from ocr.align import Alignment, cut
from ocr.templates import Template

Box = tuple[int, int, int, int]

INK_SHARE = 0.70
"""A crop pixel darker than this share of its region's paper level is ink."""
INK_MIN, INK_MAX = 100, 175
DROPOUT_SHARE = 0.62
"""On a drop-out line, a pixel at least this share of the paper level is the line."""
CELL_INK = 0.006
"""Share of a comb cell's pixels that must be ink for the cell to hold a character."""
CELL_INK_MIN_PX = 25
BOX_INK_MIN_PX = 60
"""Fewest ink pixels for a free-text box to count as written."""
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
    """Ink without dust and JPEG noise: an opening removes anything under 2 pixels across.

    Pen strokes are 3 px or more at 200 dpi, and regions are cut in 300 dpi
    template pixels, so writing survives; a connected-component filter would
    cost ten times as much on every region.
    """
    return cv2.morphologyEx(ink, cv2.MORPH_OPEN, _SPECK)


_SPECK = np.ones((2, 2), np.uint8)


def paper_level(raw: np.ndarray) -> float:
    """The paper's luminance in a region: its 90th percentile, on a subsample (fast)."""
    sample = raw[::3, ::3]
    if sample.size == 0:
        return 255.0
    hist = cv2.calcHist([sample], [0], None, [256], [0, 256]).ravel()
    cum = np.cumsum(hist)
    return float(np.searchsorted(cum, 0.9 * cum[-1]))


def _remove_rules(
    image: np.ndarray, ink: np.ndarray, lengths: tuple[int, int], border: int | None = None
) -> None:
    """Whiten thin straight lines at least ``lengths`` (horizontal, vertical) long, in place.

    With ``border``, only lines within that many pixels of the region's edges
    (a box's own border): a long line inside a text box is a correction's
    strike, which the reader needs to see.
    """
    lh, lv = lengths
    for kernel in (np.ones((1, lh), np.uint8), np.ones((lv, 1), np.uint8)):
        lines = cv2.morphologyEx(ink, cv2.MORPH_OPEN, kernel)
        if border is not None:
            lines[border:-border, border:-border] = 0
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
    rules_border: int | None = None,
) -> Cut:
    """Cut ``box`` off the page and remove the form's print (see the module docstring).

    ``rules``: remove leftover straight lines at least this long (horizontal,
    vertical) -- the cell lines of a comb, the border of a box.
    """
    raw = cut(gray, alignment, box)
    x, y, w, h = box
    image = raw.copy()
    # Levels relative to this region's paper: lamps are uneven, pens are faint.
    paper = paper_level(raw)
    # black print goes whole; drop-out lines only where they are as light as the
    # drop-out ink (~0.72 of the paper), so writing that crosses them stays
    image[tpl.printed[y : y + h, x : x + w] > 0] = 255
    if tpl.dropout_level is not None:
        lines = tpl.dropout[y : y + h, x : x + w] > 0
        image[lines & (image >= paper * DROPOUT_SHARE)] = 255
    level = min(INK_MAX, max(INK_MIN, paper * INK_SHARE))
    ink = (image < level).astype(np.uint8)
    if rules is not None:
        _remove_rules(image, ink, rules, rules_border)
    ink = _despeckle(ink)
    return Cut(box, raw, image, ink)


# -- combs ---------------------------------------------------------------------


def cell_ink(c: Cut, cell: list[int] | Box) -> float:
    """Share of a cell's pixels (a 10 % border excluded) that are ink."""
    x, y, w, h = cell
    mx, my = max(1, w // 10), max(1, h // 10)
    _, ink = c.sub((x + mx, y + my, w - 2 * mx, h - 2 * my))
    return float(ink.mean()) if ink.size else 0.0


def cell_size(c: Cut, cell: list[int] | Box) -> float:
    """How large the character in a cell is written: √(width × height) of its ink, pixels."""
    x, y, w, h = cell
    mx, my = max(1, w // 12), max(1, h // 12)
    _, ink = c.sub((x + mx, y + my, w - 2 * mx, h - 2 * my))
    return ink_size(ink)


def ink_size(ink: np.ndarray) -> float:
    """√(width × height) of the ink's bounding box (0 when there is none)."""
    bbox = ink_bbox(ink) if ink.size else None
    return 0.0 if bbox is None else float(np.sqrt(bbox[2] * bbox[3]))


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


def blacked_out(raw: np.ndarray) -> bool:
    """Whether most of a region (as cut, before cleaning) is covered with marker (塗りつぶし)."""
    return int(np.count_nonzero(raw < 80)) >= BLACKOUT * raw.size


@dataclass
class TextLine:
    """The writing in a free-text box, ready for the recogniser."""

    crop: np.ndarray | None
    """The writing, cut tightly (``None`` when a correction left nothing)."""
    corrected: bool = False
    ink_px: int = 0
    bbox: Box | None = None
    """Where the writing is, in template pixels."""
    gaps: list[tuple[int, int]] = field(default_factory=list)
    """Empty column runs between strokes, ``(start, end)`` in crop pixels, widest first."""
    height: float = 0.0
    """Height of the written line in pixels (the scale of the gaps)."""
    dots: list[float] = field(default_factory=list)
    """x (crop pixels) of small round blobs at mid-height: a written ・ the
    recogniser may overlook between two digits (1234・567)."""
    flat: np.ndarray | None = None
    """Per crop column, whether its only ink is a thin band at mid-height: where
    a written hyphen runs (078-123-4567), even one that touches its digits."""


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
    # two strike lines, or one band where the two ran together: longer than any
    # stroke of writing (a long vowel mark, 一) is
    long_band = any(s[cv2.CC_STAT_WIDTH] >= max(90, 2.5 * char_h) for s in segs)
    if len(segs) < 2 and not long_band:
        return ink, False
    # the struck attempt: every stroke the lines touch, and the strokes that sit
    # within the rows and columns those cover (a dakuten, the top of 二); the
    # correction written above or beside it lies outside them
    x0 = min(int(s[0]) for s in segs)
    x1 = max(int(s[0] + s[2]) for s in segs)
    out = ink.copy()
    n2, labels2, stats2, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    touched = set(np.unique(labels2[lines > 0]).tolist()) - {0}
    if touched:
        ys = [int(stats2[i][1]) for i in touched]
        ye = [int(stats2[i][1] + stats2[i][3]) for i in touched]
        # the struck line's own rows: from the strike band, half a line up and down
        mid = float(np.mean([s[1] + s[3] / 2 for s in segs]))
        half = min(char_h * 0.6, (max(ye) - min(ys)) / 2)
        top, bottom = max(min(ys), mid - half), min(max(ye), mid + half)
    else:
        top = bottom = 0.0
    for i in range(1, n2):
        bx, by, bw, bh, _ = stats2[i]
        cx, cy = bx + bw / 2, by + bh / 2
        inside = x0 - 4 <= cx <= x1 + 4 and top <= cy <= bottom
        if i in touched or inside:
            out[labels2 == i] = 0
    return out, True


def _char_height(ink: np.ndarray) -> float:
    """Height of the written line: the tallest band of inked rows.

    A correction written above its struck first attempt is two such bands;
    their span would be twice the writing's height, and strike lines shorter
    than twice that would go unseen.
    """
    rows = np.nonzero(ink.any(axis=1))[0]
    if len(rows) == 0:
        return 0.0
    breaks = np.nonzero(np.diff(rows) > 1)[0]
    starts = np.concatenate(([rows[0]], rows[breaks + 1]))
    ends = np.concatenate((rows[breaks], [rows[-1]]))
    return float((ends - starts + 1).max())


def column_gaps(ink: np.ndarray) -> list[tuple[int, int]]:
    """Runs of empty columns between inked columns, ``(start, end)``, widest first."""
    cols = ink.any(axis=0)
    xs = np.nonzero(cols)[0]
    gaps = []
    for a, b in zip(xs[:-1], xs[1:], strict=True):
        if b - a > 1:
            gaps.append((int(a) + 1, int(b)))
    gaps.sort(key=lambda g: g[0] - g[1])
    return gaps


def keep_ink(image: np.ndarray, ink: np.ndarray, removed: np.ndarray | None = None) -> np.ndarray:
    """``image`` with ink that was taken out (a struck attempt, specks) whitened.

    Light pixels around the kept strokes stay as they are: the recogniser reads
    anti-aliased strokes better than thresholded ones.
    """
    if removed is None or not removed.any():
        return image
    gone = cv2.dilate(removed, np.ones((5, 5), np.uint8)) > 0
    keep = cv2.dilate(ink, np.ones((3, 3), np.uint8)) > 0
    out = image.copy()
    out[gone & ~keep] = 255
    return out


def whiten_paper(crop: np.ndarray) -> np.ndarray:
    """The crop with its paper white and its ink kept: grey scanner paper, noise and
    shading in the gaps between characters otherwise look like faint strokes.
    """
    if crop.size == 0:
        return crop
    paper = paper_level(crop)
    dark = float(np.partition(crop.ravel(), crop.size // 50)[crop.size // 50])
    if paper - dark < 20:
        return crop
    scaled = (crop.astype(np.float32) - dark) * (255.0 / (paper * 0.92 - dark))
    return np.clip(scaled, 0, 255).astype(np.uint8)


def _pad(bbox: Box, shape: tuple[int, ...], pad: int) -> Box:
    x, y, w, h = bbox
    x0, y0 = max(0, x - pad), max(0, y - pad)
    x1, y1 = min(shape[1], x + w + pad), min(shape[0], y + h + pad)
    return (x0, y0, x1 - x0, y1 - y0)


def _trim_strays(ink: np.ndarray, char_h: float) -> np.ndarray:
    """Ink without a small blob standing far off at either end (a border's remnant, a dot).

    Writing runs along the line; something a few pixels wide, one and a half
    line heights away from the rest, is not part of it.
    """
    cols = np.nonzero(ink.any(axis=0))[0]
    if len(cols) == 0 or char_h <= 0:
        return ink
    breaks = np.nonzero(np.diff(cols) > 1.5 * char_h)[0]
    if len(breaks) == 0:
        return ink
    groups = np.split(cols, breaks + 1)
    total = float(ink.sum())
    out = ink.copy()
    for group in (groups[0], groups[-1]):
        part = out[:, int(group[0]) : int(group[-1]) + 1]
        if group[-1] - group[0] + 1 < 0.5 * char_h and part.sum() < 0.12 * total:
            part[:] = 0
    return out


#: A dot is at most this share of the line's height across (a printed ・ is about a third).
DOT_SIZE = 0.35


def _dots(ink: np.ndarray, height: float) -> list[float]:
    """X of small, solid blobs at mid-height (see :attr:`TextLine.dots`)."""
    n, _, stats, cents = cv2.connectedComponentsWithStats(ink, connectivity=8)
    out = []
    for i in range(1, n):
        _, y, w, h, area = (int(v) for v in stats[i])
        small = max(w, h) <= DOT_SIZE * height and area >= 6 and area >= 0.4 * w * h
        small = small and 0.5 <= w / h <= 2.0  # round: a dash is no dot
        middle = 0.25 * height <= cents[i][1] <= 0.75 * height
        if small and middle:
            out.append(float(cents[i][0]))
    return out


def _flat_columns(ink: np.ndarray, height: float) -> np.ndarray:
    """Columns whose ink is one thin band at mid-height (see :attr:`TextLine.flat`)."""
    rows = np.arange(ink.shape[0])[:, None]
    inked = ink > 0
    has = inked.any(axis=0)
    top = np.where(has, np.where(inked, rows, ink.shape[0]).min(axis=0), 0)
    bottom = np.where(has, np.where(inked, rows, -1).max(axis=0), 0)
    rows_in_all = ink.shape[0]
    middle = (top >= 0.2 * rows_in_all) & (bottom <= 0.8 * rows_in_all)
    return has & middle & (bottom - top + 1 <= 0.25 * height)


def text_line(c: Cut) -> TextLine | None:
    """The writing in a cleaned free-text box, ``None`` when the box is blank.

    A struck-through first attempt (訂正) is removed first; the gaps between
    strokes are measured so that a space can be put where the writer left one.
    """
    ink = c.ink
    total = int(ink.sum())
    if total < BOX_INK_MIN_PX:
        return None
    char_h = _char_height(ink)
    kept, corrected = _remove_struck(ink, min(char_h, c.image.shape[0] * 0.6))
    if corrected:
        kept = _despeckle(kept)
        if int(kept.sum()) < BOX_INK_MIN_PX:
            return TextLine(None, True, total)
    kept = _trim_strays(kept, char_h)
    bbox = ink_bbox(kept)
    assert bbox is not None
    removed = ((ink > 0) & (kept == 0)).astype(np.uint8)
    image = keep_ink(c.image, kept, removed)
    x, y, w, h = _pad(bbox, image.shape, 3)
    crop = whiten_paper(image[y : y + h, x : x + w])
    line_ink = kept[y : y + h, x : x + w]
    box = (c.box[0] + x, c.box[1] + y, w, h)
    height = float(bbox[3])
    return TextLine(
        crop,
        corrected,
        total,
        box,
        column_gaps(line_ink),
        height,
        _dots(line_ink, height),
        _flat_columns(line_ink, height),
    )


def run_crop(c: Cut, cells: list[list[int]]) -> np.ndarray | None:
    """The writing of a run of comb cells, packed: each cell's ink side by side.

    A comb spaces characters a cell apart, far wider than writing on a line;
    the recogniser's time grows with the crop's width, so every cell's
    columns of ink are set next to each other with a small gap (a third of
    the writing's height), over the rows the run's writing spans.
    """
    x, y, w, h = union(cells)
    pad_y = max(2, h // 8)
    image, ink = c.sub((x, y - pad_y, w, h + 2 * pad_y))
    rows = np.nonzero(ink.any(axis=1))[0]
    if len(rows) == 0:
        return None
    top, bottom = max(0, int(rows[0]) - 3), min(ink.shape[0], int(rows[-1]) + 4)
    gap = max(4, (bottom - top) // 3)
    pieces: list[np.ndarray] = []
    for cx, _, cw, _ in cells:
        cols = np.nonzero(ink[top:bottom, cx - x : cx - x + cw].any(axis=0))[0]
        if len(cols) == 0:
            continue
        a, b = cx - x + int(cols[0]), cx - x + int(cols[-1]) + 1
        if pieces:
            pieces.append(np.full((bottom - top, gap), 255, np.uint8))
        pieces.append(image[top:bottom, a:b])
    if not pieces:
        return None
    return whiten_paper(np.hstack(pieces))
