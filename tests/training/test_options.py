"""Training options beyond the default path: colour hints, bf16 autocast, class-conditional models."""

import cv2
import numpy as np
import pytest
from PIL import Image

from icanvas.config import load_train_config
from icanvas.data.datasets import PairBatcher, load_pairs
from icanvas.data.hints import encode_hints
from icanvas.pipelines.sketch_to_image import SketchToImage
from icanvas.training.loop import run_training

FAST = ["run.steps=2", "run.sample_every=0", "run.log_every=1", "run.threads=1"]


def test_colour_hints_train_and_steer_generation(prepared_dir, tmp_path):
    cfg = load_train_config("tiny", FAST + ["hints.enabled=true", "generator.hint_channels=4"])
    res = run_training(cfg, [prepared_dir], tmp_path / "run")
    pipe = SketchToImage.from_pretrained(res.model_dir, backend="torch")
    assert pipe.hints
    page = np.full((64, 64, 3), 255, np.uint8)
    cv2.circle(page, (32, 32), 20, (0, 0, 0), 2)
    plain = pipe(Image.fromarray(page)).image
    cv2.circle(page, (32, 32), 12, (230, 20, 20), 3)  # a red crayon stroke
    coloured = pipe(Image.fromarray(page))
    assert coloured.drawing.color_mask.any()
    assert not np.array_equal(plain, coloured.image)


def test_hint_encoding_layout():
    colors = np.zeros((4, 4, 3), np.uint8)
    colors[1, 2] = (255, 0, 0)
    mask = np.zeros((4, 4), bool)
    mask[1, 2] = True
    enc = encode_hints(colors, mask)
    assert enc.shape == (4, 4, 4)
    assert enc[:, 1, 2].tolist() == [1.0, -1.0, -1.0, 1.0]
    assert np.all(enc[:, 0, 0] == 0)


def test_bf16_autocast_runs(prepared_dir, tmp_path):
    cfg = load_train_config("tiny", FAST + ["run.precision=bf16"])
    res = run_training(cfg, [prepared_dir], tmp_path / "run")
    assert (res.model_dir / "generator.safetensors").is_file()


def test_bf16_on_a_cpu_without_bf16_says_fp32_is_quicker(prepared_dir, tmp_path, monkeypatch, caplog):
    import icanvas.training.loop as loop

    monkeypatch.setattr(loop, "cpu_has_bf16", lambda: False)
    with caplog.at_level("WARNING", logger="icanvas.train"):
        run_training(load_train_config("tiny", FAST + ["run.precision=bf16", "run.device=cpu"]), [prepared_dir], tmp_path / "bf16")
    assert "run.precision=fp32" in caplog.text and "no bf16 instructions" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="icanvas.train"):
        run_training(load_train_config("tiny", FAST + ["run.device=cpu"]), [prepared_dir], tmp_path / "fp32")
    assert "bf16" not in caplog.text


def test_class_conditional_training(prepared_dir, tmp_path):
    cfg = load_train_config("tiny", FAST + ["data.kinds=[shape]", "generator.num_classes=1", "generator.class_film=true",
                                            "discriminator.kind_input=true"])
    res = run_training(cfg, [prepared_dir], tmp_path / "run")
    pipe = SketchToImage.from_pretrained(res.model_dir, backend="onnx")
    assert pipe.kinds == ["shape"]
    page = np.full((40, 40, 3), 255, np.uint8)
    cv2.rectangle(page, (8, 8), (30, 30), (0, 0, 0), 2)
    assert pipe(Image.fromarray(page), kind="shape").image.shape == (40, 40, 3)
    with pytest.raises(Exception, match="not 'cat'"):
        pipe(Image.fromarray(page), kind="cat")


def test_batches_are_a_function_of_step_and_cover_the_data(prepared_dir):
    cfg = load_train_config("tiny")
    data = load_pairs([prepared_dir], "train", 32)
    a = PairBatcher(data, cfg.data, cfg.hints, None, seed=1)
    b = PairBatcher(data, cfg.data, cfg.hints, None, seed=1)
    assert all(np.array_equal(a.batch(5, 3)[k], b.batch(5, 3)[k]) for k in ("sketch", "photo"))
    # two ranks of a 2-process run see disjoint halves of each global batch
    r0 = PairBatcher(data, cfg.data, cfg.hints, None, seed=1, rank=0, world_size=2)
    r1 = PairBatcher(data, cfg.data, cfg.hints, None, seed=1, rank=1, world_size=2)
    single = [a._index(p) for p in range(len(data))]
    assert sorted(single) == list(range(len(data)))  # one epoch visits every pair once
    n = len(data) // 2
    got = [r0._index((0 * 2 + 0) * n + j) for j in range(n)] + [r1._index((0 * 2 + 1) * n + j) for j in range(n)]
    assert len(set(got)) == 2 * n


def test_model_records_the_framing_of_its_training_drawings(prepared_dir, tmp_path):
    from icanvas.checkpoint import read_model_info
    from icanvas.data.datasets import load_pairs

    measured = load_pairs([prepared_dir], "train", 32).subject_fill()
    res = run_training(load_train_config("tiny", FAST), [prepared_dir], tmp_path / "a")
    assert read_model_info(res.model_dir).meta["subject_fill"] == measured and 0 < measured <= 1
    res = run_training(load_train_config("tiny", FAST + ["data.subject_fill=0.45"]), [prepared_dir], tmp_path / "b")
    assert read_model_info(res.model_dir).meta["subject_fill"] == 0.45
    with pytest.raises(Exception, match="subject_fill"):
        load_train_config("tiny", ["data.subject_fill=1.5"])


def test_folded_upsampling_trains_like_the_literal_one(prepared_dir, tmp_path):
    """run.fold_upsampling computes "resize" blocks as their transposed conv; the same run computed
    literally (nearest x2 then the conv) has the same losses at every step, in fp32."""
    import json

    losses = []
    for fold in ("true", "false"):
        cfg = load_train_config("tiny", FAST + ["run.steps=3", "generator.upsample=resize", "ema.decay=0",
                                                f"run.fold_upsampling={fold}"])
        run_training(cfg, [prepared_dir], tmp_path / f"run-{fold}")
        lines = [json.loads(line) for line in (tmp_path / f"run-{fold}" / "metrics.jsonl").read_text().splitlines()]
        losses.append([[v for k, v in sorted(m.items()) if k.startswith("loss")] for m in lines if "loss_g" in m])
    assert len(losses[0]) == 3 and len(losses[0][0]) >= 3
    assert losses[0][0] != losses[0][-1]  # it trained
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-4)
