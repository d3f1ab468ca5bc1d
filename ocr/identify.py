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
   black (the 申請者番号 digits, the name), and ink in all of them counts
   as the form's layout.
3. **A QR code anywhere** on a page without marks, then feature alignment.

Anything else is not a form page: blank, unusable, or an attachment
(:mod:`ocr.attachments`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

import cv2
import numpy as np

from ocr.align import Alignment, align_features, cut, find_marks, mark_hypotheses
from ocr.io import Page
from ocr.preprocess import INK_LEVEL, PRINT_LEVEL, SMALL, downscale, page_quality
from ocr.templates import LAYOUT_SCALE, Template, small_template

LAYOUT_MIN = 0.6
"""Share of a template's printed structure a page must show to be that form."""
LAYOUT_MARGIN = 0.15
"""...and by how much it must beat the next form."""
PREPRINT_INK = 0.01
"""Ink share of a pre-print region that counts as printed."""

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

    results = zxingcpp.read_barcodes(region, formats=zxingcpp.BarcodeFormat.QRCode)
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
        if regions:
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


def identify_page(page: Page, forms: dict[str, Template]) -> PageReading:
    """Identify one page (see the module docstring for the order of evidence)."""
    gray = page.gray
    small = downscale(gray, SMALL)
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
        hyps.extend(mark_hypotheses(found, marks, landscape))
    if hyps:
        qr = _qr_on(gray, hyps, forms)
        if qr is not None:
            alignment, text, fid, key = qr
            reading.kind, reading.form_id, reading.alignment = "form", fid, alignment
            reading.method, reading.qr_text, reading.qr_key = "qr", text, key
            return reading
        by_layout = _by_layout(gray, hyps, forms)
        if by_layout is not None:
            alignment, fid, scores = by_layout
            reading.kind, reading.form_id, reading.alignment = "form", fid, alignment
            reading.method, reading.scores = "layout", scores
            return reading
    # No marks to go by: a QR code anywhere on the page, then features.
    for text in decode_qr(downscale(gray, 0.5)):
        match = match_qr(text, forms)
        if match is None:
            continue
        fid, key = match
        alignment = align_features(small, small_template(fid))
        reading.kind, reading.form_id, reading.method = "form", fid, "qr"
        reading.qr_text, reading.qr_key = text, key
        if alignment is None or not alignment.ok:
            reading.problem = "位置合わせができません（登録マークが読み取れません）"
        else:
            reading.alignment = alignment
        return reading
    return reading
