"""Exponential moving average of a generator's weights, shared by the GAN trainers."""

from __future__ import annotations

import torch
from torch import nn

from icanvas.methods.common import EMAConfig


@torch.no_grad()
def update_ema(average: nn.Module, model: nn.Module, step: int, cfg: EMAConfig, copy_buffers: bool = False) -> None:
    """Move ``average`` towards ``model`` after training step ``step`` (1 = the first).

    During the first ``cfg.start`` steps the average just copies the model. ``copy_buffers``
    also copies the model's buffers (running statistics) as they are.
    """
    beta = 0.0 if step <= cfg.start else cfg.decay
    for pe, p in zip(average.parameters(), model.parameters()):
        pe.lerp_(p, 1.0 - beta)  # pe = beta * pe + (1 - beta) * p
    if copy_buffers:
        for be, b in zip(average.buffers(), model.buffers()):
            be.copy_(b)
