"""A comparator engine: Tesseract with its Japanese model (Debian ``tesseract-ocr-jpn``).

Each crop is recognised as one text line (``--psm 7``) by the ``tesseract``
command. Short charsets (digits, phone, kana) are passed as Tesseract's
whitelist; the JIS X 0213 text charset is too long for that, so characters
outside it are dropped from the result. Confidence is Tesseract's word
confidence (0..100) scaled to 0..1, the lowest word's counting.
"""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np

from ocr.engine import Charset, Recognition, per_crop
from shinsei.errors import EngineNotInstalledError

NAME = "tesseract"
HINT = "apt-get install tesseract-ocr tesseract-ocr-jpn"
WHITELIST_MAX = 200


class TesseractEngine:
    """Tesseract ``jpn`` through its command line, one process per crop, two at a time."""

    name = NAME

    def __init__(self, binary: str | None = None) -> None:
        found = binary or shutil.which("tesseract")
        if found is None:
            raise EngineNotInstalledError(f"the tesseract engine needs Tesseract ({HINT})")
        langs = subprocess.run([found, "--list-langs"], capture_output=True, text=True).stdout
        if "jpn" not in langs.split():
            raise EngineNotInstalledError(f"Tesseract has no Japanese model ({HINT})")
        self.binary = found

    def _one(self, crop: np.ndarray, charset: Charset) -> Recognition:
        pad = max(4, crop.shape[0] // 4)
        img = cv2.copyMakeBorder(crop, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=255)
        ok, png = cv2.imencode(".png", img)
        if not ok:
            return Recognition("", 0.0, [])
        cmd = [self.binary, "stdin", "stdout", "-l", "jpn", "--psm", "7"]
        if charset is not None and len(charset) <= WHITELIST_MAX:
            cmd += ["-c", f"tessedit_char_whitelist={charset}"]
        cmd += ["tsv"]
        out = subprocess.run(cmd, input=png.tobytes(), capture_output=True, timeout=60).stdout
        words, confs = [], []
        for row in csv.DictReader(io.StringIO(out.decode("utf-8", "replace")), delimiter="\t"):
            text = (row.get("text") or "").strip()
            if row.get("level") == "5" and text:
                words.append(text)
                confs.append(max(0.0, float(row.get("conf") or 0)) / 100.0)
        text = "".join(words)
        if charset is not None:
            allowed = set(charset)
            text = "".join(ch for ch in text if ch in allowed)
        conf = min(confs) if confs and text else 0.0
        return Recognition(text, conf, [conf] * len(text))

    def recognize(
        self,
        crops: Sequence[np.ndarray],
        charset: Charset | Sequence[Charset] = None,
        lengths: Sequence[int | None] | None = None,
        lattices: Sequence[bool] | None = None,
    ) -> list[Recognition]:
        """See :class:`ocr.engine.OcrEngine` (``lengths`` and ``lattices`` are not used)."""
        charsets = per_crop(charset, len(crops))
        with ThreadPoolExecutor(max_workers=2) as pool:
            return list(pool.map(self._one, crops, charsets))


def create() -> TesseractEngine:
    return TesseractEngine()
