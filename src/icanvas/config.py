"""Configuration as frozen dataclasses, loaded from YAML presets with ``--set`` overrides.

One dataclass per component. A model's own config (e.g. :class:`UNetConfig`) is saved as
``config.json`` next to its weights, so loading a model never needs the command line that
trained it. Unknown keys and bad values raise :class:`~icanvas.errors.ConfigError` naming
the key and what is allowed.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any, Literal

import yaml

from icanvas.errors import ConfigError

FORMAT_VERSION = 1  # version of config.json / model folder layout


def _check(cond: bool, key: str, msg: str) -> None:
    if not cond:
        raise ConfigError(f"Bad value for '{key}': {msg}.", "Fix the preset or the --set override.")


def _one_of(value: str, allowed: tuple[str, ...], key: str) -> None:
    _check(value in allowed, key, f"{value!r} is not one of {', '.join(allowed)}")


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
        _check(size >= 16 and size & (size - 1) == 0, "generator.image_size", "must be a power of two >= 16")
        _check(self.ngf >= 1 and self.max_channels >= self.ngf, "generator.ngf", "need 1 <= ngf <= max_channels")
        _check(0 <= self.depth <= size.bit_length() - 1, "generator.depth", f"0..{size.bit_length() - 1}")
        _check(self.hint_channels in (0, 4), "generator.hint_channels", "0 (no hints) or 4 (RGB + mask)")
        _check(0.0 <= self.dropout < 1.0, "generator.dropout", "must be in [0, 1)")
        _one_of(self.norm, ("batch", "instance", "none"), "generator.norm")
        _one_of(self.upsample, ("transpose", "resize"), "generator.upsample")
        _check(not self.class_film or self.num_classes > 0, "generator.class_film", "needs num_classes > 0")

    @property
    def levels(self) -> int:
        """Number of down-sampling steps actually used."""
        return self.depth or (self.image_size.bit_length() - 1)


@dataclasses.dataclass(frozen=True)
class PatchGANConfig:
    """PatchGAN discriminator: judges overlapping patches of (sketch, picture) pairs."""

    ndf: int = 64  # channels of the first layer
    n_layers: int = 3  # stride-2 layers; 3 gives 70x70 receptive fields
    norm: str = "instance"  # "batch", "instance" or "none"
    spectral_norm: bool = False  # wrap convolutions in spectral normalisation
    kind_input: bool = False  # class-conditional runs: D also sees the kind as one-hot planes, so a brown panda looks fake

    def __post_init__(self) -> None:
        _check(self.ndf >= 1, "discriminator.ndf", "must be >= 1")
        _check(1 <= self.n_layers <= 6, "discriminator.n_layers", "must be in 1..6")
        _one_of(self.norm, ("batch", "instance", "none"), "discriminator.norm")


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
                _check(0.0 <= getattr(self, f.name) <= 1.0, f"sketchify.{f.name}", "a probability in [0, 1]")
        _check(0.0 <= self.drop_strokes_max <= 1.0, "sketchify.drop_strokes_max", "a fraction in [0, 1]")
        _check(0.0 <= self.break_max <= 1.0, "sketchify.break_max", "a fraction in [0, 1]")


@dataclasses.dataclass(frozen=True)
class HintConfig:
    """Colour hints sampled from the photo at training time (sparse strokes + mask)."""

    enabled: bool = False  # True adds 4 input channels to the generator
    max_strokes: int = 8  # hint strokes per image, uniform in [0, max]
    stroke_width: int = 6  # px at 256 px
    p_none: float = 0.3  # probability of an image with no hints at all

    def __post_init__(self) -> None:
        _check(self.max_strokes >= 0, "hints.max_strokes", "must be >= 0")
        _check(0.0 <= self.p_none <= 1.0, "hints.p_none", "a probability in [0, 1]")


@dataclasses.dataclass(frozen=True)
class DataConfig:
    """How training pairs are loaded and jittered."""

    load_size: int = 0  # resize to this before a random crop to image_size; 0 = no jitter crop
    flip: bool = True  # random horizontal flips
    kinds: tuple[str, ...] = ()  # class names for class-conditional training; () = all, unconditional
    # share of the square a user's drawing is framed to at inference (model meta "subject_fill");
    # 0 = the median span of the training drawings. Set it when what people draw is only part of
    # the training drawings (a face without the hair around it).
    subject_fill: float = 0.0

    def __post_init__(self) -> None:
        _check(self.load_size >= 0, "data.load_size", "must be >= 0")
        _check(0.0 <= self.subject_fill <= 1.0, "data.subject_fill", "a share of the square in [0, 1]; 0 = measure it")


# ----------------------------------------------------------------------------- training


@dataclasses.dataclass(frozen=True)
class LossConfig:
    gan: str = "lsgan"  # "vanilla" (BCE), "lsgan" (least squares) or "hinge"
    lambda_l1: float = 100.0  # weight of the L1 reconstruction loss; 0 = pure GAN

    def __post_init__(self) -> None:
        _one_of(self.gan, ("vanilla", "lsgan", "hinge"), "loss.gan")
        _check(self.lambda_l1 >= 0, "loss.lambda_l1", "must be >= 0")


@dataclasses.dataclass(frozen=True)
class OptimConfig:
    lr_g: float = 2e-4  # Adam learning rate of the generator
    lr_d: float = 2e-4  # Adam learning rate of the discriminator
    beta1: float = 0.5  # Adam beta1
    beta2: float = 0.999  # Adam beta2
    decay_start: float = 0.5  # fraction of steps after which the LR decays linearly to 0

    def __post_init__(self) -> None:
        _check(self.lr_g > 0 and self.lr_d > 0, "optim.lr", "learning rates must be > 0")
        _check(0.0 <= self.decay_start <= 1.0, "optim.decay_start", "a fraction in [0, 1]")


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """Length of training and how often it reports."""

    steps: int = 10000  # optimisation steps (one step = one batch per process)
    batch_size: int = 8  # images per step per process
    seed: int = 0  # seeds data order, augmentation and initialisation
    device: str = "auto"  # "auto" (CUDA, then CPU), "cpu" or "cuda"
    precision: str = "fp32"  # "fp32" or "bf16" (autocast)
    log_every: int = 50  # steps between metric lines (JSONL + TensorBoard)
    sample_every: int = 500  # steps between sample grids; 0 = only at the end
    checkpoint_every: int = 1000  # steps between checkpoints; the last step always saves
    num_samples: int = 8  # rows in a sample grid
    threads: int = 0  # torch CPU threads; 0 = all cores of this process
    eval_every: int = 0  # steps between held-out evaluations (methods that have one); 0 = only after the last step
    init_from: str = ""  # a run folder (or its checkpoint/) whose weights a new run starts from; "" = random init

    def __post_init__(self) -> None:
        _check(self.steps >= 1, "run.steps", "must be >= 1")
        _check(self.batch_size >= 1, "run.batch_size", "must be >= 1")
        _one_of(self.device, ("auto", "cpu", "cuda"), "run.device")
        _one_of(self.precision, ("fp32", "bf16"), "run.precision")
        _check(self.log_every >= 1 and self.checkpoint_every >= 1, "run.log_every", "intervals must be >= 1")
        _check(self.eval_every >= 0, "run.eval_every", "must be >= 0")


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

    def __post_init__(self) -> None:
        want = 4 if self.hints.enabled else 0
        _check(
            self.generator.hint_channels == want,
            "generator.hint_channels",
            f"must be {want} when hints.enabled is {self.hints.enabled}",
        )
        classes = len(self.data.kinds)
        _check(
            self.generator.num_classes == classes,
            "generator.num_classes",
            f"must equal the number of data.kinds ({classes})",
        )
        _check(not self.discriminator.kind_input or classes > 0, "discriminator.kind_input", "needs data.kinds (a class-conditional run)")


# Training configs by method name (the ``method:`` key of a preset).
TRAIN_CONFIGS: dict[str, type] = {"pix2pix": Pix2PixConfig}


def register_train_config(name: str):
    """Decorator: make a training config class loadable by its ``method:`` name."""

    def wrap(cls: type) -> type:
        TRAIN_CONFIGS[name] = cls
        return cls

    return wrap


# ----------------------------------------------------------------------------- recognizer


@dataclasses.dataclass(frozen=True)
class RecognizerConfig:
    """Sketch recognizer: a small CNN, (B, 1, S, S) ink in [0, 1] -> (B, num_classes) logits."""

    image_size: int = 28  # side of the square input bitmap, px (Quick, Draw! bitmaps are 28)
    channels: tuple[int, ...] = (24, 48, 96)  # conv channels per stage; each stage but the last halves the side
    convs_per_stage: int = 2  # 3x3 convolutions in each stage
    norm: str = "batch"  # "batch" (BatchNorm) or "group" (GroupNorm, for tiny batches)
    groups: int = 8  # GroupNorm groups (must divide every stage's channels); ignored for "batch"
    dropout: float = 0.3  # dropout before the classifier layer, 0 = off
    num_classes: int = 12  # number of labels (names in the model folder's meta); training sets it from the data

    def __post_init__(self) -> None:
        _check(16 <= self.image_size <= 128, "model.image_size", "must be in 16..128")
        _check(len(self.channels) >= 1 and all(c >= 1 for c in self.channels), "model.channels", "one or more positive widths")
        _check(self.image_size >> (len(self.channels) - 1) >= 2, "model.channels", "too many stages for the image size")
        _check(1 <= self.convs_per_stage <= 4, "model.convs_per_stage", "must be in 1..4")
        _one_of(self.norm, ("batch", "group"), "model.norm")
        if self.norm == "group":
            _check(self.groups >= 1 and all(c % self.groups == 0 for c in self.channels), "model.groups", "must divide every stage's channels")
        _check(0.0 <= self.dropout < 1.0, "model.dropout", "must be in [0, 1)")
        _check(self.num_classes >= 2, "model.num_classes", "must be >= 2")


@dataclasses.dataclass(frozen=True)
class RecognizerDataConfig:
    """Which doodle classes to learn, the hold-out split and the training augmentation."""

    classes: tuple[str, ...] = ()  # class names (= .npy file stems); () = every .npy file in the folder
    holdout: float = 0.1  # fraction of each class held out for evaluation
    balanced: bool = True  # draw every class equally often, whatever its number of examples
    flip: bool = True  # random horizontal flips (every default class looks right mirrored)
    rotate: float = 12.0  # largest random rotation, degrees
    scale: float = 0.12  # random zoom factor in [exp(-scale), exp(scale)]
    shear: float = 0.15  # largest horizontal shear, as a slope
    shift: float = 0.06  # largest random shift, fraction of the side
    thickness_p: float = 0.5  # probability of thinning or thickening the strokes by about half a pixel
    canvas_test: str = ""  # folder of Quick, Draw! stroke files (<class>.ndjson) drawn on the canvas as a 2nd test set; "" = none
    canvas_pen: str = "medium"  # pen used to draw that test set (a PEN_WIDTHS name)

    def __post_init__(self) -> None:
        _check(0.0 < self.holdout < 1.0, "data.holdout", "a fraction in (0, 1)")
        _check(0.0 <= self.rotate <= 45.0, "data.rotate", "degrees in [0, 45]")
        _check(0.0 <= self.scale <= 0.5 and 0.0 <= self.shear <= 0.5 and 0.0 <= self.shift <= 0.3, "data.scale",
               "scale and shear in [0, 0.5], shift in [0, 0.3]")
        _check(0.0 <= self.thickness_p <= 1.0, "data.thickness_p", "a probability in [0, 1]")


@dataclasses.dataclass(frozen=True)
class RecognizerOptimConfig:
    lr: float = 3e-3  # peak AdamW learning rate
    weight_decay: float = 0.05  # AdamW decoupled weight decay (norm and bias parameters get none)
    warmup: float = 0.03  # fraction of steps with a linear LR warm-up, then cosine decay to 0
    label_smoothing: float = 0.05  # cross-entropy label smoothing, 0 = off

    def __post_init__(self) -> None:
        _check(self.lr > 0 and self.weight_decay >= 0, "optim.lr", "lr must be > 0 and weight_decay >= 0")
        _check(0.0 <= self.warmup < 1.0, "optim.warmup", "a fraction in [0, 1)")
        _check(0.0 <= self.label_smoothing < 1.0, "optim.label_smoothing", "must be in [0, 1)")


@register_train_config("recognizer")
@dataclasses.dataclass(frozen=True)
class RecognizerTrainConfig:
    """Everything a recognizer training run needs; written to RUN_DIR/config.yaml first."""

    method: Literal["recognizer"] = "recognizer"
    model: RecognizerConfig = RecognizerConfig()
    data: RecognizerDataConfig = RecognizerDataConfig()
    optim: RecognizerOptimConfig = RecognizerOptimConfig()
    run: RunConfig = RunConfig()


# ----------------------------------------------------------------------------- DCGAN (pictures from nothing)


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
        _check(16 <= size <= 256 and size & (size - 1) == 0, "generator.image_size", "a power of two in 16..256")
        _check(self.latent_dim >= 1, "generator.latent_dim", "must be >= 1")
        _check(self.ngf >= 1 and self.max_channels >= self.ngf, "generator.ngf", "need 1 <= ngf <= max_channels")
        _one_of(self.upsample, ("transpose", "resize"), "generator.upsample")
        _one_of(self.norm, ("batch", "none"), "generator.norm")


@dataclasses.dataclass(frozen=True)
class DCGANDiscriminatorConfig:
    """DCGAN discriminator: picture (B, 3, S, S) -> one real/fake logit per picture (B,)."""

    ndf: int = 64  # channels of the first (full-resolution) layer; each halving of the side doubles them
    max_channels: int = 512  # cap on channels of the low-resolution layers
    norm: str = "batch"  # "batch" or "none" (spectral norm usually goes with "none")
    spectral_norm: bool = False  # wrap every convolution in spectral normalisation (Miyato et al. 2018)

    def __post_init__(self) -> None:
        _check(self.ndf >= 1 and self.max_channels >= self.ndf, "discriminator.ndf", "need 1 <= ndf <= max_channels")
        _one_of(self.norm, ("batch", "none"), "discriminator.norm")


@dataclasses.dataclass(frozen=True)
class DCGANLossConfig:
    gan: str = "vanilla"  # "vanilla" (non-saturating BCE), "hinge" or "lsgan"
    label_smoothing: float = 0.0  # one-sided: real targets become 1 - this (vanilla, lsgan); 0 = off

    def __post_init__(self) -> None:
        _one_of(self.gan, ("vanilla", "lsgan", "hinge"), "loss.gan")
        _check(0.0 <= self.label_smoothing < 0.5, "loss.label_smoothing", "must be in [0, 0.5)")
        _check(self.gan != "hinge" or self.label_smoothing == 0.0, "loss.label_smoothing", "has no meaning for the hinge loss; use 0")


@dataclasses.dataclass(frozen=True)
class EMAConfig:
    """Exponential moving average of the generator's weights; the average is what gets sampled and saved."""

    decay: float = 0.999  # weight of the old average per step; 0 = off (sample the raw generator)
    start: int = 0  # steps during which the average just copies the generator

    def __post_init__(self) -> None:
        _check(0.0 <= self.decay < 1.0, "ema.decay", "must be in [0, 1)")
        _check(self.start >= 0, "ema.start", "must be >= 0")


@dataclasses.dataclass(frozen=True)
class AugmentConfig:
    """Differentiable augmentation (Zhao et al. 2020) of real and generated pictures before D, for small datasets."""

    policy: tuple[str, ...] = ()  # any of "color", "translation", "cutout"; () = off
    translation: float = 0.125  # largest shift, fraction of the side
    cutout: float = 0.5  # side of the erased square, fraction of the side

    def __post_init__(self) -> None:
        for p in self.policy:
            _one_of(p, ("color", "translation", "cutout"), "augment.policy")
        _check(0.0 <= self.translation <= 0.5 and 0.0 <= self.cutout <= 1.0, "augment.translation", "translation in [0, 0.5], cutout in [0, 1]")


@dataclasses.dataclass(frozen=True)
class PhotoDataConfig:
    """Training photos for unconditional models: a photo folder or a prepared dataset (its photo halves)."""

    kind: str = ""  # what the photos show, e.g. "anime_face"; "" = the data folder's name (or the manifest's kind)
    flip: bool = True  # random horizontal flips
    holdout: float = 0.1  # share of a plain photo folder kept aside as real photos for realism; prepared data uses its val split
    max_images: int = 0  # use at most this many training photos; 0 = all
    terms: str = ""  # terms of use of the photos, written into the model card (prepared data records its own)

    def __post_init__(self) -> None:
        _check(0.0 < self.holdout < 1.0, "data.holdout", "a fraction in (0, 1)")
        _check(self.max_images >= 0, "data.max_images", "must be >= 0")


@dataclasses.dataclass(frozen=True)
class SamplerEvalConfig:
    num_images: int = 256  # pictures generated for each realism (SWD) evaluation
    seed: int = 1234  # latent seed of the evaluation pictures (the same every evaluation)

    def __post_init__(self) -> None:
        _check(self.num_images >= 2, "eval.num_images", "must be >= 2")


@register_train_config("dcgan")
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


# ----------------------------------------------------------------------------- (de)serialisation


def to_dict(cfg: Any) -> dict[str, Any]:
    """Plain nested dict (tuples become lists) for JSON / YAML."""

    def conv(v: Any) -> Any:
        if dataclasses.is_dataclass(v):
            return {f.name: conv(getattr(v, f.name)) for f in dataclasses.fields(v)}
        if isinstance(v, (tuple, list)):
            return [conv(x) for x in v]
        return v

    return conv(cfg)


def _coerce(value: Any, tp: Any, key: str) -> Any:
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigError(f"'{key}' must be a mapping of settings, got {value!r}.")
        return from_dict(tp, value, prefix=key + ".")
    if origin is Literal:
        if value not in typing.get_args(tp):
            raise ConfigError(f"'{key}' must be one of {typing.get_args(tp)}, got {value!r}.")
        return value
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None:
            return None
        return _coerce(value, args[0], key)
    if origin is tuple:
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"'{key}' must be a list, got {value!r}.")
        inner = typing.get_args(tp)[0]
        return tuple(_coerce(v, inner, key) for v in value)
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"'{key}' must be true or false, got {value!r}.")
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"'{key}' must be a whole number, got {value!r}.")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"'{key}' must be a number, got {value!r}.")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"'{key}' must be text, got {value!r}.")
        return value
    return value


def from_dict(cls: type, data: dict[str, Any], prefix: str = "") -> Any:
    """Build dataclass ``cls`` from a nested dict, rejecting unknown keys by name."""
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ConfigError(
            f"Unknown config key '{prefix}{unknown[0]}'.",
            f"Valid keys under '{prefix.rstrip('.') or 'top level'}': {', '.join(sorted(names))}.",
        )
    kwargs = {k: _coerce(v, hints[k], prefix + k) for k, v in data.items()}
    try:
        return cls(**kwargs)
    except TypeError as e:  # pragma: no cover - fields all have defaults
        raise ConfigError(f"Cannot build {prefix or cls.__name__}: {e}.") from e


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply ``key.sub=value`` strings (values parsed as YAML) to a nested dict copy."""
    out = yaml.safe_load(yaml.safe_dump(data)) or {}
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"Override {item!r} has no '='.", "Write --set section.key=value, e.g. run.steps=100.")
        key, raw = item.split("=", 1)
        parts = key.strip().split(".")
        node = out
        for p in parts[:-1]:
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                raise ConfigError(f"Override {item!r}: '{p}' is not a section.")
        node[parts[-1]] = yaml.safe_load(raw)
    return out


PRESET_DIR = Path(__file__).resolve().parents[2] / "configs"  # presets in a source checkout


def resolve_preset(path_or_name: str | Path) -> Path:
    """A preset path, or a bare name looked up in ``./configs`` and the project's ``configs/``."""
    p = Path(path_or_name)
    if p.is_file():
        return p
    for folder in (Path("configs"), PRESET_DIR):
        cand = folder / f"{p.stem}.yaml"
        if cand.is_file():
            return cand
    known = sorted(x.stem for x in PRESET_DIR.glob("*.yaml")) if PRESET_DIR.is_dir() else []
    raise ConfigError(f"Config {str(path_or_name)!r} not found.", f"Known presets: {', '.join(known) or 'none'}.")


def load_train_config(path_or_name: str | Path, overrides: list[str] | None = None) -> Any:
    """Load a training preset (YAML), apply overrides and validate it."""
    path = resolve_preset(path_or_name)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as e:
        raise ConfigError(f"{path} is not valid YAML: {e}.") from e
    if not isinstance(raw, dict):
        raise ConfigError(f"{path} must hold a mapping of settings.")
    return train_config_from_dict(apply_overrides(raw, overrides or []))


def train_config_from_dict(data: dict[str, Any]) -> Any:
    method = data.get("method", "pix2pix")
    if method not in TRAIN_CONFIGS:
        raise ConfigError(f"Unknown method {method!r}.", f"Known methods: {', '.join(sorted(TRAIN_CONFIGS))}.")
    return from_dict(TRAIN_CONFIGS[method], data)


def replace(cfg: Any, **changes: Any) -> Any:
    """``dataclasses.replace`` re-running validation."""
    return dataclasses.replace(cfg, **changes)
