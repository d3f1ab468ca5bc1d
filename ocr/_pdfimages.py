"""The fast path for scanner PDFs: read the page tree and take each page's image as stored.

A scanner writes a PDF page as one full-page image: JPEG (``DCTDecode``) for
colour and gray, 1-bit ``FlateDecode`` for bilevel. Rendering such a page at
300 dpi with poppler costs ~0.45 s; reading the image's stream costs
milliseconds. This module reads just enough of the file -- the
cross-reference table, the page tree, each page's size and image objects --
to find those streams, with no subprocess at all (``pdfinfo`` and
``pdfimages`` cost ~20 ms each to start).

Anything it does not understand -- a cross-reference stream, encryption,
several images on a page, an image smaller than its page, a predictor, an
encoding other than JPEG or raw/Flate gray -- makes it give up for that
file or page, and poppler does the job (:mod:`ocr.io`), which is always
correct.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Ref = tuple[int, int]


@dataclass(frozen=True)
class Embedded:
    """One page's image as stored: JPEG bytes, or decoded 8-bit gray pixels."""

    width: int
    height: int
    color: bool
    ppi: float
    jpeg: bytes | None = None
    gray: np.ndarray | None = None
    bilevel: bool = False


@dataclass
class PdfLayout:
    """What the page tree says: page sizes (points), encryption, each page's one image."""

    page_sizes: list[tuple[float, float]]
    encrypted: bool = False
    images: dict[int, Embedded] = field(default_factory=dict)


# -- a small PDF object parser ------------------------------------------------------

_TOKEN = re.compile(
    rb"\s*(?:(<<)|(>>)|(\[)|(\])|/([^\s/<>\[\]()%{}]*)|(\d+)\s+(\d+)\s+R\b|"
    rb"([-+]?\d*\.?\d+)|(\((?:\\.|[^\\)])*\))|(<[0-9A-Fa-f\s]*>)|(true|false|null))"
)


class _Name(str):
    """A PDF name (``/DCTDecode``), told apart from a string."""


def _parse(text: bytes, pos: int = 0) -> tuple[Any, int]:
    """One PDF object from ``text`` at ``pos``: dict, list, _Name, int/float, Ref, bytes, None."""
    m = _TOKEN.match(text, pos)
    if m is None:
        raise ValueError("unreadable PDF object")
    end = m.end()
    if m.group(1):
        out: dict[str, Any] = {}
        while True:
            close = re.match(rb"\s*>>", text[end:])
            if close:
                return out, end + close.end()
            key, end = _parse(text, end)
            if not isinstance(key, _Name):
                raise ValueError("a PDF dictionary key must be a name")
            value, end = _parse(text, end)
            out[str(key)] = value
    if m.group(3):
        items: list[Any] = []
        while True:
            close = re.match(rb"\s*\]", text[end:])
            if close:
                return items, end + close.end()
            item, end = _parse(text, end)
            items.append(item)
    if m.group(5) is not None:
        return _Name(m.group(5).decode("latin-1")), end
    if m.group(6):
        return (int(m.group(6)), int(m.group(7))), end
    if m.group(8):
        number = m.group(8)
        return (float(number) if b"." in number else int(number)), end
    if m.group(9) or m.group(10):
        return (m.group(9) or m.group(10)), end
    if m.group(11):
        word = m.group(11)
        return {b"true": True, b"false": False}.get(word), end
    raise ValueError("unexpected PDF token")


class _Reader:
    """Objects of one PDF file, found through its classic cross-reference table."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.offsets: dict[Ref, int] = {}
        self.trailer: dict[str, Any] = {}
        self._read_xref()

    def _read_xref(self) -> None:
        data = self.data
        start = data.rfind(b"startxref")
        m = re.match(rb"startxref\s+(\d+)", data[start:]) if start >= 0 else None
        pos = int(m.group(1)) if m else -1
        seen: set[int] = set()
        while 0 <= pos < len(data) and pos not in seen:
            if data[pos : pos + 4] != b"xref":
                raise ValueError("no classic cross-reference table (an xref stream)")
            seen.add(pos)
            cursor = pos + 4
            while True:
                head = re.match(rb"\s*(\d+)\s+(\d+)\s*\r?\n", data[cursor : cursor + 40])
                if head is None:
                    break
                first, count = int(head.group(1)), int(head.group(2))
                cursor += head.end()
                for k in range(count):
                    row = data[cursor + 20 * k : cursor + 20 * k + 20]
                    if len(row) >= 18 and row[17:18] == b"n":
                        self.offsets.setdefault((first + k, int(row[11:16])), int(row[0:10]))
                cursor += 20 * count
            trailer = re.match(rb"\s*trailer\s*", data[cursor : cursor + 20])
            if trailer is None:
                raise ValueError("no trailer")
            value, _ = _parse(data, cursor + trailer.end())
            for key, item in value.items():
                self.trailer.setdefault(key, item)
            prev = value.get("Prev")
            pos = int(prev) if isinstance(prev, int) else -1

    def body(self, ref: Ref) -> int:
        """Offset just after ``n g obj``."""
        at = self.offsets.get(ref)
        if at is None and not self.trailer:
            # the fallback reader knows only the image: find other objects by search
            for hit in re.finditer(rb"(?<![0-9])%d\s+%d\s+obj\b" % ref, self.data):
                at = hit.start()
        if at is None:
            raise ValueError(f"object {ref} is not in the cross-reference table")
        m = re.match(rb"\s*%d\s+%d\s+obj\b" % ref, self.data[at : at + 40])
        if m is None:
            raise ValueError(f"object {ref} is not where the table says")
        return at + m.end()

    def get(self, value: Any) -> Any:
        """``value`` with an indirect reference resolved."""
        if isinstance(value, tuple):
            obj, _ = _parse(self.data, self.body(value))
            return obj
        return value

    def stream(self, ref: Ref) -> tuple[dict[str, Any], bytes]:
        start = self.body(ref)
        head, end = _parse(self.data, start)
        m = re.match(rb"\s*stream\r?\n", self.data[end : end + 12])
        if not isinstance(head, dict) or m is None:
            raise ValueError(f"object {ref} is not a stream")
        begin = end + m.end()
        length = self.get(head.get("Length"))
        if not isinstance(length, int):
            raise ValueError("stream without a length")
        if not self.data[begin + length : begin + length + 20].lstrip().startswith(b"endstream"):
            raise ValueError("stream length does not match")
        return head, self.data[begin : begin + length]


def _pages(
    reader: _Reader, node: Any, inherited: dict[str, Any], out: list[dict[str, Any]]
) -> None:
    node = reader.get(node)
    if not isinstance(node, dict) or len(out) > 10_000:
        raise ValueError("bad page tree")
    scope = dict(inherited)
    for key in ("MediaBox", "Resources", "Rotate"):
        if key in node:
            scope[key] = node[key]
    if node.get("Type") == "Pages":
        for kid in reader.get(node.get("Kids")) or []:
            _pages(reader, kid, scope, out)
    else:
        out.append(scope)


def _image(reader: _Reader, page: dict[str, Any], size: tuple[float, float]) -> Embedded | None:
    resources = reader.get(page.get("Resources")) or {}
    xobjects = reader.get(resources.get("XObject")) or {}
    if not isinstance(xobjects, dict) or len(xobjects) != 1:
        return None
    ref = next(iter(xobjects.values()))
    if not isinstance(ref, tuple):
        return None
    head, raw = reader.stream(ref)
    if head.get("Subtype") != "Image" or "DecodeParms" in head or "Decode" in head:
        return None  # a form XObject, predictors, inverted decode arrays: poppler's job
    if head.get("ImageMask") or "SMask" in head or "Mask" in head:
        return None
    w, h = reader.get(head.get("Width")), reader.get(head.get("Height"))
    bpc = reader.get(head.get("BitsPerComponent"))
    space = reader.get(head.get("ColorSpace"))
    if not (isinstance(w, int) and isinstance(h, int) and isinstance(bpc, int)):
        return None
    # the image must cover the page (same aspect) at 100 dpi or more
    w_pt, h_pt = size
    if w_pt <= 0 or h_pt <= 0 or abs(w / h - w_pt / h_pt) > 0.02 * (w_pt / h_pt):
        return None
    ppi = w / w_pt * 72
    if ppi < 100:
        return None
    filters = reader.get(head.get("Filter"))
    names = [str(f) for f in (filters if isinstance(filters, list) else [filters]) if f]
    if names == ["DCTDecode"] and space in ("DeviceRGB", "DeviceGray") and bpc == 8:
        return Embedded(w, h, space == "DeviceRGB", ppi, jpeg=raw)
    if names not in (["FlateDecode"], []) or space != "DeviceGray":
        return None
    pixels = zlib.decompress(raw) if names else raw
    if bpc == 1:
        stride = (w + 7) // 8
        if len(pixels) < stride * h:
            return None
        bits = np.frombuffer(pixels, np.uint8, stride * h).reshape(h, stride)
        gray = np.unpackbits(bits, axis=1)[:, :w] * np.uint8(255)
        return Embedded(w, h, False, ppi, gray=gray, bilevel=True)
    if bpc == 8 and len(pixels) >= w * h:
        gray = np.frombuffer(pixels, np.uint8, w * h).reshape(h, w).copy()
        return Embedded(w, h, False, ppi, gray=gray)
    return None


def read_layout(data: bytes) -> PdfLayout | None:
    """The page sizes and page images of a simple PDF; ``None`` to leave it to poppler."""
    try:
        reader = _Reader(data)
        if "Encrypt" in reader.trailer:
            return PdfLayout([], encrypted=True)
        root = reader.get(reader.trailer.get("Root"))
        pages: list[dict[str, Any]] = []
        _pages(reader, root.get("Pages"), {}, pages)
        sizes: list[tuple[float, float]] = []
        for page in pages:
            box = reader.get(page.get("MediaBox"))
            x0, y0, x1, y1 = (float(reader.get(v)) for v in box)
            size = (abs(x1 - x0), abs(y1 - y0))
            if int(reader.get(page.get("Rotate")) or 0) % 180:
                size = (size[1], size[0])
            sizes.append(size)
        layout = PdfLayout(sizes)
        for number, (page, size) in enumerate(zip(pages, sizes, strict=True), start=1):
            if int(reader.get(page.get("Rotate")) or 0) % 360:
                continue  # a rotated page: let poppler render it upright
            try:
                image = _image(reader, page, size)
            except (ValueError, zlib.error, KeyError, TypeError):
                image = None
            if image is not None:
                layout.images[number] = image
        return layout
    except (ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError):
        return None


# -- fallback: poppler lists the images, the streams are read from the file -----------

# page num type width height color comp bpc enc interp object ID x-ppi y-ppi size ratio
_ROW = re.compile(
    r"^\s*(?P<page>\d+)\s+\d+\s+(?P<type>\S+)\s+(?P<w>\d+)\s+(?P<h>\d+)\s+(?P<color>\S+)\s+"
    r"(?P<comp>\d+)\s+(?P<bpc>\d+)\s+(?P<enc>\S+)\s+\S+\s+(?P<obj>\d+)\s+(?P<gen>\d+)\s+"
    r"(?P<xppi>\d+)\s+(?P<yppi>\d+)"
)


def listed_images(path: str, data: bytes, sizes: list[tuple[float, float]]) -> dict[int, Embedded]:
    """Page images found with ``pdfimages -list`` (for files :func:`read_layout` gives up on).

    A stream object is never inside an object stream, so its ``n g obj`` header
    can be searched for even when the cross-reference table is a stream.
    """
    import subprocess

    try:
        out = subprocess.run(
            ["pdfimages", "-list", path], check=True, capture_output=True, timeout=60
        ).stdout.decode("latin-1")
    except (OSError, subprocess.SubprocessError):
        return {}
    rows: dict[int, list[dict[str, str]]] = {}
    for line in out.splitlines():
        m = _ROW.match(line)
        if m:
            rows.setdefault(int(m["page"]), []).append(m.groupdict())
    found: dict[int, Embedded] = {}
    for page, listed in rows.items():
        if len(listed) != 1 or listed[0]["type"] != "image" or page > len(sizes):
            continue
        ref = (int(listed[0]["obj"]), int(listed[0]["gen"]))
        hits = [h.start() for h in re.finditer(rb"(?<![0-9])%d\s+%d\s+obj\b" % ref, data)]
        if not hits:
            continue
        at = hits[-1]
        reader = _Reader.__new__(_Reader)
        reader.data, reader.offsets, reader.trailer = data, {ref: at}, {}
        try:
            fake_page = {"Resources": {"XObject": {"Im": ref}}}
            image = _image(reader, fake_page, sizes[page - 1])
        except (ValueError, zlib.error, KeyError, TypeError):
            image = None
        if image is not None:
            found[page] = image
    return found
