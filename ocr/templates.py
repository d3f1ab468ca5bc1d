"""The blank templates, prepared once per process for identification, cutting and OMR."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np

from forms.loader import form_dir, load_form, load_forms
from forms.schema import FormSpec
from ocr.align import structure_patches
from ocr.preprocess import INK_LEVEL, PRINT_LEVEL, SMALL, downscale, dropout_level

LAYOUT_SCALE = 0.125
"""Scale of the layout masks (37.5 dpi): enough to see table lines, cheap to compare."""


@dataclass
class Template:
    """One form's blank page and the masks derived from it (template pixels, 300 dpi)."""

    spec: FormSpec
    gray: np.ndarray
    printed: np.ndarray
    """``uint8`` 0/255: every printed pixel that is not drop-out ink, dilated by 2 px --
    what is whitened in a crop so that only the writing is left."""
    dropout: np.ndarray
    """``uint8`` 0/255: the drop-out ink's lines and text, dilated by 2 px (empty for a
    form printed in black) -- where a crop's pixels as light as the drop-out ink are
    whitened, keeping writing that crosses the lines."""
    dropout_level: int | None
    layout: np.ndarray
    """``float32`` 0..1 at :data:`LAYOUT_SCALE`: the printed structure (drop-out ink included)."""
    layout_black: np.ndarray
    """The same for black print only (what a bilevel drop-out scan still shows)."""
    patches: list[tuple[int, int]]
    """Busy patches for refining a rough alignment (:func:`ocr.align.refine`)."""
    known: np.ndarray
    """``bool`` at :data:`LAYOUT_SCALE`: where ink may be on this form -- its fields, QR
    code, marks and pre-print, a little beyond. Ink elsewhere means another layout."""
    qr_centre: tuple[float, float]
    """Centre of the QR code in template pixels: of the printed code when the blank has
    one (a fixed form QR), else of the QR box (a per-copy code is printed centred in it)."""

    @property
    def form_id(self) -> str:
        return self.spec.form_id

    def region(self, box: list[int] | tuple[int, int, int, int]) -> np.ndarray:
        x, y, w, h = box
        return self.gray[y : y + h, x : x + w]


def _layout(mask: np.ndarray) -> np.ndarray:
    small = cv2.resize(
        mask.astype(np.float32),
        None,
        fx=LAYOUT_SCALE,
        fy=LAYOUT_SCALE,
        interpolation=cv2.INTER_AREA,
    )
    return np.clip(small * 4, 0, 1)  # a 1-px line survives the downscale


def _known(spec: FormSpec) -> np.ndarray:
    w, h = spec.size
    mask = np.zeros((round(h * LAYOUT_SCALE), round(w * LAYOUT_SCALE)), np.uint8)
    marks = spec.registration_marks
    boxes = [b for f in spec.fields for b in f.boxes()]
    boxes += [spec.qr.box, marks.top_left, marks.top_right, marks.bottom_left, marks.bottom_right]
    boxes += list(spec.identify.get("preprint_regions") or [])
    grow = 40
    for x, y, bw, bh in boxes:
        x0, y0 = round((x - grow) * LAYOUT_SCALE), round((y - grow) * LAYOUT_SCALE)
        x1, y1 = round((x + bw + grow) * LAYOUT_SCALE), round((y + bh + grow) * LAYOUT_SCALE)
        mask[max(0, y0) : y1, max(0, x0) : x1] = 1
    return mask.astype(bool)


def _qr_centre(gray: np.ndarray, spec: FormSpec) -> tuple[float, float]:
    import zxingcpp

    x, y, w, h = spec.qr.box
    found = zxingcpp.read_barcodes(
        gray[y : y + h, x : x + w], formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    )
    if found:
        p = found[0].position
        corners = [p.top_left, p.top_right, p.bottom_right, p.bottom_left]
        return (x + sum(c.x for c in corners) / 4, y + sum(c.y for c in corners) / 4)
    return (x + w / 2 - 0.5, y + h / 2 - 0.5)


@cache
def template(form_id: str) -> Template:
    """The prepared template of ``form_id`` (cached; ~0.2 s the first time)."""
    spec = load_form(form_id)
    path = form_dir(form_id) / spec.template
    gray = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if gray is None:
        raise FileNotFoundError(f"template {path} cannot be read")
    level = dropout_level(spec.dropout_ink_rgb)
    black = gray < (level if level is not None else PRINT_LEVEL)
    kernel = np.ones((5, 5), np.uint8)
    printed = cv2.dilate(black.astype(np.uint8) * 255, kernel)
    dropout = cv2.dilate(((gray < PRINT_LEVEL) & ~black).astype(np.uint8) * 255, kernel)
    structure = gray < PRINT_LEVEL
    return Template(
        spec=spec,
        gray=gray,
        printed=printed,
        dropout=dropout,
        dropout_level=level,
        layout=_layout(structure),
        layout_black=_layout(gray < INK_LEVEL),
        patches=structure_patches(gray),
        known=_known(spec),
        qr_centre=_qr_centre(gray, spec),
    )


def templates() -> dict[str, Template]:
    """Every form's template, by form id."""
    return {fid: template(fid) for fid in load_forms()}


@cache
def small_template(form_id: str) -> np.ndarray:
    return downscale(template(form_id).gray, SMALL)
