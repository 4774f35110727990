"""Contact sheets: grids of images with optional column titles, as one uint8 RGB array."""

from __future__ import annotations

import cv2
import numpy as np


def as_rgb(img: np.ndarray) -> np.ndarray:
    """(H, W) grey or (H, W, 3) -> (H, W, 3) uint8."""
    if img.dtype != np.uint8:
        img = np.clip(img, 0, 255).astype(np.uint8)
    return np.repeat(img[..., None], 3, axis=2) if img.ndim == 2 else img


def tensor_to_uint8(x: np.ndarray) -> np.ndarray:
    """(C, H, W) float in [-1, 1] -> (H, W, 3) uint8."""
    img = ((np.clip(x, -1, 1) + 1) * 127.5).round().astype(np.uint8).transpose(1, 2, 0)
    return as_rgb(img[..., 0]) if img.shape[2] == 1 else img[..., :3]


def to_tensor(images: list[np.ndarray] | np.ndarray) -> np.ndarray:
    """(N, H, W, 3) uint8 -> (N, 3, H, W) float32 in [-1, 1]: the inverse of :func:`tensor_to_uint8`, batched."""
    arr = np.ascontiguousarray(np.stack(images)).astype(np.float32)
    return arr.transpose(0, 3, 1, 2) / 127.5 - 1.0


def grid(rows: list[list[np.ndarray]], *, cell: int = 0, pad: int = 4, titles: list[str] | None = None) -> np.ndarray:
    """Lay out ``rows`` of images; ``cell`` > 0 resizes every image to cell x cell."""
    rows = [[as_rgb(im) for im in row] for row in rows if row]
    if not rows:
        raise ValueError("grid() needs at least one image")
    if cell:
        rows = [[cv2.resize(im, (cell, cell), interpolation=cv2.INTER_AREA) for im in row] for row in rows]
    h = max(im.shape[0] for row in rows for im in row)
    w = max(im.shape[1] for row in rows for im in row)
    ncol = max(len(r) for r in rows)
    top = 22 if titles else 0
    out = np.full((top + len(rows) * (h + pad) + pad, ncol * (w + pad) + pad, 3), 255, np.uint8)
    for c, title in enumerate(titles or []):
        cv2.putText(out, title, (pad + c * (w + pad) + 2, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (40, 40, 40), 1, cv2.LINE_AA)
    for r, row in enumerate(rows):
        for c, im in enumerate(row):
            y, x = top + pad + r * (h + pad), pad + c * (w + pad)
            out[y : y + im.shape[0], x : x + im.shape[1]] = im
    return out


def side_by_side(left: np.ndarray, right: np.ndarray, pad: int = 4) -> np.ndarray:
    """``left`` | ``right`` as one (H, W, 3) uint8 sheet, ``left`` scaled to ``right``'s height
    (a drawing photographed at 3000 px beside its 1024 px picture: both the same height)."""
    h = right.shape[0]
    w = max(1, round(left.shape[1] * h / left.shape[0]))
    shrink = h < left.shape[0]
    scaled = cv2.resize(as_rgb(left), (w, h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    return grid([[scaled, right]], pad=pad)


def save_png(path, img: np.ndarray) -> None:
    """Write an RGB or grey uint8 array as PNG (creates parent folders)."""
    from pathlib import Path

    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    arr = as_rgb(img)
    if not cv2.imwrite(str(p), cv2.cvtColor(arr, cv2.COLOR_RGB2BGR)):
        raise OSError(f"could not write {p}")


def save_gif(path, frames: list[np.ndarray], frame_ms: int, *, hold_last: int = 1) -> None:
    """Write RGB uint8 frames as a looping GIF; the last frame shows ``hold_last`` times as long."""
    from pathlib import Path

    from PIL import Image

    if not frames:
        raise ValueError("save_gif() needs at least one frame")
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    imgs = [Image.fromarray(as_rgb(f)) for f in frames]
    durations = [frame_ms] * (len(imgs) - 1) + [frame_ms * max(1, hold_last)]
    imgs[0].save(p, save_all=True, append_images=imgs[1:], duration=durations, loop=0, optimize=False)
