"""Colour hints: sparse coloured strokes + a mask, as extra generator input channels.

At training time strokes are sampled from the photo, so a model learns that a red stroke
means "make this part red"; at inference the crayon colours a child used play that role.
"""

from __future__ import annotations

import cv2
import numpy as np

from icanvas.methods.pix2pix import HintConfig

HINT_CHANNELS = 4  # R, G, B (in [-1, 1], 0 where empty) + mask (0 or 1)


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
