"""Quality of sketch-to-picture models on people's drawings and on held-out pairs; contact sheets.

    python benchmarks/quality.py --model icanvas-256 --data-root ../shared/data --prepared /work/runs/data \
        --out reports/quality

For every kind the model draws it renders the Quick, Draw! stroke drawings of that kind with
the studio's pen (the human test set), runs them through the full inference path and scores
realism (patch sliced Wasserstein distance to held-out real photos of the kind, lower is
better) and sketch adherence (F1 of the output's lines against the input lines). Where a
prepared validation split exists (``--prepared/<kind>*``) it also scores L1, SSIM, realism
and adherence on it. Prints one table and writes, per kind, ``human_<kind>.png`` (doodle |
picture) and ``val_<kind>.png`` (sketch | picture | photo) plus ``quality.json``, and per model
``samples.png``: the pictures made from the first three drawings of each kind, without the
drawings, for its model card.
Several ``--model`` values give one table with a row block per model (e.g. an ablation).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from icanvas.catalog import find_model
from icanvas.data.datasets import load_pairs
from icanvas.errors import ICanvasError
from icanvas.eval.human import generate_human, render_human_set, strokes_file
from icanvas.eval.report import run_backend, score
from icanvas.pipelines.sketch_to_image import SketchToImage
from icanvas.sheets import grid, save_png

SHEET_ROWS = 8  # drawings shown per contact sheet
CARD_ROWS = 3  # pictures per kind on a model's sample sheet (from the first drawings of the human set)


def prepared_dirs(root: Path, kind: str) -> list[Path]:
    """Prepared dataset folders of ``kind`` under ``root``: ``<kind>`` and ``<kind>_*`` (not ablation copies)."""
    return sorted(p for p in root.glob(f"{kind}*") if (p / "manifest.json").is_file()
                  and (p.name == kind or p.name.split("_", 1)[1] in ("hed", "xdog")))


def sheet_name(folders: list[Path], i: int) -> str:
    """Name of model ``i``'s sheets: its run's folder name, numbered when two models share it."""
    def name(folder: Path) -> str:
        return folder.parent.name if folder.name in ("checkpoint", "model") else folder.name  # a run's folder names it

    names = [name(f) for f in folders]
    return names[i] if names.count(names[i]) == 1 else f"{names[i]}-{names[:i + 1].count(names[i])}"


def sheet(path: Path, columns: list[np.ndarray], titles: list[str]) -> None:
    rows = [[col[i] for col in columns] for i in range(min(SHEET_ROWS, len(columns[0])))]
    save_png(path, grid(rows, titles=titles))


def evaluate_kind(pipe: SketchToImage, kind: str, strokes: Path, prepared: Path, out: Path, tag: str,
                  real_from: str = "") -> tuple[dict, np.ndarray | None]:
    """Scores of one kind, and the pictures made from people's drawings (None when there are none)."""
    result: dict = {}
    pictures = None
    dirs = prepared_dirs(prepared, kind)
    variant = prepared / f"{kind}_{real_from}"
    real_dirs = [variant] if real_from and (variant / "manifest.json").is_file() else dirs[:1]  # one folder: the photos are the same in each
    real = load_pairs(real_dirs, "val", pipe.size).photos if real_dirs else None
    try:
        doodles = render_human_set(strokes_file(strokes, kind))
        seen, outputs = generate_human(pipe, doodles, kind)
        result["human"] = score(seen, outputs, targets=None, real=real)
        pictures = outputs
        sheet(out / f"{tag}human_{kind}.png", [doodles, outputs], ["doodle", "picture"])
    except ICanvasError as e:
        result["human_error"] = str(e)
    paired = [d for d in dirs if d.name.endswith("_hed")] or dirs  # the dataset's own edges when it has them
    if paired and kind in ("shoe", "handbag"):
        pairs = load_pairs(paired, "val", pipe.size, tuple(pipe.kinds))
        outputs = run_backend(pipe, pairs.sketches, pairs.labels)
        result["val"] = score(pairs.sketches, outputs, targets=pairs.photos, real=pairs.photos)
        sheet(out / f"{tag}val_{kind}.png", [pairs.sketches, outputs, pairs.photos], ["sketch", "picture", "photo"])
    return result, pictures


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", action="append", required=True, help="model name or folder; repeat to compare")
    ap.add_argument("--data-root", type=Path, default=Path("../shared/data"), help="folder with quickdraw/strokes")
    ap.add_argument("--prepared", type=Path, required=True, help="folder of prepared datasets (<kind>, <kind>_hed, ...)")
    ap.add_argument("--kinds", nargs="*", help="kinds to score (default: every kind of each model)")
    ap.add_argument("--out", type=Path, default=Path("reports/quality"))
    ap.add_argument("--real-from", default="", metavar="SUFFIX",
                    help="score realism against the val photos of <kind>_SUFFIX where it exists (e.g. nobg: photos with their backgrounds)")
    ap.add_argument("--raw", action="store_true", help="keep the model's paint outside the drawn outlines (no keep-inside fade)")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    strokes = args.data_root / "quickdraw" / "strokes"
    report: dict = {}
    print("| model | kind | human swd | human F1 | val L1 | val SSIM | val swd | val F1 |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    folders = [find_model(name) for name in args.model]
    for i, (name, folder) in enumerate(zip(args.model, folders)):
        pipe = SketchToImage.from_pretrained(folder, keep_inside=not args.raw)
        tag = f"{sheet_name(folders, i)}_" if len(args.model) > 1 else ""
        pictures: dict[str, np.ndarray | None] = {}
        for kind in args.kinds or pipe.kinds or pipe.info.kinds:
            r, pictures[kind] = evaluate_kind(pipe, kind, strokes, args.prepared, args.out, tag, args.real_from)
            report[f"{name}:{kind}"] = r
            h, v = r.get("human", {}), r.get("val", {})

            def f(d: dict, k: str) -> str:
                return f"{d[k]:.3f}" if k in d else "-"

            print(f"| {name} | {kind} | {f(h, 'swd')} | {f(h, 'adherence_f1')} | {f(v, 'l1')} | {f(v, 'ssim')} | "
                  f"{f(v, 'swd')} | {f(v, 'adherence_f1')} |", flush=True)
        made = {k: p for k, p in pictures.items() if p is not None and len(p)}
        if made:  # pictures only (the drawings are the dataset's): the sample sheet of a model card
            n = min(CARD_ROWS, *(len(p) for p in made.values()))
            save_png(args.out / f"{tag}samples.png", grid([[made[k][i] for k in made] for i in range(n)], titles=list(made)))
    (args.out / "quality.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nSheets and quality.json in {args.out}")


if __name__ == "__main__":
    main()
