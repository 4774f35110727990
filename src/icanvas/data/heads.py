"""A panda's head found in a photo by its two dark eye patches, for doodles of its face.

People who doodle a panda mostly draw its face: a round head, two round ears on top and two
eye patches. :func:`find_head` finds that face in a photo without a trained detector:

1. dark patches (grey below ``DARK_LEVEL``) of an eye patch's size are paired when they sit side
   by side at a plausible spacing ``d``, are of similar size, and have light fur (``LIGHT_LEVEL``,
   little colour) between them and around them; the best few pairs are tried in turn (the ears
   often pass for a pair too, but have no head below them);
2. the head is the convex hull of the light fur and the two patches inside an ellipse around the
   pair (its size in units of ``d``), so that a head in front of a light body still ends at a
   chin, and is drawn round as people draw it;
3. the ears are the largest dark part just outside the head on each upper side, when it is
   compact and of an ear's size (drawn as its convex hull); a head without an ear is not used (an earless round face with
   two eyes is what people draw for *face*);
4. the nose is a small dark patch below the middle of the eyes, when there is one.

It finds frontal faces only (about a quarter of the panda photos); turned heads, whose second
eye patch is hidden or merged with the nose, are skipped. Every size is in pixels of the photo
given, and the rules are size-free (shares of the picture and of ``d``).
"""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np

DARK_LEVEL = 60  # grey level (0-255) below which fur is dark (eye patches, ears)
LIGHT_LEVEL = 120  # grey level above which fur is light ...
LIGHT_SATURATION = 100  # ... when its HSV saturation (0-255) is below this
PATCH_AREA = (0.001, 0.06)  # an eye patch's area, as a share of the picture
PATCH_RATIO = 3.0  # the larger eye patch is at most this many times the other's area
PATCH_SIZE = (0.15, 0.9)  # an eye patch's side (square root of its area), in units of the spacing d
SPACING = (0.06, 0.5)  # spacing d of the patches' centres, as a share of the picture's side
TILT = 0.4  # the patches' vertical offset is at most this share of their horizontal one
LIGHT_BETWEEN = 0.55  # share of light fur on the line between the patches (the patches themselves left out)
LIGHT_AROUND = 0.4  # share of light fur in a ring around the two patches
HEAD_RADII = (1.25, 1.1)  # the head ellipse's half width and half height, in units of d ...
HEAD_DROP = 0.2  # ... centred this many d below the patches' midpoint (the eyes sit above the middle)
HEAD_FILLED = 0.5  # the head must fill at least this share of its ellipse
EAR_REACH = 1.6  # ears are looked for inside the head ellipse grown by this factor ...
EAR_ABOVE = 0.3  # ... above this share of its half height over its centre, and beside its middle
EAR_AREA = (0.04, 0.3)  # an ear's area, as a share of the head's
EAR_SOLID = 0.35  # an ear fills at least this share of its bounding box
NOSE_BELOW = (0.15, 1.0)  # the nose's centre lies this many d below the eyes' midpoint ...
NOSE_ASIDE = 0.4  # ... and at most this many d to either side of it
TRIES = 5  # pairs tried, best first, before a photo is given up


@dataclasses.dataclass(frozen=True)
class Head:
    """Bool (H, W) masks of a face's parts."""

    head: np.ndarray
    eyes: tuple[np.ndarray, np.ndarray]  # left, right
    ears: tuple[np.ndarray, ...]  # one or two
    nose: np.ndarray | None


def find_head(photo: np.ndarray) -> Head | None:
    """The frontal face in a (H, W, 3) uint8 RGB photo with two dark eye patches (a panda's); None when there is none."""
    gray = cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY)
    saturation = cv2.cvtColor(photo, cv2.COLOR_RGB2HSV)[..., 1]
    side = min(gray.shape)
    dark = cv2.GaussianBlur((gray < DARK_LEVEL).astype(np.float32), (0, 0), side / 170) > 0.5
    light = (gray > LIGHT_LEVEL) & (saturation < LIGHT_SATURATION)
    n, labels, stats, centres = cv2.connectedComponentsWithStats(dark.astype(np.uint8), connectivity=8)
    grid = np.mgrid[0 : gray.shape[0], 0 : gray.shape[1]]  # (2, H, W) y, x of every pixel, shared by the pairs tried
    for i, j, d in _eye_pairs(labels, stats, centres, light, side)[:TRIES]:  # the ears can pass for eye patches too
        head = _head_around(labels, stats, centres, dark, light, grid, i, j, d)
        if head is not None:
            return head
    return None


def _head_around(labels: np.ndarray, stats: np.ndarray, centres: np.ndarray, dark: np.ndarray, light: np.ndarray,
                 grid: np.ndarray, i: int, j: int, d: float) -> Head | None:
    """The face around the eye patches ``i`` (left) and ``j`` (right) at spacing ``d``; None when it has no head or ears."""
    mid = (centres[i] + centres[j]) / 2
    yy, xx = grid
    centre = mid + np.array([0.0, HEAD_DROP * d])
    rx, ry = HEAD_RADII[0] * d, HEAD_RADII[1] * d
    ellipse = ((xx - centre[0]) / rx) ** 2 + ((yy - centre[1]) / ry) ** 2 <= 1
    eyes = (labels == i, labels == j)
    head = _head_mask((light | eyes[0] | eyes[1]) & ellipse, mid, d)
    if head is None or head.sum() < HEAD_FILLED * ellipse.sum():
        return None
    reach = ((xx - centre[0]) / (rx * EAR_REACH)) ** 2 + ((yy - centre[1]) / (ry * EAR_REACH)) ** 2 <= 1
    above = reach & ~head & (yy < centre[1] - EAR_ABOVE * ry)
    ears = [e for e in (_ear(dark & above & (xx < centre[0] - 0.2 * rx), head.sum()),
                        _ear(dark & above & (xx > centre[0] + 0.2 * rx), head.sum())) if e is not None]
    if not ears:
        return None
    return Head(head, eyes, tuple(ears), _nose(labels, stats, centres, (i, j), mid, d, head))


def _eye_pairs(labels: np.ndarray, stats: np.ndarray, centres: np.ndarray, light: np.ndarray,
               side: int) -> list[tuple[int, int, float]]:
    """(left label, right label, spacing) of the pairs of dark patches that look like eye patches, best first."""
    area = labels.size
    cands = [k for k in range(1, len(stats)) if PATCH_AREA[0] * area <= stats[k, cv2.CC_STAT_AREA] <= PATCH_AREA[1] * area]
    found = []  # (score, left, right, d)
    for a, i in enumerate(cands):
        for j in cands[a + 1 :]:
            left, right = (i, j) if centres[i, 0] <= centres[j, 0] else (j, i)
            dx, dy = centres[right] - centres[left]
            d = float(np.hypot(dx, dy))
            if not SPACING[0] * side <= d <= SPACING[1] * side or abs(dy) > TILT * abs(dx):
                continue
            a_l, a_r = stats[left, cv2.CC_STAT_AREA], stats[right, cv2.CC_STAT_AREA]
            if max(a_l, a_r) > PATCH_RATIO * min(a_l, a_r):
                continue
            if not PATCH_SIZE[0] * d <= np.sqrt((a_l + a_r) / 2) <= PATCH_SIZE[1] * d:
                continue
            t = np.linspace(0.0, 1.0, 25)[:, None]
            xs, ys = np.round(centres[left] * (1 - t) + centres[right] * t).astype(int).T  # the line between them
            between = [light[y, x] for x, y in zip(xs, ys) if labels[y, x] not in (left, right)]
            if len(between) < 3:
                continue
            both = ((labels == left) | (labels == right)).astype(np.uint8)
            k = max(3, int(0.3 * d)) | 1
            ring = (cv2.dilate(both, np.ones((k, k), np.uint8)) > 0) & (both == 0)
            f_between, f_around = float(np.mean(between)), float(light[ring].mean())
            if f_between >= LIGHT_BETWEEN and f_around >= LIGHT_AROUND:
                found.append((f_between + f_around, left, right, d))
    return [(left, right, d) for _, left, right, d in sorted(found, reverse=True)]


def _head_mask(head: np.ndarray, mid: np.ndarray, d: float) -> np.ndarray | None:
    """The convex hull of the part of a rough head mask that holds the eyes' midpoint."""
    k = int(0.5 * d) | 1
    closed = cv2.morphologyEx(head.astype(np.uint8), cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    _, parts = cv2.connectedComponents(closed)
    label = parts[int(mid[1]), int(mid[0])]
    if label == 0:
        return None
    return _hull(parts == label)


def _hull(mask: np.ndarray) -> np.ndarray:
    """The convex hull of a bool mask, filled: heads and ears are drawn round, without the fur's ragged edge."""
    pts = cv2.findNonZero(mask.astype(np.uint8))
    filled = np.zeros(mask.shape, np.uint8)
    cv2.fillConvexPoly(filled, cv2.convexHull(pts), 1)
    return filled > 0


def _ear(dark: np.ndarray, head_area: int) -> np.ndarray | None:
    """The largest dark part of one upper side when it has an ear's size and is compact."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(dark.astype(np.uint8), connectivity=8)
    if n <= 1:
        return None
    k = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    area = stats[k, cv2.CC_STAT_AREA]
    if not EAR_AREA[0] * head_area <= area <= EAR_AREA[1] * head_area:
        return None
    if area < EAR_SOLID * stats[k, cv2.CC_STAT_WIDTH] * stats[k, cv2.CC_STAT_HEIGHT]:
        return None
    return _hull(labels == k)


def _nose(labels: np.ndarray, stats: np.ndarray, centres: np.ndarray, eyes: tuple[int, int], mid: np.ndarray,
          d: float, head: np.ndarray) -> np.ndarray | None:
    """The dark patch below the eyes' midpoint inside the head, smaller than an eye patch; None when there is none."""
    eye_area = min(stats[e, cv2.CC_STAT_AREA] for e in eyes)
    for k in range(1, len(stats)):
        x, y = centres[k]
        if k in eyes or stats[k, cv2.CC_STAT_AREA] > eye_area:
            continue
        if abs(x - mid[0]) <= NOSE_ASIDE * d and NOSE_BELOW[0] * d <= y - mid[1] <= NOSE_BELOW[1] * d and head[labels == k].any():
            return labels == k
    return None
