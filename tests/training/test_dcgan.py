"""DCGAN training on the tiny preset: run folder, realism evaluation, GIFs, resume, stabilisers."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

from icanvas.config import AugmentConfig, load_train_config
from icanvas.data.photos import PhotoBatcher, load_photo_set
from icanvas.errors import ConfigError, DatasetError
from icanvas.pipelines.sampler import Sampler
from icanvas.training.diffaug import diff_augment
from icanvas.training.losses import smoothed
from icanvas.training.loop import run_training

TINY = ["run.steps=6", "run.checkpoint_every=3", "run.sample_every=2", "run.eval_every=3", "run.log_every=1", "run.threads=1"]


@pytest.fixture(scope="module")
def photo_dir(tmp_path_factory):
    """30 synthetic 'photos': coloured discs on a gradient, 40 px."""
    folder = tmp_path_factory.mktemp("photos")
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:40, :40]
    for i in range(30):
        img = np.zeros((40, 40, 3), np.uint8)
        img[..., 2] = (xx * 6).astype(np.uint8)
        cy, cx, r = rng.integers(10, 30, 2).tolist() + [int(rng.integers(5, 10))]
        img[(yy - cy) ** 2 + (xx - cx) ** 2 < r * r] = rng.integers(0, 255, 3)
        Image.fromarray(img).save(folder / f"p{i:02d}.png")
    (folder / "notes.txt").write_text("not a photo")
    return folder


@pytest.fixture(scope="module")
def trained(photo_dir, tmp_path_factory):
    cfg = load_train_config("dcgan-tiny", TINY)
    root = tmp_path_factory.mktemp("dcgan")
    return cfg, run_training(cfg, [photo_dir], root / "straight"), root


def test_photo_set_holds_out_a_seeded_share(photo_dir):
    a = load_photo_set([photo_dir], 32, holdout=0.2, seed=0)
    b = load_photo_set([photo_dir], 32, holdout=0.2, seed=0)
    assert a.train.shape == (24, 32, 32, 3) and a.held_out.shape == (6, 32, 32, 3)
    assert np.array_equal(a.held_out, b.held_out) and a.kind == photo_dir.name
    # no held-out photo is also a training photo
    assert not any((a.train == h).all(axis=(1, 2, 3)).any() for h in a.held_out)


def test_prepared_dataset_uses_its_val_split(prepared_dir):
    s = load_photo_set([prepared_dir], 32, holdout=0.1, seed=0)
    assert s.kind == "shape" and s.terms == ["synthetic"]
    assert len(s.train) == len(list((prepared_dir / "train").iterdir()))
    assert len(s.held_out) == len(list((prepared_dir / "val").iterdir()))


def test_empty_folder_is_a_clear_error(tmp_path):
    with pytest.raises(DatasetError, match="No readable photos"):
        load_photo_set([tmp_path], 32, holdout=0.1, seed=0)


def test_batches_are_deterministic_and_flip(photo_dir):
    photos = load_photo_set([photo_dir], 32, holdout=0.2, seed=0).train
    b = PhotoBatcher(photos, flip=True, seed=5)
    x, y = b.batch(3, 8)["photo"], PhotoBatcher(photos, flip=True, seed=5).batch(3, 8)["photo"]
    assert x.shape == (8, 3, 32, 32) and x.dtype == np.float32 and np.array_equal(x, y)
    assert -1.0 <= x.min() and x.max() <= 1.0
    flat = PhotoBatcher(photos, flip=False, seed=5).batch(3, 8)["photo"]
    flipped = [not np.array_equal(x[i], flat[i]) for i in range(8)]
    assert any(flipped) and all(np.array_equal(x[i], flat[i][:, :, ::-1]) for i in range(8) if flipped[i])


def test_diff_augment_changes_pictures_and_passes_gradients():
    torch.manual_seed(0)
    x = torch.rand(4, 3, 16, 16, requires_grad=True)
    off = diff_augment(x, AugmentConfig())
    assert off is x
    y = diff_augment(x, AugmentConfig(policy=("color", "translation", "cutout")))
    assert y.shape == x.shape and not torch.allclose(y, x)
    y.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    cut = diff_augment(torch.ones(2, 3, 16, 16), AugmentConfig(policy=("cutout",), cutout=0.5))
    assert ((cut == 0).float().mean(dim=(1, 2, 3)) == 0.25).all()  # one 8x8 square of 16x16 erased per picture


def test_label_smoothing_moves_only_the_real_target():
    logits = torch.tensor([4.0, 4.0])
    plain, smooth = smoothed("vanilla", 1.0), smoothed("vanilla", 0.9)
    assert smooth.d(logits, -logits) > plain.d(logits, -logits)  # confident D is penalised
    assert torch.equal(smooth.g(logits), plain.g(logits))
    with pytest.raises(ConfigError, match="hinge"):
        load_train_config("dcgan-tiny", ["loss.gan=hinge"])


def test_run_folder_metrics_and_gifs(trained):
    _, res, _ = trained
    run = res.run_dir
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    losses = [r for r in rows if "loss_d" in r]
    evals = [r for r in rows if "eval" in r]
    assert [r["step"] for r in losses] == [1, 2, 3, 4, 5, 6]
    assert [r["step"] for r in evals] == [3, 6]  # every run.eval_every steps and after the last
    assert all(np.isfinite(r["eval"]["swd"]) and r["eval"]["swd"] > 0 and r["eval"]["swd_real"] > 0 for r in evals)
    assert all(r["eval"]["colour"] > r["eval"]["colour_real"] >= 0 for r in evals)  # 6 steps are far from the photos
    grids = sorted(p.name for p in (run / "samples").iterdir())
    assert grids == ["step_0000002.png", "step_0000004.png", "step_0000006.png"]
    with Image.open(run / "progress.gif") as gif:
        assert gif.n_frames == 3
    with Image.open(run / "interpolation.gif") as gif:
        assert gif.n_frames > 10
    card = (run / "model" / "card.md").read_text()
    assert "Realism" in card and "EMA of G 0.9" in card and "spectral norm in D on" in card


def test_saved_model_is_the_ema_and_samples_deterministically(trained):
    cfg, res, _ = trained
    s = Sampler.from_pretrained(res.model_dir)
    assert len(s.kinds) == 1 and s.kinds[0].startswith("photos")  # the photo folder's name
    a, b = s.sample(4, seed=3), s.sample(4, seed=3)
    assert a.shape == (4, 32, 32, 3) and a.dtype == np.uint8 and np.array_equal(a, b)
    assert not np.array_equal(a, s.sample(4, seed=4))


def test_resume_continues_exactly(trained, photo_dir):
    cfg, straight, root = trained
    part = run_training(cfg, [photo_dir], root / "resumed", stop_at=3)
    assert part.steps == 3
    full = run_training(cfg, [photo_dir], root / "resumed", resume=True)
    a = Sampler.from_pretrained(straight.model_dir).sample(4, seed=1)
    b = Sampler.from_pretrained(full.model_dir).sample(4, seed=1)
    assert np.array_equal(a, b)


def test_dcgan_refuses_several_processes():
    from icanvas.training.dcgan import DCGANTrainer
    from icanvas.training.distributed import DistInfo

    cfg = load_train_config("dcgan-tiny")
    with pytest.raises(ConfigError, match="single process"):
        DCGANTrainer(cfg, torch.device("cpu"), DistInfo(rank=0, world_size=2))


def test_ema_has_its_own_batch_norm_statistics(photo_dir):
    import copy

    from icanvas.models.dcgan import latent_vectors
    from icanvas.training.dcgan import prepare_dcgan
    from icanvas.training.distributed import DistInfo

    cfg = load_train_config("dcgan-tiny", ["ema.start=0", "ema.decay=0.5", "optim.lr_g=0.01", "run.batch_size=8"])
    prepared = prepare_dcgan(cfg, [photo_dir], torch.device("cpu"), DistInfo())
    trainer = prepared.trainer
    for step in range(6):
        trainer.train_step(prepared.batches.batch(step, 8))
    ema = trainer.generator
    bn_ema = [m for m in ema.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    bn_g = [m for m in trainer.G.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert bn_ema and not all(torch.allclose(a.running_mean, b.running_mean) for a, b in zip(bn_ema, bn_g))
    z = torch.from_numpy(latent_vectors(512, cfg.generator.latent_dim, 0))
    with torch.no_grad():
        saved = ema(z).mean(dim=(0, 2, 3))  # eval mode: the stored statistics
        batch = copy.deepcopy(ema).train()(z).mean(dim=(0, 2, 3))  # the statistics of these weights
    assert torch.allclose(saved, batch, atol=0.05)
    assert ema.training is False and trainer.generator is ema  # estimated once per step, not on every access
