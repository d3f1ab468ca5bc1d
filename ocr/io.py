"""Reading scan files: PDF (via poppler), multi-page TIFF, PNG and JPEG.

:func:`read_pages` is what the reader uses: pages as luminance arrays, with a
fast path for scanner PDFs (one JPEG per page, taken out as stored instead
of rendered). :func:`load_pages` gives RGB arrays for everyone else.

Every problem with a file becomes a :class:`BadInputError` that names the
file and says what is wrong, before any large allocation happens: a page's
pixel count is checked from the header, so a decompression bomb is refused
without being decoded.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
import simplejpeg
from PIL import Image, UnidentifiedImageError

from ocr._pdfimages import Embedded, PdfLayout, listed_images, read_layout
from ocr.preprocess import SMALL, downscale
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
    layout: PdfLayout | None = field(default=None, compare=False, repr=False)
    """A PDF's page tree as read by :mod:`ocr._pdfimages` (kept for :func:`read_pages`)."""


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


def _pdf_layout(path: Path) -> FileInfo | None:
    """A PDF's pages from its own page tree, without starting poppler (most scanner PDFs)."""
    try:
        layout = read_layout(path.read_bytes())
    except OSError:
        return None
    if layout is None:
        return None
    if layout.encrypted:
        raise BadInputError(str(path), "the PDF is encrypted (password protected)")
    if not layout.page_sizes:
        raise BadInputError(str(path), "the PDF has no pages")
    sizes = [(round(w / 72 * RENDER_DPI), round(h / 72 * RENDER_DPI)) for w, h in layout.page_sizes]
    limit = settings().max_pixels
    for number, (w, h) in enumerate(sizes, start=1):
        _check_pixels(path, number, w, h, limit)
    return FileInfo("pdf", sizes, layout)


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
        fast = _pdf_layout(path)
        if fast is not None:
            return fast
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


def decode_jpeg(data: bytes, *, color: bool = False) -> np.ndarray | None:
    """JPEG data to luminance (``color``: to RGB), ``None`` when it cannot be decoded.

    libjpeg-turbo through simplejpeg first: measured on the 300 dpi A4 pages
    of the throughput benchmark, 10 ms a page to luminance and 17 ms to RGB,
    against 19 and 45 ms through OpenCV's ``imdecode``, pixel for pixel the
    same. What it refuses -- a stream it reports damaged, a CMYK page -- is
    handed to OpenCV, the decoder used before it.
    """
    try:
        image = simplejpeg.decode_jpeg(data, colorspace="RGB" if color else "GRAY")
    except ValueError:
        flag = cv2.IMREAD_COLOR if color else cv2.IMREAD_GRAYSCALE
        decoded = cv2.imdecode(np.frombuffer(data, np.uint8), flag)
        if decoded is None or not color:
            return decoded
        return cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB)
    return image if color else image[:, :, 0]


@dataclass
class Page:
    """One page of a scan as the reader sees it.

    ``gray`` is the luminance, ``uint8``, dark ink low. ``mode`` is what the
    scanner delivered (``color``, ``gray`` or ``bilevel``). Colour is decoded
    only when needed (:meth:`color`): libjpeg decodes straight to luminance
    in a third of the time, and only a drop-out form needs the colour. ``dpi``
    is the scan's resolution when known (from the PDF page size or the image
    header).
    """

    number: int
    gray: np.ndarray
    mode: Literal["color", "gray", "bilevel"]
    dpi: float | None = None
    rgb: np.ndarray | None = None
    source: Literal["embedded", "rendered", "image"] = "image"
    jpeg: bytes | None = field(default=None, repr=False)
    """The page's JPEG data, kept to decode its colour later."""
    _small: np.ndarray | None = field(default=None, repr=False)

    def color(self) -> np.ndarray | None:
        """The page in RGB (decoded now if needed), ``None`` for a gray or bilevel scan."""
        if self.mode != "color":
            return None
        if self.rgb is None and self.jpeg is not None:
            self.rgb = decode_jpeg(self.jpeg, color=True)
        return self.rgb

    def channel(self, index: int) -> np.ndarray | None:
        """One colour channel (0 red, 1 green, 2 blue), ``None`` for a gray or bilevel scan.

        Taken straight from the decoded JPEG when the colour is not kept: a
        drop-out form needs one channel, not the page in RGB.
        """
        if self.mode != "color":
            return None
        rgb = self.rgb
        if rgb is None and self.jpeg is not None:
            rgb = decode_jpeg(self.jpeg, color=True)
        return None if rgb is None else cv2.extractChannel(rgb, index)

    def small(self) -> np.ndarray:
        """The luminance at :data:`ocr.preprocess.SMALL` scale (computed once)."""
        if self._small is None:
            self._small = downscale(self.gray, SMALL)
        return self._small


def _mode_of(pil_mode: str) -> Literal["color", "gray", "bilevel"]:
    if pil_mode == "1":
        return "bilevel"
    if pil_mode in ("L", "LA", "I", "I;16", "F"):
        return "gray"
    return "color"


def _embedded_page(
    path: Path, number: int, image: Embedded, limit: int, *, color: bool
) -> Page | None:
    """Decode a page's stored image; ``None`` when it cannot be (poppler then renders it)."""
    _check_pixels(path, number, image.width, image.height, limit)
    rgb = None
    if image.jpeg is not None:
        # libjpeg straight to luminance skips the colour conversion.
        gray = decode_jpeg(image.jpeg)
        if color and image.color:
            rgb = decode_jpeg(image.jpeg, color=True)
    else:
        gray = image.gray
    if gray is None or gray.shape != (image.height, image.width):
        return None
    mode: Literal["color", "gray", "bilevel"] = (
        "bilevel" if image.bilevel else "color" if image.color else "gray"
    )
    keep = image.jpeg if image.color and rgb is None else None
    return Page(number, gray, mode, image.ppi, rgb, "embedded", keep)


def read_pages(path: Path, info: FileInfo | None = None, *, color: bool = False) -> list[Page]:
    """Every page of a scan file, decoded for reading; :class:`BadInputError` if it cannot be.

    PDF pages that are one full-page image are taken out as stored (the fast
    path, :mod:`ocr._pdfimages`); other PDF pages are rendered at 300 dpi
    with poppler.
    """
    info = info or probe(path)
    limit = settings().max_pixels
    if info.kind != "pdf":
        return list(_image_pages(path, info, limit, color=color))
    data = path.read_bytes()
    layout = info.layout or read_layout(data)
    if layout is not None and len(layout.page_sizes) == len(info.page_sizes):
        embedded = layout.images
    else:
        sizes_pt = [(w / RENDER_DPI * 72, h / RENDER_DPI * 72) for w, h in info.page_sizes]
        embedded = listed_images(str(path), data, sizes_pt)
    out: list[Page] = []
    for number in range(1, len(info.page_sizes) + 1):
        image = embedded.get(number)
        page = None
        if image is not None:
            page = _embedded_page(path, number, image, limit, color=color)
        out.append(page or _render_page(path, number, color=color))
    return out


def _render_page(path: Path, number: int, *, color: bool) -> Page:
    from pdf2image import convert_from_path

    try:
        rendered = convert_from_path(str(path), dpi=RENDER_DPI, first_page=number, last_page=number)
    except Exception as exc:  # poppler reports damage in many ways
        raise BadInputError(str(path), f"page {number} cannot be rendered ({exc})") from None
    if not rendered:
        raise BadInputError(str(path), f"page {number} cannot be rendered")
    rgb = np.asarray(rendered[0].convert("RGB"))
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    return Page(number, gray, "color", float(RENDER_DPI), rgb, "rendered")


def _jpeg_page(path: Path, limit: int, *, color: bool) -> Page:
    """A JPEG file: header checked with PIL, pixels decoded by libjpeg (straight to luminance)."""
    with Image.open(path) as img:
        _check_pixels(path, 1, img.width, img.height, limit)
        mode = _mode_of(img.mode)
        dpi = img.info.get("dpi", (None,))[0]
    data = path.read_bytes()
    gray = decode_jpeg(data)
    if gray is None:
        raise OSError("the JPEG data cannot be decoded")
    page = Page(
        1, gray, mode, float(dpi) if dpi else None, None, "image", data if mode == "color" else None
    )
    if color:
        page.color()
    return page


def _image_pages(path: Path, info: FileInfo, limit: int, *, color: bool) -> Iterator[Page]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            if info.kind == "jpeg":
                yield _jpeg_page(path, limit, color=color)
                return
            with Image.open(path) as img:
                for i in range(getattr(img, "n_frames", 1)):
                    img.seek(i)
                    _check_pixels(path, i + 1, img.width, img.height, limit)
                    mode = _mode_of(img.mode)
                    dpi = img.info.get("dpi", (None,))[0]
                    # PIL decodes colour anyway: keep it for a drop-out form
                    rgb = np.asarray(img.convert("RGB")) if mode == "color" else None
                    gray = np.asarray(img.convert("L"))
                    yield Page(i + 1, gray, mode, float(dpi) if dpi else None, rgb)
    except Image.DecompressionBombError:
        raise BadInputError(str(path), f"the image is over the pixel limit of {limit:,}") from None
    except (OSError, SyntaxError, ValueError, EOFError, UnidentifiedImageError) as exc:
        raise BadInputError(str(path), f"the image is damaged ({exc})") from None


def load_pages(path: Path, info: FileInfo | None = None) -> Iterator[np.ndarray]:
    """Yield every page as an RGB ``uint8`` array (PDF pages at 300 dpi or as embedded)."""
    for page in read_pages(path, info, color=True):
        yield page.rgb if page.rgb is not None else cv2.cvtColor(page.gray, cv2.COLOR_GRAY2RGB)
