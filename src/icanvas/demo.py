"""``icanvas demo``: the whole toolkit on a small scale, on a fresh machine, in about a minute.

Prepare a few photos (real ones when ``../shared/data`` is beside the project, else synthetic
shapes) -> train the tiny preset briefly -> generate a picture from a drawn doodle.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

DEFAULT_PHOTOS = Path(__file__).resolve().parents[3] / "shared" / "data" / "photos" / "cat"


def make_shapes(folder: str | Path, count: int = 24, size: int = 96, seed: int = 0) -> Path:
    """Write ``count`` synthetic photos: shaded coloured shapes on a light background."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(count):
        img = np.full((size, size, 3), 235, np.uint8)
        img[:] = np.linspace(225, 250, size, dtype=np.uint8)[:, None, None]
        color = tuple(int(c) for c in rng.integers(30, 220, 3))
        c = size // 2 + rng.integers(-size // 10, size // 10 + 1, 2)
        r = int(size * rng.uniform(0.2, 0.35))
        shape = i % 3
        if shape == 0:
            cv2.circle(img, (int(c[0]), int(c[1])), r, color, -1, cv2.LINE_AA)
        elif shape == 1:
            cv2.rectangle(img, (int(c[0] - r), int(c[1] - r * 0.7)), (int(c[0] + r), int(c[1] + r * 0.7)), color, -1)
        else:
            pts = np.array([[c[0], c[1] - r], [c[0] - r, c[1] + r], [c[0] + r, c[1] + r]], np.int32)
            cv2.fillPoly(img, [pts], color, cv2.LINE_AA)
        cv2.circle(img, (int(c[0] - r // 3), int(c[1] - r // 3)), max(2, r // 5), (250, 250, 250), -1, cv2.LINE_AA)
        cv2.imwrite(str(folder / f"shape_{i:03d}.png"), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    return folder


def make_doodle(path: str | Path, size: int = 400, seed: int = 0) -> Path:
    """A wobbly hand-drawn-looking circle with a smaller circle inside, as PNG."""
    rng = np.random.default_rng(seed)
    img = np.full((size, int(size * 1.3), 3), 255, np.uint8)
    t = np.linspace(0, 2 * np.pi, 60)
    for rad, (cx, cy) in ((size * 0.3, (img.shape[1] // 2, size // 2)), (size * 0.07, (img.shape[1] // 2 - 40, size // 2 - 40))):
        wob = rad * (1 + 0.04 * rng.standard_normal(len(t)))
        pts = np.stack([cx + wob * np.cos(t), cy + wob * np.sin(t)], 1).astype(np.int32)
        cv2.polylines(img, [pts], False, (20, 20, 20), 6, cv2.LINE_AA)
    cv2.imwrite(str(path), img)
    return Path(path)


def run_demo(work: Path, photos: Path | None, steps: int, console) -> Path:
    from icanvas.config import load_train_config
    from icanvas.data.prepare import PrepareOptions, prepare_dataset, preview_sheet
    from icanvas.pipelines.sketch_to_image import SketchToImage
    from icanvas.sheets import save_png
    from icanvas.training.loop import run_training

    work = Path(work)
    if photos is None:
        photos = DEFAULT_PHOTOS if DEFAULT_PHOTOS.is_dir() else make_shapes(work / "shapes")
    console.print(f"[bold]1/3 prepare[/bold] {photos}")
    data = work / "data"
    prepare_dataset(photos, data, PrepareOptions(size=64, limit=48, kind="demo"), workers=0)
    preview_sheet(data, work / "preview.png", rows=4)
    console.print(f"[bold]2/3 train[/bold] tiny preset, {steps} steps")
    run_dir = work / "run"
    import shutil

    shutil.rmtree(run_dir, ignore_errors=True)
    cfg = load_train_config("tiny", [f"run.steps={steps}", "generator.image_size=64", f"run.checkpoint_every={steps}"])
    result = run_training(cfg, [data], run_dir, command=f"icanvas demo --steps {steps}")
    console.print("[bold]3/3 generate[/bold]")
    doodle = make_doodle(work / "doodle.png")
    picture = SketchToImage.from_pretrained(result.model_dir)(doodle)
    save_png(work / "picture.png", picture.image)
    console.print(f"Done. Sheet: {work / 'preview.png'}, samples: {run_dir / 'samples'}, picture: {work / 'picture.png'}")
    return work / "picture.png"
