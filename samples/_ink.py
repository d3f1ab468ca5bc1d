"""Putting ink on a page: handwriting and typing, ticks, circles, strikes, QR codes.

A page is an RGB ``uint8`` array at 300 dpi. Ink is laid on with a
*multiply* blend (ink darkens what is under it, as a ball-point does over
the form's printed lines). Every character is placed separately: a
handwriting pen jitters each one (position, rotation, scale, slant, baseline)
the way careful block writing in boxes varies; a typing pen does not.
All randomness comes from the ``random.Random`` passed in, so a page is a
pure function of its inputs.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace

import cv2
import numpy as np
import segno

from samples._fonts import GLYPH_PX, HANDWRITING_FONTS, glyph

Image = np.ndarray
"""An RGB (H×W×3) or gray/bilevel (H×W) ``uint8`` page."""
Box = tuple[int, int, int, int]
RGB = tuple[int, int, int]

#: Font size (px) of a glyph as rasterised in :func:`samples._fonts.glyph`.
_GLYPH_EM = int(GLYPH_PX * 0.8)

BLACK_INKS: list[RGB] = [(28, 28, 34), (20, 22, 30), (40, 40, 46)]
BLUE_INKS: list[RGB] = [(24, 48, 150), (30, 60, 170), (20, 40, 120), (35, 55, 135)]
PRINT_BLACK: RGB = (22, 22, 22)


@dataclass(frozen=True)
class Pen:
    """How one writer puts characters on paper.

    ``handwritten`` pens jitter each character; typing pens place every
    character exactly. Sizes are fractions of the box or cell height.
    """

    face: str
    color: RGB
    handwritten: bool
    weight: int = 0
    jitter: float = 0.0
    rotation: float = 0.0
    scale: tuple[float, float] = (1.0, 1.0)
    slant: float = 0.0
    drift: float = 0.0
    spacing: float = 1.0
    cell_fill: float = 0.62
    line_fill: float = 0.5
    stroke_px: int = 4

    def signing(self) -> Pen:
        """The same hand signing its name: faster, larger, more slanted."""
        return replace(
            self,
            handwritten=True,
            jitter=max(self.jitter, 0.05) * 1.4,
            rotation=max(self.rotation, 4.0) * 1.3,
            slant=self.slant + 0.12,
            spacing=0.88,
            line_fill=0.6,
            drift=max(self.drift, 0.02) * 1.5,
        )


def hand_pen(rng: random.Random) -> Pen:
    """A resident's ball-point: a handwriting face, blue or black ink, a personal style."""
    face = rng.choice(sorted(HANDWRITING_FONTS))
    color = rng.choice(BLUE_INKS if rng.random() < 0.45 else BLACK_INKS)
    # slight variation of the ink between pens of the same colour
    color = (
        int(min(255, max(0, color[0] + rng.randint(-8, 8)))),
        int(min(255, max(0, color[1] + rng.randint(-8, 8)))),
        int(min(255, max(0, color[2] + rng.randint(-8, 8)))),
    )
    weight = rng.choice([0, 1, 1, 2]) if face in ("klee", "yoz", "yoz_c") else rng.choice([0, 0, 1])
    return Pen(
        face=face,
        color=color,
        handwritten=True,
        weight=weight,
        jitter=rng.uniform(0.02, 0.06),
        rotation=rng.uniform(2.0, 5.0),
        scale=(rng.uniform(0.85, 0.92), rng.uniform(1.0, 1.1)),
        slant=rng.uniform(-0.05, 0.15),
        drift=rng.uniform(0.0, 0.025),
        spacing=rng.uniform(0.95, 1.12),
        cell_fill=rng.uniform(0.6, 0.74),
        line_fill=rng.uniform(0.46, 0.6),
        stroke_px=rng.choice([3, 4, 4, 5]),
    )


def typing_pen(rng: random.Random) -> Pen:
    """A resident who typed the entries and printed them onto the form."""
    face = rng.choice(["gothic", "mincho", "noto_sans", "gothic"])
    return Pen(
        face=face,
        color=PRINT_BLACK,
        handwritten=False,
        cell_fill=rng.uniform(0.5, 0.6),
        line_fill=rng.uniform(0.38, 0.48),
        stroke_px=3,
    )


def city_pen() -> Pen:
    """The city's pre-print: black Gothic type."""
    return Pen(face="gothic", color=PRINT_BLACK, handwritten=False, cell_fill=0.55, line_fill=0.42)


# --------------------------------------------------------------------------- compositing


def stamp(page: Image, mask: np.ndarray, x: int, y: int, color: RGB, opacity: float) -> None:
    """Multiply-blend ``mask`` (0..255 coverage) in ``color`` onto ``page`` at ``(x, y)``.

    paper × (1 − coverage × (1 − ink)), per channel, in saturating uint8
    OpenCV arithmetic (a float round trip per character would cost more than
    the whole glyph).
    """
    h, w = mask.shape
    ph, pw = page.shape[:2]
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, pw), min(y + h, ph)
    if x0 >= x1 or y0 >= y1:
        return
    m = mask[y0 - y : y1 - y, x0 - x : x1 - x]
    factors = [
        cv2.convertScaleAbs(m, alpha=-(255 - c) / 255.0 * opacity, beta=255.0) for c in color
    ]
    region = page[y0:y1, x0:x1]
    page[y0:y1, x0:x1] = cv2.multiply(region, cv2.merge(factors), scale=1.0 / 255.0)


def _char(
    page: Image, ch: str, cx: float, cy: float, size: float, pen: Pen, rng: random.Random
) -> tuple[int, int, int, int]:
    """Draw one character centred at ``(cx, cy)``, em size ``size`` px; return its patch box."""
    if ch.isspace():
        return (int(cx), int(cy), 0, 0)
    g = glyph(pen.face, ch, pen.weight)
    scale = size / _GLYPH_EM
    angle = 0.0
    if pen.handwritten:
        scale *= rng.uniform(*pen.scale)
        angle = max(-pen.rotation, min(pen.rotation, rng.gauss(0.0, pen.rotation / 2)))
        cx += rng.gauss(0.0, pen.jitter * size)
        cy += rng.gauss(0.0, pen.jitter * size)
    side = int(GLYPH_PX * scale * 1.3) + 6
    m = cv2.getRotationMatrix2D((GLYPH_PX / 2, GLYPH_PX / 2), angle, scale)
    m[:, 2] += np.array([side / 2 - GLYPH_PX / 2, side / 2 - GLYPH_PX / 2])
    if pen.slant:
        shear = np.array([[1.0, -pen.slant, pen.slant * side / 2], [0.0, 1.0, 0.0], [0, 0, 1]])
        m = (shear @ np.vstack([m, [0, 0, 1]]))[:2]
    patch = cv2.warpAffine(g.mask, m, (side, side), flags=cv2.INTER_LINEAR)
    x, y = int(round(cx - side / 2)), int(round(cy - side / 2))
    opacity = rng.uniform(0.82, 1.0) if pen.handwritten else 1.0
    stamp(page, patch, x, y, pen.color, opacity)
    return (x, y, side, side)


def _ink_box(boxes: list[tuple[int, int, int, int]]) -> Box:
    drawn = [b for b in boxes if b[2] > 0]
    if not drawn:
        return (0, 0, 0, 0)
    x0 = min(b[0] for b in drawn)
    y0 = min(b[1] for b in drawn)
    x1 = max(b[0] + b[2] for b in drawn)
    y1 = max(b[1] + b[3] for b in drawn)
    return (x0, y0, x1 - x0, y1 - y0)


#: How much wider (or narrower) than typed a hand leaves its blanks: a clear gap
#: before a building name (half-width blank), a small one between family and
#: given name (full-width blank).
_HAND_GAP = {" ": 1.8, "\u3000": 0.7}


def text_width(text: str, size: float, pen: Pen) -> float:
    """Width in px of ``text`` written at em size ``size``."""
    gaps = _HAND_GAP if pen.handwritten else {}
    ems = sum(glyph(pen.face, ch, 0).advance * gaps.get(ch, 1.0) for ch in text)
    return ems * size * pen.spacing


def write_line(
    page: Image,
    text: str,
    box: Box,
    pen: Pen,
    rng: random.Random,
    *,
    align: str = "left",
    size: float | None = None,
    vpos: float = 0.5,
) -> Box:
    """Write ``text`` on one line inside ``box``; return the box the ink covers (approx.).

    The size follows the pen's ``line_fill`` of the box height and shrinks
    until the text fits the width. ``vpos`` is the vertical centre as a
    fraction of the box height.
    """
    x, y, w, h = box
    if size is None:
        size = h * pen.line_fill
        if pen.handwritten:
            # people do not write smaller than about 4 mm just because the box is low
            size = max(size, min(h * 0.72, 48.0))
    size = min(size, h * 0.85)
    margin = max(6.0, 0.25 * size)
    avail = w - 2 * margin
    need = text_width(text, size, pen)
    if need > avail:
        size *= avail / need
        need = avail
    if align == "center":
        cursor = x + (w - need) / 2
    elif align == "right":
        cursor = x + w - margin - need
    else:
        cursor = x + margin + (rng.uniform(0, 0.4) * size if pen.handwritten else 0.0)
        cursor = min(cursor, x + w - margin - need)
    cy = y + h * vpos
    slope = rng.gauss(0.0, pen.drift) if pen.handwritten else 0.0
    drawn = []
    for ch in text:
        adv = glyph(pen.face, ch, 0).advance * size * pen.spacing
        if pen.handwritten:
            adv *= _HAND_GAP.get(ch, 1.0)
        drawn.append(_char(page, ch, cursor + adv / 2, cy, size, pen, rng))
        cursor += adv
        cy += slope * adv
    return _ink_box(drawn)


def write_cells(
    page: Image,
    text: str,
    cells: list[Box],
    pen: Pen,
    rng: random.Random,
    *,
    align: str = "left",
) -> Box:
    """One character per comb cell, centred; ``align='right'`` for short numbers."""
    text = text[: len(cells)]
    start = len(cells) - len(text) if align == "right" else 0
    drawn = []
    for ch, cell in zip(text, cells[start:], strict=False):
        cx, cy = cell[0] + cell[2] / 2, cell[1] + cell[3] / 2
        size = min(cell[2], cell[3]) * pen.cell_fill
        if ch.isascii() and ch.isalnum():
            size = min(cell[2] * 1.35, cell[3]) * pen.cell_fill
        drawn.append(_char(page, ch, cx, cy, size, pen, rng))
    return _ink_box(drawn)


# --------------------------------------------------------------------------- marks


def _stroke_mask(
    shape: tuple[int, int], polylines: list[list[tuple[float, float]]], thickness: int
) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    for line in polylines:
        pts = np.array([[round(px * 4), round(py * 4)] for px, py in line], np.int32)
        cv2.polylines(mask, [pts], False, 255, thickness, cv2.LINE_AA, shift=2)
    return mask


def _draw_strokes(
    page: Image, polylines: list[list[tuple[float, float]]], pen: Pen, thickness: int | None = None
) -> None:
    t = thickness or pen.stroke_px
    xs = [p[0] for line in polylines for p in line]
    ys = [p[1] for line in polylines for p in line]
    x0, y0 = int(min(xs)) - t - 2, int(min(ys)) - t - 2
    x1, y1 = int(max(xs)) + t + 2, int(max(ys)) + t + 2
    local = [[(px - x0, py - y0) for px, py in line] for line in polylines]
    mask = _stroke_mask((y1 - y0, x1 - x0), local, t)
    stamp(page, mask, x0, y0, pen.color, 0.95)


def _curve(
    p0: tuple[float, float], p1: tuple[float, float], bow: float, n: int = 8
) -> list[tuple[float, float]]:
    """Points on a slightly bowed stroke from ``p0`` to ``p1`` (hands do not draw straight)."""
    (ax, ay), (bx, by) = p0, p1
    nx, ny = -(by - ay), bx - ax
    out = []
    for i in range(n + 1):
        t = i / n
        k = 4 * t * (1 - t) * bow
        out.append((ax + (bx - ax) * t + nx * k, ay + (by - ay) * t + ny * k))
    return out


def _offset(box: Box, rng: random.Random, outside: bool) -> tuple[float, float]:
    """Where a mark lands relative to its box: a little off-centre, or partly outside."""
    w, h = box[2], box[3]
    if not outside:
        return rng.gauss(0, 0.05 * w), rng.gauss(0, 0.05 * h)
    angle = rng.uniform(0, 2 * math.pi)
    dist = rng.uniform(0.4, 0.55)
    return math.cos(angle) * dist * w, math.sin(angle) * dist * h


def tick(page: Image, box: Box, pen: Pen, rng: random.Random, outside: bool = False) -> None:
    """✓ in a checkbox (the upstroke usually overshoots the box a little)."""
    w, h = box[2], box[3]
    dx, dy = _offset(box, rng, outside)
    x, y = box[0] + dx, box[1] + dy
    a = (x + w * rng.uniform(0.1, 0.22), y + h * rng.uniform(0.42, 0.58))
    b = (x + w * rng.uniform(0.38, 0.48), y + h * rng.uniform(0.8, 0.92))
    c = (x + w * rng.uniform(0.95, 1.25), y - h * rng.uniform(0.05, 0.35))
    _draw_strokes(
        page, [_curve(a, b, rng.uniform(-0.08, 0.08)) + _curve(b, c, rng.uniform(-0.1, 0.1))], pen
    )


def cross(page: Image, box: Box, pen: Pen, rng: random.Random, outside: bool = False) -> None:
    """× in a checkbox, corner to corner."""
    w, h = box[2], box[3]
    dx, dy = _offset(box, rng, outside)
    x, y = box[0] + dx, box[1] + dy
    m = rng.uniform(0.0, 0.15)
    s1 = _curve(
        (x + w * m, y + h * m), (x + w * (1 - m), y + h * (1 - m)), rng.uniform(-0.06, 0.06)
    )
    s2 = _curve(
        (x + w * (1 - m), y + h * m), (x + w * m, y + h * (1 - m)), rng.uniform(-0.06, 0.06)
    )
    _draw_strokes(page, [s1, s2], pen)


def fill(page: Image, box: Box, pen: Pen, rng: random.Random, outside: bool = False) -> None:
    """A box filled in with dense back-and-forth strokes."""
    w, h = box[2], box[3]
    dx, dy = _offset(box, rng, outside)
    x, y = box[0] + dx, box[1] + dy
    pts = []
    rows = max(4, int(h / (pen.stroke_px * 1.2)))
    for i in range(rows + 1):
        yy = y + h * (0.08 + 0.84 * i / rows) + rng.uniform(-1.5, 1.5)
        xa = x + w * rng.uniform(0.04, 0.12)
        xb = x + w * rng.uniform(0.88, 0.96)
        pts.extend([(xa, yy), (xb, yy)] if i % 2 == 0 else [(xb, yy), (xa, yy)])
    _draw_strokes(page, [pts], pen, thickness=pen.stroke_px + 2)


def circle(
    page: Image, label_box: Box, pen: Pen, rng: random.Random, outside: bool = False
) -> None:
    """○ drawn around a printed label (the ends usually overlap a little)."""
    x, y, w, h = label_box
    dx, dy = (
        (0.0, 0.0) if not outside else (rng.uniform(-0.15, 0.15) * w, rng.uniform(-0.3, 0.3) * h)
    )
    cx, cy = x + w / 2 + dx, y + h / 2 + dy
    rx, ry = w / 2 + h * rng.uniform(0.35, 0.6), h / 2 + h * rng.uniform(0.3, 0.5)
    start = rng.uniform(0, 2 * math.pi)
    sweep = 2 * math.pi * rng.uniform(1.02, 1.12)
    tilt = rng.uniform(-0.08, 0.08)
    pts = []
    n = 48
    for i in range(n + 1):
        t = start + sweep * i / n
        r = 1.0 + 0.04 * math.sin(3 * t + start)
        px, py = rx * r * math.cos(t), ry * r * math.sin(t)
        pts.append(
            (
                cx + px * math.cos(tilt) - py * math.sin(tilt),
                cy + px * math.sin(tilt) + py * math.cos(tilt),
            )
        )
    _draw_strokes(page, [pts], pen)


MARKS = {"tick": tick, "cross": cross, "fill": fill}


def strike(page: Image, ink: Box, pen: Pen, rng: random.Random) -> None:
    """Two lines through written text: the resident's correction (二重線)."""
    x, y, w, h = ink
    if w <= 0:
        return
    gap = max(6.0, h * rng.uniform(0.12, 0.18))
    mid = y + h * rng.uniform(0.45, 0.55)
    tilt = rng.uniform(-0.03, 0.03) * w
    lines = []
    for off in (-gap / 2, gap / 2):
        a = (x - rng.uniform(0, 0.05) * w, mid + off - tilt / 2)
        b = (x + w * rng.uniform(1.0, 1.06), mid + off + tilt / 2 + rng.uniform(-2, 2))
        lines.append(_curve(a, b, rng.uniform(-0.01, 0.01)))
    _draw_strokes(page, lines, pen)


def black_out(page: Image, area: Box, rng: random.Random) -> None:
    """Cover ``area`` with black marker until nothing under it can be read (塗りつぶし)."""
    x, y, w, h = area
    pad = int(max(6, 0.08 * h))
    x0, y0, w0, h0 = x - pad, y - pad, w + 2 * pad, h + 2 * pad
    mask = np.zeros((h0, w0), np.uint8)
    cv2.rectangle(mask, (pad // 2, pad // 2), (w0 - pad // 2, h0 - pad // 2), 255, -1)
    # ragged marker edges
    for _ in range(int(w0 / 15)):
        cx = rng.uniform(0, w0)
        cv2.line(
            mask,
            (int(cx), rng.randint(0, pad)),
            (int(cx + rng.uniform(-20, 20)), h0 - rng.randint(0, pad)),
            255,
            14,
        )
    # marker is opaque: it replaces what is under it instead of darkening it, so
    # no trace of the writing survives (a multiply would leave it faintly darker)
    ph, pw = page.shape[:2]
    xa, ya, xb, yb = max(x0, 0), max(y0, 0), min(x0 + w0, pw), min(y0 + h0, ph)
    a = mask[ya - y0 : yb - y0, xa - x0 : xb - x0, None].astype(np.float32) / 255.0
    region = page[ya:yb, xa:xb].astype(np.float32)
    marker = np.array([18.0, 18.0, 20.0], np.float32)
    page[ya:yb, xa:xb] = (region * (1.0 - a) + marker * a + 0.5).astype(np.uint8)


def qr(page: Image, payload: str, box: Box, *, quiet: int = 2) -> None:
    """Print a QR code with ``payload`` filling ``box`` (black modules on the paper)."""
    code = segno.make(payload, error="m", micro=False)
    matrix = np.array([list(row) for row in code.matrix], dtype=np.uint8)
    n = matrix.shape[0] + 2 * quiet
    module = min(box[2], box[3]) // n
    side = module * matrix.shape[0]
    big = np.kron(matrix, np.ones((module, module), np.uint8)) * 255
    x = box[0] + (box[2] - side) // 2
    y = box[1] + (box[3] - side) // 2
    page[y : y + side, x : x + side] = 255
    stamp(page, big.astype(np.uint8), x, y, PRINT_BLACK, 1.0)
