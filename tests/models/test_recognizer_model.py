"""The recognizer CNN: shapes, size budget, config validation, model-folder round trip."""

import pytest
import torch

from icanvas.checkpoint import from_pretrained, save_pretrained
from icanvas.config import RecognizerConfig
from icanvas.errors import ConfigError
from icanvas.models.recognizer import SketchClassifier


@pytest.mark.parametrize("cfg", [RecognizerConfig(), RecognizerConfig(image_size=32, channels=(8, 16), norm="group", groups=4, num_classes=3)])
def test_forward_shapes(cfg):
    torch.manual_seed(0)
    net = SketchClassifier(cfg).eval()
    x = torch.rand(3, 1, cfg.image_size, cfg.image_size)
    out = net(x)
    assert out.shape == (3, cfg.num_classes) and torch.isfinite(out).all()
    assert not torch.allclose(out[0], out[1])  # different inputs, different logits


def test_default_model_fits_the_size_budget(tmp_path):
    net = SketchClassifier(RecognizerConfig())
    fp16_bytes = sum(p.numel() for p in net.state_dict().values() if p.is_floating_point()) * 2
    assert fp16_bytes < 2 * 2**20
    folder = save_pretrained(net, tmp_path / "m", method="recognizer", config=RecognizerConfig(), meta={"labels": list("abcdefghijkl")}, half=True)
    assert (folder / "generator.safetensors").stat().st_size < 2 * 2**20
    loaded, info = from_pretrained(folder)
    assert info.method == "recognizer" and info.config == RecognizerConfig() and info.meta["labels"][0] == "a"
    x = torch.rand(2, 1, 28, 28)
    assert torch.allclose(loaded(x), net.eval()(x), atol=5e-2)  # fp16 storage, fp32 compute


def test_config_validation():
    with pytest.raises(ConfigError, match="model.norm"):
        RecognizerConfig(norm="layer")
    with pytest.raises(ConfigError, match="model.groups"):
        RecognizerConfig(norm="group", groups=5)
    with pytest.raises(ConfigError, match="stages"):
        RecognizerConfig(image_size=16, channels=(4, 4, 4, 4, 4))
    with pytest.raises(ConfigError, match="num_classes"):
        RecognizerConfig(num_classes=1)
