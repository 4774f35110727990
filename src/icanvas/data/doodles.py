"""Doodles drawn from photos: Quick, Draw!-style bitmaps for kinds nobody has doodled for us.

The recognizer learns from Quick, Draw! bitmaps, which exist for only some of the kinds the
studio draws. For the others, prepared (sketch | photo) pairs stand in: every pair gives one or
more doodles drawn the way people doodle, as strokes on the studio canvas:

1. the object is found in the photo (``mask``): the pixels unlike white paper in a product shot,
   or :func:`~icanvas.data.segment.remove_background` for a subject in a scene;
2. its outline is kept, smoothed and simplified to a few straight pieces (``approxPolyDP``),
   with the holes big enough to matter (a handbag's handle);
3. a few strokes inside it are added (``interior``): the pair's own line drawing after
   :class:`~icanvas.data.sketchify.Sketchify`'s simplify and drop-strokes transforms, keeping only
   the longest, or the outlines of the photo's dark patches (a panda's ears and eye patches);
4. for a kind people draw as a face (a panda), ``heads`` more doodles of each photo whose
   frontal face :func:`~icanvas.data.heads.find_head` finds: the head's outline, the ears, the
   eye patches and often the nose;
5. every point gets a little hand tremor, and the strokes are drawn at canvas scale with a
   random studio pen (:func:`~icanvas.data.canvas.render_strokes`) and reduced exactly as the
   recognizer pipeline reduces a studio drawing (:func:`~icanvas.data.quickdraw.sketch_to_bitmap`).

:func:`make_doodles` writes ``<label>.npy`` (uint8 rows of 784 = 28 x 28, 0 paper, 255 ink: the
Quick, Draw! bitmap format :func:`~icanvas.data.quickdraw.load_bitmaps` reads) and a manifest,
``doodles.json``, with the counts, the options and the sources' data terms.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from icanvas.data.canvas import CANVAS_SIZE, PEN_WIDTHS, render_strokes
from icanvas.data.datasets import load_pairs, read_manifest
from icanvas.data.edges import thin
from icanvas.data.heads import Head, find_head
from icanvas.data.quickdraw import BITMAP_SIDE, sketch_to_bitmap
from icanvas.data.segment import remove_background
from icanvas.data.sketchify import Sketchify
from icanvas.errors import ConfigError, DatasetError
from icanvas.methods.pix2pix import SketchifyConfig

MANIFEST = "doodles.json"  # manifest written next to the <label>.npy files
WORK_SIDE = 256  # px; pairs are read at this side and every size below is given at it
MASKS = ("paper", "grabcut")
INTERIORS = ("lines", "patches")
PAPER_LEVEL = 235  # "paper" mask: a pixel whose darkest channel is below this is object
DARK_LEVEL = 60  # "patches": grey level (0-255) below which the photo is a dark patch
OBJECT_SHARE = (0.05, 0.8)  # a mask covering a share of the picture outside this range is a failed cut
MASK_SMOOTH = 4.0  # px, Gaussian sigma that rounds the object mask before its outline is taken
PATCH_SHARE = (0.003, 0.25)  # "patches": a dark patch's area, as a share of the picture (min) and of the object (max)
HOLE_SHARE = 0.02  # holes in the object smaller than this share of it are not drawn
OUTLINE_EPS = (0.004, 0.015)  # outline simplification tolerance, as a share of its length (drawn per doodle)
LINE_EPS = 1.5  # px; interior strokes are simplified to this tolerance
INSET = 9  # px; interior strokes closer than about half this to the outline belong to the outline
LEVEL_MAX = 40.0  # degrees: "level" turns an object whose long axis is tilted by at most this (a low shoe), not an upright one
HEAD_CANVAS = (0.4, 0.85)  # a face doodle's long side, as a share of the canvas side (drawn at random)
NOSE_P = 0.7  # share of head doodles that draw the nose (when the photo shows one)
PENS = tuple(PEN_WIDTHS)  # a doodle is drawn with one of the studio's pencils, at random
SIMPLIFY = SketchifyConfig(simplify_p=1.0, drop_strokes_p=1.0, drop_strokes_max=0.5, warp_p=0.0, wobble_p=0.0, thickness_p=0.0,
                           break_p=0.0, threshold_p=0.0, simplify_min_length=20)  # only simplify and drop strokes


@dataclasses.dataclass(frozen=True)
class DoodleOptions:
    """How doodles are drawn from one kind's prepared pairs (see the module doc)."""

    label: str  # class name the doodles are written as (<label>.npy), e.g. "handbag"
    per_photo: int = 2  # doodles of the whole object drawn from each pair, each with its own random choices
    heads: int = 0  # doodles of the face drawn from each pair whose photo shows a frontal face with eye patches (a panda's)
    mask: str = "paper"  # how the object is found: "paper" (product shots on white) or "grabcut" (background removal)
    interior: str = "lines"  # strokes inside the outline: "lines" (the pair's line drawing) or "patches" (dark patches)
    max_interior: int = 6  # most interior strokes kept, the longest first; each doodle keeps 0..max of them
    min_stroke: float = 18.0  # px at 256: interior strokes shorter than this are never drawn
    jitter: float = 1.0  # px at 256: standard deviation of the hand tremor added to every stroke point
    level: bool = False  # turn the object so that its long axis lies level (a shoe drawn from the side, as people draw it)
    min_holes: int = 0  # skip pairs whose object has fewer holes than this (1 for handbags: people draw the handle)
    round_holes: bool = False  # draw holes as round ellipses (a handbag's handle as an arc)
    seed: int = 0  # random choices; the same seed and pairs give the same doodles

    def __post_init__(self) -> None:
        if not self.label or not self.label.replace("_", "").isalnum():
            raise ConfigError(f"Doodle label {self.label!r} is not a class name.", "Use letters, digits and _, e.g. --label handbag.")
        if self.mask not in MASKS:
            raise ConfigError(f"--mask {self.mask!r} is unknown.", f"Use one of: {', '.join(MASKS)}.")
        if self.interior not in INTERIORS:
            raise ConfigError(f"--interior {self.interior!r} is unknown.", f"Use one of: {', '.join(INTERIORS)}.")
        if not 0 <= self.per_photo <= 20 or not 0 <= self.heads <= 20 or self.per_photo + self.heads == 0:
            raise ConfigError(f"--per-photo and --heads must be in 0..20 and not both 0, got {self.per_photo} and {self.heads}.",
                              "Use 1-4 doodles per pair.")
        if self.max_interior < 0 or self.min_stroke < 0 or self.jitter < 0 or self.min_holes < 0:
            raise ConfigError("--max-interior, --min-stroke, --jitter and --min-holes must be >= 0.")


# ----------------------------------------------------------------------------- one doodle


def object_mask(photo: np.ndarray, mode: str) -> np.ndarray | None:
    """(S, S) bool: the object of a (S, S, 3) uint8 photo, smoothed; None when it was not found."""
    if mode == "paper":
        obj = photo.min(axis=2) < PAPER_LEVEL
        obj = cv2.morphologyEx(obj.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8)) > 0
    else:
        _, obj = remove_background(photo, init="center")
    obj = cv2.GaussianBlur(obj.astype(np.float32), (0, 0), MASK_SMOOTH) > 0.5
    n, labels, stats, _ = cv2.connectedComponentsWithStats(obj.astype(np.uint8), connectivity=8)
    if n <= 1:
        return None
    obj = labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))  # the largest part
    share = obj.mean()
    if not OBJECT_SHARE[0] <= share <= OBJECT_SHARE[1]:
        return None
    return obj


def count_holes(mask: np.ndarray, min_hole: float = HOLE_SHARE) -> int:
    """Holes of a bool mask of at least ``min_hole`` of its area (the ones :func:`outline_strokes` draws)."""
    contours, hierarchy = cv2.findContours(mask.astype(np.uint8), cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return 0
    area = max(1, int(mask.sum()))
    return sum(1 for c, h in zip(contours, hierarchy[0]) if h[3] >= 0 and cv2.contourArea(c) >= min_hole * area)


def outline_strokes(mask: np.ndarray, rng: np.random.Generator, min_hole: float = HOLE_SHARE,
                    round_holes: bool = False) -> list[np.ndarray]:
    """Closed (K, 2) x, y polylines around a bool mask: its outer outline and holes of at least ``min_hole`` of it.

    ``round_holes`` draws each hole as the ellipse fitted to it (a handbag's handle drawn as a round arc,
    as people draw it, rather than the triangle its straps make in the photo)."""
    m = mask.astype(np.uint8)
    contours, hierarchy = cv2.findContours(m, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE)
    if hierarchy is None:
        return []
    area = max(1, int(m.sum()))
    out = []
    for contour, (_, _, _, parent) in zip(contours, hierarchy[0]):
        if parent >= 0 and cv2.contourArea(contour) < min_hole * area:
            continue
        if parent >= 0 and round_holes and len(contour) >= 5:
            (cx, cy), (w, h), angle = cv2.fitEllipse(contour)
            contour = cv2.ellipse2Poly((round(cx), round(cy)), (max(1, round(w / 2)), max(1, round(h / 2))), round(angle), 0, 360, 10)[:, None]
        eps = rng.uniform(*OUTLINE_EPS) * cv2.arcLength(contour, True)
        pts = cv2.approxPolyDP(contour, eps, True)[:, 0].astype(np.float64)  # (K, 2)
        if len(pts) >= 2:
            out.append(np.concatenate([pts, pts[:1]]))  # closed
    return out


def _traced(ink: np.ndarray, rng: np.random.Generator, keep: int, min_len: float) -> list[np.ndarray]:
    """The ``keep`` longest strokes of a (S, S) uint8 ink map (255 ink) as (K, 2) polylines along their centre lines."""
    skeleton = thin(ink)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(skeleton, connectivity=8)
    extent = np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]).astype(np.float64)  # (n,) px
    extent[0] = 0
    order = [int(i) for i in np.argsort(-extent, kind="stable") if extent[i] >= min_len][:keep]
    out = []
    for i in order:
        contours, _ = cv2.findContours((labels == i).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        for c in contours:  # the contour of a 1-px line runs along it and back: drawn with a pen, it is the line
            out.append(cv2.approxPolyDP(c, LINE_EPS, False)[:, 0].astype(np.float64))
    return out


def interior_strokes(sketch: np.ndarray, photo: np.ndarray, mask: np.ndarray, opts: DoodleOptions,
                     rng: np.random.Generator) -> list[np.ndarray]:
    """A few strokes inside the object: simplified lines of the pair's sketch, or outlines of the photo's dark patches."""
    keep = int(rng.integers(0, opts.max_interior + 1))
    if keep == 0:
        return []
    inner = cv2.erode(mask.astype(np.uint8), np.ones((INSET, INSET), np.uint8)) > 0
    if opts.interior == "patches":
        dark = (cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY) < DARK_LEVEL) & mask
        dark = cv2.GaussianBlur(dark.astype(np.float32), (0, 0), 3.0) > 0.5
        n, labels, stats, _ = cv2.connectedComponentsWithStats(dark.astype(np.uint8), connectivity=8)
        areas = stats[:, cv2.CC_STAT_AREA]
        ok = [i for i in range(1, n) if PATCH_SHARE[0] * mask.size <= areas[i] <= PATCH_SHARE[1] * mask.sum()]
        ok = sorted(ok, key=lambda i: -areas[i])[:keep]
        return [s for i in ok for s in outline_strokes(labels == i, rng, min_hole=1.0)]
    ink = np.where((sketch < 128) & inner, 0, 255).astype(np.uint8)  # (S, S) 255 paper
    if not (ink < 128).any():
        return []
    rough = Sketchify(SIMPLIFY, WORK_SIDE)(ink, rng)
    return _traced(np.where(rough < 128, 255, 0).astype(np.uint8), rng, keep, opts.min_stroke)


def doodle_strokes(sketch: np.ndarray, photo: np.ndarray, opts: DoodleOptions, rng: np.random.Generator,
                   mask: np.ndarray | None = None) -> list[list[list[float]]] | None:
    """Quick, Draw!-style strokes ``[[xs], [ys]]`` for one (S, S) sketch and its (S, S, 3) photo; None when no object is found."""
    mask = object_mask(photo, opts.mask) if mask is None else mask
    if mask is None:
        return None
    lines = outline_strokes(mask, rng, round_holes=opts.round_holes) + interior_strokes(sketch, photo, mask, opts, rng)
    if opts.level:
        lines = _levelled(lines, mask)
    strokes = [_shaky(pts, opts.jitter, rng) for pts in lines]
    return strokes or None


def head_strokes(head: Head, opts: DoodleOptions, rng: np.random.Generator) -> list[list[list[float]]]:
    """Quick, Draw!-style strokes of a face: the head's outline, its ears outside it, its eye patches and often its nose."""
    lines = outline_strokes(head.head, rng, min_hole=1.0)
    for ear in head.ears:
        lines += outline_strokes(ear, rng, min_hole=1.0)
    for eye in head.eyes:
        lines += outline_strokes(eye, rng, min_hole=1.0)
    if head.nose is not None and rng.random() < NOSE_P:
        lines += outline_strokes(head.nose, rng, min_hole=1.0)
    pts = np.concatenate(lines)  # drawn as large as people draw a face on the canvas, wherever it was in the photo
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    k = rng.uniform(*HEAD_CANVAS) * CANVAS_SIZE / max(1.0, float((hi - lo).max()))
    return [_shaky((p - (lo + hi) / 2) * k + CANVAS_SIZE / 2, opts.jitter * CANVAS_SIZE / WORK_SIDE, rng) for p in lines]


def _shaky(pts: np.ndarray, jitter: float, rng: np.random.Generator) -> list[list[float]]:
    """A (K, 2) polyline with hand tremor, as a Quick, Draw! stroke ``[[xs], [ys]]``."""
    shaky = pts + rng.normal(0.0, jitter, pts.shape)
    return [shaky[:, 0].tolist(), shaky[:, 1].tolist()]


def _levelled(lines: list[np.ndarray], mask: np.ndarray) -> list[np.ndarray]:
    """The polylines turned about the mask's centre so that its long (principal) axis is horizontal,
    unless that axis is tilted by more than ``LEVEL_MAX`` degrees (a boot stands: it is drawn as it is)."""
    ys, xs = np.nonzero(mask)
    centre = np.array([xs.mean(), ys.mean()])
    cov = np.cov(np.stack([xs, ys]).astype(np.float64))  # (2, 2)
    vx, vy = np.linalg.eigh(cov)[1][:, -1]  # the axis of largest spread
    if vx < 0:  # the same axis, pointing right: turn by less than a quarter turn, never upside down
        vx, vy = -vx, -vy
    a = -np.arctan2(vy, vx)
    if abs(a) > np.radians(LEVEL_MAX):
        return lines
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    return [(pts - centre) @ rot.T + centre for pts in lines]


def doodle_bitmap(strokes: list, pen: str | float = "medium", size: int = BITMAP_SIDE) -> np.ndarray:
    """Strokes drawn on the studio canvas with ``pen`` and reduced as the recognizer does: (size, size) uint8, 255 paper."""
    return sketch_to_bitmap(render_strokes(strokes, CANVAS_SIZE, pen), size)


# ----------------------------------------------------------------------------- a folder of doodles


@dataclasses.dataclass(frozen=True)
class DoodleReport:
    path: Path  # the <label>.npy file written
    count: int  # doodles written
    pairs: int  # pairs read
    skipped: int  # pairs that gave no doodle (no object found, fewer holes than min_holes, and no face when heads were asked for)
    heads: int = 0  # doodles of a face among them


def make_doodles(pair_folders: list[Path], out_dir: str | Path, opts: DoodleOptions) -> DoodleReport:
    """Draw doodles from the train split of prepared pair folders and write ``out_dir/<label>.npy`` + its manifest entry."""
    if not pair_folders:
        raise DatasetError("No prepared pair folders were given.", "Pass one or more folders written by 'icanvas prepare'.")
    pairs = load_pairs([Path(f) for f in pair_folders], "train", WORK_SIDE)
    rng = np.random.default_rng(opts.seed)
    bitmaps, skipped, heads = [], 0, 0
    for sketch, photo in zip(pairs.sketches, pairs.photos):
        before = len(bitmaps)
        mask = object_mask(photo, opts.mask) if opts.per_photo else None  # found once per pair, shared by its doodles
        if mask is not None and not (opts.min_holes and count_holes(mask) < opts.min_holes):
            for _ in range(opts.per_photo):
                strokes = doodle_strokes(sketch, photo, opts, rng, mask=mask)
                if strokes:
                    bitmaps.append(doodle_bitmap(strokes, PENS[int(rng.integers(len(PENS)))]))
        head = find_head(photo) if opts.heads else None
        if head is not None:
            bitmaps += [doodle_bitmap(head_strokes(head, opts, rng), PENS[int(rng.integers(len(PENS)))]) for _ in range(opts.heads)]
            heads += opts.heads
        skipped += len(bitmaps) == before
    if not bitmaps:
        raise DatasetError(f"No object was found in any of the {len(pairs)} pairs of {', '.join(map(str, pair_folders))}.",
                           "Try --mask grabcut for photos with a background, or check the pairs' photos (right halves).")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows = (255 - np.stack(bitmaps)).reshape(len(bitmaps), BITMAP_SIDE * BITMAP_SIDE)  # (N, 784) 0 paper, 255 ink
    path = out / f"{opts.label}.npy"
    np.save(path, rows.astype(np.uint8), allow_pickle=False)
    sources = [{"folder": str(f), "kind": read_manifest(Path(f)).get("kind", ""), "data_terms": read_manifest(Path(f)).get("data_terms", "")}
               for f in pair_folders]
    _write_manifest(out, opts.label, {"count": len(bitmaps), "heads": heads, "pairs": len(pairs), "skipped": skipped,
                                      "sources": sources, "options": dataclasses.asdict(opts)})
    return DoodleReport(path, len(bitmaps), len(pairs), skipped, heads)


def read_doodle_manifest(folder: str | Path) -> dict[str, Any]:
    """Label -> manifest entry of a doodle folder ({} for a folder of real Quick, Draw! bitmaps)."""
    path = Path(folder) / MANIFEST
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise DatasetError(f"{path} is not readable JSON ({e}).", "Delete it and run 'icanvas doodles' again.") from e
    return dict(data.get("labels", {}))


def _write_manifest(out: Path, label: str, entry: dict[str, Any]) -> None:
    labels = read_doodle_manifest(out)
    labels[label] = entry
    (out / MANIFEST).write_text(json.dumps({"tool": "icanvas doodles", "synthetic": True, "labels": labels}, indent=2) + "\n",
                                encoding="utf-8")
