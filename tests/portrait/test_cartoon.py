"""The classical cartoon look: few colours, dark lines on edges, same size, deterministic."""

from __future__ import annotations

import numpy as np
import pytest

from icanvas.errors import ConfigError
from icanvas.portrait.cartoon import CartoonRestyler, cartoonize, quantize


def photo(h: int = 160, w: int = 200, seed: int = 0) -> np.ndarray:
    """A smooth colourful gradient with noise: thousands of distinct colours."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:h, :w].astype(np.float32)
    img = np.stack([255 * xx / w, 255 * yy / h, 128 + 60 * np.sin(xx / 15)], -1) + rng.normal(0, 6, (h, w, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


def colours(img: np.ndarray) -> int:
    return len(np.unique(img.reshape(-1, 3), axis=0))


def test_quantize_leaves_few_colours():
    img = photo()
    assert colours(img) > 5000
    assert colours(quantize(img, 6)) <= 6
    assert colours(cartoonize(img, colors=5, line_width=0)) <= 5  # no lines: exactly the palette


def test_cartoon_keeps_size_and_is_deterministic():
    img = photo(97, 131)
    out = cartoonize(img)
    assert out.shape == img.shape and out.dtype == np.uint8
    assert np.array_equal(out, cartoonize(img))
    assert colours(out) < colours(img) / 10


def test_dark_lines_follow_edges_not_flat_areas():
    img = np.full((200, 200, 3), (200, 190, 170), np.uint8)
    img[:, 100:] = (90, 110, 160)  # one vertical edge at x = 100
    out = cartoonize(img).astype(int).sum(axis=2)  # (H, W) darkness as a sum of channels
    near = out[20:180, 94:106].min(axis=1)  # the darkest pixel of each row near the edge
    assert (near < 200).mean() > 0.9  # ink (28, 22, 32) sums to 82; the darker side sums to 360
    assert out[20:180, 10:80].min() > 300 and out[20:180, 125:190].min() > 300  # no ink away from the edge


def test_the_outline_of_a_mask_is_inked():
    img = np.full((120, 120, 3), 180, np.uint8)
    mask = np.zeros((120, 120), np.float32)
    mask[30:90, 40:80] = 1
    plain = cartoonize(img).astype(int).sum(axis=2)
    outlined = cartoonize(img, outline=mask).astype(int).sum(axis=2)
    assert plain.min() > 300  # a flat picture has no lines of its own
    assert outlined[60, 36:44].min() < 200 and outlined[28:32, 60].min() < 200  # left and top borders inked
    assert outlined[60, 60] > 300  # the inside stays flat


def test_restyler_and_bad_settings():
    img = photo(64, 48)
    mask = np.zeros((64, 48), np.float32)
    mask[10:60, 10:40] = 1
    r = CartoonRestyler(colors=4)
    out = r.restyle(img, mask, None)
    assert out.shape == img.shape and r.name == "cartoon" and r.scope == "person"
    assert colours(out) < colours(img)
    with pytest.raises(ConfigError, match="at least 2"):
        quantize(img, 1)
