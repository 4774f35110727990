"""Colour hints: sparse coloured strokes + a mask, as extra generator input channels.

At training time strokes are sampled from the photo (``hints.style: photo``), or a child's
crayon scribbles are drawn inside the object and the photo recoloured to that crayon
(``hints.style: crayon``), so a model learns that a red stroke means "make this part red"; at
inference the crayon colours a child used play that role.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

from icanvas.data.canvas import CRAYONS
from icanvas.data.regions import object_mask
from icanvas.methods.pix2pix import HintConfig

HINT_CHANNELS = 4  # R, G, B (in [-1, 1], 0 where empty) + mask (0 or 1)


MIN_SUBJECT = 0.05  # share of the drawn object the photo's subject must cover to narrow the recolouring to it


def sample_hints(photo: np.ndarray, cfg: HintConfig, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Draw up to ``cfg.max_strokes`` short strokes coloured like the photo beneath them.

    Returns ``(colors, mask)``: (H, W, 3) uint8 and (H, W) bool.
    """
    h, w = photo.shape[:2]
    colors = np.zeros_like(photo)
    mask = np.zeros((h, w), np.uint8)
    if cfg.max_strokes == 0 or rng.random() < cfg.p_none:
        return colors, mask.astype(bool)
    width = max(1, round(cfg.stroke_width * w / 256))
    # prefer points on the object: anything not near-white paper
    candidates = np.argwhere(photo.min(axis=2) < 235)
    if len(candidates) == 0:
        candidates = np.argwhere(np.ones((h, w), bool))
    for _ in range(int(rng.integers(1, cfg.max_strokes + 1))):
        y, x = candidates[rng.integers(len(candidates))]
        r = max(2, width)
        patch = photo[max(0, y - r) : y + r + 1, max(0, x - r) : x + r + 1].reshape(-1, 3)
        color = tuple(int(c) for c in np.median(patch, axis=0))
        n = int(rng.integers(2, 5))  # polyline points
        steps = rng.normal(0, w * 0.04, size=(n - 1, 2)).cumsum(axis=0)
        pts = np.vstack([[x, y], np.array([x, y]) + steps]).round().astype(np.int32)
        stroke = np.zeros((h, w), np.uint8)
        cv2.polylines(stroke, [pts.reshape(-1, 1, 2)], False, 1, thickness=width)
        colors[stroke > 0] = color
        mask |= stroke
    return colors, mask.astype(bool)


def encode_hints(colors: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 colours + (H, W) bool mask -> (4, H, W) float32 generator input."""
    m = mask.astype(np.float32)
    rgb = (colors.astype(np.float32) / 127.5 - 1.0) * m[..., None]  # (H, W, 3), 0 where no hint
    return np.concatenate([rgb.transpose(2, 0, 1), m[None]], axis=0)


# ----------------------------------------------------------------------------- crayon scribbles


def crayon_rgb(name_or_hex: str) -> tuple[int, int, int]:
    """A studio crayon by name (``CRAYONS``) or ``#rrggbb`` -> (r, g, b)."""
    value = CRAYONS.get(name_or_hex, name_or_hex).lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def scribble(region: np.ndarray, width: int, rng: np.random.Generator) -> np.ndarray:
    """One back-and-forth crayon scribble inside ``region`` ((H, W) bool), as a child colours in.

    Returns an (H, W) bool mask (empty when the region has no room). The scribble starts at a
    random point of the region, zig-zags 2-5 times across a random direction over 15-40 % of
    the region's extent, and is cut to the region.
    """
    h, w = region.shape
    ys, xs = np.nonzero(region)
    if len(ys) == 0:
        return np.zeros((h, w), bool)
    extent = max(int(np.ptp(ys)), int(np.ptp(xs)), 1)
    i = int(rng.integers(len(ys)))
    centre = np.array([xs[i], ys[i]], np.float64)
    angle = rng.uniform(0, np.pi)
    along = np.array([np.cos(angle), np.sin(angle)])
    across = np.array([-along[1], along[0]])
    length = rng.uniform(0.15, 0.40) * extent
    amplitude = rng.uniform(0.08, 0.20) * extent
    turns = int(rng.integers(2, 6))
    t = np.linspace(-0.5, 0.5, 2 * turns + 1)
    side = np.where(np.arange(2 * turns + 1) % 2 == 0, -1.0, 1.0)
    pts = centre + np.outer(t * length, along) + np.outer(side * amplitude / 2, across)
    pts += rng.normal(0, 0.01 * extent, pts.shape)  # a child's hand wobbles
    stroke = np.zeros((h, w), np.uint8)
    cv2.polylines(stroke, [pts.round().astype(np.int32).reshape(-1, 1, 2)], False, 1, thickness=max(1, width), lineType=cv2.LINE_8)
    return (stroke > 0) & region


def recolor(photo: np.ndarray, region: np.ndarray, rgb: tuple[int, int, int], lightness: float) -> np.ndarray:
    """The (H, W, 3) uint8 photo with ``region``'s mean colour moved to ``rgb`` in CIELAB, texture kept.

    Hue and chroma (a, b) move all the way, lightness by the share ``lightness``; the change
    fades in over a feathered edge. A region of fewer than 16 pixels leaves the photo as it is.
    """
    if np.count_nonzero(region) < 16:
        return photo
    lab = cv2.cvtColor(photo, cv2.COLOR_RGB2LAB).astype(np.float32)  # (H, W, 3), 8-bit Lab scale
    target = cv2.cvtColor(np.uint8([[rgb]]), cv2.COLOR_RGB2LAB).astype(np.float32)[0, 0]  # (3,)
    mean = lab[region].mean(axis=0)
    delta = (target - mean) * np.array([lightness, 1.0, 1.0], np.float32)
    weight = cv2.GaussianBlur(region.astype(np.float32), (0, 0), 1.5)[..., None]  # (H, W, 1)
    out = np.clip(lab + weight * delta, 0, 255).astype(np.uint8)
    return cv2.cvtColor(out, cv2.COLOR_LAB2RGB)


@functools.cache
def _palette_lab() -> np.ndarray:
    """(K, 3) float32 CIELAB of the studio's crayons, in ``CRAYONS`` order."""
    return cv2.cvtColor(np.uint8([[crayon_rgb(n) for n in CRAYONS]]), cv2.COLOR_RGB2LAB).astype(np.float32)[0]


def nearest_crayon(rgb: np.ndarray) -> str:
    """Name of the studio crayon nearest to ``rgb`` ((3,) uint8) in CIELAB."""
    lab = cv2.cvtColor(np.uint8([[rgb]]), cv2.COLOR_RGB2LAB).astype(np.float32)[0, 0]
    return list(CRAYONS)[int(np.argmin(((_palette_lab() - lab) ** 2).sum(axis=1)))]


def crayon_hints(
    sketch: np.ndarray, photo: np.ndarray, cfg: HintConfig, rng: np.random.Generator, subject: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Training hints as a child gives them: scribbles of one crayon inside the drawn object.

    ``sketch`` (H, W) uint8 lines, ``photo`` (H, W, 3) uint8. The crayon is random (or, with
    probability ``cfg.natural_p``, the one nearest the object's own colour) and the photo's
    object is recoloured to it, so the model learns that the crayon decides the colour.
    ``subject`` ((H, W) bool, for ``cfg.region == "subject"``) narrows the object to the photo's
    subject, unless that leaves almost nothing of it.
    Returns ``(photo, colors, mask)``: the (possibly recoloured) photo, (H, W, 3) uint8 hint
    colours and (H, W) bool mask.
    """
    h, w = sketch.shape
    empty = (photo, np.zeros_like(photo), np.zeros((h, w), bool))
    if cfg.max_strokes == 0 or rng.random() < cfg.p_none:
        return empty
    obj = object_mask(sketch)
    if subject is not None and np.count_nonzero(obj & subject) >= MIN_SUBJECT * np.count_nonzero(obj):
        obj = obj & subject
    region = obj & (sketch >= 128)  # the object's paper, not its lines
    if np.count_nonzero(region) < 64:
        return empty
    if rng.random() < cfg.natural_p:
        name = nearest_crayon(np.median(photo[region], axis=0).astype(np.uint8))
    else:
        name = list(CRAYONS)[int(rng.integers(len(CRAYONS)))]
    rgb = crayon_rgb(name)
    width = max(1, round(cfg.stroke_width * w / 256))
    mask = np.zeros((h, w), bool)
    for _ in range(int(rng.integers(1, cfg.max_strokes + 1))):
        mask |= scribble(region, width, rng)
    if not mask.any():
        return empty
    colors = np.zeros_like(photo)
    colors[mask] = rgb
    return recolor(photo, obj, rgb, cfg.lightness), colors, mask
