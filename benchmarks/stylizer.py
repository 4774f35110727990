"""How the photo -> character stylizer does: realism against baselines, and on faces unlike its training set.

    python benchmarks/stylizer.py --data ../shared/data/selfie2anime --model anime --out reports/stylizer

Table 1 (realism): every held-out selfie (``testA``) is restyled by the style model and by two
baselines, OpenCV's ``cv2.stylization`` and the classical cartoon treatment
(:func:`icanvas.portrait.cartoon.cartoonize`); each set is compared with the held-out anime faces
(``testB``, never trained on) by patch sliced-Wasserstein distance (SWD, x1e3) and colour
distance (0-255), lower is better, and by adherence: the F1 of the output's lines (XDoG) against
the photo's lines within 3 px, higher = the person stays recognisable. The floor row compares
anime faces used in training (``trainB``) with the held-out ones.

Table 2 (other faces): the selfies are all young women, so the model is also run on the face
photos scikit-image ships (``lfw_subset``: men and women of many ages, greyscale, 25 px, upscaled)
and on the selfies made darker (skin tones the training set lacks, made with the training
augmentation's tone change at fixed strengths); adherence F1 per group, and sheets to look at.
Writes ``realism.png``, ``other_faces.png`` and ``stylizer.json`` into ``--out``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import cv2
import numpy as np

from icanvas.data.photos import read_photo_folder
from icanvas.eval.metrics import colour_distance, sliced_wasserstein
from icanvas.portrait.cartoon import cartoonize
from icanvas.portrait.restyle import load_style_model
from icanvas.sheets import grid, save_png
from icanvas.training.translation import adherence

SIZE = 256  # px, side the selfie2anime pictures come at and the model was trained at
SHEET_ROWS = 8  # photos shown on each sheet
DARKEN = (0.5, 0.25)  # linear-light gains of the "darker skin" groups (the training augmentation reaches 0.25)


def opencv_stylization(img: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(cv2.stylization(cv2.cvtColor(img, cv2.COLOR_RGB2BGR), sigma_s=60, sigma_r=0.45), cv2.COLOR_BGR2RGB)


def darker(img: np.ndarray, gain: float) -> np.ndarray:
    x = (img.astype(np.float32) / 255.0) ** 2.2 * gain
    return (np.clip(x, 0, 1) ** (1 / 2.2) * 255 + 0.5).astype(np.uint8)


def lfw_faces(n: int) -> np.ndarray:
    """(n, SIZE, SIZE, 3) uint8 from scikit-image's lfw_subset (25 x 25 greyscale faces, upscaled)."""
    from skimage.data import lfw_subset

    faces = (lfw_subset()[:n] * 255).astype(np.uint8)
    big = [cv2.resize(f, (SIZE, SIZE), interpolation=cv2.INTER_CUBIC) for f in faces]
    return np.stack([np.repeat(b[..., None], 3, axis=2) for b in big])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data/selfie2anime"))
    ap.add_argument("--model", default="anime", help="style name or model folder")
    ap.add_argument("--n", type=int, default=100, help="held-out selfies restyled")
    ap.add_argument("--out", type=Path, default=Path("reports/stylizer"))
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    photos, _ = read_photo_folder(args.data / "testA", SIZE, args.n)
    anime, _ = read_photo_folder(args.data / "testB", SIZE)
    anime_train, _ = read_photo_folder(args.data / "trainB", SIZE, len(anime))
    model = load_style_model(args.model)
    methods = {"this model": lambda x: model.restyle(x, None, None), "cv2.stylization": opencv_stylization,
               "classical cartoon": cartoonize}
    outputs, report = {}, {"photos": len(photos), "anime_held_out": len(anime), "model": str(args.model)}
    rows = []
    for name, fn in methods.items():
        t0 = time.perf_counter()
        out = np.stack([fn(p) for p in photos])
        ms = 1000 * (time.perf_counter() - t0) / len(photos)
        outputs[name] = out
        rows.append((name, sliced_wasserstein(anime, out, seed=0)["swd_avg"], colour_distance(anime, out),
                     adherence(photos, out), ms))
    rows.append(("floor: training anime faces", sliced_wasserstein(anime, anime_train, seed=0)["swd_avg"],
                 colour_distance(anime, anime_train), float("nan"), float("nan")))
    print(f"\nRealism on {len(photos)} held-out selfies vs {len(anime)} held-out anime faces (lower SWD / colour is better)\n")
    print("| method | SWD | colour | adherence F1 | ms / picture |\n|---|---:|---:|---:|---:|")
    for name, swd, col, f1, ms in rows:
        print(f"| {name} | {swd:.1f} | {col:.1f} | {f1:.3f} | {ms:.1f} |")
    best = min(r[1] for r in rows[1:3])
    print(f"\nSWD of this model vs the better baseline: {100 * (1 - rows[0][1] / best):.0f}% lower")
    report["realism"] = [dict(zip(("method", "swd", "colour", "adherence_f1", "ms"), r)) for r in rows]
    pick = photos[:SHEET_ROWS]
    save_png(args.out / "realism.png", grid([[p] + [outputs[m][i] for m in methods] for i, p in enumerate(pick)],
                                             titles=["photo", *methods]))
    groups = {"selfies (training-like)": photos, **{f"selfies darkened x{g}": np.stack([darker(p, g) for p in photos]) for g in DARKEN},
              "lfw_subset faces": lfw_faces(args.n)}
    print("\nOther faces: adherence F1 of this model's lines to the photo's lines\n\n| group | faces | adherence F1 |\n|---|---:|---:|")
    report["other_faces"], sheet_rows = {}, []
    for name, imgs in groups.items():
        out = np.stack([model.restyle(p, None, None) for p in imgs])
        f1 = adherence(imgs, out)
        report["other_faces"][name] = f1
        print(f"| {name} | {len(imgs)} | {f1:.3f} |")
        sheet_rows += [[imgs[i], out[i]] for i in range(3)]
    save_png(args.out / "other_faces.png", grid(sheet_rows, titles=["photo", "this model"]))
    (args.out / "stylizer.json").write_text(json.dumps(report, indent=2))
    print(f"\nSheets: {args.out / 'realism.png'}, {args.out / 'other_faces.png'}")


if __name__ == "__main__":
    main()
