r"""Measure a blank form template: ruled boxes, comb cells, checkboxes, marks, QR area.

An administrator adding a form runs this on the form's ``blank.png`` (300 dpi,
from ``pdftoppm -r 300 -png``) to get the pixel boxes a ``form.yaml`` needs,
instead of reading coordinates off an image viewer::

    # everything found, as YAML-ready boxes [x, y, w, h], plus an overlay to look at
    python -m forms.measure forms/kyufukin/blank.png --dropout 240,150,120 \\
        --overlay /tmp/kyufukin-measure.png

    # what is at a point (read the rough position off any image viewer):
    # the ruled cell around it, the comb it belongs to, or the checkbox and its label
    python -m forms.measure forms/kaigo_nintei/blank.png --at 700,1100 --at 560,690

Without ``--at`` it prints the registration marks, the QR area, every comb
(a row of adjoining equal cells: one character per cell), every checkbox
square with the printed label to its right, and every other ruled cell.
Every box is measured from the printed lines:

* a *cell* (writing area, comb cell) is the blank area **inside** the lines;
* a *checkbox* is the printed square **including** its border (what OMR
  compares against the blank);
* a *label* is the bounding box of the printed text right of a checkbox.

For drop-out forms (light red ink that a bilevel scan removes) pass the ink
colour with ``--dropout``: lines are then found by colour distance along the
paper-white → ink axis, not by darkness, so the pale label-cell fill is not
mistaken for a line. Then copy the boxes into ``form.yaml`` and check the
result with ``shinsei forms check``, which draws every region on the blank.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

Box = list[int]
"""``[x, y, width, height]`` in template pixels."""

Mask = NDArray[np.uint8]

#: 5 mm at 300 dpi; registration marks are solid squares of this size.
MARK_SIDE_PX = 59


@dataclass
class Comb:
    """A row of adjoining cells of one size: one character per cell."""

    cells: list[Box]

    @property
    def box(self) -> Box:
        return union(self.cells)


@dataclass
class Checkbox:
    """A printed □: the square with its border, and the label printed to its right."""

    box: Box
    label_box: Box | None


@dataclass
class Measurement:
    """Everything :func:`measure` found on a template."""

    size: tuple[int, int]
    marks: dict[str, Box]
    qr: Box | None
    combs: list[Comb]
    checkboxes: list[Checkbox]
    cells: list[Box] = field(default_factory=list)
    """Every enclosed ruled area (comb cells and checkbox interiors included)."""


def union(boxes: list[Box]) -> Box:
    """The smallest box holding every box of ``boxes``."""
    x0 = min(b[0] for b in boxes)
    y0 = min(b[1] for b in boxes)
    x1 = max(b[0] + b[2] for b in boxes)
    y1 = max(b[1] + b[3] for b in boxes)
    return [x0, y0, x1 - x0, y1 - y0]


def contains(box: Box, x: int, y: int) -> bool:
    return box[0] <= x < box[0] + box[2] and box[1] <= y < box[1] + box[3]


def inside(box: Box, outer: Box) -> bool:
    """Whether ``box`` lies entirely within ``outer``."""
    return (
        box[0] >= outer[0]
        and box[1] >= outer[1]
        and box[0] + box[2] <= outer[0] + outer[2]
        and box[1] + box[3] <= outer[1] + outer[3]
    )


def load_rgb(path: Path) -> NDArray[np.uint8]:
    """The template as an RGB array."""
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise FileNotFoundError(f"{path}: cannot read the template image")
    return np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), dtype=np.uint8)


def ink_mask(rgb: NDArray[np.uint8], dropout_rgb: tuple[int, int, int] | None = None) -> Mask:
    """Printed ink (lines and text) as 255, paper as 0.

    With ``dropout_rgb`` a pixel is ink when its colour lies more than half
    way from paper white towards the drop-out ink (or beyond: black print);
    the pale fill of label cells stays paper. Without it, ink is dark (< 128).
    """
    if dropout_rgb is None:
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        return np.where(gray < 128, 255, 0).astype(np.uint8)
    deficit = 255.0 - rgb.astype(np.float32)
    axis = 255.0 - np.asarray(dropout_rgb, dtype=np.float32)
    t = deficit @ axis / float(axis @ axis)
    return np.where(t > 0.5, 255, 0).astype(np.uint8)


def line_mask(ink: Mask, min_len: int = 31, dash_gap: int = 13, max_width: int = 8) -> Mask:
    """Horizontal and vertical ruled lines (solid, dashed or dotted) of ``ink``.

    Solid lines are runs of at least ``min_len`` px. Dashed lines are found by
    bridging gaps up to ``dash_gap`` px first; of those only thin results are
    kept, because bridging also fuses lines of text into thick blobs.
    """
    solid_all = np.zeros_like(ink)
    dashed_all = np.zeros_like(ink)
    for horizontal in (True, False):
        kernel = (min_len, 1) if horizontal else (1, min_len)
        solid = cv2.morphologyEx(
            ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, kernel)
        )
        gap = (dash_gap, 1) if horizontal else (1, dash_gap)
        bridged = cv2.morphologyEx(
            ink, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, gap)
        )
        long_kernel = (3 * min_len, 1) if horizontal else (1, 3 * min_len)
        dashed = cv2.morphologyEx(
            bridged, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, long_kernel)
        )
        n, labels, stats, _ = cv2.connectedComponentsWithStats(dashed, connectivity=8)
        thickness = stats[:, cv2.CC_STAT_HEIGHT] if horizontal else stats[:, cv2.CC_STAT_WIDTH]
        thin = np.zeros(n, dtype=bool)
        thin[1:] = thickness[1:] <= max_width
        # the corners of dashed boxes rarely meet: lengthen dashed lines by a few px
        # at both ends (odd kernel: no shift)
        reach = (dash_gap, 1) if horizontal else (1, dash_gap)
        thin_lines = np.where(thin[labels], 255, 0).astype(np.uint8)
        solid_all |= np.asarray(solid, dtype=np.uint8)
        dashed_all |= np.asarray(
            cv2.dilate(thin_lines, cv2.getStructuringElement(cv2.MORPH_RECT, reach)), dtype=np.uint8
        )
    return solid_all | dashed_all


def find_cells(lines: Mask, min_side: int = 14) -> list[Box]:
    """Blank rectangles enclosed by lines: the inner area of every ruled cell."""
    paper = np.where(lines > 0, 0, 255).astype(np.uint8)
    n, _, stats, _ = cv2.connectedComponentsWithStats(paper, connectivity=4)
    height, width = lines.shape
    cells: list[Box] = []
    for i in range(1, n):
        x, y, w, h, area = (int(v) for v in stats[i])
        if x == 0 or y == 0 or x + w >= width or y + h >= height:
            continue  # the page around the form, not a cell
        if w < min_side or h < min_side or area < 0.9 * w * h:
            continue
        cells.append([x, y, w, h])
    cells.sort(key=lambda b: (b[1], b[0]))
    return cells


def find_marks(rgb: NDArray[np.uint8], side: int = MARK_SIDE_PX) -> dict[str, Box]:
    """The four solid black registration squares nearest the page corners."""
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    dark = np.where(gray < 80, 255, 0).astype(np.uint8)
    n, _, stats, _ = cv2.connectedComponentsWithStats(dark, connectivity=8)
    height, width = gray.shape
    squares: list[Box] = []
    for i in range(1, n):
        x, y, w, h, area = (int(v) for v in stats[i])
        if abs(w - side) <= side // 5 and abs(h - side) <= side // 5 and area >= 0.95 * w * h:
            squares.append([x, y, w, h])
    corners = {
        "top_left": (0, 0),
        "top_right": (width, 0),
        "bottom_left": (0, height),
        "bottom_right": (width, height),
    }
    marks: dict[str, Box] = {}
    for name, (cx, cy) in corners.items():
        if squares:
            marks[name] = min(
                squares, key=lambda b: (b[0] + b[2] / 2 - cx) ** 2 + (b[1] + b[3] / 2 - cy) ** 2
            )
    return marks


def find_combs(cells: list[Box], tolerance: int = 4, max_gap: int = 8) -> list[Comb]:
    """Rows of two or more adjoining cells of about the same size."""
    combs: list[Comb] = []
    used: set[int] = set()
    by_x = sorted(range(len(cells)), key=lambda i: cells[i][0])
    for i in by_x:
        if i in used:
            continue
        row = [cells[i]]
        used.add(i)
        while True:
            last = row[-1]
            nxt = [
                j
                for j in by_x
                if j not in used
                and 0 <= cells[j][0] - (last[0] + last[2]) <= max_gap
                and abs(cells[j][1] - last[1]) <= tolerance
                and abs(cells[j][3] - last[3]) <= tolerance
                and abs(cells[j][2] - row[0][2]) <= max(tolerance, row[0][2] // 4)
            ]
            if not nxt:
                break
            used.add(nxt[0])
            row.append(cells[nxt[0]])
        if len(row) >= 2:
            combs.append(Comb(row))
    combs.sort(key=lambda c: (c.cells[0][1], c.cells[0][0]))
    return combs


def border_box(ink: Mask, inner: Box, max_width: int = 10) -> Box:
    """``inner`` grown outwards over the printed lines around it (a checkbox with its border)."""
    lines = ink
    x, y, w, h = inner
    height, width = lines.shape
    cy, cx = y + h // 2, x + w // 2

    def grow(get: str) -> int:
        for k in range(max_width):
            if get == "left":
                px = lines[cy, x - 1 - k] if x - 1 - k >= 0 else 0
            elif get == "right":
                px = lines[cy, x + w + k] if x + w + k < width else 0
            elif get == "top":
                px = lines[y - 1 - k, cx] if y - 1 - k >= 0 else 0
            else:
                px = lines[y + h + k, cx] if y + h + k < height else 0
            if not px:
                return k
        return max_width

    left, right, top, bottom = grow("left"), grow("right"), grow("top"), grow("bottom")
    return [x - left, y - top, w + left + right, h + top + bottom]


def label_right_of(
    ink: Mask, lines: Mask, box: Box, max_gap: int | None = None, start_gap: int | None = None
) -> Box | None:
    """Bounding box of the printed text right of ``box`` (a checkbox's label).

    Text is ink that is not a ruled line. The label ends at the first gap
    wider than ``max_gap`` (default: half the box height), a ruled line, or
    another checkbox.
    """
    x, y, w, h = box
    max_gap = h // 2 if max_gap is None else max_gap
    start_gap = 2 * h if start_gap is None else start_gap
    y0, y1 = max(0, y - h // 4), min(ink.shape[0], y + h + h // 4)
    text = np.where((ink > 0) & (lines == 0), 1, 0)[y0:y1]
    vertical_line = (lines[y0:y1] > 0).sum(axis=0) >= (y1 - y0) // 2
    col = text.sum(axis=0) > 0
    start = x + w
    limit = ink.shape[1]
    first: int | None = None
    last = start
    for cx in range(start, limit):
        if vertical_line[cx]:
            break
        if col[cx]:
            if first is None:
                if cx - start > start_gap:
                    break
                first = cx
            elif cx - last > max_gap:
                break
            last = cx
        elif first is None and cx - start > start_gap:
            break
    if first is None:
        return None
    rows = np.nonzero(text[:, first : last + 1].sum(axis=1))[0]
    pad = 4
    top, bottom = y0 + int(rows[0]), y0 + int(rows[-1])
    return [first - pad, top - pad, last - first + 1 + 2 * pad, bottom - top + 1 + 2 * pad]


def find_checkboxes(
    ink: Mask, lines: Mask, cells: list[Box], combs: list[Comb], side: tuple[int, int] = (30, 70)
) -> list[Checkbox]:
    """Square cells of checkbox size that are not part of a comb."""
    in_comb = {tuple(c) for comb in combs for c in comb.cells}
    boxes: list[Checkbox] = []
    for cell in cells:
        _, _, w, h = cell
        if tuple(cell) in in_comb or not (side[0] <= w <= side[1] and abs(w - h) <= 3):
            continue
        outer = border_box(ink, cell)
        if outer == cell:
            continue  # no printed border: a gap between other lines
        boxes.append(Checkbox(outer, label_right_of(ink, lines, outer)))
    return boxes


def find_qr(rgb: NDArray[np.uint8], lines: Mask) -> Box | None:
    """The QR area: the ruled (often dashed) box around a printed QR code.

    A template without a printed code (the city prints one per household)
    gives ``None``: point ``--at`` into the empty QR box instead.
    """
    import zxingcpp

    codes = zxingcpp.read_barcodes(rgb)
    if not codes:
        return None
    pos = codes[0].position
    xs = [pos.top_left.x, pos.top_right.x, pos.bottom_left.x, pos.bottom_right.x]
    ys = [pos.top_left.y, pos.top_right.y, pos.bottom_left.y, pos.bottom_right.y]
    x0, y0, x1, y1 = min(xs), min(ys), max(xs) + 1, max(ys) + 1
    cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
    height, width = lines.shape
    # walk out of the code's quiet zone to the first ruled line on each side
    left = next((x + 1 for x in range(x0 - 1, -1, -1) if lines[cy, x]), None)
    right = next((x for x in range(x1, width) if lines[cy, x]), None)
    top = next((y + 1 for y in range(y0 - 1, -1, -1) if lines[y, cx]), None)
    bottom = next((y for y in range(y1, height) if lines[y, cx]), None)
    if None in (left, right, top, bottom):
        return [x0, y0, x1 - x0, y1 - y0]
    assert left is not None and right is not None and top is not None and bottom is not None
    return [left, top, right - left, bottom - top]


def measure(path: Path, dropout_rgb: tuple[int, int, int] | None = None) -> Measurement:
    """Measure every ruled structure of the template at ``path``."""
    rgb = load_rgb(path)
    ink = ink_mask(rgb, dropout_rgb)
    lines = line_mask(ink)
    qr = find_qr(rgb, lines)
    # the modules of a printed QR code look like tiny ruled cells: leave them out
    cells = [c for c in find_cells(lines) if qr is None or not inside(c, qr)]
    combs = find_combs(cells)
    return Measurement(
        size=(rgb.shape[1], rgb.shape[0]),
        marks=find_marks(rgb),
        qr=qr,
        combs=combs,
        checkboxes=find_checkboxes(ink, lines, cells, combs),
        cells=cells,
    )


def describe_point(m: Measurement, x: int, y: int) -> list[str]:
    """What is at ``(x, y)``: the checkbox, comb or ruled cell there, as YAML-ready lines."""
    out: list[str] = [f"at ({x}, {y}):"]
    for cb in m.checkboxes:
        if contains(cb.box, x, y) or (cb.label_box is not None and contains(cb.label_box, x, y)):
            out.append(f"  checkbox: box: {cb.box}  label_box: {cb.label_box}")
            return out
    for comb in m.combs:
        if contains(comb.box, x, y):
            out.append(f"  comb of {len(comb.cells)} cells (outline {comb.box}):")
            out.extend(f"    - {c}" for c in comb.cells)
            return out
    around = [c for c in m.cells if contains(c, x, y)]
    if around:
        out.append(f"  cell: {min(around, key=lambda c: c[2] * c[3])}")
    else:
        out.append("  nothing ruled here")
    return out


def draw(path: Path, m: Measurement, out: Path) -> None:
    """Write ``out``: the template with every measured structure outlined."""
    img = cv2.cvtColor(load_rgb(path), cv2.COLOR_RGB2BGR)
    for c in m.cells:
        cv2.rectangle(img, (c[0], c[1]), (c[0] + c[2] - 1, c[1] + c[3] - 1), (200, 160, 0), 1)
    for comb in m.combs:
        for c in comb.cells:
            cv2.rectangle(img, (c[0], c[1]), (c[0] + c[2] - 1, c[1] + c[3] - 1), (0, 160, 0), 3)
    for cb in m.checkboxes:
        b = cb.box
        cv2.rectangle(img, (b[0], b[1]), (b[0] + b[2] - 1, b[1] + b[3] - 1), (255, 0, 0), 3)
        if cb.label_box is not None:
            lb = cb.label_box
            cv2.rectangle(
                img, (lb[0], lb[1]), (lb[0] + lb[2] - 1, lb[1] + lb[3] - 1), (255, 0, 255), 2
            )
    for b in [*m.marks.values(), *([m.qr] if m.qr else [])]:
        cv2.rectangle(img, (b[0], b[1]), (b[0] + b[2] - 1, b[1] + b[3] - 1), (0, 0, 255), 4)
    cv2.imwrite(str(out), img)


def _report(m: Measurement) -> list[str]:
    out = [f"size: [{m.size[0]}, {m.size[1]}]", "registration_marks:"]
    out.extend(f"  {name}: {box}" for name, box in m.marks.items())
    out.append(f"qr: {m.qr}")
    out.append(f"combs ({len(m.combs)}):")
    for comb in m.combs:
        out.append(f"  - outline: {comb.box}  # {len(comb.cells)} cells")
        out.append(f"    cells: {comb.cells}")
    out.append(f"checkboxes ({len(m.checkboxes)}):")
    out.extend(f"  - box: {cb.box}  label_box: {cb.label_box}" for cb in m.checkboxes)
    comb_cells = {tuple(c) for comb in m.combs for c in comb.cells}
    inner = {tuple(c) for cb in m.checkboxes for c in m.cells if contains(cb.box, c[0], c[1])}
    rest = [c for c in m.cells if tuple(c) not in comb_cells and tuple(c) not in inner]
    out.append(f"other ruled cells ({len(rest)}):")
    out.extend(f"  - {c}" for c in rest)
    return out


def _rgb(text: str) -> tuple[int, int, int]:
    parts = [int(p) for p in text.split(",")]
    if len(parts) != 3:
        raise argparse.ArgumentTypeError("expected R,G,B")
    return (parts[0], parts[1], parts[2])


def _point(text: str) -> tuple[int, int]:
    parts = [int(p) for p in text.split(",")]
    if len(parts) != 2:
        raise argparse.ArgumentTypeError("expected X,Y")
    return (parts[0], parts[1])


def main(argv: list[str] | None = None) -> int:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(
        prog="python -m forms.measure", description=__doc__.split("\n")[0]
    )
    parser.add_argument("template", type=Path, help="blank.png of the form (300 dpi)")
    parser.add_argument("--dropout", type=_rgb, help="drop-out ink colour R,G,B (e.g. 240,150,120)")
    parser.add_argument("--at", type=_point, action="append", default=[], help="X,Y to describe")
    parser.add_argument("--overlay", type=Path, help="write the template with every finding drawn")
    args = parser.parse_args(argv)
    m = measure(args.template, args.dropout)
    lines = [ln for x, y in args.at for ln in describe_point(m, x, y)] if args.at else _report(m)
    print("\n".join(lines))
    if args.overlay:
        draw(args.template, m, args.overlay)
    return 0


if __name__ == "__main__":
    sys.exit(main())
