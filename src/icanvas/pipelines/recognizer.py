"""Recognizer: guesses what a sketch shows ("Is it a cat?"), as the child draws.

Any sketch (black lines on white, any size, any pen) is reduced the way Quick, Draw! bitmaps
were made: the strokes' centre lines are found, scaled so the drawing's longer side fills
the frame with a margin, redrawn with Quick, Draw!'s pen and shrunk to the model's side
(:func:`~icanvas.data.quickdraw.sketch_to_bitmap`). A small CNN then gives the probability
of each label. A blank sketch has no guesses: :meth:`Recognizer.predict` returns ``[]``.

:attr:`Recognizer.preselect_min_prob` is the probability from which on a top guess is sure
enough for the studio to pre-select that kind, fitted on real doodles when the model was
trained (``meta.preselect_min_prob``); None for a model without one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from icanvas.checkpoint import ModelInfo, from_pretrained
from icanvas.data.quickdraw import bitmaps_to_input, sketch_to_bitmap
from icanvas.errors import CheckpointError, InputImageError

MIN_INK_PIXELS = 1  # sketches with fewer ink pixels (value < 128) than this count as blank
FORWARD_THREADS = 1  # torch threads for one forward pass: the model is tiny (about 1 ms), more threads only wait on busy cores


class Recognizer:
    """Inference only: receives its classifier, label names and input side."""

    def __init__(self, model: nn.Module, labels: list[str], image_size: int, info: ModelInfo | None = None,
                 preselect_min_prob: float | None = None) -> None:
        self.model = model.eval()
        self.labels = list(labels)
        self.size = image_size
        self.info = info
        self.preselect_min_prob = preselect_min_prob  # 0..1: a top guess at least this sure may pick the studio's kind; None = never

    @classmethod
    def from_pretrained(cls, folder: str | Path, device: str | torch.device = "cpu") -> "Recognizer":
        """Load a recognizer model folder (config.json + weights), e.g. ``find_model("recognizer")``."""
        model, info = from_pretrained(folder, device=device)
        if info.method != "recognizer":
            raise CheckpointError(f"{info.path} holds a {info.method} model, not a recognizer.",
                                  "Pass a folder written by 'icanvas train --config recognizer', e.g. find_model('recognizer').")
        labels = info.meta.get("labels")
        if not isinstance(labels, list) or len(labels) != info.config.num_classes:
            raise CheckpointError(f"{info.path / 'config.json'} does not list its {info.config.num_classes} labels under meta.labels.",
                                  "The model folder is incomplete; retrain or restore it.")
        threshold = info.meta.get("preselect_min_prob")
        if threshold is not None and not (isinstance(threshold, (int, float)) and 0.0 <= threshold <= 1.0):
            raise CheckpointError(f"{info.path / 'config.json'} has meta.preselect_min_prob {threshold!r}, not a probability in [0, 1].",
                                  "Fix or remove that entry (without it the studio never pre-selects a kind).")
        return cls(model, [str(x) for x in labels], info.config.image_size, info,
                   None if threshold is None else float(threshold))

    def bitmap(self, lines: np.ndarray) -> np.ndarray:
        """The (S, S) uint8 sketch (255 paper, grey anti-aliased) the model sees for ``lines``."""
        return sketch_to_bitmap(_check(lines), self.size)

    @torch.inference_mode()
    def probabilities(self, lines: np.ndarray) -> np.ndarray | None:
        """(num_labels,) float32 probabilities for a sketch, or None when it is blank."""
        lines = _check(lines)
        if int((lines < 128).sum()) < MIN_INK_PIXELS:
            return None
        x = torch.from_numpy(bitmaps_to_input(sketch_to_bitmap(lines, self.size)[None]))  # (1, 1, S, S)
        device = next(self.model.parameters()).device
        before = torch.get_num_threads()
        torch.set_num_threads(FORWARD_THREADS)  # per calling thread with torch's OpenMP backend; restored below
        try:
            logits = self.model(x.to(device)).float()  # (1, C)
        finally:
            torch.set_num_threads(before)
        return torch.softmax(logits, dim=1)[0].cpu().numpy()  # (C,)

    def predict(self, lines: np.ndarray, top: int = 3) -> list[tuple[str, float]]:
        """The ``top`` most likely labels with their probabilities, most likely first; ``[]`` for a blank sketch.

        ``lines``: (H, W) uint8 sketch, 255 = paper, 0 = ink, any size.
        """
        probs = self.probabilities(lines)
        if probs is None or top < 1:
            return []
        order = np.argsort(-probs, kind="stable")[:top]
        return [(self.labels[i], float(probs[i])) for i in order]


def _check(lines: np.ndarray) -> np.ndarray:
    arr = np.asarray(lines)
    if arr.ndim != 2 or arr.dtype != np.uint8 or min(arr.shape) < 1:
        what = f"{arr.shape} {arr.dtype}" if isinstance(lines, np.ndarray) else type(lines).__name__
        raise InputImageError(f"Expected a sketch of shape (H, W) uint8 (255 paper, 0 ink), got {what}.",
                              "Pass normalize_drawing(read_image(path)).lines.")
    return arr
