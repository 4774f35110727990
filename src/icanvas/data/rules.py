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

    A stroke crossing a rule is told by its ink just off the rule's band on both sides; on squared
    paper the ink on the other rules' bands does not count, so that where a row and a column
    cross neither takes the other for a drawn stroke.
    """
    rows, columns = _rule_bands(ink), _rule_bands(ink.T)  # (H,) and (W,) bool
    drawn = ink & ~rows[:, None] & ~columns[None, :]  # ink off every band: only the child's strokes
    row_runs, column_runs = _runs(rows), _runs(columns)
    return (_rule_pixels(ink, row_runs, drawn, _widest(column_runs))
            | _rule_pixels(ink.T, column_runs, drawn.T, _widest(row_runs)).T)


def _runs(bands: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(starts, ends) of the runs [start, end) of True in the (N,) bool ``bands``."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], bands.astype(np.int8), [0]])))
    return edges[::2], edges[1::2]


def _widest(runs: tuple[np.ndarray, np.ndarray]) -> int:
    """The longest of the ``runs`` (see :func:`_runs`), 0 when there are none."""
    starts, ends = runs
    return int((ends - starts).max()) if len(starts) else 0


def _rule_bands(ink: np.ndarray) -> np.ndarray:
    """(H,) bool: the rows of ``ink`` ((H, W) bool) on the bands of horizontal rules, none when there are no rules."""
    h, w = ink.shape
    none = np.zeros(h, bool)
    if h < 4 * _MIN_RULES or w < 16:
        return none
    tol = max(1, round(h * _TILT))
    spread = cv2.dilate(ink.astype(np.uint8), np.ones((2 * tol + 1, 1), np.uint8))  # a slightly tilted rule fills its rows
    full = np.concatenate([[False], spread.mean(axis=1) >= _SPAN, [False]])
    edges = np.flatnonzero(np.diff(full.astype(np.int8)))
    starts, ends = edges[::2], edges[1::2]  # bands of rows [start, end)
    if len(starts) < _MIN_RULES:
        return none
    centres = (starts + ends) / 2
    gaps = np.diff(centres)
    usual = float(np.median(gaps))
    ratio = gaps / max(usual, 1.0)
    regular = (np.abs(ratio - np.round(ratio)) <= _GAP_SLACK) & (np.round(ratio) >= 1)
    if regular.mean() < _REGULAR or (ends - starts).max() - 2 * tol > _MAX_THICK * usual:
        return none
    return full[1:-1]


def _rule_pixels(ink: np.ndarray, runs: tuple[np.ndarray, np.ndarray], drawn: np.ndarray, across: int) -> np.ndarray:
    """(H, W) bool: the ``ink`` on the bands of horizontal rules (rows ``runs``, see :func:`_runs`),
    except where a ``drawn`` stroke ((H, W) bool) crosses them. ``across``: the width of the
    bands of the columns of squared paper (0 on lined paper), px, where a stroke is not seen."""
    h, w = ink.shape
    rules = np.zeros_like(ink, dtype=bool)
    for r0, r1 in zip(*runs):
        reach = r1 - r0 + across  # a slanted stroke is seen this far to the side of where it crosses, at most
        above = drawn[max(0, r0 - _CROSS) : r0].any(axis=0) if r0 else np.zeros(w, bool)
        below = drawn[r1 : r1 + _CROSS].any(axis=0) if r1 < h else np.zeros(w, bool)
        crossed = (_seen(above, -reach, 0) & _seen(below, 0, reach)) | (_seen(above, 0, reach) & _seen(below, -reach, 0))
        rules[r0:r1] = ink[r0:r1] & ~crossed[None]  # a stroke crossing the rule stays, from where it enters to where it leaves
    return rules


def _seen(m: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """(W,) bool: whether the (W,) bool ``m`` is set anywhere from ``lo`` to ``hi`` px (inclusive) of each place."""
    counts = np.concatenate([[0], np.cumsum(m)])  # counts[i] = set places before i
    i = np.arange(len(m))
    return counts[np.clip(i + hi + 1, 0, len(m))] > counts[np.clip(i + lo, 0, len(m))]
