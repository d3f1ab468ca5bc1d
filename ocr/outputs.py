"""Images a person looks at: field crops, the aligned page, and overlays.

* Field crops (``FieldValue.crop``) are what the review spreadsheet shows beside
  each cell: the field's region cut from the aligned page, form print and all,
  as PNG under ``<crops_dir>/<document id>/<field id>.png``.
* The aligned page is the form page warped onto its template (JPEG).
* An overlay is the aligned page with every region boxed and the reading --
  value and confidence -- drawn beside it, green for ``ok``, orange for
  ``review``, grey for ``missing``: what a person looks at to see why a field
  was misread (``shinsei extract --overlays DIR``).

Relative paths are stored when the folder is inside the data directory
(``SHINSEI_DATA_DIR``), so the ledger and the spreadsheet stay portable.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ocr.align import cut
from ocr.regions import union
from shinsei.config import settings
from shinsei.privacy import mask_field

if TYPE_CHECKING:
    from ocr.pipeline import Options, Plan

FONT = "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf"
COLORS = {"ok": (20, 150, 40), "review": (230, 120, 0), "missing": (140, 140, 140)}


def _relative(path: Path) -> str:
    data = settings().data_dir
    try:
        return str(path.resolve().relative_to(data))
    except ValueError:
        return str(path)


def aligned_page(plan: Plan) -> np.ndarray:
    """The form page warped onto its template (template pixels)."""
    assert plan.page is not None and plan.reading is not None and plan.reading.alignment
    assert plan.tpl is not None
    w, h = plan.tpl.spec.size
    return cut(plan.page.gray, plan.reading.alignment, [0, 0, w, h])


@cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype(FONT, size)
    except OSError:
        return ImageFont.load_default()


def _label(value: Any, field_id: str) -> str:
    if value is None:
        return "—"
    text = ",".join(map(str, value)) if isinstance(value, list) else str(value)
    return str(mask_field(field_id, text))


def overlay(plan: Plan, page: np.ndarray) -> Image.Image:
    """The aligned page with every field boxed and its reading beside it."""
    assert plan.tpl is not None
    img = Image.fromarray(cv2.cvtColor(page, cv2.COLOR_GRAY2RGB))
    draw = ImageDraw.Draw(img)
    font = _font(26)
    for spec in plan.tpl.spec.fields:
        fv = plan.doc.fields.get(spec.id)
        if fv is None:
            continue
        color = COLORS.get(fv.status, (200, 0, 0))
        for x, y, w, h in spec.boxes():
            draw.rectangle([x, y, x + w, y + h], outline=color, width=3)
        x, y, w, h = union(spec.boxes())
        text = f"{spec.id}: {_label(fv.value, spec.id)} ({fv.confidence:.2f})"
        if fv.flags:
            text += " [" + ",".join(fv.flags) + "]"
        tx, ty = x, max(0, y - 30)
        bbox = draw.textbbox((tx, ty), text, font=font)
        draw.rectangle(bbox, fill=(255, 255, 255))
        draw.text((tx, ty), text, fill=color, font=font)
    return img


def write_outputs(plan: Plan, options: Options) -> None:
    """Write what ``options`` asks for; set ``FieldValue.crop`` for saved crops."""
    if plan.page is None or plan.reading is None or plan.reading.alignment is None:
        return
    assert plan.tpl is not None
    doc = plan.doc
    name = doc.id[:16] or Path(doc.file).stem
    page = aligned_page(plan)
    if options.crops_dir:
        folder = Path(options.crops_dir) / name
        folder.mkdir(parents=True, exist_ok=True)
        size = (plan.tpl.spec.size[0], plan.tpl.spec.size[1])
        relative = Path(_relative(folder))
        for spec in plan.tpl.spec.fields:
            fv = doc.fields.get(spec.id)
            if fv is None:
                continue
            x, y, w, h = spec.crop_box(size)
            cv2.imwrite(str(folder / f"{spec.id}.png"), page[y : y + h, x : x + w])
            fv.crop = str(relative / f"{spec.id}.png")
    if options.page_dir:
        folder = Path(options.page_dir)
        folder.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(folder / f"{name}.jpg"), page, [cv2.IMWRITE_JPEG_QUALITY, 80])
    if options.overlays_dir:
        folder = Path(options.overlays_dir)
        folder.mkdir(parents=True, exist_ok=True)
        overlay(plan, page).save(folder / f"{Path(doc.file).stem}.jpg", quality=80)
