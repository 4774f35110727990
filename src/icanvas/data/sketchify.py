"""Make clean edge maps look hand-drawn: a training-time augmentation.

Models trained on clean edge maps fall apart on the lines a child really draws: wobbly,
uneven, broken, simplified, with strokes missing. :class:`Sketchify` applies such changes at
random, each transform with its own probability from :class:`~icanvas.methods.pix2pix.SketchifyConfig`::

    aug = Sketchify(SketchifyConfig(), image_size=256)
    rough = aug(sketch, np.random.default_rng(seed))  # (H, W) uint8, 255 paper / 0 ink

Transforms run in a fixed order: simplify, drop strokes, warp + wobble (one remap),
thickness, breaks, blur + threshold. The output is binary (0 / 255), has the input's shape,
and is never empty when the input had ink. Ink lives in a (H, W) uint8 map, 255 = ink, 0 = paper.
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy import ndimage

from icanvas.data.edges import thin
from icanvas.errors import ConfigError, InputImageError
from icanvas.methods.pix2pix import SketchifyConfig

REFERENCE_SIZE = 256  # px; strengths in SketchifyConfig are given at this image side

THICKEN_SHARE = 0.8  # when the thickness transform fires: chance of thicker (else thinner) lines
MERGE_SIZE = 5.0  # px at 256: simplify merges lines closer than this (double contours -> one line)
INTERIOR_FACTOR = 3.0  # simplify also drops strokes inside the main outline up to this many min lengths
INTERIOR_P = 0.5  # chance that each such interior stroke is dropped
PIECE_SIZE = 40.0  # px at 256: long strokes are cut into pieces about this long before dropping
WARP_GRID = 4  # control points per side of the smooth warp (low frequency)
WOBBLE_CELL = 12.0  # px at 256 between control points of the wobble (higher frequency)
GAP_SIZE = (2.0, 5.0)  # px at 256: range of the length of one break, on top of the line width
BLUR_SIGMA = (0.5, 1.5)  # px at 256: range of the blur before re-binarising
THRESHOLD_LEVEL = (0.3, 0.6)  # range of the ink level (fraction of full ink) kept after the blur
REMAP_LEVEL = 96  # 0-255: interpolated ink at or above this stays ink after a warp (keeps 1-px lines)
MIN_KEEP = 0.5  # a warp or blur that keeps less than this fraction of the ink is undone


def _pen(size: int) -> np.ndarray:
    """Round structuring element ``size`` px wide (a 2x2 square for size 2)."""
    if size <= 2:
        return np.ones((max(size, 1), max(size, 1)), np.uint8)
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))


def _count(ink: np.ndarray) -> int:
    return int(cv2.countNonZero(ink))


def _binary(img: np.ndarray, level: float) -> np.ndarray:
    """uint8 (H, W) -> 255 where ``img >= level``, else 0."""
    return cv2.threshold(img, float(np.ceil(level)) - 1.0, 255, cv2.THRESH_BINARY)[1]


def _mean_width(ink: np.ndarray) -> float:
    """Mean stroke width in px: twice the ink area over its outline length."""
    edge = _count(ink & ~cv2.erode(ink, np.ones((3, 3), np.uint8)))
    return max(1.0, 2.0 * _count(ink) / max(edge, 1))


def _components(ink: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """8-connected strokes: count (with the paper as label 0), labels (H, W) int32, boxes (n, 4) x, y, w, h."""
    n, labels = cv2.connectedComponents(ink, connectivity=8)
    boxes = np.zeros((n, 4), np.int64)
    for i, sl in enumerate(ndimage.find_objects(labels), start=1):  # faster than OpenCV's stats
        if sl is not None:
            boxes[i] = (sl[1].start, sl[0].start, sl[1].stop - sl[1].start, sl[0].stop - sl[0].start)
    return n, labels, boxes


class Sketchify:
    """Random hand-drawn look for a binary sketch; see the module doc for the transforms."""

    def __init__(self, config: SketchifyConfig, image_size: int = 256) -> None:
        if image_size < 16:
            raise ConfigError(f"image_size must be >= 16 px, got {image_size}.", "Pass the training image side.")
        self.config = config
        self.scale = image_size / REFERENCE_SIZE  # config strengths are px at 256
        self._grids: dict[tuple[int, int], np.ndarray] = {}  # identity sampling maps by shape

    # ------------------------------------------------------------------ entry point

    def __call__(self, sketch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        arr = np.asarray(sketch)
        if arr.ndim != 2 or min(arr.shape) < 4:
            raise InputImageError(
                f"Sketchify expects a sketch of shape (H, W), got {arr.shape}.",
                "Pass one grey channel, 255 = paper, 0 = ink.",
            )
        if not self.config.enabled:
            return arr.copy()
        if np.issubdtype(arr.dtype, np.floating) and arr.size and float(np.nanmax(arr)) <= 1.0:
            arr = arr * 255.0  # a float sketch in [0, 1]
        ink = np.where(arr < 128, 255, 0).astype(np.uint8)  # (H, W) 255 = ink, any input dtype
        if _count(ink) == 0:
            return np.asarray(sketch).copy()
        original = ink
        c = self.config
        # draw every decision up front, in a fixed order, so results depend on the seed only
        fire = rng.random(7) < np.array(
            [c.simplify_p, c.drop_strokes_p, c.warp_p, c.wobble_p, c.thickness_p, c.break_p, c.threshold_p]
        )
        if fire[0]:
            ink = self._simplify(ink, rng)
        if fire[1]:
            ink = self._drop_strokes(ink, rng)
        if fire[2] or fire[3]:
            ink = self._warp(ink, rng, smooth=bool(fire[2]), wobble=bool(fire[3]))
        if fire[4]:
            ink = self._thickness(ink, rng)
        if fire[5]:
            ink = self._break(ink, rng)
        if fire[6]:
            ink = self._threshold(ink, rng)
        if _count(ink) == 0:  # every transform keeps some ink; this is the last line of defence
            ink = original
        return (255 - ink).astype(np.uint8)

    # ------------------------------------------------------------------ transforms

    def _simplify(self, ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Merge near-parallel lines into one, then drop short strokes and some interior detail."""
        h, w = ink.shape
        width = _mean_width(ink)  # keep the input's pen
        merged = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, _pen(max(2, round(MERGE_SIZE * self.scale))))
        # thin at half resolution (about 5x cheaper), then draw back smoothly at full resolution
        size = (max(1, w // 2), max(1, h // 2))
        half = _binary(cv2.resize(merged, size, interpolation=cv2.INTER_AREA), 96)
        skeleton = thin(half)  # (H/2, W/2) 1-px centre lines
        if _count(skeleton) == 0:
            return ink
        soft = cv2.GaussianBlur(cv2.resize(skeleton, (w, h), interpolation=cv2.INTER_LINEAR), (0, 0), 1.2)
        lines = _binary(soft, 80)  # (H, W) smooth ~2 px lines
        if _count(lines) == 0:  # only specks were left
            return ink
        ink = lines if width < 3.5 else cv2.dilate(lines, _pen(round(width) - 2))
        n, labels, boxes = _components(ink)
        if n <= 2:
            return ink
        x, y, bw, bh = boxes.T
        length = np.maximum(bw, bh)  # (n,) stroke extent, px
        length[0] = -1
        main = int(np.argmax(length))
        min_len = self.config.simplify_min_length * self.scale
        inside = (x >= x[main]) & (y >= y[main]) & (x + bw <= x[main] + bw[main]) & (y + bh <= y[main] + bh[main])
        drop = length < min_len
        drop |= inside & (length < INTERIOR_FACTOR * min_len) & (rng.random(n) < INTERIOR_P)
        drop[0] = drop[main] = False
        return np.where(drop[labels], 0, ink).astype(np.uint8)

    def _drop_strokes(self, ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Remove a random fraction of stroke pieces (strokes cut into ~PIECE_SIZE px lengths)."""
        h, w = ink.shape
        step = max(4, round(PIECE_SIZE * self.scale))
        cut = ink.copy()
        ox, oy = rng.integers(0, step, size=2)
        cut[:, ox::step] = 0  # 1-px cuts split 8-connected strokes into pieces
        cut[oy::step, :] = 0
        n, labels = cv2.connectedComponents(cut, connectivity=8)
        pieces = n - 1
        if pieces < 2:
            return ink
        frac = rng.uniform(0.0, self.config.drop_strokes_max)
        k = min(pieces - 1, max(1, round(frac * pieces)))
        gone = np.zeros(n, bool)
        gone[1 + rng.choice(pieces, size=k, replace=False)] = True
        removed = np.where(gone[labels], 255, 0).astype(np.uint8)
        removed = cv2.dilate(removed, np.ones((3, 3), np.uint8)) & ink  # also the cut pixels beside them
        out = ink & ~removed
        return out if _count(out) else ink

    def _grid(self, shape: tuple[int, int]) -> np.ndarray:
        """Identity sampling map (H, W, 2) float32 of x, y pixel coordinates (cached per shape)."""
        if shape not in self._grids:
            ys, xs = np.indices(shape, dtype=np.float32)
            self._grids[shape] = np.dstack([xs, ys])
        return self._grids[shape]

    @staticmethod
    def _field(shape: tuple[int, int], cells: tuple[int, int], amp: float, rng: np.random.Generator) -> np.ndarray:
        """Smooth random displacement (H, W, 2) float32, about [-amp, amp] px, from a (cells) control grid."""
        h, w = shape
        coarse = rng.uniform(-amp, amp, size=(*cells, 2)).astype(np.float32)
        # cubic to a quarter-size map, then linear: as smooth as one cubic resize, ~10x cheaper
        mid = cv2.resize(coarse, (max(w // 4, cells[1]), max(h // 4, cells[0])), interpolation=cv2.INTER_CUBIC)
        return cv2.resize(mid, (w, h), interpolation=cv2.INTER_LINEAR)

    def _warp(self, ink: np.ndarray, rng: np.random.Generator, *, smooth: bool, wobble: bool) -> np.ndarray:
        """Move the ink along a low-frequency warp and/or a higher-frequency wobble (one remap)."""
        h, w = ink.shape
        where = self._grid((h, w)).copy()  # (H, W, 2) where each output pixel samples the input
        if smooth:
            where += self._field((h, w), (WARP_GRID, WARP_GRID), self.config.warp_strength * self.scale, rng)
        if wobble:
            cell = WOBBLE_CELL * self.scale
            cells = (max(2, round(h / cell) + 1), max(2, round(w / cell) + 1))
            where += self._field((h, w), cells, self.config.wobble_strength * self.scale, rng)
        moved = cv2.remap(ink, where, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        out = _binary(moved, REMAP_LEVEL)
        return out if _count(out) >= MIN_KEEP * _count(ink) else ink

    def _thickness(self, ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Thicker lines (dilation by up to thickness_max px) or thinner ones (never erased)."""
        if rng.random() < THICKEN_SHARE:
            largest = max(2, round((2 * self.config.thickness_max + 1) * self.scale))
            return cv2.dilate(ink, _pen(int(rng.integers(2, largest + 1))))
        thin = cv2.erode(ink, np.ones((2, 2), np.uint8))
        # lines too thin to erode stay as they were, so no stroke disappears
        keep = ink & ~cv2.dilate(thin, np.ones((3, 3), np.uint8))
        out = thin | keep
        return out if _count(out) else ink

    def _break(self, ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Erase a random fraction (up to break_max) of the ink as short gaps across strokes."""
        total = _count(ink)
        width = _mean_width(ink)  # px
        gap = max(2, round(width + rng.uniform(*GAP_SIZE) * self.scale))  # px
        frac = rng.uniform(0.0, self.config.break_max)
        n_gaps = max(1, round(frac * total / (gap * width)))
        where = np.flatnonzero(ink)
        centres = np.zeros(ink.shape, np.uint8)
        centres.flat[rng.choice(where, size=min(n_gaps, where.size), replace=False)] = 255
        holes = cv2.dilate(centres, _pen(gap))
        out = ink & ~holes
        return out if _count(out) else ink

    def _threshold(self, ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Blur, then binarise at a random level: uneven, rounded, thicker or thinner lines."""
        sigma = rng.uniform(*BLUR_SIGMA) * self.scale
        level = rng.uniform(*THRESHOLD_LEVEL) * 255.0
        soft = cv2.GaussianBlur(ink, (0, 0), sigma)
        out = _binary(soft, level)
        return out if _count(out) >= MIN_KEEP * _count(ink) else ink
