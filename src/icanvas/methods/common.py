"""Config sections shared by several training methods: the PatchGAN discriminator, Adam for GANs, the run's length and reporting."""

from __future__ import annotations

import dataclasses

from icanvas.config import check, one_of


@dataclasses.dataclass(frozen=True)
class PatchGANConfig:
    """PatchGAN discriminator: judges overlapping patches of (sketch, picture) pairs."""

    ndf: int = 64  # channels of the first layer
    n_layers: int = 3  # stride-2 layers; 3 gives 70x70 receptive fields
    norm: str = "instance"  # "batch", "instance" or "none"
    spectral_norm: bool = False  # wrap convolutions in spectral normalisation
    kind_input: bool = False  # class-conditional runs: D also sees the kind as one-hot planes, so a brown panda looks fake
    num_scales: int = 1  # discriminators on the picture at full, 1/2, 1/4 ... size (pix2pixHD); 1 = one

    def __post_init__(self) -> None:
        check(self.ndf >= 1, "discriminator.ndf", "must be >= 1")
        check(1 <= self.n_layers <= 6, "discriminator.n_layers", "must be in 1..6")
        one_of(self.norm, ("batch", "instance", "none"), "discriminator.norm")
        check(1 <= self.num_scales <= 4, "discriminator.num_scales", "must be in 1..4")


@dataclasses.dataclass(frozen=True)
class OptimConfig:
    lr_g: float = 2e-4  # Adam learning rate of the generator
    lr_d: float = 2e-4  # Adam learning rate of the discriminator
    beta1: float = 0.5  # Adam beta1
    beta2: float = 0.999  # Adam beta2
    decay_start: float = 0.5  # fraction of steps after which the LR decays linearly to 0

    def __post_init__(self) -> None:
        check(self.lr_g > 0 and self.lr_d > 0, "optim.lr", "learning rates must be > 0")
        check(0.0 <= self.decay_start <= 1.0, "optim.decay_start", "a fraction in [0, 1]")

@dataclasses.dataclass(frozen=True)
class RunConfig:
    """Length of training and how often it reports."""

    steps: int = 10000  # optimisation steps (one step = one batch per process)
    batch_size: int = 8  # images per step per process
    seed: int = 0  # seeds data order, augmentation and initialisation
    device: str = "auto"  # "auto" (CUDA, then CPU), "cpu" or "cuda"
    precision: str = "fp32"  # "fp32" or "bf16" (autocast)
    channels_last: bool = False  # NHWC memory layout for the networks and batches (faster convolutions on recent CPUs and GPUs)
    fold_upsampling: bool = True  # compute "resize" upsampling as its equal transposed conv (2.25x fewer multiply-adds); false = literally
    log_every: int = 50  # steps between metric lines (JSONL + TensorBoard)
    sample_every: int = 500  # steps between sample grids; 0 = only at the end
    checkpoint_every: int = 1000  # steps between checkpoints; the last step always saves
    num_samples: int = 8  # rows in a sample grid
    threads: int = 0  # torch CPU threads; 0 = all cores of this process
    eval_every: int = 0  # steps between held-out evaluations (methods that have one); 0 = only after the last step
    init_from: str = ""  # a run folder (or its checkpoint/, or a model folder) whose weights a new run starts from; "" = random init
    # with init_from: kinds this run learns that the source does not draw, as "new=source" (e.g. [panda=cat]):
    # the new kind starts from what the source learnt for the other
    init_kinds: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check(self.steps >= 1, "run.steps", "must be >= 1")
        check(self.batch_size >= 1, "run.batch_size", "must be >= 1")
        one_of(self.device, ("auto", "cpu", "cuda"), "run.device")
        one_of(self.precision, ("fp32", "bf16"), "run.precision")
        check(self.log_every >= 1 and self.checkpoint_every >= 1, "run.log_every", "intervals must be >= 1")
        check(self.eval_every >= 0, "run.eval_every", "must be >= 0")
        check(all(e.count("=") == 1 and all(e.split("=")) for e in self.init_kinds), "run.init_kinds",
              "entries are new=source, e.g. [panda=cat]")

    def kind_sources(self) -> dict[str, str]:
        """``init_kinds`` as {new kind: source kind}."""
        return dict(e.split("=") for e in self.init_kinds)


@dataclasses.dataclass(frozen=True)
class EMAConfig:
    """Exponential moving average of the generator's weights; the average is what gets sampled and saved."""

    decay: float = 0.999  # weight of the old average per step; 0 = off (sample the raw generator)
    start: int = 0  # steps during which the average just copies the generator

    def __post_init__(self) -> None:
        check(0.0 <= self.decay < 1.0, "ema.decay", "must be in [0, 1)")
        check(self.start >= 0, "ema.start", "must be >= 0")
