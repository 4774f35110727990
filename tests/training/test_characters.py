"""Few-shot character learning: starts from a style model, installs the result where --style finds it."""

import numpy as np
import pytest
import torch
from PIL import Image

from icanvas.catalog import characters_dir, find_model
from icanvas.checkpoint import from_pretrained
from icanvas.config import load_train_config
from icanvas.errors import ConfigError, DatasetError
from icanvas.training.characters import learn_character
from icanvas.training.loop import run_training

FAST = ["run.steps=2", "run.batch_size=2", "run.threads=1", "run.sample_every=0", "run.checkpoint_every=2",
        "data.crop=16", "loss.num_patches=16", "loss.nce_dim=8", "loss.nce_layers=[0,1,2,3]",
        "discriminator.ndf=4", "discriminator.n_layers=2", "eval.num_images=2"]


def _pictures(folder, n, seed, flat):
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        img = rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)
        if flat:
            img[:] = rng.integers(0, 255, 3)
            img[10:30, 12:28] = (250, 200, 40)
        Image.fromarray(img).save(folder / f"{i}.png")
    return folder


@pytest.fixture(scope="module")
def base_style(tmp_path_factory):
    """A tiny trained style model folder (2 steps)."""
    root = tmp_path_factory.mktemp("base")
    for name, seed in (("trainA", 0), ("trainB", 1), ("testA", 2), ("testB", 3)):
        _pictures(root / "data" / name, 4, seed, name.endswith("B"))
    cfg = load_train_config("anime-tiny", ["run.steps=2"])
    return run_training(cfg, [root / "data"], root / "run").model_dir


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("ICANVAS_DATA_DIR", str(tmp_path / "home"))
    return tmp_path


def test_learned_character_starts_from_the_base_and_is_installed(base_style, home):
    pics, photos = _pictures(home / "pics", 8, 5, True), _pictures(home / "photos", 10, 6, False)
    res = learn_character(pics, photos, "sky-knight", base=base_style, overrides=FAST)
    assert res.model_dir == characters_dir() / "sky-knight" and find_model("sky-knight") == res.model_dir
    base, _ = from_pretrained(base_style)
    learned, info = from_pretrained(res.model_dir)
    assert info.method == "translation" and info.config == base.config
    frozen = [k for k in base.state_dict() if k.startswith("encoder.0.")]  # the stem is one of the frozen layers
    changed = [k for k, v in learned.state_dict().items() if not torch.equal(v, base.state_dict()[k])]
    assert frozen and not set(frozen) & set(changed) and changed  # frozen layers kept, the rest learned
    assert "supplied for this character" in (res.model_dir / "card.md").read_text()
    sheet = np.asarray(Image.open(res.sheet))
    assert sheet.ndim == 3 and sheet.shape[1] >= 3 * 32  # three columns: photo, base style, learned style
    with pytest.raises(ConfigError, match="already exists"):
        learn_character(pics, photos, "sky-knight", base=base_style, overrides=FAST)


def test_bad_inputs_are_clear(base_style, home):
    pics, photos = _pictures(home / "pics", 2, 5, True), _pictures(home / "photos", 10, 6, False)
    with pytest.raises(DatasetError, match="holds 2 pictures"):
        learn_character(pics, photos, "x", base=base_style, overrides=FAST)
    with pytest.raises(ConfigError, match="cannot be a character's name"):
        learn_character(pics, photos, "../evil", base=base_style, overrides=FAST)
    with pytest.raises(DatasetError, match="photos of people"):
        learn_character(_pictures(home / "p2", 8, 1, True), _pictures(home / "few", 3, 2, False), "y", base=base_style, overrides=FAST)
