"""Stage 4 and the crop geometry: the result keeps the photo's size and blends at the person's edge."""

from __future__ import annotations

import numpy as np
import pytest

from icanvas.errors import InputImageError
from icanvas.portrait.compose import box_fade, clip_box, feather_sigma, head_box, paste, person_box, scale_box


def test_paste_keeps_size_and_blends_at_the_edge():
    bg = np.full((120, 160, 3), 40, np.uint8)
    mask = np.zeros((120, 160), np.float32)
    mask[30:100, 60:110] = 1
    box = (50, 20, 120, 110)
    restyled = np.full((45, 35, 3), 240, np.uint8)  # half the box's resolution: resized to it
    out = paste(bg, restyled, mask, box)
    assert out.shape == bg.shape and out.dtype == np.uint8
    assert (out[45:85, 70:100] == 240).all()  # inside the person: the restyled crop
    assert (out[:, :45] == 40).all() and (out[:15] == 40).all()  # outside the box: untouched
    edge = out[60, 58:63, 0].astype(int)  # across the left border of the mask
    assert edge[0] < edge[2] < edge[4] and 40 < edge[2] < 240  # a soft ramp, not a step
    hard = paste(bg, restyled, mask, box, sigma=0)
    assert hard[60, 59, 0] == 40 and hard[60, 60, 0] == 240


def test_paste_refuses_mismatched_inputs():
    bg = np.zeros((50, 60, 3), np.uint8)
    with pytest.raises(InputImageError, match="mask"):
        paste(bg, bg, np.zeros((60, 50), np.float32), (0, 0, 60, 50))
    with pytest.raises(InputImageError, match="not inside"):
        paste(bg, bg, np.zeros((50, 60), np.float32), (10, 10, 70, 40))


def test_person_box_is_square_around_the_person_and_inside_the_photo():
    shape = (600, 800)
    tight = (350, 200, 450, 500)  # 100 x 300 px
    x0, y0, x1, y1 = person_box(tight, shape)
    assert x0 <= 350 and y0 <= 200 and x1 >= 450 and y1 >= 500
    assert abs((x1 - x0) - (y1 - y0)) <= 1 and y1 - y0 > 300  # a square with some room
    x0, y0, x1, y1 = person_box((700, 100, 790, 590), shape)  # against the right and bottom edges
    assert 0 <= x0 and x1 <= 800 and 0 <= y0 and y1 <= 600 and x0 <= 700 and y0 <= 100
    assert person_box((0, 0, 800, 600), shape) == (0, 0, 800, 600)  # a person filling the photo


def test_head_box_is_a_square_around_the_face():
    face = (100, 120, 160, 190)
    x0, y0, x1, y1 = head_box(face, (400, 400))
    assert x1 - x0 == y1 - y0 and x0 < 100 and x1 > 160 and y0 < 120 and y1 > 190
    assert (y0 + y1) / 2 < (120 + 190) / 2  # lifted for the hair
    assert head_box((0, 0, 30, 30), (50, 50))[:2] == (0, 0)  # slid, never outside


def test_box_helpers():
    assert clip_box((-5, -5, 500, 20), (100, 200)) == (0, 0, 200, 20)
    assert clip_box((50, 50, 40, 40), (100, 100)) == (50, 50, 51, 51)  # never empty
    assert scale_box((1, 1, 3, 3), 0.5) == (0, 0, 2, 2)  # outward rounding
    fade = box_fade((100, 100), (0, 20, 60, 80), sigma=3)
    assert fade[50, 30] == pytest.approx(1, abs=1e-3) and fade[50, 59] < 0.1 and fade[50, 0] > 0.9  # no fade at the photo's border
    assert fade[10, 30] == 0 and fade[50, 70] == 0
    assert 1 <= feather_sigma(64) <= feather_sigma(1000) <= 6
