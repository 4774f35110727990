"""render_strokes: geometry (centred, margin), pen width scaling, validation."""

import numpy as np
import pytest

from icanvas.data.canvas import CANVAS_SIZE, CRAYONS, PEN_WIDTHS, pen_width, render_strokes
from icanvas.errors import InputImageError

SQUARE = [[[10, 110, 110, 10, 10], [20, 20, 120, 120, 20]]]  # a 100 x 100 box, off-centre
WIDE = [[[0, 255], [100, 100]], [[0, 255], [160, 160]]]  # two horizontal strokes: wide, flat drawing


def ink_box(img):
    ys, xs = np.nonzero(img < 128)
    return xs.min(), xs.max() + 1, ys.min(), ys.max() + 1


def test_constants_match_the_studio_contract():
    assert CANVAS_SIZE == 512 and PEN_WIDTHS == {"thin": 4, "medium": 8, "thick": 14}
    assert len(CRAYONS) == 10 and all(v.startswith("#") and len(v) == 7 for v in CRAYONS.values())


@pytest.mark.parametrize("size,margin", [(256, 0.08), (512, 0.1), (128, 0.0)])
def test_drawing_is_centred_with_the_margin(size, margin):
    img = render_strokes(SQUARE, size=size, pen="medium", margin=margin)
    assert img.shape == (size, size) and img.dtype == np.uint8 and set(np.unique(img)) <= {0, 255}
    x0, x1, y0, y1 = ink_box(img)
    want = size * (1 - 2 * margin)  # the ink, pen included, spans this along the longer side
    assert abs((x1 - x0) - want) <= 2 and abs((y1 - y0) - want) <= 2
    assert abs((x0 + x1) / 2 - size / 2) <= 1.5 and abs((y0 + y1) / 2 - size / 2) <= 1.5


def test_aspect_ratio_is_kept():
    img = render_strokes(WIDE, size=256, margin=0.1)
    x0, x1, y0, y1 = ink_box(img)
    width = pen_width("medium", 256)
    assert abs((x1 - x0) - 256 * 0.8) <= 2
    # centre lines 60 / 255 of the width apart, plus one pen width of ink
    assert abs((y1 - y0) - (60 / 255 * (256 * 0.8 - width) + width)) <= 2
    assert abs((y0 + y1) / 2 - 128) <= 1.5


def test_pen_width_scales_with_size_and_pen():
    assert pen_width("thick", 256) == pytest.approx(7.0) and pen_width(8, 1024) == pytest.approx(16.0)
    stroke = [[[0, 255], [0, 255]]]  # a diagonal: ink area ~ length x width
    areas = {pen: (render_strokes(stroke, size=512, pen=pen) < 128).sum() for pen in PEN_WIDTHS}
    assert areas["thin"] < areas["medium"] < areas["thick"]
    assert areas["thick"] / areas["thin"] == pytest.approx(14 / 4, rel=0.15)
    small = (render_strokes(stroke, size=256, pen="medium") < 128).sum()
    assert small * 4 == pytest.approx(areas["medium"], rel=0.1)  # half the size: half the length and half the width


def test_round_caps_and_dots():
    dot = render_strokes([[[50], [50]]], size=512, pen="thick")
    ys, xs = np.nonzero(dot < 128)
    assert abs(xs.mean() - 256) < 1 and abs(ys.mean() - 256) < 1  # a lone point is a centred round dot
    assert (dot < 128).sum() == pytest.approx(np.pi * 7**2, rel=0.25)
    line = render_strokes([[[0, 255], [0, 0]]], size=512, pen="thick")
    corner = line[ink_box(line)[2], ink_box(line)[0]]  # the bounding-box corner lies outside a round cap
    assert corner == 255


def test_empty_and_bad_strokes():
    assert (render_strokes([], size=64) == 255).all()
    assert (render_strokes([[[], []]], size=64) == 255).all()
    with pytest.raises(InputImageError, match="Stroke 0"):
        render_strokes([[[1, 2, 3], [1, 2]]])
    with pytest.raises(InputImageError, match="pen"):
        render_strokes(SQUARE, pen="marker")
    with pytest.raises(InputImageError, match="margin"):
        render_strokes(SQUARE, margin=0.6)
