"""Doodles drawn from prepared pairs: outline kept, holes drawn, Quick, Draw! format, manifest and terms."""

import json

import cv2
import numpy as np
import pytest

from icanvas.data.doodles import MANIFEST, DoodleOptions, doodle_bitmap, doodle_strokes, make_doodles, outline_strokes
from icanvas.data.quickdraw import load_bitmaps
from icanvas.errors import ConfigError


def bag_pair(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A synthetic handbag: (sketch (256, 256) 255 paper, photo (256, 256, 3) on white); the handle encloses a hole."""
    rng = np.random.default_rng(seed)
    photo = np.full((256, 256, 3), 255, np.uint8)
    x0, x1 = 60 + int(rng.integers(0, 10)), 196 - int(rng.integers(0, 10))
    cv2.rectangle(photo, (x0, 110), (x1, 210), (150, 40, 40), -1)
    cv2.ellipse(photo, (128, 110), (45, 50), 0, 180, 360, (150, 40, 40), 12)  # the handle
    sketch = np.full((256, 256), 255, np.uint8)
    cv2.rectangle(sketch, (x0, 110), (x1, 210), 0, 2)
    cv2.ellipse(sketch, (128, 110), (45, 50), 0, 180, 360, 0, 2)
    cv2.line(sketch, (x0 + 10, 140), (x1 - 10, 140), 0, 2)  # a seam inside
    return sketch, photo


def write_pairs(folder, n: int = 3) -> None:
    (folder / "train").mkdir(parents=True)
    for i in range(n):
        sketch, photo = bag_pair(i)
        pair = np.concatenate([cv2.cvtColor(sketch, cv2.COLOR_GRAY2BGR), cv2.cvtColor(photo, cv2.COLOR_RGB2BGR)], axis=1)
        cv2.imwrite(str(folder / "train" / f"{i}.png"), pair)
    (folder / "manifest.json").write_text(json.dumps({"kind": "handbag", "data_terms": "made up; test only"}))


def test_outline_keeps_the_handle_hole():
    _, photo = bag_pair()
    mask = np.zeros((256, 256), bool)
    mask[photo.min(axis=2) < 235] = True
    strokes = outline_strokes(mask, np.random.default_rng(0))
    assert len(strokes) == 2  # the outer outline and the hole under the handle
    assert all(np.allclose(s[0], s[-1]) for s in strokes)  # closed


def test_round_holes_draw_a_triangular_handle_as_an_arc():
    mask = np.zeros((256, 256), np.uint8)
    cv2.rectangle(mask, (40, 40), (216, 216), 1, -1)
    cv2.fillPoly(mask, [np.array([[80, 150], [176, 150], [128, 70]])], 0)  # a triangular hole between two straps
    plain = outline_strokes(mask > 0, np.random.default_rng(0))
    rounded = outline_strokes(mask > 0, np.random.default_rng(0), round_holes=True)
    assert len(plain) == len(rounded) == 2
    assert len(plain[1]) <= 5  # the triangle, closed
    hole = rounded[1][:-1]
    assert len(hole) >= 8  # an ellipse ...
    centre = hole.mean(axis=0)
    assert np.allclose(centre, [128, 123], atol=8)  # ... around the hole's middle
    assert np.allclose(rounded[0], plain[0])  # the outer outline is unchanged


def test_doodle_is_a_quickdraw_bitmap_with_the_objects_shape():
    sketch, photo = bag_pair()
    strokes = doodle_strokes(sketch, photo, DoodleOptions("handbag", jitter=0.5), np.random.default_rng(1))
    assert strokes and all(len(xs) == len(ys) >= 2 for xs, ys in strokes)
    bitmap = doodle_bitmap(strokes, "thick")
    assert bitmap.shape == (28, 28) and bitmap.dtype == np.uint8
    ink = bitmap < 128
    assert 0.05 < ink.mean() < 0.6
    assert ink[:, 0].sum() + ink[:, -1].sum() <= 2 * 28  # framed like Quick, Draw!: a margin on the sides
    blank = np.full((256, 256, 3), 255, np.uint8)
    assert doodle_strokes(sketch, blank, DoodleOptions("handbag"), np.random.default_rng(0)) is None  # no object: no doodle


def test_make_doodles_writes_bitmaps_and_a_manifest(tmp_path):
    write_pairs(tmp_path / "pairs")
    report = make_doodles([tmp_path / "pairs"], tmp_path / "out", DoodleOptions("handbag", per_photo=2, seed=3))
    assert report.count == 6 and report.pairs == 3 and report.skipped == 0
    images, labels, names = load_bitmaps(tmp_path / "out")  # readable as Quick, Draw! bitmaps
    assert names == ["handbag"] and images.shape == (6, 28, 28) and (labels == 0).all()
    manifest = json.loads((tmp_path / "out" / MANIFEST).read_text())
    entry = manifest["labels"]["handbag"]
    assert manifest["synthetic"] is True and entry["count"] == 6 and entry["sources"][0]["data_terms"] == "made up; test only"
    again = make_doodles([tmp_path / "pairs"], tmp_path / "again", DoodleOptions("handbag", per_photo=2, seed=3))
    assert np.array_equal(np.load(again.path), np.load(report.path))  # same seed, same doodles


@pytest.mark.parametrize("bad", [dict(label="hand bag"), dict(label="x", mask="magic"), dict(label="x", interior="all"),
                                 dict(label="x", per_photo=0), dict(label="x", heads=-1), dict(label="x", per_photo=0, heads=0)])
def test_bad_options_are_config_errors(bad):
    with pytest.raises(ConfigError):
        DoodleOptions(**bad)


def test_level_turns_a_tilted_object_level():
    photo = np.full((256, 256, 3), 255, np.uint8)
    cv2.ellipse(photo, (128, 128), (100, 30), 35, 0, 360, (90, 60, 30), -1)  # a long object, tilted by 35 degrees
    sketch = np.full((256, 256), 255, np.uint8)

    def tilt(strokes):
        pts = np.concatenate([np.stack(s, axis=1) for s in strokes])
        vx, vy = np.linalg.eigh(np.cov(pts.T))[1][:, -1]
        return abs(np.degrees(np.arctan2(vy, vx))) % 180

    as_is = doodle_strokes(sketch, photo, DoodleOptions("shoe", max_interior=0), np.random.default_rng(0))
    level = doodle_strokes(sketch, photo, DoodleOptions("shoe", max_interior=0, level=True), np.random.default_rng(0))
    assert min(abs(tilt(as_is) - 35), abs(tilt(as_is) - 145)) < 5
    assert min(tilt(level), 180 - tilt(level)) < 3
    photo = np.full((256, 256, 3), 255, np.uint8)
    cv2.ellipse(photo, (128, 128), (100, 30), 65, 0, 360, (90, 60, 30), -1)  # an upright object (a boot) stays upright
    upright = doodle_strokes(sketch, photo, DoodleOptions("shoe", max_interior=0, level=True), np.random.default_rng(0))
    assert min(abs(tilt(upright) - 65), abs(tilt(upright) - 115)) < 5


def test_min_holes_keeps_only_objects_with_a_handle(tmp_path):
    write_pairs(tmp_path / "pairs", n=2)
    sketch, photo = bag_pair(5)
    photo[:110] = 255  # this bag lost its handle
    pair = np.concatenate([cv2.cvtColor(sketch, cv2.COLOR_GRAY2BGR), cv2.cvtColor(photo, cv2.COLOR_RGB2BGR)], axis=1)
    cv2.imwrite(str(tmp_path / "pairs" / "train" / "9.png"), pair)
    every = make_doodles([tmp_path / "pairs"], tmp_path / "a", DoodleOptions("handbag"))
    handled = make_doodles([tmp_path / "pairs"], tmp_path / "b", DoodleOptions("handbag", min_holes=1))
    assert (every.pairs, every.skipped, every.count) == (3, 0, 6)
    assert (handled.pairs, handled.skipped, handled.count) == (3, 1, 4)
