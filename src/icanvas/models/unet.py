"""U-Net generator (pix2pix family), sized by :class:`~icanvas.methods.pix2pix.UNetConfig`.

Layout for ``levels`` = L: encoder convs (4x4, stride 2) halve the resolution L times, the
decoder mirrors them with skip connections. Channels grow as ``ngf * 2**i`` capped at
``max_channels``; a small cap keeps the expensive deep layers narrow, which is where the
reference configuration (cap 512) spends most of its parameters.

Class-conditional models add a learned embedding of the kind at the 1x1 centre; with
``class_film`` every decoder block's output is also scaled and shifted per channel by the kind
(FiLM), because the skip connections let the decoder draw mostly from the sketch and ignore
the centre: one drawing then becomes a brown shoe, a black-and-white panda or a red car.
"""

from __future__ import annotations

import torch
from torch import nn

from icanvas.methods.pix2pix import UNetConfig
from icanvas.models.layers import init_normal, make_norm, upsample_conv as _up


class UNetGenerator(nn.Module):
    """Maps (B, in+hint, S, S) in [-1, 1] to (B, out, S, S) in [-1, 1]."""

    def __init__(self, config: UNetConfig) -> None:
        super().__init__()
        self.config = config
        c, L = config, config.levels
        width = [min(c.ngf * 2**i, c.max_channels) for i in range(L)]  # encoder output channels
        cin = c.in_channels + c.hint_channels
        self.down = nn.ModuleList()
        for i in range(L):
            layers: list[nn.Module] = [] if i == 0 else [nn.LeakyReLU(0.2)]
            # the bottom (1x1 when L = log2 S) and the first layer have no normalisation
            has_norm = 0 < i < L - 1
            layers.append(nn.Conv2d(cin if i == 0 else width[i - 1], width[i], 4, 2, 1, bias=not has_norm or c.norm != "batch"))
            if has_norm:
                layers.append(make_norm(c.norm, width[i]))
            self.down.append(nn.Sequential(*layers))
        self.class_embed = nn.Embedding(c.num_classes, width[-1]) if c.num_classes > 0 else None
        self.up = nn.ModuleList()
        for i in reversed(range(L)):
            src = width[i] if i == L - 1 else 2 * width[i]  # skip concat doubles the input
            if i == 0:
                self.up.append(nn.Sequential(nn.ReLU(), _up(src, c.out_channels, c.upsample), nn.Tanh()))
                continue
            layers = [nn.ReLU(), _up(src, width[i - 1], c.upsample), make_norm(c.norm, width[i - 1])]
            if c.dropout > 0 and 1 <= L - 1 - i <= c.dropout_layers:
                layers.append(nn.Dropout(c.dropout))
            self.up.append(nn.Sequential(*layers))
        init_normal(self)
        # per kind and decoder block: (scale - 1, shift) for its channels, zero at start (identity)
        self.film = nn.ModuleList(nn.Embedding(c.num_classes, 2 * width[i - 1]) for i in reversed(range(1, L))) if c.class_film else None
        for emb in self.film or []:
            nn.init.zeros_(emb.weight)

    def forward(self, x: torch.Tensor, label: torch.Tensor | None = None) -> torch.Tensor:
        skips = []
        for block in self.down:
            x = block(x)  # (B, width[i], S / 2**(i+1), S / 2**(i+1))
            skips.append(x)
        if self.class_embed is not None:
            if label is None:
                raise ValueError("This model is class-conditional: pass the kind label.")
            x = x + self.class_embed(label)[:, :, None, None]
            skips[-1] = x
        x = self._film(self.up[0](x), 0, label)
        for j, (block, skip) in enumerate(zip(self.up[1:], reversed(skips[:-1])), start=1):
            x = self._film(block(torch.cat([x, skip], dim=1)), j, label)  # (B, 2 * width, ...) -> upsampled
        return x

    def _film(self, x: torch.Tensor, block: int, label: torch.Tensor | None) -> torch.Tensor:
        if self.film is None or block >= len(self.film):  # the last block draws the picture: no FiLM
            return x
        scale, shift = self.film[block](label)[:, :, None, None].chunk(2, dim=1)  # (B, C, 1, 1) each
        return x * (1 + scale) + shift


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
