"""The int8 generators against the float ones they come from: speed, and the same pictures?

    python benchmarks/int8.py --data-root ../shared/data --out reports/int8
    python benchmarks/int8.py --models cat face --limit 64

For every installed sketch-to-picture model with an int8 form (``SketchToImage.from_pretrained(...,
backend="int8")``) and every kind it draws, people's Quick, Draw! drawings of the kind are rendered
with the studio's pen and turned into pictures by the float (onnxruntime) and the int8 model:

- speed: the generator call alone, ms per picture at batch 8 and at batch 1 (median of
  ``--repeats``), and the ratio, measured in the same run;
- the same pictures?: PSNR of the int8 picture against the float one, the mean and 99th
  percentile of the pixel difference (0-255), and the toolkit's metrics for each: realism (patch
  sliced Wasserstein distance to real photos of the kind, lower is better, where
  ``<data-root>/photos/<kind>`` exists) and sketch adherence F1.

Writes ``<out>/<model>_<kind>.png``: the float pictures above the int8 ones, for the eye.
"""

from __future__ import annotations

import argparse
import os
import platform
from pathlib import Path

import numpy as np

from icanvas.catalog import find_model, list_models
from icanvas.errors import ICanvasError
from icanvas.eval.human import as_drawing, generate_human, render_human_set, strokes_file
from icanvas.eval.report import load_photo_folder, score
from icanvas.pipelines.sketch_to_image import SketchToImage
from icanvas.sheets import grid, save_png
from speed import median_time  # benchmarks/ is the script's folder

PHOTOS = {"face": "cartoon_face", "character": "cartoon_face"}  # kinds whose photo folder has another name
SHEET_COLUMNS = 8  # pictures per row of a side-by-side sheet


def call_ms(pipe: SketchToImage, x: np.ndarray, label: np.ndarray | None, repeats: int) -> float:
    """The generator call alone, median ms per picture."""
    return 1000 * median_time(lambda: pipe.backend(x, label), repeats, warmup=1) / len(x)


def compare(name: str, kind: str, float_pipe: SketchToImage, int8_pipe: SketchToImage, args: argparse.Namespace) -> dict:
    doodles = render_human_set(strokes_file(args.data_root / "quickdraw" / "strokes", kind), limit=args.limit)
    seen, a = generate_human(float_pipe, doodles, kind)
    _, b = generate_human(int8_pipe, doodles, kind)
    x = np.stack([float_pipe.prepare(as_drawing(s))[0] for s in doodles[:8]])
    label = np.full(len(x), float_pipe.label_for(kind), np.int64) if float_pipe.kinds else None
    row = {"model": name, "kind": kind, "n": len(a)}
    for tag, pipe in (("float", float_pipe), ("int8", int8_pipe)):
        row[f"{tag}_b8"] = call_ms(pipe, x, label, args.repeats)
        row[f"{tag}_b1"] = call_ms(pipe, x[:1], None if label is None else label[:1], args.repeats)
    diff = np.abs(a.astype(np.int16) - b.astype(np.int16))
    row["psnr"] = 10 * np.log10(255.0**2 / max(float(np.mean(diff.astype(np.float64) ** 2)), 1e-12))
    row["mean_diff"], row["p99_diff"] = float(diff.mean()), float(np.percentile(diff, 99))
    photos = args.data_root / "photos" / PHOTOS.get(kind, kind)
    real = load_photo_folder(photos, a.shape[1], limit=args.real) if photos.is_dir() else None
    for tag, pics in (("float", a), ("int8", b)):
        s = score(seen, pics, targets=None, real=real)
        row[f"{tag}_swd"], row[f"{tag}_f1"] = s.get("swd"), s["adherence_f1"]
    n = min(SHEET_COLUMNS, len(a))
    save_png(args.out / f"{name}_{kind}.png", grid([list(a[:n]), list(b[:n])], titles=None))
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-root", type=Path, default=Path("../shared/data"), help="folder with quickdraw/strokes and photos/")
    ap.add_argument("--models", nargs="*", help="model names or folders (default: every installed pix2pix model)")
    ap.add_argument("--limit", type=int, default=96, help="people's drawings per kind")
    ap.add_argument("--real", type=int, default=200, help="real photos per kind for the realism metric")
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--out", type=Path, default=Path("reports/int8"))
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    names = args.models or [m.name for m in list_models() if m.method == "pix2pix"]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; generator call ms per picture (median of {args.repeats}); "
          f"pictures from {args.limit} people's drawings per kind\n")
    print("| model | kind | float ms b8 | int8 ms b8 | speed-up b8 | float ms b1 | int8 ms b1 | PSNR int8 vs float dB | "
          "mean / p99 diff | swd float | swd int8 | F1 float | F1 int8 |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name in names:
        folder = find_model(name)
        try:
            int8_pipe = SketchToImage.from_pretrained(folder, backend="int8")
        except ICanvasError as e:
            print(f"| {name} | - | no int8 form: {e.problem} |")
            continue
        float_pipe = SketchToImage.from_pretrained(folder, backend="onnx")
        for kind in float_pipe.kinds or [None]:
            try:
                r = compare(Path(name).name, kind, float_pipe, int8_pipe, args)
            except ICanvasError as e:
                print(f"| {name} | {kind} | {e.problem} |")
                continue

            def f(v, spec: str = ".3f") -> str:
                return "-" if v is None else format(v, spec)

            print(f"| {r['model']} | {kind} | {r['float_b8']:.1f} | {r['int8_b8']:.1f} | {r['float_b8'] / r['int8_b8']:.2f}x | "
                  f"{r['float_b1']:.1f} | {r['int8_b1']:.1f} | {r['psnr']:.1f} | {r['mean_diff']:.2f} / {r['p99_diff']:.0f} | "
                  f"{f(r['float_swd'], '.1f')} | {f(r['int8_swd'], '.1f')} | {r['float_f1']:.3f} | {r['int8_f1']:.3f} |", flush=True)
    print(f"\nSide-by-side sheets (float above, int8 below) in {args.out}")


if __name__ == "__main__":
    main()
