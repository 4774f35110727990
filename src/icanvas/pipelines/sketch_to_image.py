"""SketchToImage: any drawing a person hands in -> a picture with the drawing's aspect ratio.

Steps: normalise the drawing (transparent, inverted or photographed paper -> black lines on
white, crayon colours -> hints), crop to the drawn region with a margin (models are trained
on objects that fill the frame), letterbox to the model's square size, run the generator,
and paste the picture back where the child drew it on a white page of the input's aspect.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from icanvas.catalog import require_method
from icanvas.checkpoint import ModelInfo, from_pretrained
from icanvas.data.edges import ink_extent, ink_span, letterbox_sketch, normalize_edge_map
from icanvas.data.hints import encode_hints
from icanvas.data.regions import paint_region
from icanvas.data.images import Drawing, letterbox, normalize_drawing, read_image, unletterbox
from icanvas.errors import ICanvasError
from icanvas.pipelines.calibration import calibration_drawings
from icanvas.runtime.onnx import Backend, OnnxBackend, TorchBackend, cached_onnx, onnxruntime_available
from icanvas.runtime.quantize import cached_int8
from icanvas.sheets import tensor_to_uint8

BACKENDS = ("auto", "int8", "onnx", "torch")  # generator runtimes (see SketchToImage.from_pretrained)
MAX_OUTPUT_SIDE = 1024  # longest side of a returned picture, px
CROP_MARGIN = 0.08  # margin around the drawn region, as a fraction of its longer side
MIN_STROKE = 2  # px of 1-px skeleton: shorter marks are dropped when lines are redrawn (keeps dots)


@dataclass(frozen=True)
class Generated:
    image: np.ndarray  # (H, W, 3) uint8 picture, the input's aspect ratio
    lines: np.ndarray  # (S, S) uint8 the sketch the model saw
    drawing: Drawing  # the normalised input
    kind: str | None  # kind used for class-conditional models
    square: np.ndarray | None = None  # (S, S, 3) uint8 the model's own output, before pasting back


def ink_box(lines: np.ndarray, margin: float = CROP_MARGIN) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) around the ink, grown by ``margin`` and clipped to the image."""
    h, w = lines.shape
    ink = ink_extent(lines)
    if ink is None:
        return 0, 0, w, h
    x0, y0, x1, y1 = ink
    pad = int(round(margin * max(x1 - x0, y1 - y0))) + 2
    return max(0, x0 - pad), max(0, y0 - pad), min(w, x1 + pad), min(h, y1 + pad)


def keep_inside(picture: np.ndarray, lines: np.ndarray) -> np.ndarray:
    """(S, S, 3) uint8 picture faded to white outside :func:`paint_region` of its (S, S) lines."""
    weight = paint_region(lines)[..., None]  # (S, S, 1)
    return (picture.astype(np.float32) * weight + 255.0 * (1.0 - weight)).round().astype(np.uint8)


class SketchToImage:
    """Inference only: receives its generator backend and model description."""

    def __init__(self, backend: Backend, info: ModelInfo, keep_inside: bool = True) -> None:
        self.backend, self.info = backend, info
        self.keep_inside = keep_inside  # fade paint outside the drawn outlines to white (see paint_region)
        self.size = info.config.image_size
        self.hints = info.config.hint_channels > 0
        self.kinds = info.kinds if info.config.num_classes > 0 else []
        # pen width of the training sketches, px at the model's size; drawings are redrawn with
        # it so a thick marker and a thin pencil look alike to the model (None = keep as drawn)
        self.line_width: int | None = info.meta.get("line_width")
        # median share of the square the training drawings spanned; drawings are framed with
        # paper around them to match (never tighter than CROP_MARGIN)
        self.subject_fill: float = float(info.meta.get("subject_fill") or 0.0)

    @classmethod
    def from_pretrained(cls, folder: str | Path, backend: str = "auto", keep_inside: bool = True) -> "SketchToImage":
        """``backend``: 'onnx' (onnxruntime), 'int8' (onnxruntime, 8-bit weights and activations: faster,
        pictures close to but not the same as the float ones, see ``benchmarks/int8.py``), 'torch', or
        'auto': onnx when onnxruntime is installed, else torch."""
        if backend not in BACKENDS:
            raise ICanvasError(f"Unknown backend {backend!r}.", f"Use one of: {', '.join(BACKENDS)}.")
        require_method(folder, "pix2pix")
        generator, info = from_pretrained(folder)
        pipe = cls(TorchBackend(generator), info, keep_inside)
        if backend == "int8":
            pipe.backend = OnnxBackend(cached_int8(generator, info, pipe.calibration_feeds), name="onnxruntime int8")
        elif backend == "onnx" or (backend == "auto" and onnxruntime_available()):
            pipe.backend = OnnxBackend(cached_onnx(generator, info))
        return pipe

    def calibration_feeds(self) -> list[dict[str, np.ndarray]]:
        """Model inputs of made-up studio drawings (:mod:`~icanvas.pipelines.calibration`), one kind after another."""
        feeds, classes = [], self.info.config.num_classes
        for i, drawing in enumerate(calibration_drawings()):
            feed = {"sketch": self.prepare(drawing)[0][None]}
            if classes:
                feed["label"] = np.array([i % classes], np.int64)
            feeds.append(feed)
        return feeds

    # ------------------------------------------------------------------ steps

    def prepare(self, drawing: Drawing) -> tuple[np.ndarray, tuple, object]:
        """Drawing -> model input (C, S, S) float32, crop box, letterbox placement."""
        box = ink_box(drawing.lines)
        x0, y0, x1, y1 = box
        pad = self.framing_pad(drawing.lines, box)
        page = self.pencil(drawing)
        lines, placement = letterbox_sketch(np.pad(page[y0:y1, x0:x1], pad, constant_values=255), self.size)
        if self.line_width:
            redrawn = normalize_edge_map(lines, line_width=int(self.line_width), min_component=MIN_STROKE)
            lines = redrawn if (redrawn < 128).any() else lines
        x = (lines.astype(np.float32) / 127.5 - 1.0)[None]  # (1, S, S)
        if self.hints:
            colors, _ = letterbox(np.pad(drawing.colors[y0:y1, x0:x1], ((pad, pad), (pad, pad), (0, 0))), self.size, fill=0)
            mask, _ = letterbox(np.pad(drawing.color_mask[y0:y1, x0:x1].astype(np.uint8) * 255, pad), self.size, fill=0)
            x = np.concatenate([x, encode_hints(colors, mask > 127)], axis=0)  # (5, S, S)
        return x, box, (placement, pad)

    def pencil(self, drawing: Drawing) -> np.ndarray:
        """The lines the model sees: a model that takes crayons as hints does not see them as ink too
        (unless the drawing is all crayon)."""
        if not self.hints or not drawing.color_mask.any():
            return drawing.lines
        lines = np.where(drawing.color_mask, 255, drawing.lines).astype(np.uint8)
        return lines if (lines < 128).any() else drawing.lines

    def framing_pad(self, lines: np.ndarray, box: tuple) -> int:
        """Paper (px) to add on every side of the ``box`` crop so the ink spans ``subject_fill`` of the square."""
        if not self.subject_fill:
            return 0
        x0, y0, x1, y1 = box
        ink = ink_span(lines[y0:y1, x0:x1])
        return max(0, int(round((ink / self.subject_fill - max(x1 - x0, y1 - y0)) / 2))) if ink else 0

    def finish(self, square: np.ndarray, drawing: Drawing, box: tuple, placement: object) -> np.ndarray:
        """Model output (S, S, 3) -> picture of the input's aspect, drawn region pasted in place."""
        h, w = drawing.lines.shape
        scale = min(1.0, MAX_OUTPUT_SIDE / max(h, w))
        oh, ow = max(1, round(h * scale)), max(1, round(w * scale))
        page = np.full((oh, ow, 3), 255, np.uint8)
        x0, y0, x1, y1 = (int(round(v * scale)) for v in box)
        x1, y1 = max(x1, x0 + 1), max(y1, y0 + 1)
        placement, pad = placement
        region = unletterbox(square, placement)
        if pad:  # drop the paper added around the crop
            k = region.shape[0] / (box[3] - box[1] + 2 * pad)  # region px per drawing px
            p = int(round(pad * k))
            region = region[p : max(p + 1, region.shape[0] - p), p : max(p + 1, region.shape[1] - p)]
        page[y0:y1, x0:x1] = cv2.resize(region, (x1 - x0, y1 - y0), interpolation=cv2.INTER_CUBIC if region.shape[0] < y1 - y0 else cv2.INTER_AREA)
        return page

    def label_for(self, kind: str | None) -> int:
        if not self.kinds:
            return 0
        if kind is None:
            return 0
        if kind not in self.kinds:
            raise ICanvasError(f"This model draws {', '.join(self.kinds)}, not {kind!r}.", "Pick one of those kinds.")
        return self.kinds.index(kind)

    # ------------------------------------------------------------------ public

    def run(self, drawings: list[Drawing], kinds: list[str | None] | None = None,
            each: Callable[[Callable, list], list] | None = None) -> list[Generated]:
        """Generate for several normalised drawings in one batch. ``each(fn, items)`` -> ``[fn(item) ...]``
        runs the per-drawing steps around the model call (a server passes one that uses several threads)."""
        each = each or (lambda fn, items: [fn(item) for item in items])
        kinds = kinds or [None] * len(drawings)
        prepared = each(self.prepare, drawings)
        x = np.stack([p[0] for p in prepared])  # (B, C, S, S)
        label = np.array([self.label_for(k) for k in kinds], np.int64) if self.kinds else None
        out = self.backend(x, label)  # (B, 3, S, S)

        def complete(i: int) -> Generated:
            xi, box, placement = prepared[i]
            square = tensor_to_uint8(out[i])
            lines = tensor_to_uint8(xi[:1])[..., 0]
            if self.keep_inside:
                square = keep_inside(square, lines)
            kind = kinds[i] or (self.kinds[0] if self.kinds else None)
            return Generated(self.finish(square, drawings[i], box, placement), lines, drawings[i], kind, square)

        return each(complete, list(range(len(drawings))))

    def __call__(self, image: str | Path | bytes | Image.Image, kind: str | None = None) -> Generated:
        """Generate from a file path, encoded bytes or a PIL image."""
        pil = image if isinstance(image, Image.Image) else read_image(image)
        return self.run([normalize_drawing(pil)], [kind])[0]
