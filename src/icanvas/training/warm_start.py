"""Starting a new run from the weights of another (``run.init_from``), e.g. one model per kind
fine-tuned from a class-conditional run.

The source is a run folder or its ``checkpoint/`` folder (``train_state.pt`` holds both
networks), or a model folder (``config.json`` + ``generator.safetensors``, e.g. a bundled model): then
only the generator starts from it and the discriminator starts from random weights. Weights whose name and shape match are copied. Tables indexed by kind (the
generator's class embedding and FiLM tables, the discriminator's kind input planes) are copied
row by row for the kinds the new run trains, looked up by name, so a run with
``data.kinds: [cat]`` starts from exactly what the source learnt for "cat". Optimiser state,
LR schedule and step count start afresh.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from icanvas.checkpoint import CONFIG_FILE, TRAIN_STATE_FILE, WEIGHTS_FILE, ModelInfo, from_pretrained, read_model_info
from icanvas.errors import CheckpointError, ConfigError, ICanvasError


@dataclass(frozen=True)
class StartPoint:
    folder: Path  # the checkpoint folder read
    method: str
    kinds: list[str]
    step: int
    trainer: dict[str, Any]  # the source trainer's state_dict (only "generator" for a model folder)
    seconds: float = 0.0  # training time behind the source checkpoint
    commands: list[str] = field(default_factory=list)  # the commands that trained it
    model_only: bool = False  # a model folder: the generator's weights only, no step or training state


def read_start_point(path: str | Path) -> StartPoint:
    """The checkpoint under ``path`` (a run folder or a checkpoint folder), or the model folder at ``path``,
    with a clear error when there is neither."""
    p = Path(path)
    folder = next((c for c in (p / "checkpoint", p) if (c / TRAIN_STATE_FILE).is_file()), None)
    if folder is None:
        if (p / CONFIG_FILE).is_file() and (p / WEIGHTS_FILE).is_file():
            return _model_start_point(p)
        raise ConfigError(f"run.init_from: {p} holds no {TRAIN_STATE_FILE} and is not a model folder.",
                          "Point it at a training run folder (RUN_DIR), its RUN_DIR/checkpoint, or a model folder "
                          f"({CONFIG_FILE} + {WEIGHTS_FILE}, e.g. RUN_DIR/model or a bundled model).")
    try:
        info = read_model_info(folder)
        state = torch.load(folder / TRAIN_STATE_FILE, map_location="cpu", weights_only=False)
        trainer = state["trainer"]
    except ICanvasError:
        raise
    except Exception as e:  # noqa: BLE001 - unpickling problems all mean the same here
        raise CheckpointError(f"run.init_from: {folder / TRAIN_STATE_FILE} cannot be loaded ({e}).", "It is damaged; choose another checkpoint.") from e
    history = state.get("history") or {}
    return StartPoint(folder, info.method, _kinds(info), int(state.get("step", 0)), trainer,
                      float(history.get("seconds", 0.0)), list(history.get("commands", [])))


SAME_ARCHITECTURE = ("Start from a run of the same architecture: its model settings (a pix2pix run's generator and discriminator, "
                     "a recognizer's model.channels) must match this run's; compare the two runs' config.yaml.")


def _model_start_point(folder: Path) -> StartPoint:
    """A model folder as a start point: its generator's weights (fp32, checked against its config), nothing else."""
    try:
        module, info = from_pretrained(folder)
    except ICanvasError as e:
        raise type(e)(f"run.init_from: {e.problem}", e.hint) from e
    return StartPoint(folder, info.method, _kinds(info), 0, {"generator": module.state_dict()}, model_only=True)


def _kinds(info: ModelInfo) -> list[str]:
    """A model's kinds; a recognizer's "kinds" are its labels."""
    return list(info.kinds) or list(info.meta.get("labels", []))


def kind_rows(source_kinds: list[str], kinds: list[str]) -> list[int]:
    """Index in ``source_kinds`` of every kind in ``kinds``; an error names the ones it lacks."""
    missing = [k for k in kinds if k not in source_kinds]
    if missing:
        raise ConfigError(f"run.init_from: the source model does not draw {', '.join(missing)}.",
                          f"It draws {', '.join(source_kinds) or 'no named kinds'}; pick data.kinds among those, or start a new "
                          f"kind from one of them with run.init_kinds=[{missing[0]}=KIND].")
    return [source_kinds.index(k) for k in kinds]


def load_matching(module: nn.Module, source: dict[str, torch.Tensor], remap: dict[str, tuple[int, list[int]]],
                  fresh: frozenset[str] = frozenset(), widen: str = "") -> None:
    """Copy ``source`` into ``module``: equal shapes as they are, names in ``remap`` as ``source[name]``
    indexed along (dim, indices), names in ``fresh`` left as initialised. The conv weight named
    ``widen`` may have more input channels here than in the source (colour hints added to a model
    without them): the source's go first and the new ones start at zero, so the new inputs change
    nothing until training teaches them. Any other difference is an error naming the first
    mismatched tensor."""
    own = {k: v for k, v in module.state_dict().items() if k not in fresh}
    missing = sorted(set(own) - set(source))
    if missing:
        raise ConfigError(f"run.init_from: the source has no {missing[0]!r} ({len(missing)} tensors missing).",
                          SAME_ARCHITECTURE)
    out = {}
    for name, mine in own.items():
        theirs = source[name]
        if name in remap:
            dim, index = remap[name]
            theirs = theirs.index_select(dim, torch.tensor(index, dtype=torch.long))
        if name == widen and theirs.ndim == 4 and theirs.shape[1] < mine.shape[1] and theirs.shape[2:] == mine.shape[2:]:
            theirs = torch.cat([theirs, theirs.new_zeros(theirs.shape[0], mine.shape[1] - theirs.shape[1], *theirs.shape[2:])], 1)
        if theirs.shape != mine.shape:
            raise ConfigError(f"run.init_from: {name!r} is {tuple(theirs.shape)} in the source and {tuple(mine.shape)} here.",
                              SAME_ARCHITECTURE)
        out[name] = theirs.to(mine.dtype)
    module.load_state_dict(out, strict=not fresh)
