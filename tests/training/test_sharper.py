"""The sharper pix2pix recipe: multi-scale discriminator, feature matching, EMA of G, NHWC, threaded batches."""

import numpy as np
import pytest
import torch

from icanvas.config import load_train_config
from icanvas.data.datasets import PairBatcher, load_pairs
from icanvas.methods.common import PatchGANConfig
from icanvas.models.patchgan import MultiScaleDiscriminator, PatchGANDiscriminator, build_discriminator, scale_features
from icanvas.training.loop import run_training
from icanvas.training.pix2pix import Pix2PixTrainer

FAST = ["run.steps=3", "run.sample_every=0", "run.log_every=1", "run.threads=1"]
SHARP = ["discriminator.num_scales=2", "loss.lambda_fm=10", "ema.decay=0.9", "run.channels_last=true"]


def test_one_scale_keeps_the_old_layout_and_two_scales_judge_half_size_too():
    one = build_discriminator(PatchGANConfig(ndf=8, n_layers=2), in_channels=4)
    assert isinstance(one, PatchGANDiscriminator) and all(k.startswith("net.") for k in one.state_dict())
    two = build_discriminator(PatchGANConfig(ndf=8, n_layers=2, num_scales=2), in_channels=4)
    assert isinstance(two, MultiScaleDiscriminator)
    x = torch.randn(2, 4, 64, 64)
    full, half = two(x)
    assert full.shape[-1] > half.shape[-1] > 1  # the second judges the picture at half size
    feats = scale_features(two, x)
    assert len(feats) == 2 and all(torch.equal(f[-1], lg) for f, lg in zip(feats, (full, half)))
    assert len(scale_features(one, x)) == 1 and len(feats[0]) == 2 + 1 + 1  # first conv, 2 blocks, logits


def test_feature_matching_and_ema_train_and_the_average_is_what_is_saved(prepared_dir, tmp_path):
    cfg = load_train_config("tiny", FAST + SHARP)
    res = run_training(cfg, [prepared_dir], tmp_path / "run")
    rows = [r for r in map(eval_row, (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()) if "loss_fm" in r]
    assert len(rows) == 3 and all(np.isfinite(r["loss_fm"]) and r["loss_fm"] > 0 for r in rows)
    from icanvas.checkpoint import from_pretrained

    saved, _ = from_pretrained(res.model_dir)
    trainer = Pix2PixTrainer(cfg, torch.device("cpu"))
    state = torch.load(tmp_path / "run" / "checkpoint" / "train_state.pt", weights_only=False)["trainer"]
    trainer.load_state_dict(state)
    ema = dict(trainer.ema.named_parameters())
    raw = dict(trainer.G.named_parameters())
    name = next(iter(ema))
    assert torch.allclose(saved.state_dict()[name].float(), ema[name].float())
    assert not torch.allclose(ema[name], raw[name])  # the average lags the trained weights
    assert "EMA of G 0.9; discriminator scales 2; feature matching 10" in (res.model_dir / "card.md").read_text()


def test_resume_restores_the_average(prepared_dir, tmp_path):
    cfg = load_train_config("tiny", FAST + SHARP)
    run_training(cfg, [prepared_dir], tmp_path / "run", stop_at=2)
    again = load_train_config("tiny", FAST + SHARP)
    res = run_training(again, [prepared_dir], tmp_path / "run", resume=True)
    assert res.steps == 3


def test_threaded_batches_equal_the_single_threaded_ones(prepared_dir):
    import dataclasses

    cfg = load_train_config("tiny", ["hints.enabled=true", "generator.hint_channels=4", "hints.style=crayon", "hints.p_none=0"])
    data = load_pairs([prepared_dir], "train", 32)
    one = PairBatcher(data, cfg.data, cfg.hints, None, seed=3)
    many = PairBatcher(data, dataclasses.replace(cfg.data, workers=3), cfg.hints, None, seed=3)
    a, b = one.batch(2, 5), many.batch(2, 5)
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_crayons_on_the_subject_find_each_training_photos_subject_once(prepared_dir):
    """hints.region=subject: the batcher finds the photos' subjects on first use (not for the preview), and
    every scribble of a batch sits on the subject of its (flipped, cropped) photo."""
    crayon = ["hints.enabled=true", "generator.hint_channels=4", "hints.style=crayon", "hints.p_none=0", "data.load_size=36"]
    data = load_pairs([prepared_dir], "train", 32)
    plain = load_train_config("tiny", crayon)
    assert PairBatcher(data, plain.data, plain.hints, None, seed=3).subjects() is None
    cfg = load_train_config("tiny", crayon + ["hints.region=subject"])
    b = PairBatcher(data, cfg.data, cfg.hints, None, seed=3)
    assert b._subjects is None  # nothing found before it is needed
    b._make(0, np.random.default_rng(0), augment=False)
    assert b._subjects is None
    subjects = b.subjects()
    assert subjects.shape == data.sketches.shape and subjects.dtype == bool and b.subjects() is subjects
    assert b.batch(0, 4)["hint"][:, 3].any()
    # the subject moves with its photo: with the left half as every subject, a flipped example's scribbles are on the right
    flat = load_train_config("tiny", crayon[:-1] + ["hints.region=subject", "hints.natural_p=0"])
    b = PairBatcher(data, flat.data, flat.hints, None, seed=3)
    b._subjects = np.zeros(data.sketches.shape, bool)
    b._subjects[:, :, :16] = True
    sides = set()
    for pos in range(16):
        i, ex = b._index(pos), b.example(pos)
        sketch = np.rint((ex["sketch"][0] + 1) * 127.5).astype(np.uint8)
        flipped = not np.array_equal(sketch, data.sketches[i])
        assert flipped == np.array_equal(sketch, data.sketches[i][:, ::-1]) or np.array_equal(data.sketches[i], data.sketches[i][:, ::-1])
        mask = ex["hint"][3] > 0
        if mask.any():
            assert not mask[:, 16:].any() if not flipped else not mask[:, :16].any()
            sides.add(flipped)
    assert sides == {False, True}
    with pytest.raises(Exception, match="hints.region"):
        load_train_config("tiny", crayon + ["hints.region=sky"])


def eval_row(line: str) -> dict:
    import json

    return json.loads(line)
