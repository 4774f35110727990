"""Photographed paper: is the page found, are its lines read, and how long does it take? A table per photo size.

    PYTHONPATH=src python benchmarks/paper.py                      # 640, 1600, 3000 and 4000 px (12 MP)
    PYTHONPATH=src python benchmarks/paper.py --sizes 640 --json out.json

Every photo is synthetic (:mod:`icanvas.eval.paper_photos`): a portrait page with known strokes
(pencil, felt-tip, ballpoint, a crayon colouring-in) on a dark, wooden or cluttered background,
rotated, in perspective, with a shadow gradient, on lined paper, with a finger over an edge or
lying on another sheet.
Columns: corner error (px in the photo, largest of the four corners; median and max over the
photos), line F1 (eval.metrics.sketch_adherence, tolerance 3 px, the dark lines against the
known strokes, both drawn back into the photo at a long side of 1024 px, away from the crayon
colouring-in, which the tests check as colour) with the page step and
without it (today's normalize_drawing on the whole photo), the page step's time (find_page +
straighten) and the whole normalisation's time with and without it, median ms on this machine.
"""

from __future__ import annotations

import argparse
import json
import time

import cv2
import numpy as np
from PIL import Image

from icanvas.data.images import normalize_drawing
from icanvas.data.page import search_page, page_transform, straighten
from icanvas.eval.metrics import sketch_adherence
from icanvas.eval.paper_photos import BACKGROUNDS, paper_photo
from icanvas.errors import InputImageError

EVAL_SIDE = 1024  # lines are compared in the photo at this long side, px
VARIANTS = [  # what each background gets
    dict(angle=0.0),
    dict(angle=15.0, perspective=0.12),
    dict(angle=30.0, shadow=True),
    dict(angle=-20.0, rules="lined", finger=True),
    dict(angle=-8.0, perspective=0.08, shadow=True, paper="cream"),
]
LATER_VARIANTS = [  # more of them: their photos come after the first ones, whose seeds (and figures) stay as they were
    dict(angle=15.0, perspective=0.1, second_sheet=True, second_tilt=12.0),  # another sheet under the page, turned 12 degrees
]


def dark_lines(drawing) -> np.ndarray:
    return (drawing.lines == 0).astype(np.uint8)


def f1_in_photo(pred: np.ndarray, photo) -> float:
    """F1 of the lines against the known strokes, away from the crayon colouring-in (a filled
    region, measured by the tests as colour, not as lines)."""
    h, w = photo.strokes.shape
    k = EVAL_SIDE / max(h, w)
    size = (round(w * k), round(h * k))
    away = cv2.resize(photo.colouring.astype(np.uint8), size, interpolation=cv2.INTER_AREA) == 0
    away = cv2.erode(away.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
    t = cv2.resize(photo.strokes.astype(np.uint8), size, interpolation=cv2.INTER_AREA) > 0
    p = cv2.resize(pred, size, interpolation=cv2.INTER_AREA) > 0
    return sketch_adherence(p & away, t & away)["f1"]


def one(size: int, seed: int, backdrop: str, variant: dict) -> dict:
    photo = paper_photo(size, seed=seed, backdrop=backdrop, **variant)
    pil = Image.fromarray(photo.rgb)
    t0 = time.perf_counter()
    search = search_page(photo.rgb)
    if search.page is not None:
        straighten(photo.rgb, search.page)
    t1 = time.perf_counter()
    try:
        drawing = normalize_drawing(pil)
    except InputImageError:
        drawing = None
    t2 = time.perf_counter()
    try:
        base = normalize_drawing(pil, find_page=False)
    except InputImageError:
        base = None
    t3 = time.perf_counter()
    row = {"size": size, "label": photo.label, "found": bool(search.page and not search.page.fills_photo),
           "page_ms": 1000 * (t1 - t0), "normalize_ms": 1000 * (t2 - t1), "baseline_ms": 1000 * (t3 - t2)}
    if row["found"]:
        row["corner_px"] = float(np.linalg.norm(search.page.corners - photo.corners, axis=1).max())
    h, w = photo.strokes.shape
    if drawing is not None and row["found"]:
        H, _, _ = page_transform(search.page, max_side=max(drawing.lines.shape))
        pred = cv2.warpPerspective(dark_lines(drawing), np.linalg.inv(H), (w, h), flags=cv2.INTER_LINEAR)  # page px -> photo px
        row["f1"] = f1_in_photo(pred, photo)
    elif drawing is not None:
        row["f1"] = f1_in_photo(dark_lines(drawing), photo)
    else:
        row["f1"] = 0.0
    row["baseline_f1"] = f1_in_photo(dark_lines(base), photo) if base is not None else 0.0
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[640, 1600, 3000, 4000], help="long sides of the photos, px")
    ap.add_argument("--json", help="also write every photo's row here")
    args = ap.parse_args()
    cv2.setNumThreads(2)
    rows = []
    print(f"{'size':>5} {'photos':>6} {'found':>5} {'corner px med':>13} {'corner px max':>13} {'F1 page':>7} "
          f"{'F1 before':>9} {'page ms':>7} {'norm ms':>7} {'before ms':>9}")
    for size in args.sizes:
        photos = [(bg, v) for variants in (VARIANTS, LATER_VARIANTS) for bg in BACKGROUNDS for v in variants]
        batch = [one(size, seed, bg, v) for seed, (bg, v) in enumerate(photos)]
        rows += batch
        corners = [r["corner_px"] for r in batch if "corner_px" in r]
        med = lambda key: float(np.median([r[key] for r in batch]))  # noqa: E731
        print(f"{size:>5} {len(batch):>6} {sum(r['found'] for r in batch):>5} {np.median(corners):>13.1f} {max(corners):>13.1f} "
              f"{med('f1'):>7.3f} {med('baseline_f1'):>9.3f} {med('page_ms'):>7.0f} {med('normalize_ms'):>7.0f} {med('baseline_ms'):>9.0f}",
              flush=True)
    worst = sorted((r for r in rows if "corner_px" in r), key=lambda r: -r["corner_px"])[:3]
    print("largest corner errors: " + "; ".join(f"{r['size']} px {r['label']}: {r['corner_px']:.1f}" for r in worst))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
