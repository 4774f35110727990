"""dcgan: pictures from nothing, learned from a folder of photos.

Its config sections (the networks, the loss, EMA of the generator, differentiable augmentation,
the photos, the realism evaluation) and its registration; the trainer and recipe are in
:mod:`icanvas.training.dcgan`.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Literal

from icanvas.config import check, one_of
from icanvas.methods import register_method
from icanvas.methods.common import EMAConfig, OptimConfig, RunConfig

if TYPE_CHECKING:  # annotations only: the builders import torch when they run
    from torch import nn


@dataclasses.dataclass(frozen=True)
class DCGANGeneratorConfig:
    """DCGAN generator: latent vector (B, latent_dim) -> RGB picture (B, 3, S, S) in [-1, 1]."""

    image_size: int = 64  # side of the square output, px (power of two, 16..256)
    latent_dim: int = 100  # length of the random input vector z ~ N(0, I)
    ngf: int = 64  # channels of the last (full-resolution) block; each halving of the side doubles them
    max_channels: int = 512  # cap on channels of the low-resolution blocks
    upsample: str = "transpose"  # "transpose" (4x4 stride-2 deconv) or "resize" (nearest x2 + 3x3 conv, no checkerboard)
    norm: str = "batch"  # "batch" or "none"
    out_channels: int = 3  # RGB

    def __post_init__(self) -> None:
        size = self.image_size
        check(16 <= size <= 256 and size & (size - 1) == 0, "generator.image_size", "a power of two in 16..256")
        check(self.latent_dim >= 1, "generator.latent_dim", "must be >= 1")
        check(self.ngf >= 1 and self.max_channels >= self.ngf, "generator.ngf", "need 1 <= ngf <= max_channels")
        one_of(self.upsample, ("transpose", "resize"), "generator.upsample")
        one_of(self.norm, ("batch", "none"), "generator.norm")

@dataclasses.dataclass(frozen=True)
class DCGANDiscriminatorConfig:
    """DCGAN discriminator: picture (B, 3, S, S) -> one real/fake logit per picture (B,)."""

    ndf: int = 64  # channels of the first (full-resolution) layer; each halving of the side doubles them
    max_channels: int = 512  # cap on channels of the low-resolution layers
    norm: str = "batch"  # "batch" or "none" (spectral norm usually goes with "none")
    spectral_norm: bool = False  # wrap every convolution in spectral normalisation (Miyato et al. 2018)

    def __post_init__(self) -> None:
        check(self.ndf >= 1 and self.max_channels >= self.ndf, "discriminator.ndf", "need 1 <= ndf <= max_channels")
        one_of(self.norm, ("batch", "none"), "discriminator.norm")

@dataclasses.dataclass(frozen=True)
class DCGANLossConfig:
    gan: str = "vanilla"  # "vanilla" (non-saturating BCE), "hinge" or "lsgan"
    label_smoothing: float = 0.0  # one-sided: real targets become 1 - this (vanilla, lsgan); 0 = off

    def __post_init__(self) -> None:
        one_of(self.gan, ("vanilla", "lsgan", "hinge"), "loss.gan")
        check(0.0 <= self.label_smoothing < 0.5, "loss.label_smoothing", "must be in [0, 0.5)")
        check(self.gan != "hinge" or self.label_smoothing == 0.0, "loss.label_smoothing", "has no meaning for the hinge loss; use 0")

@dataclasses.dataclass(frozen=True)
class AugmentConfig:
    """Differentiable augmentation (Zhao et al. 2020) of real and generated pictures before D, for small datasets."""

    policy: tuple[str, ...] = ()  # any of "color", "translation", "cutout"; () = off
    translation: float = 0.125  # largest shift, fraction of the side
    cutout: float = 0.5  # side of the erased square, fraction of the side

    def __post_init__(self) -> None:
        for p in self.policy:
            one_of(p, ("color", "translation", "cutout"), "augment.policy")
        check(0.0 <= self.translation <= 0.5 and 0.0 <= self.cutout <= 1.0, "augment.translation", "translation in [0, 0.5], cutout in [0, 1]")

@dataclasses.dataclass(frozen=True)
class PhotoDataConfig:
    """Training photos for unconditional models: a photo folder or a prepared dataset (its photo halves)."""

    kind: str = ""  # what the photos show, e.g. "anime_face"; "" = the data folder's name (or the manifest's kind)
    flip: bool = True  # random horizontal flips
    holdout: float = 0.1  # share of a plain photo folder kept aside as real photos for realism; prepared data uses its val split
    max_images: int = 0  # use at most this many training photos; 0 = all
    terms: str = ""  # terms of use of the photos, written into the model card (prepared data records its own)

    def __post_init__(self) -> None:
        check(0.0 < self.holdout < 1.0, "data.holdout", "a fraction in (0, 1)")
        check(self.max_images >= 0, "data.max_images", "must be >= 0")

@dataclasses.dataclass(frozen=True)
class SamplerEvalConfig:
    num_images: int = 256  # pictures generated for each realism (SWD) evaluation
    seed: int = 1234  # latent seed of the evaluation pictures (the same every evaluation)

    def __post_init__(self) -> None:
        check(self.num_images >= 2, "eval.num_images", "must be >= 2")


def _build(config: DCGANGeneratorConfig) -> nn.Module:
    from icanvas.models.dcgan import DCGANGenerator

    return DCGANGenerator(config)


def _recipe() -> Any:
    from icanvas.training.dcgan import RECIPE

    return RECIPE


@register_method("dcgan", model_config=DCGANGeneratorConfig, build=_build, recipe=_recipe)
@dataclasses.dataclass(frozen=True)
class DCGANTrainConfig:
    """Everything a DCGAN training run needs; written to RUN_DIR/config.yaml first."""

    method: Literal["dcgan"] = "dcgan"
    generator: DCGANGeneratorConfig = DCGANGeneratorConfig()
    discriminator: DCGANDiscriminatorConfig = DCGANDiscriminatorConfig()
    loss: DCGANLossConfig = DCGANLossConfig()
    ema: EMAConfig = EMAConfig()
    augment: AugmentConfig = AugmentConfig()
    optim: OptimConfig = OptimConfig()  # presets set decay_start: 1.0 for a constant learning rate
    data: PhotoDataConfig = PhotoDataConfig()
    eval: SamplerEvalConfig = SamplerEvalConfig()
    run: RunConfig = RunConfig()
