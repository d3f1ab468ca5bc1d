"""Checkboxes, choices and signatures by ink (OMR), measured against the blank template.

An option is marked when the resident's ink near its box -- a ✓, ×, fill, or
a mark that strays partly outside -- or around its printed label (○) is
more than the blank template has there. The template's print is removed
first (:func:`ocr.regions.clean_cut`), so the box's own border never counts,
and ink inside other fields' writing areas is ignored, so a word written
next to a label is not a circle.

Scores are shares of the box area (box) or of the label's outline (circle),
so they do not depend on the scan resolution. An exactly-one group with two
marked options is *ambiguous*: the value is the list of marked options and
the field goes to review; it is never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np

from forms.schema import FieldSpec, FormSpec, Kind
from ocr.align import Alignment
from ocr.regions import Box, clean_cut, grow, union
from ocr.templates import Template

BOX_GROW = 0.5
"""A checkbox's region reaches this far beyond the box (share of its side): strays count."""
BOX_MARK = 0.07
"""Ink share of the box area from which a box is marked."""
LABEL_MARK = 0.5
"""Circle ink, in label outlines × 3 px, from which a label is circled."""
SIGNATURE_INK = 0.004
"""Ink share of the signature box from which it is signed."""


@dataclass
class Mark:
    """One option's evidence."""

    value: str
    box_score: float
    label_score: float
    outside: bool

    @property
    def score(self) -> float:
        """Box and circle evidence on one scale (1.0 = at the threshold)."""
        return max(self.box_score / BOX_MARK, self.label_score / LABEL_MARK)

    @property
    def marked(self) -> bool:
        return self.score >= 1.0


@cache
def _writing_mask(form_id: str, size: tuple[int, int]) -> np.ndarray:
    """Template-sized mask of every writing area (text boxes, comb cells) of a form."""
    from ocr.templates import template

    spec = template(form_id).spec
    mask = np.zeros((size[1], size[0]), np.uint8)
    for f in spec.fields:
        if f.kind in (Kind.CHECKBOX, Kind.CHOICE, Kind.MULTICHOICE, Kind.SIGNATURE):
            continue
        for x, y, w, h in f.boxes():
            mask[y : y + h, x : x + w] = 1
    return mask


def _region_ink(
    gray: np.ndarray, alignment: Alignment, tpl: Template, region: Box
) -> tuple[np.ndarray, Box]:
    c = clean_cut(gray, alignment, tpl, region)
    x, y, w, h = region
    spec: FormSpec = tpl.spec
    writing = _writing_mask(spec.form_id, (spec.size[0], spec.size[1]))[y : y + h, x : x + w]
    ink = c.ink.copy()
    ink[writing > 0] = 0
    return ink, region


def read_group(
    gray: np.ndarray,
    alignment: Alignment,
    tpl: Template,
    boxes: list[tuple[str, list[int], list[int] | None]],
) -> list[Mark]:
    """Marks of a group of options ``(value, box, label_box)`` read together.

    Every stroke (connected ink) near the group is given to one option: the label
    it circles (its outline encloses the label's centre), else the box it covers
    most, else the box it is nearest to if that is within about a box's size (a
    mark that strayed outside). So a tick whose upstroke overshoots
    into the next box counts once, for the box it was made in.
    """
    size = (tpl.spec.size[0], tpl.spec.size[1])
    side = max(max(b[2], b[3]) for _, b, _ in boxes)
    every = [list(b) for _, b, _ in boxes] + [list(lb) for _, _, lb in boxes if lb]
    region = grow(union(every), round(side * 0.8), round(side * 0.8), limit=size)
    ink, _ = _region_ink(gray, alignment, tpl, region)
    rx, ry = region[0], region[1]
    n, labels, stats, cents = cv2.connectedComponentsWithStats(ink, connectivity=8)
    box_px: list[float] = [0.0] * len(boxes)
    inside_px = [0.0] * len(boxes)
    label_px = [0.0] * len(boxes)
    local = [(b[0] - rx, b[1] - ry, b[2], b[3]) for _, b, _ in boxes]
    for i in range(1, n):
        x, y, w, h, area = (int(v) for v in stats[i])
        comp = labels[y : y + h, x : x + w] == i
        # a ring around a label is that label's circle, even where it crosses a box
        circled = False
        for k, (_, _, lb) in enumerate(boxes):
            if lb is None:
                continue
            cx, cy = lb[0] - rx + lb[2] / 2, lb[1] - ry + lb[3] / 2
            if x < cx < x + w and y < cy < y + h and w >= lb[2] * 0.8 and h >= lb[3] * 0.8:
                label_px[k] += area
                circled = True
                break
        if circled:
            continue
        best, best_px = -1, 0
        for k, (bx, by, bw, bh) in enumerate(local):
            gx, gy = round(bw * 0.15), round(bh * 0.15)
            x0, y0 = max(bx - gx, x), max(by - gy, y)
            x1, y1 = min(bx + bw + gx, x + w), min(by + bh + gy, y + h)
            if x1 <= x0 or y1 <= y0:
                continue
            px = int(comp[y0 - y : y1 - y, x0 - x : x1 - x].sum())
            if px > best_px:
                best, best_px = k, px
        if best >= 0:
            bx, by, bw, bh = local[best]
            gx, gy = round(bw * BOX_GROW), round(bh * BOX_GROW)
            x0, y0 = max(bx - gx, x), max(by - gy, y)
            x1, y1 = min(bx + bw + gx, x + w), min(by + bh + gy, y + h)
            box_px[best] += float(comp[y0 - y : y1 - y, x0 - x : x1 - x].sum())
            x0, y0 = max(bx, x), max(by, y)
            x1, y1 = min(bx + bw, x + w), min(by + bh, y + h)
            if x1 > x0 and y1 > y0:
                inside_px[best] += float(comp[y0 - y : y1 - y, x0 - x : x1 - x].sum())
            continue
        # a stray: the nearest box, if near enough
        ccx, ccy = cents[i]
        dists = [
            np.hypot((ccx - (bx + bw / 2)) / bw, (ccy - (by + bh / 2)) / bh)
            for bx, by, bw, bh in local
        ]
        k = int(np.argmin(dists))
        if dists[k] <= 1.1:
            box_px[k] += float(area)
    marks = []
    for k, (value, box, lb) in enumerate(boxes):
        box_area = float(box[2] * box[3])
        outline = 2.0 * (lb[2] + lb[3]) * 3.0 if lb else 1.0
        outside = box_px[k] > 0 and inside_px[k] < 0.6 * box_px[k]
        marks.append(
            Mark(value, box_px[k] / box_area, label_px[k] / outline if lb else 0.0, outside)
        )
    return marks


def read_options(
    gray: np.ndarray, alignment: Alignment, tpl: Template, spec: FieldSpec
) -> list[Mark]:
    """One mark per option of a choice or multichoice field, in printed order."""
    group = [(o.value, o.box, o.label_box) for o in spec.options or []]
    return read_group(gray, alignment, tpl, group)


def read_checkbox(gray: np.ndarray, alignment: Alignment, tpl: Template, spec: FieldSpec) -> Mark:
    assert spec.box is not None
    return read_group(gray, alignment, tpl, [("on", spec.box, None)])[0]


def read_signature(gray: np.ndarray, alignment: Alignment, tpl: Template, spec: FieldSpec) -> float:
    """Ink share of the signature box (the template's print removed)."""
    assert spec.box is not None
    c = clean_cut(gray, alignment, tpl, tuple(spec.box))  # type: ignore[arg-type]
    return float(c.ink.mean())


def confidence(marks: list[Mark]) -> float:
    """How sure the reading is: every option's distance from the threshold, worst one counts.

    A score at the threshold gives 0.5; twice (or half) the threshold ~0.9.
    """
    worst = 1.0
    for m in marks:
        s = max(m.score, 1e-6)
        ratio = s if s >= 1.0 else 1.0 / s
        worst = min(worst, 1.0 - 0.5 / ratio**2.3)
    return worst
