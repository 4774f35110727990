"""Sampler: determinism, save/load round trip, interpolation, clear errors."""

import numpy as np
import pytest
import torch

from icanvas.checkpoint import save_pretrained
from icanvas.config import DCGANGeneratorConfig, UNetConfig
from icanvas.errors import ConfigError, ICanvasError
from icanvas.models.dcgan import DCGANGenerator, latent_vectors
from icanvas.models.unet import UNetGenerator
from icanvas.pipelines.sampler import Sampler
from icanvas.sheets import tensor_to_uint8

CFG = DCGANGeneratorConfig(image_size=16, latent_dim=6, ngf=4, max_channels=8)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    torch.manual_seed(0)
    g = DCGANGenerator(CFG)
    with torch.no_grad():  # give batch norm non-trivial running statistics
        g.train()
        g(torch.randn(16, 6))
    folder = tmp_path_factory.mktemp("m") / "dots"
    save_pretrained(g.eval(), folder, method="dcgan", config=CFG, meta={"kinds": ["dots"]})
    return folder, g


def test_round_trip_matches_the_module(model_dir):
    folder, g = model_dir
    s = Sampler.from_pretrained(folder)
    assert s.kinds == ["dots"] and s.size == 16 and s.latent_dim == 6
    z = latent_vectors(3, 6, 9)
    with torch.no_grad():
        want = np.stack([tensor_to_uint8(x) for x in g(torch.from_numpy(z)).numpy()])
    assert np.array_equal(s.generate(z), want)


def test_same_seed_same_pictures(model_dir):
    s = Sampler.from_pretrained(model_dir[0])
    a = s.sample(5, seed=11)
    assert a.shape == (5, 16, 16, 3) and a.dtype == np.uint8
    assert np.array_equal(a, Sampler.from_pretrained(model_dir[0]).sample(5, seed=11))
    assert not np.array_equal(a, s.sample(5, seed=12))
    assert s().shape == (16, 16, 3)


def test_half_precision_folder_samples_close(model_dir, tmp_path):
    folder, g = model_dir
    save_pretrained(g, tmp_path / "half", method="dcgan", config=CFG, half=True)
    a = Sampler.from_pretrained(folder).sample(4, seed=1).astype(int)
    b = Sampler.from_pretrained(tmp_path / "half").sample(4, seed=1).astype(int)
    assert np.abs(a - b).mean() < 2.0


def test_interpolation_starts_and_ends_at_the_seeds(model_dir):
    s = Sampler.from_pretrained(model_dir[0])
    frames = s.interpolate(1, 2, 7)
    assert frames.shape == (7, 16, 16, 3)
    assert np.array_equal(frames[0], s.sample(1, 1)[0]) and np.array_equal(frames[-1], s.sample(1, 2)[0])


def test_clear_errors(model_dir, tmp_path):
    s = Sampler.from_pretrained(model_dir[0])
    with pytest.raises(ConfigError, match="1 to"):
        s.sample(0, seed=1)
    with pytest.raises(ConfigError, match="shape"):
        s.generate(np.zeros((2, 5), np.float32))
    unet = UNetConfig(image_size=16, ngf=2, max_channels=4)
    save_pretrained(UNetGenerator(unet), tmp_path / "sketch", method="pix2pix", config=unet)
    with pytest.raises(ICanvasError, match="it makes pictures from drawings.*dcgan models, which make pictures from nothing"):
        Sampler.from_pretrained(tmp_path / "sketch")
