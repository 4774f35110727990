"""Unpaired translation (CUT): data, the PatchNCE loss, a tiny run end to end, resume and loading."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

from icanvas.checkpoint import from_pretrained
from icanvas.config import load_train_config
from icanvas.data.unpaired import UnpairedBatcher, load_unpaired, tone_jitter
from icanvas.errors import ConfigError, DatasetError
from icanvas.models.translator import TranslatorGenerator
from icanvas.training.loop import run_training
from icanvas.training.translation import patch_nce


def _write(folder, n, seed, style):
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:40, :40]
    for i in range(n):
        img = np.full((40, 40, 3), 200 if style else 90, np.uint8)
        cy, cx = rng.integers(12, 28, 2)
        disc = (yy - cy) ** 2 + (xx - cx) ** 2 < 64
        img[disc] = (255, 120, 180) if style else rng.integers(0, 255, 3)
        if not style:
            img = np.clip(img + rng.normal(0, 20, img.shape), 0, 255).astype(np.uint8)  # photos are noisy, style flat
        Image.fromarray(img).save(folder / f"{i:02d}.png")


@pytest.fixture(scope="module")
def unpaired_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("unpaired")
    for name, n, seed, style in (("trainA", 12, 0, False), ("trainB", 10, 1, True), ("testA", 4, 2, False), ("testB", 4, 3, True)):
        _write(root / name, n, seed, style)
    return root


def test_loading_reads_both_domains_and_holds_out_without_test_folders(unpaired_dir, tmp_path):
    s = load_unpaired(unpaired_dir, 32, domain_a="trainA", domain_b="trainB", test_a="testA", test_b="testB", seed=0)
    assert s.train_a.shape == (12, 32, 32, 3) and s.train_b.shape == (10, 32, 32, 3) and len(s.test_a) == 4
    s2 = load_unpaired(unpaired_dir, 32, domain_a="trainA", domain_b="trainB", test_a="", test_b="", seed=0, holdout=0.25)
    assert len(s2.train_a) == 9 and len(s2.test_a) == 3
    with pytest.raises(DatasetError, match="trainA"):
        load_unpaired(tmp_path, 32, domain_a="trainA", domain_b="trainB", test_a="", test_b="", seed=0)


def test_batches_are_crops_in_range_and_repeat_exactly(unpaired_dir):
    s = load_unpaired(unpaired_dir, 32, domain_a="trainA", domain_b="trainB", test_a="testA", test_b="testB", seed=0)
    b = UnpairedBatcher(s, crop=16, scale=(0.8, 1.2), flip=True, tone_p=1.0, seed=3)
    one, again, other = b.batch(5, 3), b.batch(5, 3), b.batch(6, 3)
    assert one["a"].shape == one["b"].shape == (3, 3, 16, 16) and one["a"].dtype == np.float32
    assert one["a"].min() >= -1 and one["a"].max() <= 1
    assert np.array_equal(one["a"], again["a"]) and not np.array_equal(one["a"], other["a"])


def test_tone_jitter_changes_brightness_both_ways():
    img = np.full((8, 8, 3), 150, np.uint8)
    means = [tone_jitter(img, np.random.default_rng(i)).mean() for i in range(40)]
    assert min(means) < 110 and max(means) > 155  # darker and lighter skin tones and lighting


def test_patch_nce_prefers_matching_locations():
    k = torch.nn.functional.normalize(torch.randn(2, 16, 8), dim=-1)
    same = patch_nce(k.clone(), k, 0.07)
    shuffled = patch_nce(k[:, torch.randperm(16)], k, 0.07)
    assert same < 0.1 < shuffled


def test_generator_runs_on_any_multiple_of_its_stride():
    cfg = load_train_config("anime-tiny").generator
    g = TranslatorGenerator(cfg).eval()
    with torch.no_grad():
        out = g(torch.zeros(1, 3, 24, 40))
    assert out.shape == (1, 3, 24, 40) and out.abs().max() <= 1


def test_bad_settings_name_the_key():
    with pytest.raises(ConfigError, match="data.crop"):
        load_train_config("anime-tiny", ["data.crop=12"])  # not a multiple of 2**n_down = 4
    with pytest.raises(ConfigError, match="nce_layers"):
        load_train_config("anime-tiny", ["loss.nce_layers=[9]"])


def test_tiny_run_writes_a_loadable_model_and_resumes_exactly(unpaired_dir, tmp_path):
    cfg = load_train_config("anime-tiny")
    straight = run_training(cfg, [unpaired_dir], tmp_path / "straight")
    first = run_training(cfg, [unpaired_dir], tmp_path / "split", stop_at=2)
    assert first.steps == 2
    resumed = run_training(cfg, [unpaired_dir], tmp_path / "split", resume=True)
    g1, info = from_pretrained(straight.model_dir)
    g2, _ = from_pretrained(resumed.model_dir)
    assert info.method == "translation" and info.config == cfg.generator
    for a, b in zip(g1.state_dict().values(), g2.state_dict().values()):
        assert torch.allclose(a, b, atol=1e-5)
    rows = [json.loads(line) for line in (tmp_path / "straight" / "metrics.jsonl").read_text().splitlines()]
    evals = [r["eval"] for r in rows if "eval" in r]
    assert evals and {"swd", "colour", "adherence_f1"} <= set(evals[-1]) and 0 <= evals[-1]["adherence_f1"] <= 1
    assert any("loss_nce" in r for r in rows)
    card = (straight.model_dir / "card.md").read_text()
    assert "Adherence" in card and "non-commercial" in card
    assert list((tmp_path / "straight" / "samples").glob("step_*.png"))
