"""Turning a person-probability map and the prompt into one person's mask.

Shared by every selector: GrabCut refinement of a probability map, choosing the connected
regions the clicks (or the box) point at, cutting away what background clicks point at,
growing a region from a click that lands off every region, and soft, edge-following borders.
"""

from __future__ import annotations

import cv2
import numpy as np

from icanvas.data.edges import mask_extent
from icanvas.errors import PromptError
from icanvas.portrait.faces import FaceFinder, face_in
from icanvas.portrait.stages import Point, Prompt, Selection

CLICK_RADIUS = 0.012  # radius of the sure-person / sure-background disk painted at a click, fraction of the diagonal
CLICK_REACH = 0.04  # a click this close to a region (fraction of the diagonal) still selects it
BOX_KEEP = 0.25  # with a box, regions covering at least this fraction of the best region's area inside it are kept
GRABCUT_SIZE = 320  # px; GrabCut works with the longer side at most this, the result is scaled back
GRABCUT_ROUNDS = 3  # GrabCut iterations when refining a probability map
SURE = 0.95  # probability above which a pixel is sure person (below 1 - SURE: sure background) for GrabCut
GROW_WINDOW = 0.12  # half-side of the window a click off every region grows a region in, fraction of the diagonal
MAX_HOLE = 0.01  # holes inside the person smaller than this fraction of its area are filled
EDGE_RADIUS = 0.004  # radius of the guided filter that softens the border, fraction of the diagonal (min 2 px)
EDGE_EPS = 1e-3  # guided-filter regulariser on [0, 1] intensities: larger = smoother, less edge-following


def diagonal(shape: tuple[int, ...]) -> float:
    return float(np.hypot(shape[0], shape[1]))


def paint_clicks(labels: np.ndarray, points: tuple[Point, ...], scale: float = 1.0,
                 fg: int = cv2.GC_FGD, bg: int = cv2.GC_BGD) -> None:
    """Paint a disk of ``fg`` / ``bg`` into the (h, w) label map at each click (clicks in photo px x ``scale``)."""
    r = max(1, round(CLICK_RADIUS * diagonal(labels.shape)))
    for p in points:
        cv2.circle(labels, (round(p.x * scale), round(p.y * scale)), r, fg if p.foreground else bg, -1)


def run_grabcut(img: np.ndarray, labels: np.ndarray, rounds: int) -> np.ndarray:
    """GrabCut from a label map (h, w) uint8 of GC_* values; returns (h, w) bool, True = person.

    A map without both person and background labels, or a flat picture, comes back unchanged."""
    has_fg = np.isin(labels, (cv2.GC_FGD, cv2.GC_PR_FGD)).any()
    has_bg = np.isin(labels, (cv2.GC_BGD, cv2.GC_PR_BGD)).any()
    start = np.isin(labels, (cv2.GC_FGD, cv2.GC_PR_FGD))
    if not (has_fg and has_bg):
        return start
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.setRNGSeed(0)  # GrabCut seeds its colour models by k-means from OpenCV's global RNG
    out = labels.copy()
    try:
        cv2.grabCut(np.ascontiguousarray(img[:, :, ::-1]), out, None, bgd, fgd, rounds, cv2.GC_INIT_WITH_MASK)
    except cv2.error:  # degenerate input (e.g. one flat colour): keep the starting guess
        return start
    return np.isin(out, (cv2.GC_FGD, cv2.GC_PR_FGD))


def work_scale(shape: tuple[int, ...], size: int = GRABCUT_SIZE) -> float:
    return min(1.0, size / max(shape[:2]))


def resize_mask(mask: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """A bool or float (h, w) mask scaled to ``shape[:2]`` (bool stays bool, thresholded at 0.5)."""
    if mask.shape == tuple(shape[:2]):
        return mask
    out = cv2.resize(mask.astype(np.float32), (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
    return out >= 0.5 if mask.dtype == bool else out


def grabcut_refine(img: np.ndarray, prob: np.ndarray, points: tuple[Point, ...] = ()) -> np.ndarray:
    """Refine a (H, W) person probability with GrabCut at a working size; clicks are sure labels
    (foreground clicks only where the map already says "person").

    Returns (H, W) bool. Pixels the map is sure about keep their side; unsure ones are decided
    by the colour models GrabCut learns from the sure ones."""
    s = work_scale(img.shape)
    small = img if s == 1.0 else cv2.resize(img, (round(img.shape[1] * s), round(img.shape[0] * s)), interpolation=cv2.INTER_AREA)
    p = resize_mask(prob.astype(np.float32), small.shape)  # (h, w)
    labels = np.where(p >= 0.5, cv2.GC_PR_FGD, cv2.GC_PR_BGD).astype(np.uint8)
    labels[p >= SURE] = cv2.GC_FGD
    labels[p <= 1.0 - SURE] = cv2.GC_BGD
    # a foreground click off the map's person is left to resolve() (grow a region there, or say it selects nothing)
    on = tuple(q for q in points if not q.foreground or prob[q.y, q.x] >= 0.5)
    paint_clicks(labels, on, s)
    return resize_mask(run_grabcut(small, labels, GRABCUT_ROUNDS), img.shape)


def _nearest_region(labels: np.ndarray, p: Point, reach: float) -> int:
    """Label of the region under the click, or of the nearest one within ``reach`` px; 0 = none."""
    if labels[p.y, p.x]:
        return int(labels[p.y, p.x])
    r = int(reach)
    y0, x0 = max(0, p.y - r), max(0, p.x - r)
    win = labels[y0 : p.y + r + 1, x0 : p.x + r + 1]
    ys, xs = np.nonzero(win)
    if not len(ys):
        return 0
    d = (ys + y0 - p.y) ** 2 + (xs + x0 - p.x) ** 2
    i = int(np.argmin(d))
    return int(win[ys[i], xs[i]]) if d[i] <= reach * reach else 0


def pick_regions(person: np.ndarray, prompt: Prompt) -> tuple[np.ndarray, list[Point]]:
    """The connected regions of a (H, W) bool person map that the prompt points at.

    Foreground clicks pick the region under them (or the nearest within CLICK_REACH); with no
    foreground click, a box picks the regions that fill most of it. Returns (H, W) bool and the
    foreground clicks that picked nothing."""
    n, labels = cv2.connectedComponents(person.astype(np.uint8), connectivity=8)
    keep = np.zeros(n, bool)
    missed = []
    reach = CLICK_REACH * diagonal(person.shape)
    fg = [p for p in prompt.points if p.foreground]
    for p in fg:
        k = _nearest_region(labels, p, reach)
        if k:
            keep[k] = True
        else:
            missed.append(p)
    if not fg and prompt.box is not None and n > 1:
        x0, y0, x1, y1 = prompt.box
        inside = np.bincount(labels[y0:y1, x0:x1].ravel(), minlength=n).astype(np.float64)
        inside[0] = 0
        if inside.max() > 0:
            keep = inside >= BOX_KEEP * inside.max()
    keep[0] = False
    return keep[labels], missed


def _around(region: np.ndarray, pad: int, points: tuple[Point, ...] = ()) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1): the box of a non-empty region and the points, grown by ``pad`` px, inside the photo."""
    h, w = region.shape
    x0, y0, x1, y1 = mask_extent(region)
    xs, ys = [x0, x1 - 1, *(p.x for p in points)], [y0, y1 - 1, *(p.y for p in points)]
    return max(0, min(xs) - pad), max(0, min(ys) - pad), min(w, max(xs) + pad + 1), min(h, max(ys) + pad + 1)


def cut_background_clicks(img: np.ndarray, region: np.ndarray, prompt: Prompt) -> np.ndarray:
    """Remove from ``region`` what background clicks on or next to it point at.

    The photo around the region is split between the foreground clicks (or the region's core)
    and the background clicks by a watershed on its colour edges; the background side is dropped."""
    r = 2 * max(1, round(CLICK_RADIUS * diagonal(region.shape)))  # a background seed leaves a hole of its own size
    inside = tuple(p for p in prompt.points if not p.foreground and region[max(0, p.y - r) : p.y + r + 1, max(0, p.x - r) : p.x + r + 1].any())
    if not inside:
        return region
    x0, y0, x1, y1 = _around(region, r, inside)  # the watershed runs on this part of the photo only
    part = region[y0:y1, x0:x1]
    markers = np.zeros(part.shape, np.int32)  # 0 = to flood, 1 = person seed, 2 = background seed
    fg = tuple(Point(p.x - x0, p.y - y0) for p in prompt.points if p.foreground and region[p.y, p.x])
    if fg:
        paint_clicks(markers, fg, fg=1, bg=2)
    else:  # no click on the person: its far-from-border core is the seed
        dist = cv2.distanceTransform(part.astype(np.uint8), cv2.DIST_L2, 5)
        markers[dist >= 0.5 * dist.max()] = 1
    paint_clicks(markers, tuple(Point(p.x - x0, p.y - y0, False) for p in inside), fg=1, bg=2)
    cv2.watershed(np.ascontiguousarray(img[y0:y1, x0:x1, ::-1]), markers)  # markers -> basin labels, -1 on the ridges
    out = region.copy()
    out[y0:y1, x0:x1] &= markers == 1
    return out


def grow_from_click(img: np.ndarray, p: Point, avoid: np.ndarray) -> np.ndarray:
    """A region around a foreground click that lands off every person region (a held bag, a
    hat the segmenter missed): GrabCut in a window around the click, the window's border as
    background. Returns (H, W) bool."""
    h, w = img.shape[:2]
    r = max(8, round(GROW_WINDOW * diagonal(img.shape)))
    x0, y0, x1, y1 = max(0, p.x - r), max(0, p.y - r), min(w, p.x + r + 1), min(h, p.y + r + 1)
    crop = img[y0:y1, x0:x1]
    labels = np.full(crop.shape[:2], cv2.GC_PR_FGD, np.uint8)
    b = max(1, r // 16)  # px, the window's sure-background strip (where it is inside the photo)
    if y0 > 0:
        labels[:b] = cv2.GC_BGD
    if y1 < h:
        labels[-b:] = cv2.GC_BGD
    if x0 > 0:
        labels[:, :b] = cv2.GC_BGD
    if x1 < w:
        labels[:, -b:] = cv2.GC_BGD
    labels[avoid[y0:y1, x0:x1]] = cv2.GC_PR_BGD
    paint_clicks(labels, (Point(p.x - x0, p.y - y0),))
    grown = run_grabcut(crop, labels, GRABCUT_ROUNDS)
    n, comp = cv2.connectedComponents(grown.astype(np.uint8), connectivity=8)
    out = np.zeros((h, w), bool)
    k = comp[p.y - y0, p.x - x0]
    if k:
        out[y0:y1, x0:x1] = comp == k
    return out


def fill_holes(region: np.ndarray, max_fraction: float = MAX_HOLE) -> np.ndarray:
    """Fill the enclosed holes of a (H, W) bool region smaller than ``max_fraction`` of its area."""
    area = region.sum()
    if not area:
        return region
    n, labels, stats, _ = cv2.connectedComponentsWithStats((~region).astype(np.uint8), connectivity=4)
    h, w = region.shape
    x, y = stats[:, cv2.CC_STAT_LEFT], stats[:, cv2.CC_STAT_TOP]
    x2, y2 = x + stats[:, cv2.CC_STAT_WIDTH], y + stats[:, cv2.CC_STAT_HEIGHT]
    small = (stats[:, cv2.CC_STAT_AREA] < max_fraction * area) & (x > 0) & (y > 0) & (x2 < w) & (y2 < h)
    small[0] = False  # label 0 is the region itself
    return region | small[labels]


def soft_edges(img: np.ndarray, region: np.ndarray) -> np.ndarray:
    """(H, W) bool region -> (H, W) float32 mask in [0, 1] whose border follows the photo's
    edges (a guided filter); pixels well inside stay 1, well outside stay 0."""
    r = max(2, round(EDGE_RADIUS * diagonal(img.shape)))
    x0, y0, x1, y1 = _around(region, 3 * r)  # the filter only changes pixels this close to the region
    part = region[y0:y1, x0:x1]
    guide = img[y0:y1, x0:x1].astype(np.float32) / 255.0
    soft = cv2.ximgproc.guidedFilter(guide, part.astype(np.float32), r, EDGE_EPS)
    band = cv2.dilate(part.astype(np.uint8), np.ones((2 * r + 1, 2 * r + 1), np.uint8)).astype(bool)
    soft = np.clip(soft, 0.0, 1.0) * band
    # the hard decision wins where the filter disagrees, so (mask > 0.5) is the region itself
    out = np.zeros(region.shape, np.float32)
    out[y0:y1, x0:x1] = np.where(part, np.maximum(soft, 0.5 + 1e-3), np.minimum(soft, 0.5))
    return out


def _where(points: list[Point]) -> str:
    return ", ".join(f"({p.x}, {p.y})" for p in points)


def resolve(img: np.ndarray, person: np.ndarray, prompt: Prompt) -> np.ndarray:
    """One person's region from a (H, W) bool map of everything that looks like a person.

    Picks the regions the prompt points at, grows regions from foreground clicks that land off
    every region (when another click or the box found the person), cuts away what background
    clicks inside the region point at and fills small holes. Raises PromptError when the prompt
    selects nothing."""
    region, missed = pick_regions(person, prompt)
    if not region.any():
        if prompt.box is not None and not any(p.foreground for p in prompt.points):
            raise PromptError(f"No person found inside the box {prompt.box}.",
                              "Draw the box around the whole person, or click on them with --point X,Y.")
        raise PromptError(f"The click at {_where(missed)} selects nothing: no person was found there.",
                          "Click on the person's face or body, or draw a box around them (--box X0,Y0,X1,Y1).")
    for p in missed:
        region |= grow_from_click(img, p, person & ~region)
    region = cut_background_clicks(img, region, prompt)
    if not region.any():
        raise PromptError("The background clicks removed the whole selection.",
                          "Put background clicks (--point=-X,Y) beside the person, not on them.")
    return fill_holes(region)


def finish(img: np.ndarray, region: np.ndarray, finder: FaceFinder | None, info: dict[str, object],
           face: tuple[int, int, int, int] | None = None) -> Selection:
    """The Selection of a non-empty (H, W) bool region: soft mask, tight box and face box
    (``face`` when the caller found it already, else looked for with ``finder``)."""
    box = mask_extent(region)
    if face is None and finder is not None:
        face = face_in(img, region, box, finder)
    info = {**info, "area": round(float(region.mean()), 4), "face_finder": getattr(finder, "name", None)}
    return Selection(mask=soft_edges(img, region), box=box, face=face, info=info)
