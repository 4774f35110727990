"""Speed of the whole photo -> character pipeline on one 1024x768 photo, printed as a table.

    python benchmarks/stylize_speed.py                               # the default pipeline, bundled style
    python benchmarks/stylize_speed.py --style runs/anime/model --repeats 9
    python benchmarks/stylize_speed.py --photo me.jpg --point 500,300

The photo is built from real data when ``--data`` has it: a selfie from
``selfie2anime/testA`` (enlarged to 60% of the height, soft-edged) standing at the bottom of a
car or cat photo from ``photos/`` enlarged to 1024x768; else a synthetic figure on a gradient.
The prompt is one click on the face and a box around the selfie. Every stage runs with 2
threads (torch, onnxruntime through the stages, OpenCV); the table gives the median of
``--repeats`` runs after one warm-up, then the fill stage alone for each background filler
and the cartoon treatment alone on 512x512. Target: total <= 1 s on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

import cv2
import numpy as np

from icanvas.data.images import read_image, resize, to_rgb
from icanvas.errors import ICanvasError
from icanvas.pipelines.stylize import STAGES, Stylize, default_body, load_photo
from icanvas.portrait.fill import make_filler
from icanvas.portrait.stages import Point, Prompt

SIZE = (1024, 768)  # (W, H) px of the built photo
PERSON_HEIGHT = 0.6  # the selfie's side as a share of the photo's height
FEATHER = 12  # px, Gaussian sigma of the selfie's soft edge on the background
JPEG_QUALITY = 92  # the photo is handed to the pipeline as a JPEG file's bytes of this quality
CARTOON_SIDE = 512  # px, side of the square the cartoon treatment is also timed on alone


def build_photo(data: Path, seed: int) -> tuple[np.ndarray, Prompt, str]:
    """(H, W, 3) uint8 photo, the prompt pointing at its person, and where it came from."""
    w, h = SIZE
    rng = np.random.default_rng(seed)
    selfies = sorted((data / "selfie2anime" / "testA").glob("*.jpg"))
    backgrounds = sorted((data / "photos" / "car").glob("*.jpg")) + sorted((data / "photos" / "cat").glob("*.jpg"))
    side = int(PERSON_HEIGHT * h)
    x0, y0 = (w - side) // 2 + int(rng.integers(-150, 150)), h - side
    if selfies and backgrounds:
        selfie_path, bg_path = selfies[int(rng.integers(len(selfies)))], backgrounds[int(rng.integers(len(backgrounds)))]
        bg = to_rgb(read_image(bg_path))
        bh, bw = bg.shape[:2]
        k = max(w / bw, h / bh)  # cover the frame, then cut the middle
        bg = resize(bg, round(bw * k), round(bh * k))
        top, left = (bg.shape[0] - h) // 2, (bg.shape[1] - w) // 2
        photo = bg[top : top + h, left : left + w].copy()
        selfie = resize(to_rgb(read_image(selfie_path)), side, side)
        alpha = np.zeros((side, side), np.float32)
        cv2.ellipse(alpha, (side // 2, side // 2 + side // 8), (int(side * 0.45), int(side * 0.55)), 0, 0, 360, 1.0, -1)
        alpha = cv2.GaussianBlur(alpha, (0, 0), FEATHER)[..., None]  # (side, side, 1)
        region = photo[y0 : y0 + side, x0 : x0 + side].astype(np.float32)
        photo[y0 : y0 + side, x0 : x0 + side] = (selfie * alpha + region * (1 - alpha)).round().astype(np.uint8)
        source = f"selfie {selfie_path.name} on {bg_path.parent.name}/{bg_path.name}"
    else:
        yy, xx = np.mgrid[:h, :w]
        photo = np.stack([xx * 255 // w, yy * 255 // h, np.full_like(xx, 128)], -1).astype(np.uint8)
        cv2.ellipse(photo, (x0 + side // 2, y0 + side // 3), (side // 6, side // 5), 0, 0, 360, (225, 180, 150), -1)
        cv2.ellipse(photo, (x0 + side // 2, h), (side // 3, side // 2), 0, 0, 360, (40, 60, 160), -1)
        source = "synthetic figure (no real data found)"
    face = Point(x0 + side // 2, y0 + int(side * 0.45))
    return photo, Prompt(points=(face,), box=(x0, y0, x0 + side, h)), source


def median_ms(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1000 * statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--photo", type=Path, help="use this photo instead (with --point)")
    ap.add_argument("--point", default="", help="X,Y on the person in --photo")
    ap.add_argument("--style", default=None, help="style name or model folder (default: the bundled style)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    from icanvas.portrait.restyle import load_restyler
    from icanvas.portrait.select import backend_status, default_selector

    if args.photo:
        photo = load_photo(args.photo)
        x, y = (int(v) for v in args.point.split(","))
        prompt, source = Prompt(points=(Point(x, y),)), str(args.photo)
    else:
        photo, prompt, source = build_photo(args.data, args.seed)
        photo = np.ascontiguousarray(photo)
    try:
        restyler = load_restyler(args.style)
    except ICanvasError as e:
        raise SystemExit(f"{e}\nPass --style with a style model folder (e.g. a run's model/ or checkpoint/ folder).")
    selector = default_selector(threads=args.threads)
    pipe = Stylize(selector, make_filler("opencv"), restyler, body=default_body(restyler))

    ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(photo, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    upload = jpeg.tobytes()  # what a user hands in: the "read" stage decodes it
    runs = []
    pipe(upload, prompt)  # warm-up: sessions, caches
    for _ in range(args.repeats):
        runs.append(pipe(upload, prompt).timings_ms)
    print(f"photo: {photo.shape[1]}x{photo.shape[0]} JPEG, {len(upload) / 1024:.0f} KiB ({source}); {backend_status()}")
    print(f"restyle: {restyler.name}" + (f" on the head + {pipe.body.name} body" if pipe.body else "") +
          f"; {args.threads} threads; {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"\n{'stage':<10} {'median ms':>10}   (of {args.repeats} runs)")
    for stage in STAGES:
        print(f"{stage:<10} {statistics.median(r[stage] for r in runs):10.1f}")
    mask = pipe.select(photo, prompt)[0]
    print(f"\n{'fill':<12} {'median ms':>10}   (the fill stage alone, same photo and mask)")
    for name in ("opencv", "patchmatch"):
        try:
            filler = make_filler(name)
        except ICanvasError as e:
            print(f"{name:<12} {'-':>10}   ({e.problem})")
            continue
        print(f"{name:<12} {median_ms(lambda: filler.fill(photo, mask), max(1, min(args.repeats, 3) if name == 'patchmatch' else args.repeats)):10.1f}")
    from icanvas.portrait.cartoon import cartoonize

    square = resize(photo[-CARTOON_SIDE:, :CARTOON_SIDE] if min(photo.shape[:2]) >= CARTOON_SIDE else photo, CARTOON_SIDE, CARTOON_SIDE)
    print(f"\ncartoonize {CARTOON_SIDE}x{CARTOON_SIDE}: {median_ms(lambda: cartoonize(square), args.repeats):.1f} ms (median)")
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
