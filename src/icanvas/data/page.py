"""Find the sheet of paper in a photo and straighten it.

A child's drawing is often a photo of a page lying on a table: :func:`find_page` looks for the
sheet (its four corners, even when tilted, in perspective, shadowed, or with a finger or another
sheet at an edge) and :func:`straighten` warps it to an upright rectangle, so that nothing
outside the page is read as ink. A photo that already is the page (a scan, a canvas export)
is reported as such and passes through :func:`straighten` unchanged.

The search runs on a reduced copy: the child's thin lines are closed away, the paper is grown
from a bright seed near the centre across smooth shading (shadows are gradual, the paper's edge
is a step), and the region's convex outline is reduced to the quadrilateral that adds the least
area. Paper whose outline has a notch is the page and another sheet peeking out from under it:
it is grown again, never across a sharp step, so that the upper sheet's edge parts the two. Each side is then measured again at full resolution and fitted robustly (a finger or a
second sheet cutting an edge are outliers), and the corners are where the sides meet.
"""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np

from icanvas.data.quads import meet, ordered_corners, region_quad

# --- search on a reduced copy (work px)
_WORK_SIDE = 384  # long side of the reduced copy the page is searched on, px
_STRIDE_SHARE = 3  # a photo is thinned by taking every k-th pixel, k = its reduction / this, before averaging
_LINE_CLOSE = 1 / 50  # dark strokes narrower than this fraction of the work side are closed away first
_MEDIAN = 5  # median filter of the reduced copy, px: evens out paper grain and noise, keeps edges sharp
_FLOOD_STEP = 2  # the paper grows to neighbours differing by at most this per channel (log scale 0..255)
_NOTCH = 0.03  # paper whose outline has a dent deeper than this fraction of the square root of its area may be two sheets ...
_PARTED = 0.95  # ... and grown again without crossing a step, it is the upper sheet when it keeps less than this share of the paper
_EDGE_STEP = 3  # a pixel whose 3x3 neighbourhood spans more than this in a channel (log scale) is an edge the paper never crosses
_SEED_WINDOW = 0.5  # seeds are picked in the central window of this fraction of each side
_SEED_PERCENTILE = 80  # a seed is at least this bright, percentile of the window's brightness
_SEEDS = 4  # at most this many seeds (separate regions) are tried
_OPEN_FRAC = 1 / 60  # bridges narrower than this fraction of the work side are cut off the region
_WHOLE_BORDER = 0.95  # paper along at least this fraction of every border: the photo is the page
_PAPER_MARGIN = 14  # a region filling the photo is its paper only if it is within this of the brightest things (log scale, ~1.35x)
_WHOLE_CORNERS = 0.03  # corners this close to the photo's, as a fraction of its diagonal: the photo is the page
# --- what a page looks like
_MIN_AREA = 0.10  # a page covers at least this fraction of the photo
_MIN_SOLIDITY = 0.85  # the paper region fills at least this fraction of its quadrilateral (in the photo)
_MIN_ANGLE, _MAX_ANGLE = 40.0, 140.0  # corner angles of a plausible page, degrees
_MAX_SIDE_RATIO = 4.0  # longest / shortest side of a plausible page
_MAX_OUTSIDE = 0.2  # corners may lie outside the photo by at most this fraction of its long side
_MIN_SIDE = 16  # a photo with a side shorter than this, px, holds no page worth finding
_PAPER_WHITE = 245  # every channel at least this: the plain white paper of a canvas export or a clean scan
_WHITE_SHARE = 0.99  # share of the image's outer ring that is plain white paper for the image to be its own page
# --- refinement at full resolution
_REFINE_POINTS = 48  # points per side where the edge is measured again
_REFINE_REACH = 6.0  # the edge is looked for this many work px either side of the coarse side ...
_REFINE_AGAIN = 1.5  # ... and then this many either side of the side found
_REFINE_MIN = 10  # fewer edge points than this on a side keep the coarse side
_OUTLIER_SIGMAS = 2.5  # edge points farther than this many robust sigmas from the side's line are dropped
# --- straightening
MAX_PAGE_SIDE = 1024  # long side of a straightened page, px: the pictures are at most this big (pipelines MAX_OUTPUT_SIDE)
_INSET = 0.01  # fraction of each side trimmed off a straightened page (the paper's edge and its shadow)
_PRESHRINK = 1.25  # the photo is first shrunk (area averaging) to this many times the page's output scale

_LOG_LUT = np.round(255 * np.log1p(np.arange(256)) / np.log(256)).astype(np.uint8)  # shadows scale light: compare in log


@dataclasses.dataclass(frozen=True)
class Page:
    """The sheet of paper found in a photo."""

    corners: np.ndarray  # (4, 2) float32 x, y in photo px: top-left, top-right, bottom-right, bottom-left
    score: float  # 0..1, how well the paper region fills its quadrilateral
    fills_photo: bool  # the photo is already just the page (a scan, a canvas export): nothing to straighten


@dataclasses.dataclass(frozen=True)
class PageSearch:
    """What :func:`search_page` found, and in words why (or why not)."""

    page: Page | None  # None when no page was found
    reason: str  # e.g. "the photo is the page", "no region of paper covers a tenth of the photo"


def find_page(rgb: np.ndarray) -> Page | None:
    """The sheet of paper in an (H, W, 3) uint8 RGB photo, or None (see :func:`search_page` for why)."""
    return search_page(rgb).page


def search_page(rgb: np.ndarray) -> PageSearch:
    """Look for the sheet of paper in an (H, W, 3) uint8 RGB photo."""
    h, w = rgb.shape[:2]
    if min(h, w) < _MIN_SIDE:
        return PageSearch(None, f"the photo is too small to hold a page ({w}x{h} px)")
    full = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    if _white_border(rgb):  # a canvas export or a clean scan: no need to look (a photo never has one)
        return PageSearch(Page(full, 1.0, True), "the photo is the page")
    scale = min(1.0, _WORK_SIDE / max(h, w))  # work px per photo px
    stride = max(1, int(1 / scale / _STRIDE_SHARE))  # a big photo is first thinned (cheap), then averaged
    small = cv2.resize(np.ascontiguousarray(rgb[::stride, ::stride]), (max(1, round(w * scale)), max(1, round(h * scale))),
                       interpolation=cv2.INTER_AREA)
    smooth = _smoothed(small)  # (h', w', 3) log-scaled, lines closed
    regions = _paper_regions(smooth)
    if not regions:
        return PageSearch(None, "no bright paper near the middle of the photo")
    sh, sw = small.shape[:2]
    reasons = []
    brightest = float(np.percentile(smooth.max(axis=2), 99.5))  # log scale
    for region in regions:
        region = _holes_filled(region)  # the child's colouring-in is paper too
        if _touches_every_border(region):
            if float(np.median(smooth.max(axis=2)[region])) < brightest - _PAPER_MARGIN:
                reasons.append("something brighter than the background lies on it, too small to be the page")
                continue
            return PageSearch(Page(full, 1.0, True), "the photo is the page")
        quad = region_quad(region)
        if quad is None:
            reasons.append("the paper region is not four-sided")
            continue
        quad, support = _refine(rgb, quad / np.array([sw / w, sh / h], np.float32), 1 / scale, _REFINE_REACH)
        quad, support = _refine(rgb, quad, 1 / scale, _REFINE_AGAIN)  # closer, now that the sides are near
        if np.abs(quad - full).max() < _WHOLE_CORNERS * np.hypot(w, h):
            return PageSearch(Page(full, 1.0, True), "the photo is the page")
        why = _implausible(quad, (h, w))
        solidity = _solidity(region, quad * np.array([sw / w, sh / h], np.float32)) if not why else 0.0
        if not why and solidity < _MIN_SOLIDITY:
            why = f"the paper region fills only {solidity:.0%} of its outline"
        if why:
            reasons.append(why)
            continue
        return PageSearch(Page(quad.astype(np.float32), round(float(solidity * support), 3), False), "page found")
    return PageSearch(None, reasons[0] if reasons else "no page-like region")


def page_transform(page: Page, max_side: int = MAX_PAGE_SIDE) -> tuple[np.ndarray, int, int]:
    """(3x3 homography from photo px to straightened page px, page width, page height)."""
    c = page.corners.astype(np.float64)
    w = (np.linalg.norm(c[1] - c[0]) + np.linalg.norm(c[2] - c[3])) / 2
    h = (np.linalg.norm(c[3] - c[0]) + np.linalg.norm(c[2] - c[1])) / 2
    k = min(1.0, max_side / max(w, h, 1.0))
    out_w, out_h = max(1, round(w * k)), max(1, round(h * k))
    mx, my = _INSET * out_w, _INSET * out_h  # the page's own edge falls just outside the result
    dst = np.array([[-mx, -my], [out_w - 1 + mx, -my], [out_w - 1 + mx, out_h - 1 + my], [-mx, out_h - 1 + my]])
    return cv2.getPerspectiveTransform(c.astype(np.float32), dst.astype(np.float32)), out_w, out_h


def straighten(rgb: np.ndarray, page: Page, max_side: int = MAX_PAGE_SIDE) -> np.ndarray:
    """The page as an upright (h, w, 3) uint8 rectangle, long side at most ``max_side`` px.

    A page that fills the photo is returned unchanged (the same array).
    """
    if page.fills_photo:
        return rgb
    H, out_w, out_h = page_transform(page, max_side)
    h, w = rgb.shape[:2]
    zoom = np.sqrt(abs(np.linalg.det(H[:2, :2]))) / abs(H[2, 2])  # rough page px per photo px
    f = min(1.0, _PRESHRINK * zoom)
    if f < 0.8:  # linear sampling of a much larger photo would drop thin lines: average first
        rgb = cv2.resize(rgb, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)
        H = H @ np.diag([w / rgb.shape[1], h / rgb.shape[0], 1.0])
    return cv2.warpPerspective(np.ascontiguousarray(rgb), H, (out_w, out_h), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REPLICATE)


# ============================================================================ search steps


def _white_border(rgb: np.ndarray) -> bool:
    """Whether the image's outer ring is plain white paper, as in a canvas export or a clean scan."""
    h, w = rgb.shape[:2]
    r = max(2, min(h, w) // 100)
    if h <= 2 * r or w <= 2 * r:
        return False
    ring = np.concatenate([rgb[:r].reshape(-1, 3), rgb[-r:].reshape(-1, 3), rgb[:, :r].reshape(-1, 3), rgb[:, -r:].reshape(-1, 3)])
    return float(np.mean(ring.min(axis=1) >= _PAPER_WHITE)) >= _WHITE_SHARE


def _smoothed(small: np.ndarray) -> np.ndarray:
    """Log-scaled copy with dark lines closed away and noise evened out (same shape)."""
    k = max(3, int(max(small.shape[:2]) * _LINE_CLOSE) | 1)
    closed = cv2.morphologyEx(small, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    return cv2.LUT(cv2.medianBlur(closed, _MEDIAN), _LOG_LUT)


def _paper_regions(smooth: np.ndarray) -> list[np.ndarray]:
    """(h, w) bool regions grown from bright seeds near the middle, largest first."""
    h, w = smooth.shape[:2]
    grey = _brightest(smooth)  # brightness of the paper, whatever its colour
    y0, y1 = int(h * (1 - _SEED_WINDOW) / 2), max(int(h * (1 + _SEED_WINDOW) / 2), 1)
    x0, x1 = int(w * (1 - _SEED_WINDOW) / 2), max(int(w * (1 + _SEED_WINDOW) / 2), 1)
    window = grey[y0:y1, x0:x1]
    edges = np.pad(_edges(smooth), 1, constant_values=1)  # floodFill's mask layout: one px of border all round
    free = np.zeros_like(edges)
    bright = (window >= np.percentile(window, _SEED_PERCENTILE)) & (edges[y0 + 1 : y1 + 1, x0 + 1 : x1 + 1] == 0)
    ys, xs = np.nonzero(bright)
    order = np.argsort((ys + y0 - h / 2) ** 2 + (xs + x0 - w / 2) ** 2)  # nearest the middle first
    taken = np.zeros((h, w), bool)
    regions = []
    for i in order:
        y, x = int(ys[i] + y0), int(xs[i] + x0)
        if taken[y, x]:
            continue
        reached, region = _grown(smooth, (x, y), free)
        taken |= reached
        if region.mean() < _MIN_AREA / 2:
            continue
        if not _one_sheet(region):  # two sheets, or a finger on an edge: the upper sheet's outline parts the first only
            parted = _grown(smooth, (x, y), edges)[1]
            region = parted if parted.sum() < _PARTED * region.sum() else region
        regions.append(region)
        if len(regions) >= _SEEDS or taken.sum() > 0.9 * h * w:
            break
    return sorted(regions, key=lambda r: -int(r.sum()))


def _grown(smooth: np.ndarray, seed: tuple[int, int], stops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(every (h, w) bool pixel reached, the region: the same without bridges narrower than _OPEN_FRAC):
    paper grown from ``seed`` (x, y) over small steps, never onto ``stops`` ((h + 2, w + 2) uint8, 1 where it may not go)."""
    h, w = smooth.shape[:2]
    mask = stops.copy()
    step = (_FLOOD_STEP,) * 3
    cv2.floodFill(smooth, mask, seed, 0, step, step, 4 | cv2.FLOODFILL_MASK_ONLY | (2 << 8))  # paper marked 2
    k = max(3, int(max(h, w) * _OPEN_FRAC) | 1)
    opener = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    reached = mask[1:-1, 1:-1] == 2
    return reached, cv2.morphologyEx(reached.astype(np.uint8), cv2.MORPH_OPEN, opener) > 0


def _one_sheet(region: np.ndarray) -> bool:
    """Whether the paper ``region`` has a convex outline, as one sheet has however it is shaded or
    folded: a page lying on another sheet that peeks out at its sides leaves a notch where the two
    outlines cross."""
    contours, _ = cv2.findContours(region.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    outline = max(contours, key=cv2.contourArea)
    hull = cv2.convexHull(outline)
    deepest = max(cv2.pointPolygonTest(hull, (float(x), float(y)), True) for x, y in outline[:, 0])
    return deepest <= _NOTCH * np.sqrt(cv2.contourArea(outline))


def _edges(smooth: np.ndarray) -> np.ndarray:
    """(h, w) uint8, 1 on sharp steps of brightness or colour: the outline of a sheet lying on
    another one. A slanted step is blurred into a ramp of small differences by the reduction,
    which the fill would climb pixel by pixel; shadows change too slowly to count."""
    spread = cv2.morphologyEx(smooth, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))  # (h, w, 3) max - min
    return (_brightest(spread) > _EDGE_STEP).astype(np.uint8)


def _brightest(img: np.ndarray) -> np.ndarray:
    """(h, w) uint8: the largest of the three channels of an (h, w, 3) uint8 image (faster than max over the axis)."""
    a, b, c = cv2.split(img)
    return cv2.max(cv2.max(a, b), c)


def _holes_filled(region: np.ndarray) -> np.ndarray:
    contours, _ = cv2.findContours(region.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    filled = np.zeros(region.shape, np.uint8)
    cv2.drawContours(filled, contours, -1, 1, thickness=cv2.FILLED)
    return filled > 0


def _touches_every_border(region: np.ndarray) -> bool:
    edges = (region[0], region[-1], region[:, 0], region[:, -1])
    return all(e.mean() >= _WHOLE_BORDER for e in edges)


def _refine(rgb: np.ndarray, quad: np.ndarray, px_per_work: float, reach: float) -> tuple[np.ndarray, float]:
    """(corners (photo px) from each side measured again at full resolution and fitted robustly,
    share of the sides' points inside the photo that lie on an edge along the fitted side)."""
    h, w = rgb.shape[:2]
    reach = max(3, int(np.ceil(reach * px_per_work)))
    offsets = np.arange(-reach, reach + 1, dtype=np.float32)  # (R,)
    s = np.linspace(0.08, 0.92, _REFINE_POINTS, dtype=np.float32)  # (N,) along the side, corners left out
    sides, on_edge, seen = [], 0, 0
    for k in range(4):
        p, q = quad[k], quad[(k + 1) % 4]
        t = (q - p) / max(float(np.linalg.norm(q - p)), 1e-6)
        n = np.array([-t[1], t[0]], np.float32)
        base = p[None] + s[:, None] * (q - p)[None]  # (N, 2)
        pts = base[:, None, :] + offsets[None, :, None] * n[None, None, :]  # (N, R, 2)
        inside = ((pts[..., 0] >= 0) & (pts[..., 0] <= w - 1) & (pts[..., 1] >= 0) & (pts[..., 1] <= h - 1)).all(axis=1)
        prof = cv2.remap(rgb, pts[..., 0], pts[..., 1], cv2.INTER_LINEAR).astype(np.float32)  # (N, R, 3)
        prof = cv2.GaussianBlur(prof, (0, 0), sigmaX=max(1.0, px_per_work / 3), sigmaY=0.01)
        grad = np.abs(prof[:, 2:] - prof[:, :-2]).sum(axis=2)  # (N, R - 2)
        at = grad.argmax(axis=1)
        strength = grad[np.arange(len(at)), at]
        good = inside & (strength >= 0.3 * np.median(strength[inside])) if inside.any() else inside
        edge = offsets[at + 1]
        side, inliers = _fit_side(p, q, n, s[good], edge[good])
        sides.append(side)
        on_edge, seen = on_edge + inliers, seen + int(inside.sum())
    support = on_edge / seen if seen else 0.0
    corners = [meet(*sides[k - 1], *sides[k]) for k in range(4)]
    if any(c is None for c in corners):
        return quad, support
    return np.array(corners, np.float32), support


def _fit_side(p, q, n, s: np.ndarray, e: np.ndarray) -> tuple[tuple[np.ndarray, np.ndarray], int]:
    """(two points on the side's line, how many edge points fit it): the edge offset ``e``
    along the normal fitted as a + b*s; the coarse side when too few points fit."""
    coarse = (p.astype(np.float64), q.astype(np.float64))
    if len(s) < _REFINE_MIN:
        return coarse, 0
    keep = np.ones(len(s), bool)
    for _ in range(3):
        b, a = np.polyfit(s[keep], e[keep], 1)
        r = e - (a + b * s)
        sigma = 1.4826 * np.median(np.abs(r[keep])) + 0.5
        keep = np.abs(r) <= _OUTLIER_SIGMAS * sigma
        if keep.sum() < _REFINE_MIN:
            return coarse, 0
    b, a = np.polyfit(s[keep], e[keep], 1)
    p2, q2 = p + a * n, q + (a + b) * n
    return (p2.astype(np.float64), q2.astype(np.float64)), int(keep.sum())


def _implausible(quad: np.ndarray, shape: tuple[int, int]) -> str:
    """Why ``quad`` (photo px) is no page, or '' when it could be one."""
    h, w = shape
    margin = _MAX_OUTSIDE * max(h, w)
    if (quad[:, 0] < -margin).any() or (quad[:, 0] > w + margin).any() or (quad[:, 1] < -margin).any() or (quad[:, 1] > h + margin).any():
        return "the paper region runs far out of the photo"
    sides = np.linalg.norm(quad - np.roll(quad, -1, axis=0), axis=1)
    if sides.min() < 1 or sides.max() / sides.min() > _MAX_SIDE_RATIO:
        return "the paper region is too long and thin for a page"
    for k in range(4):
        a, b = quad[k - 1] - quad[k], quad[(k + 1) % 4] - quad[k]
        cos = float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))
        if not _MIN_ANGLE <= np.degrees(np.arccos(np.clip(cos, -1, 1))) <= _MAX_ANGLE:
            return "the paper region's corners are too sharp for a page"
    if cv2.contourArea(quad.astype(np.float32)) < _MIN_AREA * h * w:
        return "no page covers a tenth of the photo"
    return ""


def _solidity(region: np.ndarray, quad: np.ndarray) -> float:
    """Share of the quadrilateral (inside the photo) that is paper."""
    inside = np.zeros(region.shape, np.uint8)
    cv2.fillConvexPoly(inside, np.round(quad * 16).astype(np.int32), 1, lineType=cv2.LINE_8, shift=4)
    area = int(inside.sum())
    return float((region & (inside > 0)).sum() / area) if area else 0.0


# ============================================================================ corners given by hand

_HAND_MIN_AREA = 0.02  # corners placed by hand outline at least this fraction of the photo


def page_from_corners(corners: np.ndarray | list, shape: tuple[int, int]) -> Page:
    """The page outlined by four corners placed by hand (photo px, any order), for a page the
    search found wrong. Raises ValueError saying what is wrong with them."""
    quad = np.asarray(corners, np.float64)
    if quad.shape != (4, 2) or not np.isfinite(quad).all():
        raise ValueError("give four corners, each an x and a y in photo pixels")
    h, w = shape
    margin = _MAX_OUTSIDE * max(h, w)
    if (quad < -margin).any() or (quad[:, 0] > w + margin).any() or (quad[:, 1] > h + margin).any():
        raise ValueError("a corner lies far outside the photo")
    quad = ordered_corners(quad)
    if not cv2.isContourConvex(np.round(quad * 16).astype(np.int32)):
        raise ValueError("the corners do not outline a four-sided page (two sides cross or bend inwards)")
    if cv2.contourArea(quad.astype(np.float32)) < _HAND_MIN_AREA * h * w:
        raise ValueError(f"the corners outline less than {_HAND_MIN_AREA:.0%} of the photo")
    full = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float64)
    whole = bool(np.abs(quad - full).max() < _WHOLE_CORNERS * np.hypot(w, h))
    return Page(full.astype(np.float32) if whole else quad.astype(np.float32), 1.0, whole)


def drawing_corners(page: Page, max_side: int = MAX_PAGE_SIDE) -> np.ndarray:
    """(4, 2) float32 photo px where the corners of :func:`straighten`'s result lie (just inside
    the page's corners: the straightened page leaves out the paper's edge)."""
    if page.fills_photo:
        return page.corners.astype(np.float32)
    H, out_w, out_h = page_transform(page, max_side)
    box = np.array([[[0, 0], [out_w - 1, 0], [out_w - 1, out_h - 1], [0, out_h - 1]]], np.float32)
    return cv2.perspectiveTransform(box, np.linalg.inv(H).astype(np.float32))[0]
