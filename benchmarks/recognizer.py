"""Recognizer on real stroke doodles, through the pipeline the studio and `icanvas recognize` use.

Every Quick, Draw! stroke drawing of a label the model knows is drawn on the studio canvas
(512 px) with each pencil and guessed by ``Recognizer.predict``; prints top-1 accuracy per pen
and per class, and how pre-selection does at the model's own threshold (meta.preselect_min_prob):
how often it is right and how many drawings it pre-selects.

    python benchmarks/recognizer.py --strokes ../shared/data/quickdraw/strokes [--model recognizer]
        [--bitmaps ../shared/data/quickdraw/bitmaps]   # also: accuracy on the held-out bitmaps (10%, split seed 0)
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from icanvas.catalog import find_model
from icanvas.data.canvas import CANVAS_SIZE, PEN_WIDTHS, render_strokes
from icanvas.data.quickdraw import bitmaps_to_input, holdout_split, load_bitmaps, read_strokes
from icanvas.pipelines.recognizer import Recognizer


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--strokes", type=Path, required=True, help="folder of Quick, Draw! <class>.ndjson stroke files")
    ap.add_argument("--model", default="recognizer", help="recognizer model folder or name")
    ap.add_argument("--file", action="append", default=["handbag=purse"], help="label=stem where a stroke file has another name")
    ap.add_argument("--bitmaps", type=Path, help="Quick, Draw! bitmap folder: also report the held-out bitmaps' accuracy")
    args = ap.parse_args()
    rec = Recognizer.from_pretrained(find_model(args.model))
    if args.bitmaps:
        images, labels, names = load_bitmaps(args.bitmaps)
        _, held = holdout_split(labels, 0.1, 0)  # the training recipe's split (data.holdout 0.1, run.seed 0)
        with torch.inference_mode():
            pred = np.concatenate([rec.model(torch.from_numpy(bitmaps_to_input(images[held[i : i + 512]]))).argmax(1).numpy()
                                   for i in range(0, len(held), 512)])
        right = int((np.asarray(rec.labels)[pred] == np.asarray(names)[labels[held]]).sum())
        print(f"held-out bitmaps: {right}/{len(held)} = {right / len(held):.1%}")
    stems = dict(e.split("=") for e in args.file)
    kinds = set(rec.info.meta.get("preselect_kinds", [])) if rec.info else set()
    threshold = rec.preselect_min_prob
    drawings = [(label, s) for label in rec.labels if (args.strokes / f"{stems.get(label, label)}.ndjson").is_file()
                for s in read_strokes(args.strokes / f"{stems.get(label, label)}.ndjson")]
    print(f"{len(drawings)} real doodles of {len({d[0] for d in drawings})} labels; pre-selection threshold {threshold}")
    print("| pen | accuracy | pre-selected right | pre-selected | median ms |")
    print("|---|---:|---:|---:|---:|")
    per_class: dict[str, list[bool]] = {}
    for pen in PEN_WIDTHS:
        hits, chosen, right, ms = 0, 0, 0, []
        for label, strokes in drawings:
            canvas = render_strokes(strokes, CANVAS_SIZE, pen)
            t0 = time.perf_counter()
            top, prob = rec.predict(canvas, top=1)[0]
            ms.append(1000 * (time.perf_counter() - t0))
            hits += top == label
            if pen == "medium":
                per_class.setdefault(label, []).append(top == label)
            if threshold is not None and top in kinds and prob >= threshold:
                chosen += 1
                right += top == label
        prec = f"{right}/{chosen} = {right / chosen:.1%}" if chosen else "-"
        print(f"| {pen} | {hits}/{len(drawings)} = {hits / len(drawings):.1%} | {prec} | {chosen}/{len(drawings)} | {np.median(ms):.0f} |")
    print("\nmedium pen, per class: " + ", ".join(f"{k} {sum(v)}/{len(v)}" for k, v in per_class.items()))


if __name__ == "__main__":
    main()
