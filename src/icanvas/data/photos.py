"""Photos alone (no sketches) for unconditional models: decoded once into memory, split into
training and held-out sets, and served as deterministic batches.

``--data`` may name a plain folder of photos (every PNG/JPEG/WebP below it, centre-cropped to
squares; a seeded share is held out) or a folder written by ``icanvas prepare`` (its photo
halves, cut out and framed as prepared; the val split is the held-out set).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from icanvas.data.datasets import IMAGE_SUFFIXES, MANIFEST, EpochOrder, load_pairs, read_manifest
from icanvas.data.images import fit_square, read_image, to_rgb
from icanvas.errors import DatasetError, ICanvasError


def read_photo_folder(folder: str | Path, size: int, limit: int = 0) -> tuple[np.ndarray, list[str]]:
    """Every readable photo below ``folder`` as (N, S, S, 3) uint8 centre-cropped squares, and their paths.

    Files that cannot be decoded are skipped; a folder with none that can raises DatasetError.
    """
    folder = Path(folder)
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES) if folder.is_dir() else []
    if limit:
        files = files[:limit]

    def load(path: Path) -> np.ndarray | None:
        try:
            return fit_square(to_rgb(read_image(path)), size, mode="crop")
        except ICanvasError:
            return None

    with ThreadPoolExecutor(max_workers=4) as pool:
        decoded = list(pool.map(load, files))
    kept = [(img, str(f)) for img, f in zip(decoded, files) if img is not None]
    if not kept:
        raise DatasetError(f"No readable photos found in {folder}.", "Pass a folder of PNG/JPEG photos (or one written by 'icanvas prepare').")
    return np.stack([k[0] for k in kept]), [k[1] for k in kept]


@dataclass
class PhotoSet:
    """Training and held-out photos of one kind."""

    train: np.ndarray  # (N, S, S, 3) uint8
    held_out: np.ndarray  # (M, S, S, 3) uint8, never trained on; the realism reference
    kind: str
    sources: list[str]  # one line per data folder, for the model card
    terms: list[str]  # data terms recorded by prepared folders' manifests


def load_photo_set(folders: list[Path], size: int, *, holdout: float, seed: int, kind: str = "", max_images: int = 0) -> PhotoSet:
    """Photos of ``folders`` at ``size`` px; see the module docstring for what a folder may be."""
    train, held, sources, kinds, terms = [], [], [], [], []
    for folder in map(Path, folders):
        if not folder.is_dir():
            raise DatasetError(f"Data folder {folder} does not exist.", "Pass a folder of photos or one written by 'icanvas prepare'.")
        if (folder / MANIFEST).is_file():
            m = read_manifest(folder)
            tr = load_pairs([folder], "train", size).photos
            try:
                va = load_pairs([folder], "val", size).photos
            except DatasetError:
                raise DatasetError(f"{folder} has no val split to measure realism against.",
                                   "Prepare it with a validation share (icanvas prepare --val ...).") from None
            kinds.append(m.get("kind") or folder.name)
            terms += [m["data_terms"]] if m.get("data_terms") else []
            sources.append(f"`{folder}`: {len(tr)} training photos (photo halves of prepared pairs; background removal "
                           f"`{m.get('remove_background', '?')}`), {len(va)} held out (its val split); source `{m.get('source', '?')}`")
        else:
            photos, _ = read_photo_folder(folder, size)
            order = np.random.default_rng(seed).permutation(len(photos))
            n_held = max(1, int(round(len(photos) * holdout)))
            if len(photos) - n_held < 1:
                raise DatasetError(f"{folder} has only {len(photos)} photo(s).", "Training needs more photos than the held-out share.")
            tr, va = photos[np.sort(order[n_held:])], photos[np.sort(order[:n_held])]
            kinds.append(folder.name)
            sources.append(f"`{folder}`: {len(tr)} training photos, {len(va)} held out (seeded {holdout:.0%} share)")
        train.append(tr)
        held.append(va)
    all_train = np.concatenate(train)
    if max_images:
        all_train = all_train[:max_images]
    return PhotoSet(all_train, np.concatenate(held), kind or kinds[0], sources, sorted(set(terms)))


class PhotoBatcher:
    """The batch of a given step as a pure function of (seed, step): epoch-wise shuffles and flips."""

    def __init__(self, photos: np.ndarray, *, flip: bool, seed: int) -> None:
        self.photos, self.flip, self.seed = photos, flip, seed
        self._index = EpochOrder(len(photos), seed)

    def batch(self, step: int, batch_size: int) -> dict[str, np.ndarray]:
        rng = np.random.default_rng([self.seed, 2, step])
        idx = [self._index(step * batch_size + j) for j in range(batch_size)]
        imgs = self.photos[idx]  # (B, S, S, 3) uint8
        if self.flip:
            flips = rng.random(batch_size) < 0.5
            imgs = np.where(flips[:, None, None, None], imgs[:, :, ::-1], imgs)
        return {"photo": (imgs.astype(np.float32) / 127.5 - 1.0).transpose(0, 3, 1, 2).copy()}  # (B, 3, S, S)
