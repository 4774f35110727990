"""Quadrilaterals in images: the four corners of a region's convex outline, where two lines
meet, and corners in reading order. Used to find a sheet of paper in a photo (:mod:`icanvas.data.page`)."""

from __future__ import annotations

import cv2
import numpy as np


def region_quad(region: np.ndarray) -> np.ndarray | None:
    """(4, 2) float32 corners (region px, top-left first, clockwise) of the quadrilateral around the (H, W) bool
    region's convex outline, or None when it has no four-sided outline."""
    contours, _ = cv2.findContours(region.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    hull = cv2.convexHull(max(contours, key=cv2.contourArea))
    poly = cv2.approxPolyDP(hull, 0.004 * cv2.arcLength(hull, True), True).reshape(-1, 2).astype(np.float64)
    if len(poly) < 4:
        return None
    quad = reduce_to_four(poly)
    return None if quad is None else ordered_corners(quad).astype(np.float32)


def cross(a: np.ndarray, b: np.ndarray) -> float:
    return float(a[0] * b[1] - a[1] * b[0])


def meet(p: np.ndarray, q: np.ndarray, r: np.ndarray, s: np.ndarray) -> np.ndarray | None:
    """Where line p-q meets line r-s (None when parallel)."""
    d1, d2 = q - p, s - r
    den = cross(d1, d2)
    if abs(den) < 1e-9:
        return None
    return p + d1 * (cross(r - p, d2) / den)


def reduce_to_four(poly: np.ndarray) -> np.ndarray | None:
    """Drop edges of a convex polygon one by one, each time the one whose neighbours, extended
    until they meet, add the least area: a page with cut or rounded corners gets its corners back."""
    pts = [p for p in poly]
    while len(pts) > 4:
        n, best = len(pts), None
        for i in range(n):
            a, b, c, d = pts[i - 1], pts[i], pts[(i + 1) % n], pts[(i + 2) % n]
            q = meet(a, b, c, d)
            if q is None or np.dot(q - b, b - a) < 0 or np.dot(q - c, c - d) < 0:
                continue  # the neighbours do not meet beyond this edge
            added = abs(cross(c - b, q - b)) / 2
            if best is None or added < best[0]:
                best = (added, i, q)
        if best is None:
            return None
        _, i, q = best
        pts[i] = q
        del pts[(i + 1) % n]
    return np.array(pts)


def ordered_corners(quad: np.ndarray) -> np.ndarray:
    """Corners in the order top-left, top-right, bottom-right, bottom-left (clockwise on screen)."""
    c = quad.mean(axis=0)
    quad = quad[np.argsort(np.arctan2(quad[:, 1] - c[1], quad[:, 0] - c[0]))]  # clockwise in image coordinates
    return np.roll(quad, -int(np.argmin(quad.sum(axis=1))), axis=0)
