"""Recognizer on real stroke doodles, through the pipeline the studio and `icanvas recognize` use.

Every Quick, Draw! stroke drawing of a label the model knows is drawn on the studio canvas
(512 px) with each pencil and guessed by ``Recognizer.predict``; prints top-1 accuracy per pen
and per class, and how pre-selection does at the model's own threshold (meta.preselect_min_prob):
how often it is right and how many drawings it pre-selects.

    python benchmarks/recognizer.py --strokes ../shared/data/quickdraw/strokes [--model recognizer]
        [--bitmaps ../shared/data/quickdraw/bitmaps]   # also: accuracy on the held-out bitmaps (10%, split seed 0)

Cross-validation (``--folds RUN...``, the runs of ``icanvas train --config recognizer --set
data.canvas_folds=K --set data.canvas_fold=k`` for k = 0..K-1): every canvas drawing is guessed by
the one fold model that never trained on it; prints the pooled per-class accuracy, the confusion
of the classes drawn from photos, and the pre-selection threshold fitted on these out-of-fold
guesses (``--threshold-out FILE`` writes it, for the final run's data.preselect_min_prob).

    python benchmarks/recognizer.py --folds runs/rec-fold0 runs/rec-fold1 ... [--threshold-out t.txt]
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


def cross_validation(runs: list[Path], threshold_out: Path | None) -> None:
    """Pool the out-of-fold guesses of the fold runs ``runs`` (see the module doc)."""
    import yaml

    from icanvas.checkpoint import from_pretrained
    from icanvas.config import train_config_from_dict
    from icanvas.eval.classification import classification_metrics, confusion_markdown, preselect_threshold
    from icanvas.training.recognizer import canvas_set, canvas_test_mask

    probs, labels, names, cfg = [], [], None, None
    for run in runs:
        cfg = train_config_from_dict(yaml.safe_load((run / "config.yaml").read_text()))
        model, info = from_pretrained(run / "model")
        if names is not None and info.meta["labels"] != names:
            raise SystemExit(f"{run} knows other labels than {runs[0]}.")
        names = info.meta["labels"]
        images, lab = canvas_set(cfg, names, cfg.model.image_size)
        test = canvas_test_mask(cfg, lab)
        model.eval()
        with torch.inference_mode():
            probs.append(torch.softmax(model(torch.from_numpy(bitmaps_to_input(images[test]))), 1).numpy())
        labels.append(lab[test])
        print(f"- `{run}`: fold {cfg.data.canvas_fold} of {cfg.data.canvas_folds}, {int(test.sum())} drawings, "
              f"right {int((probs[-1].argmax(1) == lab[test]).sum())}")
    p, y = np.concatenate(probs), np.concatenate(labels)
    m = classification_metrics(p, y, names)
    synthetic = [n for n in names if n in set(info.meta.get("synthetic_labels", []))]
    real = [n for n in names if n not in synthetic and n in m["per_class"]]
    def share(group: list[str]) -> str:
        sel = np.isin(y, [names.index(n) for n in group])
        return f"{int((p[sel].argmax(1) == y[sel]).sum())}/{int(sel.sum())} = {(p[sel].argmax(1) == y[sel]).mean():.1%}"
    print(f"\n{len(y)} canvas drawings, each guessed by the fold model that never trained on it: accuracy {m['accuracy']:.1%}")
    print(f"classes with real bitmaps ({len(real)}): {share(real)}; classes without real bitmaps ({', '.join(synthetic)}): {share(synthetic)}\n")
    print("| class | accuracy |\n|---|---:|")
    for n in names:
        if n in m["per_class"]:
            print(f"| {n} | {m['per_class'][n]:.0%} |")
    if synthetic:
        rows = [m["confusion"][names.index(n)] for n in synthetic]
        print("\nConfusion of the classes without real bitmaps (rows: true, columns: guessed):\n")
        print(confusion_markdown(rows, synthetic, columns=names))
    pre = preselect_threshold(p, y, names, list(cfg.data.preselect_kinds), cfg.data.preselect_precision)
    if pre["threshold"] is None:
        print(f"\nno threshold makes pre-selection right {pre['target']:.0%} of the time on these guesses")
        return
    print(f"\npre-selection threshold {pre['threshold']:.4f}: right {pre['precision']:.1%} of the time, "
          f"{pre['selected']} of {pre['count']} drawings pre-selected ({pre['of_kinds']} show one of {', '.join(pre['kinds'])})")
    if threshold_out:
        threshold_out.write_text(f"{pre['threshold']}\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--strokes", type=Path, help="folder of Quick, Draw! <class>.ndjson stroke files")
    ap.add_argument("--folds", type=Path, nargs="+", help="the fold runs of a cross-validation (see above)")
    ap.add_argument("--threshold-out", type=Path, help="with --folds: write the fitted pre-selection threshold here")
    ap.add_argument("--model", default="recognizer", help="recognizer model folder or name")
    ap.add_argument("--file", action="append", default=["handbag=purse"], help="label=stem where a stroke file has another name")
    ap.add_argument("--bitmaps", type=Path, help="Quick, Draw! bitmap folder: also report the held-out bitmaps' accuracy")
    args = ap.parse_args()
    if args.folds:
        cross_validation(args.folds, args.threshold_out)
        return
    if not args.strokes:
        ap.error("--strokes (or --folds) is needed")
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
