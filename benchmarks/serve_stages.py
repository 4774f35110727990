"""Where a studio picture's time goes, stage by stage, for one request and for a batch of 8.

    python benchmarks/serve_stages.py --model car --repeats 20

Runs the exact steps of ``POST /api/generate`` on canvas-like drawings (512 px PNG, pencil and
a crayon scribble, marked as the board's own as the studio marks them), in process and without
HTTP, one after another on one thread: decode the upload, normalise the drawing,
prepare the model input (crop, letterbox, redraw the lines, hints), the generator
(onnxruntime), the keep-inside fade, pasting back at the drawing's size, PNG encoding; and the
recognizer's guess, which the page asks for separately. Prints the median ms per drawing of
each stage at batch 1 and batch 8, and each stage's share; the model's own batch throughput
is the ceiling the server can approach.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import statistics
import time

import cv2
import numpy as np
from PIL import Image

from icanvas.catalog import find_model, find_model_for
from icanvas.data.images import normalize_drawing
from icanvas.pipelines.recognizer import Recognizer
from icanvas.pipelines.sketch_to_image import SketchToImage, keep_inside
from icanvas.serve.images import PICTURE_MAX_SIDE, decode_upload, png_bytes
from icanvas.sheets import tensor_to_uint8


def canvas_drawing(seed: int) -> bytes:
    """A 512 px studio export: a pencil outline with a few lines inside and a crayon scribble."""
    rng = np.random.default_rng(seed)
    page = np.full((512, 512, 3), 255, np.uint8)
    c = rng.integers(200, 312, 2)
    cv2.ellipse(page, (int(c[0]), int(c[1])), (int(rng.integers(100, 180)), int(rng.integers(70, 140))), float(rng.uniform(0, 180)), 0, 360, (0, 0, 0), 8)
    for _ in range(3):
        p, q = rng.integers(150, 360, 2), rng.integers(150, 360, 2)
        cv2.line(page, (int(p[0]), int(p[1])), (int(q[0]), int(q[1])), (0, 0, 0), 8)
    cv2.polylines(page, [rng.integers(190, 320, (6, 1, 2)).astype(np.int32)], False, (229, 57, 53), 18)
    buf = io.BytesIO()
    Image.fromarray(page).save(buf, format="PNG")
    return buf.getvalue()


def timed(fn, repeats: int):
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def stages(pipe: SketchToImage, recognizer: Recognizer | None, uploads: list[bytes], kind: str | None, repeats: int) -> dict[str, float]:
    """Median seconds per drawing of each stage for this batch of uploads."""
    n = len(uploads)
    res: dict[str, float] = {}
    res["decode upload"], images = timed(lambda: [decode_upload(u, 8 * 2**20, 16_000_000) for u in uploads], repeats)
    res["normalise drawing"], drawings = timed(lambda: [normalize_drawing(im, canvas=True) for im in images], repeats)  # the board's own export
    res["prepare input"], prepared = timed(lambda: [pipe.prepare(d) for d in drawings], repeats)
    x = np.stack([p[0] for p in prepared])
    label = np.array([pipe.label_for(kind)] * n, np.int64) if pipe.kinds else None
    res["generator"], out = timed(lambda: pipe.backend(x, label), repeats)
    squares = [tensor_to_uint8(o) for o in out]
    lines = [tensor_to_uint8(p[0][:1])[..., 0] for p in prepared]
    res["keep-inside fade"], faded = timed(lambda: [keep_inside(s, ln) for s, ln in zip(squares, lines)], repeats)
    res["paste back"], pictures = timed(lambda: [pipe.finish(s, d, p[1], p[2]) for s, d, p in zip(faded, drawings, prepared)], repeats)
    res["PNG encode"], _ = timed(lambda: [png_bytes(p, PICTURE_MAX_SIDE) for p in pictures], repeats)
    if recognizer is not None:
        res["recognizer (separate request)"], _ = timed(lambda: [recognizer.predict(d.lines) for d in drawings], repeats)
    return {k: v / n for k, v in res.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="car", help="sketch model name, kind or folder")
    ap.add_argument("--repeats", type=int, default=20, help="timed runs per stage (median)")
    ap.add_argument("--backend", default="onnx", choices=["onnx", "int8", "torch"], help="generator runtime")
    args = ap.parse_args()
    folder, kind = find_model_for(args.model)
    pipe = SketchToImage.from_pretrained(folder, backend=args.backend)
    try:
        recognizer = Recognizer.from_pretrained(find_model("recognizer"))
    except Exception:  # noqa: BLE001 - the table is still useful without it
        recognizer = None
    uploads = [canvas_drawing(i) for i in range(8)]
    one = stages(pipe, recognizer, uploads[:1], kind, args.repeats)
    eight = stages(pipe, recognizer, uploads, kind, max(3, args.repeats // 4))
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; "
          f"model {folder.name} ({pipe.backend.name}); ms per drawing, median of {args.repeats} (batch 8: {max(3, args.repeats // 4)})\n")
    print("| stage | batch 1 ms | share | batch 8 ms per drawing | share |")
    print("|---|---:|---:|---:|---:|")
    picture = [k for k in one if not k.startswith("recognizer")]
    t1, t8 = sum(one[k] for k in picture), sum(eight[k] for k in picture)
    for k in one:
        share1 = f"{100 * one[k] / t1:.0f}%" if k in picture else "-"
        share8 = f"{100 * eight[k] / t8:.0f}%" if k in picture else "-"
        print(f"| {k} | {1000 * one[k]:.1f} | {share1} | {1000 * eight[k]:.1f} | {share8} |")
    print(f"| **one picture, all stages** | **{1000 * t1:.1f}** | | **{1000 * t8:.1f}** | |")
    print(f"\nPictures/s on one core's worth of this path: {1 / t1:.1f} at batch 1, {1 / t8:.1f} at batch 8; "
          f"the generator alone: {1 / eight['generator']:.1f} at batch 8.")


if __name__ == "__main__":
    main()
