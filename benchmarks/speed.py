"""Inference and training speed on this machine, printed as tables.

    python benchmarks/speed.py                 # everything (a few minutes on 2 cores)
    python benchmarks/speed.py --skip-train    # inference only
    python benchmarks/speed.py --threads 2 --repeats 20

Inference: ms per image at batch 1 and images/s at batch 8, eager PyTorch and onnxruntime,
for the reference pix2pix generator (U-Net 256, ngf 64, batch norm) and our presets' generators.
Training: images/s per preset, and the time spent building batches (decoding is done once,
so this is jitter + sketchify + hints) as a share of a training step.
Training paths: images/s of the bundled models' recipe's step in fp32 NCHW with the "resize"
upsampling computed literally (the old path), and with bf16 autocast, channels-last and the folded
upsampling (computed as its equal transposed conv), with the speed-up over the old path, in the same run.
    python benchmarks/speed.py --train-only --train-batch 4
All numbers are medians of ``--repeats`` timed runs after warm-up.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from icanvas.checkpoint import ModelInfo
from icanvas.config import load_train_config, replace
from icanvas.models.unet import UNetGenerator, count_parameters
from icanvas.pipelines.sketch_to_image import SketchToImage
from icanvas.runtime.onnx import OnnxBackend, TorchBackend, export_onnx
from icanvas.runtime.quantize import int8_possible, quantize_onnx
from icanvas.training.loop import cpu_has_bf16

GENERATORS = {  # label -> preset whose generator is measured
    "reference pix2pix 256 (ngf 64, BN)": "pix2pix-reference",
    "ours icanvas-256-crayon (bundled, one per kind, crayons)": "icanvas-256-crayon",
    "ours icanvas-256-kind (bundled panda)": "icanvas-256-kind",
    "ours icanvas-256 (class-conditional base)": "icanvas-256",
    "ours pix2pix-256": "pix2pix-256",
    "ours pix2pix-128": "pix2pix-128",
}
TRAIN_PRESETS = ["pix2pix-128", "pix2pix-256"]
SAMPLER_PRESETS = ["dcgan-anime_face"]  # unconditional generators: ms per picture in PyTorch


def median_time(fn, repeats: int, warmup: int = 2) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def bench_inference(repeats: int, threads: int) -> list[tuple]:
    rows = []
    tmp = Path(tempfile.mkdtemp())
    for label, preset in GENERATORS.items():
        cfg = load_train_config(preset).generator
        torch.manual_seed(0)
        g = UNetGenerator(cfg).eval()
        info = ModelInfo(path=tmp, method="pix2pix", config=cfg)
        onnx_path = export_onnx(g, info, tmp / f"{preset}.onnx")
        eager, ort = TorchBackend(g), OnnxBackend(onnx_path, threads=threads)
        x1 = np.random.default_rng(0).uniform(-1, 1, (1, cfg.in_channels + cfg.hint_channels, cfg.image_size, cfg.image_size)).astype(np.float32)
        x8 = np.repeat(x1, 8, axis=0)
        lab1, lab8 = (np.zeros(1, np.int64), np.zeros(8, np.int64)) if cfg.num_classes else (None, None)
        r = [label, cfg.image_size, count_parameters(g) / 1e6]
        backends = [eager, ort]
        if int8_possible(g):  # made from the studio's calibration drawings, as `--backend int8` makes it
            feeds = SketchToImage(eager, info).calibration_feeds()
            int8_path = quantize_onnx(export_onnx(g, info, tmp / f"{preset}-subpixel.onnx", upsampling="subpixel"), feeds,
                                      tmp / f"{preset}-int8.onnx")
            backends.append(OnnxBackend(int8_path, threads=threads))
        for backend in backends:
            r.append(1000 * median_time(lambda: backend(x1, lab1), repeats))
            r.append(8 / median_time(lambda: backend(x8, lab8), max(3, repeats // 4)))
        rows.append(tuple(r + [None, None][: 9 - len(r)]))
    return rows


def bench_samplers(repeats: int) -> list[tuple]:
    from icanvas.models.dcgan import DCGANGenerator, latent_vectors

    rows = []
    for preset in SAMPLER_PRESETS:
        cfg = load_train_config(preset).generator
        torch.manual_seed(0)
        g = DCGANGenerator(cfg).eval()
        z1, z16 = torch.from_numpy(latent_vectors(1, cfg.latent_dim, 0)), torch.from_numpy(latent_vectors(16, cfg.latent_dim, 0))
        with torch.inference_mode():
            b1 = median_time(lambda: g(z1), repeats)
            b16 = median_time(lambda: g(z16), max(3, repeats // 4))
        rows.append((preset, cfg.image_size, count_parameters(g) / 1e6, 1000 * b1, 16 / b16))
    return rows


def _synthetic_pairs(n: int, size: int):
    from icanvas.data.datasets import PairedImages
    from icanvas.data.edges import extract_lines

    rng = np.random.default_rng(0)
    photos = np.full((n, size, size, 3), 240, np.uint8)
    sketches = np.empty((n, size, size), np.uint8)
    import cv2

    for i in range(n):
        c = tuple(int(v) for v in rng.integers(20, 200, 3))
        cv2.ellipse(photos[i], (size // 2, size // 2), (size // 3, size // 4), float(rng.uniform(0, 180)), 0, 360, c, -1)
        sketches[i] = extract_lines(photos[i], "xdog")
    return PairedImages(sketches, photos, np.zeros(n, np.int64), [], [f"{i}" for i in range(n)])


def bench_training(steps: int) -> list[tuple]:
    from icanvas.data.datasets import PairBatcher
    from icanvas.data.sketchify import Sketchify
    from icanvas.training.pix2pix import Pix2PixTrainer

    rows = []
    for preset in TRAIN_PRESETS:
        cfg = load_train_config(preset)
        cfg = replace(cfg, run=replace(cfg.run, steps=1000))
        size, bs = cfg.generator.image_size, cfg.run.batch_size
        data = _synthetic_pairs(32, size)
        batches = PairBatcher(data, cfg.data, cfg.hints, Sketchify(cfg.sketchify, size), seed=0)
        trainer = Pix2PixTrainer(cfg, torch.device("cpu"))
        step_times, data_times = [], []
        for s in range(steps + 1):
            t0 = time.perf_counter()
            b = batches.batch(s, bs)
            t1 = time.perf_counter()
            trainer.train_step(b)
            t2 = time.perf_counter()
            if s:  # first step is warm-up
                data_times.append(t1 - t0)
                step_times.append(t2 - t1)
        step, dat = statistics.median(step_times), statistics.median(data_times)
        rows.append((preset, size, bs, bs / step, 1000 * step, 1000 * dat, 100 * dat / step))
    return rows


TRAIN_PATHS = {  # label -> run settings; the first is the baseline the others are compared with
    "fp32, NCHW, literal upsampling (the old path)": {"precision": "fp32", "channels_last": False, "fold_upsampling": False},
    "fp32, folded upsampling": {"precision": "fp32", "channels_last": False},
    "bf16 autocast, literal upsampling": {"precision": "bf16", "channels_last": False, "fold_upsampling": False},
    "bf16 autocast + channels-last, literal upsampling": {"precision": "bf16", "channels_last": True, "fold_upsampling": False},
    "bf16 autocast + folded upsampling (the new CPU path)": {"precision": "bf16", "channels_last": False},
    "bf16 autocast + folded upsampling + channels-last": {"precision": "bf16", "channels_last": True},
}


def bench_training_paths(preset: str, steps: int, batch_size: int = 0) -> list[tuple]:
    """Images/s of one preset's training step on this CPU along each of TRAIN_PATHS, same data and seed
    (``batch_size``: 0 = the preset's)."""
    from icanvas.models.layers import set_upsampling_fold
    from icanvas.training.pix2pix import Pix2PixTrainer

    rows = []
    for label, run in TRAIN_PATHS.items():
        cfg = load_train_config(preset)
        cfg = replace(cfg, run=replace(cfg.run, steps=1000, device="cpu", batch_size=batch_size or cfg.run.batch_size, **run))
        size, bs = cfg.generator.image_size, cfg.run.batch_size
        rng = np.random.default_rng(0)
        batch = {"sketch": rng.uniform(-1, 1, (bs, 1, size, size)).astype(np.float32),
                 "photo": rng.uniform(-1, 1, (bs, 3, size, size)).astype(np.float32),
                 "label": np.zeros(bs, np.int64)}
        if cfg.generator.hint_channels:
            batch["hint"] = np.zeros((bs, cfg.generator.hint_channels, size, size), np.float32)
        torch.manual_seed(0)
        trainer = Pix2PixTrainer(cfg, torch.device("cpu"))
        set_upsampling_fold(trainer.G, cfg.run.fold_upsampling)  # as the training loop does
        step = median_time(lambda: trainer.train_step(batch), steps, warmup=1)
        rows.append((label, size, bs, bs / step, 1000 * step))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=os.cpu_count(), help="CPU threads for both runtimes")
    ap.add_argument("--repeats", type=int, default=20, help="timed runs per measurement")
    ap.add_argument("--train-steps", type=int, default=6, help="timed training steps per preset")
    ap.add_argument("--train-batch", type=int, default=0, help="batch size of the training-paths table (0 = the preset's)")
    ap.add_argument("--train-only", action="store_true", help="only the training tables")
    ap.add_argument("--skip-train", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, threads={args.threads}, torch {torch.__version__}")
    if not args.train_only:
        print()
        print("| generator | px | params (M) | eager ms/img (b1) | eager img/s (b8) | onnxruntime ms/img (b1) | onnxruntime img/s (b8) "
              "| int8 ms/img (b1) | int8 img/s (b8) |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        rows = bench_inference(args.repeats, args.threads)
        for r in rows:
            int8 = f"{r[7]:.1f} | {r[8]:.1f}" if r[7] is not None else "- | -"
            print(f"| {r[0]} | {r[1]} | {r[2]:.1f} | {r[3]:.1f} | {r[4]:.1f} | {r[5]:.1f} | {r[6]:.1f} | {int8} |")
        ref = rows[0][5]
        for r in rows[1:]:
            faster = f"onnxruntime {ref / r[5]:.1f}x" + (f", int8 {ref / r[7]:.1f}x" if r[7] is not None else "")
            print(f"\n{r[0]}: {faster} faster than the reference at batch 1", end="")
        print("\n(int8: 8-bit weights and activations; its pictures beside the float ones: benchmarks/int8.py)\n")
        print("| sampler preset | px | params (M) | eager ms/picture (b1) | eager pictures/s (b16) |")
        print("|---|---:|---:|---:|---:|")
        for r in bench_samplers(args.repeats):
            print(f"| {r[0]} | {r[1]} | {r[2]:.1f} | {r[3]:.1f} | {r[4]:.0f} |")
        print()
    if args.skip_train:
        return
    print("| training preset | px | batch | images/s | ms/step | batch build ms | batch build / step |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in bench_training(args.train_steps):
        print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]:.2f} | {r[4]:.0f} | {r[5]:.1f} | {r[6]:.1f}% |")
    preset = "icanvas-256-crayon"
    print(f"\nTraining paths of {preset} (the bundled models' recipe) on this CPU (one step, median of "
          f"{args.train_steps}; same weights and batch; bf16: {'native' if cpu_has_bf16() else 'emulated'}):\n")
    print("| path | px | batch | images/s | ms/step | speed-up |")
    print("|---|---:|---:|---:|---:|---:|")
    paths = bench_training_paths(preset, args.train_steps, args.train_batch)
    for r in paths:
        print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]:.2f} | {r[4]:.0f} | {r[3] / paths[0][3]:.2f}x |")
    print("\n(the training loop builds the next batch in a background thread while the current one trains,")
    print(" so the wait it logs as data_wait_fraction in metrics.jsonl is at most the share above)")


if __name__ == "__main__":
    main()
