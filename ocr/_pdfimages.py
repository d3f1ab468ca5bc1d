"""The fast path for scanner PDFs: take each page's one image out as stored.

A scanner writes a PDF page as one full-page image: JPEG (``DCTDecode``) for
colour and gray, 1-bit ``FlateDecode`` (or CCITT) for bilevel. Rendering such
a page at 300 dpi with poppler costs ~0.45 s; reading the image's stream
costs milliseconds. ``pdfimages -list`` (poppler) says which image object is
on which page and where it is placed; the stream is then read from the file
directly (a stream object is never inside an object stream, so ``N G obj``
finds it). Anything unusual -- several images on a page, a predictor, an
encoding other than JPEG or raw/Flate, an image that does not cover the page
-- is left to rendering, which is always correct.
"""

from __future__ import annotations

import re
import subprocess
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# page num type width height color comp bpc enc interp object ID x-ppi y-ppi size ratio
_ROW = re.compile(
    r"^\s*(?P<page>\d+)\s+\d+\s+(?P<type>\S+)\s+(?P<w>\d+)\s+(?P<h>\d+)\s+(?P<color>\S+)\s+"
    r"(?P<comp>\d+)\s+(?P<bpc>\d+)\s+(?P<enc>\S+)\s+\S+\s+(?P<obj>\d+)\s+(?P<gen>\d+)\s+"
    r"(?P<xppi>\d+)\s+(?P<yppi>\d+)"
)


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


def _list(path: Path) -> list[dict[str, str]]:
    try:
        out = subprocess.run(
            ["pdfimages", "-list", str(path)], check=True, capture_output=True, timeout=60
        ).stdout.decode("latin-1")
    except (OSError, subprocess.SubprocessError):
        return []
    return [m.groupdict() for line in out.splitlines() if (m := _ROW.match(line))]


def _object(data: bytes, number: int, gen: int) -> int | None:
    """Offset of the last definition of object ``number gen``."""
    found = None
    for m in re.finditer(rb"(?<![0-9])%d\s+%d\s+obj\b" % (number, gen), data):
        found = m.end()
    return found


def _stream(data: bytes, number: int, gen: int) -> tuple[bytes, bytes] | None:
    """The dictionary text and the raw stream bytes of an object."""
    start = _object(data, number, gen)
    if start is None:
        return None
    head_end = data.find(b"stream", start)
    if head_end < 0:
        return None
    head = data[start:head_end]
    body = head_end + len(b"stream")
    if data[body : body + 2] == b"\r\n":
        body += 2
    elif data[body : body + 1] in (b"\n", b"\r"):
        body += 1
    length_ref = re.search(rb"/Length\s+(\d+)\s+(\d+)\s+R", head)
    length_num = re.search(rb"/Length\s+(\d+)", head)
    length: int | None = None
    if length_ref:
        ref = _object(data, int(length_ref.group(1)), int(length_ref.group(2)))
        if ref is not None and (m := re.match(rb"\s*(\d+)", data[ref:])):
            length = int(m.group(1))
    elif length_num:
        length = int(length_num.group(1))
    if length is None or not data[body + length : body + length + 20].lstrip().startswith(
        b"endstream"
    ):
        end = data.find(b"endstream", body)
        if end < 0:
            return None
        length = len(data[body:end].rstrip(b"\r\n"))
    return head, data[body : body + length]


def _filters(head: bytes) -> list[bytes]:
    m = re.search(rb"/Filter\s*(\[[^\]]*\]|/\w+)", head)
    return re.findall(rb"/(\w+)", m.group(1)) if m else []


def _decode(row: dict[str, str], head: bytes, raw: bytes) -> Embedded | None:
    w, h, bpc, comp = int(row["w"]), int(row["h"]), int(row["bpc"]), int(row["comp"])
    color = row["color"] not in ("gray", "index")
    ppi = float(row["xppi"])
    filters = _filters(head)
    if b"/DecodeParms" in head or b"/Decode " in head or b"/Decode[" in head:
        return None  # predictors, inverted decode arrays: let poppler do it
    if filters == [b"DCTDecode"]:
        return Embedded(w, h, color, ppi, jpeg=raw)
    if filters not in ([b"FlateDecode"], []) or comp != 1 or row["color"] != "gray":
        return None
    pixels = zlib.decompress(raw) if filters else raw
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


def embedded_pages(path: Path, page_sizes_pt: list[tuple[float, float]]) -> dict[int, Embedded]:
    """Pages (1-based) that are exactly one image covering the page, with that image."""
    rows = _list(path)
    by_page: dict[int, list[dict[str, str]]] = {}
    for row in rows:
        by_page.setdefault(int(row["page"]), []).append(row)
    if not by_page:
        return {}
    data = path.read_bytes()
    out: dict[int, Embedded] = {}
    for page, page_rows in by_page.items():
        if len(page_rows) != 1 or page_rows[0]["type"] != "image" or page > len(page_sizes_pt):
            continue
        row = page_rows[0]
        w_pt, h_pt = page_sizes_pt[page - 1]
        xppi, yppi = float(row["xppi"]), float(row["yppi"])
        if xppi < 100 or yppi < 100:
            continue
        # the image must cover the page: its size at its placement ppi is the page size
        if abs(int(row["w"]) / xppi * 72 - w_pt) > 0.02 * w_pt:
            continue
        if abs(int(row["h"]) / yppi * 72 - h_pt) > 0.02 * h_pt:
            continue
        stream = _stream(data, int(row["obj"]), int(row["gen"]))
        if stream is None:
            continue
        try:
            image = _decode(row, *stream)
        except (zlib.error, ValueError):
            image = None
        if image is not None:
            out[page] = image
    return out
