"""The studio's drawing canvas: its size, pens and crayons, and a stroke renderer.

This module is the one source of truth for the numbers the drawing page uses (the web API
hands them to the page). :func:`render_strokes` draws Quick, Draw! style strokes the way a
pencil on that canvas would, so recorded stroke drawings can stand in for children's
drawings in tests and evaluations.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from icanvas.errors import InputImageError

CANVAS_SIZE = 512  # side of the square drawing PNG the page sends, px (white paper)
PEN_WIDTHS = {"thin": 4, "medium": 8, "thick": 14}  # pencil diameters on the canvas, px
ERASER_WIDTH = 28  # eraser diameter on the canvas, px
CRAYON_WIDTH = 18  # crayon (colour) stroke diameter on the canvas, px
CRAYONS = {"red": "#e53935", "orange": "#fb8c00", "yellow": "#fdd835", "green": "#43a047",
           "sky": "#29b6f6", "blue": "#1e5bd8", "purple": "#8e24aa", "pink": "#f06292",
           "brown": "#8d6e63", "black": "#212121"}  # the 10 crayons; the pencil is always #000000

_SHIFT = 4  # fractional bits of the coordinates handed to OpenCV (1/16 px precision)
_SUPERSAMPLE = 4  # strokes are filled at this many times the output side, then area-averaged (anti-aliasing)

Strokes = Sequence[Sequence[Sequence[float]]]  # [[xs...], [ys...]] per stroke


def _points(strokes: Strokes) -> list[np.ndarray]:
    """Validate strokes and return one (K, 2) float64 array of (x, y) per stroke."""
    out = []
    for i, stroke in enumerate(strokes):
        try:
            xs, ys = np.asarray(stroke[0], np.float64), np.asarray(stroke[1], np.float64)
        except (TypeError, ValueError, IndexError) as e:
            raise InputImageError(f"Stroke {i} is not [[x, ...], [y, ...]] ({e}).",
                                  "Pass strokes as lists of x and y coordinates, as Quick, Draw! stores them.") from e
        if xs.ndim != 1 or xs.shape != ys.shape or not np.isfinite(xs).all() or not np.isfinite(ys).all():
            raise InputImageError(f"Stroke {i} needs as many finite x as y coordinates.",
                                  "Pass strokes as [[x, ...], [y, ...]] with one x per y.")
        if len(xs):
            out.append(np.stack([xs, ys], axis=1))  # (K, 2)
    return out


def pen_width(pen: str | float, size: int) -> float:
    """Diameter in px at ``size`` of a pen given by name (``PEN_WIDTHS``) or in canvas px."""
    if isinstance(pen, str):
        if pen not in PEN_WIDTHS:
            raise InputImageError(f"Unknown pen {pen!r}.", f"Use one of {', '.join(PEN_WIDTHS)} or a width in canvas px.")
        pen = PEN_WIDTHS[pen]
    if not pen > 0:
        raise InputImageError(f"Pen width must be > 0 canvas px, got {pen!r}.", "Use a positive width.")
    return float(pen) * size / CANVAS_SIZE


def render_strokes(strokes: Strokes, size: int = 256, pen: str | float = "medium", margin: float = 0.08) -> np.ndarray:
    """Draw strokes as a pencil would on the canvas: (size, size) uint8, 255 paper, 0 ink.

    ``strokes`` is a list of ``[[x, ...], [y, ...]]`` in any coordinates (Quick, Draw! uses
    0..255). The drawing keeps its aspect ratio and is centred so that its ink, pen width
    included, spans ``size * (1 - 2 * margin)`` along its longer side. The pen diameter is
    ``PEN_WIDTHS[pen] * size / CANVAS_SIZE`` (or ``pen`` canvas px), with round caps and joins.

    Rendering is anti-aliased (filled at 4x and area-averaged) and then binarised at mid-grey:
    that is what a drawing sent by the page looks like after
    :func:`~icanvas.data.images.normalize_drawing`, and it keeps the output a clean two-level
    sketch like every other sketch in the project.
    """
    if size < 8:
        raise InputImageError(f"Render size must be >= 8 px, got {size}.", "Use a larger size.")
    if not 0.0 <= margin < 0.5:
        raise InputImageError(f"margin must be in [0, 0.5), got {margin}.", "Use a fraction of the side, e.g. 0.08.")
    width = pen_width(pen, size)
    lines = _points(strokes)
    if not lines:
        return np.full((size, size), 255, np.uint8)  # (S, S) white paper
    ss = _SUPERSAMPLE
    page = np.full((size * ss, size * ss), 255, np.uint8)  # (S*ss, S*ss) white paper
    allp = np.concatenate(lines)  # (K, 2)
    lo, hi = allp.min(axis=0), allp.max(axis=0)
    extent = float((hi - lo).max())
    room = max(size * (1 - 2 * margin) - width, 0.0)  # px available to the centre line of the strokes
    scale = room / extent if extent > 0 else 1.0
    offset = size / 2 - (lo + hi) / 2 * scale  # centres the drawing's box
    radius = max(0.5, width / 2) * ss
    k = 1 << _SHIFT
    for pts in lines:
        p = ((pts * scale + offset) * ss - 0.5) * k  # (K, 2) fixed-point px; pixel centres sit at integer + 0.5
        for a, b in zip(p[:-1], p[1:]):  # each segment: a rectangle of exactly the pen width
            d = b - a
            length = float(np.hypot(*d))
            if length > 0:
                n = np.array([-d[1], d[0]]) / length * radius * k  # (2,) half-width normal
                quad = np.round(np.stack([a + n, b + n, b - n, a - n])).astype(np.int32)  # (4, 2)
                cv2.fillConvexPoly(page, quad, 0, cv2.LINE_8, _SHIFT)
        for x, y in np.round(p).astype(np.int32):  # round caps and joins
            cv2.circle(page, (int(x), int(y)), int(round(radius * k)), 0, -1, cv2.LINE_8, _SHIFT)
    grey = cv2.resize(page, (size, size), interpolation=cv2.INTER_AREA)  # (S, S) anti-aliased
    return np.where(grey < 128, 0, 255).astype(np.uint8)
