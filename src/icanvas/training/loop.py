"""The shared training loop: run folder, progress, logs, samples, checkpoints, exact resume.

Run folder layout::

    RUN_DIR/config.yaml        resolved config, written before anything else
    RUN_DIR/metrics.jsonl      one JSON object per logged step
    RUN_DIR/tb/                TensorBoard scalars
    RUN_DIR/samples/*.png      sample grids
    RUN_DIR/checkpoint/        latest model folder + train_state.pt (for --resume)
    RUN_DIR/model/             the finished model folder (config.json, weights, card.md)
"""

from __future__ import annotations

import json
import logging
import os
import platform
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch
import yaml
from tqdm import tqdm

from icanvas import __version__
from icanvas.checkpoint import TRAIN_STATE_FILE, save_pretrained
from icanvas.config import to_dict, train_config_from_dict
from icanvas.errors import CheckpointError, ConfigError
from icanvas.methods import get_method
from icanvas.models.layers import set_upsampling_fold
from icanvas.models.unet import count_parameters
from icanvas.sheets import save_png
from icanvas.training import distributed as dist_util

log = logging.getLogger("icanvas.train")


@dataclass(frozen=True)
class TrainResult:
    run_dir: Path
    model_dir: Path
    steps: int
    seconds: float
    data_fraction: float  # share of wall time spent waiting for batches


def select_device(name: str) -> torch.device:
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("run.device is 'cuda' but no CUDA GPU is available.", "Use run.device=auto or cpu.")
    if name == "cpu" or (name == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))


def load_run_config(run_dir: Path, overrides: list[str]) -> Any:
    """The resolved config of an existing run, with ``--set`` overrides (e.g. more steps)."""
    from icanvas.config import apply_overrides

    path = run_dir / "config.yaml"
    if not path.is_file():
        raise ConfigError(f"{run_dir} has no config.yaml, so there is nothing to resume.", "Start a new run without --resume.")
    return train_config_from_dict(apply_overrides(yaml.safe_load(path.read_text()) or {}, overrides))


def _flat(d: Any, prefix: str = "") -> dict[str, Any]:
    """A nested config dict as {dotted key: value} (an empty section is one value)."""
    if isinstance(d, dict) and d:
        return {k: v for key, value in d.items() for k, v in _flat(value, f"{prefix}.{key}" if prefix else str(key)).items()}
    return {prefix: d}


def _warn_changed_settings(path: Path, now: dict[str, Any]) -> None:
    """A resumed run whose settings differ from the saved ones says which, so a setting given only to the
    first invocation (``--config`` again with fewer ``--set``) is not lost unnoticed."""
    try:
        saved = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError):
        return
    a, b = _flat(saved), _flat(now)
    changes = [f"{k}: {a.get(k, '(unset)')} -> {b.get(k, '(unset)')}" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
    if changes:
        log.warning("--resume changes %d setting(s) of this run: %s. To keep the saved settings, resume without --config "
                    "and --set only what should change.", len(changes), "; ".join(changes))


def _checkpoint_dir(run_dir: Path) -> Path | None:
    for name in ("checkpoint", "checkpoint.old"):  # .old survives a crash in the middle of a swap
        if (run_dir / name / TRAIN_STATE_FILE).is_file():
            return run_dir / name
    return None


@dataclass
class _History:
    """What a run's card reports across --resume: wall time of every invocation and their commands."""

    seconds: float = 0.0  # of the invocations before this one
    commands: list[str] = field(default_factory=list)  # first the one that started the run
    origin: str = ""  # what run.init_from started from, for the card


def _save_checkpoint(run_dir: Path, prepared: Any, cfg: Any, step: int, history: _History) -> None:
    tmp, final, old = run_dir / "checkpoint.tmp", run_dir / "checkpoint", run_dir / "checkpoint.old"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        save_pretrained(prepared.trainer.generator, tmp, method=cfg.method, config=prepared.trainer.model_config, meta=prepared.meta)
        state = {"step": step, "trainer": prepared.trainer.state_dict(), "torch_rng": torch.get_rng_state(),
                 "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [], "version": __version__,
                 "history": {"seconds": history.seconds, "commands": history.commands, "origin": history.origin}}
        torch.save(state, tmp / TRAIN_STATE_FILE)
        if final.exists():
            shutil.rmtree(old, ignore_errors=True)
            final.rename(old)
        tmp.rename(final)
        shutil.rmtree(old, ignore_errors=True)
    except (OSError, RuntimeError) as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise CheckpointError(
            f"Could not write the checkpoint at step {step} in {run_dir}: {e}.",
            "Free some disk space, then continue with --resume; the previous checkpoint is intact.",
        ) from e


def _load_checkpoint(ckpt: Path, prepared: Any) -> tuple[int, _History]:
    try:
        state = torch.load(ckpt / TRAIN_STATE_FILE, map_location="cpu", weights_only=False)
        prepared.trainer.load_state_dict(state["trainer"])
    except Exception as e:  # noqa: BLE001 - any unpickling/shape problem means the same thing here
        raise CheckpointError(f"{ckpt / TRAIN_STATE_FILE} cannot be loaded ({e}).", "It is damaged; start a new run or restore it.") from e
    torch.set_rng_state(state["torch_rng"])
    if state.get("cuda_rng") and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda_rng"])
    past = state.get("history") or {}
    return int(state["step"]), _History(float(past.get("seconds", 0.0)), list(past.get("commands", [])), str(past.get("origin", "")))


def _warm_start(cfg: Any, prepared: Any) -> str:
    """Load ``run.init_from`` into a fresh trainer; returns the card's line on where the weights came from."""
    from icanvas.training.warm_start import read_start_point

    if not hasattr(prepared.trainer, "warm_start"):
        raise ConfigError(f"run.init_from is not available for {cfg.method} runs.", "Remove run.init_from from the preset.")
    start = read_start_point(cfg.run.init_from)
    if start.method != cfg.method:
        raise ConfigError(f"run.init_from: {start.folder} is a {start.method} run, and this is a {cfg.method} run.",
                          "Start from a run of the same method.")
    prepared.trainer.warm_start(start.trainer, start.kinds)
    notes = ([f"{start.seconds / 60:.1f} min of training"] if start.seconds else []) + \
        ([f"started with `{start.commands[0]}`"] if start.commands else [])
    kinds = "".join(f"; its {source} for {new}" for new, source in cfg.run.kind_sources().items())
    if start.model_only:
        return f"the model folder `{start.folder}` (its generator; the discriminator started from random weights{kinds})"
    return f"`{start.folder}` at step {start.step}" + (f" ({'; '.join(notes)}{kinds})" if notes else f" ({kinds[2:]})" if kinds else "")


_NOT_EVALUATED = "Not evaluated yet: run `icanvas evaluate --model <this folder> --data <prepared val folder> --out <report>`."


def _card(cfg: Any, prepared: Any, result_steps: int, seconds: float, commands: list[str], device: torch.device,
          metrics: str = _NOT_EVALUATED, origin: str = "") -> str:
    g = prepared.trainer.generator
    mc = to_dict(prepared.trainer.model_config)
    hints = " + colour hints" if prepared.meta.get("hints") else ""
    io = prepared.meta.get("io") or f"sketch (black lines on white){hints}; output: RGB picture"
    title = ", ".join(prepared.meta.get("kinds", [])) or prepared.meta.get("name", "unnamed")
    steps = f"- Steps: {result_steps} at batch {cfg.run.batch_size} per process"
    if hasattr(cfg, "loss"):  # GAN methods
        steps += f"; loss `{cfg.loss.gan}`"
    training = [steps]
    if hasattr(cfg, "sketchify"):
        training.append(f"- Sketchify augmentation: {'on' if cfg.sketchify.enabled else 'off'}")
    if cfg.method == "dcgan":  # unconditional GANs: the stabilisers in use
        training.append(f"- Stabilisers: EMA of G {cfg.ema.decay or 'off'}; differentiable augmentation "
                        f"{', '.join(cfg.augment.policy) or 'off'}; label smoothing {cfg.loss.label_smoothing or 'off'}; "
                        f"spectral norm in D {'on' if cfg.discriminator.spectral_norm else 'off'}")
    elif cfg.method == "pix2pix":  # what shapes the pictures beyond L1 + GAN
        training.append(f"- EMA of G {cfg.ema.decay or 'off'}; discriminator scales {cfg.discriminator.num_scales}; "
                        f"feature matching {cfg.loss.lambda_fm or 'off'}; L1 weight {cfg.loss.lambda_l1:g}; "
                        f"precision {cfg.run.precision}")
    runs = f" in {len(commands)} invocations (--resume)" if len(commands) > 1 else ""
    training += [f"- Time: {seconds / 60:.1f} min{runs} on {device.type} ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)",
                 f"- Command: `{commands[0] if commands else ''}`"]
    training += [f"- Continued with: `{c}`" for c in commands[1:]]
    training += [f"- Started from the weights of {origin}"] if origin else []
    training += [f"- iCanvas {__version__}"]
    nl = "\n"
    return f"""# iCanvas model: {title} ({cfg.method})

## Model
- Method: {cfg.method}; parameters: {count_parameters(g) / 1e6:.2f} M
- Architecture: `{json.dumps(mc)}`
- Input: {io}

## Data
{prepared.data_summary}

## Training
{nl.join(training)}

## Metrics
{metrics}
"""


def _write_eval(metrics: dict[str, Any], step: int, elapsed: float, metrics_file: Any, writer: Any, bar: Any = None) -> None:
    """One metrics.jsonl row {"step", "time_s", "eval"}; top-level numbers also go to TensorBoard as eval/<key>
    and are printed above the progress bar."""
    numbers = {k: v for k, v in metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    if bar is not None and numbers:
        bar.write(f"step {step} evaluation: " + ", ".join(f"{k} {v:g}" for k, v in numbers.items()))
    metrics_file.write(json.dumps({"step": step, "time_s": round(elapsed, 2), "eval": metrics}) + "\n")
    metrics_file.flush()
    for k, v in metrics.items():
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            writer.add_scalar(f"eval/{k}", v, step)


def cpu_has_bf16() -> bool:
    """Whether this CPU computes bf16 natively (AVX-512 BF16 or AMX); elsewhere bf16 autocast is emulated and slow."""
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def run_training(cfg: Any, data_dirs: list[Path], run_dir: Path, *, resume: bool = False, command: str = "",
                 stop_at: int | None = None, max_minutes: float = 0.0) -> TrainResult:
    """Train ``cfg`` on the prepared ``data_dirs``, writing everything under ``run_dir``.

    ``stop_at`` (a step) or ``max_minutes`` end this invocation early with a checkpoint; the
    run then continues exactly with ``resume=True``. ``TrainResult.steps`` tells where it stopped.
    """
    run_dir = Path(run_dir)
    device = select_device(cfg.run.device)
    if device.type == "cuda":  # fixed input sizes: let cuDNN pick its fastest kernels; TF32 for fp32 matmuls
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    info = dist_util.init_distributed(device)
    if cfg.run.threads or info.enabled:
        torch.set_num_threads(cfg.run.threads or max(1, (os.cpu_count() or 1) // info.world_size))
    ckpt = _checkpoint_dir(run_dir)
    if ckpt is not None and not resume:
        raise ConfigError(f"{run_dir} already holds a training run.", "Add --resume to continue it, or choose another --out.")
    if resume and ckpt is None:
        raise ConfigError(f"--resume: {run_dir} has no checkpoint yet.", "Start the run without --resume.")
    if info.is_main:
        run_dir.mkdir(parents=True, exist_ok=True)
        resolved = to_dict(cfg)
        if resume:
            _warn_changed_settings(run_dir / "config.yaml", resolved)
        (run_dir / "config.yaml").write_text(yaml.safe_dump(resolved, sort_keys=False))
    dist_util.barrier(info)

    recipe = get_method(cfg.method).recipe()
    prepared = recipe.prepare(cfg, data_dirs, device, info)
    set_upsampling_fold(prepared.trainer.modules_for_fingerprint(), cfg.run.fold_upsampling)
    if cfg.run.precision == "bf16" and device.type == "cpu" and not cpu_has_bf16():
        log.warning("run.precision is bf16, but this CPU has no bf16 instructions (AVX-512 BF16 or AMX): "
                    "training will be slower than in fp32. Add --set run.precision=fp32.")
    final_eval: dict[str, Any] | None = None
    start, history = _load_checkpoint(ckpt, prepared) if ckpt is not None else (0, _History())
    if ckpt is None and cfg.run.init_from:
        history.origin = _warm_start(cfg, prepared)
    history.commands.append(command)
    steps, bs = cfg.run.steps, cfg.run.batch_size
    writer = None
    if info.is_main:
        from torch.utils.tensorboard import SummaryWriter

        writer = SummaryWriter(str(run_dir / "tb"))
    metrics_file = (run_dir / "metrics.jsonl").open("a") if info.is_main else None
    bar = tqdm(total=steps, initial=start, disable=not info.is_main, desc="train", dynamic_ncols=True, mininterval=1.0)
    t_start, waited = time.perf_counter(), 0.0
    pool = ThreadPoolExecutor(max_workers=1)  # builds the next batch while this one trains
    future = pool.submit(prepared.batches.batch, start, bs) if start < steps else None
    last = steps if stop_at is None else min(steps, stop_at)
    done = start
    try:
        for step in range(start, last):
            if max_minutes and time.perf_counter() - t_start > 60 * max_minutes:
                break
            t0 = time.perf_counter()
            batch = future.result()
            waited += time.perf_counter() - t0
            future = pool.submit(prepared.batches.batch, step + 1, bs) if step + 1 < steps else None
            losses = prepared.trainer.train_step(batch)
            done = step + 1
            bar.update(1)
            if info.is_main and (done % cfg.run.log_every == 0 or done == steps):
                elapsed = time.perf_counter() - t_start
                row = {"step": done, "time_s": round(elapsed, 2), **{k: round(v, 5) for k, v in losses.items()},
                       "data_wait_fraction": round(waited / max(elapsed, 1e-9), 4)}
                metrics_file.write(json.dumps(row) + "\n")
                metrics_file.flush()
                for k, v in losses.items():
                    writer.add_scalar(k, v, done)
                bar.set_postfix({k: f"{v:.3f}" for k, v in losses.items() if k.startswith("loss")})
            if info.is_main and ((cfg.run.sample_every and done % cfg.run.sample_every == 0) or done == steps):
                save_png(run_dir / "samples" / f"step_{done:07d}.png", recipe.sample_grid(prepared.trainer, prepared.preview))
            if info.is_main and recipe.evaluate and cfg.run.eval_every and done % cfg.run.eval_every == 0 and done < steps:
                _write_eval(recipe.evaluate(cfg, prepared), done, time.perf_counter() - t_start, metrics_file, writer, bar)
            if done % cfg.run.checkpoint_every == 0 or done == steps or done == last:
                if info.is_main:
                    _save_checkpoint(run_dir, prepared, cfg, done, replace(history, seconds=history.seconds + time.perf_counter() - t_start))
                dist_util.barrier(info)
        if info.is_main and recipe.evaluate and done == steps:  # the finished model is always evaluated
            final_eval = recipe.evaluate(cfg, prepared)
            _write_eval(final_eval, done, time.perf_counter() - t_start, metrics_file, writer, bar)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        bar.close()
        if metrics_file:
            metrics_file.close()
        if writer:
            writer.close()
    seconds = time.perf_counter() - t_start
    if done < steps:  # stopped early: the checkpoint is the result
        if info.is_main and done % cfg.run.checkpoint_every != 0 and done != last:
            _save_checkpoint(run_dir, prepared, cfg, done, replace(history, seconds=history.seconds + seconds))
        dist_util.barrier(info)
        dist_util.shutdown(info)
        return TrainResult(run_dir, run_dir / "checkpoint", done, seconds, waited / max(seconds, 1e-9))
    fingerprints = dist_util.gather_fingerprints(info, dist_util.weight_fingerprint(prepared.trainer.modules_for_fingerprint()))
    model_dir = run_dir / "model"
    if info.is_main:
        if info.enabled:
            (run_dir / "distributed.json").write_text(json.dumps({"world_size": info.world_size, "fingerprints": fingerprints}))
        metrics = recipe.card_extra(cfg, prepared, final_eval) if recipe.card_extra else _NOT_EVALUATED
        if recipe.final_meta:
            prepared.meta.update(recipe.final_meta(cfg, prepared, final_eval))
        card = _card(cfg, prepared, steps, history.seconds + seconds, history.commands, device, metrics, history.origin)
        save_pretrained(prepared.trainer.generator, model_dir, method=cfg.method, config=prepared.trainer.model_config,
                        meta=prepared.meta, card=card)
        if recipe.finish:
            recipe.finish(cfg, prepared, run_dir)
    dist_util.barrier(info)
    dist_util.shutdown(info)
    return TrainResult(run_dir, model_dir, done, seconds, waited / max(seconds, 1e-9))
