"""The classical cartoon look, no weights: flat colour areas with dark ink lines.

Three steps, composed by :func:`cartoonize`:

1. edge-preserving smoothing (repeated bilateral filtering at half size) flattens skin, fabric
   and hair into areas while keeping their borders;
2. colour quantisation: k-means in CIELAB on a fixed-seed sample of pixels, every pixel then
   takes its nearest of a few colours;
3. ink lines: pixels darker than their neighbourhood (adaptive threshold of the smoothed
   lightness), specks dropped, thickened to a pen width, plus the outline of a mask when given.

Sizes are given in px at 512 px and scale with the image's longer side. :class:`CartoonRestyler`
wraps it as a stage-3 :class:`~icanvas.portrait.stages.Restyler`: the whole person for the
``cartoon`` style, the rest of the body around a learned model's face, and a baseline.
"""

from __future__ import annotations

import cv2
import numpy as np

from icanvas.data.edges import as_photo
from icanvas.errors import ConfigError

REFERENCE_SIDE = 512  # px; the sizes below are given at this longer side
COLORS = 8  # colours after quantisation
SMOOTH_PASSES = 2  # bilateral passes (0 = no smoothing)
SMOOTH_SIGMA_COLOR = 40  # bilateral colour sigma, grey levels: differences much larger than this are kept as edges
SMOOTH_DIAMETER = 9  # bilateral neighbourhood at half size, px at 512
KMEANS_SAMPLE = 2048  # pixels (drawn with replacement) the colour centres are fitted on
KMEANS_ITERS = 10  # Lloyd iterations of the k-means
LINE_BLOCK = 11  # adaptive-threshold neighbourhood, px at 512 (odd)
LINE_OFFSET = 5  # a pixel this many grey levels darker than its neighbourhood's mean is ink
LINE_BLUR = 5  # median blur before thresholding, px (odd, at most 5: OpenCV is ~25x slower above)
LINE_MIN_AREA = 30  # ink specks smaller than this, px^2 at 512, are dropped
LINE_WIDTH = 2  # pen width of the ink, px at 512 (0 = no lines)
INK = (28, 22, 32)  # RGB of the lines: a warm near-black
SEED = 0  # seed of the pixel sample the colours are fitted on: the same photo gives the same cartoon


def _odd(v: float) -> int:
    return max(3, int(round(v)) | 1)


def smooth(img: np.ndarray, passes: int = SMOOTH_PASSES, scale: float = 1.0) -> np.ndarray:
    """Repeated bilateral filtering at half size: (H, W, 3) uint8 -> same, flat areas with sharp borders."""
    if passes <= 0:
        return img.copy()
    h, w = img.shape[:2]
    small = cv2.resize(img, (max(1, w // 2), max(1, h // 2)), interpolation=cv2.INTER_AREA)  # (H/2, W/2, 3)
    d = _odd(SMOOTH_DIAMETER * scale / 2)
    for _ in range(passes):
        small = cv2.bilateralFilter(small, d, SMOOTH_SIGMA_COLOR, d / 2)
    up = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    return cv2.bilateralFilter(up, 5, SMOOTH_SIGMA_COLOR, 2)  # re-sharpen the borders the upsampling softened


def quantize(img: np.ndarray, colors: int = COLORS, *, seed: int = SEED) -> np.ndarray:
    """(H, W, 3) uint8 RGB -> the same with at most ``colors`` colours (k-means in CIELAB).

    The centres are fitted on a seeded sample; every pixel then takes the centre nearest to its
    colour cell in a 32 x 32 x 32 table of RGB, so the cost per pixel is one lookup. Colours
    whose centre lost all its pixels are simply unused, so fewer may appear.
    """
    if colors < 2:
        raise ConfigError(f"A cartoon needs at least 2 colours, not {colors}.", "Use 2 or more colours.")
    flat = img.reshape(-1, 3)  # (N, 3)
    rng = np.random.default_rng(seed)
    sample = _lab(flat[rng.integers(0, len(flat), size=min(KMEANS_SAMPLE, len(flat)))])  # (S, 3)
    order = np.argsort(sample[:, 0], kind="stable")  # start from lightness quantiles: deterministic, spread out
    centres = sample[order[(np.arange(colors) * (len(sample) - 1)) // max(1, colors - 1)]]  # (K, 3)
    for _ in range(KMEANS_ITERS):
        nearest = _nearest(sample, centres)  # (S,)
        count = np.bincount(nearest, minlength=colors)[:, None]  # (K, 1)
        total = np.stack([np.bincount(nearest, weights=sample[:, c], minlength=colors) for c in range(3)], axis=1)  # (K, 3)
        centres = np.where(count > 0, total / np.maximum(count, 1), centres).astype(np.float32)  # an empty centre stays
    cells = np.arange(32, dtype=np.uint8) * 8 + 4  # centre of each 8-level cell of a channel
    cube = np.stack(np.meshgrid(cells, cells, cells, indexing="ij"), axis=-1).reshape(-1, 3)  # (32768, 3) RGB
    palette = cv2.cvtColor(centres.round().clip(0, 255).astype(np.uint8)[None], cv2.COLOR_LAB2RGB)[0]  # (K, 3)
    table = palette[_nearest(_lab(cube), centres)]  # (32768, 3) colour cell -> its centre's RGB
    q = img >> 3  # (H, W, 3) cell of each channel
    cell = (q[..., 0].astype(np.uint16) << 10) | (q[..., 1].astype(np.uint16) << 5) | q[..., 2]  # (H, W)
    return np.take(table, cell, axis=0)  # (H, W, 3)


def _lab(rgb: np.ndarray) -> np.ndarray:
    """(N, 3) uint8 RGB -> (N, 3) float32 CIELAB as OpenCV scales it to 0..255."""
    return cv2.cvtColor(np.ascontiguousarray(rgb)[None], cv2.COLOR_RGB2LAB)[0].astype(np.float32)


def _nearest(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Index of the nearest centre for each of (N, 3) points, (N,) int."""
    # |p - c|^2 = |p|^2 - 2 p.c + |c|^2; |p|^2 is the same for every centre
    d = (centres * centres).sum(axis=1)[None, :] - 2.0 * points @ centres.T  # (N, K)
    return d.argmin(axis=1)


def ink_lines(img: np.ndarray, scale: float = 1.0, width: int = LINE_WIDTH, outline: np.ndarray | None = None) -> np.ndarray:
    """(H, W) float32 ink coverage in [0, 1] of a smoothed (H, W, 3) uint8 picture (and a mask's outline)."""
    h, w = img.shape[:2]
    if width <= 0:
        return np.zeros((h, w), np.float32)
    grey = cv2.medianBlur(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), LINE_BLUR)  # texture that survived smoothing
    ink = cv2.adaptiveThreshold(grey, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, _odd(LINE_BLOCK * scale), LINE_OFFSET)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    keep = stats[:, cv2.CC_STAT_AREA] >= LINE_MIN_AREA * scale * scale
    keep[0] = False  # label 0 is the paper
    ink = np.where(keep[labels], 255, 0).astype(np.uint8)
    pen = max(1, int(round(width * scale)))
    if outline is not None:
        contours, _ = cv2.findContours((outline > 0.5).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        cv2.drawContours(ink, contours, -1, 255, pen + 1)
    if pen > 1:
        ink = cv2.dilate(ink, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (pen, pen)))
    return cv2.GaussianBlur(ink.astype(np.float32) / 255.0, (3, 3), 0.7)  # anti-aliased edges


def cartoonize(
    img: np.ndarray,
    *,
    colors: int = COLORS,
    passes: int = SMOOTH_PASSES,
    line_width: int = LINE_WIDTH,
    outline: np.ndarray | None = None,
    ink: tuple[int, int, int] = INK,
) -> np.ndarray:
    """(H, W, 3) uint8 RGB photo -> the same size as a cartoon: flat colours and ink lines.

    ``outline``: optional (H, W) mask in [0, 1] whose border is inked too (a person's silhouette).
    """
    img = as_photo(img)
    scale = max(img.shape[:2]) / REFERENCE_SIDE
    flat = smooth(img, passes, scale)
    quant = quantize(flat, colors).astype(np.float32)
    cover = ink_lines(flat, scale, line_width, outline)[..., None]  # (H, W, 1)
    out = quant * (1.0 - cover) + np.asarray(ink, np.float32) * cover
    return out.round().astype(np.uint8)


class CartoonRestyler:
    """Stage 3 without weights: :func:`cartoonize` of the crop, the person's silhouette inked."""

    name = "cartoon"
    scope = "person"  # restyles the whole person crop (a face-only restyler says "face")

    def __init__(self, colors: int = COLORS, passes: int = SMOOTH_PASSES, line_width: int = LINE_WIDTH) -> None:
        self.colors, self.passes, self.line_width = colors, passes, line_width

    def restyle(self, crop: np.ndarray, mask: np.ndarray, face: tuple[int, int, int, int] | None) -> np.ndarray:
        """(h, w, 3) uint8 crop, (h, w) float32 mask -> (h, w, 3) uint8 cartoon; ``face`` is not needed."""
        outline = mask if mask is not None and np.asarray(mask).shape == crop.shape[:2] else None
        return cartoonize(crop, colors=self.colors, passes=self.passes, line_width=self.line_width, outline=outline)
