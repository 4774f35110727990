"""Unpaired image-to-image translator (CUT family): photo -> picture in a learned style.

A ResNet-style encoder / residual body / decoder, fully convolutional, so it is trained on
random crops and runs on whole pictures at the same scale. ``encode`` returns the encoder's
intermediate features for the patch-wise contrastive loss (Park et al. 2020, "Contrastive
Learning for Unpaired Image-to-Image Translation"); :class:`PatchSampler` projects them.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from icanvas.methods.translation import TranslatorConfig
from icanvas.models.layers import init_normal, make_norm, upsample_conv


class ResidualBlock(nn.Module):
    """x + conv(norm(relu(conv(x)))): two 3x3 convolutions at constant width, reflect padding."""

    def __init__(self, ch: int, norm: str) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(ch, ch, 3, bias=norm == "none"), make_norm(norm, ch), nn.ReLU(inplace=True),
            nn.ReflectionPad2d(1), nn.Conv2d(ch, ch, 3, bias=norm == "none"), make_norm(norm, ch),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class TranslatorGenerator(nn.Module):
    """Maps (B, 3, H, W) in [-1, 1] to (B, 3, H, W) in [-1, 1]; H and W multiples of 2**n_down."""

    fully_convolutional = True  # runs on any multiple of 2**n_down (export keeps height and width dynamic)

    def __init__(self, config: TranslatorConfig) -> None:
        super().__init__()
        self.config = config
        c, norm = config, config.norm
        width = [min(c.ngf * 2**i, c.max_channels) for i in range(c.n_down + 1)]
        enc: list[nn.Module] = [nn.Sequential(nn.ReflectionPad2d(3), nn.Conv2d(3, width[0], 7, bias=norm == "none"),
                                              make_norm(norm, width[0]), nn.ReLU(inplace=True))]
        for i in range(c.n_down):  # each halves the side
            enc.append(nn.Sequential(nn.Conv2d(width[i], width[i + 1], 3, stride=2, padding=1, bias=norm == "none"),
                                     make_norm(norm, width[i + 1]), nn.ReLU(inplace=True)))
        enc += [ResidualBlock(width[-1], norm) for _ in range(c.n_blocks)]
        self.encoder = nn.ModuleList(enc)  # layer 0 = stem, 1..n_down = downsampling, then the residual body
        dec: list[nn.Module] = []
        for i in range(c.n_down, 0, -1):  # each doubles the side
            dec.append(nn.Sequential(upsample_conv(width[i], width[i - 1], c.upsample, bias=norm == "none"),
                                     make_norm(norm, width[i - 1]), nn.ReLU(inplace=True)))
        dec += [nn.ReflectionPad2d(3), nn.Conv2d(width[0], 3, 7), nn.Tanh()]
        self.decoder = nn.Sequential(*dec)
        init_normal(self)

    def encode(self, x: torch.Tensor, layers: tuple[int, ...]) -> list[torch.Tensor]:
        """Features after the encoder layers ``layers`` (0 = the input itself, k = after encoder[k-1])."""
        feats, h = [], x
        if 0 in layers:
            feats.append(h)
        for k, layer in enumerate(self.encoder, start=1):
            h = layer(h)
            if k in layers:
                feats.append(h)
            if k >= max(layers):
                break
        return feats

    def forward(self, x: torch.Tensor, label: torch.Tensor | None = None) -> torch.Tensor:
        """``label`` is ignored (one style per model); it keeps the call shape of the other generators."""
        h = x
        for layer in self.encoder:
            h = layer(h)
        return self.decoder(h)

    def encoder_layers(self) -> int:
        return len(self.encoder)


class PatchSampler(nn.Module):
    """Samples feature vectors at the same random locations of two feature stacks and projects them.

    One 2-layer MLP per encoder layer (lazily sized to the layer's channels) maps a feature
    vector to ``dim`` numbers, L2-normalised: the embeddings the PatchNCE loss compares.
    """

    def __init__(self, channels: list[int], dim: int) -> None:
        super().__init__()
        self.mlps = nn.ModuleList(nn.Sequential(nn.Linear(ch, dim), nn.ReLU(inplace=True), nn.Linear(dim, dim)) for ch in channels)
        init_normal(self)

    def forward(self, feats: list[torch.Tensor], num_patches: int, ids: list[torch.Tensor] | None = None
                ) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        out, chosen = [], []
        for k, (f, mlp) in enumerate(zip(feats, self.mlps)):
            b, ch, h, w = f.shape
            flat = f.permute(0, 2, 3, 1).reshape(b, h * w, ch)  # (B, HW, C)
            if ids is None:
                idx = torch.randperm(h * w, device=f.device)[: min(num_patches, h * w)]
            else:
                idx = ids[k]
            emb = F.normalize(mlp(flat[:, idx, :]), dim=-1)  # (B, P, dim)
            out.append(emb)
            chosen.append(idx)
        return out, chosen
