import pytest
import torch

from icanvas.config import PatchGANConfig, UNetConfig
from icanvas.models import PatchGANDiscriminator, UNetGenerator
from icanvas.models.unet import count_parameters


@pytest.mark.parametrize("size,upsample", [(32, "transpose"), (64, "resize"), (128, "transpose")])
def test_unet_shapes_and_range(size, upsample):
    g = UNetGenerator(UNetConfig(image_size=size, ngf=4, max_channels=16, upsample=upsample)).eval()
    y = g(torch.randn(2, 1, size, size))
    assert y.shape == (2, 3, size, size)
    assert y.abs().max() <= 1.0


def test_reference_configuration_matches_pix2pix_size():
    # pix2pix's unet_256 with ngf 64 and 3 input channels has 54.4 M parameters
    ref = UNetGenerator(UNetConfig(in_channels=3, ngf=64, max_channels=512, norm="batch"))
    assert round(count_parameters(ref) / 1e6, 1) == 54.4


def test_default_generator_is_much_smaller_than_reference():
    assert count_parameters(UNetGenerator(UNetConfig())) < 0.1 * 54.4e6


def test_shallower_depth_and_hints():
    cfg = UNetConfig(image_size=64, ngf=4, max_channels=8, depth=4, hint_channels=4)
    g = UNetGenerator(cfg)
    assert g(torch.randn(1, 5, 64, 64)).shape == (1, 3, 64, 64)


def test_class_conditional_outputs_depend_on_label():
    torch.manual_seed(0)
    g = UNetGenerator(UNetConfig(image_size=32, ngf=4, max_channels=8, num_classes=3, dropout=0)).eval()
    x = torch.randn(1, 1, 32, 32)
    a, b = g(x, torch.tensor([0])), g(x, torch.tensor([2]))
    assert not torch.allclose(a, b)
    with pytest.raises(ValueError, match="class-conditional"):
        g(x)


def test_patchgan_patch_grid():
    d = PatchGANDiscriminator(PatchGANConfig(ndf=8, n_layers=3), in_channels=4)
    out = d(torch.randn(2, 4, 256, 256))
    assert out.shape == (2, 1, 30, 30)  # the 70x70 PatchGAN's grid at 256 px


def test_film_starts_as_identity_and_lets_the_kind_steer_every_block():
    import torch

    from icanvas.config import UNetConfig
    from icanvas.models.unet import UNetGenerator

    base = UNetConfig(image_size=32, ngf=4, max_channels=8, dropout=0.0, num_classes=3)
    torch.manual_seed(0)
    plain = UNetGenerator(base).eval()
    film = UNetGenerator(UNetConfig(**{**base.__dict__, "class_film": True})).eval()
    film.load_state_dict(plain.state_dict(), strict=False)  # same weights; FiLM tables start at zero
    x, kinds = torch.randn(2, 1, 32, 32), torch.tensor([0, 2])
    assert len(film.film) == film.config.levels - 1  # every decoder block but the one that draws the picture
    assert torch.equal(film(x, kinds), plain(x, kinds))
    with torch.no_grad():
        film.film[-1].weight[2, 4:] = 1.0  # kind 2 shifts the channels of the block nearest the picture
    a, b = film(x[:1], torch.tensor([0])), film(x[:1], torch.tensor([2]))
    assert (a - b).abs().mean() > 0.01


def test_film_and_kind_input_need_classes():
    import pytest

    from icanvas.config import UNetConfig, load_train_config
    from icanvas.errors import ConfigError

    with pytest.raises(ConfigError, match="class_film"):
        UNetConfig(class_film=True)
    with pytest.raises(ConfigError, match="kind_input"):
        load_train_config("tiny", ["discriminator.kind_input=true"])


def test_resize_upsampling_folds_into_an_equal_transposed_conv():
    import copy

    from torch import nn

    from icanvas.models.layers import fold_resize_upsampling, set_upsampling_fold

    torch.manual_seed(0)
    cfg = UNetConfig(image_size=32, ngf=4, max_channels=16, upsample="resize", num_classes=2, class_film=True, dropout=0.0)
    g = UNetGenerator(cfg).eval()
    set_upsampling_fold(g, False)  # nearest x2 then the 3x3 conv, literally
    folded = fold_resize_upsampling(copy.deepcopy(g)).eval()
    assert not any(isinstance(m, nn.Upsample) for m in folded.modules())
    assert sum(isinstance(m, nn.ConvTranspose2d) for m in folded.modules()) == sum(isinstance(m, nn.Upsample) for m in g.modules()) > 0
    x, label = torch.randn(2, 1, 32, 32), torch.tensor([0, 1])
    with torch.no_grad():
        assert torch.allclose(g(x, label), folded(x, label), atol=1e-5)
    reflect = nn.Sequential(nn.Upsample(scale_factor=2), nn.Conv2d(3, 3, 3, padding=1, padding_mode="reflect"))
    assert isinstance(fold_resize_upsampling(nn.Sequential(reflect))[0], nn.Sequential)  # not the same maths: left alone


def test_resize_upsampling_folds_into_an_equal_subpixel_conv():
    import copy

    from torch import nn

    from icanvas.models.layers import SubpixelUpsample, fold_resize_upsampling, has_resize_upsampling, set_upsampling_fold

    torch.manual_seed(1)
    cfg = UNetConfig(image_size=32, ngf=4, max_channels=16, upsample="resize", num_classes=2, class_film=True, dropout=0.0)
    g = UNetGenerator(cfg).eval()
    set_upsampling_fold(g, False)
    with torch.no_grad():  # non-zero biases, so a wrongly ordered bias would show
        for m in g.modules():
            if isinstance(m, nn.Conv2d) and m.bias is not None:
                m.bias.normal_()
    folded = fold_resize_upsampling(copy.deepcopy(g), into="subpixel").eval()
    assert has_resize_upsampling(g) and not has_resize_upsampling(folded)
    assert not any(isinstance(m, (nn.Upsample, nn.ConvTranspose2d)) for m in folded.modules())
    assert sum(isinstance(m, SubpixelUpsample) for m in folded.modules()) == sum(isinstance(m, nn.Upsample) for m in g.modules())
    x, label = torch.randn(2, 1, 32, 32), torch.tensor([0, 1])
    with torch.no_grad():
        assert torch.allclose(g(x, label), folded(x, label), atol=1e-5)
        block = next(m for m in g.modules() if isinstance(m, nn.Sequential) and isinstance(m[0], nn.Upsample))
        y = torch.randn(1, block[1].in_channels, 5, 7)  # odd sizes: every phase and border
        assert torch.allclose(block(y), SubpixelUpsample(block)(y), atol=1e-5)


def test_onnx_export_of_a_resize_model_matches_pytorch(tmp_path):
    import numpy as np
    import onnxruntime as ort

    from icanvas.checkpoint import ModelInfo
    from icanvas.runtime.onnx import export_onnx

    torch.manual_seed(1)
    cfg = UNetConfig(image_size=32, ngf=4, max_channels=16, upsample="resize", dropout=0.0)
    g = UNetGenerator(cfg).eval()
    path = export_onnx(g, ModelInfo(path=tmp_path, method="pix2pix", config=cfg), tmp_path / "g.onnx")
    x = torch.randn(1, 1, 32, 32)
    got = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"sketch": x.numpy()})[0]
    with torch.no_grad():
        assert np.abs(got - g(x).numpy()).max() < 1e-4
    assert any(isinstance(m, torch.nn.Upsample) for m in g.modules())  # the model itself is unchanged


def test_resize_upsampling_computes_folded_with_the_literal_gradients():
    """A "resize" block runs as its transposed conv, in training too: same output, and the same
    gradients for its 3x3 weights, its bias and its input as nearest x2 then the conv."""
    from torch import nn

    from icanvas.models.layers import ResizeUpsample, upsample_conv

    torch.manual_seed(2)
    block = upsample_conv(6, 5, "resize")
    assert isinstance(block, ResizeUpsample) and block.fold
    assert list(block.state_dict()) == ["1.weight", "1.bias"]  # the layout of earlier runs and bundled models
    with torch.no_grad():
        block[1].bias.normal_()
    x = torch.randn(2, 6, 5, 7)  # odd sizes: every border
    target = torch.randn(2, 5, 10, 14)
    grads = []
    for fold in (True, False):
        block.fold = fold
        block.zero_grad()
        xi = x.clone().requires_grad_(True)
        y = block(xi)
        assert y.shape == (2, 5, 10, 14)
        ((y - target) ** 2).sum().backward()
        grads.append((y.detach(), block[1].weight.grad.clone(), block[1].bias.grad.clone(), xi.grad))
    for folded, literal in zip(*grads):
        assert torch.allclose(folded, literal, rtol=1e-4, atol=1e-4)
    assert grads[0][1].abs().sum() > 0
    with torch.autocast("cpu", dtype=torch.bfloat16):  # in bf16 the two stay within bf16's rounding
        block.fold = True
        a = block(x).float()
        block.fold = False
        b = block(x).float()
    assert (a - b).abs().max() < 0.05 * b.abs().max()
    assert not any(isinstance(m, nn.Upsample) for m in upsample_conv(6, 5, "transpose").modules())
