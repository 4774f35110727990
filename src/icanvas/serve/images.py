"""Uploaded images: size limits, decoding with the right HTTP status, PNG encoding.

413 for too many bytes or pixels (checked from the header before decoding), 415 for files
that are not an accepted image, 422 for a drawing without lines. Decoding goes through
:func:`icanvas.data.images.read_image`, which also guards against decompression bombs.
"""

from __future__ import annotations

import io
import warnings
from typing import BinaryIO

import numpy as np
from PIL import Image

from icanvas.data.images import ACCEPTED_FORMATS, Drawing, normalize_drawing, read_image
from icanvas.errors import InputImageError
from icanvas.serve.problems import PayloadTooLarge, Unprocessable, UnsupportedImage

UPLOAD_FORMATS = ("PNG", "JPEG", "WEBP")  # what the studio accepts from a browser
PICTURE_MAX_SIDE = 512  # longest side of a picture the studio sends back, px
READ_CHUNK = 1 << 16  # bytes read at a time from an upload


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
    """Bytes from the browser -> loaded PIL image, raising 413 / 415 / 422 problems."""
    if len(data) > max_bytes:
        raise too_many_bytes(what, max_bytes)
    if not data:
        raise Unprocessable(f"{what} is empty.", "Draw something and try again.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS) as probe:  # header only
                fmt, (w, h) = probe.format, probe.size
    except Image.DecompressionBombError as e:
        raise PayloadTooLarge(f"{what} has far too many pixels.", "Send an image of at most a few megapixels.") from e
    except Exception as e:  # PIL raises several types on bytes it does not understand
        raise UnsupportedImage(f"{what} is not a PNG, JPEG or WebP image.", "Send the canvas as a PNG image.") from e
    if fmt not in UPLOAD_FORMATS:
        raise UnsupportedImage(f"{what} is a {fmt} image; the studio takes PNG, JPEG or WebP.", "Send the canvas as a PNG image.")
    if w * h > max_pixels:
        raise PayloadTooLarge(f"{what} is {w}x{h} pixels, more than {max_pixels / 1e6:.1f} megapixels.",
                              "Send a smaller image.")
    try:
        return read_image(data, max_bytes=max_bytes, max_pixels=max_pixels)
    except InputImageError as e:
        raise Unprocessable(e.problem.replace("The image data", what), e.hint) from e


def to_drawing(img: Image.Image) -> Drawing:
    """Normalised drawing, or 422 when no lines are found."""
    try:
        return normalize_drawing(img)
    except InputImageError as e:
        raise Unprocessable(e.problem, e.hint) from e


def png_bytes(image: np.ndarray | Image.Image, max_side: int | None = None) -> bytes:
    """(H, W[, 3]) uint8 array or PIL image -> PNG bytes, shrunk to ``max_side`` if given."""
    pil = image if isinstance(image, Image.Image) else Image.fromarray(np.ascontiguousarray(image))
    if pil.mode not in ("RGB", "RGBA", "L", "LA"):
        pil = pil.convert("RGBA" if "A" in pil.getbands() else "RGB")
    if max_side and max(pil.size) > max_side:
        pil = pil.copy()
        pil.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    pil.save(buf, format="PNG", compress_level=1)  # fast: 3-4x quicker than 6 for photos, ~10% larger
    return buf.getvalue()
