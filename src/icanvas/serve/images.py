"""Uploaded images: size limits, decoding with the right HTTP status, PNG encoding.

413 for too many bytes or pixels (checked from the header before decoding), 415 for files
that are not an accepted image, 422 for a drawing without lines or with a strip's shape.
Decoding goes through :func:`icanvas.data.images.read_image`, which also guards against
decompression bombs.

The work one upload may cost is bounded by what the studio needs: the canvas is 512 px and
the models 256 px, so uploads are decoded straight to at most :data:`UPLOAD_WORK_SIDE`
(JPEGs at a reduced scale, others shrunk right after decoding), and all decodes and
normalisations running at once share a memory budget (:data:`DECODE_BUDGET_BYTES`): a request
whose work would not fit waits for the others to finish instead of adding to the peak.
"""

from __future__ import annotations

import io
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

import cv2
import numpy as np
from PIL import Image

from icanvas.data.images import Drawing, drawing_rgb, normalize_drawing
from icanvas.data.reading import ACCEPTED_FORMATS, decoded_bytes, read_image
from icanvas.errors import InputImageError
from icanvas.serve.problems import PayloadTooLarge, Saturated, Unprocessable, UnsupportedImage

UPLOAD_FORMATS = ("PNG", "JPEG", "WEBP")  # what the studio accepts from a browser
PICTURE_MAX_SIDE = 512  # longest side of a picture the studio sends back, px
READ_CHUNK = 1 << 16  # bytes read at a time from an upload
UPLOAD_WORK_SIDE = 1024  # uploads are decoded to at most this long side, px (2x the canvas; canvases pass unchanged)
UPLOAD_MAX_ASPECT = 8.0  # long side / short side above which an upload is refused from its header
DECODE_BUDGET_BYTES = 96 * 2**20  # peak decoding memory of all uploads being decoded at once, bytes
DECODE_MAX_BYTES = 90 * 2**20  # peak decoding memory one upload may need, bytes (a bigger one answers 413)
WEBP_BYTES_PER_PIXEL = 16  # PIL's WebP decoder holds about four RGBA copies of the picture (measured), bytes
NORMALIZE_BYTES_PER_PIXEL = 40  # peak memory of normalising a decoded drawing (measured: 33-38 at 1024 px), bytes
PNG_SETTINGS = [cv2.IMWRITE_PNG_COMPRESSION, 1, cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_UP,
                cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_STRATEGY_RLE]  # see png_bytes
DECODE_WAIT_S = 60.0  # longest a decode waits for room in the budget before the server answers 503, s


class DecodeBudget:
    """A counting semaphore over bytes: ``with budget.room(n):`` waits until ``n`` bytes fit.

    A request larger than the whole budget runs alone (it waits until nothing else runs).
    """

    def __init__(self, capacity: int) -> None:
        self.capacity, self.used = capacity, 0
        self._cond = threading.Condition()

    @contextmanager
    def room(self, nbytes: int, timeout: float = DECODE_WAIT_S) -> Iterator[None]:
        need = min(max(0, nbytes), self.capacity)
        with self._cond:
            if not self._cond.wait_for(lambda: self.used + need <= self.capacity, timeout):
                raise Saturated(retry_after=2)
            self.used += need
        try:
            yield
        finally:
            with self._cond:
                self.used -= need
                self._cond.notify_all()


DECODE_BUDGET = DecodeBudget(DECODE_BUDGET_BYTES)  # shared by every upload route and the generation workers


def read_limited(stream: BinaryIO, max_bytes: int, what: str = "The drawing") -> bytes:
    """All bytes of an upload, or 413 as soon as more than ``max_bytes`` arrive."""
    chunks, total = [], 0
    while True:
        chunk = stream.read(READ_CHUNK)
        if not chunk:
            break
        total += len(chunk)
        if total > max_bytes:
            raise too_many_bytes(what, max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


def too_many_bytes(what: str, max_bytes: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"{what} is larger than {max_bytes / 2**20:.1f} MB.", "Send a smaller image (a PNG of the canvas is plenty).")


def decode_upload(data: bytes, max_bytes: int, max_pixels: int, what: str = "The drawing") -> Image.Image:
    """Bytes from the browser -> loaded PIL image of at most UPLOAD_WORK_SIDE, raising 413 / 415 / 422 problems."""
    cost, _ = _checked_cost(data, max_bytes, max_pixels, what)
    with DECODE_BUDGET.room(cost):
        return _decode(data, max_bytes, max_pixels, what)


def decode_drawing(data: bytes, max_bytes: int, max_pixels: int, what: str = "The drawing",
                   allow_empty: bool = False, corners: list | None = None, canvas: bool = False) -> tuple[Image.Image, Drawing | None]:
    """:func:`decode_upload` and :func:`to_drawing` in one slot of the budget (normalising takes
    about as much memory again as decoding); the drawing is None for an empty one when
    ``allow_empty``, else an empty drawing is a 422 problem. ``corners`` outline a photographed
    page by hand, in px of the decoded image; a ``canvas`` (the studio's own export) is never
    searched for a page."""
    cost, pixels = _checked_cost(data, max_bytes, max_pixels, what)
    with DECODE_BUDGET.room(cost + NORMALIZE_BYTES_PER_PIXEL * pixels):
        image = _decode(data, max_bytes, max_pixels, what)
        try:
            return image, to_drawing(image, corners, canvas)
        except Unprocessable:
            if allow_empty:
                return image, None
            raise


def _checked_cost(data: bytes, max_bytes: int, max_pixels: int, what: str) -> tuple[int, int]:
    """(peak bytes decoding takes, pixels of the decoded image) from the header, raising the problems
    that need no decoding: too many bytes or pixels, not an accepted format, too costly to decode."""
    if len(data) > max_bytes:
        raise too_many_bytes(what, max_bytes)
    if not data:
        raise Unprocessable(f"{what} is empty.", "Draw something and try again.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS) as probe:  # header only
                fmt, (w, h), cost = probe.format, probe.size, decoded_bytes(probe)
    except Image.DecompressionBombError as e:
        raise PayloadTooLarge(f"{what} has far too many pixels.", "Send an image of at most a few megapixels.") from e
    except Exception as e:  # PIL raises several types on bytes it does not understand
        raise UnsupportedImage(f"{what} is not a PNG, JPEG or WebP image.", "Send the canvas as a PNG image.") from e
    if fmt not in UPLOAD_FORMATS:
        raise UnsupportedImage(f"{what} is a {fmt} image; the studio takes PNG, JPEG or WebP.", "Send the canvas as a PNG image.")
    if w * h > max_pixels:
        raise PayloadTooLarge(f"{what} is {w}x{h} pixels, more than {max_pixels / 1e6:.1f} megapixels.",
                              "Send a smaller image.")
    cost = _decode_cost(fmt, w, h, cost)
    if cost > DECODE_MAX_BYTES:
        most = int(w * h * DECODE_MAX_BYTES / cost / 1e5) / 10
        raise PayloadTooLarge(f"{what} is a {w}x{h} {fmt} image; the studio decodes {fmt} images of at most {most:g} megapixels.",
                              "Send it as PNG or JPEG, or smaller.")
    shrink = min(1.0, UPLOAD_WORK_SIDE / max(w, h, 1))
    return cost, round(w * shrink) * round(h * shrink)


def _decode(data: bytes, max_bytes: int, max_pixels: int, what: str) -> Image.Image:
    try:
        return read_image(data, max_bytes=max_bytes, max_pixels=max_pixels, max_aspect=UPLOAD_MAX_ASPECT,
                          work_side=UPLOAD_WORK_SIDE)
    except InputImageError as e:
        raise Unprocessable(e.problem.replace("The image data", what), e.hint) from e


def _decode_cost(fmt: str, w: int, h: int, full: int) -> int:
    """Peak bytes decoding takes: the decoded pixels (a large JPEG decodes at 1/2, 1/4 or 1/8
    scale, as read_image asks; WebP needs several copies) and a quarter more for the shrinking."""
    if fmt == "WEBP":
        full = w * h * WEBP_BYTES_PER_PIXEL
    k = 1
    while fmt == "JPEG" and k < 8 and max(w, h) >= 2 * k * UPLOAD_WORK_SIDE:
        k *= 2
    return full // (k * k) * 5 // 4


def to_drawing(img: Image.Image, corners: list | None = None, canvas: bool = False) -> Drawing:
    """Normalised drawing, or 422 when no lines are found (or the page's ``corners`` are unusable)."""
    try:
        return normalize_drawing(img, corners=corners, canvas=canvas)
    except InputImageError as e:
        raise Unprocessable(e.problem, e.hint) from e


def overlay_png(drawing: Drawing) -> bytes:
    """The drawing as the models see it, on transparent paper: black lines and the coloured
    strokes in their colours (PNG bytes, the drawing's size), for showing over a photo."""
    seen = (drawing.lines < 128) | drawing.color_mask
    return png_bytes(np.dstack([drawing_rgb(drawing), np.where(seen, 255, 0).astype(np.uint8)]))


def png_bytes(image: np.ndarray | Image.Image, max_side: int | None = None) -> bytes:
    """(H, W[, 3 or 4]) uint8 array or PIL image -> PNG bytes, shrunk to ``max_side`` if given.

    Encoded with one row filter ("up") and run-length zlib at level 1: lossless like any PNG,
    about 2.5x quicker than trying every filter per row, and no larger for the studio's pictures
    (``benchmarks/serve_stages.py``).
    """
    if isinstance(image, Image.Image):
        if image.mode not in ("RGB", "RGBA", "L"):
            image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
        image = np.asarray(image)
    arr = np.ascontiguousarray(image)
    if max_side and max(arr.shape[:2]) > max_side:
        small = Image.fromarray(arr)
        small.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        arr = np.asarray(small)
    if arr.ndim == 3:  # OpenCV writes BGR(A)
        arr = cv2.cvtColor(arr, cv2.COLOR_RGB2BGR if arr.shape[2] == 3 else cv2.COLOR_RGBA2BGRA)
    ok, buf = cv2.imencode(".png", arr, PNG_SETTINGS)
    if not ok:
        raise ValueError(f"An image of shape {arr.shape} cannot be written as PNG.")
    return buf.tobytes()
