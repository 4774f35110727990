"""The four stages of photo -> character and the prompt a person gives.

Images are ``(H, W, 3) uint8`` RGB arrays; masks are ``(H, W) float32`` in [0, 1] (1 = the
person). Every stage raises :class:`~icanvas.errors.ICanvasError` subclasses with a hint for
bad input, never a bare exception.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class Point:
    x: int  # px from the left edge of the photo
    y: int  # px from the top edge of the photo
    foreground: bool = True  # True: "this is the person"; False: "this is not"


@dataclass(frozen=True)
class Prompt:
    """Where the person is: clicks and/or a box, in photo pixels."""

    points: tuple[Point, ...] = ()
    box: tuple[int, int, int, int] | None = None  # (x0, y0, x1, y1), x1 > x0, y1 > y0; None = no box


@dataclass
class Selection:
    mask: np.ndarray  # (H, W) float32 in [0, 1], soft at the edges
    box: tuple[int, int, int, int]  # (x0, y0, x1, y1) tight box of mask > 0.5
    face: tuple[int, int, int, int] | None = None  # (x0, y0, x1, y1) the person's face if one was found
    info: dict[str, object] = field(default_factory=dict)  # what the selector did, for --debug


class PersonSelector(Protocol):
    """Stage 1: photo + prompt -> the person's mask."""

    name: str

    def select(self, photo: np.ndarray, prompt: Prompt) -> Selection: ...


class BackgroundFiller(Protocol):
    """Stage 2: photo + mask -> the photo with the masked region filled from its surroundings."""

    name: str

    def fill(self, photo: np.ndarray, mask: np.ndarray) -> np.ndarray: ...


class Restyler(Protocol):
    """Stage 3: a crop of the person (+ its mask and face box in crop pixels) -> the same crop restyled."""

    name: str

    def restyle(self, crop: np.ndarray, mask: np.ndarray, face: tuple[int, int, int, int] | None) -> np.ndarray: ...
