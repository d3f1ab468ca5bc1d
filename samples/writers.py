"""Scan files as a scanner writes them: multi-page PDF or TIFF, single-page PNG or JPEG.

Every writer is deterministic (no dates, no random ids), so the same pages
give the same bytes. PDF pages embed the page image as a scanner does:
JPEG (``DCTDecode``) for colour and gray, 1-bit ``FlateDecode`` for bilevel.
The PDF is written here directly (a few objects and an xref table) because
the PDF libraries at hand either stamp dates or re-encode the JPEG.
TIFF uses Group 4 for bilevel pages and JPEG compression otherwise.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Sequence
from typing import Literal

import cv2
import numpy as np
from PIL import Image

FileFormat = Literal["pdf", "tiff", "png", "jpeg"]
SUFFIX: dict[str, str] = {"pdf": ".pdf", "tiff": ".tif", "png": ".png", "jpeg": ".jpg"}
MULTI_PAGE: frozenset[str] = frozenset({"pdf", "tiff"})

Page = np.ndarray
"""A scanned page: RGB, gray, or bilevel (0/255) ``uint8``."""


def _is_bilevel(page: Page) -> bool:
    """Bilevel pages are 2-D arrays of 0/255 (see :func:`samples.scanner.scan`)."""
    if page.ndim != 2:
        return False
    # cheap test on a sample of rows before the full check
    sample = page[:: max(1, page.shape[0] // 64)]
    if np.count_nonzero((sample != 0) & (sample != 255)):
        return False
    return not np.count_nonzero((page != 0) & (page != 255))


def _jpeg(page: Page, quality: int) -> bytes:
    src = cv2.cvtColor(page, cv2.COLOR_RGB2BGR) if page.ndim == 3 else page
    ok, buf = cv2.imencode(".jpg", src, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return buf.tobytes()


def pdf_bytes(pages: Sequence[Page], dpi: Sequence[int], quality: Sequence[int]) -> bytes:
    """A PDF with one full-page image per page, sized by its dpi."""
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled below
    tree = add(b"")
    kids: list[int] = []
    for page, res, q in zip(pages, dpi, quality, strict=True):
        h, w = page.shape[:2]
        if _is_bilevel(page):
            bits = np.packbits(page > 0, axis=1).tobytes()
            data = zlib.compress(bits, 9)
            head = (
                f"<< /Type /XObject /Subtype /Image /Width {w} /Height {h} /ColorSpace /DeviceGray "
                f"/BitsPerComponent 1 /Filter /FlateDecode /Length {len(data)} >>"
            )
        else:
            data = _jpeg(page, q)
            space = "/DeviceRGB" if page.ndim == 3 else "/DeviceGray"
            head = (
                f"<< /Type /XObject /Subtype /Image /Width {w} /Height {h} /ColorSpace {space} "
                f"/BitsPerComponent 8 /Filter /DCTDecode /Length {len(data)} >>"
            )
        image = add(head.encode() + b"\nstream\n" + data + b"\nendstream")
        pw, ph = w * 72 / res, h * 72 / res
        draw = f"q {pw:.2f} 0 0 {ph:.2f} 0 0 cm /Im0 Do Q".encode()
        content = add(b"<< /Length %d >>\nstream\n" % len(draw) + draw + b"\nendstream")
        kids.append(
            add(
                f"<< /Type /Page /Parent {tree} 0 R /MediaBox [0 0 {pw:.2f} {ph:.2f}] "
                f"/Resources << /XObject << /Im0 {image} 0 R >> >> "
                f"/Contents {content} 0 R >>".encode()
            )
        )
    objects[catalog - 1] = f"<< /Type /Catalog /Pages {tree} 0 R >>".encode()
    refs = " ".join(f"{k} 0 R" for k in kids)
    objects[tree - 1] = f"<< /Type /Pages /Kids [{refs}] /Count {len(kids)} >>".encode()
    info = add(b"<< /Producer (shinsei sample scanner) >>")

    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(
        b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n"
        % (len(objects) + 1, catalog, info, xref)
    )
    return out.getvalue()


def _pil(page: Page) -> Image.Image:
    if _is_bilevel(page):
        return Image.fromarray(page).convert("1")
    return Image.fromarray(page, "RGB" if page.ndim == 3 else "L")


def tiff_bytes(pages: Sequence[Page], dpi: Sequence[int], quality: Sequence[int]) -> bytes:
    """A multi-page TIFF: Group 4 for bilevel pages, JPEG-in-TIFF for the others."""
    images = [_pil(p) for p in pages]
    out = io.BytesIO()
    # one compression per file: a scanner writes a whole batch in one mode
    compression = "group4" if all(im.mode == "1" for im in images) else "jpeg"
    if compression == "jpeg":
        images = [im.convert("L") if im.mode == "1" else im for im in images]
    extra = {"quality": int(min(quality))} if compression == "jpeg" else {}
    images[0].save(
        out,
        format="TIFF",
        save_all=True,
        append_images=images[1:],
        compression=compression,
        dpi=(dpi[0], dpi[0]),
        **extra,
    )
    return out.getvalue()


def png_bytes(page: Page, dpi: int) -> bytes:
    out = io.BytesIO()
    _pil(page).save(out, format="PNG", dpi=(dpi, dpi), optimize=False, compress_level=3)
    return out.getvalue()


def jpeg_bytes(page: Page, dpi: int, quality: int) -> bytes:
    out = io.BytesIO()
    im = _pil(page)
    if im.mode == "1":
        im = im.convert("L")
    im.save(out, format="JPEG", quality=int(quality), dpi=(dpi, dpi))
    return out.getvalue()


def encode(
    fmt: FileFormat, pages: Sequence[Page], dpi: Sequence[int], quality: Sequence[int]
) -> bytes:
    """The bytes of a scan file holding ``pages`` (one page only for PNG and JPEG)."""
    if fmt == "pdf":
        return pdf_bytes(pages, dpi, quality)
    if fmt == "tiff":
        return tiff_bytes(pages, dpi, quality)
    if len(pages) != 1:
        raise ValueError(f"a {fmt} file holds one page, not {len(pages)}")
    if fmt == "png":
        return png_bytes(pages[0], dpi[0])
    return jpeg_bytes(pages[0], dpi[0], quality[0])
