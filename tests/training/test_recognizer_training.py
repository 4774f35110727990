"""Recognizer recipe end to end on synthetic doodles: icanvas train, dry run, evaluation hook, card, resume."""

import json

import numpy as np
import pytest
import torch

from icanvas.checkpoint import from_pretrained
from tests.cli_run import run_cli
from icanvas.config import load_train_config
from icanvas.data.canvas import render_strokes
from icanvas.data.quickdraw import sketch_to_bitmap
from icanvas.errors import ConfigError
from icanvas.training.loop import run_training

CLASSES = ("circle", "line", "square")
TINY = ["model.channels=[8, 16]", "model.convs_per_stage=1", "run.steps=60", "run.batch_size=24", "run.log_every=20",
        "run.sample_every=30", "run.checkpoint_every=30", "run.eval_every=30", "run.num_samples=4", "run.threads=1",
        "optim.lr=0.01"]


def shape_strokes(name: str, rng: np.random.Generator) -> list:
    """One hand-wobbly doodle of ``name`` as Quick, Draw! strokes in 0..255."""
    cx, cy, r = rng.uniform(100, 150), rng.uniform(100, 150), rng.uniform(50, 100)
    if name == "circle":
        t = np.linspace(0, 2 * np.pi, 17)
        xs, ys = cx + r * np.cos(t), cy + r * np.sin(t) * rng.uniform(0.8, 1.2)
    elif name == "square":
        t = np.pi / 4 + np.arange(5) * np.pi / 2 + rng.uniform(-0.2, 0.2)
        xs, ys = cx + r * np.cos(t), cy + r * np.sin(t)
    else:
        a = rng.uniform(0, np.pi)
        xs, ys = cx + r * np.cos(a) * np.array([-1, 1]), cy + r * np.sin(a) * np.array([-1, 1])
    xs, ys = xs + rng.normal(0, 3, len(xs)), ys + rng.normal(0, 3, len(ys))
    return [[xs.round().tolist(), ys.round().tolist()]]


@pytest.fixture(scope="module")
def doodles(tmp_path_factory):
    """A bitmap folder (60 per class, as Quick, Draw! stores them) and a stroke folder (4 per class)."""
    root = tmp_path_factory.mktemp("doodles")
    (root / "bitmaps").mkdir()
    (root / "strokes").mkdir()
    rng = np.random.default_rng(0)
    for i, name in enumerate(CLASSES):
        rows = np.stack([255 - sketch_to_bitmap(render_strokes(shape_strokes(name, rng), size=128)) for _ in range(60)])
        np.save(root / "bitmaps" / f"{name}.npy", rows.reshape(60, 1 if i % 2 else 784, -1).squeeze())
        lines = [json.dumps({"word": name, "drawing": shape_strokes(name, rng)}) for _ in range(4)]
        (root / "strokes" / f"{name}.ndjson").write_text("\n".join(lines) + "\n")
    return root


@pytest.fixture(scope="module")
def trained(doodles, tmp_path_factory):
    cfg = load_train_config("recognizer", TINY + [f"data.canvas_test={doodles / 'strokes'}"])
    root = tmp_path_factory.mktemp("runs")
    return cfg, run_training(cfg, [doodles / "bitmaps"], root / "straight", command="icanvas train ..."), root


def test_dry_run_is_recipe_neutral(doodles, tmp_path, monkeypatch, capsys):
    code, text = run_cli(monkeypatch, capsys, "train", "--config", "recognizer", "--data", doodles / "bitmaps",
                         "--out", tmp_path / "r", "--dry-run", *sum((["--set", s] for s in TINY), []))
    assert code == 0, text
    assert "training doodles in 3 classes at 28 px (18 held out)" in text and "60 steps" in text
    assert not (tmp_path / "r").exists()


def test_learns_and_evaluates(trained):
    _, res, _ = trained
    rows = [json.loads(line) for line in (res.run_dir / "metrics.jsonl").read_text().splitlines()]
    evals = [r for r in rows if "eval" in r]
    assert [r["step"] for r in evals] == [30, 60]
    assert [r["step"] for r in rows if "loss" in r] == [20, 40, 60]
    final = evals[-1]["eval"]
    held = final["heldout"]
    assert held["count"] == 18 and held["labels"] == list(CLASSES)
    assert np.array(held["confusion"]).sum() == 18 and np.array(held["confusion"]).shape == (3, 3)
    assert final["accuracy"] > 0.8  # chance is 1/3
    assert final["canvas"]["count"] == 12 and final["canvas_accuracy"] > 0.7
    assert sorted(p.name for p in (res.run_dir / "samples").iterdir()) == ["step_0000030.png", "step_0000060.png"]


def test_model_folder_and_card(trained):
    _, res, _ = trained
    doc = json.loads((res.model_dir / "config.json").read_text())
    assert doc["method"] == "recognizer" and doc["model"]["num_classes"] == 3 and doc["meta"]["labels"] == list(CLASSES)
    card = (res.model_dir / "card.md").read_text()
    assert "CC BY 4.0" in card and "Confusion matrix" in card and "| **square** |" in card
    assert "Canvas drawings (12" in card and "Steps: 60" in card and "RGB picture" not in card


def test_resume_continues_exactly(trained, doodles):
    cfg, straight, root = trained
    part = run_training(cfg, [doodles / "bitmaps"], root / "resumed", stop_at=30)
    assert part.steps == 30 and not (root / "resumed" / "model").exists()
    full = run_training(cfg, [doodles / "bitmaps"], root / "resumed", resume=True)
    a, _ = from_pretrained(straight.model_dir)
    b, _ = from_pretrained(full.model_dir)
    for (name, pa), pb in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(pa, pb), name


def test_resume_with_other_settings_says_which(trained, doodles, caplog):
    from icanvas.config import replace

    cfg, _, root = trained
    run_training(cfg, [doodles / "bitmaps"], root / "changed", stop_at=30)
    with caplog.at_level("WARNING"):
        run_training(cfg, [doodles / "bitmaps"], root / "changed", resume=True, stop_at=31)
    assert "--resume changes" not in caplog.text  # the same settings: nothing to say
    later = replace(cfg, run=replace(cfg.run, checkpoint_every=7))
    with caplog.at_level("WARNING"):
        run_training(later, [doodles / "bitmaps"], root / "changed", resume=True, stop_at=32)
    assert "--resume changes 1 setting(s) of this run: run.checkpoint_every: 30 -> 7" in caplog.text


def test_trained_model_recognises_a_canvas_drawing(trained):
    from icanvas.pipelines.recognizer import Recognizer

    _, res, _ = trained
    rec = Recognizer.from_pretrained(res.model_dir)
    rng = np.random.default_rng(7)
    hits = sum(rec.predict(render_strokes(shape_strokes(name, rng), size=512, pen=pen), top=1)[0][0] == name
               for name in CLASSES for pen in ("thin", "thick"))
    assert hits >= 5  # of 6; chance is 2


def test_doodles_drawn_from_photos_train_a_class_and_fit_the_threshold(doodles, tmp_path):
    """A second --data folder made by `icanvas doodles` adds a class; its held-out doodles are reported apart
    from the real ones, its stroke file may have another name, and the fitted threshold lands in the meta."""
    drawn = tmp_path / "drawn"
    drawn.mkdir()
    rows = np.load(doodles / "bitmaps" / "square.npy").reshape(60, 784)
    np.save(drawn / "box.npy", rows)  # the squares again, as a class only drawn from photos
    (drawn / "doodles.json").write_text(json.dumps({"synthetic": True, "labels": {"box": {
        "count": 60, "heads": 20, "sources": [{"folder": "pairs/box", "kind": "box", "data_terms": "box photos; test terms"}],
        "options": {"mask": "paper", "interior": "lines", "per_photo": 1, "heads": 4}}}}))
    cfg = load_train_config("recognizer", TINY + [f"data.canvas_test={doodles / 'strokes'}", "data.classes=[circle, line, box]",
                                                  "data.canvas_files=[box=square]", "data.preselect_kinds=[circle, box]",
                                                  "data.preselect_precision=0.75"])
    res = run_training(cfg, [doodles / "bitmaps", drawn], tmp_path / "run", command="icanvas train ...")
    final = [json.loads(line) for line in (res.run_dir / "metrics.jsonl").read_text().splitlines() if "eval" in line][-1]["eval"]
    assert final["heldout"]["count"] == 12 and set(final["heldout"]["per_class"]) == {"circle", "line"}
    assert final["heldout_synthetic"]["count"] == 6 and set(final["heldout_synthetic"]["per_class"]) == {"box"}
    assert final["canvas"]["count"] == 12 and "box" in final["canvas"]["per_class"]  # square.ndjson stands in for box
    meta = json.loads((res.model_dir / "config.json").read_text())["meta"]
    assert meta["labels"] == ["circle", "line", "box"] and meta["synthetic_labels"] == ["box"]
    pre = final["preselect"]
    assert pre["threshold"] is not None and meta["preselect_min_prob"] == pre["threshold"] and pre["precision"] >= 0.75
    card = (res.model_dir / "card.md").read_text()
    assert "box photos; test terms" in card and "drawn from photos" in card and "threshold" in card
    assert "1 per pair; 20 of them of the face, 4 per photo that shows one" in card


def test_fold_split_deals_every_class_round_the_folds():
    from icanvas.data.quickdraw import fold_split

    labels = np.repeat([0, 1, 2], [15, 15, 7])
    fold = fold_split(labels, 5, seed=0)
    for c in range(3):
        counts = np.bincount(fold[labels == c], minlength=5)
        assert counts.max() - counts.min() <= 1 and counts.sum() == (labels == c).sum()
    assert np.array_equal(fold, fold_split(labels, 5, seed=0)) and not np.array_equal(fold, fold_split(labels, 5, seed=1))
    with pytest.raises(Exception, match="at least 2 folds"):
        fold_split(labels, 1)


def test_preferred_examples_take_their_share_of_the_class_turns():
    from icanvas.data.quickdraw import BitmapBatcher

    cfg = load_train_config("recognizer", ["data.canvas_share=0.5"]).data
    images = np.full((102, 28, 28), 255, np.uint8)
    labels = np.repeat([0, 1], [2 + 50, 50])  # class 0: 2 real doodles, 50 drawn from photos
    preferred = np.zeros(102, bool)
    preferred[:2] = True
    b = BitmapBatcher(images, labels, cfg, size=28, num_classes=2, seed=0, preferred=preferred)
    drawn = np.array([b._index(p) for p in range(4000)])
    of_class0 = drawn[labels[drawn] == 0]
    assert len(of_class0) == 2000  # balanced classes
    assert 0.45 < np.isin(of_class0, [0, 1]).mean() < 0.55  # about half of class 0's turns: its 2 real doodles
    plain = BitmapBatcher(images, labels, cfg, size=28, num_classes=2, seed=0)
    drawn = np.array([plain._index(p) for p in range(4000)])
    assert np.isin(drawn[labels[drawn] == 0], [0, 1]).mean() < 0.06  # without it: 2 of 52


def test_cross_validation_trains_on_the_other_folds_and_tests_on_its_own(doodles, tmp_path):
    """data.canvas_folds: the canvas drawings of every fold but one join the training set, the kept fold is
    the canvas test set; fold -1 trains on all of them, and a given threshold lands in the meta."""
    base = TINY + ["run.steps=20", "run.eval_every=0", "run.sample_every=0", f"data.canvas_test={doodles / 'strokes'}",
                   "data.canvas_folds=2"]
    res = run_training(load_train_config("recognizer", base + ["data.canvas_fold=1"]), [doodles / "bitmaps"], tmp_path / "fold1")
    final = [json.loads(line) for line in (res.run_dir / "metrics.jsonl").read_text().splitlines() if "eval" in line][-1]["eval"]
    assert final["canvas"]["count"] == 6  # 2 of the 4 drawings of each of the 3 classes
    one_fold = json.loads((res.model_dir / "config.json").read_text())["meta"]["train_examples"]
    assert "trained on the 6 drawings of every fold but fold 1" in (res.model_dir / "card.md").read_text()
    cfg = load_train_config("recognizer", base + ["data.canvas_fold=-1", "data.preselect_min_prob=0.8", "data.preselect_kinds=[circle]",
                                                  f"run.init_from={res.run_dir}"])
    res = run_training(cfg, [doodles / "bitmaps"], tmp_path / "all")
    meta = json.loads((res.model_dir / "config.json").read_text())["meta"]
    assert meta["train_examples"] == one_fold + 6 and meta["preselect_min_prob"] == 0.8 and meta["preselect_kinds"] == ["circle"]
    assert "no canvas test set" in (res.model_dir / "card.md").read_text()
    # a model folder (a bundled recognizer) is a start point too: its weights, no training state
    again = run_training(load_train_config("recognizer", base + ["data.canvas_fold=-1", "run.steps=2", f"run.init_from={res.model_dir}"]),
                         [doodles / "bitmaps"], tmp_path / "again")
    assert f"the model folder `{res.model_dir}`" in (again.model_dir / "card.md").read_text()
    wider = [o for o in base if not o.startswith("model.channels")] + ["model.channels=[16,16]", f"run.init_from={res.model_dir}"]
    with pytest.raises(ConfigError, match="is \\(8, 1, 3, 3\\) in the source and \\(16, 1, 3, 3\\) here") as err:
        run_training(load_train_config("recognizer", wider), [doodles / "bitmaps"], tmp_path / "wider")
    assert "model.channels" in err.value.hint
    with pytest.raises(Exception, match="canvas_fold"):
        load_train_config("recognizer", ["data.canvas_folds=3", "data.canvas_fold=3", "data.canvas_test=x"])
