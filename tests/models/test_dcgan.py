"""DCGAN generator / discriminator shapes, initialisation, latents and interpolation."""

import numpy as np
import pytest
import torch

from icanvas.config import DCGANDiscriminatorConfig, DCGANGeneratorConfig
from icanvas.errors import ConfigError
from icanvas.models.dcgan import DCGANDiscriminator, DCGANGenerator, latent_vectors, slerp


@pytest.mark.parametrize("size", [16, 32, 64])
@pytest.mark.parametrize("upsample", ["transpose", "resize"])
def test_generator_and_discriminator_shapes(size, upsample):
    torch.manual_seed(0)
    g = DCGANGenerator(DCGANGeneratorConfig(image_size=size, latent_dim=6, ngf=4, max_channels=16, upsample=upsample))
    d = DCGANDiscriminator(DCGANDiscriminatorConfig(ndf=4, max_channels=16), image_size=size)
    x = g(torch.randn(3, 6))
    assert x.shape == (3, 3, size, size)
    assert x.abs().max() <= 1.0  # tanh output
    assert d(x).shape == (3,)


def test_channels_double_as_the_side_halves_up_to_the_cap():
    g = DCGANGenerator(DCGANGeneratorConfig(image_size=64, latent_dim=4, ngf=8, max_channels=32))
    convs = [m for m in g.modules() if isinstance(m, torch.nn.ConvTranspose2d)]
    assert [c.out_channels for c in convs] == [32, 32, 16, 8, 3]  # 4x4 (capped), 8x8, 16x16, 32x32, then the picture


def test_spectral_norm_and_no_batch_norm():
    d = DCGANDiscriminator(DCGANDiscriminatorConfig(ndf=4, norm="none", spectral_norm=True), image_size=32)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in d.modules())
    assert all(hasattr(m, "weight_orig") for m in d.modules() if isinstance(m, torch.nn.Conv2d))


def test_init_is_normal_002():
    torch.manual_seed(0)
    g = DCGANGenerator(DCGANGeneratorConfig(image_size=32, ngf=32, max_channels=64))
    w = torch.cat([m.weight.flatten() for m in g.modules() if isinstance(m, torch.nn.ConvTranspose2d)])
    assert abs(w.mean().item()) < 2e-3 and 0.018 < w.std().item() < 0.022
    bn = torch.cat([m.weight for m in g.modules() if isinstance(m, torch.nn.BatchNorm2d)])
    assert abs(bn.mean().item() - 1.0) < 0.01


def test_bad_configs_are_rejected():
    with pytest.raises(ConfigError, match="image_size"):
        DCGANGeneratorConfig(image_size=48)
    with pytest.raises(ConfigError, match="upsample"):
        DCGANGeneratorConfig(upsample="pixelshuffle")


def test_latents_are_a_pure_function_of_the_seed():
    a, b, c = latent_vectors(5, 7, 1), latent_vectors(5, 7, 1), latent_vectors(5, 7, 2)
    assert a.shape == (5, 7) and a.dtype == np.float32
    assert np.array_equal(a, b) and not np.allclose(a, c)
    assert np.array_equal(latent_vectors(3, 7, 1), a[:3])  # a longer draw starts with the shorter one


def test_slerp_ends_and_norm():
    a, b = latent_vectors(4, 64, 0), latent_vectors(4, 64, 1)
    assert np.allclose(slerp(a, b, 0.0), a, atol=1e-5) and np.allclose(slerp(a, b, 1.0), b, atol=1e-5)
    mid = slerp(a, b, 0.5)
    lin = 0.5 * (a + b)
    # spherical paths keep the typical radius that straight lines lose in the middle
    assert np.all(np.linalg.norm(mid, axis=1) > np.linalg.norm(lin, axis=1))
    assert np.allclose(slerp(a, a, 0.3), a, atol=1e-5)  # parallel vectors do not divide by zero
