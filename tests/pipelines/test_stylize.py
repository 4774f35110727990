"""The stylize pipeline with fake stages: sizes, what each stage receives, and clear errors."""

from __future__ import annotations

import io
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image

from icanvas.errors import CheckpointError, InputImageError, PromptError
from icanvas.pipelines.stylize import Stylize, debug_images, default_body, load_photo
from icanvas.portrait.cartoon import CartoonRestyler
from icanvas.portrait.fill import OpenCVFiller
from icanvas.portrait.stages import Point, Prompt, Selection


class FakeSelector:
    """A person as an ellipse around the first click (or the box), a face above its middle."""

    name = "fake"

    def __init__(self, radius: float = 0.3, face: bool = True) -> None:
        self.radius, self.face, self.calls = radius, face, []

    def select(self, photo, prompt):
        self.calls.append((photo.shape, prompt))
        h, w = photo.shape[:2]
        cx, cy = (prompt.points[0].x, prompt.points[0].y) if prompt.points else (w / 2, h / 2)
        yy, xx = np.mgrid[:h, :w]
        r = max(1e-3, self.radius * min(h, w))
        mask = (((xx - cx) / (0.6 * r)) ** 2 + ((yy - cy) / r) ** 2 < 1).astype(np.float32) * (self.radius > 0)
        ys, xs = np.nonzero(mask > 0.5)
        box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1) if len(xs) else (0, 0, 1, 1)
        face = (int(cx - r / 4), int(cy - r * 0.8), int(cx + r / 4), int(cy - r * 0.3)) if self.face else None
        return Selection(mask, box, face)


class FakeFiller:
    name = "fake"

    def __init__(self) -> None:
        self.calls = []

    def fill(self, photo, mask):
        self.calls.append((photo.shape, mask.shape, mask.dtype))
        out = photo.copy()
        out[mask > 0.1] = (0, 0, 255)
        return out


class FakeRestyler:
    name = "fake"

    def __init__(self, colour=(0, 255, 0), size: int | None = None) -> None:
        self.colour, self.size, self.calls = colour, size, []

    def restyle(self, crop, mask, face):
        self.calls.append((crop.shape, mask.shape, face))
        s = crop.shape[:2] if self.size is None else (self.size, self.size)
        return np.full((*s, 3), self.colour, np.uint8)


def photo(h: int = 300, w: int = 400) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 200, (h, w, 3), dtype=np.uint8)


def test_result_has_the_input_size_and_stages_get_the_right_shapes():
    img = photo(900, 1200)
    sel, fill, rest = FakeSelector(face=False), FakeFiller(), FakeRestyler()
    pipe = Stylize(sel, fill, rest, work_side=400, crop_side=128)
    res = pipe(img, Prompt(points=(Point(600, 450),)))
    assert res.image.shape == img.shape and res.mask.shape == img.shape[:2] and res.mask.dtype == np.float32
    (work_shape, prompt), = sel.calls
    assert work_shape == (300, 400, 3) and prompt.points[0] == Point(200, 150)  # scaled to the working copy
    assert fill.calls == [((900, 1200, 3), (900, 1200), np.float32)]  # the filler works at full size
    (crop_shape, crop_mask_shape, face), = rest.calls
    assert max(crop_shape[:2]) == 128 and crop_mask_shape == crop_shape[:2] and face is None
    assert res.restyled.shape == res.crop.shape == crop_shape
    x0, y0, x1, y1 = res.crop_box
    assert x0 < 600 < x1 and y0 < 450 < y1
    person, far = cv2.erode((res.mask > 0.99).astype(np.uint8), np.ones((21, 21), np.uint8)) > 0, np.ones(img.shape[:2], bool)
    far[y0:y1, x0:x1] = False
    assert person.sum() > 10000 and (res.image[person] == (0, 255, 0)).all()  # the restyled person, away from its soft edge
    assert np.array_equal(res.image[far], img[far])  # the fake filler only changed the person
    assert set(res.timings_ms) == {"read", "select", "fill", "restyle", "compose", "total"}


def test_a_face_goes_to_the_restyler_and_the_rest_to_the_body():
    img = photo(400, 400)
    head, body = FakeRestyler((255, 0, 0), size=64), FakeRestyler((0, 0, 255))
    res = Stylize(FakeSelector(radius=0.4), FakeFiller(), head, body=body)(img, Prompt(points=(Point(200, 220),)))
    (crop_shape, _, face), = body.calls
    (head_shape, head_mask_shape, head_face), = head.calls
    assert head_shape[0] == head_shape[1] and head_shape[0] < crop_shape[0]  # a square, smaller than the person
    assert head_mask_shape == head_shape[:2]
    fx0, fy0, fx1, fy1 = head_face
    assert 0 <= fx0 < fx1 <= head_shape[1] and 0 <= fy0 < fy1 <= head_shape[0]
    assert res.face is not None
    restyled = res.restyled.reshape(-1, 3)
    assert ((restyled == (255, 0, 0)).all(axis=1)).any() and ((restyled == (0, 0, 255)).all(axis=1)).any()


def test_without_a_face_the_body_restyles_the_whole_person():
    head, body = FakeRestyler((255, 0, 0)), FakeRestyler((0, 0, 255))
    res = Stylize(FakeSelector(face=False), FakeFiller(), head, body=body)(photo(), Prompt(points=(Point(200, 150),)))
    assert head.calls == [] and len(body.calls) == 1 and res.face is None
    assert (res.restyled == (0, 0, 255)).all()


def test_default_body_pairs_a_face_model_with_the_cartoon():
    face_model = FakeRestyler()
    face_model.scope = "face"
    assert isinstance(default_body(face_model), CartoonRestyler)
    assert default_body(CartoonRestyler()) is None and default_body(FakeRestyler()) is None  # no scope: the whole person


def test_the_real_fill_and_cartoon_stages_run_together():
    img = photo(120, 160)
    res = Stylize(FakeSelector(face=False), OpenCVFiller(), CartoonRestyler())(img, Prompt(box=(40, 20, 120, 110)))
    assert res.image.shape == img.shape and not np.array_equal(res.image, img)
    assert set(debug_images(res, Prompt(box=(40, 20, 120, 110)))) == {"mask.png", "background.png", "crop.png", "restyled.png", "overlay.png"}


def test_prompt_and_selection_errors():
    img = photo()
    pipe = Stylize(FakeSelector(), FakeFiller(), FakeRestyler())
    with pytest.raises(PromptError, match=r"outside the photo \(400x300\)"):  # checked in the photo's own pixels
        Stylize(FakeSelector(), FakeFiller(), FakeRestyler(), work_side=100)(img, Prompt(points=(Point(400, 10),)))
    with pytest.raises(PromptError, match="outside the photo"):
        pipe(img, Prompt(box=(300, 10, 500, 50)))
    with pytest.raises(PromptError, match="too small"):
        Stylize(FakeSelector(radius=0.03), FakeFiller(), FakeRestyler())(img, Prompt(points=(Point(200, 150),)))
    with pytest.raises(PromptError, match="Nothing was selected"):
        Stylize(FakeSelector(radius=0.0), FakeFiller(), FakeRestyler())(img, Prompt(points=(Point(200, 150),)))


def test_stage_outputs_are_checked():
    img = photo()

    class BadFiller(FakeFiller):
        def fill(self, photo, mask):
            return photo[:10]

    class BadRestyler(FakeRestyler):
        def restyle(self, crop, mask, face):
            return crop.astype(np.float32)

    with pytest.raises(CheckpointError, match="filler returned"):
        Stylize(FakeSelector(), BadFiller(), FakeRestyler())(img, Prompt(points=(Point(200, 150),)))
    with pytest.raises(CheckpointError, match="restyler returned"):
        Stylize(FakeSelector(), FakeFiller(), BadRestyler())(img, Prompt(points=(Point(200, 150),)))


def test_bad_photos_give_clear_errors(tmp_path):
    pipe = Stylize(FakeSelector(), FakeFiller(), FakeRestyler())
    with pytest.raises(InputImageError, match="not found"):
        pipe(tmp_path / "missing.jpg", Prompt())
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 broken")
    with pytest.raises(InputImageError, match="could not be decoded|not a"):
        pipe(bad, Prompt())
    with pytest.raises(InputImageError, match="megapixels"):
        load_photo(_png_header(20000, 20000))


def _png_header(w: int, h: int) -> bytes:
    """A PNG that declares w x h pixels (only its header is valid)."""
    buf = io.BytesIO()
    Image.new("L", (8, 8)).save(buf, format="PNG")
    data = bytearray(buf.getvalue())
    data[16:24] = w.to_bytes(4, "big") + h.to_bytes(4, "big")
    data[29:33] = zlib.crc32(bytes(data[12:29])).to_bytes(4, "big")  # the IHDR chunk's checksum
    return bytes(data)


def test_exif_orientation_is_applied(tmp_path):
    img = Image.fromarray(photo(60, 100))  # 100 wide, 60 high as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # shown rotated by 90 degrees
    path = tmp_path / "rotated.jpg"
    img.save(path, exif=exif)
    assert load_photo(path).shape == (100, 60, 3)
    assert load_photo(Image.open(path)).shape == (100, 60, 3)
