"""Two unpaired image folders (photos A, style pictures B) served as augmented random crops.

``--data`` names a folder with one subfolder per domain (``trainA``, ``trainB``, ``testA``,
``testB`` as in the CycleGAN / U-GAT-IT datasets; names set in the preset). Images are decoded
once into memory at the model's size, centre-cropped to squares.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from icanvas.data.photos import read_photo_folder
from icanvas.errors import DatasetError
from icanvas.sheets import to_tensor


@dataclass
class UnpairedSet:
    train_a: np.ndarray  # (N, S, S, 3) uint8 photos
    train_b: np.ndarray  # (M, S, S, 3) uint8 pictures in the target style
    test_a: np.ndarray  # held-out photos
    test_b: np.ndarray  # held-out style pictures (the realism reference)
    sources: list[str]  # one line per folder, for the model card


def _split(images: np.ndarray, share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.random.default_rng(seed).permutation(len(images))
    n = max(1, int(round(share * len(images))))
    return images[np.sort(order[n:])], images[np.sort(order[:n])]


def load_unpaired(root: Path, size: int, *, domain_a: str, domain_b: str, test_a: str, test_b: str, seed: int,
                  max_images: int = 0, holdout: float = 0.1) -> UnpairedSet:
    """Read the domains of ``root``; a missing test folder is replaced by a seeded ``holdout`` share."""
    root = Path(root)
    missing = [d for d in (domain_a, domain_b) if not (root / d).is_dir()]
    if missing:
        raise DatasetError(f"{root} has no {' or '.join(missing)} folder.",
                           f"An unpaired dataset has one folder per domain: {root}/{domain_a} (photos) and {root}/{domain_b} (style pictures).")
    sources, sets = [], {}
    for key, train_name, test_name in (("a", domain_a, test_a), ("b", domain_b, test_b)):
        train, _ = read_photo_folder(root / train_name, size, max_images)
        if test_name and (root / test_name).is_dir():
            test, _ = read_photo_folder(root / test_name, size)
        else:
            train, test = _split(train, holdout, seed)
        sets[key] = (train, test)
        sources.append(f"`{root / train_name}`: {len(train)} training images, {len(test)} held out")
    return UnpairedSet(sets["a"][0], sets["b"][0], sets["a"][1], sets["b"][1], sources)


def tone_jitter(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random change of skin tone and lighting: (S, S, 3) uint8 -> same.

    Darker or lighter exposure (a gain on linear light), warmer or cooler light, a gamma change,
    and now and then greyscale; so a model trained on one group of faces meets many.
    """
    x = (img.astype(np.float32) / 255.0) ** 2.2  # ~linear light
    x *= rng.uniform(0.25, 1.3)  # exposure / skin darkness: 0.25 ~ 2 stops darker
    warm = rng.uniform(-0.12, 0.12)
    x *= np.array([1 + warm, 1.0, 1 - warm], np.float32)
    x = np.clip(x, 0, 1) ** (1 / 2.2 * rng.uniform(0.8, 1.25))
    if rng.random() < 0.1:
        x = np.repeat(x.mean(axis=2, keepdims=True), 3, axis=2)
    return (np.clip(x, 0, 1) * 255 + 0.5).astype(np.uint8)


class UnpairedBatcher:
    """Deterministic batches of random crops: step ``t`` always gives the same batch (exact resume)."""

    def __init__(self, data: UnpairedSet, *, crop: int, scale: tuple[float, float], flip: bool, tone_p: float, seed: int) -> None:
        if len(data.train_a) == 0 or len(data.train_b) == 0:
            raise DatasetError("An unpaired dataset needs images in both domains.", "Check the domain folders.")
        self.data, self.crop, self.scale, self.flip, self.tone_p, self.seed = data, crop, scale, flip, tone_p, seed

    def _augment(self, img: np.ndarray, rng: np.random.Generator, tone: bool) -> np.ndarray:
        s = img.shape[0]
        side = max(self.crop, int(round(s * rng.uniform(*self.scale))))
        x = cv2.resize(img, (side, side), interpolation=cv2.INTER_AREA if side < s else cv2.INTER_LINEAR)
        y0, x0 = rng.integers(0, side - self.crop + 1, size=2)
        x = x[y0 : y0 + self.crop, x0 : x0 + self.crop]
        if self.flip and rng.random() < 0.5:
            x = x[:, ::-1]
        if tone and rng.random() < self.tone_p:
            x = tone_jitter(x, rng)
        return x

    def batch(self, step: int, batch_size: int) -> dict[str, np.ndarray]:
        rng = np.random.default_rng([self.seed, step])
        a = self.data.train_a[rng.integers(0, len(self.data.train_a), batch_size)]
        b = self.data.train_b[rng.integers(0, len(self.data.train_b), batch_size)]
        return {"a": to_tensor([self._augment(x, rng, True) for x in a]),  # (B, 3, crop, crop) in [-1, 1]
                "b": to_tensor([self._augment(x, rng, False) for x in b])}
