"""What a sheet feeder does to paper: skew, shift, noise, blur, light, resolution, mode.

:func:`scan` turns a clean 300 dpi page (RGB) into what the scanner stores:
one affine resample does skew, small shift and scale and the change to the
scan resolution at once (fast), then uneven lighting, sensor noise and
blur, then the colour mode. A bilevel scan of a drop-out form thresholds the
channel in which the drop-out ink is brightest, so the printed red lines
vanish exactly as on a real drop-out scanner. Everything random comes from
the :class:`ScanSettings` drawn with :func:`draw_settings`.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from typing import Any, Literal

import cv2
import numpy as np

ScanMode = Literal["color", "gray", "bilevel"]
Image = np.ndarray
"""An RGB (H×W×3) or gray/bilevel (H×W) ``uint8`` page."""

TEMPLATE_DPI = 300


@dataclass(frozen=True)
class ScanSettings:
    """How one page was scanned (recorded in the truth's generator extras)."""

    mode: ScanMode
    dpi: int
    skew_deg: float = 0.0
    shift: tuple[float, float] = (0.0, 0.0)
    """Translation as a fraction of the page width/height."""
    scale: float = 1.0
    rotation: int = 0
    """0, 90, 180 or 270: how the page lay in the feeder (180 = upside down)."""
    noise: float = 0.0
    blur: float = 0.0
    light: float = 0.0
    """Depth of the uneven lighting (0 = even)."""
    threshold: int = 160
    jpeg_quality: int = 85
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def clean_settings(mode: ScanMode = "color", dpi: int = 300) -> ScanSettings:
    """A perfect scan: no skew, no noise (the ``--clean`` option)."""
    return ScanSettings(mode=mode, dpi=dpi, jpeg_quality=92)


def draw_settings(
    rng: random.Random,
    *,
    mode: ScanMode,
    dpi: int,
    rotation: int = 0,
    rough: float = 1.0,
) -> ScanSettings:
    """Random but realistic scanner settings; ``rough`` scales every defect (0 = clean)."""
    skew = rng.gauss(0.0, 1.0)
    if rng.random() < 0.08:
        skew = rng.choice([-1, 1]) * rng.uniform(3.0, 5.0)
    skew = max(-5.0, min(5.0, skew))
    return ScanSettings(
        mode=mode,
        dpi=dpi,
        skew_deg=round(skew * rough, 3),
        shift=(
            round(rng.uniform(-0.01, 0.01) * rough, 4),
            round(rng.uniform(-0.01, 0.01) * rough, 4),
        ),
        scale=round(1.0 + rng.uniform(-0.015, 0.015) * rough, 4),
        rotation=rotation,
        noise=round(rng.uniform(0.8, 2.2) * rough, 2),
        blur=round(rng.choice([0.0, 0.4, 0.6, 0.8, 1.0]) * rough, 2),
        light=round(rng.uniform(0.0, 0.12) * rough, 3),
        threshold=rng.randint(150, 175),
        jpeg_quality=rng.randint(60, 85),
        seed=rng.randrange(2**31),
    )


def _noise_tile(rng: np.random.Generator, sigma: float) -> Image:
    """Sensor noise around 128 (one 256-pixel tile, repeated from a random offset)."""
    tile = rng.standard_normal((256, 256), dtype=np.float32) * sigma + 128.0
    return np.clip(tile + 0.5, 0, 255).astype(np.uint8)


def scan(
    page: Image, settings: ScanSettings, dropout_rgb: tuple[int, int, int] | None = None
) -> Image:
    """The stored image of ``page`` (300 dpi RGB): RGB, gray (H×W) or bilevel (H×W of 0/255)."""
    s = settings
    rng = np.random.default_rng(s.seed)
    h, w = page.shape[:2]
    f = s.dpi / TEMPLATE_DPI
    out_w, out_h = round(w * f), round(h * f)
    # one affine resample: rotate by the skew about the centre, scale, shift, change dpi
    m = cv2.getRotationMatrix2D((w / 2, h / 2), s.skew_deg, s.scale).astype(np.float64)
    m[0, 2] += s.shift[0] * w
    m[1, 2] += s.shift[1] * h
    m = m * f
    paper = (244, 244, 241)
    if s.mode == "bilevel":
        # a drop-out scanner looks through the colour the form is printed in
        if dropout_rgb is not None:
            channel = int(np.argmax(dropout_rgb))
            src = np.ascontiguousarray(page[:, :, channel])
        else:
            src = cv2.cvtColor(page, cv2.COLOR_RGB2GRAY)
        img = cv2.warpAffine(src, m, (out_w, out_h), flags=cv2.INTER_LINEAR, borderValue=255)
    else:
        src = page if s.mode == "color" else cv2.cvtColor(page, cv2.COLOR_RGB2GRAY)
        border: Any = paper if s.mode == "color" else 243
        img = cv2.warpAffine(src, m, (out_w, out_h), flags=cv2.INTER_LINEAR, borderValue=border)

    # uint8 OpenCV arithmetic throughout (saturating, vectorised): float copies of a
    # 300 dpi colour page cost more than all the effects together
    # paper is never pure white under a scanner lamp, and the lamp is never even
    gain = 0.955 if s.mode != "bilevel" else 1.0
    if s.light > 0 or gain < 1.0:
        field = rng.uniform(1.0 - s.light, 1.0, size=(6, 4)).astype(np.float32) * 255.0 * gain
        # smooth at 1/16 scale, then a cheap uint8 upscale to the page
        small = cv2.resize(field, (out_w // 16 + 1, out_h // 16 + 1), interpolation=cv2.INTER_CUBIC)
        small = np.clip(small + 0.5, 0, 255).astype(np.uint8)
        big = cv2.resize(small, (out_w, out_h), interpolation=cv2.INTER_LINEAR)
        if img.ndim == 3:
            big = cv2.merge([big, big, big])
        img = cv2.multiply(img, big, scale=1.0 / 255.0)
    if s.noise > 0:
        tile = _noise_tile(rng, s.noise)
        reps = (out_h // 256 + 2, out_w // 256 + 2)
        oy, ox = int(rng.integers(0, 256)), int(rng.integers(0, 256))
        noise = np.tile(tile, reps)[oy : oy + out_h, ox : ox + out_w]
        if img.ndim == 3:
            noise = cv2.merge([noise, noise, noise])
        img = cv2.addWeighted(img, 1.0, noise, 1.0, -128.0)
    if s.blur > 0:
        img = cv2.GaussianBlur(img, (0, 0), s.blur * f)
    out = cv2.threshold(img, s.threshold, 255, cv2.THRESH_BINARY)[1] if s.mode == "bilevel" else img
    if s.rotation:
        out = np.ascontiguousarray(np.rot90(out, k=-(s.rotation // 90)))
    return out
