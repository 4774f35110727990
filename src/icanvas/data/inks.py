"""Which coloured strokes on a photographed page are drawn lines, not colouring-in.

A blue ballpoint or a dark felt-tip draws lines as a pencil does; a crayon colours in. On a
photographed page (:func:`icanvas.data.images.normalize_drawing`) a coloured stroke counts as ink
when it is thin for the page and dark; wide or light colour stays colour.
"""

from __future__ import annotations

import cv2
import numpy as np

_DARK_STROKE = 0.7  # photos: a coloured pixel is dark when its brightest channel is at most this fraction of the paper's, or of the crayon's around it
_THIN_STROKE = 0.012  # photos: dark colour narrower than this fraction of the page's long side is a drawn line (ballpoint, felt-tip), not colouring-in
_WIDE_PATCH = 8  # photos: wider colour is colouring-in when it covers this many discs of that width (more than where lines cross)
_CRAYON_GRAIN = 0.004  # photos: gaps in crayon wax narrower than this fraction of the long side are closed before widths are told


def _odd_disc(side: float) -> np.ndarray:
    """An elliptic structuring element about ``side`` px across (odd, at least 3)."""
    k = max(3, int(round(side)) | 1)
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))


def drawn_in_ink(colour: np.ndarray, colours: np.ndarray) -> np.ndarray:
    """(H, W) bool: the coloured strokes of a photographed page that are drawn lines, not colouring-in.

    A ballpoint or felt-tip line is thin for the page (``_THIN_STROKE``) and dark: its brightest
    channel is at most ``_DARK_STROKE`` of the paper's (``colours`` are white-balanced), or of the
    crayon's where it crosses a colouring-in. Crayon is wide, or light; a dark crayon is as dark
    as its own patch, however patchy its wax. The lighter rim of a line's soft edges goes with it.
    """
    side = max(colour.shape)
    grain, disc = _odd_disc(side * _CRAYON_GRAIN), _odd_disc(side * _THIN_STROKE)
    x, y, w, h = cv2.boundingRect(colour.astype(np.uint8))  # the work is done around the colour only
    m = disc.shape[0]
    box = (slice(max(0, y - m), y + h + m), slice(max(0, x - m), x + w + m))
    lines = np.zeros(colour.shape, np.uint8)
    lines[box] = _dark_lines(colour[box], colours[box], grain, disc)
    return colour & (cv2.dilate(lines, np.ones((3, 3), np.uint8)) > 0)


def _dark_lines(colour: np.ndarray, colours: np.ndarray, grain: np.ndarray, disc: np.ndarray) -> np.ndarray:
    """(H, W) uint8, 1 on the dark and thin parts of the (H, W) bool ``colour`` (see :func:`drawn_in_ink`)."""
    brightest = colours.max(axis=2).astype(np.float64)  # (H, W) brightest channel
    patches = _wide_patches(colour, grain, disc)  # (H, W) int32, 0 off the colouring-in
    area = np.bincount(patches[colour], minlength=patches.max() + 1)
    shade = np.bincount(patches[colour], weights=brightest[colour], minlength=len(area)) / np.maximum(area, 1)
    shade[0] = 255.0  # off a patch, lines are told against the paper
    dark = colour & (brightest <= _DARK_STROKE * shade[patches])
    return (dark & (_wide_patches(dark, grain, disc) == 0)).astype(np.uint8)


def _wide_patches(mask: np.ndarray, grain: np.ndarray, disc: np.ndarray) -> np.ndarray:
    """(H, W) int32 labels (0 elsewhere) of the wide patches of the (H, W) bool ``mask``: what an
    opening with ``disc`` leaves of it once gaps of ``grain`` are closed, in patches of at least
    ``_WIDE_PATCH`` discs (not the blob where two lines cross)."""
    closed = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_CLOSE, grain)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(cv2.morphologyEx(closed, cv2.MORPH_OPEN, disc), connectivity=8)
    small = stats[:, cv2.CC_STAT_AREA] < _WIDE_PATCH * int(disc.sum())
    small[0] = True  # label 0 is what the opening took away
    labels[small[labels]] = 0
    return labels
