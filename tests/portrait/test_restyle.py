"""Style models as restylers: lookup by name, the classical style, any crop size in, the same size out."""

import numpy as np
import pytest
import torch

from icanvas.checkpoint import save_pretrained
from icanvas.config import load_train_config
from icanvas.errors import ModelNotFoundError
from icanvas.models.translator import TranslatorGenerator
from icanvas.portrait.cartoon import CartoonRestyler
from icanvas.portrait.restyle import TranslatorRestyler, list_styles, load_restyler, load_style_model


@pytest.fixture
def styles(tmp_path, monkeypatch):
    """A tiny style model installed as a learned character, and a model of another method beside it."""
    monkeypatch.setenv("ICANVAS_DATA_DIR", str(tmp_path / "home"))
    root = tmp_path / "home" / "characters"
    cfg = load_train_config("anime-tiny").generator
    torch.manual_seed(0)
    save_pretrained(TranslatorGenerator(cfg), root / "tiny-style", method="translation", config=cfg, meta={"kinds": ["person"]})
    return root


@pytest.mark.parametrize("prefer_onnx", [False, True])
def test_a_style_restyles_any_crop_to_its_own_size(styles, prefer_onnx):
    r = load_style_model("tiny-style", prefer_onnx=prefer_onnx)
    assert isinstance(r, TranslatorRestyler) and r.scope == "face" and r.size == 32 and r.stride == 4
    crop = np.random.default_rng(0).integers(0, 255, (57, 41, 3), dtype=np.uint8)
    out = r.restyle(crop, np.ones((57, 41), np.float32), (5, 5, 30, 30))
    assert out.shape == crop.shape and out.dtype == np.uint8
    assert not np.array_equal(out, crop)


def test_onnx_and_pytorch_agree(styles):
    crop = np.random.default_rng(1).integers(0, 255, (64, 48, 3), dtype=np.uint8)
    a = load_style_model("tiny-style", prefer_onnx=True).restyle(crop, None, None).astype(int)
    b = load_style_model("tiny-style", prefer_onnx=False).restyle(crop, None, None).astype(int)
    assert np.abs(a - b).max() <= 2


def test_style_names(styles):
    names = list_styles()
    assert "tiny-style" in names and names[-1] == "cartoon"
    assert isinstance(load_restyler("cartoon"), CartoonRestyler)
    assert isinstance(load_restyler("tiny-style"), TranslatorRestyler)
    with pytest.raises(ModelNotFoundError, match="No style named") as err:
        load_restyler("no-such-style")
    assert "tiny-style" in err.value.hint and "recognizer" not in err.value.hint
    with pytest.raises(ModelNotFoundError, match="not a character style"):
        load_style_model("recognizer")  # a bundled model of another method
