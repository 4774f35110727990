"""Differentiable augmentation (Zhao et al. 2020): the same random colour, shift and cutout
transforms are applied to real and generated pictures right before the discriminator, so a
small dataset is harder to memorise while the generator still gets gradients through them.

Every transform is per picture, uses the global torch RNG (so ``--resume`` repeats it exactly)
and works on (B, C, H, W) tensors in [-1, 1].
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

from icanvas.methods.dcgan import AugmentConfig


def _rand(x: torch.Tensor, *shape: int) -> torch.Tensor:
    return torch.rand(x.shape[0], *shape, device=x.device, dtype=x.dtype)


def color(x: torch.Tensor, cfg: AugmentConfig) -> torch.Tensor:
    """Random brightness (+-0.5), saturation (x0..2) and contrast (x0.5..1.5) per picture."""
    x = x + (_rand(x, 1, 1, 1) - 0.5)
    grey = x.mean(dim=1, keepdim=True)
    x = (x - grey) * (_rand(x, 1, 1, 1) * 2) + grey
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (_rand(x, 1, 1, 1) + 0.5) + mean


def translation(x: torch.Tensor, cfg: AugmentConfig) -> torch.Tensor:
    """Shift each picture by up to ``cfg.translation`` of its side, filling with zeros (mid grey)."""
    b, _, h, w = x.shape
    shift = (_rand(x, 2) * 2 - 1) * cfg.translation * 2  # (B, 2) in grid units ([-1, 1] spans the side)
    theta = torch.zeros(b, 2, 3, device=x.device, dtype=x.dtype)
    theta[:, 0, 0] = theta[:, 1, 1] = 1.0
    theta[:, :, 2] = shift
    grid = F.affine_grid(theta, [b, 1, h, w], align_corners=False)
    return F.grid_sample(x, grid, mode="nearest", padding_mode="zeros", align_corners=False)


def cutout(x: torch.Tensor, cfg: AugmentConfig) -> torch.Tensor:
    """Zero one square of side ``cfg.cutout`` x side at a random place in each picture."""
    b, _, h, w = x.shape
    ch, cw = max(1, int(h * cfg.cutout + 0.5)), max(1, int(w * cfg.cutout + 0.5))
    cy = (_rand(x) * (h + 1 - ch)).long()[:, None]  # (B, 1) top edge
    cx = (_rand(x) * (w + 1 - cw)).long()[:, None]
    ys = torch.arange(h, device=x.device)[None]  # (1, H)
    xs = torch.arange(w, device=x.device)[None]
    rows = (ys >= cy) & (ys < cy + ch)  # (B, H)
    cols = (xs >= cx) & (xs < cx + cw)  # (B, W)
    keep = ~(rows[:, :, None] & cols[:, None, :])  # (B, H, W)
    return x * keep[:, None].to(x.dtype)


TRANSFORMS: dict[str, Callable[[torch.Tensor, AugmentConfig], torch.Tensor]] = {
    "color": color, "translation": translation, "cutout": cutout,
}


def diff_augment(x: torch.Tensor, cfg: AugmentConfig) -> torch.Tensor:
    """Apply the transforms of ``cfg.policy`` in order; no policy returns ``x`` itself."""
    for name in cfg.policy:
        x = TRANSFORMS[name](x, cfg)
    return x
