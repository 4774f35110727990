"""Where a drawing's object is: the paper enclosed by its outlines.

Used at inference (paint fades to paper outside the drawn object) and at training time
(crayon scribbles are placed, and the photo recoloured, inside the object).
"""

from __future__ import annotations

import cv2
import numpy as np

GAP_CLOSE = 3  # px at the model's size: gaps in an outline up to about twice this still count as closed
MIN_ENCLOSED = 0.15  # enclosed paper below this share of the ink's convex hull: the outline is open, use the hull
FEATHER = 2.0  # px, Gaussian sigma of the soft edge where paint fades to paper


def object_mask(lines: np.ndarray) -> np.ndarray:
    """(S, S) uint8 lines (0 ink, 255 paper) -> (S, S) bool: the inside of the drawn outlines plus the lines.

    Inside = paper not reachable from the border once gaps up to ~2 x GAP_CLOSE px are closed;
    an open doodle that encloses almost nothing uses the convex hull of its ink instead. An
    empty drawing is all object (nothing says where it is not).
    """
    ink = (lines < 128).astype(np.uint8)
    if not ink.any():
        return np.ones(lines.shape, bool)
    k = 2 * GAP_CLOSE + 1
    walls = cv2.dilate(ink, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    h, w = lines.shape
    flood = np.pad(1 - walls, 1, constant_values=1)  # a ring of paper so the border is one region
    _, filled, _, _ = cv2.floodFill(flood * 255, None, (0, 0), 128)
    inside = filled[1:-1, 1:-1] != 128
    hull = np.zeros((h, w), np.uint8)
    cv2.fillConvexPoly(hull, cv2.convexHull(cv2.findNonZero(ink)), 1)
    enclosed = np.count_nonzero(inside & (walls == 0))
    return inside if enclosed >= MIN_ENCLOSED * max(1, int(hull.sum())) else hull.astype(bool) | (walls > 0)


def paint_region(lines: np.ndarray) -> np.ndarray:
    """Where a picture of this drawing may be painted: (S, S) uint8 lines -> (S, S) float32 weights in [0, 1].

    :func:`object_mask` with a feathered edge. Models trained on objects on white paper
    sometimes paint blobs in empty paper; outside this region the picture fades to white.
    """
    return cv2.GaussianBlur(object_mask(lines).astype(np.float32), (0, 0), FEATHER)
