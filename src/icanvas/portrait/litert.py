"""The two small TFLite models behind the default person selector, run with ``ai-edge-litert``.

- ``selfie_segmentation.tflite``: MediaPipe Selfie Segmentation, a (256, 256) RGB picture in
  [0, 1] -> (256, 256) probability that a pixel belongs to a person;
- ``face_detection_short_range.tflite``: MediaPipe BlazeFace (short range: faces that fill a
  good part of the picture), a (128, 128) RGB picture in [-1, 1] -> 896 anchor boxes with scores;
- ``face_detection_full_range_sparse.tflite``: BlazeFace full range (small faces in a wide
  photo too), a (192, 192) picture -> 2304 anchor boxes, used to find where people are.

Both come from Google's ``mediapipe==0.10.21`` wheel (Apache-2.0). ``scripts/setup.sh`` takes
them out of it with ``scripts/fetch_portrait_models.sh`` (mediapipe itself is never installed);
nothing is downloaded at run time. They are looked for in ``$ICANVAS_PORTRAIT_MODELS`` when
that is set, else in the package's ``portrait/models/`` folder.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from icanvas.errors import CheckpointError, MissingResourceError

MODELS_ENV = "ICANVAS_PORTRAIT_MODELS"  # a folder holding the .tflite files; set = the only place looked in
SEGMENTER_FILE = "selfie_segmentation.tflite"
FACE_FILE = "face_detection_short_range.tflite"
FAR_FACE_FILE = "face_detection_full_range_sparse.tflite"
FETCH_HINT = "Run 'bash scripts/fetch_portrait_models.sh' (scripts/setup.sh does) to put the model files in place."

SEGMENTER_SIZE = 256  # px, square input and output of the selfie segmenter
ANCHORS = {  # BlazeFace input side (px) -> ((stride px, anchors per cell), ...) of its SSD anchor grid
    128: ((8, 2), (16, 6)),  # short range: 16x16x2 + 8x8x6 = 896 anchors
    192: ((4, 1),),  # full range: 48x48x1 = 2304 anchors
}
FACE_MIN_SCORE = 0.5  # detections below this confidence (0-1) are dropped (MediaPipe's default)
FACE_NMS_IOU = 0.3  # a detection overlapping a better one by more than this IoU is the same face
FACE_SCORE_CLIP = 100.0  # raw scores are clipped to +-this before the sigmoid (as MediaPipe does)


def install_dir() -> Path:
    """Where ``scripts/fetch_portrait_models.sh`` puts the model files by default (git-ignored)."""
    return Path(__file__).resolve().parent / "models"


def search_dirs() -> list[Path]:
    env = os.environ.get(MODELS_ENV)
    if env:
        return [Path(env)]
    return [install_dir()]


def find_model(filename: str) -> Path | None:
    """The first ``filename`` found in :func:`search_dirs`, None when there is none."""
    for folder in search_dirs():
        if (folder / filename).is_file():
            return folder / filename
    return None


def litert_installed() -> bool:
    return importlib.util.find_spec("ai_edge_litert") is not None


class TFLiteModel:
    """One .tflite file with a single float32 (1, H, W, 3) input; calls are serialised (the
    interpreter is not thread-safe)."""

    def __init__(self, path: str | Path, threads: int = 2) -> None:
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as e:
            raise MissingResourceError("The TFLite runtime (ai-edge-litert) is not installed.",
                                       "Run 'pip install ai-edge-litert' or 'bash scripts/setup.sh'.") from e
        try:
            self.interpreter = Interpreter(model_path=str(path), num_threads=max(1, threads))
            self.interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as e:
            raise CheckpointError(f"{path} is not a loadable TFLite model ({e}).", FETCH_HINT) from e
        detail = self.interpreter.get_input_details()[0]
        self.input_index = detail["index"]
        self.input_shape = tuple(int(s) for s in detail["shape"])  # (1, H, W, 3)
        self.outputs = [d["index"] for d in self.interpreter.get_output_details()]
        self._lock = threading.Lock()

    def __call__(self, x: np.ndarray) -> list[np.ndarray]:
        with self._lock:
            self.interpreter.set_tensor(self.input_index, np.ascontiguousarray(x, np.float32))
            self.interpreter.invoke()
            return [self.interpreter.get_tensor(i).copy() for i in self.outputs]


class SelfieSegmenter:
    """Person probability of every pixel of a picture."""

    def __init__(self, path: str | Path, threads: int = 2) -> None:
        self.model = TFLiteModel(path, threads)

    def __call__(self, img: np.ndarray) -> np.ndarray:
        """(H, W, 3) uint8 -> (H, W) float32 in [0, 1]; the picture is stretched to the model's square."""
        h, w = img.shape[:2]
        x = cv2.resize(img, (SEGMENTER_SIZE, SEGMENTER_SIZE), interpolation=cv2.INTER_AREA)
        x = x.astype(np.float32)[None] / 255.0  # (1, 256, 256, 3) in [0, 1]
        prob = self.model(x)[0][0, :, :, 0]  # (256, 256)
        return np.clip(cv2.resize(prob, (w, h), interpolation=cv2.INTER_LINEAR), 0.0, 1.0)


@lru_cache(maxsize=4)
def _face_anchors(size: int) -> np.ndarray:
    """(N, 2) anchor centres in [0, 1] of a BlazeFace model with a ``size`` px input (all anchors are 1x1)."""
    centres = []
    for stride, per_cell in ANCHORS[size]:
        cells = size // stride
        ys, xs = np.mgrid[0:cells, 0:cells]
        c = np.stack([(xs + 0.5) / cells, (ys + 0.5) / cells], axis=-1).reshape(-1, 2)  # (cells*cells, 2)
        centres.append(np.repeat(c, per_cell, axis=0))
    return np.concatenate(centres).astype(np.float32)


def _nms(boxes: np.ndarray, scores: np.ndarray, iou: float) -> list[int]:
    """Indices of the boxes (N, 4) x0 y0 x1 y1 kept by greedy non-maximum suppression, best first."""
    order, keep = list(np.argsort(-scores)), []
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    while order:
        i = order.pop(0)
        keep.append(i)
        rest = np.array(order, int)
        if not len(rest):
            break
        x0 = np.maximum(boxes[i, 0], boxes[rest, 0])
        y0 = np.maximum(boxes[i, 1], boxes[rest, 1])
        x1 = np.minimum(boxes[i, 2], boxes[rest, 2])
        y1 = np.minimum(boxes[i, 3], boxes[rest, 3])
        inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
        overlap = inter / (area[i] + area[rest] - inter + 1e-9)
        order = [int(j) for j, o in zip(rest, overlap) if o <= iou]
    return keep


class FaceDetector:
    """Face boxes of a picture with BlazeFace (short or full range, told apart by the input size)."""

    def __init__(self, path: str | Path, threads: int = 2) -> None:
        self.model = TFLiteModel(path, threads)
        self.size = self.model.input_shape[1]
        if self.size not in ANCHORS:
            raise CheckpointError(f"{path} is not a BlazeFace model this code knows (input {self.model.input_shape}).", FETCH_HINT)

    def __call__(self, img: np.ndarray) -> list[tuple[tuple[int, int, int, int], float]]:
        """(H, W, 3) uint8 -> [((x0, y0, x1, y1), score)], best first, in picture pixels."""
        h, w = img.shape[:2]
        side = max(h, w)
        square = np.zeros((side, side, 3), np.uint8)  # letterbox: keep the aspect ratio, pad bottom/right
        square[:h, :w] = img
        x = cv2.resize(square, (self.size, self.size), interpolation=cv2.INTER_AREA)
        x = x.astype(np.float32)[None] / 127.5 - 1.0  # (1, S, S, 3) in [-1, 1]
        regressors, logits = sorted(self.model(x), key=lambda a: -a.shape[-1])  # (1, N, 16) boxes + keypoints, (1, N, 1)
        raw = np.clip(logits[0, :, 0].astype(np.float64), -FACE_SCORE_CLIP, FACE_SCORE_CLIP)
        scores = 1.0 / (1.0 + np.exp(-raw))  # (N,)
        hit = scores >= FACE_MIN_SCORE
        if not hit.any():
            return []
        reg = regressors[0, hit, :4] / self.size  # (n, 4) centre offset and size, fraction of the square
        centre = _face_anchors(self.size)[hit] + reg[:, :2]
        boxes = np.concatenate([centre - reg[:, 2:] / 2, centre + reg[:, 2:] / 2], axis=1) * side  # (N, 4) px
        out = []
        for i in _nms(boxes, scores[hit], FACE_NMS_IOU):
            x0, y0, x1, y1 = boxes[i]
            box = (int(max(0, x0)), int(max(0, y0)), int(min(w, x1)), int(min(h, y1)))
            if box[2] > box[0] and box[3] > box[1]:
                out.append((box, float(scores[hit][i])))
        return out
