"""Photo -> line drawing: thin binary lines near object boundaries, registry, clean-up (all synthetic)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from icanvas.data.edges import (
    EDGE_METHODS,
    clean_lines,
    extract_lines,
    ink_mask,
    normalize_edge_map,
    register_edges,
    thin,
)
from icanvas.errors import ConfigError, InputImageError

# ----------------------------------------------------------------------------- helpers


def disc_photo(size: int = 256, radius_frac: float = 0.3, seed: int = 0) -> tuple[np.ndarray, float]:
    """A dark blue filled disc on light paper with mild noise; returns (photo, radius px)."""
    rng = np.random.default_rng(seed)
    img = np.full((size, size, 3), 235, np.uint8)
    r = radius_frac * size
    cv2.circle(img, (size // 2, size // 2), round(r), (40, 60, 150), -1)
    noise = rng.normal(0, 4, img.shape)
    return np.clip(img + noise, 0, 255).astype(np.uint8), r


def radius_of_ink(sketch: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(ink_mask(sketch))
    c = (sketch.shape[0] - 1) / 2
    return np.hypot(ys - c, xs - c)


def is_sketch(sketch: np.ndarray, shape: tuple[int, int]) -> bool:
    return sketch.dtype == np.uint8 and sketch.shape == shape and set(np.unique(sketch)) <= {0, 255}


# ----------------------------------------------------------------------------- extract_lines


@pytest.mark.parametrize("method", ["xdog", "canny"])
@pytest.mark.parametrize("size", [128, 256, 512])
def test_lines_follow_the_boundary_of_a_disc(method: str, size: int) -> None:
    photo, r = disc_photo(size)
    sketch = extract_lines(photo, method, line_width=2)
    assert is_sketch(sketch, (size, size))
    dist = radius_of_ink(sketch)
    assert dist.size > 0
    # nearly all ink lies within a few px of the disc's edge (sizes scale with the image)
    tol = 4 + 0.03 * size
    assert np.mean(np.abs(dist - r) < tol) > 0.97
    # the outline is mostly closed: ink covers most angles around the centre
    ys, xs = np.nonzero(ink_mask(sketch))
    c = (size - 1) / 2
    angles = np.degrees(np.arctan2(ys - c, xs - c)).astype(int) % 360
    assert len(np.unique(angles)) > 300


@pytest.mark.parametrize("method", ["xdog", "canny"])
def test_lines_are_thin(method: str) -> None:
    photo, r = disc_photo(256)
    hair = extract_lines(photo, method, line_width=1)
    pen = extract_lines(photo, method, line_width=3)
    circumference = 2 * np.pi * r
    n_hair, n_pen = ink_mask(hair).sum(), ink_mask(pen).sum()
    assert 0.7 * circumference < n_hair < 1.6 * circumference  # one 1-px line, not a band
    assert 2.0 * n_hair < n_pen < 4.0 * n_hair  # a 3-px pen is about three times the ink
    # a 1-px line never holds a full 2x2 block of ink
    m = ink_mask(hair).astype(np.uint8)
    blocks = m[:-1, :-1] & m[1:, :-1] & m[:-1, 1:] & m[1:, 1:]
    assert blocks.sum() == 0


def test_flat_photo_gives_blank_paper() -> None:
    photo = np.full((64, 64, 3), 128, np.uint8)
    for method in ("xdog", "canny"):
        assert (extract_lines(photo, method) == 255).all()


def test_grey_and_float_photos_are_accepted() -> None:
    photo, _ = disc_photo(128)
    grey = cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY)
    assert ink_mask(extract_lines(grey)).any()
    assert np.array_equal(extract_lines(photo.astype(np.float32) / 255.0), extract_lines(photo))


def test_bad_photo_shape_is_an_input_error() -> None:
    with pytest.raises(InputImageError):
        extract_lines(np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(InputImageError):
        extract_lines(np.zeros((32, 32, 5), np.uint8))


# ----------------------------------------------------------------------------- registry


def test_unknown_method_names_the_known_ones() -> None:
    photo, _ = disc_photo(64)
    with pytest.raises(ConfigError) as err:
        extract_lines(photo, "hed")
    assert "xdog" in str(err.value) and "canny" in str(err.value)


def test_bad_method_parameter_is_a_config_error() -> None:
    photo, _ = disc_photo(64)
    with pytest.raises(ConfigError):
        extract_lines(photo, "xdog", no_such_knob=1.0)


def test_registered_method_is_used() -> None:
    @register_edges("_test_cross")
    def cross(photo: np.ndarray) -> np.ndarray:
        s = np.zeros(photo.shape[:2], np.float32)
        s[photo.shape[0] // 2, 5:-5] = 1.0
        return s

    try:
        sketch = extract_lines(np.zeros((128, 128, 3), np.uint8), "_test_cross", line_width=1)
        assert ink_mask(sketch).sum() == 118
        assert ink_mask(sketch)[64].sum() == 118
    finally:
        EDGE_METHODS.pop("_test_cross")


# ----------------------------------------------------------------------------- clean-up


def test_small_photos_still_get_lines() -> None:
    photo = np.full((32, 32, 3), 240, np.uint8)
    cv2.circle(photo, (16, 16), 9, (40, 80, 160), -1)
    sketch = extract_lines(photo, "xdog", line_width=1)
    assert sketch.shape == (32, 32) and set(np.unique(sketch)) <= {0, 255}
    ys, xs = np.nonzero(sketch == 0)
    assert len(ys) > 20
    r = np.hypot(ys - 16, xs - 16)
    assert np.median(np.abs(r - 9)) <= 2  # on the disc's outline


def test_clean_lines_removes_specks_and_keeps_lines() -> None:
    strength = np.zeros((100, 100), np.float32)
    strength[50, 10:90] = 1.0  # an 80 px line
    strength[10:12, 10:12] = 1.0  # 2x2 speck
    strength[80, 80:84] = 1.0  # 4 px dash
    out = clean_lines(strength, min_component=8, line_width=1)
    ink = ink_mask(out)
    assert ink[50, 10:90].all()
    assert not ink[:20].any() and not ink[70:].any()
    kept_all = ink_mask(clean_lines(strength, min_component=1, line_width=1))
    assert kept_all[80, 80:84].all()


def test_clean_lines_thins_a_band_and_thresholds() -> None:
    strength = np.zeros((64, 64), np.float32)
    strength[28:36, 8:56] = 0.9  # an 8 px band
    strength[5:7, 8:56] = 0.3  # faint line
    out = clean_lines(strength, threshold=0.5, line_width=1)
    ink = ink_mask(out)
    assert not ink[:10].any()  # faint line is below the threshold
    assert ink[28:36].any(axis=0)[12:52].all()  # one line along the band ...
    assert ink.sum(axis=0)[12:52].max() == 1  # ... exactly 1 px thick
    auto = ink_mask(clean_lines(strength, line_width=1))
    assert auto[28:36].any()


def test_clean_lines_fills_small_holes_before_thinning() -> None:
    strength = np.zeros((64, 64), np.float32)
    strength[20:40, 10:54] = 1.0
    strength[29:31, 20:44] = 0.0  # a thin slit: a doubled line
    loops = ink_mask(clean_lines(strength, line_width=1, fill_holes=0))
    one = ink_mask(clean_lines(strength, line_width=1, fill_holes=100))
    assert loops.sum() > one.sum()
    assert one[20:40].sum(axis=0)[24:40].max() == 1


def test_clean_lines_rejects_bad_input() -> None:
    with pytest.raises(InputImageError):
        clean_lines(np.zeros((4, 4, 3), np.float32))
    with pytest.raises(ConfigError):
        clean_lines(np.zeros((4, 4), np.float32), line_width=0)


def test_normalize_edge_map_matches_the_pen_and_drops_noise() -> None:
    rng = np.random.default_rng(1)
    edges = np.full((256, 256), 255, np.uint8)
    cv2.circle(edges, (128, 128), 70, 60, 3)  # grey 3 px line
    edges = np.clip(edges + rng.normal(0, 8, edges.shape), 0, 255).astype(np.uint8)  # JPEG-like noise
    edges[10, 10] = 0  # isolated speck
    out = normalize_edge_map(edges, line_width=2)
    assert is_sketch(out, (256, 256))
    assert out[10, 10] == 255
    dist = radius_of_ink(out)
    assert np.all(np.abs(dist - 70) < 4)
    circumference = 2 * np.pi * 70
    assert 1.5 * circumference < dist.size < 2.6 * circumference  # a 2 px pen


def test_normalize_edge_map_accepts_rgb() -> None:
    edges = np.full((64, 64, 3), 255, np.uint8)
    cv2.line(edges, (5, 30), (58, 30), (0, 0, 0), 2)
    assert ink_mask(normalize_edge_map(edges))[28:33].any()


def test_ink_mask() -> None:
    sketch = np.array([[0, 127, 128, 255]], np.uint8)
    assert ink_mask(sketch).tolist() == [[True, True, False, False]]


def test_resize_and_fit_sketch_keep_thin_lines() -> None:
    from icanvas.data.edges import fit_sketch, resize_sketch

    page = np.full((1200, 900), 255, np.uint8)
    cv2.circle(page, (450, 600), 300, 0, 1)  # a 1 px pencil line on a big page
    small = resize_sketch(page, 90, 120)
    assert small.shape == (120, 90) and set(np.unique(small)) <= {0, 255}
    assert (small == 0).sum() > 0.8 * 2 * np.pi * 30  # the whole circle is still there
    square = fit_sketch(page, 64, "pad")
    assert square.shape == (64, 64) and (square[:, :5] == 255).all()  # padded at the sides
    assert (square == 0).any()
    assert (fit_sketch(page, 64, "crop") == 0).any()


def _random_masks(seed: int, n: int) -> list[np.ndarray]:
    """Strokes, rings and discs of every width, some running off the edge; speckle; any grey levels."""
    rng = np.random.default_rng(seed)
    masks = []
    for _ in range(n):
        m = np.zeros((int(rng.integers(3, 200)), int(rng.integers(3, 200))), np.uint8)
        h, w = m.shape
        for _ in range(int(rng.integers(0, 10))):
            a = (int(rng.integers(-10, w + 10)), int(rng.integers(-10, h + 10)))
            b = (int(rng.integers(-10, w + 10)), int(rng.integers(-10, h + 10)))
            cv2.line(m, a, b, 255, int(rng.integers(1, 12)))
            if rng.random() < 0.3:
                cv2.circle(m, a, int(rng.integers(1, 50)), 255, int(rng.integers(-1, 8)))
        kind = rng.random()
        if kind < 0.15:
            m = np.where(rng.random(m.shape) < rng.random(), 255, 0).astype(np.uint8)
        elif kind < 0.25:
            m = rng.integers(0, 256, m.shape, dtype=np.uint8)
        masks.append(m)
    return masks


def test_thin_draws_the_same_lines_as_opencvs_zhang_suen() -> None:
    for m in _random_masks(0, 120) + [np.zeros((5, 5), np.uint8), np.full((2, 9), 255, np.uint8), np.full((40, 40), 255, np.uint8)]:
        want = cv2.ximgproc.thinning(m, thinningType=cv2.ximgproc.THINNING_ZHANGSUEN)
        got = thin(m)
        assert got.dtype == np.uint8 and got.shape == m.shape
        assert np.array_equal(got, want), m.shape
