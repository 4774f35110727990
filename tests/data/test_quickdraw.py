"""Quick, Draw! data: bitmap loading, hold-out split, stroke files, sketch -> bitmap, training batches."""

import dataclasses
import json

import cv2
import numpy as np
import pytest

from icanvas.config import RecognizerDataConfig
from icanvas.data.canvas import render_strokes
from icanvas.data.quickdraw import (BitmapBatcher, augment_bitmap, bitmaps_to_input, holdout_split, load_bitmaps, read_strokes,
                                    sketch_to_bitmap)
from icanvas.errors import DatasetError, InputImageError


def ring_bitmaps(n: int, seed: int) -> np.ndarray:
    """(n, 784) uint8 Quick, Draw! style rows: 0 paper, 255 ink."""
    rng = np.random.default_rng(seed)
    out = np.zeros((n, 28, 28), np.uint8)
    for im in out:
        cv2.circle(im, (int(rng.integers(11, 17)), int(rng.integers(11, 17))), int(rng.integers(5, 10)), 255, 2, cv2.LINE_AA)
    return out.reshape(n, 784)


@pytest.fixture()
def bitmap_dir(tmp_path):
    np.save(tmp_path / "ring.npy", ring_bitmaps(30, 0))  # (N, 784)
    np.save(tmp_path / "bar.npy", ring_bitmaps(20, 1)[:, None, :])  # (N, 1, 784)
    return tmp_path


def test_load_bitmaps_both_shapes_and_polarity(bitmap_dir):
    images, labels, names = load_bitmaps(bitmap_dir)
    assert names == ["bar", "ring"] and images.shape == (50, 28, 28) and images.dtype == np.uint8
    assert np.bincount(labels).tolist() == [20, 30]
    raw = np.load(bitmap_dir / "ring.npy").reshape(-1, 28, 28)
    assert np.array_equal(images[labels == 1], 255 - raw)  # 255 = paper now
    assert np.median(images) == 255
    images2, labels2, names2 = load_bitmaps(bitmap_dir, ["ring"])
    assert names2 == ["ring"] and len(images2) == 30 and set(labels2) == {0}


def test_load_bitmaps_errors(bitmap_dir, tmp_path_factory):
    with pytest.raises(DatasetError, match="does not exist"):
        load_bitmaps(bitmap_dir / "nope")
    with pytest.raises(DatasetError, match="'cat'.*Available: bar, ring"):
        load_bitmaps(bitmap_dir, ["cat"])
    with pytest.raises(DatasetError, match="no .npy"):
        load_bitmaps(tmp_path_factory.mktemp("empty"))
    (bitmap_dir / "broken.npy").write_bytes(b"\x93NUMPY garbage")
    with pytest.raises(DatasetError, match="broken.npy"):
        load_bitmaps(bitmap_dir)
    (bitmap_dir / "broken.npy").unlink()
    np.save(bitmap_dir / "small.npy", np.zeros((4, 100), np.uint8))
    with pytest.raises(DatasetError, match="784"):
        load_bitmaps(bitmap_dir)


def test_holdout_split_is_per_class_and_deterministic():
    labels = np.repeat(np.arange(3), [100, 50, 31])
    train, held = holdout_split(labels, 0.1, seed=4)
    assert np.bincount(labels[held]).tolist() == [10, 5, 3]
    assert len(np.intersect1d(train, held)) == 0 and len(train) + len(held) == len(labels)
    again = holdout_split(labels, 0.1, seed=4)
    assert np.array_equal(held, again[1]) and np.array_equal(train, again[0])
    assert not np.array_equal(held, holdout_split(labels, 0.1, seed=5)[1])
    # adding a class leaves the other classes' splits alone
    more = np.concatenate([labels, np.full(40, 3)])
    held_more = holdout_split(more, 0.1, seed=4)[1]
    assert np.array_equal(held_more[more[held_more] < 3], held)
    with pytest.raises(DatasetError):
        holdout_split(labels, 1.0)


def test_read_strokes(tmp_path):
    path = tmp_path / "cat.ndjson"
    rows = [{"word": "cat", "drawing": [[[0, 10], [0, 10]]]}, {"word": "cat", "drawing": [[[5], [5]], [[1, 2], [3, 4]]]}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    assert read_strokes(path) == [r["drawing"] for r in rows]
    with pytest.raises(DatasetError, match="does not exist"):
        read_strokes(tmp_path / "dog.ndjson")
    path.write_text(json.dumps(rows[0]) + "\n{not json\n")
    with pytest.raises(DatasetError, match="line 2"):
        read_strokes(path)
    path.write_text(json.dumps({"word": "cat"}) + "\n")
    with pytest.raises(DatasetError, match="'drawing'"):
        read_strokes(path)


def test_sketch_to_bitmap_normalises_size_position_and_pen():
    square = [[[0, 100, 100, 0, 0], [0, 0, 100, 100, 0]]]
    outs = [sketch_to_bitmap(render_strokes(square, size=s, pen=p, margin=m)) for s, p, m in
            [(512, "thin", 0.08), (512, "thick", 0.3), (200, "medium", 0.0)]]
    for b in outs:
        assert b.shape == (28, 28) and b.dtype == np.uint8
        ys, xs = np.nonzero(b < 200)
        assert 1 <= xs.min() <= 3 and 24 <= xs.max() <= 26 and 1 <= ys.min() <= 3 and 24 <= ys.max() <= 26
    ink = [(255 - b.astype(float)).sum() for b in outs]  # the same pen, whatever was drawn with
    assert max(ink) / min(ink) < 1.15
    # an off-centre, small drawing on a big page lands centred and full size
    page = np.full((600, 900), 255, np.uint8)
    cv2.rectangle(page, (700, 40), (760, 100), 0, 3)
    b = sketch_to_bitmap(page)
    ys, xs = np.nonzero(b < 200)
    assert abs((xs.min() + xs.max()) / 2 - 13.5) <= 1 and xs.max() - xs.min() >= 22
    assert sketch_to_bitmap(page, size=40).shape == (40, 40)
    with pytest.raises(InputImageError, match="empty"):
        sketch_to_bitmap(np.full((50, 50), 255, np.uint8))
    with pytest.raises(InputImageError, match="uint8"):
        sketch_to_bitmap(np.zeros((5, 5, 3), np.uint8))


def test_bitmaps_to_input_range():
    x = bitmaps_to_input(np.array([[[255, 0], [128, 255]]], np.uint8))
    assert x.shape == (1, 1, 2, 2) and x.dtype == np.float32
    assert x[0, 0, 0, 0] == 0.0 and x[0, 0, 0, 1] == 1.0


def test_augmentation_keeps_the_drawing():
    img = 255 - ring_bitmaps(1, 3).reshape(28, 28)
    cfg = RecognizerDataConfig()
    outs = [augment_bitmap(img, cfg, np.random.default_rng(i), 28) for i in range(8)]
    ink = (255 - img.astype(float)).sum()
    for o in outs:
        assert o.shape == (28, 28) and o.dtype == np.uint8
        assert 0.5 < (255 - o.astype(float)).sum() / ink < 1.8
    assert len({o.tobytes() for o in outs}) == 8
    assert augment_bitmap(img, cfg, np.random.default_rng(0), 32).shape == (32, 32)


def test_redraw_makes_a_bitmap_look_like_a_reduced_studio_drawing():
    img = np.full((28, 28), 255, np.uint8)
    cv2.rectangle(img, (3, 3), (11, 9), 0, 1)  # a small box in a corner, thin lines
    still = RecognizerDataConfig(rotate=0.0, scale=0.0, shear=0.0, shift=0.0, flip=False, thickness_p=0.0)
    plain = augment_bitmap(img, still, np.random.default_rng(0), 28)
    redrawn = augment_bitmap(img, dataclasses.replace(still, redraw_p=1.0), np.random.default_rng(0), 28)
    assert np.array_equal(plain, augment_bitmap(img, dataclasses.replace(still, redraw_p=0.0), np.random.default_rng(0), 28))

    def box(a):
        ys, xs = np.nonzero(a < 200)
        return xs.min(), xs.max(), ys.min(), ys.max()

    x0, x1, _, _ = box(plain)
    assert x1 - x0 < 12  # still the small box in the corner
    x0, x1, y0, y1 = box(redrawn)
    assert x1 - x0 >= 22 and abs((x0 + x1) / 2 - 13.5) <= 1.5  # centred and filling the frame, as sketch_to_bitmap draws
    big = cv2.resize(plain, (112, 112), interpolation=cv2.INTER_LINEAR)
    assert np.array_equal(redrawn, sketch_to_bitmap(big, 28))


@pytest.mark.parametrize("balanced", [True, False])
def test_batches_are_a_function_of_step_and_rank(balanced):
    images = 255 - ring_bitmaps(40, 2).reshape(-1, 28, 28)
    labels = np.repeat(np.arange(3), [30, 6, 4])
    cfg = RecognizerDataConfig(balanced=balanced)
    a = BitmapBatcher(images, labels, cfg, size=28, num_classes=3, seed=1)
    b = BitmapBatcher(images, labels, cfg, size=28, num_classes=3, seed=1)
    x, y = a.batch(5, 12), b.batch(5, 12)
    assert x["image"].shape == (12, 1, 28, 28) and x["label"].dtype == np.int64
    assert np.array_equal(x["image"], y["image"]) and np.array_equal(x["label"], y["label"])
    assert not np.array_equal(a.batch(6, 12)["image"], x["image"])
    # two ranks of a 2-process run see the batches a single process would see at 2x the batch
    r0 = BitmapBatcher(images, labels, cfg, size=28, num_classes=3, seed=1, rank=0, world_size=2).batch(0, 6)
    r1 = BitmapBatcher(images, labels, cfg, size=28, num_classes=3, seed=1, rank=1, world_size=2).batch(0, 6)
    both = a.batch(0, 12)
    assert np.array_equal(np.concatenate([r0["label"], r1["label"]]), both["label"])
    seen = np.concatenate([a.batch(s, 12)["label"] for s in range(20)])
    counts = np.bincount(seen, minlength=3) / len(seen)
    if balanced:
        assert np.allclose(counts, 1 / 3, atol=0.01)
    else:
        assert counts[0] > 0.6
