"""Prepared datasets decoded once into memory, and deterministic training batches.

A prepared split is a folder of aligned PNGs, sketch on the left and photo on the right
(see :mod:`icanvas.data.prepare`). Batches are a pure function of (seed, step, rank): no
loader state needs saving to resume exactly, and results do not depend on the number of
processes that share the work.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from icanvas.data.edges import ink_span, resize_sketch
from icanvas.data.hints import crayon_hints, encode_hints, sample_hints
from icanvas.data.segment import subject_masks
from icanvas.errors import DatasetError
from icanvas.methods.pix2pix import DataConfig, HintConfig

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
MANIFEST = "manifest.json"


@dataclass
class PairedImages:
    """All pairs of a split in memory."""

    sketches: np.ndarray  # (N, S, S) uint8, 255 paper / 0 ink
    photos: np.ndarray  # (N, S, S, 3) uint8 RGB
    labels: np.ndarray  # (N,) int64 index into ``kinds`` (0 when unconditional)
    kinds: list[str]
    files: list[str]

    def __len__(self) -> int:
        return len(self.files)

    def subject_fill(self) -> float:
        """Median share of the side that a sketch's drawing spans (longer side of its ink box; 0 when blank).

        Pipelines frame a user's drawing to the same share, so a face drawn across the
        whole canvas reaches the model at the size the training faces had."""
        fills = [span / sk.shape[0] for sk in self.sketches if (span := ink_span(sk))]
        return round(float(np.median(fills)), 3) if fills else 0.0


def read_manifest(folder: Path) -> dict:
    path = Path(folder) / MANIFEST
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise DatasetError(f"{path} is not valid JSON ({e}).", "Re-run 'icanvas prepare' for this folder.") from e


def split_pair(pair: np.ndarray, order: str = "sketch-photo") -> tuple[np.ndarray, np.ndarray]:
    """Cut an aligned (H, 2W, 3) image into (sketch (H, W) uint8, photo (H, W, 3))."""
    w = pair.shape[1] // 2
    left, right = pair[:, :w], pair[:, w : 2 * w]
    sk, ph = (left, right) if order == "sketch-photo" else (right, left)
    return cv2.cvtColor(sk, cv2.COLOR_RGB2GRAY), ph


def _load_pair(path: Path, size: int) -> tuple[np.ndarray, np.ndarray]:
    raw = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if raw is None:
        raise DatasetError(f"{path} cannot be decoded.", "Delete it or re-run 'icanvas prepare'.")
    sketch, photo = split_pair(cv2.cvtColor(raw, cv2.COLOR_BGR2RGB))
    if sketch.shape[0] != size:
        photo = cv2.resize(photo, (size, size), interpolation=cv2.INTER_AREA)
        sketch = resize_sketch(sketch, size, size)
    return sketch, photo


def load_pairs(folders: list[Path], split: str, image_size: int, kinds: tuple[str, ...] = ()) -> PairedImages:
    """Decode every pair of ``split`` in the prepared ``folders`` (labels from their manifests)."""
    files: list[Path] = []
    labels: list[int] = []
    names = list(kinds)
    for folder in folders:
        folder = Path(folder)
        if not folder.is_dir():
            raise DatasetError(f"Data folder {folder} does not exist.", "Create it with 'icanvas prepare PHOTOS_DIR OUT_DIR'.")
        sub = folder / split
        found = sorted(p for p in sub.glob("*") if p.suffix.lower() in IMAGE_SUFFIXES) if sub.is_dir() else []
        kind = read_manifest(folder).get("kind") or folder.name
        if names and kind not in names:
            raise DatasetError(f"{folder} holds kind {kind!r}, not one of data.kinds {names}.", "Fix data.kinds or the --data list.")
        files += found
        labels += [names.index(kind) if names else 0] * len(found)
    if not files:
        where = ", ".join(str(Path(f) / split) for f in folders)
        raise DatasetError(f"No training pairs found in {where}.", "Run 'icanvas prepare PHOTOS_DIR OUT_DIR' first; pairs are PNG/JPEG files.")
    n = len(files)
    sketches = np.empty((n, image_size, image_size), np.uint8)
    photos = np.empty((n, image_size, image_size, 3), np.uint8)
    with ThreadPoolExecutor(max_workers=4) as pool:
        for i, (sk, ph) in enumerate(pool.map(lambda p: _load_pair(p, image_size), files)):
            sketches[i], photos[i] = sk, ph
    blank = int((sketches.reshape(n, -1).min(axis=1) >= 128).sum())
    if blank > n // 2:
        raise DatasetError(f"{blank} of {n} sketches in the {split} split are blank.",
                           "Re-run 'icanvas prepare' (check its --preview sheet); a model cannot learn from empty drawings.")
    return PairedImages(sketches, photos, np.asarray(labels, np.int64), names, [str(f) for f in files])


class EpochOrder:
    """Which sample sits at a global position: a fresh seeded shuffle of all ``n`` every epoch."""

    def __init__(self, n: int, seed: int) -> None:
        self.n, self.seed = n, seed
        self._perms: dict[int, np.ndarray] = {}

    def __call__(self, position: int) -> int:
        epoch = position // self.n
        if epoch not in self._perms:
            self._perms = {epoch: np.random.default_rng([self.seed, epoch]).permutation(self.n)}
        return int(self._perms[epoch][position % self.n])


class PairBatcher:
    """Builds the batch of a given step: sample choice, jitter, flip, sketchify, hints."""

    def __init__(
        self,
        data: PairedImages,
        cfg: DataConfig,
        hints: HintConfig,
        sketchify: Callable[[np.ndarray, np.random.Generator], np.ndarray] | None,
        *,
        seed: int,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        self.data, self.cfg, self.hints, self.sketchify = data, cfg, hints, sketchify
        self.seed, self.rank, self.world = seed, rank, world_size
        self._index = EpochOrder(len(data), seed)
        self._pool: ThreadPoolExecutor | None = None
        self._subjects: np.ndarray | None = None  # (N, S, S) bool photo subjects, found on first use
        self._subjects_lock = threading.Lock()

    def subjects(self) -> np.ndarray | None:
        """Each training photo's subject ((N, S, S) bool) when crayon hints recolour the subject only, else None."""
        if not (self.hints.enabled and self.hints.style == "crayon" and self.hints.region == "subject"):
            return None
        with self._subjects_lock:
            if self._subjects is None:
                self._subjects = subject_masks(self.data.photos, workers=max(2, self.cfg.workers), progress=self.rank == 0)
        return self._subjects

    def example(self, position: int) -> dict[str, np.ndarray]:
        """The augmented training example for global sample ``position`` (deterministic)."""
        return self._make(self._index(position), np.random.default_rng([self.seed, 1, position]), augment=True)

    def _make(self, i: int, rng: np.random.Generator, augment: bool) -> dict[str, np.ndarray]:
        sketch, photo = self.data.sketches[i], self.data.photos[i]
        subjects = self.subjects() if augment else None
        subject = None if subjects is None else subjects[i]  # (S, S) bool, moved with the photo
        size = sketch.shape[0]
        if augment and self.cfg.load_size > size:
            ls = self.cfg.load_size
            big_p = cv2.resize(photo, (ls, ls), interpolation=cv2.INTER_LINEAR)
            big_s = resize_sketch(sketch, ls, ls)
            y, x = rng.integers(0, ls - size + 1, size=2)
            photo, sketch = big_p[y : y + size, x : x + size], big_s[y : y + size, x : x + size]
            if subject is not None:
                big_m = cv2.resize(subject.astype(np.uint8), (ls, ls), interpolation=cv2.INTER_NEAREST)
                subject = big_m[y : y + size, x : x + size] > 0
        if augment and self.cfg.flip and rng.random() < 0.5:
            photo, sketch = photo[:, ::-1], sketch[:, ::-1]
            subject = None if subject is None else subject[:, ::-1]
        sketch = np.ascontiguousarray(sketch)
        photo = np.ascontiguousarray(photo)
        if augment and self.sketchify is not None:
            sketch = self.sketchify(sketch, rng)
        hint = None
        if self.hints.enabled:
            if not augment:
                colors, mask = np.zeros_like(photo), np.zeros(sketch.shape, bool)
            elif self.hints.style == "crayon":  # the picture to learn becomes the crayon's colour
                photo, colors, mask = crayon_hints(sketch, photo, self.hints, rng, subject)
            else:
                colors, mask = sample_hints(photo, self.hints, rng)
            hint = encode_hints(colors, mask)  # (4, S, S)
        out = {
            "sketch": (sketch.astype(np.float32) / 127.5 - 1.0)[None],  # (1, S, S)
            "photo": (photo.astype(np.float32) / 127.5 - 1.0).transpose(2, 0, 1),  # (3, S, S)
            "label": np.int64(self.data.labels[i]),
        }
        if hint is not None:
            out["hint"] = hint
        return out

    def batch(self, step: int, batch_size: int) -> dict[str, np.ndarray]:
        start = (step * self.world + self.rank) * batch_size
        positions = range(start, start + batch_size)
        if self.cfg.workers > 1:  # each example has its own seeded generator: the same batch in any order
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=self.cfg.workers)
            items = list(self._pool.map(self.example, positions))
        else:
            items = [self.example(p) for p in positions]
        return {k: np.stack([it[k] for it in items]) for k in items[0]}

    def fixed(self, count: int) -> dict[str, np.ndarray]:
        """The first ``count`` pairs without augmentation (for sample grids)."""
        rng = np.random.default_rng(self.seed)
        items = [self._make(i, rng, augment=False) for i in range(min(count, len(self.data)))]
        return {k: np.stack([it[k] for it in items]) for k in items[0]}
