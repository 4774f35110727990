"""How close each background fill comes to the truth, and how fast, printed as a table.

    python benchmarks/fill_quality.py                       # 30 real photos from ../shared/data/photos
    python benchmarks/fill_quality.py --data DIR --count 60 --work-sides 256,384,512

A person-shaped hole (head and body, random size and place, seeded) is cut into real photos
(cars, cats, pandas, resized to 1024x768) whose true background is therefore known; each
method fills it through :func:`icanvas.portrait.fill.fill_hole` (reduced working size, blended
back into the hole only). Columns: median ms of the inpainting itself; mean absolute error over
the hole and over its outer 16 px band (the part a pasted-back person leaves visible), grey
levels; mean signed error (a drift lighter or darker); the largest error on a flat colour and
the mean error on a linear colour ramp (synthetic, with the same hole).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import cv2
import numpy as np

from icanvas.data.images import read_image, resize, to_rgb
from icanvas.portrait.fill import OpenCVFiller, PatchMatchFiller, fill_hole, hole_of

SIZE = (1024, 768)  # (W, H) px of every test photo
BAND = 16  # px, width of the hole's outer band where errors are also reported
KINDS = ("car", "cat", "panda")  # photo folders under --data taken in turn


def person_hole(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """(H, W) float32 mask of a standing person, 50-100% of the photo's height, anywhere across it."""
    s = rng.uniform(0.5, 1.0)
    cx = rng.uniform(0.3, 0.7) * w
    yy, xx = np.mgrid[:h, :w]
    head = ((xx - cx) / (0.1 * w * s)) ** 2 + ((yy - h + 0.7 * h * s) / (0.12 * h * s)) ** 2 < 1
    body = ((xx - cx) / (0.2 * w * s)) ** 2 + ((yy - h + 0.15 * h * s) / (0.4 * h * s)) ** 2 < 1
    return (head | body).astype(np.float32)


def methods(work_sides: list[int]) -> dict[str, tuple]:
    """label -> (inpaint function, working side)."""
    out = {}
    for side in work_sides:
        ns, telea = OpenCVFiller("ns", work_side=side), OpenCVFiller("telea", work_side=side)
        out[f"ns @{side}"] = (ns._inpaint, side)
        out[f"telea 16-bit @{side}"] = (telea._inpaint, side)
        out[f"telea 8-bit @{side}"] = (lambda a, b: cv2.inpaint(a, b, telea.radius, cv2.INPAINT_TELEA), side)
    try:
        pm = PatchMatchFiller()
        out[f"patchmatch @{pm.work_side}"] = (pm._inpaint, pm.work_side)
    except Exception as e:  # noqa: BLE001 - optional: say why it is missing
        print(f"patchmatch left out: {e}")
    return out


def timed(inpaint):
    """``inpaint`` that records how long each call took, seconds, in ``.times``."""
    def run(small, hole):
        t = time.perf_counter()
        out = inpaint(small, hole)
        run.times.append(time.perf_counter() - t)
        return out
    run.times = []
    return run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data" / "photos")
    ap.add_argument("--count", type=int, default=30, help="photos in all, taken evenly from the kinds")
    ap.add_argument("--work-sides", default="384", help="comma-separated working sides for the OpenCV methods, px")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    cv2.setNumThreads(args.threads)
    files = []
    for kind in KINDS:
        files += sorted((args.data / kind).glob("*.jpg"))[: args.count // len(KINDS)]
    if not files:
        raise SystemExit(f"No photos under {args.data}/{{{','.join(KINDS)}}}; pass --data.")
    w, h = SIZE
    rng = np.random.default_rng(args.seed)
    photos = [resize(to_rgb(read_image(f)), w, h) for f in files]
    holes = [person_hole(h, w, rng) for _ in files]
    ramp = np.linspace(0, 255, w, dtype=np.float32)
    ramp_img = np.repeat(np.stack([ramp, 255 - ramp, np.full(w, 128, np.float32)], -1)[None], h, 0).round().astype(np.uint8)
    flat_img = np.full((h, w, 3), (90, 140, 200), np.uint8)
    synth_hole = person_hole(h, w, np.random.default_rng(args.seed + 1))

    print(f"{len(files)} photos from {args.data} ({', '.join(KINDS)}), {w}x{h}, person-shaped holes (seed {args.seed}); "
          f"{args.threads} OpenCV threads; load average {os.getloadavg()[0]:.1f}")
    header = f"{'method':<22} {'ms':>7} {'MAE hole':>9} {'MAE band':>9} {'drift':>7} {'flat max':>9} {'ramp MAE':>9}"
    print(header + "\n" + "-" * len(header))
    for label, (inpaint, side) in methods([int(s) for s in args.work_sides.split(",")]).items():
        fn = timed(inpaint)
        hole_err, band_err, drift = [], [], []
        for photo, mask in zip(photos, holes):
            out = fill_hole(photo, mask, fn, side).astype(np.float32) - photo
            core = mask > 0.5
            band = core & (cv2.distanceTransform(core.astype(np.uint8), cv2.DIST_L2, 3) <= BAND)
            hole_err.append(np.abs(out[core]).mean())
            band_err.append(np.abs(out[band]).mean())
            drift.append(out[core].mean())
        core = synth_hole > 0.5
        flat = np.abs(fill_hole(np.where(core[..., None], 0, flat_img).astype(np.uint8), synth_hole, inpaint, side).astype(int) - flat_img)
        on_ramp = np.abs(fill_hole(np.where(core[..., None], 0, ramp_img).astype(np.uint8), synth_hole, inpaint, side).astype(int) - ramp_img)
        hole, _ = hole_of(synth_hole)
        print(f"{label:<22} {1000 * statistics.median(fn.times):7.1f} {np.mean(hole_err):9.2f} {np.mean(band_err):9.2f} "
              f"{np.mean(drift):+7.2f} {flat[hole].max():9d} {on_ramp[core].mean():9.2f}")


if __name__ == "__main__":
    main()
