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
from ocr.preprocess import INK_LEVEL, SMALL, downscale

MARK_MM = 5.0
A4_WIDTH_MM = 210.0
MAX_RESIDUAL = 6.0
"""An alignment worse than this (template px, 300 dpi: 0.5 mm) is not trusted."""
TEMPLATE_SHORT_SIDE = 2480
"""Short side of the templates in pixels (A4 at 300 dpi)."""
PATCH = 256
"""Side (template px) of the patches :func:`refine` compares."""

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


class MarkSet(dict[Corner, tuple[float, float]]):
    """Mark centres by corner; ``clipped`` names the marks the page edge cut (centres estimated)."""

    clipped: set[Corner]

    def __init__(self) -> None:
        super().__init__()
        self.clipped = set()


def find_marks(gray: np.ndarray, small: np.ndarray | None = None) -> MarkSet:
    """Centres (page pixels) of the registration squares found near each page corner.

    Candidates are square, solid blobs of about 5 mm on the downscaled page,
    nearest to the corner first; each is checked at full resolution (a solid
    square of the right size -- a QR code's finder pattern is a ring around a
    dot and fails), and the first that passes is the corner's mark.
    """
    if small is None:
        small = downscale(gray, SMALL)
    sh, sw = small.shape
    scale_x, scale_y = gray.shape[1] / sw, gray.shape[0] / sh
    # Marks are 5 mm; the short side of an A4 page is 210 mm.
    side = MARK_MM * min(sh, sw) / A4_WIDTH_MM
    ink = (small < INK_LEVEL).astype(np.uint8)
    # marks sit 7-12 mm from the edges; a 5° skew moves them up to ~8 % of the page
    rx, ry = int(sw * 0.14), int(sh * 0.11)
    regions: dict[Corner, tuple[int, int, int, int]] = {
        "top_left": (0, 0, rx, ry),
        "top_right": (sw - rx, 0, rx, ry),
        "bottom_left": (0, sh - ry, rx, ry),
        "bottom_right": (sw - rx, sh - ry, rx, ry),
    }
    found = MarkSet()
    for corner, (x0, y0, w, h) in regions.items():
        n, _, stats, cents = cv2.connectedComponentsWithStats(
            ink[y0 : y0 + h, x0 : x0 + w], connectivity=8
        )
        cx = 0 if "left" in corner else w
        cy = 0 if "top" in corner else h
        candidates: list[tuple[float, int]] = []
        for i in range(1, n):
            bx, by, bw, bh, area = (int(v) for v in stats[i])
            px, py = x0 + bx, y0 + by
            edge = px == 0 or py == 0 or px + bw >= sw or py + bh >= sh
            low = 0.25 if edge else 0.6  # a mark the page edge cut keeps one full side
            if not (low * side <= bw <= 1.6 * side and low * side <= bh <= 1.6 * side):
                continue
            if area < 0.7 * bw * bh or (not 0.7 <= bw / bh <= 1.4 and not edge):
                continue
            if edge and (max(bw, bh) < 0.75 * side or min(bw, bh) < 0.25 * side):
                continue  # mostly cut off by the page edge, or a scanner shadow
            candidates.append((float(np.hypot(cents[i][0] - cx, cents[i][1] - cy)), i))
        for _, i in sorted(candidates):
            bx, by, bw, bh, _ = stats[i]
            centre = _refine(
                gray,
                (x0 + bx) * scale_x,
                (y0 + by) * scale_y,
                bw * scale_x,
                bh * scale_y,
                side * scale_x,
            )
            if centre is not None:
                found[corner] = centre
                px, py = x0 + int(bx), y0 + int(by)
                if px == 0 or py == 0 or px + int(bw) >= sw or py + int(bh) >= sh:
                    found.clipped.add(corner)
                break
    return found


def _refine(
    gray: np.ndarray, x: float, y: float, w: float, h: float, side: float
) -> tuple[float, float] | None:
    """The centre of a mark at full resolution, ``None`` if it is not a solid square.

    A mark a skewed sheet pushed partly over the page edge has lost a strip:
    its centre is taken from the edges that are left (the square's side is
    known from the page size).
    """
    m = max(w, h) * 0.4
    x0, y0 = max(0, int(x - m)), max(0, int(y - m))
    x1, y1 = min(gray.shape[1], int(x + w + m)), min(gray.shape[0], int(y + h + m))
    win = gray[y0:y1, x0:x1]
    ink = (win < INK_LEVEL).astype(np.uint8)
    n, labels, stats, cents = cv2.connectedComponentsWithStats(ink, connectivity=8)
    if n <= 1:
        return None
    i = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    area = float(stats[i][cv2.CC_STAT_AREA])
    bx, by, bw, bh = (int(v) for v in stats[i][:4])
    page_h, page_w = gray.shape[:2]
    cut_l, cut_t = x0 + bx == 0, y0 + by == 0
    cut_r, cut_b = x0 + bx + bw >= page_w, y0 + by + bh >= page_h
    clipped = cut_l or cut_t or cut_r or cut_b
    # a solid square of the expected side (a 5° skew barely changes the area)
    if not (0.2 if clipped else 0.6) * side**2 <= area <= 1.6 * side**2:
        return None
    pts = np.column_stack(np.nonzero(labels == i)[::-1]).astype(np.float32)
    (rx, ry), (rw, rh), angle = cv2.minAreaRect(pts)
    if rw * rh <= 0 or area < 0.85 * rw * rh:
        return None
    if not clipped:
        return (x0 + float(cents[i][0]), y0 + float(cents[i][1]))
    # Cut by the page edge: the rectangle left has the square's full side one way
    # and less the other; the centre lies further out, towards the edge, by half
    # of what is missing.
    theta = np.radians(angle)
    axes = [
        (rw, np.array([np.cos(theta), np.sin(theta)])),
        (rh, np.array([-np.sin(theta), np.cos(theta)])),
    ]
    full = [a for a in axes if a[0] >= 0.8 * side]
    short = [a for a in axes if a[0] < 0.8 * side]
    centre = np.array([x0 + rx, y0 + ry])
    if len(full) != 1 or len(short) != 1:
        return None if len(full) == 0 else (float(centre[0]), float(centre[1]))
    length, axis = short[0]
    outward = np.array(
        [(-1.0 if cut_l else 1.0 if cut_r else 0.0), (-1.0 if cut_t else 1.0 if cut_b else 0.0)]
    )
    if float(axis @ outward) < 0:
        axis = -axis
    centre = centre + axis * (side - length) / 2
    return (float(centre[0]), float(centre[1]))


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


def _page_scale(
    found: dict[Corner, tuple[float, float]], page_size: tuple[int, int] | None
) -> float | None:
    """Page pixels per template pixel expected from the page size (both are A4)."""
    if page_size is None:
        return None
    return min(page_size) / TEMPLATE_SHORT_SIDE


def _consistent(
    pairs: list[tuple[tuple[float, float], tuple[float, float]]], expected: float | None
) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """The largest set of mark pairs whose distances agree with the page's scale (±4 %)."""
    if expected is None:
        return pairs
    from itertools import combinations

    for size in range(len(pairs), 1, -1):
        for subset in combinations(pairs, size):
            ok = True
            for (s1, d1), (s2, d2) in combinations(subset, 2):
                ratio = np.hypot(d1[0] - d2[0], d1[1] - d2[1]) / max(
                    1e-6, np.hypot(s1[0] - s2[0], s1[1] - s2[1])
                )
                if abs(ratio / expected - 1) > 0.04:
                    ok = False
                    break
            if ok:
                return list(subset)
    return []


def mark_hypotheses(
    found: dict[Corner, tuple[float, float]],
    marks: RegistrationMarks,
    landscape: bool,
    page_size: tuple[int, int] | None = None,
) -> list[Alignment]:
    """One alignment per orientation the page can be in.

    Three or four marks give an affine map; two (a skewed page whose other
    corners fell outside the scan) a similarity map -- rotation, one scale,
    shift -- which is what a sheet feeder does to paper anyway.
    """
    if len(found) < 2:
        return []
    expected = _page_scale(found, page_size)
    # Box centres are in edge coordinates; pixel centres (what OpenCV maps) sit half a pixel in.
    centres = {c: (x - 0.5, y - 0.5) for c, (x, y) in zip(CORNERS, marks.centers(), strict=True)}
    out: list[Alignment] = []
    clipped: set[Corner] = getattr(found, "clipped", set())
    for turn in (90, 270) if landscape else (0, 180):
        pairs = [
            (centres[corner], found[_TURNS[turn][corner]])
            for corner in CORNERS
            if _TURNS[turn][corner] in found
        ]
        cut_off = {found[_TURNS[turn][c]] for c in CORNERS if _TURNS[turn][c] in clipped}
        pairs = _consistent(pairs, expected)
        whole = [p for p in pairs if p[1] not in cut_off]
        if len(whole) >= 3:
            src, dst = np.asarray([s for s, _ in whole]), np.asarray([d for _, d in whole])
            matrix, residual = fit_affine(src, dst)
            out.append(Alignment(matrix, residual, "marks", turn, len(whole)))
            continue
        # Marks the page edge cut have estimated centres: a similarity map (what a
        # sheet feeder does) over all of them, dropping the cut mark that fits worst
        # while the fit is poor.
        while len(pairs) >= 2:
            src, dst = np.asarray([s for s, _ in pairs]), np.asarray([d for _, d in pairs])
            matrix, residual, errors = fit_similarity_lsq(src, dst)
            if residual <= 1.5 or len(pairs) == 2:
                break
            worst = max(
                (i for i, p in enumerate(pairs) if p[1] in cut_off),
                key=lambda i: errors[i],
                default=None,
            )
            if worst is None:
                break
            pairs.pop(worst)
        if len(pairs) < 2:
            continue
        out.append(Alignment(matrix, residual, "marks", turn, len(pairs)))
    return out


def fit_similarity_lsq(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
    """Least-squares rotation + uniform scale + shift; its RMS error and each point's error
    (template units). Two points fit exactly.
    """
    n = len(src)
    a = np.zeros((2 * n, 4))
    a[0::2] = np.column_stack([src[:, 0], -src[:, 1], np.ones(n), np.zeros(n)])
    a[1::2] = np.column_stack([src[:, 1], src[:, 0], np.zeros(n), np.ones(n)])
    (p, q, tx, ty), *_ = np.linalg.lstsq(a, dst.reshape(-1), rcond=None)
    matrix = np.array([[p, -q, tx], [q, p, ty]], np.float64)
    pred = src @ matrix[:, :2].T + matrix[:, 2]
    scale = float(np.hypot(p, q)) or 1.0
    errors = np.sqrt(((pred - dst) ** 2).sum(axis=1)) / scale
    return matrix, float(np.sqrt((errors**2).mean())) if n > 2 else 0.0, errors


def align_features(
    gray_small: np.ndarray, template_small: np.ndarray, scale: float = SMALL
) -> Alignment | None:
    """Fallback registration by ORB features on the downscaled page and template."""
    orb = cv2.ORB_create(3000)  # type: ignore[attr-defined]
    kp1, des1 = orb.detectAndCompute(template_small, None)
    kp2, des2 = orb.detectAndCompute(gray_small, None)
    if des1 is None or des2 is None or len(kp1) < 30 or len(kp2) < 30:
        return None
    matcher = cv2.BFMatcher(cv2.NORM_HAMMING, crossCheck=True)
    matches = sorted(matcher.match(des1, des2), key=lambda m: m.distance)[:800]
    if len(matches) < 30:
        return None
    src = np.array([kp1[m.queryIdx].pt for m in matches], np.float32) / scale
    dst = np.array([kp2[m.trainIdx].pt for m in matches], np.float32) / scale
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


def structure_patches(template: np.ndarray, count: int = 9) -> list[tuple[int, int]]:
    """Top-left corners of template patches with the most printed structure, spread out.

    The page is divided into a 3×3 grid and the busiest patch of each cell is
    taken, so the refinement sees every part of the page.
    """
    h, w = template.shape
    ink = (template < 215).astype(np.float32)
    out: list[tuple[int, int]] = []
    step = PATCH // 2
    for gy in range(3):
        for gx in range(3):
            best, best_xy = 0.0, None
            for y in range(gy * h // 3, (gy + 1) * h // 3 - PATCH, step):
                for x in range(gx * w // 3, (gx + 1) * w // 3 - PATCH, step):
                    share = float(ink[y : y + PATCH, x : x + PATCH].mean())
                    if 0.03 < share < 0.5 and share > best:
                        best, best_xy = share, (x, y)
            if best_xy is not None:
                out.append(best_xy)
    return out[:count]


def refine(
    gray: np.ndarray, alignment: Alignment, template: np.ndarray, patches: list[tuple[int, int]]
) -> Alignment | None:
    """Correct a rough alignment (from features) by phase correlation of printed patches.

    Each patch is cut through the rough map and compared with the template; the
    shifts found move the patch centres, and an affine map is fitted to the
    moved centres. Its RMS error is the residual. ``None`` when fewer than
    three patches agree (a page without printed structure, e.g. a bilevel
    drop-out scan).
    """
    src, dst = [], []
    win = cv2.createHanningWindow((PATCH, PATCH), cv2.CV_32F)
    for x, y in patches:
        page = cut(gray, alignment, [x, y, PATCH, PATCH]).astype(np.float32)
        tpl = template[y : y + PATCH, x : x + PATCH].astype(np.float32)
        (dx, dy), response = cv2.phaseCorrelate(tpl, page, win)
        if response < 0.15 or abs(dx) > PATCH / 4 or abs(dy) > PATCH / 4:
            continue
        centre = np.array([x + PATCH / 2, y + PATCH / 2])
        moved = alignment.to_page((centre + [dx, dy]).reshape(1, 2))[0]
        src.append(centre)
        dst.append(moved)
    if len(src) < 3:
        return None
    matrix, residual = fit_affine(np.asarray(src), np.asarray(dst))
    return Alignment(matrix, residual, alignment.method, alignment.rotation, alignment.marks)


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
