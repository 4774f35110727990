"""recognizer: a small CNN learns to name Quick, Draw! doodles.

Its config sections and its registration; the trainer and recipe are in
:mod:`icanvas.training.recognizer`.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Literal

from icanvas.config import check, one_of
from icanvas.methods import register_method
from icanvas.methods.common import RunConfig

if TYPE_CHECKING:  # annotations only: the builders import torch when they run
    from torch import nn


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
        check(16 <= self.image_size <= 128, "model.image_size", "must be in 16..128")
        check(len(self.channels) >= 1 and all(c >= 1 for c in self.channels), "model.channels", "one or more positive widths")
        check(self.image_size >> (len(self.channels) - 1) >= 2, "model.channels", "too many stages for the image size")
        check(1 <= self.convs_per_stage <= 4, "model.convs_per_stage", "must be in 1..4")
        one_of(self.norm, ("batch", "group"), "model.norm")
        if self.norm == "group":
            check(self.groups >= 1 and all(c % self.groups == 0 for c in self.channels), "model.groups", "must divide every stage's channels")
        check(0.0 <= self.dropout < 1.0, "model.dropout", "must be in [0, 1)")
        check(self.num_classes >= 2, "model.num_classes", "must be >= 2")

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
    redraw_p: float = 0.0  # probability of redrawing a jittered bitmap as the pipeline redraws a studio drawing (sketch_to_bitmap)
    canvas_test: str = ""  # folder of Quick, Draw! stroke files (<class>.ndjson) drawn on the canvas as a 2nd test set; "" = none
    canvas_pen: str = "medium"  # pen used to draw that test set (a PEN_WIDTHS name)
    canvas_files: tuple[str, ...] = ()  # "label=stem" where a class's stroke file has another name, e.g. "handbag=purse"
    canvas_folds: int = 0  # >= 2: cross-validation; the canvas drawings are dealt into this many folds per class, all but one trained on
    canvas_fold: int = 0  # with canvas_folds: the fold kept as the canvas test set; -1 = train on every canvas drawing (no canvas test)
    canvas_share: float = 0.5  # share of a photo-drawn class's turns that draw its real canvas drawings, when some are trained on
    preselect_min_prob: float = 0.0  # > 0: the model's pre-selection threshold as given (e.g. fitted across folds), not fitted here
    preselect_kinds: tuple[str, ...] = ()  # labels the studio draws a picture of: the pre-selection threshold is fitted for them; () = none
    preselect_precision: float = 0.95  # share of pre-selections on the canvas test set that must be right (fits meta.preselect_min_prob)

    def __post_init__(self) -> None:
        check(0.0 < self.holdout < 1.0, "data.holdout", "a fraction in (0, 1)")
        check(0.0 <= self.rotate <= 45.0, "data.rotate", "degrees in [0, 45]")
        check(0.0 <= self.scale <= 0.5 and 0.0 <= self.shear <= 0.5 and 0.0 <= self.shift <= 0.3, "data.scale",
               "scale and shear in [0, 0.5], shift in [0, 0.3]")
        check(0.0 <= self.thickness_p <= 1.0 and 0.0 <= self.redraw_p <= 1.0, "data.thickness_p", "thickness_p and redraw_p: probabilities in [0, 1]")
        check(all(len(e.split("=")) == 2 and all(e.split("=")) for e in self.canvas_files), "data.canvas_files",
              'entries are "label=stem", e.g. "handbag=purse"')
        check(0.5 <= self.preselect_precision < 1.0, "data.preselect_precision", "a share in [0.5, 1)")
        check(self.canvas_folds == 0 or self.canvas_folds >= 2, "data.canvas_folds", "0 (no cross-validation) or >= 2")
        check(not self.canvas_folds or (self.canvas_test and -1 <= self.canvas_fold < self.canvas_folds), "data.canvas_fold",
              "needs data.canvas_test, and is a fold number below data.canvas_folds (or -1: train on every fold)")
        check(0.0 <= self.canvas_share < 1.0 and 0.0 <= self.preselect_min_prob < 1.0, "data.canvas_share",
              "canvas_share and preselect_min_prob: shares in [0, 1)")

@dataclasses.dataclass(frozen=True)
class RecognizerOptimConfig:
    lr: float = 3e-3  # peak AdamW learning rate
    weight_decay: float = 0.05  # AdamW decoupled weight decay (norm and bias parameters get none)
    warmup: float = 0.03  # fraction of steps with a linear LR warm-up, then cosine decay to 0
    label_smoothing: float = 0.05  # cross-entropy label smoothing, 0 = off

    def __post_init__(self) -> None:
        check(self.lr > 0 and self.weight_decay >= 0, "optim.lr", "lr must be > 0 and weight_decay >= 0")
        check(0.0 <= self.warmup < 1.0, "optim.warmup", "a fraction in [0, 1)")
        check(0.0 <= self.label_smoothing < 1.0, "optim.label_smoothing", "must be in [0, 1)")


def _build(config: RecognizerConfig) -> nn.Module:
    from icanvas.models.recognizer import SketchClassifier

    return SketchClassifier(config)


def _recipe() -> Any:
    from icanvas.training.recognizer import RECIPE

    return RECIPE


@register_method("recognizer", model_config=RecognizerConfig, build=_build, recipe=_recipe)
@dataclasses.dataclass(frozen=True)
class RecognizerTrainConfig:
    """Everything a recognizer training run needs; written to RUN_DIR/config.yaml first."""

    method: Literal["recognizer"] = "recognizer"
    model: RecognizerConfig = RecognizerConfig()
    data: RecognizerDataConfig = RecognizerDataConfig()
    optim: RecognizerOptimConfig = RecognizerOptimConfig()
    run: RunConfig = RunConfig()
