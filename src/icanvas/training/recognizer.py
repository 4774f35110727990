"""Recognizer training: a small CNN learns to name Quick, Draw! doodles.

:class:`RecognizerTrainer` owns the classifier, AdamW and the warm-up + cosine LR schedule;
the recipe functions below (``RECIPE``, which the ``recognizer`` method loads) load the bitmaps
of one or more folders (real Quick, Draw! bitmaps, and doodles drawn from photos by
``icanvas doodles`` for kinds without real ones), hold out a fixed share of every class, and
evaluate held-out accuracy, per-class accuracy, the confusion matrix and, optionally, accuracy
on real stroke drawings drawn on the studio canvas, where the probability above which the
studio may pre-select a kind is also fitted.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP

from icanvas.checkpoint import unwrap
from icanvas.config import replace
from icanvas.data.canvas import CANVAS_SIZE, render_strokes
from icanvas.data.doodles import read_doodle_manifest
from icanvas.data.quickdraw import (BitmapBatcher, bitmaps_to_input, fold_split, holdout_split, load_bitmaps, read_strokes,
                                    resize_bitmaps, sketch_to_bitmap)
from icanvas.errors import ConfigError, DatasetError
from icanvas.eval.classification import classification_metrics, confusion_markdown, preselect_threshold
from icanvas.methods.recognizer import RecognizerConfig, RecognizerTrainConfig
from icanvas.models.recognizer import SketchClassifier
from icanvas.sheets import grid
from icanvas.training.distributed import DistInfo
from icanvas.training.recipes import Prepared, Recipe

DUPLICATE_DIFF = 15.0  # mean |difference| (grey levels) below which a bitmap counts as a copy of a canvas test drawing
EVAL_BATCH = 512  # images per forward pass when evaluating


def warmup_cosine(total_steps: int, warmup: float):
    """LR multiplier: linear warm-up over ``warmup * total`` steps, then cosine decay to 0."""
    w = max(1, int(total_steps * warmup))

    def factor(step: int) -> float:
        if step < w:
            return (step + 1) / w
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, (step - w) / max(1, total_steps - w))))

    return factor


class RecognizerTrainer:
    method = "recognizer"

    def __init__(self, cfg: RecognizerTrainConfig, model_cfg: RecognizerConfig, device: torch.device,
                 dist_info: DistInfo = DistInfo(), labels: list[str] | None = None) -> None:
        self.cfg, self.model_cfg_, self.device, self.dist = cfg, model_cfg, device, dist_info
        self.labels = list(labels or [])  # class names, for sample grids
        torch.manual_seed(cfg.run.seed)  # identical initial weights on every rank
        net: nn.Module = SketchClassifier(model_cfg).to(device)
        if dist_info.enabled:
            net = DDP(net, device_ids=[device.index] if device.type == "cuda" else None)
        self.net = net
        o = cfg.optim
        decay = [p for p in net.parameters() if p.ndim > 1]  # conv and linear weights
        rest = [p for p in net.parameters() if p.ndim <= 1]  # norm scales and biases: no weight decay
        self.opt = torch.optim.AdamW([{"params": decay, "weight_decay": o.weight_decay}, {"params": rest, "weight_decay": 0.0}], lr=o.lr)
        self.sched = torch.optim.lr_scheduler.LambdaLR(self.opt, warmup_cosine(cfg.run.steps, o.warmup))
        self.autocast = dict(device_type=device.type, dtype=torch.bfloat16, enabled=cfg.run.precision == "bf16")

    def train_step(self, batch: dict[str, np.ndarray]) -> dict[str, float]:
        x = torch.from_numpy(batch["image"]).to(self.device, non_blocking=True)  # (B, 1, S, S)
        y = torch.from_numpy(batch["label"]).to(self.device, non_blocking=True)  # (B,)
        self.net.train()
        with torch.autocast(**self.autocast):
            logits = self.net(x).float()  # (B, C)
            loss = F.cross_entropy(logits, y, label_smoothing=self.cfg.optim.label_smoothing)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        self.sched.step()
        acc = (logits.argmax(1) == y).float().mean().item()
        return {"loss": loss.item(), "train_accuracy": acc, "lr": self.sched.get_last_lr()[0]}

    @torch.no_grad()
    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """(N, 1, S, S) float32 ink -> (N, C) class probabilities, model in eval mode."""
        net = unwrap(self.net)
        net.eval()
        out = [torch.softmax(net(torch.from_numpy(images[i : i + EVAL_BATCH]).to(self.device)).float(), 1).cpu().numpy()
               for i in range(0, len(images), EVAL_BATCH)]
        net.train()
        return np.concatenate(out) if out else np.zeros((0, self.model_cfg_.num_classes), np.float32)

    @property
    def generator(self) -> nn.Module:
        """The module a model folder stores (the shared loop saves ``trainer.generator``)."""
        return unwrap(self.net)

    @property
    def model_config(self) -> RecognizerConfig:
        return self.model_cfg_

    def state_dict(self) -> dict[str, Any]:
        return {"net": unwrap(self.net).state_dict(), "opt": self.opt.state_dict(), "sched": self.sched.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        unwrap(self.net).load_state_dict(state["net"])
        self.opt.load_state_dict(state["opt"])
        self.sched.load_state_dict(state["sched"])

    def modules_for_fingerprint(self) -> nn.Module:
        return unwrap(self.net)

    def warm_start(self, state: dict[str, Any], source_labels: list[str]) -> None:
        """Start from another recognizer run's weights (``run.init_from``); it must know the same labels in the same order."""
        from icanvas.training.warm_start import load_matching

        if self.cfg.run.init_kinds:
            raise ConfigError("run.init_kinds starts a picture model's new kind from another; a recognizer starts from "
                              "a run over the same classes.", "Remove run.init_kinds.")
        if source_labels != self.labels:
            raise ConfigError(f"run.init_from: the source recognizer knows {', '.join(source_labels) or 'no named labels'}, "
                              f"and this run learns {', '.join(self.labels)}.", "Start from a run over the same classes.")
        load_matching(unwrap(self.net), state["net"] if "net" in state else state["generator"], {})  # a model folder's weights


# ----------------------------------------------------------------------------- recipe


def canvas_set(cfg: RecognizerTrainConfig, names: list[str], size: int) -> tuple[np.ndarray, np.ndarray]:
    """Stroke drawings of known classes drawn on the canvas and reduced like the pipeline does: ((M, S, S) uint8, (M,) labels)."""
    folder = Path(cfg.data.canvas_test)
    if not folder.is_dir():
        raise DatasetError(f"data.canvas_test folder {folder} does not exist.", "Point it at a folder of <class>.ndjson stroke files, or set it to ''.")
    stems = dict(e.split("=") for e in cfg.data.canvas_files)  # label -> stroke file stem
    images, labels = [], []
    for c, name in enumerate(names):
        path = folder / f"{stems.get(name, name)}.ndjson"
        if path.is_file():
            for strokes in read_strokes(path):
                canvas = render_strokes(strokes, CANVAS_SIZE, cfg.data.canvas_pen)  # (512, 512) as the studio page draws it
                if (canvas < 128).any():
                    images.append(sketch_to_bitmap(canvas, size))
                    labels.append(c)
    if not images:
        raise DatasetError(f"{folder} has no stroke file for any of {', '.join(names)}.", "Name the files <class>.ndjson, or set data.canvas_test to ''.")
    return np.stack(images), np.asarray(labels, np.int64)


def canvas_test_mask(cfg: RecognizerTrainConfig, labels: np.ndarray) -> np.ndarray:
    """Which of the canvas drawings (their ``labels``) a cross-validation run keeps as its test set: its fold's."""
    return fold_split(labels, cfg.data.canvas_folds, cfg.run.seed) == cfg.data.canvas_fold


def near_copies(images: np.ndarray, labels: np.ndarray, probes: np.ndarray, probe_labels: np.ndarray,
                max_diff: float = DUPLICATE_DIFF) -> np.ndarray:
    """Indices of ``images`` of the same class as a probe and within ``max_diff`` mean |difference| of it."""
    hits: set[int] = set()
    for probe, c in zip(probes, probe_labels):
        idx = np.flatnonzero(labels == c)
        diff = np.abs(images[idx].astype(np.int16) - probe.astype(np.int16)).mean(axis=(1, 2))  # (n_c,)
        hits.update(int(i) for i in idx[diff < max_diff])
    return np.asarray(sorted(hits), np.int64)


def _load_folders(folders: list[Path], classes: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray, list[str], list[dict[str, Any]]]:
    """Bitmaps of every folder: (images (N, 28, 28), labels (N,), names, one source dict per folder).

    ``classes`` picks classes by stem across the folders and fixes the label order ({} = every
    ``.npy`` of every folder, folder by folder). A source dict has the folder, its class names and
    counts, and its ``icanvas doodles`` manifest entries ({} for real Quick, Draw! bitmaps).
    """
    stems = [sorted(p.stem for p in f.glob("*.npy") if p.is_file()) if f.is_dir() else [] for f in folders]
    wanted = list(classes) or [n for found in stems for n in found]
    if len(set(wanted)) != len(wanted):
        twice = next(n for n in wanted if wanted.count(n) > 1)
        raise DatasetError(f"Class {twice!r} has a bitmap file in more than one --data folder.", "Keep one <class>.npy per class.")
    missing = [n for n in wanted if not any(n in found for found in stems)]
    if missing or not wanted:
        raise DatasetError(f"No --data folder has a bitmap file for class {missing[0]!r}." if missing else "The --data folders hold no .npy files.",
                           "Pass the Quick, Draw! bitmap folder (and doodle folders made by 'icanvas doodles').")
    parts, sources = [], []
    for folder, found in zip(folders, stems):
        mine = [n for n in wanted if n in found]
        if mine:
            images, labels, _ = load_bitmaps(folder, mine)
            parts.append((images, np.asarray([wanted.index(mine[c]) for c in labels], np.int64)))
            sources.append({"folder": str(folder), "names": mine, "counts": np.bincount(labels, minlength=len(mine)).tolist(),
                            "doodles": read_doodle_manifest(folder)})
    images = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts])
    return images, labels, wanted, sources


def _source_lines(sources: list[dict[str, Any]]) -> list[str]:
    """The card's lines on what each --data folder holds and its data terms."""
    lines, terms = [], []
    for src in sources:
        counts = ", ".join(f"{n} {k}" for n, k in zip(src["names"], src["counts"]))
        if not src["doodles"]:
            lines.append(f"- `{src['folder']}`: {sum(src['counts'])} Quick, Draw! doodles (28 x 28 bitmaps) in {len(src['names'])} classes: {counts}")
            terms.append("Quick, Draw! doodles, CC BY 4.0 (Google Creative Lab, quickdraw-dataset)")
            continue
        lines.append(f"- `{src['folder']}`: {sum(src['counts'])} doodles drawn from photos by `icanvas doodles` (each the object's simplified "
                     f"outline and a few inner strokes, drawn with a studio pen at {CANVAS_SIZE} px and reduced like a studio drawing), "
                     f"no real doodles of these classes: {counts}")
        for name in src["names"]:
            entry = src["doodles"].get(name, {})
            folders = ", ".join(f"`{Path(s['folder']).name}`" for s in entry.get("sources", []))
            opts = entry.get("options", {})
            heads = (f"; {entry['heads']} of them of the face, {opts['heads']} per photo that shows one"
                     if entry.get("heads") and opts.get("heads") else "")
            lines.append(f"  - {name}: from the train pairs of {folders or 'unknown folders'} (mask {opts.get('mask', '?')}, "
                         f"inner strokes {opts.get('interior', '?')}, {opts.get('per_photo', '?')} per pair{heads})")
            terms += [s["data_terms"] for s in entry.get("sources", []) if s.get("data_terms")]
    unique = list(dict.fromkeys(terms))
    return lines + ["- Data terms: " + "; ".join(unique) if unique else "- Data terms: not stated"]


def prepare_recognizer(cfg: RecognizerTrainConfig, data_dirs: list[Path], device: torch.device, dist_info: DistInfo) -> Prepared:
    if not data_dirs:
        raise DatasetError("The recognizer needs a bitmap folder.", "Pass --data ../shared/data/quickdraw/bitmaps (and doodle folders).")
    images28, labels, names, sources = _load_folders([Path(d) for d in data_dirs], cfg.data.classes)
    synthetic = sorted({n for src in sources if src["doodles"] for n in src["names"]}, key=names.index)
    size = cfg.model.image_size
    images = resize_bitmaps(images28, size)  # (N, S, S) 255 paper
    train_idx, held_idx = holdout_split(labels, cfg.data.holdout, cfg.run.seed)
    canvas = canvas_set(cfg, names, size) if cfg.data.canvas_test else None
    dropped = np.zeros(0, np.int64)
    if canvas is not None:  # never train on bitmaps that copy a canvas drawing
        dropped = np.intersect1d(near_copies(images, labels, *canvas), train_idx)
        train_idx = np.setdiff1d(train_idx, dropped)
    train_images, train_labels = images[train_idx], labels[train_idx]
    preferred = np.zeros(len(train_idx), bool)
    fold_line = ""
    if canvas is not None and cfg.data.canvas_folds:  # cross-validation: train on the other folds' canvas drawings
        test = canvas_test_mask(cfg, canvas[1])
        train_images = np.concatenate([train_images, canvas[0][~test]])
        train_labels = np.concatenate([train_labels, canvas[1][~test]])
        preferred = np.concatenate([preferred, np.isin(canvas[1][~test], [names.index(n) for n in synthetic])])
        fold_line = (f"- Cross-validation: the canvas drawings dealt into {cfg.data.canvas_folds} folds per class (seed {cfg.run.seed}); "
                     + (f"trained on the {int((~test).sum())} drawings of every fold but fold {cfg.data.canvas_fold}, tested on its "
                        f"{int(test.sum())}" if test.any() else f"trained on all {len(test)} of them; no canvas test set")
                     + (f"; the real doodles of {', '.join(synthetic)} are drawn {cfg.data.canvas_share:.0%} of their class's turns"
                        if preferred.any() else ""))
        canvas = (canvas[0][test], canvas[1][test]) if test.any() else None
    model_cfg = replace(cfg.model, num_classes=len(names))
    batches = BitmapBatcher(train_images, train_labels, cfg.data, size=size, num_classes=len(names), seed=cfg.run.seed,
                            rank=dist_info.rank, world_size=dist_info.world_size, preferred=preferred)
    spread = np.linspace(0, len(held_idx) - 1, min(cfg.run.num_samples, len(held_idx))).round().astype(int)
    preview_idx = held_idx[spread]
    lines = _source_lines(sources)
    summary = "\n".join([
        *lines[:-1],
        f"- Held out for evaluation: {len(held_idx)} ({cfg.data.holdout:.0%} of each class, split seed {cfg.run.seed}); "
        f"trained on {len(train_idx)}" + (f" ({len(dropped)} copies of canvas drawings left out)" if len(dropped) else ""),
        f"- Canvas test set: {len(canvas[1])} real stroke drawings from `{cfg.data.canvas_test}` drawn at {CANVAS_SIZE} px with the "
        f"{cfg.data.canvas_pen} pen" + (f" (never trained on; real doodles of {', '.join(synthetic)})" if synthetic else "")
        if canvas is not None else "- Canvas test set: none",
        *([fold_line] if fold_line else []),
        lines[-1],
    ])
    meta = {"labels": names, "image_size": size, "train_examples": int(len(train_labels)),
            "io": f"any sketch reduced to a {size} x {size} Quick, Draw!-style bitmap (icanvas.data.quickdraw.sketch_to_bitmap); "
                  f"output: probabilities of {len(names)} labels",
            "heldout_examples": int(len(held_idx)), "name": f"sketch recognizer ({len(names)} classes)"}
    if synthetic:
        meta["synthetic_labels"] = synthetic
    extra = {"names": names, "held_images": bitmaps_to_input(images[held_idx]), "held_labels": labels[held_idx], "canvas": canvas,
             "synthetic": [names.index(n) for n in synthetic]}
    trainer = RecognizerTrainer(cfg, model_cfg, device, dist_info, labels=names)
    preview = {"image": bitmaps_to_input(images[preview_idx]), "label": labels[preview_idx]}
    return Prepared(trainer, batches, preview, meta, summary, extra=extra,
                    overview=f"{len(train_idx)} training doodles in {len(names)} classes at {size} px ({len(held_idx)} held out)")


def recognizer_grid(trainer: RecognizerTrainer, preview: dict[str, np.ndarray]) -> np.ndarray:
    """Held-out doodles with the predicted label (green when right, red when wrong)."""
    probs = trainer.probabilities(preview["image"])
    truth, names = preview.get("label"), trainer.labels
    cells = []
    for i, p in enumerate(probs):
        img = (255 - preview["image"][i, 0] * 255).round().astype(np.uint8)
        cell = np.full((112, 96, 3), 255, np.uint8)  # (H, W, 3): the doodle and a caption strip below it
        cell[:96] = cv2.cvtColor(cv2.resize(img, (96, 96), interpolation=cv2.INTER_NEAREST), cv2.COLOR_GRAY2RGB)
        c = int(p.argmax())
        ok = truth is None or int(truth[i]) == c
        text = f"{names[c] if names else c} {p[c]:.2f}"
        cv2.putText(cell, text, (2, 108), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (0, 140, 0) if ok else (200, 0, 0), 1, cv2.LINE_AA)
        cells.append(cell)
    return grid([cells[i : i + 8] for i in range(0, len(cells), 8)])


def evaluate_recognizer(cfg: RecognizerTrainConfig, prepared: Prepared) -> dict[str, Any]:
    ex, trainer = prepared.extra, prepared.trainer
    synthetic = np.isin(ex["held_labels"], ex["synthetic"])  # held-out doodles drawn from photos, not by people
    probs = trainer.probabilities(ex["held_images"])
    out = {"heldout": classification_metrics(probs[~synthetic], ex["held_labels"][~synthetic], ex["names"])}
    if synthetic.any():
        out["heldout_synthetic"] = classification_metrics(probs[synthetic], ex["held_labels"][synthetic], ex["names"])
    if ex["canvas"] is not None:
        images, labels = ex["canvas"]
        canvas_probs = trainer.probabilities(bitmaps_to_input(images))
        out["canvas"] = classification_metrics(canvas_probs, labels, ex["names"])
        if cfg.data.preselect_kinds:
            out["preselect"] = preselect_threshold(canvas_probs, labels, ex["names"], list(cfg.data.preselect_kinds),
                                                   cfg.data.preselect_precision)
    out["accuracy"] = out["heldout"]["accuracy"]  # headline numbers at the top level (TensorBoard scalars)
    out["balanced_accuracy"] = out["heldout"]["balanced_accuracy"]
    if "canvas" in out:
        out["canvas_accuracy"] = out["canvas"]["accuracy"]
    return out


def recognizer_meta(cfg: RecognizerTrainConfig, prepared: Prepared, metrics: dict[str, Any] | None) -> dict[str, Any]:
    """What the finished model folder's meta learns from the last evaluation: the pre-selection threshold."""
    if cfg.data.preselect_min_prob:  # given, e.g. fitted on the out-of-fold guesses of a cross-validation
        return {"preselect_min_prob": cfg.data.preselect_min_prob, "preselect_kinds": list(cfg.data.preselect_kinds),
                "preselect_coverage": "threshold given as data.preselect_min_prob"}
    pre = (metrics or {}).get("preselect")
    if not pre or pre["threshold"] is None:
        return {}
    return {"preselect_min_prob": pre["threshold"], "preselect_kinds": pre["kinds"],
            "preselect_precision": pre["precision"], "preselect_coverage": f"{pre['selected']}/{pre['count']} canvas test drawings"}


def recognizer_card(cfg: RecognizerTrainConfig, prepared: Prepared, metrics: dict[str, Any] | None) -> str:
    if not metrics:
        return "Not evaluated."
    h, names = metrics["heldout"], metrics["heldout"]["labels"]
    real = [n for n in names if n in h["per_class"]]
    lines = [f"Held-out bitmaps ({h['count']} real doodles of {len(real)} classes, never trained on): **accuracy {h['accuracy']:.1%}**, "
             f"class-balanced accuracy {h['balanced_accuracy']:.1%}.", ""]
    hs = metrics.get("heldout_synthetic")
    if hs:
        lines += [f"Held-out doodles drawn from photos ({hs['count']}): accuracy {hs['accuracy']:.1%} (how well the drawn-from-photo "
                  "doodles are learnt, not how well real ones are recognised: see the canvas drawings).", ""]
    cv = metrics.get("canvas")
    if cv:
        lines += [f"Canvas drawings ({cv['count']} real Quick, Draw! stroke drawings drawn at {CANVAS_SIZE} px with the "
                  f"{cfg.data.canvas_pen} pen, reduced as the recognizer pipeline does): **accuracy {cv['accuracy']:.1%}**.", ""]
    lines += ["| class | held-out accuracy |" + (" canvas accuracy |" if cv else ""), "|---|---:|" + ("---:|" if cv else "")]
    for n in names:
        held = f"{h['per_class'][n]:.1%}" if n in h["per_class"] else (f"{hs['per_class'][n]:.1%} (drawn from photos)" if hs and n in hs["per_class"] else "-")
        row = f"| {n} | {held} |"
        if cv:
            row += f" {cv['per_class'][n]:.0%} |" if n in cv["per_class"] else " - |"
        lines.append(row)
    pre = metrics.get("preselect")
    if cfg.data.preselect_min_prob:
        lines += ["", f"Pre-selection: **threshold {cfg.data.preselect_min_prob:.3f}**, given as data.preselect_min_prob "
                  "(see the command above), not fitted on this run's drawings."]
    elif pre:
        if pre["threshold"] is None:
            lines += ["", f"Pre-selection: no probability threshold makes pre-selecting {', '.join(pre['kinds'])} right "
                      f"{pre['target']:.0%} of the time on the canvas drawings; the studio never pre-selects a kind."]
        else:
            lines += ["", f"Pre-selection (the studio picks the kind for the child when the top guess is one of {', '.join(pre['kinds'])}): "
                      f"**threshold {pre['threshold']:.3f}** (stored as meta.preselect_min_prob), the smallest probability from which on "
                      f"pre-selection is right >= {pre['target']:.0%} of the time on the canvas drawings: right {pre['precision']:.1%} of the "
                      f"time, {pre['selected']} of the {pre['count']} drawings pre-selected ({pre['of_kinds']} of them show one of those kinds). "
                      "The threshold is fitted on these same drawings: a small test set, so the figure is optimistic."]
    lines += ["", "Confusion matrix of the held-out bitmaps (rows: true class, columns: predicted):", "",
              confusion_markdown([row for i, row in enumerate(h["confusion"]) if names[i] in h["per_class"]], real, columns=names)]
    if cv:
        lines += ["", "Confusion matrix of the canvas drawings (rows: true class, columns: predicted):", "",
                  confusion_markdown([row for i, row in enumerate(cv["confusion"]) if names[i] in cv["per_class"]],
                                     [n for n in names if n in cv["per_class"]], columns=names)]
    return "\n".join(lines)


RECIPE = Recipe(prepare_recognizer, recognizer_grid, evaluate_recognizer, recognizer_card, final_meta=recognizer_meta)
