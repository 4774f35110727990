"""Sketch recognizer: a small VGG-style CNN that names what a doodle shows.

Stages of ``convs_per_stage`` 3x3 convolutions (no bias) + norm + ReLU; every stage but the
last ends with a 2x2 max-pool. Global average pooling, dropout and one linear layer give the
class logits. With the default config it has about 0.16 M parameters (0.33 MB in fp16).
"""

from __future__ import annotations

import torch
from torch import nn

from icanvas.methods.recognizer import RecognizerConfig


def _norm(cfg: RecognizerConfig, channels: int) -> nn.Module:
    if cfg.norm == "group":
        return nn.GroupNorm(cfg.groups, channels)
    return nn.BatchNorm2d(channels)


class SketchClassifier(nn.Module):
    """(B, 1, S, S) float ink in [0, 1] (0 = paper) -> (B, num_classes) logits."""

    def __init__(self, cfg: RecognizerConfig) -> None:
        super().__init__()
        self.cfg = cfg
        layers: list[nn.Module] = []
        c_in = 1
        for i, c_out in enumerate(cfg.channels):
            for _ in range(cfg.convs_per_stage):
                layers += [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), _norm(cfg, c_out), nn.ReLU(inplace=True)]
                c_in = c_out
            if i < len(cfg.channels) - 1:
                layers.append(nn.MaxPool2d(2))  # halves the side (floor for odd sides)
        self.features = nn.Sequential(*layers)
        self.dropout = nn.Dropout(cfg.dropout)
        self.head = nn.Linear(c_in, cfg.num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.features(x)  # (B, C, S / 2**(stages-1), same)
        h = h.mean(dim=(2, 3))  # (B, C) global average pool
        return self.head(self.dropout(h))  # (B, num_classes)
