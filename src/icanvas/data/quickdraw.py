"""Quick, Draw! doodles: bitmaps for training the recognizer, stroke files for testing it.

- :func:`load_bitmaps` reads ``<class>.npy`` files (uint8 rows of 784 = 28 x 28, 0 = paper,
  255 = ink) into the project's sketch convention (255 = paper, 0 = ink, grey anti-aliasing).
- :func:`holdout_split` holds out a fixed fraction of every class, deterministically.
- :func:`read_strokes` reads ``.ndjson`` stroke files (one JSON object with ``drawing`` per line).
- :func:`sketch_to_bitmap` turns any sketch into the look of a Quick, Draw! bitmap: the strokes'
  centre lines are redrawn with Quick, Draw!'s fixed pen, so thin pencil lines on a 512 px
  canvas and thick crayon lines look the same to the recognizer as the doodles it learnt from.
- :class:`BitmapBatcher` builds augmented training batches as a pure function of (seed, step, rank).
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from icanvas.data.edges import ink_extent, resize_sketch, thin
from icanvas.errors import DatasetError, InputImageError
from icanvas.methods.recognizer import RecognizerDataConfig

BITMAP_SIDE = 28  # side of a Quick, Draw! bitmap, px
# Geometry of Quick, Draw! bitmaps, in the units of its simplified strokes (the longer side
# of a drawing's box spans 0..255): strokes are drawn QD_LINE wide, centred in a square
# frame with QD_PAD of padding plus half a line on every side, then shrunk to 28 px.
QD_BOX = 256  # units spanned by a drawing's longer side
QD_LINE = 16  # stroke diameter, units
QD_PAD = 16  # padding on each side, units
QD_FRAME = QD_BOX + 2 * QD_PAD + QD_LINE  # side of the square frame, units (304)
_WORK_SIDE = 256  # long side, px, at which a sketch's centre lines are found


# ============================================================================ bitmaps


def _read_npy(path: Path) -> np.ndarray:
    try:
        arr = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as e:
        raise DatasetError(f"{path} is not a readable .npy array ({e}).", "Replace it with an intact copy of the Quick, Draw! bitmap file.") from e
    if arr.dtype != np.uint8 or arr.ndim not in (2, 3) or arr.shape[0] == 0 or arr[0].size != BITMAP_SIDE**2:
        raise DatasetError(f"{path} holds a {arr.dtype} array of shape {arr.shape}, not uint8 rows of 784 = 28 x 28 pixels.",
                           "Use Quick, Draw! numpy bitmaps: shape (N, 784) or (N, 1, 784), uint8.")
    return arr.reshape(len(arr), BITMAP_SIDE, BITMAP_SIDE)  # (N, 28, 28) 0 paper, 255 ink


def load_bitmaps(folder: str | Path, classes: tuple[str, ...] | list[str] | None = None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(images (N, 28, 28) uint8 255 = paper, labels (N,) int64, class names) from ``<class>.npy`` files.

    ``classes`` picks files by stem and fixes the label order; None or empty takes every
    ``.npy`` file, sorted by name.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(f"Bitmap folder {folder} does not exist.", "Pass the folder that holds the Quick, Draw! <class>.npy files.")
    found = {p.stem: p for p in folder.glob("*.npy") if p.is_file()}
    names = list(classes) if classes else sorted(found)
    if not names:
        raise DatasetError(f"{folder} holds no .npy bitmap files.", "Pass the folder that holds the Quick, Draw! <class>.npy files.")
    missing = [n for n in names if n not in found]
    if missing:
        raise DatasetError(f"{folder} has no bitmap file for class {missing[0]!r}.", f"Available: {', '.join(sorted(found)) or 'none'}.")
    arrays = [_read_npy(found[n]) for n in names]
    images = 255 - np.concatenate(arrays)  # (N, 28, 28) 255 paper, 0 ink
    labels = np.concatenate([np.full(len(a), i, np.int64) for i, a in enumerate(arrays)])
    return images, labels, names


def holdout_split(labels: np.ndarray, fraction: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(train indices, held-out indices): ``round(fraction * n)`` of each class held out, fixed by ``seed``.

    Each class has its own random stream, so adding a class never changes another's split.
    """
    if not 0.0 < fraction < 1.0:
        raise DatasetError(f"Hold-out fraction must be in (0, 1), got {fraction}.", "Use e.g. 0.1 for 10% per class.")
    train, held = [], []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        perm = idx[np.random.default_rng([seed, int(c)]).permutation(len(idx))]
        k = min(len(idx) - 1, int(round(fraction * len(idx))))  # keep at least one to train on
        held.append(np.sort(perm[:k]))
        train.append(np.sort(perm[k:]))
    return np.concatenate(train), np.concatenate(held)


def fold_split(labels: np.ndarray, folds: int, seed: int = 0) -> np.ndarray:
    """Fold number (0 .. folds - 1) of every example: each class is shuffled by ``seed`` and dealt
    round the folds, so every fold holds a near-equal share of every class (cross-validation)."""
    if folds < 2:
        raise DatasetError(f"A cross-validation needs at least 2 folds, got {folds}.", "Use e.g. 5 folds.")
    out = np.zeros(len(labels), np.int64)
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        out[idx[np.random.default_rng([seed, 7, int(c)]).permutation(len(idx))]] = np.arange(len(idx)) % folds
    return out


# ============================================================================ strokes


def read_strokes(path: str | Path) -> list[list]:
    """The drawings of a Quick, Draw! ``.ndjson`` file: a list of ``[[xs], [ys]]`` stroke lists."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DatasetError(f"Stroke file {path} does not exist.", "Check the path; stroke files are named <class>.ndjson.") from None
    except (OSError, UnicodeDecodeError) as e:
        raise DatasetError(f"Stroke file {path} cannot be read ({e}).", "Replace it with an intact copy.") from e
    drawings = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            drawing = json.loads(line)["drawing"]
        except (json.JSONDecodeError, KeyError, TypeError) as e:
            raise DatasetError(f"{path}, line {n}: not a JSON object with a 'drawing' field ({e}).",
                               "Each line must be one Quick, Draw! record, e.g. {\"word\": ..., \"drawing\": [[[x...], [y...]], ...]}.") from e
        if not isinstance(drawing, list):
            raise DatasetError(f"{path}, line {n}: 'drawing' is not a list of strokes.", "Use Quick, Draw! simplified ndjson files.")
        drawings.append(drawing)
    return drawings


# ============================================================================ any sketch -> bitmap


def sketch_to_bitmap(lines: np.ndarray, size: int = BITMAP_SIDE) -> np.ndarray:
    """Any sketch (H, W) uint8 (255 paper) -> (size, size) uint8 grey sketch drawn like a Quick, Draw! bitmap.

    The ink's centre lines (skeleton) are scaled so that their box spans ``QD_BOX`` units
    along the longer side, centred in a ``QD_FRAME`` frame and redrawn ``QD_LINE`` wide, then
    area-shrunk to ``size`` (which anti-aliases like the original rendering).
    Raises InputImageError when there is no ink.
    """
    arr = np.asarray(lines)
    if arr.ndim != 2 or arr.dtype != np.uint8 or min(arr.shape) < 1:
        raise InputImageError(f"Expected a sketch of shape (H, W) uint8, got {arr.shape} {arr.dtype}.",
                              "Pass black lines on white paper, e.g. normalize_drawing(read_image(path)).lines.")
    box = ink_extent(arr)
    if box is None:
        raise InputImageError("The drawing is empty: no lines were found.", "Draw something first.")
    x0, y0, x1, y1 = box
    crop = arr[max(0, y0 - 1) : y1 + 1, max(0, x0 - 1) : x1 + 1]
    k = _WORK_SIDE / max(crop.shape)
    crop = resize_sketch(crop, max(1, round(crop.shape[1] * k)), max(1, round(crop.shape[0] * k)))  # long side 256
    skeleton = thin(np.where(crop < 128, 255, 0).astype(np.uint8))  # (h, w) 255 on centre lines
    sy, sx = np.nonzero(skeleton)
    if len(sx) == 0:  # thinning keeps at least a pixel of any blob; guard anyway
        sy, sx = np.nonzero(crop < 128)
    pts = np.stack([sx, sy], axis=1).astype(np.float64)  # (K, 2) x, y
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    extent = float((hi - lo).max())
    scale = (QD_BOX - 1) / extent if extent > 0 else 1.0
    offset = QD_FRAME / 2 - (lo + hi) / 2 * scale  # centre the box in the frame
    frame_pts = np.round(pts * scale + offset).astype(np.int32)  # (K, 2) frame px (repeats mark the same pixel)
    frame = np.zeros((QD_FRAME, QD_FRAME), np.uint8)  # 1 unit = 1 px
    frame[frame_pts[:, 1], frame_pts[:, 0]] = 255
    pen = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (QD_LINE + 1, QD_LINE + 1))  # odd side keeps it centred
    frame = cv2.dilate(frame, pen)  # (304, 304) 255 on strokes (the pen covers gaps that scaling opened)
    small = cv2.resize(frame, (size, size), interpolation=cv2.INTER_AREA)  # (size, size) ink 0..255
    return (255 - small).astype(np.uint8)


def bitmaps_to_input(images: np.ndarray) -> np.ndarray:
    """(N, S, S) uint8 sketches (255 paper) -> (N, 1, S, S) float32 ink in [0, 1], the recognizer's input."""
    return ((255.0 - np.asarray(images, np.float32)) / 255.0)[:, None]


def resize_bitmaps(images: np.ndarray, size: int) -> np.ndarray:
    """(N, s, s) uint8 -> (N, size, size) uint8 (bilinear; a copy when the size already matches)."""
    if images.shape[1] == size:
        return images.copy()
    return np.stack([cv2.resize(im, (size, size), interpolation=cv2.INTER_LINEAR) for im in images])


# ============================================================================ training batches


REDRAW_UPSCALE = 4  # a bitmap is enlarged this many times before it is redrawn by sketch_to_bitmap


def augment_bitmap(img: np.ndarray, cfg: RecognizerDataConfig, rng: np.random.Generator, size: int) -> np.ndarray:
    """One random variant of a (s, s) uint8 sketch (255 paper) at (size, size): affine jitter, flip, stroke width,
    and with ``cfg.redraw_p`` a redraw by :func:`sketch_to_bitmap` (centred, Quick, Draw! pen: what the pipeline
    makes of a studio drawing, so no class is told apart by how its bitmaps were drawn)."""
    work = 2 * size  # px; jitter and width changes happen at twice the output side for half-pixel steps
    ink = cv2.resize(255 - img, (work, work), interpolation=cv2.INTER_LINEAR)  # (2S, 2S) ink 0..255
    angle = math.radians(rng.uniform(-cfg.rotate, cfg.rotate))
    zoom = math.exp(rng.uniform(-cfg.scale, cfg.scale))
    shear = rng.uniform(-cfg.shear, cfg.shear)
    flip = -1.0 if cfg.flip and rng.random() < 0.5 else 1.0
    shift = rng.uniform(-cfg.shift, cfg.shift, size=2) * work
    rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    lin = zoom * rot @ np.array([[1.0, shear], [0.0, 1.0]]) @ np.diag([flip, 1.0])  # (2, 2)
    c = np.array([work / 2 - 0.5, work / 2 - 0.5])
    m = np.concatenate([lin, (c - lin @ c + shift)[:, None]], axis=1)  # (2, 3) about the centre
    ink = cv2.warpAffine(ink, m, (work, work), flags=cv2.INTER_LINEAR, borderValue=0)
    if rng.random() < cfg.thickness_p:
        op = cv2.dilate if rng.random() < 0.5 else cv2.erode
        ink = op(ink, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3)))
    out = 255 - cv2.resize(ink, (size, size), interpolation=cv2.INTER_AREA)  # (S, S) 255 paper
    if cfg.redraw_p > 0 and rng.random() < cfg.redraw_p:
        big = cv2.resize(out, (REDRAW_UPSCALE * size, REDRAW_UPSCALE * size), interpolation=cv2.INTER_LINEAR)
        if (big < 128).any():  # a faint variant has no line to redraw: keep it as it is
            out = sketch_to_bitmap(big, size)
    return out


@lru_cache(maxsize=256)
def _permutation(seed: int, stream: int, epoch: int, n: int) -> np.ndarray:
    """A fixed shuffle of range(n) for (seed, stream, epoch); cached, never modified."""
    perm = np.random.default_rng([seed, stream, epoch]).permutation(n)
    perm.flags.writeable = False
    return perm


class BitmapBatcher:
    """Training batches of labelled bitmaps; a batch is a pure function of (seed, step, rank).

    With ``cfg.balanced`` every class is drawn equally often (classes take turns in a shuffled
    order, each walking through its own shuffled examples); otherwise examples are drawn in
    shuffled epochs over the whole set. ``preferred`` marks examples (a class's few real doodles
    among many drawn from photos) drawn ``cfg.canvas_share`` of their class's turns.
    """

    def __init__(self, images: np.ndarray, labels: np.ndarray, cfg: RecognizerDataConfig, *, size: int,
                 num_classes: int, seed: int, rank: int = 0, world_size: int = 1, preferred: np.ndarray | None = None) -> None:
        if len(images) == 0:
            raise DatasetError("No training bitmaps are left after the hold-out split.", "Add more examples per class.")
        self.images, self.labels, self.cfg, self.size = images, labels, cfg, size
        self.seed, self.rank, self.world, self.num_classes = seed, rank, world_size, num_classes
        pref = np.zeros(len(labels), bool) if preferred is None else np.asarray(preferred, bool)
        self.by_class = [np.flatnonzero((labels == c) & ~pref) for c in range(num_classes)]
        self.preferred = [np.flatnonzero((labels == c) & pref) for c in range(num_classes)]
        for c in range(num_classes):  # a class of preferred examples only draws from them
            if len(self.by_class[c]) == 0:
                self.by_class[c], self.preferred[c] = self.preferred[c], self.preferred[c][:0]
        if cfg.balanced and any(len(ix) == 0 for ix in self.by_class):
            empty = next(c for c, ix in enumerate(self.by_class) if len(ix) == 0)
            raise DatasetError(f"Class {empty} has no training examples.", "Give every class some bitmaps or set data.balanced=false.")

    def _perm(self, stream: int, epoch: int, n: int) -> np.ndarray:
        return _permutation(self.seed, stream, epoch, n)

    def _index(self, position: int) -> int:
        if not self.cfg.balanced:
            n = len(self.labels)
            return int(self._perm(0, position // n, n)[position % n])
        c_count = self.num_classes
        turn, slot = divmod(position, c_count)
        c = int(self._perm(1, turn, c_count)[slot])  # class drawn at this position
        members, stream = self.by_class[c], 2 + c
        if len(self.preferred[c]) and np.random.default_rng([self.seed, 3, c, turn]).random() < self.cfg.canvas_share:
            members, stream = self.preferred[c], 2 + c_count + c
        epoch, k = divmod(turn, len(members))
        return int(members[self._perm(stream, epoch, len(members))[k]])

    def batch(self, step: int, batch_size: int) -> dict[str, np.ndarray]:
        start = (step * self.world + self.rank) * batch_size
        idx = [self._index(start + j) for j in range(batch_size)]
        imgs = np.stack([augment_bitmap(self.images[i], self.cfg, np.random.default_rng([self.seed, 1, start + j]), self.size)
                         for j, i in enumerate(idx)])  # (B, S, S)
        return {"image": bitmaps_to_input(imgs), "label": self.labels[idx].astype(np.int64)}
