"""PatchGAN discriminator: one real/fake score per overlapping image patch."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import spectral_norm

from icanvas.methods.common import PatchGANConfig
from icanvas.models.layers import init_normal, make_norm


class PatchGANDiscriminator(nn.Module):
    """Maps (B, in_channels, S, S) to patch logits (B, 1, S', S')."""

    def __init__(self, config: PatchGANConfig, in_channels: int) -> None:
        super().__init__()
        self.config = config
        sn = spectral_norm if config.spectral_norm else (lambda m: m)
        layers: list[nn.Module] = [sn(nn.Conv2d(in_channels, config.ndf, 4, 2, 1)), nn.LeakyReLU(0.2)]
        ch = config.ndf
        for i in range(1, config.n_layers + 1):
            nxt = config.ndf * min(2**i, 8)
            stride = 2 if i < config.n_layers else 1
            layers += [
                sn(nn.Conv2d(ch, nxt, 4, stride, 1, bias=config.norm == "none")),
                make_norm(config.norm, nxt),
                nn.LeakyReLU(0.2),
            ]
            ch = nxt
        layers.append(sn(nn.Conv2d(ch, 1, 4, 1, 1)))
        self.net = nn.Sequential(*layers)
        init_normal(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)
