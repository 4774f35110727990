"""Do crayons colour the picture? Synthetic crayon scribbles on people's drawings, and a hit test.

A child colours a region with a few scribbles of one crayon. :func:`crayon_drawing` adds such
scribbles (the studio's crayon width, inside the drawn object) to a rendered drawing;
:func:`crayon_hit` says whether the picture's mean colour in the scribbled region follows the
crayon: its hue within ``HUE_TOLERANCE`` degrees for a coloured crayon, dark for the black one.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

import cv2
import numpy as np

from icanvas.data.canvas import CANVAS_SIZE, CRAYON_WIDTH
from icanvas.data.hints import crayon_rgb, scribble
from icanvas.data.images import Drawing
from icanvas.data.regions import object_mask

HUE_TOLERANCE = 30.0  # degrees: a coloured crayon's region must have its mean hue this close to the crayon's
MIN_SATURATION = 0.12  # HSV saturation below which a region has no hue (grey): a miss for a coloured crayon
DARK = 0.35  # HSV value at or below which a region counts as dark (the black crayon)
LIGHT = 0.80  # HSV value at or above which a region counts as light (a white crayon, were there one)
REACH = 0.10  # the scribbled region: the object's paper within this share of the drawing's extent of a scribble


@dataclass(frozen=True)
class Scribbled:
    drawing: Drawing  # the drawing with the crayon strokes, as the studio's normalisation hands it over
    region: np.ndarray  # (H, W) bool: the scribbled region whose colour is judged
    crayon: str  # the crayon's name


def crayon_drawing(sketch: np.ndarray, crayon: str, rng: np.random.Generator, scribbles: int = 2) -> Scribbled:
    """``sketch`` (H, W) uint8 (0 ink, 255 paper) with ``scribbles`` scribbles of ``crayon`` inside its object."""
    h, w = sketch.shape
    paper = object_mask(sketch) & (sketch >= 128)
    width = max(1, round(CRAYON_WIDTH * w / CANVAS_SIZE))
    mask = np.zeros((h, w), bool)
    for _ in range(scribbles):
        mask |= scribble(paper, width, rng)
    colors = np.zeros((h, w, 3), np.uint8)
    colors[mask] = crayon_rgb(crayon)
    lines = np.where(mask, 0, sketch).astype(np.uint8)  # crayon is ink on the page, as normalisation sees it
    ys, xs = np.nonzero(sketch < 128)
    extent = max(int(np.ptp(ys)), int(np.ptp(xs)), 1) if len(ys) else max(h, w)
    r = max(1, int(REACH * extent))
    near = cv2.dilate(mask.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))) > 0
    drawing = Drawing(lines=lines, colors=colors, color_mask=mask, source="rendered strokes, with coloured strokes")
    return Scribbled(drawing, near & paper, crayon)


def hsv(rgb: np.ndarray) -> tuple[float, float, float]:
    """(3,) RGB 0..255 -> (hue in degrees, saturation, value)."""
    h, s, v = colorsys.rgb_to_hsv(*(np.asarray(rgb, np.float64) / 255.0))
    return h * 360.0, s, v


def hue_distance(a: float, b: float) -> float:
    """Degrees between two hues on the colour wheel, 0..180."""
    return abs((a - b + 180.0) % 360.0 - 180.0)


def crayon_hit(picture: np.ndarray, region: np.ndarray, crayon: str) -> bool:
    """Whether ``picture`` (H, W, 3) uint8's mean colour over ``region`` follows ``crayon``."""
    if not region.any():
        return False
    mean = picture[region].reshape(-1, 3).mean(axis=0)
    h, s, v = hsv(mean)
    ch, cs, cv = hsv(np.array(crayon_rgb(crayon)))
    if cv <= DARK:  # a near-black crayon: a dark region
        return v <= DARK
    if cs < MIN_SATURATION:  # a near-white or grey crayon: a light region
        return v >= LIGHT
    return s >= MIN_SATURATION and hue_distance(h, ch) <= HUE_TOLERANCE

