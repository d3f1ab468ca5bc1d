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

import numpy as np

from forms.schema import FieldSpec, FormSpec, Kind, Option
from ocr.align import Alignment
from ocr.regions import Box, clean_cut, grow
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


def box_score(
    gray: np.ndarray, alignment: Alignment, tpl: Template, box: list[int]
) -> tuple[float, bool]:
    """Ink share of a checkbox (strays included) and whether most of it lies outside the box."""
    x, y, w, h = box
    size = (tpl.spec.size[0], tpl.spec.size[1])
    region = grow(box, round(w * BOX_GROW), round(h * BOX_GROW), limit=size)
    ink, (rx, ry, _, _) = _region_ink(gray, alignment, tpl, region)
    total = int(ink.sum())
    inner = ink[y - ry : y - ry + h, x - rx : x - rx + w]
    inside = int(inner.sum())
    outside = total > 0 and inside < 0.6 * total
    return total / float(w * h), outside


def label_score(gray: np.ndarray, alignment: Alignment, tpl: Template, label: list[int]) -> float:
    """Ink around a printed label (a circle drawn round it), in outline lengths × 3 px."""
    x, y, w, h = label
    size = (tpl.spec.size[0], tpl.spec.size[1])
    region = grow(label, round(h * 0.9), round(h * 0.8), limit=size)
    ink, _ = _region_ink(gray, alignment, tpl, region)
    outline = 2.0 * (w + h) * 3.0
    return float(ink.sum()) / outline


def read_option(gray: np.ndarray, alignment: Alignment, tpl: Template, opt: Option) -> Mark:
    score, outside = box_score(gray, alignment, tpl, opt.box)
    lscore = label_score(gray, alignment, tpl, opt.label_box) if opt.label_box else 0.0
    return Mark(opt.value, score, lscore, outside)


def read_checkbox(gray: np.ndarray, alignment: Alignment, tpl: Template, spec: FieldSpec) -> Mark:
    assert spec.box is not None
    score, outside = box_score(gray, alignment, tpl, spec.box)
    return Mark("on", score, 0.0, outside)


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
