"""Recipes: what differs between training methods around the shared loop.

A recipe builds the trainer and its batch source, draws sample grids and describes the
finished model for its card. Each ``training/<method>.py`` defines its ``RECIPE``; the method's
registration in :mod:`icanvas.methods` loads it when a run starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol

import numpy as np
import torch

from icanvas.training.distributed import DistInfo


class BatchSource(Protocol):
    def batch(self, step: int, batch_size: int) -> dict[str, np.ndarray]: ...


@dataclass
class Prepared:
    """What a recipe hands the loop."""

    trainer: Any  # has train_step(batch) -> dict, state_dict(), load_state_dict(), generator, model_config
    batches: BatchSource
    preview: dict[str, np.ndarray]  # fixed inputs for sample grids
    meta: dict[str, Any]  # goes into config.json "meta" (kinds, image size, data summary)
    data_summary: str  # one paragraph for the model card
    extra: dict[str, Any] = field(default_factory=dict)  # recipe-private state for its hooks (e.g. held-out data)
    overview: str = ""  # one line on the data for --dry-run, e.g. "1200 training pairs at 256 px"


@dataclass(frozen=True)
class Recipe:
    prepare: Callable[[Any, list[Path], torch.device, DistInfo], Prepared]
    sample_grid: Callable[[Any, dict[str, np.ndarray]], np.ndarray]  # (trainer, preview) -> (H, W, 3) uint8 sheet
    # (cfg, prepared) -> JSON-able metrics, run on the main process every run.eval_every steps and after the
    # last step; written to metrics.jsonl as {"step", "time_s", "eval": {...}}, top-level numbers to TensorBoard.
    evaluate: Callable[[Any, Prepared], dict[str, Any]] | None = None
    # (cfg, prepared, last evaluation or None) -> markdown for the model card's "Metrics" section.
    card_extra: Callable[[Any, Prepared, dict[str, Any] | None], str] | None = None
    # (cfg, prepared, run_dir) -> None: extra files written into the run folder once the model is saved.
    finish: Callable[[Any, Prepared, Path], None] | None = None
    # (cfg, prepared, last evaluation or None) -> entries merged into the model folder's meta (e.g. a fitted threshold).
    final_meta: Callable[[Any, Prepared, dict[str, Any] | None], dict[str, Any]] | None = None
