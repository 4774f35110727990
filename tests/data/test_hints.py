"""Crayon hints at training time: scribbles inside the drawn object, the photo recoloured to the crayon."""

import colorsys

import cv2
import numpy as np
import pytest

from icanvas.data.canvas import CRAYONS
from icanvas.data.hints import crayon_hints, crayon_rgb, nearest_crayon, recolor, scribble
from icanvas.data.regions import object_mask
from icanvas.methods.pix2pix import HintConfig


def _ring(size=128):
    """A drawn circle (lines) and a photo of a grey-green disc on white."""
    sketch = np.full((size, size), 255, np.uint8)
    cv2.circle(sketch, (size // 2, size // 2), size // 3, 0, 2)
    photo = np.full((size, size, 3), 255, np.uint8)
    cv2.circle(photo, (size // 2, size // 2), size // 3, (90, 120, 90), -1)
    return sketch, photo


def _hue(rgb):
    return colorsys.rgb_to_hsv(*(np.asarray(rgb, float) / 255))[0] * 360


def test_object_mask_is_the_inside_of_the_outline():
    sketch, _ = _ring()
    inside = object_mask(sketch)
    assert inside[64, 64] and not inside[2, 2]


def test_scribbles_stay_inside_the_region():
    sketch, _ = _ring()
    region = object_mask(sketch) & (sketch >= 128)
    rng = np.random.default_rng(0)
    for _ in range(20):
        s = scribble(region, 5, rng)
        assert s.any() and not (s & ~region).any()


@pytest.mark.parametrize("name", ["red", "blue", "yellow", "black"])
def test_recolour_moves_the_object_to_the_crayon_and_leaves_the_paper(name):
    sketch, photo = _ring()
    obj = object_mask(sketch)
    out = recolor(photo, obj, crayon_rgb(name), lightness=0.8)
    mean = out[obj & (sketch >= 128)].mean(axis=0)
    want = crayon_rgb(name)
    if name == "black":
        assert mean.mean() < photo[64, 64].mean() - 40  # darker than the green disc
    else:
        assert abs((_hue(mean) - _hue(want) + 180) % 360 - 180) < 20
    assert np.array_equal(out[2, 2], photo[2, 2])  # the paper outside stays white
    assert out[60:68, 60:68].std() >= 0  # same shape, uint8
    assert out.dtype == np.uint8 and out.shape == photo.shape


def test_crayon_hints_paint_the_target_in_the_hint_colour():
    sketch, photo = _ring()
    cfg = HintConfig(enabled=True, style="crayon", max_strokes=2, stroke_width=6, p_none=0.0, natural_p=0.0)
    rng = np.random.default_rng(1)
    for _ in range(10):
        target, colors, mask = crayon_hints(sketch, photo, cfg, rng)
        assert mask.any()
        hint = colors[mask][0]
        assert tuple(int(c) for c in hint) in {crayon_rgb(n) for n in CRAYONS}
        assert (colors[mask] == hint).all() and not colors[~mask].any()
        if tuple(hint) != crayon_rgb("black") and tuple(hint) != crayon_rgb("brown"):
            got = target[object_mask(sketch) & (sketch >= 128)].mean(axis=0)
            assert abs((_hue(got) - _hue(hint) + 180) % 360 - 180) < 25


def test_no_hints_keep_the_photo():
    sketch, photo = _ring()
    cfg = HintConfig(enabled=True, style="crayon", p_none=1.0)
    target, colors, mask = crayon_hints(sketch, photo, cfg, np.random.default_rng(0))
    assert target is photo and not mask.any() and not colors.any()


def test_nearest_crayon():
    assert nearest_crayon(np.array(crayon_rgb("green"), np.uint8)) == "green"
    assert nearest_crayon(np.array([10, 10, 10], np.uint8)) == "black"


def test_crayon_hints_with_a_subject_recolour_the_subject_and_not_the_scenery():
    """hints.region "subject": a square drawn round a disc (the subject) and the grass beside it; only the disc
    takes the crayon's colour, and the scribbles sit on it."""
    size = 128
    sketch = np.full((size, size), 255, np.uint8)
    cv2.rectangle(sketch, (10, 10), (117, 117), 0, 2)
    photo = np.full((size, size, 3), (60, 140, 60), np.uint8)  # green scenery
    cv2.circle(photo, (50, 64), 30, (235, 235, 235), -1)  # a white subject
    subject = np.zeros((size, size), np.uint8)
    cv2.circle(subject, (50, 64), 30, 1, -1)
    subject = subject.astype(bool)
    cfg = HintConfig(enabled=True, style="crayon", region="subject", max_strokes=3, stroke_width=6, p_none=0.0, natural_p=0.0)
    rng = np.random.default_rng(3)
    scenery = object_mask(sketch) & ~cv2.dilate(subject.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    for _ in range(8):
        target, colors, mask = crayon_hints(sketch, photo, cfg, rng, subject)
        assert mask.any() and not (mask & ~subject).any()  # scribbles on the subject only
        assert np.abs(target[scenery].astype(int) - photo[scenery]).max() <= 2  # the grass keeps its colour (Lab round trip)
        hint = tuple(int(c) for c in colors[mask][0])
        if hint not in (crayon_rgb("black"), crayon_rgb("brown")):
            got = target[subject].mean(axis=0)
            assert abs((_hue(got) - _hue(hint) + 180) % 360 - 180) < 25
    # without the subject ("drawing"), the grass inside the outline is recoloured too
    target, _, _ = crayon_hints(sketch, photo, HintConfig(enabled=True, style="crayon", max_strokes=3, p_none=0.0, natural_p=0.0),
                                np.random.default_rng(3))
    assert np.abs(target[scenery].astype(int) - photo[scenery]).max() > 20
    # a subject that covers almost none of the drawn object is ignored
    speck = np.zeros_like(subject)
    speck[60:62, 60:62] = True
    target, _, mask = crayon_hints(sketch, photo, cfg, np.random.default_rng(3), speck)
    assert (mask & ~speck).any()
