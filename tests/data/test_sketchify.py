"""Hand-drawn look augmentation: determinism, bounds, each transform on its own (all synthetic)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from icanvas.config import SketchifyConfig
from icanvas.data.sketchify import Sketchify
from icanvas.errors import ConfigError, InputImageError

TRANSFORMS = ("thickness", "drop_strokes", "warp", "wobble", "break", "threshold", "simplify")


def drawing(size: int = 256) -> np.ndarray:
    """A clean 2 px line drawing: outline, doubled contour, interior details, short dashes."""
    s = size / 256
    img = np.full((size, size), 255, np.uint8)
    c = size // 2
    cv2.circle(img, (c, c), round(80 * s), 0, 2)
    cv2.circle(img, (c, c), round(84 * s), 0, 2)  # a doubled contour, as HED edges often have
    cv2.rectangle(img, (round(90 * s), round(100 * s)), (round(160 * s), round(150 * s)), 0, 2)
    cv2.line(img, (round(40 * s), round(230 * s)), (round(220 * s), round(225 * s)), 0, 2)
    for k in range(6):  # short strokes inside the outline
        x = round((80 + 18 * k) * s)
        cv2.line(img, (x, round(170 * s)), (x + max(1, round(5 * s)), round(172 * s)), 0, 2)
    for k in range(4):  # small marks outside
        cv2.circle(img, (round((20 + 60 * k) * s), round(20 * s)), max(1, round(2 * s)), 0, -1)
    return img


def only(name: str, **extra: float) -> SketchifyConfig:
    """Config with every transform off except ``name`` (probability 1)."""
    probs = {f"{t}_p": 0.0 for t in TRANSFORMS}
    probs[f"{name}_p"] = 1.0
    return SketchifyConfig(**probs, **extra)


def ink(sketch: np.ndarray) -> int:
    return int((sketch < 128).sum())


def test_disabled_returns_an_unchanged_copy() -> None:
    src = drawing()
    out = Sketchify(SketchifyConfig(enabled=False))(src, np.random.default_rng(0))
    assert np.array_equal(out, src)
    assert out is not src and not np.shares_memory(out, src)


def test_same_seed_same_output_different_seeds_differ() -> None:
    aug = Sketchify(SketchifyConfig())
    src = drawing()
    a = aug(src, np.random.default_rng(7))
    b = Sketchify(SketchifyConfig())(src.copy(), np.random.default_rng(7))
    assert np.array_equal(a, b)
    outs = {aug(src, np.random.default_rng(seed)).tobytes() for seed in range(8)}
    assert len(outs) >= 6


def test_input_is_not_modified() -> None:
    src = drawing()
    keep = src.copy()
    Sketchify(SketchifyConfig(**{f"{t}_p": 1.0 for t in TRANSFORMS}))(src, np.random.default_rng(0))
    assert np.array_equal(src, keep)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), all_on=st.booleans())
def test_output_stays_a_valid_sketch(seed: int, all_on: bool) -> None:
    cfg = SketchifyConfig(**{f"{t}_p": 1.0 for t in TRANSFORMS}) if all_on else SketchifyConfig()
    src = drawing(128)
    out = Sketchify(cfg, image_size=128)(src, np.random.default_rng(seed))
    assert out.shape == src.shape and out.dtype == np.uint8
    assert set(np.unique(out)) <= {0, 255}
    assert 0.2 * ink(src) <= ink(out) <= 6 * ink(src)


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    x=st.integers(0, 63),
    y=st.integers(0, 63),
    w=st.integers(1, 3),
    h=st.integers(1, 2),
)
def test_a_tiny_drawing_never_becomes_empty(seed: int, x: int, y: int, w: int, h: int) -> None:
    src = np.full((64, 64), 255, np.uint8)
    src[y : y + h, x : x + w] = 0  # one dot or short stroke, maybe at the border
    cfg = SketchifyConfig(**{f"{t}_p": 1.0 for t in TRANSFORMS}, drop_strokes_max=1.0, break_max=1.0)
    out = Sketchify(cfg, image_size=64)(src, np.random.default_rng(seed))
    assert ink(out) > 0


@pytest.mark.parametrize("name", TRANSFORMS)
def test_each_transform_alone_changes_the_drawing(name: str) -> None:
    aug = Sketchify(only(name))
    src = drawing()
    for seed in range(3):
        out = aug(src, np.random.default_rng(seed))
        assert not np.array_equal(out, src), f"{name} did nothing for seed {seed}"
        assert 0.2 * ink(src) <= ink(out) <= 6 * ink(src)


def test_transforms_do_what_they_say() -> None:
    src = drawing()
    rng = np.random.default_rng
    # thickness with only thickening possible (thinning a 2 px line keeps >= 1 px)
    thick = [ink(Sketchify(only("thickness"))(src, rng(s))) for s in range(6)]
    assert max(thick) > 1.3 * ink(src)
    # dropping and breaking only remove ink
    for name in ("drop_strokes", "break"):
        out = Sketchify(only(name))(src, rng(0))
        assert not ((out < 128) & (src >= 128)).any()
        assert ink(out) < ink(src)
    # simplify removes the short interior strokes and merges the doubled contour
    simple = Sketchify(only("simplify"))(src, rng(0))
    assert ink(simple[165:178, 75:190]) == 0
    row = simple[128, :60] < 128  # across the two circles on the left
    assert np.count_nonzero(np.diff(row.astype(int)) == 1) == 1  # one line, not two


def test_warp_moves_ink_by_at_most_its_strength() -> None:
    src = np.full((256, 256), 255, np.uint8)
    src[:, 128:130] = 0  # vertical 2 px line
    out = Sketchify(only("warp", warp_strength=4.0))(src, np.random.default_rng(3))
    cols = np.nonzero((out < 128).any(axis=0))[0]
    assert cols.min() >= 128 - 5 and cols.max() <= 129 + 5
    assert cols.max() - cols.min() > 2  # it did bend


def test_strengths_scale_with_image_size() -> None:
    big = drawing(512)
    out = Sketchify(only("thickness"), image_size=512)(big, np.random.default_rng(1))
    assert out.shape == (512, 512)
    small = drawing(64)
    assert Sketchify(SketchifyConfig(), image_size=64)(small, np.random.default_rng(0)).shape == (64, 64)


def test_blank_paper_and_grey_input() -> None:
    aug = Sketchify(SketchifyConfig(**{f"{t}_p": 1.0 for t in TRANSFORMS}))
    blank = np.full((32, 32), 255, np.uint8)
    assert np.array_equal(aug(blank, np.random.default_rng(0)), blank)
    grey = drawing().astype(np.float32) / 255.0 * 200 + 30  # grey ink on grey paper, float
    out = aug(grey, np.random.default_rng(0))
    assert out.dtype == np.uint8 and set(np.unique(out)) <= {0, 255}
    unit = drawing().astype(np.float32) / 255.0  # float sketch in [0, 1]
    assert np.array_equal(aug(unit, np.random.default_rng(0)), aug(drawing(), np.random.default_rng(0)))


def test_bad_input() -> None:
    with pytest.raises(InputImageError):
        Sketchify(SketchifyConfig())(np.zeros((8, 8, 3), np.uint8), np.random.default_rng(0))
    with pytest.raises(ConfigError):
        Sketchify(SketchifyConfig(), image_size=8)
