"""GAN objectives, registered by the name used in ``loss.gan``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class GanLoss:
    d: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # (real logits, fake logits) -> D loss
    g: Callable[[torch.Tensor], torch.Tensor]  # fake logits -> G loss


GAN_LOSSES: dict[str, GanLoss] = {}


def register_gan_loss(name: str):
    def wrap(make: Callable[[], GanLoss]) -> Callable[[], GanLoss]:
        GAN_LOSSES[name] = make()
        return make

    return wrap


def _bce(x: torch.Tensor, target: float) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(x, torch.full_like(x, target))


@register_gan_loss("vanilla")
def _vanilla() -> GanLoss:
    """Original (non-saturating) GAN loss with binary cross-entropy; D loss halved as in pix2pix."""
    return GanLoss(d=lambda r, f: 0.5 * (_bce(r, 1.0) + _bce(f, 0.0)), g=lambda f: _bce(f, 1.0))


@register_gan_loss("lsgan")
def _lsgan() -> GanLoss:
    """Least-squares GAN (Mao et al. 2017)."""
    return GanLoss(
        d=lambda r, f: 0.5 * (F.mse_loss(r, torch.ones_like(r)) + F.mse_loss(f, torch.zeros_like(f))),
        g=lambda f: F.mse_loss(f, torch.ones_like(f)),
    )


@register_gan_loss("hinge")
def _hinge() -> GanLoss:
    """Hinge loss (Lim & Ye 2017; used by SAGAN and BigGAN)."""
    return GanLoss(d=lambda r, f: 0.5 * (F.relu(1 - r).mean() + F.relu(1 + f).mean()), g=lambda f: -f.mean())


def smoothed(name: str, real_target: float) -> GanLoss:
    """The loss ``name`` with real targets ``real_target`` (< 1: one-sided label smoothing) for D.

    Only the discriminator's targets move; the generator still aims at 1. Defined for
    "vanilla" and "lsgan"; other losses (and a target of 1) come back unchanged.
    """
    base = GAN_LOSSES[name]
    if real_target == 1.0 or name not in ("vanilla", "lsgan"):
        return base
    if name == "vanilla":
        return GanLoss(d=lambda r, f: 0.5 * (_bce(r, real_target) + _bce(f, 0.0)), g=base.g)
    return GanLoss(d=lambda r, f: 0.5 * (F.mse_loss(r, torch.full_like(r, real_target)) + F.mse_loss(f, torch.zeros_like(f))), g=base.g)
