"""PatchGAN discriminator: one real/fake score per overlapping image patch (one scale, or several)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
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

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Every block's activations (after each LeakyReLU), then the logits last."""
        out = []
        for layer in self.net:
            x = layer(x)
            if isinstance(layer, nn.LeakyReLU):
                out.append(x)
        return out + [x]


class MultiScaleDiscriminator(nn.Module):
    """``num_scales`` PatchGANs, each on the input shrunk by 2 once more (pix2pixHD): the coarse
    ones judge the whole object's shape and colour, the full-size one its texture."""

    def __init__(self, config: PatchGANConfig, in_channels: int) -> None:
        super().__init__()
        self.config = config
        self.scales = nn.ModuleList(PatchGANDiscriminator(config, in_channels) for _ in range(config.num_scales))

    def _inputs(self, x: torch.Tensor):
        for i, d in enumerate(self.scales):
            if i:
                x = F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)  # (B, C, S / 2**i, ...)
            yield d, x

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        return [d(xi) for d, xi in self._inputs(x)]

    def features(self, x: torch.Tensor) -> list[list[torch.Tensor]]:
        return [d.features(xi) for d, xi in self._inputs(x)]


def build_discriminator(config: PatchGANConfig, in_channels: int) -> nn.Module:
    """One PatchGAN (the state-dict layout of older runs) or a multi-scale set of them."""
    if config.num_scales == 1:
        return PatchGANDiscriminator(config, in_channels)
    return MultiScaleDiscriminator(config, in_channels)


def scale_features(d: nn.Module, x: torch.Tensor) -> list[list[torch.Tensor]]:
    """Per scale, the activations then the logits, for either discriminator."""
    return d.features(x) if isinstance(d, MultiScaleDiscriminator) else [d.features(x)]
