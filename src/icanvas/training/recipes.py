"""Recipes: what differs between training methods around the shared loop.

A recipe builds the trainer and its batch source, draws sample grids and describes the
finished model for its card. Recipes are registered by the preset's ``method:`` name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol

import numpy as np
import torch

from icanvas.sheets import grid, tensor_to_uint8
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


RECIPES: dict[str, Recipe] = {}


def register_recipe(method: str, recipe: Recipe) -> None:
    RECIPES[method] = recipe


# ----------------------------------------------------------------------------- pix2pix


def _pix2pix_prepare(cfg: Any, data_dirs: list[Path], device: torch.device, dist_info: DistInfo) -> Prepared:
    from icanvas.data.datasets import PairBatcher, load_pairs, read_manifest
    from icanvas.errors import DatasetError
    from icanvas.data.sketchify import Sketchify
    from icanvas.training.pix2pix import Pix2PixTrainer

    size = cfg.generator.image_size
    train = load_pairs(data_dirs, "train", size, cfg.data.kinds)
    sk = Sketchify(cfg.sketchify, image_size=size) if cfg.sketchify.enabled else None
    batches = PairBatcher(train, cfg.data, cfg.hints, sk, seed=cfg.run.seed, rank=dist_info.rank, world_size=dist_info.world_size)
    try:  # sample grids show held-out pairs when there are any
        val = load_pairs(data_dirs, "val", size, cfg.data.kinds)
        preview_src = PairBatcher(val, cfg.data, cfg.hints, None, seed=cfg.run.seed)
    except DatasetError:  # no val split: show training pairs
        preview_src = batches
    preview = preview_src.fixed(cfg.run.num_samples)
    manifests = [read_manifest(d) for d in data_dirs]
    terms = sorted({m.get("data_terms", "") for m in manifests} - {""})
    kinds = list(cfg.data.kinds) or sorted({m.get("kind") or Path(d).name for m, d in zip(manifests, data_dirs)})
    lines = [f"- `{d}`: {len(list((Path(d) / 'train').glob('*')))} training pairs; source `{m.get('source', '?')}`, "
             f"lines `{m.get('edges', '?')}`, background removal `{m.get('remove_background', '?')}`" for d, m in zip(data_dirs, manifests)]
    summary = "\n".join(lines + [f"- Data terms: {'; '.join(terms) or 'not recorded by prepare; check the source data licence'}"])
    meta = {"kinds": kinds, "image_size": size, "class_conditional": cfg.generator.num_classes > 0,
            "hints": cfg.hints.enabled, "sketchify": cfg.sketchify.enabled, "train_pairs": len(train),
            "subject_fill": cfg.data.subject_fill or train.subject_fill(),
            "line_width": max(int(m.get("line_width", 2)) * size // int(m.get("size", size)) for m in manifests) or 1}
    return Prepared(Pix2PixTrainer(cfg, device, dist_info), batches, preview, meta, summary,
                    overview=f"{len(train)} training pairs at {size} px")


def _pix2pix_grid(trainer: Any, preview: dict[str, np.ndarray]) -> np.ndarray:
    out = trainer.generate(preview).float().cpu().numpy()
    rows = [[tensor_to_uint8(preview["sketch"][i]), tensor_to_uint8(out[i]), tensor_to_uint8(preview["photo"][i])]
            for i in range(len(out))]
    return grid(rows, titles=["sketch", "output", "target"])


register_recipe("pix2pix", Recipe(_pix2pix_prepare, _pix2pix_grid))


# ----------------------------------------------------------------------------- recognizer
# The parts live in training/recognizer.py, imported on first use (it imports this module).


def _recognizer_prepare(cfg: Any, data_dirs: list[Path], device: torch.device, dist_info: DistInfo) -> Prepared:
    from icanvas.training.recognizer import prepare_recognizer

    return prepare_recognizer(cfg, data_dirs, device, dist_info)


def _recognizer_grid(trainer: Any, preview: dict[str, np.ndarray]) -> np.ndarray:
    from icanvas.training.recognizer import recognizer_grid

    return recognizer_grid(trainer, preview)


def _recognizer_evaluate(cfg: Any, prepared: Prepared) -> dict[str, Any]:
    from icanvas.training.recognizer import evaluate_recognizer

    return evaluate_recognizer(cfg, prepared)


def _recognizer_card(cfg: Any, prepared: Prepared, metrics: dict[str, Any] | None) -> str:
    from icanvas.training.recognizer import recognizer_card

    return recognizer_card(cfg, prepared, metrics)


register_recipe("recognizer", Recipe(_recognizer_prepare, _recognizer_grid, _recognizer_evaluate, _recognizer_card))


# ----------------------------------------------------------------------------- dcgan
# The parts live in training/dcgan.py, imported on first use (it imports this module).


def _dcgan(name: str) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        from icanvas.training import dcgan

        return getattr(dcgan, name)(*args)

    return call


register_recipe("dcgan", Recipe(_dcgan("prepare_dcgan"), _dcgan("dcgan_grid"), _dcgan("evaluate_dcgan"), _dcgan("dcgan_card"),
                                _dcgan("finish_dcgan")))
