"""``prepare``: determinism, manifest, aligned-pair import in both orders, category filter, preview sheet."""

import csv
import hashlib
import json

import cv2
import numpy as np
import pytest

from icanvas.data.datasets import split_pair
from icanvas.data.prepare import PrepareOptions, prepare_dataset, preview_sheet
from icanvas.errors import ConfigError


def digests(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*.png"))}


def test_deterministic_whatever_the_number_of_workers(shapes_dir, tmp_path):
    opts = PrepareOptions(size=48, remove_background=True, val_fraction=0.25, seed=7)
    prepare_dataset(shapes_dir, tmp_path / "a", opts, workers=1, progress=False)
    prepare_dataset(shapes_dir, tmp_path / "b", opts, workers=2, progress=False)
    da, db = digests(tmp_path / "a"), digests(tmp_path / "b")
    assert da == db and len(da) == 12
    prepare_dataset(shapes_dir, tmp_path / "c", PrepareOptions(size=48, val_fraction=0.25, seed=8), workers=1, progress=False)
    val_a = {k for k in da if k.startswith("val/")}
    val_c = {k for k in digests(tmp_path / "c") if k.startswith("val/")}
    assert len(val_a) == len(val_c) == 3 and val_a != val_c  # the seed picks the split


def test_manifest_records_counts_and_parameters(prepared_dir, shapes_dir):
    m = json.loads((prepared_dir / "manifest.json").read_text())
    assert m["counts"] == {"train": 9, "val": 3, "skipped": 0}
    assert m["size"] == 32 and m["edges"] == "xdog" and m["kind"] == "shape"
    assert m["source"] == str(shapes_dir.resolve()) and m["version"]
    pair = cv2.imread(str(next((prepared_dir / "train").glob("*.png"))))
    assert pair.shape == (32, 64, 3)
    sketch, photo = split_pair(pair)
    assert set(np.unique(sketch)) <= {0, 255} and (sketch == 0).any()


def _aligned_set(root, order):
    """Aligned pairs in train/ and val/ with a manifest.csv of categories."""
    rows = []
    for split, n in (("train", 4), ("val", 2)):
        (root / split).mkdir(parents=True)
        for i in range(n):
            photo = np.full((64, 64, 3), 250, np.uint8)
            cv2.circle(photo, (32, 32), 10 + i * 3, (40, 90, 200), -1)
            edges = np.full((64, 64, 3), 255, np.uint8)
            cv2.circle(edges, (32, 32), 10 + i * 3, (0, 0, 0), 1)
            halves = [photo, edges] if order == "photo-sketch" else [edges, photo]
            name = f"{split}/{i}_AB.jpg"
            cv2.imwrite(str(root / name), np.concatenate(halves, axis=1))
            rows.append({"file": name, "split": split, "category": "shoe" if i % 2 == 0 else "handbag"})
    with (root / "manifest.csv").open("w", newline="") as f:
        w = csv.DictWriter(f, ["file", "split", "category"])
        w.writeheader()
        w.writerows(rows)


@pytest.mark.parametrize("order", ["photo-sketch", "sketch-photo"])
def test_aligned_pairs_either_order(tmp_path, order):
    _aligned_set(tmp_path / "src", order)
    rep = prepare_dataset(tmp_path / "src", tmp_path / "out", PrepareOptions(size=64, pairs_order=order, edges="dataset", category="shoe"),
                          workers=1, progress=False)
    assert rep.counts["train"] == 2 and rep.counts["val"] == 1  # the source's own split, shoes only
    sketch, photo = split_pair(cv2.cvtColor(cv2.imread(str(next((tmp_path / "out" / "train").glob("*.png")))), cv2.COLOR_BGR2RGB))
    assert photo[32, 32, 2] < 100 and photo[32, 32, 0] > 150  # the filled (orange-ish in RGB) disc is the photo
    assert sketch[32, 32] == 255 and (sketch == 0).sum() > 20  # the sketch is an outline


def test_bad_options_and_preview(prepared_dir, tmp_path, shapes_dir):
    with pytest.raises(ConfigError, match="--edges"):
        prepare_dataset(shapes_dir, tmp_path / "x", PrepareOptions(edges="hed"), progress=False)
    sheet = preview_sheet(prepared_dir, tmp_path / "sheet.png", rows=3)
    img = cv2.imread(str(sheet))
    assert img is not None and img.shape[0] > 3 * 32 and img.shape[1] > 4 * 32


def test_blank_sketches_are_refused(tmp_path):
    from icanvas.data.datasets import load_pairs
    from icanvas.errors import DatasetError

    (tmp_path / "d" / "train").mkdir(parents=True)
    for i in range(3):
        pair = np.full((32, 64, 3), 255, np.uint8)
        pair[:, 32:] = (i * 40, 80, 120)
        cv2.imwrite(str(tmp_path / "d" / "train" / f"{i}.png"), pair)
    with pytest.raises(DatasetError, match="blank"):
        load_pairs([tmp_path / "d"], "train", 32)


def test_subject_fit_crops_around_the_object(tmp_path):
    from tests.data.test_segment import small_object_in_a_wide_scene

    (tmp_path / "src").mkdir()
    photo, _ = small_object_in_a_wide_scene()
    cv2.imwrite(str(tmp_path / "src" / "scene.png"), cv2.cvtColor(photo, cv2.COLOR_RGB2BGR))
    share = {}
    for fit in ("pad", "subject"):
        opts = PrepareOptions(size=64, fit=fit, background_init="center", val_fraction=0.0)
        prepare_dataset(tmp_path / "src", tmp_path / fit, opts, workers=1, progress=False)
        _, out = split_pair(cv2.cvtColor(cv2.imread(str(tmp_path / fit / "train" / "scene.png")), cv2.COLOR_BGR2RGB))
        red = (out[:, :, 0] > 150) & (out[:, :, 1] < 90)
        share[fit] = red.mean()
        if fit == "subject":  # the object sits in the middle of the picture
            ys, xs = np.nonzero(red)
            assert abs(xs.mean() - 32) < 4 and abs(ys.mean() - 32) < 4
    assert share["subject"] > 5 * share["pad"]  # the object fills the picture, not a corner of a wide scene
    assert json.loads((tmp_path / "subject" / "manifest.json").read_text())["fit"] == "subject"
    with pytest.raises(ConfigError, match="subject"):
        PrepareOptions(fit="subject", pairs_order="sketch-photo", edges="dataset").validate()


def test_box_cuts_every_photo_before_fitting(tmp_path):
    from icanvas.data.prepare import cut_box

    (tmp_path / "src").mkdir()
    photo = np.full((100, 100, 3), 255, np.uint8)
    photo[50:90, 10:50] = (30, 30, 200)  # a red square (BGR) in the lower left quarter
    cv2.imwrite(str(tmp_path / "src" / "p.png"), photo)
    opts = PrepareOptions(size=40, box="0.0,0.4,0.6,1.0", val_fraction=0.0)
    prepare_dataset(tmp_path / "src", tmp_path / "out", opts, workers=1, progress=False)
    sketch, out = split_pair(cv2.cvtColor(cv2.imread(str(tmp_path / "out" / "train" / "p.png")), cv2.COLOR_BGR2RGB))
    red = (out[:, :, 0] > 150) & (out[:, :, 1] < 90)  # the square, centred in the cut-out box, fills the middle two thirds
    ys, xs = np.nonzero(red)
    assert abs(ys.mean() - 20) < 1.5 and abs(xs.mean() - 20) < 1.5
    assert 0.35 < red.mean() < 0.55 and not red[:4, :4].any()
    assert (sketch < 128).any()  # its outline is the sketch
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["box"] == "0.0,0.4,0.6,1.0"
    img = np.arange(20 * 10).reshape(20, 10)
    assert cut_box(img, (0.5, 0.25, 1.0, 0.5)).shape == (5, 5)
    assert cut_box(img, (0.99, 0.99, 1.0, 1.0)).shape == (1, 1)  # never empty
    for bad in ("0.1,0.2,0.3", "a,b,c,d", "0.5,0.1,0.4,0.9", "0,0,1,1.5"):
        with pytest.raises(ConfigError, match="--box"):
            PrepareOptions(box=bad).validate()
