"""``icanvas prepare``: a folder of photos (or aligned pairs) -> a training dataset folder.

Output::

    OUT_DIR/train/*.png   aligned pairs, sketch on the left, photo on the right (S x 2S)
    OUT_DIR/val/*.png
    OUT_DIR/manifest.json counts, every parameter, the source folder and the tool version

Deterministic for a seed: the split, GrabCut's random initialisation and file names depend
only on the seed and the sorted source file list, not on the number of worker processes.
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from icanvas import __version__
from icanvas.data.datasets import IMAGE_SUFFIXES, MANIFEST, split_pair
from icanvas.data.edges import EDGE_METHODS, extract_lines, fit_sketch, normalize_edge_map
from icanvas.data.images import fit_square, letterbox, read_image, to_rgb
from icanvas.data.segment import remove_background, subject_square
from icanvas.errors import ConfigError, DatasetError, ICanvasError


FITS = ("pad", "crop", "subject")


@dataclass(frozen=True)
class PrepareOptions:
    size: int = 256  # side of the square output images, px
    edges: str = "xdog"  # line extractor ("xdog", "canny"), or "dataset" to keep an aligned set's own edges
    remove_background: bool = False  # GrabCut the object out before extracting lines
    background_init: str = "auto"  # GrabCut initialisation: "border", "center" or "auto"
    pairs_order: str = ""  # "" = folder of photos; "sketch-photo" / "photo-sketch" = aligned pairs
    fit: str = "pad"  # "pad" keeps the whole photo, "crop" fills the square (centre crop),
    # "subject" crops the square around the object found as for background removal
    box: str = ""  # "left,top,right,bottom" fractions: cut every photo to this box first (subjects that sit alike)
    line_width: int = 2  # pen width of extracted lines at 256 px
    val_fraction: float = 0.1  # share of images held out (ignored when the source has train/ and val/)
    seed: int = 0  # split and randomised steps
    kind: str = ""  # what the photos show (e.g. "cat"); "" = the source folder's name
    category: str = ""  # keep only rows of this category from the source's manifest.csv
    limit: int = 0  # use only the first N images after shuffling (0 = all)
    data_terms: str = ""  # licence / terms of the source data, copied into model cards

    def validate(self) -> None:
        if self.size < 16 or self.size > 2048:
            raise ConfigError(f"--size {self.size} is out of range.", "Use 16..2048 (256 for the product models).")
        allowed = sorted(EDGE_METHODS) + (["dataset"] if self.pairs_order else [])
        if self.edges not in allowed:
            raise ConfigError(f"--edges {self.edges!r} is not available here.", f"Choose one of: {', '.join(allowed)}.")
        if self.pairs_order not in ("", "sketch-photo", "photo-sketch"):
            raise ConfigError(f"--pairs-order {self.pairs_order!r} is unknown.", "Use sketch-photo or photo-sketch.")
        if self.fit not in FITS:
            raise ConfigError(f"--fit {self.fit!r} is unknown.", f"Use one of: {', '.join(FITS)}.")
        if self.fit == "subject" and self.pairs_order:
            raise ConfigError("--fit subject would crop the photo away from its paired sketch.",
                              "Use pad or crop for aligned pairs.")
        self.box_fractions()
        if not 0.0 <= self.val_fraction < 1.0:
            raise ConfigError("--val-fraction must be in [0, 1).")

    def box_fractions(self) -> tuple[float, float, float, float] | None:
        """``box`` as (left, top, right, bottom) fractions of the photo, None when not set."""
        if not self.box:
            return None
        hint = "Give four fractions of the photo, left,top,right,bottom, e.g. 0.2,0.25,0.8,0.85."
        try:
            left, top, right, bottom = (float(v) for v in self.box.split(","))
        except ValueError:
            raise ConfigError(f"--box {self.box!r} is not four numbers.", hint) from None
        if not (0.0 <= left < right <= 1.0 and 0.0 <= top < bottom <= 1.0):
            raise ConfigError(f"--box {self.box!r} is not a box inside the photo.", hint)
        return left, top, right, bottom


def cut_box(img: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """The part of an image (H, W, ...) inside ``box`` (left, top, right, bottom fractions), at least 1 px."""
    h, w = img.shape[:2]
    x0, x1 = min(round(box[0] * w), w - 1), round(box[2] * w)
    y0, y1 = min(round(box[1] * h), h - 1), round(box[3] * h)
    return img[y0 : max(y1, y0 + 1), x0 : max(x1, x0 + 1)]


@dataclass
class PrepareReport:
    out_dir: Path
    counts: dict[str, int]
    skipped: list[dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class _Job:
    src: str
    dst: str
    index: int


def _list_sources(root: Path, opts: PrepareOptions) -> dict[str, list[Path]]:
    """Source files per split: the source's own train/ and val/ folders, or one list to split."""
    def images(folder: Path) -> list[Path]:
        return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)

    if (root / "train").is_dir():
        found = {"train": images(root / "train"), "val": images(root / "val") if (root / "val").is_dir() else []}
    else:
        found = {"all": images(root)}
    if opts.category:
        table = next((p for p in (root / "manifest.csv", root.parent / "manifest.csv") if p.is_file()), None)
        if table is None:
            raise DatasetError(f"--category needs a manifest.csv (file, category) in {root} or its parent.")
        base = table.parent
        with table.open(newline="") as f:
            keep = {str((base / r["file"]).resolve()) for r in csv.DictReader(f) if r.get("category") == opts.category}
        found = {k: [p for p in v if str(p.resolve()) in keep] for k, v in found.items()}
    return found


def _plan(root: Path, out: Path, opts: PrepareOptions) -> list[_Job]:
    found = _list_sources(root, opts)
    rng = np.random.default_rng(opts.seed)
    splits: dict[str, list[Path]] = {}
    if "all" in found:
        files = [found["all"][i] for i in rng.permutation(len(found["all"]))]
        if opts.limit:
            files = files[: opts.limit]
        n_val = int(round(len(files) * opts.val_fraction))
        if opts.val_fraction > 0 and len(files) >= 2:
            n_val = max(1, n_val)
        splits = {"val": files[:n_val], "train": files[n_val:]}
    else:
        for name, files in found.items():
            files = [files[i] for i in rng.permutation(len(files))]
            splits[name] = files[: opts.limit] if opts.limit else files
    jobs, index = [], 0
    for split, files in splits.items():
        for f in sorted(files):
            stem = "__".join(f.relative_to(root).with_suffix("").parts)
            jobs.append(_Job(str(f), str(out / split / f"{stem}.png"), index))
            index += 1
    return jobs


def make_pair(photo_rgb: np.ndarray, opts: PrepareOptions, *, given_sketch: np.ndarray | None = None, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """One photo (and optionally its dataset sketch) -> (sketch (S, S), photo (S, S, 3))."""
    cv2.setRNGSeed(seed)  # GrabCut's k-means initialisation
    size = opts.size
    box = opts.box_fractions()
    if box is not None:
        photo_rgb = cut_box(photo_rgb, box)
        given_sketch = None if given_sketch is None else cut_box(given_sketch, box)
    content = np.ones((size, size), bool)  # pixels that come from the photo, not padding
    if opts.fit == "pad":
        photo, place = letterbox(photo_rgb, size, fill=255)
        content[:] = False
        content[place.top : place.top + place.h, place.left : place.left + place.w] = True
    elif opts.fit == "subject":
        left, top, side = subject_square(photo_rgb, init=opts.background_init)
        photo = fit_square(photo_rgb[top : top + side, left : left + side], size, mode="crop")
    else:
        photo = fit_square(photo_rgb, size, mode="crop")
    if opts.remove_background:
        photo, _ = remove_background(photo, init=opts.background_init)
    width = max(1, round(opts.line_width * size / 256))
    if given_sketch is not None and opts.edges == "dataset":
        given = normalize_edge_map(given_sketch, line_width=1)  # clean at the source size, then shrink
        return normalize_edge_map(fit_sketch(given, size, mode=opts.fit), line_width=width), photo
    sketch = extract_lines(photo, opts.edges, line_width=width)
    # the photo's own frame is no line a child would draw: clear a band along it
    band = max(2, width + 1)
    inner = cv2.erode(np.pad(content, 1).astype(np.uint8), np.ones((2 * band + 1, 2 * band + 1), np.uint8))[1:-1, 1:-1]
    sketch[inner == 0] = 255
    return sketch, photo


def _work(args: tuple[_Job, PrepareOptions]) -> tuple[str, str]:
    job, opts = args
    try:
        rgb = to_rgb(read_image(job.src))
        given = None
        if opts.pairs_order:
            if rgb.shape[1] < 2 * min(16, rgb.shape[0]):
                raise DatasetError("image is not two halves side by side")
            given, rgb = split_pair(rgb, opts.pairs_order)
        sketch, photo = make_pair(rgb, opts, given_sketch=given, seed=opts.seed * 1_000_003 + job.index)
        if not (sketch < 128).any():
            return job.src, "no lines found in this image (blank sketch)"
        pair = np.concatenate([np.repeat(sketch[..., None], 3, axis=2), photo], axis=1)  # (S, 2S, 3)
        Path(job.dst).parent.mkdir(parents=True, exist_ok=True)
        tmp = job.dst + ".tmp.png"
        if not cv2.imwrite(tmp, cv2.cvtColor(pair, cv2.COLOR_RGB2BGR)):
            raise OSError(f"could not write {job.dst}")
        os.replace(tmp, job.dst)
        return job.src, ""
    except ICanvasError as e:
        return job.src, str(e)
    except OSError as e:
        return job.src, f"write failed: {e}"


def prepare_dataset(photos_dir: str | Path, out_dir: str | Path, opts: PrepareOptions, *, workers: int = 0,
                    progress: bool = True) -> PrepareReport:
    """Turn ``photos_dir`` into ``out_dir`` (see the module docstring)."""
    opts.validate()
    root, out = Path(photos_dir), Path(out_dir)
    if not root.is_dir():
        raise DatasetError(f"Photo folder {root} does not exist.", "Pass a folder of PNG/JPEG/WebP photos.")
    jobs = _plan(root, out, opts)
    if not jobs:
        raise DatasetError(f"No images (PNG, JPEG, WebP) found in {root}.", "Check the path; sub-folders are searched too.")
    workers = workers or os.cpu_count() or 1
    results: list[tuple[str, str]] = []
    bar = tqdm(total=len(jobs), desc="prepare", disable=not progress, dynamic_ncols=True)
    if workers == 1:
        for job in jobs:
            results.append(_work((job, opts)))
            bar.update(1)
    else:
        with get_context("spawn").Pool(workers) as pool:
            for r in pool.imap(_work, [(j, opts) for j in jobs], chunksize=8):
                results.append(r)
                bar.update(1)
    bar.close()
    skipped = [{"file": src, "reason": why} for src, why in results if why]
    counts = {s: sum(1 for j, (_, why) in zip(jobs, results) if not why and Path(j.dst).parent.name == s) for s in ("train", "val")}
    counts["skipped"] = len(skipped)
    if counts["train"] == 0:
        raise DatasetError(f"None of the {len(jobs)} images in {root} could be used.", f"First problem: {skipped[0]['reason'] if skipped else '?'}")
    manifest = {
        "tool": "icanvas prepare", "version": __version__, "source": str(root.resolve()),
        "kind": opts.kind or root.name, "layout": "sketch-photo", "counts": counts,
        **{k: v for k, v in asdict(opts).items() if k != "kind"}, "skipped_files": skipped[:100],
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return PrepareReport(out, counts, skipped)


def preview_sheet(out_dir: str | Path, path: str | Path, *, rows: int = 8, seed: int = 0) -> Path:
    """Contact sheet of photo | extracted lines | two sketchified variants for prepared pairs."""
    from icanvas.methods.pix2pix import SketchifyConfig
    from icanvas.data.sketchify import Sketchify
    from icanvas.sheets import grid, save_png

    files = sorted((Path(out_dir) / "train").glob("*.png"))[:rows]
    if not files:
        raise DatasetError(f"{out_dir}/train has no pairs to preview.")
    rng = np.random.default_rng(seed)
    cells = []
    for f in files:
        pair = cv2.cvtColor(cv2.imread(str(f)), cv2.COLOR_BGR2RGB)
        sketch, photo = split_pair(pair)
        sk = Sketchify(SketchifyConfig(), image_size=sketch.shape[0])
        cells.append([photo, sketch, sk(sketch, rng), sk(sketch, rng)])
    save_png(path, grid(cells, titles=["photo", "lines", "sketchified", "sketchified"]))
    return Path(path)
