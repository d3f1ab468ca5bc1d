"""Reading scan files: PDF (via poppler), multi-page TIFF, PNG and JPEG.

Every problem with a file becomes a :class:`BadInputError` that names the
file and says what is wrong, before any large allocation happens: a page's
pixel count is checked from the header, so a decompression bomb is refused
without being decoded.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image, UnidentifiedImageError

from shinsei.config import settings
from shinsei.errors import BadInputError

FileKind = Literal["pdf", "tiff", "png", "jpeg"]
SUFFIXES = {".pdf", ".tif", ".tiff", ".png", ".jpg", ".jpeg"}

#: Pages are rendered at the templates' resolution.
RENDER_DPI = 300


@dataclass(frozen=True)
class FileInfo:
    """What the header of a scan file says: its kind and each page's size in pixels."""

    kind: FileKind
    page_sizes: list[tuple[int, int]]


def sniff(path: Path, head: bytes) -> FileKind:
    """The file's kind from its first bytes (never from its name)."""
    if not head:
        raise BadInputError(str(path), "the file is empty (0 bytes)")
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    raise BadInputError(str(path), "not a scan this office accepts (PDF, TIFF, PNG or JPEG)")


def _check_pixels(path: Path, page: int, width: int, height: int, limit: int) -> None:
    if width <= 0 or height <= 0:
        raise BadInputError(str(path), f"page {page} has no pixels ({width}×{height})")
    if width * height > limit:
        raise BadInputError(
            str(path),
            f"page {page} is {width}×{height} pixels, over the limit of {limit:,} "
            "(a damaged file or a decompression bomb; rescan at 200–300 dpi)",
        )


def _pdf_info(path: Path) -> dict[str, object]:
    from pdf2image import pdfinfo_from_path
    from pdf2image.exceptions import PDFInfoNotInstalledError, PDFPageCountError, PDFSyntaxError

    try:
        return pdfinfo_from_path(str(path), rawdates=True)
    except PDFInfoNotInstalledError as exc:
        raise RuntimeError(
            "poppler-utils is not installed (apt-get install poppler-utils)"
        ) from exc
    except (PDFPageCountError, PDFSyntaxError) as exc:
        text = str(exc).lower()
        if "password" in text or "encrypt" in text:
            raise BadInputError(str(path), "the PDF is encrypted (password protected)") from None
        raise BadInputError(str(path), "the PDF is damaged or truncated") from None


def probe(path: Path) -> FileInfo:
    """Check a scan file from its header; raise :class:`BadInputError` if it cannot be used."""
    limit = settings().max_pixels
    try:
        with path.open("rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise BadInputError(str(path), f"cannot be read ({exc.strerror})") from None
    kind = sniff(path, head)
    if kind == "pdf":
        info = _pdf_info(path)
        if str(info.get("Encrypted", "no")).startswith("yes"):
            raise BadInputError(str(path), "the PDF is encrypted (password protected)")
        count = int(str(info.get("Pages", 0)))
        if count == 0:
            raise BadInputError(str(path), "the PDF has no pages")
        # "Page size: 595.276 x 841.89 pts (A4)" -- the largest page decides.
        size = str(info.get("Page size", "595 x 842 pts")).split()
        try:
            w_pt, h_pt = float(size[0]), float(size[2])
        except (IndexError, ValueError):
            raise BadInputError(str(path), "the PDF has no readable page size") from None
        w, h = round(w_pt / 72 * RENDER_DPI), round(h_pt / 72 * RENDER_DPI)
        _check_pixels(path, 1, w, h, limit)
        return FileInfo(kind, [(w, h)] * count)
    sizes: list[tuple[int, int]] = []
    # Only the header is read here; lift Pillow's own bomb check so the
    # message can give the page's size against our limit.
    pil_limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                frames = getattr(img, "n_frames", 1)
                for i in range(frames):
                    img.seek(i)
                    _check_pixels(path, i + 1, img.width, img.height, limit)
                    sizes.append((img.width, img.height))
    except Image.DecompressionBombError:
        raise BadInputError(str(path), f"the image is over the pixel limit of {limit:,}") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise BadInputError(str(path), f"the {kind.upper()} image is damaged ({exc})") from None
    finally:
        Image.MAX_IMAGE_PIXELS = pil_limit
    return FileInfo(kind, sizes)


def load_pages(path: Path, info: FileInfo | None = None) -> Iterator[np.ndarray]:
    """Yield every page as an RGB ``uint8`` array (PDF pages rendered at 300 dpi)."""
    info = info or probe(path)
    if info.kind == "pdf":
        from pdf2image import convert_from_path

        for page_no in range(1, len(info.page_sizes) + 1):
            try:
                rendered = convert_from_path(
                    str(path), dpi=RENDER_DPI, first_page=page_no, last_page=page_no
                )
            except Exception as exc:  # poppler reports damage in many ways
                raise BadInputError(
                    str(path), f"page {page_no} cannot be rendered ({exc})"
                ) from None
            if not rendered:
                raise BadInputError(str(path), f"page {page_no} cannot be rendered")
            yield np.asarray(rendered[0].convert("RGB"))
        return
    try:
        with Image.open(path) as img:
            for i in range(getattr(img, "n_frames", 1)):
                img.seek(i)
                yield np.asarray(img.convert("RGB"))
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise BadInputError(str(path), f"the image is damaged ({exc})") from None
