"""Photo -> line drawing without downloaded weights.

Two classical detectors, XDoG (difference of Gaussians with a soft threshold) and Canny,
each followed by the same clean-up pix2pix applied to its HED edges: binarise, thin to
1-px lines, drop tiny connected components, then thicken to a pen width. The aim is a
drawing a child could make of the object: outlines and main contours, little texture.

Methods live in an explicit registry keyed by short name::

    @register_edges("mine")
    def mine(photo: np.ndarray, **params) -> np.ndarray:  # (H, W) float32 strength in [0, 1]
        ...

Sizes inside the methods are given in pixels at 256 px and scale with ``min(H, W) / 256``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import cv2
import numpy as np

from icanvas.data.images import Placement, letterbox
from icanvas.errors import ConfigError, InputImageError

# A method maps a photo (H, W, 3) uint8 RGB to a line strength (H, W) float32 in [0, 1].
EdgeMethod = Callable[..., np.ndarray]

EDGE_METHODS: dict[str, EdgeMethod] = {}

REFERENCE_SIZE = 256  # px; sizes in the methods are given at this image side
HOLE_AREA = 24  # px^2 at 256: paper enclosed by ink smaller than this is filled before thinning


# Zhang-Suen thinning as one table lookup per sub-iteration: a 3x3 filter packs a pixel's eight
# neighbours into a byte (bit 0 = the one above, then clockwise), and the table of each of the two
# sub-iterations says whether a pixel with that neighbourhood is removed.
_NEIGHBOUR_BITS = np.array([[128, 1, 2], [64, 0, 4], [32, 16, 8]], np.float32)


def _zhang_suen_tables() -> tuple[np.ndarray, np.ndarray]:
    code = np.arange(256)
    p2, p3, p4, p5, p6, p7, p8, p9 = ((code >> k) & 1 for k in range(8))
    ring = [p2, p3, p4, p5, p6, p7, p8, p9, p2]
    rises = sum((a == 0) & (b == 1) for a, b in zip(ring, ring[1:]))  # 0 -> 1 steps around the pixel
    count = p2 + p3 + p4 + p5 + p6 + p7 + p8 + p9
    removable = (rises == 1) & (count >= 2) & (count <= 6)
    first = removable & (p2 * p4 * p6 == 0) & (p4 * p6 * p8 == 0)
    second = removable & (p2 * p4 * p8 == 0) & (p2 * p6 * p8 == 0)
    return first.astype(np.uint8), second.astype(np.uint8)


_ZHANG_SUEN = _zhang_suen_tables()


def thin(mask: np.ndarray) -> np.ndarray:
    """(H, W) uint8, 255 on strokes (>= 128 counts as stroke) -> 1-px centre lines (Zhang-Suen), 255 on the lines.

    The same lines as OpenCV's ``ximgproc.thinning`` (Zhang-Suen), pixel for pixel, about 3x
    faster: each sub-iteration is a filter and a table lookup over the ink's box instead of a
    loop over every pixel of the image. As there, pixels on the image border are never removed.
    """
    img = (np.asarray(mask) >= 128).astype(np.uint8)
    out = np.zeros(img.shape, np.uint8)
    bx, by, bw, bh = cv2.boundingRect(img)  # the ink's box; all zero without ink
    if bw == 0:
        return out
    h, w = img.shape
    y0, y1, x0, x1 = max(0, by - 1), min(h, by + bh + 1), max(0, bx - 1), min(w, bx + bw + 1)
    ink = img[y0:y1, x0:x1]  # the ink's box and a ring of paper, or the image border: never removed
    while min(ink.shape) >= 3:
        changed = False
        for table in _ZHANG_SUEN:
            code = cv2.filter2D(ink, -1, _NEIGHBOUR_BITS, borderType=cv2.BORDER_CONSTANT)  # (h, w) uint8 0..255
            gone = cv2.LUT(code, table)
            gone[0, :] = gone[-1, :] = 0
            gone[:, 0] = gone[:, -1] = 0
            gone &= ink
            if gone.any():
                ink ^= gone
                changed = True
        if not changed:
            break
    out[y0:y1, x0:x1] = ink * 255
    return out


def register_edges(name: str) -> Callable[[EdgeMethod], EdgeMethod]:
    """Decorator: make a line-strength function available to :func:`extract_lines` as ``name``."""

    def wrap(fn: EdgeMethod) -> EdgeMethod:
        EDGE_METHODS[name] = fn
        return fn

    return wrap


# ----------------------------------------------------------------------------- helpers


def ink_mask(sketch: np.ndarray) -> np.ndarray:
    """Boolean (H, W) mask of the ink of a sketch (dark pixels)."""
    return np.asarray(sketch) < 128


def mask_extent(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1) around the True pixels of a (H, W) mask (ends exclusive), None when there are none."""
    cols, rows = np.flatnonzero(mask.any(axis=0)), np.flatnonzero(mask.any(axis=1))
    if len(cols) == 0:
        return None
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def ink_extent(sketch: np.ndarray) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1) around the ink (ends exclusive), None for blank paper."""
    return mask_extent(ink_mask(sketch))


def ink_span(sketch: np.ndarray) -> int:
    """Longer side of the ink's bounding box, px (0 for blank paper)."""
    box = ink_extent(sketch)
    return max(box[2] - box[0], box[3] - box[1]) if box else 0


def as_photo(photo: np.ndarray) -> np.ndarray:
    """Validate a photo and return it as a contiguous (H, W, 3) uint8 array (grey is repeated)."""
    arr = np.asarray(photo)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] != 3 or min(arr.shape[:2]) < 8:
        raise InputImageError(
            f"Expected a photo of shape (H, W, 3) with H, W >= 8, got {arr.shape}.",
            "Pass an RGB image as a uint8 array, e.g. np.asarray(PIL.Image.open(path).convert('RGB')).",
        )
    if arr.dtype != np.uint8:
        if np.issubdtype(arr.dtype, np.floating) and arr.size and float(np.nanmax(arr)) <= 1.0:
            arr = arr * 255.0
        arr = np.clip(np.nan_to_num(arr), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(arr)


def _scale(shape: tuple[int, ...]) -> float:
    return min(shape[0], shape[1]) / REFERENCE_SIZE


def _smooth(photo: np.ndarray, s: float, passes: int) -> np.ndarray:
    """Edge-preserving smoothing that flattens fur, grass and fabric before edge detection."""
    out = photo
    for _ in range(passes):
        out = cv2.bilateralFilter(out, d=max(3, round(7 * s)) | 1, sigmaColor=30, sigmaSpace=3 * s)
    return out


def _gray(photo: np.ndarray, chroma: float = 0.0) -> np.ndarray:
    """(H, W, 3) uint8 RGB -> (H, W) float32 tone in [0, 1]: lightness, darkened by colourfulness.

    With ``chroma`` > 0 a saturated colour reads darker than a grey of the same lightness, so a
    pale pink shoe on white paper still has a dark side to draw.
    """
    lab = cv2.cvtColor(photo, cv2.COLOR_RGB2LAB).astype(np.float32)  # (H, W, 3), a and b centred at 128
    tone = lab[:, :, 0] / 255.0
    if chroma > 0:
        sat = np.hypot(lab[:, :, 1] - 128.0, lab[:, :, 2] - 128.0) / 128.0  # (H, W) in ~[0, 1]
        tone = tone - chroma * sat
    return np.clip(tone, 0.0, 1.0)


def _pen(size: int) -> np.ndarray:
    """Structuring element of a round pen ``size`` px wide."""
    if size <= 2:
        return np.ones((max(size, 1), max(size, 1)), np.uint8)
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))


def _drop_small(mask: np.ndarray, min_size: int) -> np.ndarray:
    """Remove 8-connected components of fewer than ``min_size`` pixels from a uint8 0/255 mask."""
    if min_size <= 1:
        return mask
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    keep = stats[:, cv2.CC_STAT_AREA] >= min_size
    keep[0] = False  # label 0 is the background
    return np.where(keep[labels], 255, 0).astype(np.uint8)


# ----------------------------------------------------------------------------- clean-up


def clean_lines(
    strength: np.ndarray,
    *,
    threshold: float | None = None,
    min_component: int = 8,
    line_width: int = 1,
    fill_holes: int = 0,
) -> np.ndarray:
    """Line strength -> clean sketch: binarise, thin to 1 px, drop specks, thicken.

    ``strength`` is (H, W) float in [0, 1] with 1 = strong line. ``threshold`` is the strength
    above which a pixel is ink (None = Otsu's level, kept within [0.2, 0.6]).
    ``min_component`` is the smallest kept line, in pixels of its 1-px skeleton.
    ``line_width`` is the pen width of the result, px. ``fill_holes`` fills paper holes inside
    the binarised ink smaller than this many pixels before thinning, so thick or doubled lines
    thin to one line instead of little loops (0 = off). Returns a sketch (H, W) uint8, 255 paper.
    """
    s = np.asarray(strength, dtype=np.float32)
    if s.ndim != 2:
        raise InputImageError(f"Expected a (H, W) line strength, got shape {s.shape}.", "Pass one channel.")
    if line_width < 1:
        raise ConfigError(f"line_width must be >= 1, got {line_width}.", "Use 1 for hairlines, 2-3 for a pen.")
    s8 = np.clip(np.nan_to_num(s) * 255.0 + 0.5, 0, 255).astype(np.uint8)  # (H, W) uint8
    if threshold is None:
        level, _ = cv2.threshold(s8, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        threshold = float(np.clip(level / 255.0, 0.2, 0.6))
    mask = np.where(s8 >= threshold * 255.0, 255, 0).astype(np.uint8)
    if fill_holes > 0:
        n, labels, stats, _ = cv2.connectedComponentsWithStats(255 - mask, connectivity=4)
        small = stats[:, cv2.CC_STAT_AREA] < fill_holes
        small[0] = False  # label 0 is the ink itself
        mask[small[labels]] = 255
    mask = thin(mask)  # 1-px lines
    mask = _drop_small(mask, min_component)
    if line_width > 1:
        mask = cv2.dilate(mask, _pen(line_width))
    return (255 - mask).astype(np.uint8)


def normalize_edge_map(sketch: np.ndarray, *, line_width: int = 2, min_component: int = 8) -> np.ndarray:
    """An existing edge map (dark lines on white, maybe JPEG-noisy) -> the look of :func:`extract_lines`.

    Grey lines are binarised at mid-grey after a light blur that removes JPEG ringing, then
    thinned, de-speckled and drawn again with a ``line_width`` px pen.
    """
    arr = np.asarray(sketch)
    if arr.ndim == 3:
        arr = cv2.cvtColor(np.ascontiguousarray(arr[:, :, :3]).astype(np.uint8), cv2.COLOR_RGB2GRAY)
    if arr.ndim != 2:
        raise InputImageError(f"Expected a (H, W) edge map, got shape {arr.shape}.", "Pass a grey image.")
    ink = 1.0 - arr.astype(np.float32) / 255.0  # (H, W) 1 = black line
    ink = cv2.GaussianBlur(ink, (3, 3), 0.6)
    return clean_lines(ink, threshold=0.5, min_component=min_component, line_width=line_width)


def resize_sketch(sketch: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resize a sketch so thin lines survive shrinking.

    Ink is area-averaged and then boosted by the shrink factor, so a 1 px line drawn on a
    3000 px page is still a line at 256 px instead of fading into the paper.
    """
    h, w = sketch.shape[:2]
    ink = (np.asarray(sketch) < 128).astype(np.float32)  # (H, W) 1 = ink
    k = max(h / height, w / width, 1.0)
    interp = cv2.INTER_AREA if k > 1 else cv2.INTER_LINEAR
    small = cv2.resize(ink, (width, height), interpolation=interp) * k
    return np.where(small >= 0.5, 0, 255).astype(np.uint8)


def letterbox_sketch(sketch: np.ndarray, size: int) -> tuple[np.ndarray, Placement]:
    """:func:`~icanvas.data.images.letterbox` for sketches: shrink keeping thin lines, then pad with paper."""
    h, w = sketch.shape[:2]
    k = size / max(h, w)
    small = resize_sketch(sketch, max(1, min(size, round(w * k))), max(1, min(size, round(h * k))))
    return letterbox(small, size, fill=255)  # long side already == size: only pads


def fit_sketch(sketch: np.ndarray, size: int, mode: str = "pad") -> np.ndarray:
    """Square ``size`` x ``size`` sketch: "pad" keeps the whole drawing, "crop" fills the square."""
    if mode != "crop":
        return letterbox_sketch(sketch, size)[0]
    h, w = sketch.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    return resize_sketch(sketch[top : top + side, left : left + side], size, size)


# ----------------------------------------------------------------------------- methods


@register_edges("xdog")
def xdog_strength(
    photo: np.ndarray,
    *,
    sigma: float = 1.4,  # inner Gaussian, px at 256; larger = coarser lines, less texture
    k: float = 1.6,  # ratio of the outer to the inner Gaussian
    tau: float = 1.0,  # weight of the outer Gaussian; < 1 ignores faint edges in bright areas
    phi: float = 3.0,  # sharpness of the tanh soft threshold (unit: 1 / reference contrast)
    high: float = 0.45,  # a line must reach this contrast somewhere, fraction of the reference
    low: float = 0.18,  # and continues while above this fraction of the reference
    min_length: int = 10,  # lines whose bounding box is shorter than this (px at 256) are texture
    chroma: float = 0.4,  # how much colourfulness darkens the tone; 0 = lightness only
    smooth_passes: int = 2,  # bilateral passes that flatten texture first; 0 = none
) -> np.ndarray:
    """XDoG: dark side of each edge of the smoothed lightness, soft-thresholded, with hysteresis.

    The reference contrast is the 99th percentile of the edge response, so low-contrast photos
    still give lines; hysteresis keeps long faint contours attached to strong ones.
    """
    s = _scale(photo.shape)
    gray = _gray(_smooth(photo, s, smooth_passes), chroma)
    g1 = cv2.GaussianBlur(gray, (0, 0), sigma * s)
    g2 = cv2.GaussianBlur(gray, (0, 0), sigma * k * s)
    neg = np.maximum(tau * g2 - g1, 0.0)  # (H, W) > 0 on the dark side of an edge
    ref = max(float(np.percentile(neg, 99)), 0.01)  # flat images: faint noise must not become lines
    rel = neg / ref  # (H, W) contrast relative to the image's strong edges
    weak = (rel >= low).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(weak, connectivity=8)
    strong = np.zeros(n, bool)
    strong[np.unique(labels[rel >= high])] = True
    extent = np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT])
    strong &= extent >= min_length * s
    strong[0] = False
    # tanh(phi * rel) rescaled so that ``low`` maps to 0.5, the threshold used by extract_lines
    soft = np.tanh(phi * rel) / (2.0 * np.tanh(phi * low))
    return np.where(strong[labels], np.clip(soft, 0.0, 1.0), 0.0).astype(np.float32)


@register_edges("canny")
def canny_strength(
    photo: np.ndarray,
    *,
    sigma: float = 1.5,  # Gaussian blur before gradients, px at 256
    high_quantile: float = 0.88,  # gradient quantile used as Canny's high threshold
    low_ratio: float = 0.45,  # low threshold as a fraction of the high one
    strong_share: float = 0.2,  # high threshold is at least this share of the strongest gradients
    min_length: int = 16,  # Canny pieces shorter than this (px at 256) are texture and dropped
    merge: float = 3.0,  # edges closer than this (px at 256), e.g. both sides of a thin line, become one
    smooth_passes: int = 2,  # bilateral passes that flatten texture first; 0 = none
) -> np.ndarray:
    """Canny on the smoothed lightness with thresholds from the image's own gradient quantiles."""
    s = _scale(photo.shape)
    gray = _gray(_smooth(photo, s, smooth_passes))
    gray = cv2.GaussianBlur(gray, (0, 0), sigma * s)
    g16 = np.clip(gray * 4080.0, 0, 32767).astype(np.int16)  # (H, W) 16x 8-bit precision for Canny
    gx = cv2.Sobel(g16, cv2.CV_16S, 1, 0, ksize=3)
    gy = cv2.Sobel(g16, cv2.CV_16S, 0, 1, ksize=3)
    mag = np.hypot(gx.astype(np.float32), gy.astype(np.float32))  # (H, W) gradient magnitude
    q_high, q_top = np.quantile(mag, [high_quantile, 0.995])
    # on a mostly flat photo the quantile is noise: stay above a share of the strongest edges
    high = max(float(q_high), strong_share * float(q_top), 80.0 / s)
    edges = cv2.Canny(gx, gy, high * low_ratio, high, L2gradient=True)  # (H, W) uint8 0/255
    edges = _drop_small(edges, max(2, round(min_length * s)))
    if merge >= 2:
        edges = cv2.dilate(edges, _pen(round(merge * s)))  # clean_lines thins it back to 1 px
    return edges.astype(np.float32) / 255.0


# ----------------------------------------------------------------------------- public entry

MIN_EXTRACT_SIDE = 96  # smaller photos are upscaled to this for detection, then lines shrunk back


def extract_lines(
    photo: np.ndarray,
    method: str = "xdog",
    *,
    line_width: int = 2,
    min_component: int = 8,
    **params: float,
) -> np.ndarray:
    """Photo (H, W, 3) uint8 RGB -> sketch (H, W) uint8, 255 paper / 0 ink, ``line_width`` px lines.

    ``method`` names an entry of :data:`EDGE_METHODS`; ``params`` go to that method.
    ``min_component`` drops lines shorter than this many pixels (after thinning).
    """
    if method not in EDGE_METHODS:
        raise ConfigError(
            f"Unknown line method {method!r}.",
            f"Known methods: {', '.join(sorted(EDGE_METHODS))}.",
        )
    fn = EDGE_METHODS[method]
    accepted = inspect.signature(fn).parameters
    unknown = sorted(set(params) - set(accepted))
    if unknown and not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted.values()):
        names = [n for n, p in accepted.items() if p.kind is inspect.Parameter.KEYWORD_ONLY]
        raise ConfigError(
            f"Line method {method!r} has no parameter {unknown[0]!r}.",
            f"Its parameters: {', '.join(names) or 'none'}.",
        )
    img = as_photo(photo)
    h, w = img.shape[:2]
    if min(h, w) < MIN_EXTRACT_SIDE:  # too small for the detectors: work larger, then shrink
        k = MIN_EXTRACT_SIDE / min(h, w)
        big = cv2.resize(img, (round(w * k), round(h * k)), interpolation=cv2.INTER_CUBIC)
        lines = extract_lines(big, method, line_width=max(1, round(line_width * k)), min_component=round(min_component * k), **params)
        small = cv2.resize(lines, (w, h), interpolation=cv2.INTER_AREA)
        return np.where(small < 200, 0, 255).astype(np.uint8)
    strength = fn(img, **params)  # (H, W) float32 in [0, 1]
    holes = round(HOLE_AREA * _scale(img.shape) ** 2)
    return clean_lines(strength, threshold=0.5, min_component=min_component, line_width=line_width, fill_holes=holes)
