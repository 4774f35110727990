"""DCGAN generator and discriminator (Radford et al. 2016), sized by their configs.

The generator turns a latent vector into a 4x4 feature map with one 4x4 deconvolution, then
doubles the side until ``image_size``; channels halve as the side doubles (``ngf`` at full
resolution, capped at ``max_channels``). The discriminator mirrors it with stride-2
convolutions down to 4x4 and one 4x4 convolution to a single logit. Latent vectors come from
:func:`latent_vectors`, a NumPy stream, so a seed gives the same pictures on every machine.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn.utils import spectral_norm

from icanvas.methods.dcgan import DCGANDiscriminatorConfig, DCGANGeneratorConfig
from icanvas.models.layers import init_normal, upsample_conv


def _widths(base: int, cap: int, blocks: int) -> list[int]:
    """Channels per resolution from 4x4 (index 0) to full size (index blocks): base * 2**k, capped."""
    return [min(base * 2 ** (blocks - i), cap) for i in range(blocks + 1)]


class DCGANGenerator(nn.Module):
    """Maps (B, latent_dim) to (B, out_channels, S, S) in [-1, 1]."""

    def __init__(self, config: DCGANGeneratorConfig) -> None:
        super().__init__()
        self.config = config
        c = config
        blocks = c.image_size.bit_length() - 1 - 2  # doublings from 4x4 to S x S
        width = _widths(c.ngf, c.max_channels, blocks - 1) + [c.out_channels]  # last entry: the picture
        bn = c.norm == "batch"
        self.stem = nn.Sequential(  # (B, Z, 1, 1) -> (B, width[0], 4, 4)
            nn.ConvTranspose2d(c.latent_dim, width[0], 4, 1, 0, bias=not bn),
            nn.BatchNorm2d(width[0]) if bn else nn.Identity(),
            nn.ReLU(),
        )
        layers: list[nn.Module] = []
        for i in range(blocks):
            last = i == blocks - 1
            layers.append(upsample_conv(width[i], width[i + 1], c.upsample, bias=last or not bn))
            layers += [nn.Tanh()] if last else [nn.BatchNorm2d(width[i + 1]) if bn else nn.Identity(), nn.ReLU()]
        self.body = nn.Sequential(*layers)  # (B, width[0], 4, 4) -> (B, 3, S, S)
        init_normal(self)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.body(self.stem(z[:, :, None, None]))


class DCGANDiscriminator(nn.Module):
    """Maps (B, 3, S, S) in [-1, 1] to (B,) real/fake logits."""

    def __init__(self, config: DCGANDiscriminatorConfig, image_size: int, in_channels: int = 3) -> None:
        super().__init__()
        self.config = config
        c = config
        sn = spectral_norm if c.spectral_norm else (lambda m: m)
        blocks = image_size.bit_length() - 1 - 2  # halvings from S x S to 4x4
        width = list(reversed(_widths(c.ndf, c.max_channels, blocks - 1)))  # full size first
        layers: list[nn.Module] = [sn(nn.Conv2d(in_channels, width[0], 4, 2, 1)), nn.LeakyReLU(0.2)]  # no norm on the input layer
        for i in range(1, blocks):
            bn = c.norm == "batch"
            layers += [sn(nn.Conv2d(width[i - 1], width[i], 4, 2, 1, bias=not bn)),
                       nn.BatchNorm2d(width[i]) if bn else nn.Identity(), nn.LeakyReLU(0.2)]
        layers.append(sn(nn.Conv2d(width[-1], 1, 4, 1, 0)))  # (B, C, 4, 4) -> (B, 1, 1, 1)
        self.net = nn.Sequential(*layers)
        init_normal(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).flatten()


def latent_vectors(count: int, dim: int, seed: int) -> np.ndarray:
    """(count, dim) float32 standard-normal latents; the same seed gives the same vectors everywhere."""
    return np.random.default_rng(seed).standard_normal((count, dim)).astype(np.float32)


def slerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """Spherical interpolation between latent vectors (rows), which keeps their norm typical of N(0, I)."""
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    cos = np.sum(a64 * b64, -1, keepdims=True) / (np.linalg.norm(a64, axis=-1, keepdims=True) * np.linalg.norm(b64, axis=-1, keepdims=True) + 1e-12)
    omega = np.arccos(np.clip(cos, -1.0, 1.0))
    so = np.sin(omega)
    near = so < 1e-6  # (almost) parallel: plain linear interpolation
    wa = np.where(near, 1.0 - t, np.sin((1.0 - t) * omega) / np.where(near, 1.0, so))
    wb = np.where(near, t, np.sin(t * omega) / np.where(near, 1.0, so))
    return (wa * a64 + wb * b64).astype(np.float32)
