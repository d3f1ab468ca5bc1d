"""Field pictures for the review workbook: from a saved crop, or cut from the aligned page."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from forms.loader import load_form
from review.images import MAX_HEIGHT, MAX_WIDTH, page_thumbnails, thumbnail


def _page(path: Path, size: tuple[int, int], ink: dict[str, tuple[int, int, int, int]]) -> None:
    page = Image.new("L", size, 255)
    draw = ImageDraw.Draw(page)
    for x, y, w, h in ink.values():
        draw.rectangle((x + 12, y + 12, x + w // 2, y + h - 12), fill=0)  # writing in the box
    page.save(path, quality=80)


def _pixels(png: bytes, path: Path) -> np.ndarray:
    path.write_bytes(png)
    with Image.open(path) as img:
        return np.asarray(img.convert("L"), dtype=int)


@pytest.mark.parametrize("form_id", ["kyufukin", "kaigo_nintei"])
def test_fields_cut_from_the_page_look_like_their_saved_crops(form_id: str, tmp_path: Path) -> None:
    form = load_form(form_id)
    size = (form.size[0], form.size[1])
    boxes = {f.id: f.crop_box(size) for f in form.fields[:12]}
    page = tmp_path / "page.jpg"
    _page(page, size, boxes)

    cut = page_thumbnails(page, boxes)

    assert set(cut) == set(boxes)
    with Image.open(page) as full:
        for fid, (x, y, w, h) in boxes.items():
            crop = tmp_path / f"{fid}.png"
            full.crop((x, y, x + w, y + h)).save(crop)
            want = thumbnail(crop)
            got = cut[fid]
            assert (got.width, got.height) == (want.width, want.height), fid
            assert got.width <= MAX_WIDTH and got.height <= MAX_HEIGHT
            diff = np.abs(
                _pixels(got.png, tmp_path / "a.png") - _pixels(want.png, tmp_path / "b.png")
            )
            assert diff.mean() < 12, fid  # the same picture, give or take the JPEG and the scaling
            assert _pixels(got.png, tmp_path / "a.png").min() < 100, fid  # the writing is there


def test_a_page_that_is_not_an_image_is_an_error_naming_it(tmp_path: Path) -> None:
    page = tmp_path / "page.jpg"
    page.write_bytes(b"not a jpeg")
    with pytest.raises(OSError, match="page.jpg"):
        page_thumbnails(page, {"name": (0, 0, 100, 50)})
