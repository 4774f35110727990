"""The printed rules of lined and squared paper, told apart from a child's lines.

A rule is a long, thin, straight line across most of an upright page, and rules come many at
a time, evenly spaced. :func:`printed_rules` finds such rows (and columns, for squared paper) in
an ink mask and returns their pixels, except where a drawn stroke crosses a rule.
"""

from __future__ import annotations

import numpy as np
import cv2

_SPAN = 0.7  # a rule covers at least this fraction of the page's width (or height)
_TILT = 0.004  # a rule may drift by this fraction of the page's height across it (a straightened page is upright to ~0.2 degree)
_MIN_RULES = 5  # fewer evenly spaced long lines than this are a drawing (a flag's stripes), not rules
_REGULAR = 0.7  # at least this share of the gaps between rules is a whole number of the usual gap
_GAP_SLACK = 0.2  # ... within this fraction of the usual gap
_MAX_THICK = 0.4  # a rule's band is thinner than this fraction of the usual gap
_CROSS = 2  # px above and below a rule where a crossing stroke is looked for


def printed_rules(ink: np.ndarray) -> np.ndarray:
    """(H, W) bool: the pixels of the (H, W) bool ``ink`` that are printed rules (horizontal or vertical).

    Squared paper: the columns are found first, so that they do not count as strokes crossing the rows.
    """
    columns = _horizontal_rules(ink.T).T
    rows = _horizontal_rules(ink & ~columns)
    return rows | _horizontal_rules((ink & ~rows).T).T


def _horizontal_rules(ink: np.ndarray) -> np.ndarray:
    h, w = ink.shape
    rules = np.zeros_like(ink, dtype=bool)
    if h < 4 * _MIN_RULES or w < 16:
        return rules
    tol = max(1, round(h * _TILT))
    spread = cv2.dilate(ink.astype(np.uint8), np.ones((2 * tol + 1, 1), np.uint8))  # a slightly tilted rule fills its rows
    full = np.concatenate([[False], spread.mean(axis=1) >= _SPAN, [False]])
    edges = np.flatnonzero(np.diff(full.astype(np.int8)))
    starts, ends = edges[::2], edges[1::2]  # bands of rows [start, end)
    if len(starts) < _MIN_RULES:
        return rules
    centres = (starts + ends) / 2
    gaps = np.diff(centres)
    usual = float(np.median(gaps))
    ratio = gaps / max(usual, 1.0)
    regular = (np.abs(ratio - np.round(ratio)) <= _GAP_SLACK) & (np.round(ratio) >= 1)
    if regular.mean() < _REGULAR or (ends - starts).max() - 2 * tol > _MAX_THICK * usual:
        return rules
    for r0, r1 in zip(starts, ends):
        reach = np.ones((1, 2 * (r1 - r0) + 1), np.uint8)  # a slanted stroke leaves the band a little to the side
        above = ink[max(0, r0 - _CROSS) : r0].any(axis=0) if r0 else np.zeros(w, bool)
        below = ink[r1 : r1 + _CROSS].any(axis=0) if r1 < h else np.zeros(w, bool)
        near = lambda m: cv2.dilate(m.astype(np.uint8)[None], reach)[0] > 0  # noqa: E731
        rules[r0:r1] = ink[r0:r1] & ~(near(above) & near(below))[None]  # a stroke crossing the rule stays
    return rules
