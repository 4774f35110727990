"""pix2pix: a U-Net turns a sketch (+ optional colour hints) into a picture, judged by a PatchGAN.

Its config sections (the networks, the sketchify augmentation, colour hints, paired data, the
loss) and its registration; the trainer and recipe are in :mod:`icanvas.training.pix2pix`.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Literal

from icanvas.config import check, one_of
from icanvas.methods import register_method
from icanvas.methods.common import EMAConfig, OptimConfig, PatchGANConfig, RunConfig

if TYPE_CHECKING:  # annotations only: the builders import torch when they run
    from torch import nn

# ----------------------------------------------------------------------------- models


@dataclasses.dataclass(frozen=True)
class UNetConfig:
    """U-Net generator: sketch (+ optional colour hints) -> RGB picture."""

    image_size: int = 256  # side of the square training image, px (power of two, >= 16)
    in_channels: int = 1  # sketch channels: 1 = grey lines on white
    hint_channels: int = 0  # colour-hint channels: 0 = no hints, 4 = RGB strokes + mask
    out_channels: int = 3  # RGB output in [-1, 1]
    ngf: int = 32  # channels of the first (highest-resolution) layer
    max_channels: int = 128  # cap on channels in deep layers (the reference uses 512)
    depth: int = 0  # number of down-sampling steps; 0 = log2(image_size), down to 1x1
    norm: str = "instance"  # "batch", "instance" or "none"
    dropout: float = 0.5  # dropout in the innermost decoder blocks, 0 = off
    dropout_layers: int = 3  # how many innermost decoder blocks get dropout
    upsample: str = "transpose"  # "transpose" (4x4 stride-2 deconv) or "resize" (nearest + 3x3 conv)
    num_classes: int = 0  # >0 makes the model class-conditional (one model for several kinds)
    class_film: bool = False  # class-conditional only: also scale and shift every decoder block's channels per kind (FiLM)

    def __post_init__(self) -> None:
        size = self.image_size
        check(size >= 16 and size & (size - 1) == 0, "generator.image_size", "must be a power of two >= 16")
        check(self.ngf >= 1 and self.max_channels >= self.ngf, "generator.ngf", "need 1 <= ngf <= max_channels")
        check(0 <= self.depth <= size.bit_length() - 1, "generator.depth", f"0..{size.bit_length() - 1}")
        check(self.hint_channels in (0, 4), "generator.hint_channels", "0 (no hints) or 4 (RGB + mask)")
        check(0.0 <= self.dropout < 1.0, "generator.dropout", "must be in [0, 1)")
        one_of(self.norm, ("batch", "instance", "none"), "generator.norm")
        one_of(self.upsample, ("transpose", "resize"), "generator.upsample")
        check(not self.class_film or self.num_classes > 0, "generator.class_film", "needs num_classes > 0")

    @property
    def levels(self) -> int:
        """Number of down-sampling steps actually used."""
        return self.depth or (self.image_size.bit_length() - 1)


# ----------------------------------------------------------------------------- data


@dataclasses.dataclass(frozen=True)
class SketchifyConfig:
    """Training-time augmentation that makes clean edge maps look hand-drawn.

    Each transform fires with its own probability; strengths are in pixels at 256 px and
    scale with the image size.
    """

    enabled: bool = True  # False switches every transform off (for ablations)
    thickness_p: float = 0.5  # probability of thickening or thinning strokes
    thickness_max: int = 1  # largest dilation radius, px
    drop_strokes_p: float = 0.5  # probability of removing some strokes
    drop_strokes_max: float = 0.10  # removed fraction of strokes, uniform in [0, max]
    warp_p: float = 0.5  # probability of a smooth random warp of the whole drawing
    warp_strength: float = 7.0  # largest displacement of the smooth warp, px
    wobble_p: float = 0.5  # probability of small high-frequency jitter along strokes
    wobble_strength: float = 1.5  # largest jitter displacement, px
    break_p: float = 0.3  # probability of breaking strokes into pieces
    break_max: float = 0.10  # fraction of ink erased as gaps, uniform in [0, max]
    threshold_p: float = 0.3  # probability of blur + random binarisation threshold
    simplify_p: float = 0.5  # probability of dropping short strokes and interior detail
    simplify_min_length: int = 12  # strokes shorter than this (px) are dropped when simplifying

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            if f.name.endswith("_p"):
                check(0.0 <= getattr(self, f.name) <= 1.0, f"sketchify.{f.name}", "a probability in [0, 1]")
        check(0.0 <= self.drop_strokes_max <= 1.0, "sketchify.drop_strokes_max", "a fraction in [0, 1]")
        check(0.0 <= self.break_max <= 1.0, "sketchify.break_max", "a fraction in [0, 1]")

@dataclasses.dataclass(frozen=True)
class HintConfig:
    """Colour hints sampled from the photo at training time (sparse strokes + mask)."""

    enabled: bool = False  # True adds 4 input channels to the generator
    # "photo": short strokes coloured like the photo beneath them;
    # "crayon": a few scribbles of one studio crayon inside the drawn object, whose colour the
    # photo's object is recoloured to (so any crayon, even a blue one on a cat, steers the picture)
    style: str = "photo"
    max_strokes: int = 8  # hint strokes (crayon: scribbles) per image, uniform in [1, max]
    stroke_width: int = 6  # px at 256 px (the studio's crayon is 9 px at 256)
    p_none: float = 0.3  # probability of an image with no hints at all
    natural_p: float = 0.3  # crayon only: share of hinted images whose crayon is the one nearest the object's own colour
    lightness: float = 0.8  # crayon only: share of the object's lightness gap to the crayon that recolouring closes (hue and chroma: all)
    # crayon only: what is recoloured. "drawing": the inside of the drawn outlines; "subject": only the part
    # of it that is the photo's subject (GrabCut, as in background removal), for photos whose outlines
    # enclose scenery too (a panda among bamboo); the scribbles then sit on the subject as well
    region: str = "drawing"

    def __post_init__(self) -> None:
        one_of(self.style, ("photo", "crayon"), "hints.style")
        one_of(self.region, ("drawing", "subject"), "hints.region")
        check(self.max_strokes >= 0, "hints.max_strokes", "must be >= 0")
        check(self.stroke_width >= 1, "hints.stroke_width", "must be >= 1 px")
        check(0.0 <= self.p_none <= 1.0, "hints.p_none", "a probability in [0, 1]")
        check(0.0 <= self.natural_p <= 1.0, "hints.natural_p", "a probability in [0, 1]")
        check(0.0 <= self.lightness <= 1.0, "hints.lightness", "a share in [0, 1]")

@dataclasses.dataclass(frozen=True)
class DataConfig:
    """How training pairs are loaded and jittered."""

    load_size: int = 0  # resize to this before a random crop to image_size; 0 = no jitter crop
    flip: bool = True  # random horizontal flips
    workers: int = 1  # threads that build a batch's examples (OpenCV releases the GIL); 1 = the loader thread alone
    kinds: tuple[str, ...] = ()  # class names for class-conditional training; () = all, unconditional
    # share of the square a user's drawing is framed to at inference (model meta "subject_fill");
    # 0 = the median span of the training drawings. Set it when what people draw is only part of
    # the training drawings (a face without the hair around it).
    subject_fill: float = 0.0

    def __post_init__(self) -> None:
        check(self.load_size >= 0, "data.load_size", "must be >= 0")
        check(self.workers >= 1, "data.workers", "must be >= 1")
        check(0.0 <= self.subject_fill <= 1.0, "data.subject_fill", "a share of the square in [0, 1]; 0 = measure it")


# ----------------------------------------------------------------------------- training


@dataclasses.dataclass(frozen=True)
class LossConfig:
    gan: str = "lsgan"  # "vanilla" (BCE), "lsgan" (least squares) or "hinge"
    lambda_l1: float = 100.0  # weight of the L1 reconstruction loss; 0 = pure GAN
    lambda_fm: float = 0.0  # weight of the feature-matching loss on D's layers (pix2pixHD); 0 = off

    def __post_init__(self) -> None:
        one_of(self.gan, ("vanilla", "lsgan", "hinge"), "loss.gan")
        check(self.lambda_l1 >= 0, "loss.lambda_l1", "must be >= 0")
        check(self.lambda_fm >= 0, "loss.lambda_fm", "must be >= 0")


def _build(config: UNetConfig) -> nn.Module:
    from icanvas.models.unet import UNetGenerator

    return UNetGenerator(config)


def _recipe() -> Any:
    from icanvas.training.pix2pix import RECIPE

    return RECIPE


@register_method("pix2pix", model_config=UNetConfig, build=_build, recipe=_recipe)
@dataclasses.dataclass(frozen=True)
class Pix2PixConfig:
    """Everything a pix2pix training run needs; written to RUN_DIR/config.yaml first."""

    method: Literal["pix2pix"] = "pix2pix"
    generator: UNetConfig = UNetConfig()
    discriminator: PatchGANConfig = PatchGANConfig()
    loss: LossConfig = LossConfig()
    optim: OptimConfig = OptimConfig()
    run: RunConfig = RunConfig()
    data: DataConfig = DataConfig()
    sketchify: SketchifyConfig = SketchifyConfig()
    hints: HintConfig = HintConfig()
    ema: EMAConfig = EMAConfig(decay=0.0)  # off unless a preset sets it; when on, the average is sampled and saved

    def __post_init__(self) -> None:
        want = 4 if self.hints.enabled else 0
        check(
            self.generator.hint_channels == want,
            "generator.hint_channels",
            f"must be {want} when hints.enabled is {self.hints.enabled}",
        )
        classes = len(self.data.kinds)
        check(
            self.generator.num_classes == classes,
            "generator.num_classes",
            f"must equal the number of data.kinds ({classes})",
        )
        check(not self.discriminator.kind_input or classes > 0, "discriminator.kind_input", "needs data.kinds (a class-conditional run)")
