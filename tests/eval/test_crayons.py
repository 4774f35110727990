"""The crayon hit test and the synthetic crayon drawings."""

import cv2
import numpy as np

from icanvas.data.hints import crayon_rgb
from icanvas.data.canvas import CRAYONS
from icanvas.eval.crayons import crayon_drawing, crayon_hit, hue_distance


def _circle(size=256):
    sketch = np.full((size, size), 255, np.uint8)
    cv2.circle(sketch, (size // 2, size // 2), size // 3, 0, 3)
    return sketch


def test_scribbles_sit_inside_the_drawing_in_the_crayon_colour():
    sketch = _circle()
    s = crayon_drawing(sketch, "blue", np.random.default_rng(0))
    m = s.drawing.color_mask
    assert m.any() and (s.drawing.colors[m] == crayon_rgb("blue")).all()
    assert not m[:20].any()  # nothing outside the circle
    assert (s.drawing.lines[m] == 0).all()  # crayon is ink on the page
    assert s.region.any() and not s.region[0, 0]


def test_hit_follows_hue_and_darkness():
    region = np.ones((8, 8), bool)
    for name in CRAYONS:
        same = np.full((8, 8, 3), crayon_rgb(name), np.uint8)
        assert crayon_hit(same, region, name), name
    grey = np.full((8, 8, 3), 128, np.uint8)
    assert not crayon_hit(grey, region, "red")  # no hue at all
    green = np.full((8, 8, 3), crayon_rgb("green"), np.uint8)
    assert not crayon_hit(green, region, "red") and not crayon_hit(green, region, "black")
    assert not crayon_hit(green, np.zeros((8, 8), bool), "green")  # nothing to judge


def test_hue_distance_wraps():
    assert hue_distance(350, 10) == 20 and hue_distance(0, 180) == 180
