"""Field crops made small enough to embed in a workbook by the thousand.

A crop cut from a 300 dpi page is often 600 px wide; in a cell it is shown
at about 240 × 56 px. Shrinking it to that size (never enlarging), turning it
grey and storing it as a 16-level PNG keeps handwriting legible at a few KB
per crop, so 1,000 documents fit in a workbook of a few MB.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

#: The box a crop is fitted into, in screen pixels.
MAX_WIDTH = 240
MAX_HEIGHT = 56


@dataclass(frozen=True)
class Thumbnail:
    """A crop ready to embed: PNG bytes and its size in pixels."""

    png: bytes
    width: int
    height: int


def thumbnail(path: Path, *, max_width: int = MAX_WIDTH, max_height: int = MAX_HEIGHT) -> Thumbnail:
    """The crop at ``path`` fitted into ``max_width`` × ``max_height``, grey, 16 levels.

    Raises :class:`OSError` when the file is missing or not an image.
    """
    try:
        with Image.open(path) as src:
            img = ImageOps.exif_transpose(src).convert("L")
    except UnidentifiedImageError as exc:
        raise OSError(f"{path}: not an image") from exc
    return fitted(img, max_width=max_width, max_height=max_height)


def page_thumbnails(
    path: Path,
    boxes: dict[str, tuple[int, int, int, int]],
    *,
    max_width: int = MAX_WIDTH,
    max_height: int = MAX_HEIGHT,
) -> dict[str, Thumbnail]:
    """The ``boxes`` (x, y, w, h in the page's pixels) of the page image at ``path``, fitted.

    The page is decoded once for all its boxes. Raises :class:`OSError` when
    the file is missing or not an image.
    """
    try:
        with Image.open(path) as src:
            page = src.convert("L")
    except UnidentifiedImageError as exc:
        raise OSError(f"{path}: not an image") from exc
    return {
        key: fitted(page.crop((x, y, x + w, y + h)), max_width=max_width, max_height=max_height)
        for key, (x, y, w, h) in boxes.items()
    }


def fitted(
    img: Image.Image, *, max_width: int = MAX_WIDTH, max_height: int = MAX_HEIGHT
) -> Thumbnail:
    """A grey image fitted into ``max_width`` × ``max_height`` (never enlarged), 16 levels."""
    scale = min(max_width / img.width, max_height / img.height, 1.0)
    if scale < 1.0:
        size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
        # reducing_gap: a fast box reduction first, then bilinear; sharp enough at this size.
        img = img.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    # 16 grey levels are plenty for ink on paper and shrink the PNG about threefold.
    img = img.quantize(colors=16, dither=Image.Dither.NONE)
    buf = io.BytesIO()
    # optimize=True would halve the speed for a few per cent of size.
    img.save(buf, format="PNG")
    return Thumbnail(png=buf.getvalue(), width=img.width, height=img.height)
