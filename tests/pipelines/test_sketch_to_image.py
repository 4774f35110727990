"""SketchToImage's keep-inside fade: paint stays in the drawn outlines, open doodles use their hull."""

import cv2
import numpy as np
import pytest

from icanvas.checkpoint import ModelInfo
from icanvas.config import UNetConfig
from icanvas.data.images import Drawing
from icanvas.pipelines.sketch_to_image import SketchToImage, keep_inside, paint_region

S = 64


def _page(draw) -> np.ndarray:
    page = np.full((S, S), 255, np.uint8)
    draw(page)
    return page


def test_closed_outline_is_painted_inside_only():
    square = _page(lambda p: cv2.rectangle(p, (16, 16), (48, 48), 0, 2))
    region = paint_region(square)
    assert region.dtype == np.float32 and region.shape == (S, S)
    assert region[32, 32] > 0.99 and region[17, 32] > 0.5  # the inside and the line itself
    assert region[4, 4] < 0.01 and region[58, 32] < 0.01  # paper around it, e.g. the blob a model paints under a shoe


def test_small_gaps_still_count_as_closed():
    square = _page(lambda p: cv2.rectangle(p, (16, 16), (48, 48), 0, 2))
    square[30:34, 46:51] = 255  # a 4 px gap in the right side
    region = paint_region(square)
    assert region[32, 32] > 0.99 and region[32, 60] < 0.01


def test_open_doodle_uses_the_convex_hull():
    def boot(p):
        cv2.polylines(p, [np.array([[16, 12], [16, 50], [50, 50]])], False, 0, 2)  # an L: encloses nothing

    region = paint_region(_page(boot))
    assert region[40, 24] > 0.99  # inside the triangle the L spans
    assert region[14, 48] < 0.01  # outside it


@pytest.mark.parametrize("blank", [True, False])
def test_keep_inside_fades_to_white(blank):
    lines = np.full((S, S), 255, np.uint8) if blank else _page(lambda p: cv2.circle(p, (32, 32), 14, 0, 2))
    picture = np.full((S, S, 3), 40, np.uint8)
    out = keep_inside(picture, lines)
    assert out.dtype == np.uint8 and out.shape == (S, S, 3)
    if blank:
        assert np.array_equal(out, picture)  # nothing drawn: nothing to keep inside, nothing changed
    else:
        assert (out[32, 32] == 40).all() and (out[2, 2] == 255).all()


class _Brown:
    """A 'model' that paints everything brown."""

    name = "fake"

    def __call__(self, x, label=None):
        return np.full((len(x), 3, S, S), -0.4, np.float32)


def test_pipeline_fades_paint_outside_the_drawing_unless_asked_not_to():
    info = ModelInfo(path=None, method="pix2pix", config=UNetConfig(image_size=S, ngf=2, max_channels=4))
    page = np.full((200, 200), 255, np.uint8)
    cv2.circle(page, (100, 100), 60, 0, 3)
    drawing = Drawing(lines=page, colors=np.zeros((200, 200, 3), np.uint8), color_mask=np.zeros((200, 200), bool), source="test")
    kept = SketchToImage(_Brown(), info).run([drawing])[0].square
    raw = SketchToImage(_Brown(), info, keep_inside=False).run([drawing])[0].square
    assert (raw == raw[0, 0]).all() and raw[0, 0, 0] < 100  # brown everywhere
    assert (kept[0, 0] == 255).all() and (kept[S // 2, S // 2] == raw[0, 0]).all()


def _span(lines: np.ndarray) -> float:
    ys, xs = np.nonzero(lines < 128)
    return max(xs.max() - xs.min() + 1, ys.max() - ys.min() + 1) / lines.shape[0]


@pytest.mark.parametrize("fill", [None, 0.5])
def test_drawings_are_framed_to_the_share_the_training_drawings_filled(fill):
    meta = {"subject_fill": fill} if fill else {}
    info = ModelInfo(path=None, method="pix2pix", config=UNetConfig(image_size=S, ngf=2, max_channels=4), meta=meta)
    page = np.full((200, 300), 255, np.uint8)
    cv2.circle(page, (150, 100), 90, 0, 3)  # a face drawn across the whole page
    drawing = Drawing(lines=page, colors=np.zeros((200, 300, 3), np.uint8), color_mask=np.zeros((200, 300), bool), source="test")
    out = SketchToImage(_Brown(), info, keep_inside=False).run([drawing])[0]
    span = _span(out.lines)
    if fill:
        assert abs(span - fill) < 0.05  # the model sees the drawing at the training drawings' size
    else:
        assert span > 0.8  # no framing recorded: cropped close around the ink
    assert out.image.shape == (200, 300, 3)  # pasted back at the drawing's place and size
    assert (out.image[100, 150] < 100).all() and (out.image[5, 5] == 255).all()


def test_subject_fill_is_the_median_span_of_the_training_drawings():
    from icanvas.data.datasets import PairedImages

    sketches = np.full((3, 40, 40), 255, np.uint8)
    sketches[0, 10:30, 5:15] = 0  # spans 20 of 40
    sketches[1, 0:40, 0:2] = 0  # spans 40
    sketches[2, 5:15, 5:15] = 0  # spans 10
    data = PairedImages(sketches, np.zeros((3, 40, 40, 3), np.uint8), np.zeros(3, np.int64), [], ["a", "b", "c"])
    assert data.subject_fill() == 0.5
    blank = PairedImages(np.full((1, 8, 8), 255, np.uint8), np.zeros((1, 8, 8, 3), np.uint8), np.zeros(1, np.int64), [], ["x"])
    assert blank.subject_fill() == 0.0
