"""An optional engine: the ``paddleocr`` package itself, with a local model folder.

Install with ``pip install 'shinsei[paddle]'`` and point
``SHINSEI_PADDLE_MODEL_DIR`` at an exported PP-OCR recognition model folder
(``inference.json``/``inference.pdmodel``, ``inference.pdiparams``,
``inference.yml``). Nothing is ever downloaded: without a local folder the
engine refuses to start.

``paddleocr``'s ``TextRecognition`` returns text and a score, not the
per-step probabilities, so the charset cannot mask classes before decoding
as the ``onnx`` engine does: characters outside the field's charset are
dropped from the result and the confidence is halved when that happens.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import yaml

from ocr.engine import Charset, Recognition, per_crop
from shinsei.errors import EngineNotInstalledError

NAME = "paddle"
HINT = (
    "pip install 'shinsei[paddle]' and set SHINSEI_PADDLE_MODEL_DIR to a local PP-OCR "
    "recognition model folder (inference.json or inference.pdmodel, inference.pdiparams, "
    "inference.yml)"
)


def model_dir() -> Path:
    value = os.environ.get("SHINSEI_PADDLE_MODEL_DIR")
    if not value:
        raise EngineNotInstalledError(f"the paddle engine needs a local model folder ({HINT})")
    path = Path(value)
    if not (path / "inference.yml").is_file() or not (path / "inference.pdiparams").is_file():
        raise EngineNotInstalledError(f"{path} is not a PP-OCR model folder ({HINT})")
    return path


def check() -> None:
    """Raise :class:`EngineNotInstalledError` as building the engine would, without loading it."""
    if importlib.util.find_spec("paddleocr") is None:
        raise EngineNotInstalledError(f"the paddle engine is not installed ({HINT})")
    model_dir()


class PaddleEngine:
    """PP-OCR recognition through ``paddleocr.TextRecognition`` on a local model."""

    name = NAME

    def __init__(self) -> None:
        try:
            from paddleocr import TextRecognition
        except ImportError:
            raise EngineNotInstalledError(f"the paddle engine is not installed ({HINT})") from None
        folder = model_dir()
        config = yaml.safe_load((folder / "inference.yml").read_text(encoding="utf-8")) or {}
        model_name = (config.get("Global") or {}).get("model_name")
        self.model: Any = TextRecognition(model_name=model_name, model_dir=str(folder))

    def recognize(
        self,
        crops: Sequence[np.ndarray],
        charset: Charset | Sequence[Charset] = None,
        lengths: Sequence[int | None] | None = None,
        lattices: Sequence[bool] | None = None,
    ) -> list[Recognition]:
        """See :class:`ocr.engine.OcrEngine` (``lengths`` and ``lattices`` are not used)."""
        charsets = per_crop(charset, len(crops))
        if not crops:
            return []
        images = [cv2.cvtColor(c, cv2.COLOR_GRAY2BGR) if c.ndim == 2 else c for c in crops]
        out: list[Recognition] = []
        results = self.model.predict(input=images, batch_size=16)
        for res, cs in zip(results, charsets, strict=True):
            text, score = str(res["rec_text"]), float(res["rec_score"])
            if cs is not None:
                kept = "".join(ch for ch in text if ch in set(cs))
                if kept != text:
                    text, score = kept, score * 0.5
            out.append(Recognition(text, score, [score] * len(text)))
        return out


def create() -> PaddleEngine:
    return PaddleEngine()
