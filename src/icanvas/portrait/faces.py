"""Finding the selected person's face box (the restyle stage draws the face with the most care).

Two detectors behind one call: MediaPipe's BlazeFace (:mod:`icanvas.portrait.litert`) when
its model file is present, else scikit-image's LBP frontal-face cascade (no download, slower,
frontal faces only). Either runs on the upper part of the person only, not on the whole photo.
"""

from __future__ import annotations

from typing import Protocol

import cv2
import numpy as np

from icanvas.portrait.litert import FACE_FILE, FaceDetector, find_model, litert_installed
from icanvas.portrait.stages import Prompt

FaceBox = tuple[int, int, int, int]  # (x0, y0, x1, y1) photo px

HEAD_SEARCH = 1.2  # the face is looked for in a square this many person-widths high from the person's top
CASCADE_SIZE = 320  # px; the LBP cascade runs with the longer side of the searched area at most this
CASCADE_MIN_FACE = 20  # px at CASCADE_SIZE; smaller faces are not looked for (the cascade's cost grows fast)
CASCADE_SCALE = 1.2  # step between the cascade's search scales
CLICK_SIDEWAYS = 1.0  # a click belongs to a face when at most this many face widths beside its centre ...
CLICK_ABOVE = 0.2  # ... and not more than this many face heights above its top (on the face or the body below)
BODY_ABOVE = 0.8  # a person's region starts this many face heights above the face box
BODY_BELOW = 8.0  # ... ends this many face heights below it (or at the photo's bottom) ...
BODY_HALF_WIDTH = 2.0  # ... and this many face widths to each side of the face's centre


class FaceFinder(Protocol):
    name: str

    def __call__(self, img: np.ndarray) -> list[tuple[FaceBox, float]]: ...


class CascadeFaces:
    """scikit-image's LBP frontal-face cascade; every detection scores 1."""

    name = "lbp-cascade"

    def __init__(self) -> None:
        self.cascade = None  # loaded on first use (its XML takes a while to parse)

    def __call__(self, img: np.ndarray) -> list[tuple[FaceBox, float]]:
        if self.cascade is None:
            from skimage.data import lbp_frontal_face_cascade_filename
            from skimage.feature import Cascade

            self.cascade = Cascade(lbp_frontal_face_cascade_filename())
        h, w = img.shape[:2]
        s = min(1.0, CASCADE_SIZE / max(h, w))
        grey = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
        if s < 1.0:
            grey = cv2.resize(grey, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
        side = min(grey.shape)
        if side < CASCADE_MIN_FACE:
            return []
        found = self.cascade.detect_multi_scale(img=grey.astype(np.float64) / 255.0, scale_factor=CASCADE_SCALE, step_ratio=1,
                                                min_size=(CASCADE_MIN_FACE, CASCADE_MIN_FACE), max_size=(side, side))
        boxes = [(d["c"] / s, d["r"] / s, (d["c"] + d["width"]) / s, (d["r"] + d["height"]) / s) for d in found]
        boxes.sort(key=lambda b: -(b[2] - b[0]))  # larger first: the person's own face rather than a print on a shirt
        return [((int(b[0]), int(b[1]), min(w, int(b[2])), min(h, int(b[3]))), 1.0) for b in boxes]


class BlazeFaces:
    name = "blazeface"

    def __init__(self, threads: int = 2) -> None:
        self.detector = FaceDetector(find_model(FACE_FILE), threads)

    def __call__(self, img: np.ndarray) -> list[tuple[FaceBox, float]]:
        return self.detector(img)


def default_face_finder(threads: int = 2) -> FaceFinder:
    """BlazeFace when its model file and the TFLite runtime are there, else the LBP cascade."""
    if litert_installed() and find_model(FACE_FILE) is not None:
        return BlazeFaces(threads)
    return CascadeFaces()


def head_area(box: tuple[int, int, int, int], shape: tuple[int, ...]) -> FaceBox:
    """Where to look for the face of a person with bounding ``box``: its top, as tall as HEAD_SEARCH widths."""
    x0, y0, x1, y1 = box
    return x0, y0, x1, min(y1, y0 + max(1, round(HEAD_SEARCH * (x1 - x0))), shape[0])


def face_in(img: np.ndarray, region: np.ndarray, box: tuple[int, int, int, int], finder: FaceFinder) -> FaceBox | None:
    """The best face box found in the head area of the selected person whose centre is on the person."""
    x0, y0, x1, y1 = head_area(box, img.shape)
    crop = img[y0:y1, x0:x1]
    if min(crop.shape[:2]) < 8:
        return None
    for (fx0, fy0, fx1, fy1), _score in finder(crop):
        cx, cy = x0 + (fx0 + fx1) // 2, y0 + (fy0 + fy1) // 2
        if region[min(cy, region.shape[0] - 1), min(cx, region.shape[1] - 1)]:
            return x0 + fx0, y0 + fy0, x0 + fx1, y0 + fy1
    return None


def face_for_prompt(faces: list[FaceBox], prompt: Prompt) -> FaceBox | None:
    """The face the prompt is about: the widest inside the box, or the nearest one the first
    foreground click is on or below (within CLICK_SIDEWAYS face widths)."""
    if prompt.box is not None:
        x0, y0, x1, y1 = prompt.box
        inside = [f for f in faces if x0 <= (f[0] + f[2]) / 2 < x1 and y0 <= (f[1] + f[3]) / 2 < y1]
        return max(inside, key=lambda f: f[2] - f[0], default=None)
    p = next((p for p in prompt.points if p.foreground), None)
    if p is None:
        return None
    near = [f for f in faces if abs(p.x - (f[0] + f[2]) / 2) <= CLICK_SIDEWAYS * (f[2] - f[0])
            and p.y >= f[1] - CLICK_ABOVE * (f[3] - f[1])]
    return min(near, key=lambda f: abs(p.x - (f[0] + f[2]) / 2) + abs(p.y - (f[1] + f[3]) / 2), default=None)


def body_region(face: FaceBox, shape: tuple[int, ...]) -> FaceBox:
    """(x0, y0, x1, y1) of the photo where the person with this face probably is: from a little
    above the head down BODY_BELOW face heights, BODY_HALF_WIDTH face widths to each side."""
    h, w = shape[:2]
    fx0, fy0, fx1, fy1 = face
    fw, fh = fx1 - fx0, fy1 - fy0
    y0, y1 = max(0, round(fy0 - BODY_ABOVE * fh)), min(h, round(fy1 + BODY_BELOW * fh))
    half, cx = BODY_HALF_WIDTH * fw, (fx0 + fx1) / 2
    return max(0, round(cx - half)), y0, min(w, round(cx + half)), y1
