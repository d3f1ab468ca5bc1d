"""Reading every field of an aligned form page: plan the crops, then finish the values.

Reading a page is two steps so that the recogniser sees every crop of a page
(and of several documents) in one call:

1. :func:`plan_fields` measures ink, reads checkboxes, choices and
   signatures (:mod:`ocr.omr`), and cuts one :class:`Segment` per piece of
   writing: a run of inked comb cells, or a free-text line split at word
   gaps, each with the field's charset and, for combs, the number of
   characters (one per inked cell). Blank fields get no segment at all.
2. :func:`finish_fields` turns the recognised segments into each field's
   raw text (parts joined with the field's ``joiner``, a date as 和暦 text
   ``令和2年5月10日`` with the era printed on the form or read from its
   ``era_field``), the canonical value (:func:`validators.normalize.normalize_field`),
   a confidence and a status.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np

from forms.schema import Charset as CharsetName
from forms.schema import FieldSpec, Kind
from ocr import omr
from ocr.align import Alignment, cut
from ocr.charsets import field_charset, settle_twins, text_charset, tidy_text, today_forms
from ocr.confidence import status_for
from ocr.engine import Charset, Recognition
from ocr.regions import (
    BOX_INK_MIN_PX,
    Box,
    blacked_out,
    cell_size,
    clean_cut,
    grow,
    inked_cells,
    run_crop,
    runs,
    text_line,
    union,
)
from ocr.templates import Template
from shinsei.model import FieldStatus, FieldValue
from shinsei.residents import registry

ERA_KANJI = {"meiji": "明治", "taisho": "大正", "showa": "昭和", "heisei": "平成", "reiwa": "令和"}

#: Where a writer's gap becomes a space, by the field's normaliser, as (widest
#: gap in line heights, how much wider than the next gap it must be). A name
#: (and its kana) always has one between family and given name: the widest
#: gap between two characters. An address has one before the building, other
#: text rarely (医療法人X会 Y内科): only a clearly wide gap counts. Measured on
#: generated forms (see ocr/README.md).
WORD_GAP = {
    "name": (0.0, 1.0),
    "kana": (0.0, 1.0),
    "address": (0.55, 1.4),
    "text": (0.6, 2.0),
}
SPACE = {"name": "\u3000", "kana": "\u3000", "address": " ", "text": " "}
NO_SPACE_NEXT_TO = set("()（）「」『』、。・,.:：-ー")
CLEAR_GAP = 1.3
"""The widest gap must be this much wider than the next for the space to be sure."""


@dataclass
class Segment:
    """One crop for the recogniser."""

    field_id: str
    crop: np.ndarray
    charset: Charset
    length: int | None = None


@dataclass
class Part:
    """One part of a field's writing: a date's year, a phone group, or the whole box."""

    name: str
    segments: list[int] = field(default_factory=list)
    joiner: str = ""
    """What joins the segments (a space at a word gap, nothing between comb runs of digits)."""
    cells: int | None = None
    """Inked comb cells: the number of characters expected."""
    gaps: list[tuple[int, int]] = field(default_factory=list)
    height: float = 0.0
    width: int = 0
    space: str = ""
    """The space a word gap becomes (empty: gaps are ignored)."""
    min_gap: float = 0.0
    min_ratio: float = 1.0
    sizes: list[list[float]] = field(default_factory=list)
    """Per segment, the ink size of each comb cell (to tell small kana from large)."""
    dots: list[float] = field(default_factory=list)
    """x of written dots the recogniser may overlook (:attr:`ocr.regions.TextLine.dots`)."""
    flat: np.ndarray | None = None
    """A phone line's columns of thin mid-height ink (:attr:`ocr.regions.TextLine.flat`)."""


@dataclass
class Draft:
    """A text field between cutting and recognition."""

    spec: FieldSpec
    parts: list[Part]
    flags: list[str] = field(default_factory=list)
    ink_px: int = 0
    box: Box | None = None


@dataclass
class PagePlan:
    """Everything read on a form page before recognition, and the crops still to read."""

    values: dict[str, FieldValue] = field(default_factory=dict)
    drafts: list[Draft] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)
    marks: dict[str, list[omr.Mark]] = field(default_factory=dict)


@cache
def _without_spaces(charset: Charset) -> Charset:
    """A charset minus spaces (for a run of comb cells)."""
    if charset is None:
        return None
    return charset.replace(" ", "").replace("\u3000", "")


def drop_spaces(r: Recognition) -> Recognition:
    """A reading without the spaces the model put into gaps (spaces come from the geometry).

    The model may read a word gap as a space; its charset keeps the space class
    so that the gap is not pressed into the nearest allowed character (a gap
    in a kana name read as ー).
    """
    if " " not in r.text and "\u3000" not in r.text:
        return r
    keep = [i for i, ch in enumerate(r.text) if not ch.isspace()]
    spans = [r.spans[i] for i in keep] if r.spans and len(r.spans) == len(r.text) else r.spans
    confs = (
        [r.char_confidences[i] for i in keep]
        if len(r.char_confidences) == len(r.text)
        else r.char_confidences
    )
    return r._replace(text="".join(r.text[i] for i in keep), char_confidences=confs, spans=spans)


def _normaliser(spec: FieldSpec) -> str:
    if spec.normalize:
        return spec.normalize
    if spec.kind is Kind.KANA:
        return "kana"
    return "text"


def _comb_part(
    name: str,
    spec: FieldSpec,
    cells: list[list[int]],
    cutout: Any,
    plan: PagePlan,
    charset: Charset,
) -> Part:
    flags = inked_cells(cutout, cells)
    joiner = "\u3000" if spec.kind is Kind.KANA else ""
    part = Part(name, joiner=joiner, cells=sum(flags))
    for first, last in runs(flags):
        crop = run_crop(cutout, cells[first : last + 1])
        if crop is None:
            continue
        # one character per cell, no gaps inside a run: the space class has no place here
        plan.segments.append(Segment(spec.id, crop, _without_spaces(charset), last - first + 1))
        part.segments.append(len(plan.segments) - 1)
        part.sizes.append([cell_size(cutout, c) for c in cells[first : last + 1]])
    return part


def _box_part(
    name: str, spec: FieldSpec, cutout: Any, plan: PagePlan, charset: Charset, draft: Draft
) -> Part:
    normaliser = _normaliser(spec)
    part = Part(name)
    line = text_line(cutout)
    if line is None:
        return part
    draft.ink_px += line.ink_px
    if line.corrected:
        draft.flags.append("corrected")
    if line.crop is None:
        return part
    if normaliser in WORD_GAP and not spec.parts:
        part.space = SPACE[normaliser]
        part.min_gap, part.min_ratio = WORD_GAP[normaliser]
        part.gaps, part.height, part.width = line.gaps, line.height, line.crop.shape[1]
        part.dots = line.dots if normaliser == "text" else []
    if normaliser == "phone" and not spec.parts:
        part.height, part.width, part.flat = line.height, line.crop.shape[1], line.flat
    plan.segments.append(Segment(spec.id, line.crop, charset))
    part.segments.append(len(plan.segments) - 1)
    return part


def _plan_text(
    gray: np.ndarray, alignment: Alignment, tpl: Template, spec: FieldSpec, plan: PagePlan
) -> None:
    charset = field_charset(spec)
    size = (tpl.spec.size[0], tpl.spec.size[1])
    whole = union(spec.boxes())
    draft = Draft(spec, [], box=whole)
    # one cut for the whole field, a little beyond its boxes (writing strays)
    region = grow(whole, 12, 10, limit=size)
    pieces: list[tuple[str, list[list[int]] | None, list[int] | None]] = []
    if spec.parts:
        pieces = [(p.name, p.cells, p.box) for p in spec.parts]
    else:
        pieces = [("", spec.cells, spec.box)]
    cell_h = min((c[3] for _, cells, _ in pieces for c in cells or []), default=0)
    # Lines the template subtraction leaves (when the map is off by more than the
    # 2 px it tolerates) are removed; marks fix the map to a fraction of a pixel.
    exact = alignment.method == "marks" and alignment.marks >= 2 and alignment.residual < 1.0
    rules = (max(40, int(whole[2] * 0.5)), max(30, int(cell_h * 0.8))) if cell_h else None
    # a comb's cells are read off one clean cut of the whole field; boxes are
    # cut and cleaned each on their own, so for them only the marker check
    # looks at the whole field, and that needs no cleaning
    cutout = None
    if any(cells is not None for _, cells, _ in pieces):
        cutout = clean_cut(gray, alignment, tpl, region, rules=None if exact else rules)
    if blacked_out(cut(gray, alignment, region) if cutout is None else cutout.raw):
        if cutout is None:
            cutout = clean_cut(gray, alignment, tpl, region, rules=None if exact else rules)
        draft.flags.append("blacked_out")
        draft.ink_px = int(cutout.ink.sum())
        plan.drafts.append(draft)
        return
    for name, cells, box in pieces:
        if cells is not None:
            assert cutout is not None
            part = _comb_part(name, spec, cells, cutout, plan, charset)
            draft.ink_px += part.cells or 0
        else:
            assert box is not None
            # the box's own border, should the alignment leave a trace of it
            rules = (max(60, int(box[2] * 0.5)), max(30, int(box[3] * 0.7)))
            sub = clean_cut(
                gray,
                alignment,
                tpl,
                grow(box, 8, 6, limit=size),
                rules=None if exact else rules,
                rules_border=16,
            )
            part = _box_part(name, spec, sub, plan, charset, draft)
        draft.parts.append(part)
    plan.drafts.append(draft)


def _omr_value(spec: FieldSpec, marks: list[omr.Mark]) -> FieldValue:
    chosen = [m.value for m in marks if m.marked]
    flags = ["outside_box"] if any(m.marked and m.outside for m in marks) else []
    confidence = omr.confidence(marks)
    value: Any
    if spec.kind is Kind.CHECKBOX:
        value = bool(chosen)
        raw = "✓" if value else ""
    elif spec.kind is Kind.MULTICHOICE:
        value = chosen or None  # nothing ticked is a blank field (null)
        raw = ",".join(chosen)
    else:  # choice
        value = None if not chosen else chosen[0] if len(chosen) == 1 else chosen
        raw = ",".join(chosen)
        if len(chosen) > 1:
            flags.append("ambiguous")
    blank = not chosen and spec.kind is not Kind.CHECKBOX  # an unticked checkbox is "false"
    status = status_for(confidence, blank=blank, flagged="ambiguous" in flags)
    return FieldValue(spec.id, value, confidence, "omr", raw=raw, status=status, flags=flags)


def plan_fields(
    gray: np.ndarray,
    alignment: Alignment,
    tpl: Template,
    *,
    skip: set[str] = frozenset(),  # type: ignore[assignment]
) -> PagePlan:
    """Read the marks and cut the writing of every field of ``tpl``'s form (but ``skip``)."""
    plan = PagePlan()
    for spec in tpl.spec.fields:
        if spec.id in skip:
            continue
        if spec.kind is Kind.CHECKBOX:
            mark = omr.read_checkbox(gray, alignment, tpl, spec)
            plan.marks[spec.id] = [mark]
            plan.values[spec.id] = _omr_value(spec, [mark])
        elif spec.kind in (Kind.CHOICE, Kind.MULTICHOICE):
            marks = omr.read_options(gray, alignment, tpl, spec)
            plan.marks[spec.id] = marks
            plan.values[spec.id] = _omr_value(spec, marks)
        elif spec.kind is Kind.PREPRINTED and not spec.source:
            continue  # the QR code: its payload is read in identification
        elif spec.kind is Kind.SIGNATURE:
            share = omr.read_signature(gray, alignment, tpl, spec)
            signed = share >= omr.SIGNATURE_INK
            ratio = max(share, 1e-6) / omr.SIGNATURE_INK
            conf = 1.0 - 0.5 / (ratio if ratio >= 1 else 1 / ratio) ** 2
            plan.values[spec.id] = FieldValue(
                spec.id,
                signed,
                conf,
                "omr",
                raw="署名あり" if signed else "",
                status=status_for(conf, blank=not signed),
            )
        else:
            _plan_text(gray, alignment, tpl, spec, plan)
    return plan


# -- after recognition ------------------------------------------------------------


def _boundary_gaps(part: Part, centres: list[float]) -> list[float]:
    """For each pair of neighbouring characters, the widest empty run between them (px)."""
    out = []
    for left, right in zip(centres, centres[1:], strict=False):
        widest = 0.0
        for start, end in part.gaps:
            overlap = min(end, right) - max(start, left)
            widest = max(widest, overlap)
        out.append(widest)
    return out


def with_space(part: Part, r: Recognition) -> tuple[str, float]:
    """The recognised text with the writer's word gap as a space, and how sure that is.

    Between every two neighbouring characters (placed by the recogniser's
    character positions) the empty run of ink columns is measured; the word
    gap is where that run, and the distance between the characters, are
    largest. A name always has one; free text only where the gap is clearly
    wide (:data:`WORD_GAP`). Two digits or a katakana word are never split:
    a wide gap between digits is rather a symbol the reading missed (・).
    """
    text = r.text
    if not part.space or not part.gaps or len(text) < 2 or part.height <= 0:
        return text, 1.0
    width = max(1, part.width)
    if r.spans and len(r.spans) == len(text):
        centres = [(a + b) / 2 * width for a, b in r.spans]
    else:
        centres = [(i + 0.5) * width / len(text) for i in range(len(text))]
    gaps = _boundary_gaps(part, centres)
    pitches = [b - a for a, b in zip(centres, centres[1:], strict=False)]
    usual = float(np.median(pitches)) or 1.0
    scores = [g / part.height + (p / usual - 1) for g, p in zip(gaps, pitches, strict=True)]
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    best = order[0]
    k = best + 1
    gap = gaps[best]
    runner = max((g for i, g in enumerate(gaps) if i != best), default=0.0)
    if part.min_gap > 0:
        if gap < part.min_gap * part.height or gap < part.min_ratio * runner:
            return text, 1.0
        if NO_SPACE_NEXT_TO & {text[k - 1], text[k]}:
            return text, 1.0
        if _same_script(text[k - 1], text[k]):
            return text, 0.6 if text[k - 1].isdigit() else 1.0
    elif gap <= 0:
        return text, 0.5  # a name written without a gap: where it splits is a guess
    sure = 1.0
    if len(order) > 1 and scores[best] - scores[order[1]] < 0.15:
        sure = 0.6
    left, right = text[:k], text[k:]
    if part.min_gap == 0:
        # a name's word gap read as a long vowel mark: no word starts with ー, and
        # one sitting in the gap itself is the gap
        right = right.lstrip("ー") or right
        if left.endswith("ー") and len(left) > 1:
            at = centres[k - 1]
            if any(start <= at <= end for start, end in part.gaps[:1]) or gap > part.height:
                left = left[:-1]
    return left + part.space + right, sure


#: Confidence of a ・ the ink shows between two digits: a small solid blob at
#: mid-height where the recogniser put a dot, or where it put nothing.
INKED_DOT = 0.9
DOT_MARKS = frozenset(".．・･•∙●°˚:：")


def with_dots(part: Part, r: Recognition) -> Recognition:
    """A written ・ between two digits, as the ink shows it.

    A dot the recogniser read where the ink has a dot blob is sure
    (:data:`INKED_DOT`): two independent readings agree. A blob where it read
    nothing between two digits is put back as ・ -- doubtful when it read a
    dot elsewhere in the line, or when more than one is put back: then a blob
    may be a broken stroke.
    """
    if not part.dots or not r.spans or len(r.spans) != len(r.text):
        return r
    width = max(1, part.width)
    text, spans, confs = list(r.text), list(r.spans), list(r.char_confidences)
    if len(confs) != len(text):
        return r
    slack = 0.15 * part.height
    read = [k for k, ch in enumerate(text) if ch in DOT_MARKS]
    confirmed = False
    free = list(part.dots)
    for k in read:
        a, b = spans[k][0] * width - slack, spans[k][1] * width + slack
        blob = next((d for d in free if a <= d <= b), None)
        if blob is not None:
            free.remove(blob)
            confirmed = confirmed or confs[k] < INKED_DOT
            confs[k] = max(confs[k], INKED_DOT)
    inserted = False
    between = [
        (dot, k)
        for dot in sorted(free, reverse=True)
        if 0 < (k := sum(1 for a, b in spans if (a + b) / 2 * width < dot)) < len(text)
        and text[k - 1].isdigit()
        and text[k].isdigit()
    ]
    for dot, k in between:
        text.insert(k, "・")
        spans.insert(k, (dot / width, dot / width))
        confs.insert(k, 0.6 if read or len(between) > 1 else INKED_DOT)
        inserted = True
    confidence = r.confidence
    weakest = min(r.char_confidences, default=1.0)
    if inserted or (confirmed and confidence >= weakest - 1e-6):
        # the doubt was the dot: the one the recogniser nearly emitted, or read weakly
        confidence = max(confidence, min(confs))
    return r._replace(
        text="".join(text), confidence=confidence, char_confidences=confs, spans=spans
    )


#: Confidence of a hyphen the ink shows between two digits of a phone number
#: where the recogniser read none: a flat stroke at mid-height, in a wide step.
INKED_DASH = 0.9


def with_dashes(part: Part, r: Recognition) -> Recognition:
    """A phone number's written hyphens that the recogniser overlooked, as the ink shows them.

    Between two digits read side by side, where the step between them is
    wider than the line's usual one (a hyphen takes room) and the ink in the
    middle of that step is a thin band at mid-height (:attr:`Part.flat`, a
    stroke even where it touches its digits), is a hyphen
    (078-7144348 → 078-714-4348). Only where the result is a phone number's
    shape (:func:`phone_shaped`); else the reading stays.
    """
    text = r.text
    flat = part.flat
    if flat is None or not r.spans or len(r.spans) != len(text) or len(text) < 3:
        return r
    if len(r.char_confidences) != len(text):
        return r
    width = max(1, part.width)
    centres = [(a + b) / 2 * width for a, b in r.spans]
    usual = float(np.median(np.diff(centres))) or 1.0
    out, spans, confs = list(text), list(r.spans), list(r.char_confidences)
    for k in range(len(text) - 1, 0, -1):
        if not (text[k - 1].isdigit() and text[k].isdigit()):
            continue
        step = centres[k] - centres[k - 1]
        a, b = int(centres[k - 1] + 0.3 * step), int(centres[k] - 0.3 * step)
        if step < 1.3 * usual or b <= a or b > len(flat):
            continue
        if float(flat[a:b].mean()) >= 0.6:
            x = (centres[k - 1] + centres[k]) / 2
            out.insert(k, "-")
            spans.insert(k, (x / width, x / width))
            confs.insert(k, INKED_DASH)
    dashed = "".join(out)
    if dashed == text or not phone_shaped(dashed):
        return r
    # the doubt was the hyphen the recogniser nearly emitted
    return r._replace(
        text=dashed, confidence=max(r.confidence, min(confs)), char_confidences=confs, spans=spans
    )


#: A step between two characters' centres this much wider than the line's usual one
#: has room for a mark between them (a written ・ or - takes a step of its own: the
#: digits either side of one stand about twice the usual step apart).
WIDE_STEP = 1.6


def digit_gaps(part: Part, r: Recognition) -> bool:
    """Whether two neighbouring digits stand wide apart (a missed ・ or -, likely).

    Apart: the blank between them is half the line high, and their centres
    stand further apart than the line's usual step (:data:`WIDE_STEP`) -- two
    narrow 1s written at the usual pitch leave a wide blank with no room for
    anything between them.
    """
    text = r.text
    if not part.gaps or len(text) < 2 or part.height <= 0 or not r.spans:
        return False
    if len(r.spans) != len(text):
        return False
    width = max(1, part.width)
    centres = [(a + b) / 2 * width for a, b in r.spans]
    gaps = _boundary_gaps(part, centres)
    steps = np.diff(centres)
    usual = float(np.median(steps)) or 1.0
    return any(
        text[i].isdigit()
        and text[i + 1].isdigit()
        and g >= 0.5 * part.height
        and steps[i] >= WIDE_STEP * usual
        for i, g in enumerate(gaps)
    )


def _same_script(a: str, b: str) -> bool:
    def script(ch: str) -> str:
        if ch.isdigit():
            return "digit"
        if "\u30a1" <= ch <= "\u30fc":
            return "katakana"
        return "other"

    return script(a) == script(b) != "other"


SMALL_KANA = "ァィゥェォッャュョヮヵヶ"
LARGE_KANA = "アイウエオツヤユヨワカケ"
_TO_SMALL = str.maketrans(LARGE_KANA, SMALL_KANA)
_TO_LARGE = str.maketrans(SMALL_KANA, LARGE_KANA)
#: How large each large kana is written against typical katakana (√ of its ink
#: box's area), averaged over the installed handwriting and print faces; its
#: small form is about 0.8 of it in every face.
LARGE_SIZE = dict(
    zip(
        LARGE_KANA,
        (1.04, 1.01, 1.04, 0.94, 1.08, 1.01, 1.09, 0.92, 0.88, 0.97, 1.05, 1.10),
        strict=True,
    )
)
SMALL_BELOW, LARGE_ABOVE = 0.76, 0.9
"""A kana written under this share of its large form's usual size is the small one,
over that share the large one; in between the recogniser's reading stands, doubted.
(Handwriting varies each character's size by ±15 %; the small form is ~0.8.)"""


#: The kana a small kana may follow in a name (キョ, シュ, フィ, ウェ, ハッ ...).
SMALL_AFTER = {
    **dict.fromkeys("ャュョ", set("キシチニヒミリギジヂビピテデフヴ")),
    **dict.fromkeys("ァィゥェォ", set("ウヴクグシジスズチツテデトドフ")),
}


#: The kana a ッ may stand before: the k, s, t and p rows (ハットリ, イッペイ), voiced in loanwords.
SOKUON_BEFORE = set(
    "カキクケコサシスセソタチツテトパピプペポガギグゲゴザジズゼゾダヂヅデドバビブベボ"
)


def spell_small_kana(text: str) -> str:
    """``text`` with every small kana Japanese spelling does not allow made large."""
    return "".join(
        ch.translate(_TO_LARGE)
        if ch in SMALL_KANA
        and not small_kana_allowed(text[i - 1] if i else None, ch, text[i + 1 : i + 2] or None)
        else ch
        for i, ch in enumerate(text)
    )


def small_kana_allowed(prev: str | None, small: str, after: str | None) -> bool:
    """Whether Japanese spelling lets ``small`` stand between ``prev`` and ``after``.

    No word starts with a small kana; ャュョ follow an i-sound (キョウコ, not
    ツョシ), ァィゥェォ the few kana they extend (フィ, ウェ, not カェデ); ッ
    stands before a k, s, t or p sound (ハットリ, not タッヤ), never after ン or
    ー; ヮヵヶ are not written in names.
    """
    if prev is None or not ("\u30a1" <= prev <= "\u30fa"):
        return False
    if small == "ッ":
        return prev not in "ンッー" and after is not None and after in SOKUON_BEFORE
    allowed = SMALL_AFTER.get(small)
    return allowed is not None and prev in allowed


def kana_sizes(text: str, sizes: list[float]) -> tuple[str, float]:
    """Small or large kana (ョ/ヨ, ッ/ツ) decided by the size each was written at.

    Alone in a comb cell, a small kana looks like its large form to a line
    recogniser; its size against the field's other characters, and what its
    large form's size would be, tell them apart. Where Japanese spelling
    allows no small kana (ツョシ, カツャ, a word's first kana), it is large
    whatever its size.
    """
    text = spell_small_kana(text)
    if len(text) != len(sizes) or len(text) < 2:
        return text, 1.0
    pairs = set(SMALL_KANA + LARGE_KANA)
    others = [s for ch, s in zip(text, sizes, strict=True) if ch not in pairs and s > 0]
    if len(others) < 1:
        return text, 1.0
    usual = float(np.median(others))
    out: list[str] = []
    sure = 1.0
    for ch, size in zip(text, sizes, strict=True):
        if ch in pairs and usual > 0 and size > 0:
            large = ch.translate(_TO_LARGE)
            share = size / usual / LARGE_SIZE[large]
            at = len(out)
            small = large.translate(_TO_SMALL)
            if small == large or not small_kana_allowed(
                out[-1] if out else None, small, text[at + 1 : at + 2] or None
            ):
                ch = large  # no small kana can stand here
            elif share < SMALL_BELOW:
                ch = small
            elif share > LARGE_ABOVE:
                ch = large
            else:
                sure = min(sure, 0.6)
        out.append(ch)
    return "".join(out), sure


def _part_text(part: Part, results: list[Recognition]) -> tuple[str, float, list[float]]:
    texts, confs, chars = [], [], []
    for n, i in enumerate(part.segments):
        r = drop_spaces(results[i])
        r = with_dots(part, r)
        r = with_dashes(part, r)
        text, sure = with_space(part, r)
        if part.space == " " and digit_gaps(part, r):
            sure = min(sure, 0.6)
        if part.sizes and n < len(part.sizes):
            text, kana_sure = kana_sizes(text, part.sizes[n])
            sure = min(sure, kana_sure)
        texts.append(text)
        confs.append(min(r.confidence, sure))
        chars.extend(r.char_confidences)
    text = part.joiner.join(t for t in texts if t)
    confidence = min(confs) if confs else 1.0
    if part.cells is not None and len(text.replace("\u3000", "")) != part.cells:
        confidence = min(confidence, 0.3)  # one character per inked cell, or something is off
    return text, confidence, chars


def raw_text(spec: FieldSpec, texts: dict[str, str], era: str | None) -> str | None:
    """The field's raw text from its parts' texts (``None`` when nothing is written)."""
    if not any(texts.values()):
        return None
    if spec.kind is Kind.DATE:
        era_name = ERA_KANJI.get(era or "", "")
        y, m, d = texts.get("year", ""), texts.get("month", ""), texts.get("day", "")
        return f"{era_name}{y}年{m}月{d}日"
    if spec.parts:
        return spec.joiner.join(texts.get(p.name, "") for p in spec.parts)
    return texts.get("", "")


def finish_text(
    draft: Draft, results: list[Recognition], era: str | None, era_confidence: float = 1.0
) -> FieldValue:
    """The field value of a text draft once its segments are recognised."""
    from validators.normalize import InvalidValue, normalize_field

    spec = draft.spec
    if "blacked_out" in draft.flags:
        return FieldValue(spec.id, None, 0.0, "ocr", status="review", flags=list(draft.flags))
    texts: dict[str, str] = {}
    confs: list[float] = []
    chars: list[float] = []
    for part in draft.parts:
        text, conf, cc = _part_text(part, results)
        texts[part.name] = text
        if part.segments:
            confs.append(conf)
        chars.extend(cc)
    raw = raw_text(spec, texts, era)
    if raw is not None and spec.kind is Kind.KANA:
        raw = spell_small_kana(raw)
    twin_doubt = False
    if raw is not None and field_charset(spec) == text_charset():
        raw, twin_doubt = settle_twins(tidy_text(raw), registry().family_names)
        if spec.normalize != "name":
            raw = today_forms(raw)
    flags = list(draft.flags)
    if raw is None:
        # nothing written: as sure as the ink says
        conf = 1.0 - min(1.0, draft.ink_px / BOX_INK_MIN_PX) * 0.5
        status: FieldStatus = "review" if "corrected" in flags else "missing"
        return FieldValue(spec.id, None, conf, "ocr", raw=None, status=status, flags=flags)
    confidence = min(confs) if confs else 0.0
    if twin_doubt:
        confidence = min(confidence, 0.6)
    if spec.kind is Kind.DATE and spec.era_field:
        confidence = min(confidence, era_confidence)
    partial = spec.parts is not None and any(not t for t in texts.values())
    try:
        value = normalize_field(spec, raw)
        invalid = False
    except InvalidValue:
        value, invalid = raw, True
    if not invalid and spec.charset is CharsetName.PHONE and _planned(value):
        # where the hyphens go follows from the digits (the numbering plan): a hyphen
        # read weakly, or overlooked, is no doubt about the number
        confidence = _digits_sure(draft, results)
    if not invalid and not plausible(spec, value):
        confidence = min(confidence, 0.5)
    if not invalid and spec.allowed_values and isinstance(value, str):
        value, confidence = snap(spec, value, confidence)
    flagged = invalid or partial
    status = status_for(confidence, blank=False, flagged=flagged)
    return FieldValue(
        spec.id,
        value,
        confidence,
        "ocr",
        raw=raw,
        status=status,
        char_confidences=[round(c, 4) for c in chars],
        flags=flags,
    )


_PHONE = re.compile(r"0\d{1,4}-\d{1,4}-\d{3,4}")


def _planned(value: Any) -> bool:
    """Whether ``value`` is a phone number grouped as the numbering plan groups it."""
    from validators.normalize import on_numbering_plan

    return isinstance(value, str) and on_numbering_plan(value.replace("-", "")) == value


def _digits_sure(draft: Draft, results: list[Recognition]) -> float:
    """How sure the digits of a phone number's reading are, its hyphens aside."""
    sure = [1.0]
    for part in draft.parts:
        for i in part.segments:
            r = results[i]
            if len(r.char_confidences) != len(r.text):
                sure.append(r.confidence)
                continue
            sure.extend(c for ch, c in zip(r.text, r.char_confidences, strict=True) if ch != "-")
            sure.append(1.0 - r.doubt)
    return min(sure)


def plausible(spec: FieldSpec, value: Any) -> bool:
    """Whether a value has the shape its kind always has (else the reading is doubted).

    A Japanese phone number is three groups of 10 or 11 digits in all; a
    reading with two groups has almost always lost a hyphen. A person's name
    is a family name and a given name: one character alone is a stray stroke
    (a blank box's 一), not a name.
    """
    if spec.charset is CharsetName.PHONE and isinstance(value, str):
        return phone_shaped(value)
    if spec.normalize == "name" and isinstance(value, str):
        return len("".join(value.split())) >= 2
    return True


def phone_shaped(value: str) -> bool:
    """Three groups of 10 or 11 digits in all (078-123-4567, 090-1234-5678)."""
    return bool(_PHONE.fullmatch(value)) and sum(ch.isdigit() for ch in value) in (10, 11)


SNAP_MIN = 0.6
SNAP_MARGIN = 0.2


def snap(spec: FieldSpec, value: str, confidence: float) -> tuple[str, float]:
    """A reading of a closed list (特定疾病) taken to the listed value it is closest to.

    Only when the closest listed value is clearly closer than any other; a
    value far from every listed one (a disease not on the list) stays as read,
    for the rules to report. The wider the margin, the surer the reading --
    one spelled exactly as listed too: a misreading that lands exactly on a
    long listed name does not happen by chance.
    """
    from difflib import SequenceMatcher

    from validators.normalize import normalize_field

    allowed = [normalize_field(spec, v) for v in spec.allowed_values or []]
    if value in allowed and len(value) < 3:
        return value, confidence  # one or two characters land on a listed value by chance
    # a reading spelled exactly as listed is ranked like any other: it is 1.0 from itself
    ranked = sorted(
        ((SequenceMatcher(None, value, a).ratio(), a) for a in allowed if a), reverse=True
    )
    if not ranked:
        return value, confidence
    best, choice = ranked[0]
    runner = ranked[1][0] if len(ranked) > 1 else 0.0
    if best >= SNAP_MIN and best - runner >= SNAP_MARGIN:
        # the wider the margin over the next listed value, the surer the choice
        return choice, max(confidence, min(0.99, 0.6 + best - runner))
    return value, confidence


def era_of(spec: FieldSpec, values: dict[str, FieldValue]) -> tuple[str | None, float]:
    """The era of a date field: fixed on the form, or the option read in its ``era_field``."""
    if spec.era:
        return spec.era, 1.0
    if spec.era_field and spec.era_field in values:
        fv = values[spec.era_field]
        return (fv.value if isinstance(fv.value, str) else None), fv.confidence
    return None, 0.0


def finish_fields(plan: PagePlan, results: list[Recognition]) -> dict[str, FieldValue]:
    """Every field value of the page, in form order of the drafts after the OMR values."""
    values = dict(plan.values)
    for draft in plan.drafts:
        era, era_conf = era_of(draft.spec, values)
        values[draft.spec.id] = finish_text(draft, results, era, era_conf)
    return values


def is_digits_field(spec: FieldSpec) -> bool:
    return spec.charset in (CharsetName.DIGITS, CharsetName.PHONE)
