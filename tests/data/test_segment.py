"""Background removal with GrabCut on synthetic photos."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from icanvas.data.segment import _tidy, remove_background, subject_square
from icanvas.errors import ConfigError


def clutter(size: int, rng: np.random.Generator) -> np.ndarray:
    """A busy multicolour background of 8 px tiles with pixel noise, (size, size, 3) uint8."""
    coarse = rng.integers(0, 256, size=(size // 8, size // 8, 3), dtype=np.uint8)
    bg = cv2.resize(coarse, (size, size), interpolation=cv2.INTER_NEAREST)
    return np.clip(bg.astype(np.int16) // 2 + 40 + rng.integers(-20, 21, bg.shape), 0, 255).astype(np.uint8)


def object_on_noise(size: int = 128, seed: int = 0, centre_y: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """A red ellipse on clutter (centred unless ``centre_y`` moves it down); returns (photo, true mask)."""
    rng = np.random.default_rng(seed)
    bg = clutter(size, rng)
    truth = np.zeros((size, size), np.uint8)
    cv2.ellipse(truth, (size // 2, round(centre_y * size)), (size // 4, size // 3), 0, 0, 360, 1, -1)
    obj = np.array([230, 30, 30], np.int16) + rng.integers(-10, 11, (size, size, 3))
    photo = np.where(truth[:, :, None] > 0, np.clip(obj, 0, 255), bg).astype(np.uint8)
    return photo, truth.astype(bool)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max((a | b).sum(), 1))


@pytest.mark.parametrize("init", ["auto", "border", "center"])
def test_keeps_the_centred_object_and_removes_the_background(init: str) -> None:
    photo, truth = object_on_noise()
    out, mask = remove_background(photo, init=init)
    assert out.shape == photo.shape and out.dtype == np.uint8
    assert mask.shape == truth.shape and mask.dtype == bool
    assert iou(mask, truth) > 0.9
    assert (out[~mask] == 255).all()  # background painted white
    assert np.array_equal(out[mask], photo[mask])  # object untouched


def test_fill_colour_and_large_photos() -> None:
    photo, truth = object_on_noise(size=320, seed=1)  # scaled down for GrabCut, mask scaled back
    out, mask = remove_background(photo, fill=0)
    assert mask.shape == (320, 320)
    assert iou(mask, truth) > 0.9
    assert (out[~mask] == 0).all()


def test_tidy_fills_small_holes_and_drops_specks() -> None:
    obj = np.zeros((100, 100), bool)
    obj[20:80, 20:80] = True
    obj[45:50, 45:50] = False  # small hole: filled
    obj[30:70, 60:62] = False  # thin slit reaching nothing: filled too (small)
    obj[2:5, 2:5] = True  # speck: dropped
    big_hole = obj.copy()
    big_hole[30:60, 25:55] = False  # 9% of the image: a real hole, kept
    tidy = _tidy(obj)
    assert tidy[45:50, 45:50].all() and tidy[30:70, 60:62].all()
    assert not tidy[:10, :10].any()
    assert not _tidy(big_hole)[35:55, 30:50].any()


def test_keeps_every_large_part_and_drops_small_ones() -> None:
    obj = np.zeros((100, 100), bool)
    obj[10:50, 10:40] = True  # main part
    obj[10:40, 60:90] = True  # second large part (75 % of the main one): kept
    obj[80:84, 80:84] = True  # small part: dropped
    tidy = _tidy(obj)
    assert tidy[20:40, 20:30].all() and tidy[20:30, 70:80].all()
    assert not tidy[80:84, 80:84].any()


def test_object_cut_by_the_frame_reaches_the_edge() -> None:
    photo, truth = object_on_noise(seed=0, centre_y=0.7)  # runs out of the picture at the bottom
    assert truth[-1].sum() > 10
    _, mask = remove_background(photo, init="border")
    assert iou(mask, truth) > 0.9
    assert mask[-1][truth[-1]].all()  # no straight cut along the sure-background strip


def test_never_returns_an_empty_object() -> None:
    flat = np.full((64, 64, 3), 200, np.uint8)
    out, mask = remove_background(flat)
    assert mask.all()
    assert np.array_equal(out, flat)
    # an object whose colour fills the sure-background strip makes GrabCut collapse
    photo, _ = object_on_noise(seed=0, centre_y=0.75)
    assert remove_background(photo, init="border")[1].all()


def test_deterministic() -> None:
    photo, _ = object_on_noise(seed=3)
    a = remove_background(photo)[1]
    b = remove_background(photo)[1]
    assert np.array_equal(a, b)


def test_bad_arguments() -> None:
    photo, _ = object_on_noise(size=32)
    with pytest.raises(ConfigError):
        remove_background(photo, init="middle")
    with pytest.raises(ConfigError):
        remove_background(photo, iterations=0)
    with pytest.raises(ConfigError):
        remove_background(photo, fill=300)


def small_object_in_a_wide_scene(seed: int = 0) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """A red ellipse filling little of a 96x256 cluttered scene, right of centre; (photo, box x0, y0, x1, y1)."""
    rng = np.random.default_rng(seed)
    photo = np.concatenate([clutter(96, rng)[:, :, :] for _ in range(3)], axis=1)[:, :256].copy()
    truth = np.zeros(photo.shape[:2], np.uint8)
    cv2.ellipse(truth, (170, 50), (18, 24), 0, 0, 360, 1, -1)
    obj = np.array([230, 30, 30], np.int16) + rng.integers(-10, 11, photo.shape)
    photo = np.where(truth[:, :, None] > 0, np.clip(obj, 0, 255), photo).astype(np.uint8)
    return photo, (152, 26, 189, 75)


def test_subject_square_frames_the_object() -> None:
    photo, (x0, y0, x1, y1) = small_object_in_a_wide_scene()
    left, top, side = subject_square(photo, init="center")
    assert 0 <= left and 0 <= top and left + side <= 256 and top + side <= 96  # inside the photo
    assert left <= x0 and top <= y0 and left + side >= x1 and top + side >= y1  # the whole object
    assert side <= 1.4 * max(x1 - x0, y1 - y0)  # and not much else
    assert abs((left + side / 2) - (x0 + x1) / 2) <= 3  # centred on it
    # more margin, a larger square; the square never leaves the photo
    assert subject_square(photo, init="center", margin=0.3)[2] > side
    assert subject_square(photo, init="center", margin=1.0)[2] == 96


def test_subject_square_without_an_object_is_the_centred_square() -> None:
    flat = np.full((60, 100, 3), 200, np.uint8)
    assert subject_square(flat) == (20, 0, 60)
    with pytest.raises(ConfigError):
        subject_square(flat, margin=-0.1)


def test_subject_masks_find_each_photos_subject() -> None:
    from icanvas.data.segment import subject_masks

    pairs = [object_on_noise(seed=s, centre_y=0.5 + 0.05 * s) for s in range(3)]
    masks = subject_masks(np.stack([p for p, _ in pairs]), workers=2)
    assert masks.shape == (3, 128, 128) and masks.dtype == bool
    assert all(iou(m, truth) > 0.9 for m, (_, truth) in zip(masks, pairs))


def test_subject_masks_are_kept_in_the_cache_and_read_back(tmp_path, monkeypatch, caplog) -> None:
    from icanvas.data import segment

    monkeypatch.setenv("ICANVAS_CACHE", str(tmp_path))
    photos = np.stack([object_on_noise(seed=s)[0] for s in range(2)])
    first = segment.subject_masks(photos, workers=2)
    kept = list((tmp_path / "subjects").glob("*.npz"))
    assert len(kept) == 1

    calls = []
    monkeypatch.setattr(segment, "remove_background", lambda p: calls.append(1) or (p, np.zeros(p.shape[:2], bool)))
    again = segment.subject_masks(photos, workers=2)
    assert calls == [] and np.array_equal(again, first)  # read back, not found again

    other = photos.copy()
    other[0, 0, 0, 0] ^= 1  # other photos: another cache entry, found afresh
    assert not segment.subject_masks(other, workers=2).any() and len(calls) == 2
    assert len(list((tmp_path / "subjects").glob("*.npz"))) == 2

    kept[0].write_bytes(b"not an npz")  # a damaged entry is found again, with a warning, and replaced
    calls.clear()
    with caplog.at_level("WARNING"):
        assert not segment.subject_masks(photos, workers=2).any()
    assert len(calls) == 2 and "cannot be read" in caplog.text
    assert segment.subject_masks(photos, workers=2, cache=False).shape == (2, 128, 128) and len(calls) == 4


def test_subject_masks_go_on_when_the_cache_cannot_be_written(tmp_path, monkeypatch, caplog) -> None:
    from icanvas.data import segment

    blocked = tmp_path / "file"
    blocked.write_text("a file where the cache folder should be")
    monkeypatch.setenv("ICANVAS_CACHE", str(blocked))
    photos = object_on_noise(seed=0)[0][None]
    with caplog.at_level("WARNING"):
        masks = segment.subject_masks(photos, workers=1)
    assert masks.shape == (1, 128, 128) and masks.any() and "Could not keep" in caplog.text
