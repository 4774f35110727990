"""The ``translation`` method's configuration: unpaired photo -> style translation (CUT family).

Trained on two unpaired folders (``trainA`` photos, ``trainB`` pictures in the target style),
e.g. selfies and anime faces; see :mod:`icanvas.training.translation`.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Literal

from icanvas.config import _check, _one_of
from icanvas.methods import register_method
from icanvas.methods.common import OptimConfig, PatchGANConfig, RunConfig
from icanvas.methods.dcgan import AugmentConfig

if TYPE_CHECKING:  # annotations only: the builder imports torch when it runs
    from torch import nn


@dataclasses.dataclass(frozen=True)
class TranslatorConfig:
    """Translator generator: (B, 3, H, W) photo in [-1, 1] -> (B, 3, H, W) picture in [-1, 1]."""

    image_size: int = 256  # side of the square picture it is meant to run on, px (trained on crops of it)
    ngf: int = 16  # channels of the first layer; doubled at each downsampling
    max_channels: int = 128  # cap on the channels of any layer
    n_down: int = 3  # stride-2 downsamplings (the body runs at image_size / 2**n_down)
    n_blocks: int = 6  # residual blocks in the body
    norm: str = "instance"  # "instance", "batch" or "none"
    upsample: str = "resize"  # "resize" (nearest x2 + 3x3 conv, no checkerboard) or "transpose"

    def __post_init__(self) -> None:
        _check(self.image_size >= 16 and self.image_size % 2**self.n_down == 0, "generator.image_size",
               "must be >= 16 and a multiple of 2**n_down")
        _check(self.ngf >= 1 and self.max_channels >= self.ngf, "generator.ngf", "must be >= 1 and <= max_channels")
        _check(1 <= self.n_down <= 5 and self.n_blocks >= 0, "generator.n_down", "n_down must be 1..5, n_blocks >= 0")
        _one_of(self.norm, ("instance", "batch", "none"), "generator.norm")
        _one_of(self.upsample, ("resize", "transpose"), "generator.upsample")


@dataclasses.dataclass(frozen=True)
class TranslationLossConfig:
    gan: str = "lsgan"  # "vanilla" (BCE), "lsgan" (least squares) or "hinge"
    lambda_gan: float = 1.0  # weight of the adversarial loss
    lambda_nce: float = 1.0  # weight of the PatchNCE loss (input patch <-> output patch at the same place)
    nce_identity: bool = True  # also apply PatchNCE to (style picture, G(style picture)): keeps G near identity on the target style
    nce_layers: tuple[int, ...] = (0, 2, 3, 4, 6)  # encoder layers whose features PatchNCE compares (0 = the input)
    num_patches: int = 128  # locations sampled per layer and image
    nce_dim: int = 128  # size of the projected patch embeddings
    temperature: float = 0.07  # softmax temperature of PatchNCE

    def __post_init__(self) -> None:
        _one_of(self.gan, ("vanilla", "lsgan", "hinge"), "loss.gan")
        _check(len(self.nce_layers) >= 1 and min(self.nce_layers) >= 0, "loss.nce_layers", "needs at least one layer >= 0")
        _check(self.num_patches >= 2 and self.temperature > 0, "loss.num_patches", "must be >= 2 (and temperature > 0)")


@dataclasses.dataclass(frozen=True)
class UnpairedDataConfig:
    domain_a: str = "trainA"  # subfolder of --data with the photos (source domain); an absolute path is used as it is
    domain_b: str = "trainB"  # subfolder of --data with pictures in the target style; an absolute path is used as it is
    test_a: str = "testA"  # held-out photos for evaluation ("" = hold out a share of domain_a)
    test_b: str = "testB"  # held-out style pictures, the realism reference ("" = hold out a share of domain_b)
    crop: int = 128  # side of the random training crops, px (the model is fully convolutional)
    scale_min: float = 0.8  # random zoom before cropping: the picture is resized to [scale_min, scale_max] x image_size
    scale_max: float = 1.15  # (values > 1 zoom in)
    flip: bool = True  # random horizontal flips
    tone_jitter: float = 0.5  # probability of a random skin-tone / lighting change of a photo (brightness, warmth, gamma, greyscale)
    max_images: int = 0  # use at most this many images per domain; 0 = all

    def __post_init__(self) -> None:
        _check(self.crop >= 16, "data.crop", "must be >= 16")
        _check(0 < self.scale_min <= self.scale_max, "data.scale_min", "needs 0 < scale_min <= scale_max")
        _check(0 <= self.tone_jitter <= 1, "data.tone_jitter", "is a probability in [0, 1]")


@dataclasses.dataclass(frozen=True)
class FinetuneConfig:
    """Starting from a trained style model instead of random weights (few-shot character learning)."""

    init_generator: str = ""  # model folder whose generator starts the run ("" = random initialisation)
    freeze_layers: int = 0  # the first this many encoder layers keep their weights (0 = train everything)


@dataclasses.dataclass(frozen=True)
class TranslationEvalConfig:
    num_images: int = 100  # held-out photos translated for the realism evaluation
    seed: int = 1234  # seeds the evaluation's random patch sampling


def _build(config: TranslatorConfig) -> nn.Module:
    from icanvas.models.translator import TranslatorGenerator

    return TranslatorGenerator(config)


def _recipe() -> Any:
    from icanvas.training.translation import RECIPE

    return RECIPE


@register_method("translation", model_config=TranslatorConfig, build=_build, recipe=_recipe)
@dataclasses.dataclass(frozen=True)
class TranslationTrainConfig:
    """Everything an unpaired translation run needs; written to RUN_DIR/config.yaml first."""

    method: Literal["translation"] = "translation"
    generator: TranslatorConfig = TranslatorConfig()
    discriminator: PatchGANConfig = PatchGANConfig(ndf=32, n_layers=3, norm="instance")
    loss: TranslationLossConfig = TranslationLossConfig()
    optim: OptimConfig = OptimConfig()
    data: UnpairedDataConfig = UnpairedDataConfig()
    augment: AugmentConfig = AugmentConfig()  # differentiable augmentation before D ("translation", "cutout", "color"); () = off
    finetune: FinetuneConfig = FinetuneConfig()
    eval: TranslationEvalConfig = TranslationEvalConfig()
    run: RunConfig = RunConfig()

    def __post_init__(self) -> None:
        layers = self.generator.n_down + self.generator.n_blocks + 1
        _check(max(self.loss.nce_layers) <= layers, "loss.nce_layers", f"the generator has encoder layers 0..{layers}")
        _check(self.data.crop % 2**self.generator.n_down == 0 and self.data.crop <= self.generator.image_size,
               "data.crop", "must be a multiple of 2**generator.n_down and <= generator.image_size")
