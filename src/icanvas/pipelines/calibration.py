"""Made-up studio drawings for measuring a generator's activation ranges (int8 calibration).

Each is drawn on the studio's canvas as a child would: a wobbly closed outline of a random size
and place in a pencil of the studio's widths, a few lines inside it, and, in most, a crayon
scribble or two in the studio's colours; then read as the studio reads its board. No data set is
needed, so a model folder can be made int8 anywhere; the seed makes them the same every time.
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

from icanvas.data.canvas import CANVAS_SIZE, CRAYON_WIDTH, CRAYONS, PEN_WIDTHS
from icanvas.data.images import Drawing, normalize_drawing

CALIBRATION_DRAWINGS = 32  # drawings whose activations set the int8 ranges


def _hex_rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _outline(rng: np.random.Generator) -> np.ndarray:
    """(K, 1, 2) int32 points of a wobbly closed shape somewhere on the canvas."""
    side = CANVAS_SIZE
    centre = rng.uniform(0.3, 0.7, 2) * side
    radius = rng.uniform(0.12, 0.42) * side * rng.uniform(0.6, 1.0, 2)  # (rx, ry)
    angles = np.sort(rng.uniform(0, 2 * np.pi, int(rng.integers(7, 16))))
    wobble = rng.uniform(0.75, 1.15, len(angles))
    points = centre + np.stack([np.cos(angles), np.sin(angles)], 1) * radius * wobble[:, None]
    return np.clip(points, 4, side - 5).round().astype(np.int32)[:, None, :]


def calibration_drawing(rng: np.random.Generator) -> Drawing:
    """One made-up studio drawing, read as the studio reads its board."""
    page = np.full((CANVAS_SIZE, CANVAS_SIZE, 3), 255, np.uint8)
    pen = int(rng.choice(list(PEN_WIDTHS.values())))
    outline = _outline(rng)
    x, y, w, h = cv2.boundingRect(outline)
    for _ in range(int(rng.integers(0, 3))):  # crayon first, so the pencil shows on top as on the board
        colour = _hex_rgb(str(rng.choice(list(CRAYONS.values()))))
        scribble = rng.uniform((x, y), (x + w, y + h), (int(rng.integers(3, 9)), 2)).round().astype(np.int32)
        cv2.polylines(page, [scribble[:, None, :]], False, colour, CRAYON_WIDTH, cv2.LINE_AA)
    cv2.polylines(page, [outline], True, (0, 0, 0), pen, cv2.LINE_AA)
    for _ in range(int(rng.integers(1, 5))):  # eyes, windows, a mouth: short lines inside
        a, b = rng.uniform((x, y), (x + w, y + h), (2, 2)).round().astype(int)
        cv2.line(page, (int(a[0]), int(a[1])), (int(b[0]), int(b[1])), (0, 0, 0), pen, cv2.LINE_AA)
    return normalize_drawing(Image.fromarray(page), canvas=True)


def calibration_drawings(n: int = CALIBRATION_DRAWINGS, seed: int = 0) -> list[Drawing]:
    rng = np.random.default_rng(seed)
    return [calibration_drawing(rng) for _ in range(n)]
