import json

import pytest
import torch

from icanvas.catalog import find_model, list_models
from icanvas.checkpoint import CONFIG_FILE, WEIGHTS_FILE, from_pretrained, save_pretrained
from icanvas.config import UNetConfig
from icanvas.errors import CheckpointError, ModelNotFoundError
from icanvas.models import UNetGenerator

CFG = UNetConfig(image_size=32, ngf=4, max_channels=8, dropout=0.0)


def _saved(tmp_path, half=False):
    torch.manual_seed(0)
    g = UNetGenerator(CFG).eval()
    save_pretrained(g, tmp_path / "m", method="pix2pix", config=CFG, meta={"kinds": ["shape"]}, card="# card\n", half=half)
    return g, tmp_path / "m"


def test_round_trip_needs_only_the_folder(tmp_path):
    g, folder = _saved(tmp_path)
    assert sorted(p.name for p in folder.iterdir()) == ["card.md", CONFIG_FILE, WEIGHTS_FILE]
    loaded, info = from_pretrained(folder)
    x = torch.randn(1, 1, 32, 32)
    assert torch.equal(g(x), loaded(x))
    assert info.config == CFG and info.kinds == ["shape"]


def test_fp16_weights_load_as_fp32(tmp_path):
    g, folder = _saved(tmp_path, half=True)
    loaded, _ = from_pretrained(folder)
    assert next(loaded.parameters()).dtype == torch.float32
    x = torch.randn(1, 1, 32, 32)
    assert (g(x) - loaded(x)).abs().max() < 1e-2


def test_missing_and_corrupt_files_give_clear_errors(tmp_path):
    _, folder = _saved(tmp_path)
    (folder / WEIGHTS_FILE).write_bytes(b"\x00garbage")
    with pytest.raises(CheckpointError, match="damaged"):
        from_pretrained(folder)
    (folder / WEIGHTS_FILE).unlink()
    with pytest.raises(ModelNotFoundError, match=WEIGHTS_FILE):
        from_pretrained(folder)
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        from_pretrained(tmp_path / "nowhere")


def test_format_version_and_architecture_mismatch(tmp_path):
    _, folder = _saved(tmp_path)
    doc = json.loads((folder / CONFIG_FILE).read_text())
    doc["model"]["ngf"] = 8  # weights are for ngf 4
    (folder / CONFIG_FILE).write_text(json.dumps(doc))
    with pytest.raises(CheckpointError, match="different models"):
        from_pretrained(folder)
    doc["format_version"] = 99
    (folder / CONFIG_FILE).write_text(json.dumps(doc))
    with pytest.raises(CheckpointError, match="format version"):
        from_pretrained(folder)


def test_catalog_finds_models_by_name(tmp_path, monkeypatch):
    _, folder = _saved(tmp_path)
    monkeypatch.setenv("ICANVAS_MODEL_PATH", str(tmp_path))
    assert find_model("m") == folder
    entry = next(e for e in list_models() if e.name == "m")
    assert entry.resolution == 32 and entry.size_bytes > 0 and entry.source == "ICANVAS_MODEL_PATH"
    with pytest.raises(ModelNotFoundError) as e:
        find_model("unicorn")
    assert "m" in e.value.hint


def test_catalog_finds_a_model_by_the_kind_it_draws(tmp_path, monkeypatch):
    from icanvas.catalog import find_model_for

    _, folder = _saved(tmp_path)
    monkeypatch.setenv("ICANVAS_MODEL_PATH", str(tmp_path))
    assert find_model_for("m") == (folder, None)
    assert find_model_for("shape") == (folder, "shape")
    with pytest.raises(ModelNotFoundError):
        find_model_for("unicorn")


def test_written_model_files_are_readable_by_others(tmp_path):
    """A model folder written for sharing (or for a studio run by another user) is not owner-only."""
    import os

    from torch import nn

    from icanvas.checkpoint import save_pretrained, write_text_atomic

    old = os.umask(0o022)
    try:
        write_text_atomic(tmp_path / "card.md", "hello")
        save_pretrained(nn.Linear(2, 2), tmp_path / "model", method="pix2pix", config={}, card="card", half=True)
    finally:
        os.umask(old)
    assert (tmp_path / "card.md").stat().st_mode & 0o777 == 0o644
    for name in ("generator.safetensors", "config.json", "card.md"):  # the weights too, not only the text files
        assert (tmp_path / "model" / name).stat().st_mode & 0o777 == 0o644, name
