"""Optional big-model person selector: Segment Anything (SAM or MobileSAM) from local ONNX files.

The user exports the two halves the usual way and passes both paths (``--sam-encoder``,
``--sam-decoder``); nothing is downloaded and no ``segment-anything``/torchvision is needed:

- encoder: one input, the photo resized so its longer side is 1024, normalised with SAM's
  pixel mean/std, zero-padded to (1, 3, 1024, 1024); first output the image embeddings
  (1, 256, 64, 64);
- decoder (``scripts/export_onnx_model.py`` of segment-anything / MobileSAM): inputs
  ``image_embeddings, point_coords, point_labels, mask_input, has_mask_input, orig_im_size``,
  outputs ``masks`` (1, K, H, W) logits at the photo's size, ``iou_predictions`` (1, K),
  ``low_res_masks``. K = 1 (``--return-single-mask``) or 4 (best one picked here as SAM does).

The embedding of the last photo is kept, so more clicks on the same photo only run the decoder.
"""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

import cv2
import numpy as np

from icanvas.data.edges import as_photo
from icanvas.errors import CheckpointError, MissingResourceError, PromptError
from icanvas.portrait.faces import FaceFinder, default_face_finder
from icanvas.portrait.masks import fill_holes, finish
from icanvas.portrait.prompts import check_prompt
from icanvas.portrait.stages import Prompt, Selection

SIZE = 1024  # px, the encoder's square input; the photo's longer side is resized to this
PIXEL_MEAN = np.array([123.675, 116.28, 103.53], np.float32)  # SAM's per-channel RGB mean, 0-255 scale
PIXEL_STD = np.array([58.395, 57.12, 57.375], np.float32)  # SAM's per-channel RGB standard deviation, 0-255 scale
LOW_RES = 256  # px, side of the decoder's mask_input (zeros: no previous mask)
DECODER_INPUTS = ("image_embeddings", "point_coords", "point_labels", "mask_input", "has_mask_input", "orig_im_size")
LABEL_BG, LABEL_FG, LABEL_BOX_TL, LABEL_BOX_BR, LABEL_PAD = 0, 1, 2, 3, -1  # SAM's point label codes
MULTI_POINTS = 2.5  # SAM's rule: with more prompt points than this (padding included) trust the single-mask output
EXPORT_HINT = ("Export SAM/MobileSAM to ONNX: the decoder with segment-anything's scripts/export_onnx_model.py, "
               "the encoder taking a (1, 3, 1024, 1024) normalised image; pass them as --sam-encoder and --sam-decoder.")


def resize_longest(shape: tuple[int, ...], size: int = SIZE) -> tuple[int, int]:
    """(new_h, new_w) of a photo whose longer side becomes ``size`` (SAM's ResizeLongestSide)."""
    h, w = shape[:2]
    scale = size / max(h, w)
    return int(h * scale + 0.5), int(w * scale + 0.5)


def preprocess(img: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 -> (1, 3, 1024, 1024) float32: resized, normalised, zero-padded bottom/right."""
    nh, nw = resize_longest(img.shape)
    x = (cv2.resize(img, (nw, nh), interpolation=cv2.INTER_LINEAR).astype(np.float32) - PIXEL_MEAN) / PIXEL_STD
    out = np.zeros((SIZE, SIZE, 3), np.float32)
    out[:nh, :nw] = x
    return out.transpose(2, 0, 1)[None]


def prompt_arrays(prompt: Prompt, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(1, N, 2) float32 coordinates in the 1024 frame and (1, N) float32 labels: clicks, then the
    box as two corners (labels 2, 3), or a padding point (label -1) when there is no box."""
    h, w = shape[:2]
    nh, nw = resize_longest(shape)
    coords = [(p.x, p.y) for p in prompt.points]
    labels = [LABEL_FG if p.foreground else LABEL_BG for p in prompt.points]
    if prompt.box is not None:
        x0, y0, x1, y1 = prompt.box
        coords += [(x0, y0), (x1, y1)]
        labels += [LABEL_BOX_TL, LABEL_BOX_BR]
    xy = np.array(coords, np.float32).reshape(-1, 2) * np.array([nw / w, nh / h], np.float32)
    lab = np.array(labels, np.float32)
    if prompt.box is None:
        xy = np.concatenate([xy, np.zeros((1, 2), np.float32)])
        lab = np.concatenate([lab, np.array([LABEL_PAD], np.float32)])
    return xy[None], lab[None]


def best_mask(masks: np.ndarray, scores: np.ndarray, points: int) -> np.ndarray:
    """(H, W) logits of the mask SAM would return: the only one, the single-mask output with many
    points, else the best-scored of the multi-mask outputs."""
    if masks.shape[1] == 1:
        return masks[0, 0]
    if points > MULTI_POINTS:
        return masks[0, 0]
    return masks[0, 1 + int(np.argmax(scores[0, 1:]))]


def _need(path: Path | None, flag: str) -> Path:
    if path is None or not Path(path).is_file():
        what = f"{path} does not exist" if path is not None else "no file was given"
        raise MissingResourceError(f"The SAM backend needs both ONNX files: {flag} ({what}).",
                                   f"Pass --sam-encoder ENCODER.onnx --sam-decoder DECODER.onnx. {EXPORT_HINT}")
    return Path(path)


class SamSelector:
    """PersonSelector on SAM / MobileSAM ONNX files, run with onnxruntime on the CPU."""

    name = "sam"

    def __init__(self, encoder: str | Path | None, decoder: str | Path | None, *, threads: int = 0,
                 face_finder: FaceFinder | None = None) -> None:
        from icanvas.runtime.onnx import open_session

        enc_path, dec_path = _need(encoder, "--sam-encoder"), _need(decoder, "--sam-decoder")
        self.encoder = open_session(enc_path, threads, EXPORT_HINT)
        self.decoder = open_session(dec_path, threads, EXPORT_HINT)
        enc_in = self.encoder.get_inputs()
        shape = enc_in[0].shape if len(enc_in) == 1 else None
        if shape is None or len(shape) != 4 or shape[1] not in (3, "3"):
            got = [(i.name, i.shape) for i in enc_in]
            raise CheckpointError(f"{enc_path} is not a SAM image encoder: inputs {got}.",
                                  f"It needs one (1, 3, {SIZE}, {SIZE}) image input. {EXPORT_HINT}")
        self.encoder_input = enc_in[0].name
        names = {i.name for i in self.decoder.get_inputs()}
        missing = [n for n in DECODER_INPUTS if n not in names]
        if missing:
            raise CheckpointError(f"{dec_path} is not a SAM mask decoder: it lacks the inputs {', '.join(missing)}.",
                                  EXPORT_HINT)
        self.faces = face_finder if face_finder is not None else default_face_finder()
        self._cache: tuple[str, np.ndarray] | None = None  # (photo digest, (1, 256, 64, 64) embedding)
        self._lock = threading.Lock()

    def embed(self, img: np.ndarray) -> np.ndarray:
        """The encoder's image embedding of (H, W, 3) uint8 ``img``, reused for the same photo."""
        key = hashlib.blake2b(img.tobytes(), digest_size=16, key=repr(img.shape).encode()).hexdigest()
        with self._lock:
            if self._cache is not None and self._cache[0] == key:
                return self._cache[1]
        emb = self.encoder.run(None, {self.encoder_input: preprocess(img)})[0]
        with self._lock:
            self._cache = (key, emb)
        return emb

    def logits(self, img: np.ndarray, prompt: Prompt) -> np.ndarray:
        """(H, W) float32 mask logits for the prompt (> 0 = selected)."""
        coords, labels = prompt_arrays(prompt, img.shape)
        feed = {
            "image_embeddings": self.embed(img).astype(np.float32),
            "point_coords": coords,  # (1, N, 2)
            "point_labels": labels,  # (1, N)
            "mask_input": np.zeros((1, 1, LOW_RES, LOW_RES), np.float32),
            "has_mask_input": np.zeros(1, np.float32),
            "orig_im_size": np.array(img.shape[:2], np.float32),
        }
        masks, scores = self.decoder.run(None, feed)[:2]  # (1, K, H, W), (1, K)
        if masks.ndim != 4 or masks.shape[2:] != img.shape[:2]:
            raise CheckpointError(f"The SAM decoder returned masks of shape {masks.shape} for a {img.shape[:2]} photo.",
                                  f"Export it with its upscaling to orig_im_size (the usual export). {EXPORT_HINT}")
        return best_mask(masks, scores, coords.shape[1])

    def select(self, photo: np.ndarray, prompt: Prompt) -> Selection:
        img = as_photo(photo)
        check_prompt(prompt, img.shape)
        t0 = time.perf_counter()
        region = self.logits(img, prompt) > 0.0
        if not region.any():
            raise PromptError("The prompt selects nothing in this photo.",
                              "Click on the person (--point X,Y) or draw a box around them (--box X0,Y0,X1,Y1).")
        info = {"backend": self.name, "ms_sam": round(1000 * (time.perf_counter() - t0), 1)}
        return finish(img, fill_holes(region), self.faces, info)
