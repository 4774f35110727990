"""Realism of picture-from-nothing (dcgan) models against the photos they were trained from.

    python benchmarks/samplers.py --model runs/anime/model --data ../shared/data/photos/anime_face_64 \
        --model runs/car/model --data runs/data/car --out reports/samplers

Each ``--model`` pairs with the ``--data`` at the same position (the folder it was trained on);
the held-out photos are found exactly as training found them (``--holdout`` and ``--seed`` must
match the preset's ``data.holdout`` and ``run.seed``). Prints one table: patch SWD and colour
distance of 256 pictures from fixed latents to the held-out photos, beside the same distances
between training and held-out photos (the floor), and writes ``<name>_grid.png`` (64 pictures)
and ``<name>_real.png`` (64 held-out photos) per model, plus ``samplers.json``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from icanvas.catalog import find_model
from icanvas.data.photos import load_photo_set
from icanvas.eval.metrics import realism
from icanvas.pipelines.sampler import Sampler
from icanvas.sheets import grid, save_png

GRID_SIDE = 8  # pictures per row and column of a sheet


def sheet(images: np.ndarray) -> np.ndarray:
    n = GRID_SIDE
    return grid([list(images[r * n : (r + 1) * n]) for r in range(min(n, len(images) // n))], pad=2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", action="append", required=True, help="dcgan model name or folder; repeat")
    ap.add_argument("--data", action="append", required=True, type=Path, help="its training data folder; one per --model")
    ap.add_argument("--holdout", type=float, default=0.1, help="the preset's data.holdout")
    ap.add_argument("--seed", type=int, default=0, help="the preset's run.seed")
    ap.add_argument("--n", type=int, default=256, help="pictures generated per model")
    ap.add_argument("--eval-seed", type=int, default=1234, help="latent seed of the pictures (the presets' eval.seed)")
    ap.add_argument("--out", type=Path, default=Path("reports/samplers"))
    args = ap.parse_args()
    if len(args.model) != len(args.data):
        ap.error("give one --data per --model")
    args.out.mkdir(parents=True, exist_ok=True)
    report = {}
    print("| model | data | train / held-out photos | SWD | SWD floor | SWD / floor | colour | colour floor |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for name, data in zip(args.model, args.data):
        sampler = Sampler.from_pretrained(find_model(name))
        photos = load_photo_set([data], sampler.size, holdout=args.holdout, seed=args.seed)
        fakes = sampler.sample(args.n, args.eval_seed)
        r = realism(photos.held_out, fakes, photos.train, args.eval_seed)
        tag = Path(name).name if Path(name).name not in ("model", "checkpoint") else Path(name).parent.name
        report[tag] = {"model": str(name), "data": str(data), **r}
        save_png(args.out / f"{tag}_grid.png", sheet(fakes))
        save_png(args.out / f"{tag}_real.png", sheet(photos.held_out))
        print(f"| {tag} | `{data}` | {len(photos.train)} / {len(photos.held_out)} | {r['swd']:.1f} | {r['swd_real']:.1f} | "
              f"{r['swd'] / r['swd_real']:.2f} | {r['colour']:.1f} | {r['colour_real']:.1f} |", flush=True)
    (args.out / "samplers.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nSheets and samplers.json in {args.out}")


if __name__ == "__main__":
    main()
