"""Which form is on a page, which way up, and how it maps onto its template.

Order of evidence, cheapest and surest first:

1. **Registration marks + QR code.** The four corner squares give a map per
   possible orientation (:func:`ocr.align.mark_hypotheses`); the QR area of
   each form is cut through each map and decoded with zxing-cpp. A payload
   matching a form's ``qr.pattern`` names the form, the orientation (the
   hypothesis under which the QR was found) and, where the pattern has a
   ``key`` group, the applicant number.
2. **Layout.** Without a readable QR code, the page is cut through each map
   at 37.5 dpi and compared with each template: the share of the template's
   printed structure (drop-out ink included) found on the page. A bilevel
   drop-out scan shows no structure; for such a form, form.yaml's
   ``identify: preprint_regions`` lists regions the city always prints in
   black (the 申請者番号 digits, the name): ink in all of them, and almost
   none outside the form's fields, counts as the form's layout.
3. **A QR code anywhere** on a page without marks, then feature alignment.

Anything else is not a form page: blank, unusable, or an attachment
(:mod:`ocr.attachments`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

import cv2
import numpy as np

from ocr.align import (
    _TURNS,
    CORNERS,
    TEMPLATE_SHORT_SIDE,
    Alignment,
    Corner,
    align_features,
    cut,
    find_marks,
    fit_similarity,
    mark_hypotheses,
    refine,
)
from ocr.io import Page
from ocr.preprocess import INK_LEVEL, PRINT_LEVEL, downscale, page_quality
from ocr.templates import LAYOUT_SCALE, Template, small_template

LAYOUT_MIN = 0.6
"""Share of a template's printed structure a page must show to be that form."""
LAYOUT_MARGIN = 0.15
"""...and by how much it must beat the next form."""
PREPRINT_INK = 0.01
"""Ink share of a pre-print region that counts as printed."""
STRAY_INK = 0.1
"""Share of a page's ink allowed outside a drop-out form's fields and pre-print."""


def _qr_formats() -> Any:
    import zxingcpp

    return zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)


PageKind = Literal["form", "blank", "unusable", "id_copy", "passbook_copy", "other"]


@dataclass
class PageReading:
    """What identification found on one page."""

    number: int
    kind: PageKind
    form_id: str | None = None
    alignment: Alignment | None = None
    method: Literal["qr", "layout", "none"] = "none"
    qr_text: str | None = None
    qr_key: str | None = None
    scores: dict[str, float] = field(default_factory=dict)
    ink_ratio: float = 0.0
    problem: str | None = None
    """Why a form page cannot be read (no alignment), or why a page is unusable."""


def decode_qr(region: np.ndarray) -> list[str]:
    """Texts of the QR codes in an image region."""
    import zxingcpp

    results = zxingcpp.read_barcodes(region, formats=_qr_formats())
    return [r.text for r in results if r.valid]


def match_qr(text: str, forms: dict[str, Template]) -> tuple[str, str | None] | None:
    """The form whose QR pattern ``text`` matches, and the key the payload holds."""
    for fid, tpl in forms.items():
        m = re.fullmatch(tpl.spec.qr.pattern, text)
        if m:
            key = m.groupdict().get("key")
            return fid, key
    return None


def _grow(box: list[int], frac: float) -> list[int]:
    x, y, w, h = box
    dx, dy = round(w * frac), round(h * frac)
    return [x - dx, y - dy, w + 2 * dx, h + 2 * dy]


def _qr_on(
    gray: np.ndarray, hyps: list[Alignment], forms: dict[str, Template]
) -> tuple[Alignment, str, str, str | None] | None:
    """Decode the QR area under every orientation hypothesis; the first match wins."""
    boxes = {tuple(t.spec.qr.box) for t in forms.values()}
    for alignment in hyps:
        for box in boxes:
            region = cut(gray, alignment, _grow(list(box), 0.15))
            for text in decode_qr(region):
                match = match_qr(text, forms)
                if match:
                    return alignment, text, match[0], match[1]
    return None


def _only_where_expected(small: np.ndarray, tpl: Template) -> bool:
    """Whether the page's ink lies where the form has fields or pre-print (a drop-out scan
    of this form), not on lines of another layout.
    """
    ink = small < INK_LEVEL
    total = int(ink.sum())
    if total == 0:
        return False
    stray = int((ink & ~tpl.known[: ink.shape[0], : ink.shape[1]]).sum())
    return stray <= STRAY_INK * total


def layout_scores(
    gray: np.ndarray, alignment: Alignment, forms: dict[str, Template]
) -> dict[str, float]:
    """How well the page under ``alignment`` shows each form's printed layout (0..1)."""
    scores: dict[str, float] = {}
    for fid, tpl in forms.items():
        w, h = tpl.spec.size
        small = cut(gray, alignment, [0, 0, w, h], scale=LAYOUT_SCALE)
        page = cv2.dilate((small < PRINT_LEVEL).astype(np.uint8), np.ones((3, 3), np.uint8))
        structure = tpl.layout > 0.5
        score = float(page[structure].mean()) if structure.any() else 0.0
        regions = tpl.spec.identify.get("preprint_regions") or []
        if regions and _only_where_expected(small, tpl):
            inked = 0
            for box in regions:
                region = cut(gray, alignment, box, scale=0.5)
                inked += float((region < INK_LEVEL).mean()) >= PREPRINT_INK
            score = max(score, inked / len(regions) if inked == len(regions) else 0.0)
        scores[fid] = score
    return scores


def _by_layout(
    gray: np.ndarray, hyps: list[Alignment], forms: dict[str, Template]
) -> tuple[Alignment, str, dict[str, float]] | None:
    best: tuple[float, Alignment, str, dict[str, float]] | None = None
    for alignment in hyps:
        scores = layout_scores(gray, alignment, forms)
        ranked = sorted(scores.items(), key=lambda kv: -kv[1])
        top_id, top = ranked[0]
        runner = ranked[1][1] if len(ranked) > 1 else 0.0
        if top >= LAYOUT_MIN and top - runner >= LAYOUT_MARGIN and (best is None or top > best[0]):
            best = (top, alignment, top_id, scores)
    return None if best is None else (best[1], best[2], best[3])


def _checked(gray: np.ndarray, alignment: Alignment, tpl: Template) -> Alignment:
    """An alignment from fewer than three whole marks, corrected by the form's print.

    Two marks (or marks the page edge cut, whose centres are estimates) fix the
    map less surely; where the form prints structure in black, phase
    correlation of its busiest patches corrects it (:func:`ocr.align.refine`).
    """
    if alignment.marks >= 3 and alignment.residual < 1.0:
        return alignment
    refined = refine(gray, alignment, tpl.gray, tpl.patches)
    if refined is not None and refined.residual <= 3.0:
        return refined
    return alignment


def identify_page(page: Page, forms: dict[str, Template]) -> PageReading:
    """Identify one page (see the module docstring for the order of evidence)."""
    gray = page.gray
    small = page.small()
    quality = page_quality(small)
    reading = PageReading(page.number, "other", ink_ratio=quality.ink_ratio)
    if quality.unusable:
        reading.kind, reading.problem = "unusable", quality.unusable
        return reading
    if quality.blank:
        reading.kind = "blank"
        return reading
    landscape = gray.shape[1] > gray.shape[0]
    found = find_marks(gray, small)
    hyps: list[Alignment] = []
    for marks in {
        id(t.spec.registration_marks): t.spec.registration_marks for t in forms.values()
    }.values():
        hyps.extend(mark_hypotheses(found, marks, landscape, (gray.shape[1], gray.shape[0])))
    if hyps:
        qr = _qr_on(gray, hyps, forms)
        if qr is not None:
            reading.kind, reading.form_id = "form", qr[2]
            reading.alignment = _checked(gray, qr[0], forms[qr[2]])
            text, key = qr[1], qr[3]
            reading.method, reading.qr_text, reading.qr_key = "qr", text, key
            return reading
        by_layout = _by_layout(gray, hyps, forms)
        if by_layout is not None:
            reading.kind, reading.form_id = "form", by_layout[1]
            reading.alignment = _checked(gray, by_layout[0], forms[by_layout[1]])
            reading.method, reading.scores = "layout", by_layout[2]
            return reading
    # Too few marks: a QR code anywhere on the page; with one mark it registers the
    # page (mark + QR centre), else features do.
    hit = qr_anywhere(gray)
    if hit is None:
        return reading
    text, centre, orientation = hit
    match = match_qr(text, forms)
    if match is None:
        return reading
    fid, key = match
    tpl = forms[fid]
    reading.kind, reading.form_id, reading.method = "form", fid, "qr"
    reading.qr_text, reading.qr_key = text, key
    alignment: Alignment | None = mark_and_qr(
        found, tpl, centre, orientation, (gray.shape[1], gray.shape[0])
    )
    if alignment is None:
        alignment = align_features(small, small_template(fid))
        if alignment is not None:
            alignment = refine(gray, alignment, tpl.gray, tpl.patches)
    if alignment is None or not alignment.ok:
        reading.problem = "位置合わせができません（登録マークが読み取れません）"
    else:
        reading.alignment = alignment
    return reading


def qr_anywhere(gray: np.ndarray) -> tuple[str, tuple[float, float], int] | None:
    """A QR code anywhere on the page: its text, centre (page pixels) and rotation (degrees cw)."""
    import zxingcpp

    half = downscale(gray, 0.5)
    for r in zxingcpp.read_barcodes(half, formats=_qr_formats()):
        if not r.valid:
            continue
        p = r.position
        corners = [p.top_left, p.top_right, p.bottom_right, p.bottom_left]
        cx = sum(c.x for c in corners) / 4 * 2
        cy = sum(c.y for c in corners) / 4 * 2
        # the centre again at full resolution, for registration
        side = max(abs(p.top_right.x - p.top_left.x), abs(p.bottom_left.y - p.top_left.y)) * 2
        m = int(side * 0.8) + 20
        x0, y0 = max(0, int(cx) - m), max(0, int(cy) - m)
        region = gray[y0 : int(cy) + m, x0 : int(cx) + m]
        for fine in zxingcpp.read_barcodes(region, formats=_qr_formats()):
            if fine.valid and fine.text == r.text:
                q = fine.position
                pts = [q.top_left, q.top_right, q.bottom_right, q.bottom_left]
                cx = x0 + sum(c.x for c in pts) / 4
                cy = y0 + sum(c.y for c in pts) / 4
                break
        return r.text, (cx, cy), int(r.orientation)
    return None


def mark_and_qr(
    found: dict[Corner, tuple[float, float]],
    tpl: Template,
    qr_centre: tuple[float, float],
    orientation: int,
    page_size: tuple[int, int],
) -> Alignment | None:
    """A similarity map from one registration mark and the QR code's centre.

    A strongly skewed sheet loses corners outside the scan; one mark that is
    left and the QR code (whose rotation gives the orientation) still register
    it. The map is accepted only at the page's expected scale (±4 %).
    """
    if not found:
        return None
    turn = round(orientation / 90) % 4 * 90
    centres = dict(zip(CORNERS, tpl.spec.registration_marks.centers(), strict=True))
    expected = min(page_size) / TEMPLATE_SHORT_SIDE
    for corner, page_point in found.items():
        tpl_corner = next(c for c in CORNERS if _TURNS[turn][c] == corner)
        cx, cy = centres[tpl_corner]
        src = np.array([[cx - 0.5, cy - 0.5], tpl.qr_centre])
        dst = np.array([page_point, qr_centre])
        matrix = fit_similarity(src, dst)
        scale = float(np.hypot(matrix[0, 0], matrix[1, 0]))
        if abs(scale / expected - 1) <= 0.04:
            return Alignment(matrix, 0.0, "marks", turn, 1)
    return None
