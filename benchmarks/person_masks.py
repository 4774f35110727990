"""Mask quality and speed of the person selectors on real photos, printed as tables.

    python benchmarks/person_masks.py --data ../shared/data/selfie2anime [--sam-encoder E.onnx --sam-decoder D.onnx]

Truth: the hand-drawn outlines in ``benchmarks/data/person_polygons.json`` (20 selfies of
``testA``), rasterised. Prompt for every photo: ONE click at the centre of the outline's
bounding box. Two tables:

1. selfies: the 256x256 photos as they are;
2. composites (``--composites N``): two of those people, cut out along their outlines and
   scaled to 45-70 % of the height, pasted side by side on a 1024x768 background (a car photo
   from ``<data>/../photos/car``, else a smooth random gradient); the click is on the left or
   right one (alternately) and only that one is the truth. Tests a person small in a wide
   photo and picking one of two.

Rows: the default selector (selfie segmenter + GrabCut), the segmenter without GrabCut, the
classical fallback (no model files: face + body prior + GrabCut), GrabCut alone from the click
(the whole photo less a border strip as "probably person", the click as sure person), and SAM
when its ONNX files are given; last, as a reference, the whole photo selected (in a selfie the
person covers most of the picture, so even that scores well there). Times are per selection (median): wall clock, and CPU time of
this process, which stays meaningful on a shared, loaded machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import cv2
import numpy as np

from icanvas.data.images import to_rgb
from icanvas.data.reading import read_image
from icanvas.portrait.classical import ClassicalSelector, grabcut_select
from icanvas.portrait.faces import CascadeFaces
from icanvas.portrait.segmenter import SegmenterSelector
from icanvas.portrait.stages import Point, Prompt

POLYGONS = Path(__file__).resolve().parent / "data" / "person_polygons.json"
SCENE = (1024, 768)  # px (W, H) of a composite
MIN_BACKGROUND = 200  # px; background photos with a shorter side below this are skipped
HEIGHTS = (0.45, 0.70)  # a pasted person's height, fraction of the composite's height (uniform in this range)


def load_truth(data: Path) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """[(name, photo (H, W, 3) uint8, truth (H, W) bool)] of every outlined photo found under ``data``."""
    spec = json.loads(POLYGONS.read_text())
    out = []
    for name, poly in spec["polygons"].items():
        path = data / spec["folder"] / name
        if not path.is_file():
            continue
        img = to_rgb(read_image(path))
        truth = np.zeros(img.shape[:2], np.uint8)
        cv2.fillPoly(truth, [np.round(np.array(poly)).astype(np.int32)], 1)
        out.append((name, img, truth > 0))
    return out


def centre_click(truth: np.ndarray) -> Prompt:
    ys, xs = np.nonzero(truth)
    return Prompt(points=(Point(int((xs.min() + xs.max()) // 2), int((ys.min() + ys.max()) // 2)),))


def background(i: int, photos: list[Path], rng: np.random.Generator) -> np.ndarray:
    w, h = SCENE
    if photos:
        img = to_rgb(read_image(photos[i % len(photos)]))
        s = max(w / img.shape[1], h / img.shape[0])
        img = cv2.resize(img, (round(img.shape[1] * s) + 1, round(img.shape[0] * s) + 1), interpolation=cv2.INTER_CUBIC)
        return np.ascontiguousarray(img[:h, :w])
    corners = rng.integers(0, 256, (2, 2, 3)).astype(np.uint8)
    return cv2.resize(corners, (w, h), interpolation=cv2.INTER_LINEAR)


def paste(scene: np.ndarray, owner: np.ndarray, img: np.ndarray, truth: np.ndarray, height: int, cx: int, who: int) -> None:
    """Paste the outlined person of ``img`` ``height`` px tall, standing on the scene's bottom edge at ``cx``."""
    ys, xs = np.nonzero(truth)
    crop, mask = img[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1], truth[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    s = height / crop.shape[0]
    size = (max(1, round(crop.shape[1] * s)), height)
    crop = cv2.resize(crop, size, interpolation=cv2.INTER_CUBIC)
    alpha = cv2.GaussianBlur(cv2.resize(mask.astype(np.float32), size, interpolation=cv2.INTER_LINEAR), (3, 3), 0)[:, :, None]
    h, w = scene.shape[:2]
    x0 = int(np.clip(cx - size[0] // 2, 0, w - size[0]))
    region = scene[h - height :, x0 : x0 + size[0]]
    region[:] = (alpha * crop + (1 - alpha) * region).astype(np.uint8)
    owner[h - height :, x0 : x0 + size[0]][alpha[:, :, 0] >= 0.5] = who


def composites(people: list[tuple[str, np.ndarray, np.ndarray]], n: int, bg_dir: Path, seed: int = 0):
    """[(name, scene (768, 1024, 3), truth of the clicked person, prompt)] built deterministically."""
    rng = np.random.default_rng(seed)
    photos = []
    for p in sorted(bg_dir.glob("*.jpg")) if bg_dir.is_dir() else []:
        if len(photos) < n and min(read_image(p).size) >= MIN_BACKGROUND:
            photos.append(p)
    out = []
    for i in range(n):
        scene = background(i, photos, rng)
        owner = np.zeros(scene.shape[:2], np.uint8)  # 0 = background, 1 / 2 = left / right person
        pair = (people[i % len(people)], people[(i + 7) % len(people)])
        for who, ((_, img, truth), cx) in enumerate(zip(pair, (0.28, 0.72)), start=1):
            height = round(rng.uniform(*HEIGHTS) * SCENE[1])
            paste(scene, owner, img, truth, height, round(cx * SCENE[0]), who)
        target = 1 + i % 2
        truth = owner == target
        out.append((f"{pair[target - 1][0]} in scene {i}", scene, truth, centre_click(truth)))
    return out


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max(1, (a | b).sum()))


def run(name: str, select, cases) -> tuple:
    """(name, mean, median, min IoU, median wall ms, median CPU ms, worst case) of ``select`` over ``cases``."""
    scores, wall, cpu = [], [], []
    for case, img, truth, prompt in cases:
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            mask = select(img, prompt)
        except Exception as e:  # noqa: BLE001 - a selector that gives up scores 0 on that photo
            print(f"  {name} on {case}: {type(e).__name__}: {e}")
            mask = np.zeros_like(truth)
        wall.append(1000 * (time.perf_counter() - t0))
        cpu.append(1000 * (time.process_time() - c0))
        scores.append(iou(mask, truth))
    worst = cases[int(np.argmin(scores))][0]
    return name, np.mean(scores), np.median(scores), np.min(scores), np.median(wall), np.median(cpu), worst


def table(title: str, rows: list[tuple]) -> None:
    print(f"\n{title}\n")
    print("| selector | mean IoU | median IoU | min IoU | median ms (wall) | median ms (CPU) | worst photo |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]:.3f} | {r[2]:.3f} | {r[3]:.3f} | {r[4]:.0f} | {r[5]:.0f} | {r[6]} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path("../shared/data/selfie2anime"), help="the selfie2anime folder")
    ap.add_argument("--backgrounds", type=Path, default=None, help="photos for the composites (default <data>/../photos/car)")
    ap.add_argument("--composites", type=int, default=10, help="number of two-person composites (0 = none)")
    ap.add_argument("--sam-encoder", type=Path, default=None)
    ap.add_argument("--sam-decoder", type=Path, default=None)
    ap.add_argument("--threads", type=int, default=2, help="threads of the models and of OpenCV")
    args = ap.parse_args()
    people = load_truth(args.data)
    if not people:
        raise SystemExit(f"No outlined photos under {args.data}/testA; pass --data .../selfie2anime.")
    cv2.setNumThreads(args.threads)
    selectors = [
        ("default: selfie segmenter + GrabCut", SegmenterSelector(threads=args.threads)),
        ("selfie segmenter, no GrabCut", SegmenterSelector(refine="none", threads=args.threads)),
        ("classical (no model files): LBP face + body prior + GrabCut", ClassicalSelector(CascadeFaces())),
    ]
    if args.sam_encoder or args.sam_decoder:
        from icanvas.portrait.sam import SamSelector

        selectors.append(("SAM (ONNX)", SamSelector(args.sam_encoder, args.sam_decoder, threads=args.threads)))
    fns = [(name, lambda img, p, s=s: s.select(img, p).mask > 0.5) for name, s in selectors]
    fns.insert(3, ("GrabCut alone from the click", grabcut_select))
    fns.append(("reference: the whole photo selected", lambda img, p: np.ones(img.shape[:2], bool)))
    load = os.getloadavg()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, threads={args.threads}, "
          f"load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1 / 5 / 15 min)")
    cases = [(name, img, truth, centre_click(truth)) for name, img, truth in people]
    table(f"{len(cases)} selfies (256x256), prompt: one click at the centre of the outline's bounding box",
          [run(name, fn, cases) for name, fn in fns])
    if args.composites:
        bg_dir = args.backgrounds or args.data.parent / "photos" / "car"
        scenes = composites(people, args.composites, bg_dir)
        table(f"{len(scenes)} composites ({SCENE[0]}x{SCENE[1]}, two people, backgrounds from {bg_dir}), "
              "prompt: one click at the centre of the chosen person's bounding box",
              [run(name, fn, scenes) for name, fn in fns])


if __name__ == "__main__":
    main()
