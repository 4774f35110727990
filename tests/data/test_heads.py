"""A panda's face found by its eye patches, and doodles drawn of it."""

import json

import cv2
import numpy as np
import pytest

from icanvas.data.doodles import DoodleOptions, doodle_bitmap, head_strokes, make_doodles
from icanvas.data.heads import find_head
from icanvas.data.quickdraw import load_bitmaps

GRASS = (70, 120, 60)


def panda_face(side: int = 256, ears: int = 2, eyes: bool = True, nose: bool = True, shift: int = 0) -> np.ndarray:
    """A synthetic panda's face on grass: a light head, two dark eye patches, ``ears`` dark ears and a dark nose."""
    photo = np.full((side, side, 3), GRASS, np.uint8)
    u = side / 256
    cx, cy = int(128 * u) + shift, int(140 * u)

    def p(x: float, y: float) -> tuple[int, int]:
        return int(round(cx + x * u)), int(round(cy + y * u))

    for x in (-52, 52)[:ears]:
        cv2.circle(photo, p(x, -52), int(22 * u), (20, 20, 20), -1)
    cv2.ellipse(photo, p(0, 0), (int(70 * u), int(62 * u)), 0, 0, 360, (235, 235, 230), -1)
    if eyes:
        for x, tilt in ((-26, 30), (26, -30)):
            cv2.ellipse(photo, p(x, -6), (int(11 * u), int(16 * u)), tilt, 0, 360, (25, 25, 25), -1)
    if nose:
        cv2.ellipse(photo, p(0, 22), (int(8 * u), int(5 * u)), 0, 0, 360, (30, 30, 30), -1)
    return photo


@pytest.mark.parametrize("side,shift", [(256, 0), (256, -40), (512, 0)])
def test_find_head_finds_a_panda_face(side, shift):
    head = find_head(panda_face(side, shift=shift))
    assert head is not None
    u = side / 256
    ys, xs = np.nonzero(head.head)
    assert abs(xs.mean() - (128 * u + shift)) < 10 * u and abs(ys.mean() - 140 * u) < 15 * u  # the head is where it was drawn
    assert 0.6 < head.head.sum() / (np.pi * 70 * 62 * u * u) < 1.3  # about its size
    left, right = (np.nonzero(e)[1].mean() for e in head.eyes)
    assert left < 128 * u + shift < right  # the eye patches, left then right
    assert len(head.ears) == 2 and all(np.nonzero(e)[0].mean() < 100 * u for e in head.ears)  # ears above the head
    assert head.nose is not None and abs(np.nonzero(head.nose)[0].mean() - 162 * u) < 5 * u
    assert not (head.head & head.ears[0]).any()  # an ear is drawn outside the head


def test_find_head_needs_eye_patches_and_an_ear():
    assert find_head(panda_face(eyes=False)) is None  # a light disc is no face
    assert find_head(panda_face(ears=0)) is None  # two eyes in a round face without ears is what people draw for "face"
    assert find_head(np.full((256, 256, 3), GRASS, np.uint8)) is None
    one_ear = find_head(panda_face(ears=1))
    assert one_ear is not None and len(one_ear.ears) == 1
    assert find_head(panda_face(nose=False)).nose is None


def test_head_doodle_is_a_face_drawn_large():
    head = find_head(panda_face())
    rng = np.random.default_rng(0)
    strokes = head_strokes(head, DoodleOptions("panda", per_photo=0, heads=1), rng)
    assert len(strokes) >= 5  # head, two ears, two eye patches (and maybe the nose)
    xs = np.concatenate([s[0] for s in strokes])
    assert xs.max() - xs.min() > 0.3 * 512  # drawn large on the canvas, whatever its size in the photo
    bitmap = doodle_bitmap(strokes, "medium")
    assert bitmap.shape == (28, 28) and 0.05 < (bitmap < 128).mean() < 0.6


def test_make_doodles_draws_heads_of_faces_only(tmp_path):
    folder = tmp_path / "pairs"
    (folder / "train").mkdir(parents=True)
    sketch = np.full((256, 256, 3), 255, np.uint8)
    cv2.circle(sketch, (128, 140), 70, (0, 0, 0), 2)
    for i, photo in enumerate([panda_face(), panda_face(shift=-30), panda_face(eyes=False)]):
        cv2.imwrite(str(folder / "train" / f"{i}.png"), np.concatenate([sketch, cv2.cvtColor(photo, cv2.COLOR_RGB2BGR)], axis=1))
    (folder / "manifest.json").write_text(json.dumps({"kind": "panda", "data_terms": "made up; test only"}))
    report = make_doodles([folder], tmp_path / "out", DoodleOptions("panda", per_photo=0, heads=3, seed=1))
    assert (report.count, report.heads, report.skipped) == (6, 6, 1)  # the face without eye patches gives none
    images, _, names = load_bitmaps(tmp_path / "out")
    assert names == ["panda"] and images.shape == (6, 28, 28)
    assert json.loads((tmp_path / "out" / "doodles.json").read_text())["labels"]["panda"]["heads"] == 6
