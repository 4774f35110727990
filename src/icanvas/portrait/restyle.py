"""Stage 3 with a learned model: a character style, found by name, redraws the person's head.

A style is a ``translation`` model folder (``icanvas train --config anime``, or one learned with
``icanvas characters learn``): bundled ones, folders on ``ICANVAS_MODEL_PATH`` and learned
characters (:func:`icanvas.catalog.characters_dir`). The model was trained on face crops, so it
gets the square around the face (``scope = "face"``) and the pipeline hands the rest of the
person to the cartoon treatment. ``cartoon`` names the classical treatment alone (no model).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from icanvas.catalog import find_model, list_models
from icanvas.checkpoint import from_pretrained
from icanvas.data.images import resize
from icanvas.errors import ModelNotFoundError
from icanvas.portrait.cartoon import CartoonRestyler
from icanvas.portrait.stages import Restyler
from icanvas.runtime.onnx import Backend, OnnxBackend, TorchBackend, cached_onnx, onnxruntime_available
from icanvas.sheets import tensor_to_uint8, to_tensor

DEFAULT_STYLE = "anime"  # the bundled style --style falls back to
CLASSICAL_STYLE = "cartoon"  # the style name of the classical treatment (no model)
METHOD = "translation"  # the training method of style models
SMOOTH = (5, 20, 5)  # bilateral filter on the model's output (diameter px, colour sigma, space sigma): removes the
# generator's pixel-level grain and keeps its edges (patch SWD to held-out anime faces 57.7 -> 53.2); None = off


class TranslatorRestyler:
    """A translation model on the head square: (h, w, 3) uint8 -> (h, w, 3) uint8.

    The crop is resized so its longer side is the model's training size (the rounding keeps
    both sides multiples of the model's stride; the model is fully convolutional), translated
    and resized back.
    """

    scope = "face"  # trained on face crops: the pipeline gives it the head and cartoons the rest

    def __init__(self, backend: Backend, size: int, stride: int, name: str = DEFAULT_STYLE,
                 smooth: tuple[int, float, float] | None = SMOOTH) -> None:
        self.backend, self.size, self.stride, self.name, self.smooth = backend, size, stride, name, smooth

    def restyle(self, crop: np.ndarray, mask: np.ndarray, face: tuple[int, int, int, int] | None) -> np.ndarray:
        h, w = crop.shape[:2]
        k = self.size / max(h, w)
        ww = max(self.stride, round(w * k / self.stride) * self.stride)
        hh = max(self.stride, round(h * k / self.stride) * self.stride)
        x = to_tensor([resize(crop, ww, hh)])  # (1, 3, hh, ww)
        out = tensor_to_uint8(self.backend(x)[0])  # (hh, ww, 3)
        if self.smooth:
            out = cv2.bilateralFilter(out, *self.smooth)
        return resize(out, w, h)


def load_style_model(name_or_path: str | Path = DEFAULT_STYLE, *, prefer_onnx: bool = True) -> TranslatorRestyler:
    """A style by name (see :func:`list_styles`) or model folder path, on onnxruntime when installed."""
    try:
        folder = find_model(name_or_path)
    except ModelNotFoundError:
        raise ModelNotFoundError(f"No style named {str(name_or_path)!r}.",
                                 f"Styles: {', '.join(list_styles())}; or pass a style model folder. "
                                 "Learn a new one with 'icanvas characters learn'.") from None
    generator, info = from_pretrained(folder)
    if info.method != METHOD:
        raise ModelNotFoundError(f"{folder.name} is a {info.method} model, not a character style.",
                                 f"Styles: {', '.join(list_styles())}.")
    backend: Backend = OnnxBackend(cached_onnx(generator, info)) if prefer_onnx and onnxruntime_available() else TorchBackend(generator)
    return TranslatorRestyler(backend, info.config.image_size, 2 ** info.config.n_down, name=folder.name)


def load_restyler(style: str | Path | None = None) -> Restyler:
    """``--style``: None = the bundled style, ``cartoon`` = the classical treatment, else a style model."""
    if str(style) == CLASSICAL_STYLE:
        return CartoonRestyler()
    return load_style_model(style or DEFAULT_STYLE)


def list_styles() -> list[str]:
    """Names ``--style`` accepts: every installed translation model, then ``cartoon``."""
    return [e.name for e in list_models() if e.method == METHOD] + [CLASSICAL_STYLE]
