"""Registration: map template pixels to page pixels, and cut regions through the map.

Both forms print four solid 5 mm squares near the corners. They are found on
the downscaled page, their centres refined at full resolution, and an affine
map (template → page) is fitted to the four centres by least squares; its RMS
error in template pixels is the *residual* reported with the document. Four
marks over-determine an affine map (8 equations, 6 unknowns), so a mark
found in the wrong place shows up as a large residual. With three marks the
map is exact and the residual unknown (0 is reported with ``marks=3``).

The squares are symmetric, so they fix the page only up to a quarter turn:
:func:`mark_hypotheses` gives one map per possible orientation (0/180° for a
portrait page, 90/270° for a landscape one) and the QR code or the layout
decides (:mod:`ocr.identify`). Pages are never rotated or warped as a whole:
each region is cut through the map (:func:`cut`), which also undoes skew.

When the marks are not found, ORB features of the page are matched against
the template (:func:`align_features`); a page that neither can align goes to
review instead of being read blindly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from forms.schema import RegistrationMarks
from ocr.preprocess import INK_LEVEL, SMALL

MARK_MM = 5.0
A4_WIDTH_MM = 210.0
MAX_RESIDUAL = 6.0
"""An alignment worse than this (template px, 300 dpi: 0.5 mm) is not trusted."""

Corner = Literal["top_left", "top_right", "bottom_left", "bottom_right"]
CORNERS: tuple[Corner, ...] = ("top_left", "top_right", "bottom_left", "bottom_right")

# Where each template corner lands on the page when the form is turned
# clockwise by 0/90/180/270 degrees.
_TURNS: dict[int, dict[Corner, Corner]] = {
    0: {c: c for c in CORNERS},
    90: {
        "top_left": "top_right",
        "top_right": "bottom_right",
        "bottom_right": "bottom_left",
        "bottom_left": "top_left",
    },
    180: {
        "top_left": "bottom_right",
        "top_right": "bottom_left",
        "bottom_right": "top_left",
        "bottom_left": "top_right",
    },
    270: {
        "top_left": "bottom_left",
        "top_right": "top_left",
        "bottom_right": "top_right",
        "bottom_left": "bottom_right",
    },
}


@dataclass
class Alignment:
    """A map from template pixels to page pixels (``matrix`` is 2×3 affine or 3×3 homography)."""

    matrix: np.ndarray
    residual: float
    method: Literal["marks", "features"]
    rotation: int
    """How far the form is turned on the page, clockwise degrees (0, 90, 180, 270)."""
    marks: int = 4

    @property
    def ok(self) -> bool:
        return self.residual <= MAX_RESIDUAL

    def homography(self) -> np.ndarray:
        if self.matrix.shape == (3, 3):
            return self.matrix
        return np.vstack([self.matrix, [0.0, 0.0, 1.0]])

    def to_page(self, points: np.ndarray) -> np.ndarray:
        """Template points ``[N, 2]`` → page points."""
        pts = np.asarray(points, np.float64).reshape(-1, 1, 2)
        return cv2.perspectiveTransform(pts, self.homography()).reshape(-1, 2)

    def scale(self) -> float:
        """Page pixels per template pixel (about dpi / 300)."""
        a = self.homography()[:2, :2]
        return float(np.sqrt(abs(np.linalg.det(a))))


def find_marks(
    gray: np.ndarray, small: np.ndarray | None = None
) -> dict[Corner, tuple[float, float]]:
    """Centres (page pixels) of the registration squares found near each page corner."""
    if small is None:
        small = cv2.resize(gray, None, fx=SMALL, fy=SMALL, interpolation=cv2.INTER_AREA)
    sh, sw = small.shape
    scale_x, scale_y = gray.shape[1] / sw, gray.shape[0] / sh
    # Marks are 5 mm; the short side of an A4 page is 210 mm.
    side = MARK_MM * min(sh, sw) / A4_WIDTH_MM
    ink = (small < INK_LEVEL).astype(np.uint8)
    rx, ry = int(sw * 0.2), int(sh * 0.2)
    regions: dict[Corner, tuple[int, int, int, int]] = {
        "top_left": (0, 0, rx, ry),
        "top_right": (sw - rx, 0, rx, ry),
        "bottom_left": (0, sh - ry, rx, ry),
        "bottom_right": (sw - rx, sh - ry, rx, ry),
    }
    found: dict[Corner, tuple[float, float]] = {}
    for corner, (x0, y0, w, h) in regions.items():
        n, _, stats, cents = cv2.connectedComponentsWithStats(ink[y0 : y0 + h, x0 : x0 + w], 8)
        cx = 0 if "left" in corner else w
        cy = 0 if "top" in corner else h
        best: tuple[float, int] | None = None
        for i in range(1, n):
            bx, by, bw, bh, area = stats[i]
            if not (0.6 * side <= bw <= 1.6 * side and 0.6 * side <= bh <= 1.6 * side):
                continue
            if area < 0.7 * bw * bh or not 0.7 <= bw / bh <= 1.4:
                continue
            px, py = x0 + bx, y0 + by
            if px == 0 or py == 0 or px + bw >= sw or py + bh >= sh:
                continue  # touching the page edge: a scanner shadow, not a mark
            d = float(np.hypot(cents[i][0] - cx, cents[i][1] - cy))
            if best is None or d < best[0]:
                best = (d, i)
        if best is None:
            continue
        i = best[1]
        bx, by, bw, bh, _ = stats[i]
        found[corner] = _refine(
            gray, (x0 + bx) * scale_x, (y0 + by) * scale_y, bw * scale_x, bh * scale_y
        )
    return found


def _refine(gray: np.ndarray, x: float, y: float, w: float, h: float) -> tuple[float, float]:
    """The centroid of the mark at full resolution, around its low-resolution box."""
    m = max(w, h) * 0.4
    x0, y0 = max(0, int(x - m)), max(0, int(y - m))
    x1, y1 = min(gray.shape[1], int(x + w + m)), min(gray.shape[0], int(y + h + m))
    win = gray[y0:y1, x0:x1]
    ink = (win < INK_LEVEL).astype(np.uint8)
    n, labels, stats, cents = cv2.connectedComponentsWithStats(ink, 8)
    if n <= 1:
        return (x + w / 2, y + h / 2)
    i = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    return (x0 + float(cents[i][0]), y0 + float(cents[i][1]))


def fit_affine(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, float]:
    """Least-squares affine map src → dst and its RMS error measured in src units."""
    n = len(src)
    a = np.hstack([src, np.ones((n, 1))])
    sol, *_ = np.linalg.lstsq(a, dst, rcond=None)
    matrix = sol.T  # 2×3
    if n <= 3:
        return matrix, 0.0
    err = a @ sol - dst
    # Express the error in template pixels (divide by the map's scale).
    scale = float(np.sqrt(abs(np.linalg.det(matrix[:, :2])))) or 1.0
    return matrix, float(np.sqrt((err**2).sum(axis=1).mean())) / scale


def fit_similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The rotation + uniform scale + shift taking two points onto two points (2×3)."""
    z0, z1 = complex(*src[0]), complex(*src[1])
    w0, w1 = complex(*dst[0]), complex(*dst[1])
    a = (w1 - w0) / (z1 - z0)
    b = w0 - a * z0
    return np.array([[a.real, -a.imag, b.real], [a.imag, a.real, b.imag]], np.float64)


def mark_hypotheses(
    found: dict[Corner, tuple[float, float]], marks: RegistrationMarks, landscape: bool
) -> list[Alignment]:
    """One alignment per orientation the page can be in.

    Three or four marks give an affine map; two (a skewed page whose other
    corners fell outside the scan) a similarity map -- rotation, one scale,
    shift -- which is what a sheet feeder does to paper anyway.
    """
    if len(found) < 2:
        return []
    # Box centres are in edge coordinates; pixel centres (what OpenCV maps) sit half a pixel in.
    centres = {c: (x - 0.5, y - 0.5) for c, (x, y) in zip(CORNERS, marks.centers(), strict=True)}
    out: list[Alignment] = []
    for turn in (90, 270) if landscape else (0, 180):
        src, dst = [], []
        for corner in CORNERS:
            page_corner = _TURNS[turn][corner]
            if page_corner in found:
                src.append(centres[corner])
                dst.append(found[page_corner])
        if len(src) == 2:
            matrix, residual = fit_similarity(np.asarray(src), np.asarray(dst)), 0.0
        else:
            matrix, residual = fit_affine(np.asarray(src), np.asarray(dst))
        out.append(Alignment(matrix, residual, "marks", turn, len(src)))
    return out


def align_features(
    gray_small: np.ndarray, template_small: np.ndarray, scale: float = SMALL
) -> Alignment | None:
    """Fallback registration by ORB features on the downscaled page and template."""
    orb = cv2.ORB_create(3000)
    kp1, des1 = orb.detectAndCompute(template_small, None)
    kp2, des2 = orb.detectAndCompute(gray_small, None)
    if des1 is None or des2 is None or len(kp1) < 30 or len(kp2) < 30:
        return None
    matcher = cv2.BFMatcher(cv2.NORM_HAMMING, crossCheck=True)
    matches = sorted(matcher.match(des1, des2), key=lambda m: m.distance)[:800]
    if len(matches) < 30:
        return None
    src = np.float32([kp1[m.queryIdx].pt for m in matches]) / scale
    dst = np.float32([kp2[m.trainIdx].pt for m in matches]) / scale
    h, inliers = cv2.findHomography(src, dst, cv2.RANSAC, 3.0 / scale)
    if h is None or inliers is None or int(inliers.sum()) < 30:
        return None
    keep = inliers.ravel().astype(bool)
    proj = cv2.perspectiveTransform(src[keep].reshape(-1, 1, 2), h).reshape(-1, 2)
    page_scale = float(np.sqrt(abs(np.linalg.det(h[:2, :2])))) or 1.0
    residual = float(np.sqrt(((proj - dst[keep]) ** 2).sum(axis=1).mean())) / page_scale
    # The rotation: where the template's x axis points on the page.
    angle = np.degrees(np.arctan2(h[1, 0], h[0, 0]))
    rotation = int(round(angle / 90.0)) % 4 * 90
    return Alignment(h, residual, "features", rotation, 0)


def cut(
    gray: np.ndarray,
    alignment: Alignment,
    box: list[int] | tuple[int, int, int, int],
    *,
    scale: float = 1.0,
    border: int = 255,
) -> np.ndarray:
    """The page region under template box ``[x, y, w, h]``, upright, in template pixels × ``scale``.

    Only the region is resampled, never the whole page.
    """
    x, y, w, h = box
    out_w, out_h = max(1, round(w * scale)), max(1, round(h * scale))
    # dst pixel (u, v) → template (x + u / scale, y + v / scale) → page.
    to_template = np.array([[1 / scale, 0, x], [0, 1 / scale, y], [0, 0, 1]], np.float64)
    m = alignment.homography() @ to_template
    if alignment.matrix.shape == (2, 3):
        return cv2.warpAffine(
            gray,
            m[:2],
            (out_w, out_h),
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=border,
        )
    return cv2.warpPerspective(
        gray,
        m,
        (out_w, out_h),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=border,
    )
