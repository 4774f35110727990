"""Safe reading of images people hand in.

Every user image (a CLI file, a photo folder, a web upload) passes through :func:`read_image`,
which either returns a loaded PIL image or raises :class:`~icanvas.errors.InputImageError`
saying what was wrong and what to do: too many bytes, pixels or a strip's shape (checked from
the header, before decoding), a foreign or damaged file. Callers that never need full size
(the studio) have it decoded straight to a working size.
"""

from __future__ import annotations

import io
import os
import stat
import warnings
from pathlib import Path

from PIL import Image, ImageOps

from icanvas.errors import InputImageError

ACCEPTED_FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "GIF")  # the only decoders PIL may try on user bytes
_ACCEPTED_TEXT = "PNG, JPEG, WebP, BMP or GIF"
_RESAVE_HINT = "Open it in an image viewer and save it again as PNG or JPEG, or use another file."
MAX_ASPECT = 20.0  # long side / short side above which an image is refused before decoding (no drawing or photo is a strip)


def _too_big(name: str, size: int, max_bytes: int) -> InputImageError:
    return InputImageError(
        f"{name} is {size / 2**20:.1f} MB, more than the limit of {max_bytes / 2**20:.1f} MB.",
        hint="Use a smaller file: export the image at a lower resolution or as JPEG.",
    )


def _read_bytes(source: str | os.PathLike | bytes, max_bytes: int) -> tuple[str, bytes]:
    """(name for messages, file content), enforcing the byte limit before reading a file."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        if len(data) > max_bytes:
            raise _too_big("The image data", len(data), max_bytes)
        return "The image data", data
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(f"read_image takes a path or bytes, not {type(source).__name__}")
    path = Path(source)
    name = f"'{path}'"
    hint = "Check the path and that you may read the file."
    try:
        info = path.stat()
    except FileNotFoundError:
        raise InputImageError(f"Image file {name} not found.", hint="Check the path and the file name.") from None
    except OSError as err:
        raise InputImageError(f"Image file {name} cannot be opened ({err.strerror or err}).", hint) from err
    if not stat.S_ISREG(info.st_mode):
        raise InputImageError(f"{name} is not a file (a folder?).", hint="Give the path of one image file.")
    if info.st_size > max_bytes:
        raise _too_big(name, info.st_size, max_bytes)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise InputImageError(f"Image file {name} cannot be read ({err.strerror or err}).", hint) from err
    if len(data) > max_bytes:  # the file grew while we looked
        raise _too_big(name, len(data), max_bytes)
    return name, data


_KNOWN_OTHERS = ((b"%PDF", "a PDF document"), (b"II*\x00", "a TIFF image"), (b"MM\x00*", "a TIFF image"),
                 (b"8BPS", "a Photoshop file"), (b"<svg", "an SVG file"), (b"<?xml", "an XML / SVG file"))


def _sniff(data: bytes) -> str:
    """What a rejected file probably is, from its first bytes ('' when unknown)."""
    if data[4:8] == b"ftyp":  # ISO media: phones save HEIC photos this way
        return "a HEIC photo" if data[8:12] in (b"heic", b"heix", b"mif1", b"msf1") else "an AVIF or video file"
    head = data[:64].lstrip().lower()
    return next((what for magic, what in _KNOWN_OTHERS if head.startswith(magic.lower())), "")


def _check_shape(name: str, size: tuple[int, int], max_pixels: int, max_aspect: float) -> None:
    """Refuse, from the header alone, images with no pixels, too many pixels or a strip's shape."""
    w, h = size
    if w <= 0 or h <= 0:
        raise InputImageError(f"{name} has no pixels ({w}x{h}).", _RESAVE_HINT)
    if w * h > max_pixels:
        shrink = (max_pixels / (w * h)) ** 0.5
        raise InputImageError(
            f"{name} is {w}x{h} pixels ({w * h / 1e6:.1f} megapixels), more than the limit of "
            f"{max_pixels / 1e6:.1f} megapixels, so it was not decoded.",
            hint=f"Resize it to at most {max(1, int(w * shrink))}x{max(1, int(h * shrink))} pixels and try again.",
        )
    if max(w, h) > max_aspect * min(w, h):
        raise InputImageError(
            f"{name} is {w}x{h} pixels: one side is more than {max_aspect:g} times the other, which is no drawing or photo.",
            hint="Send the drawing as a normal picture (the studio's canvas is square), or crop the image.",
        )


_REDUCE_STRIP_ROWS = 256  # rows box-reduced at a time when shrinking while decoding
_WIDE_MODES = ("I", "F", "I;16", "I;16B", "I;16L", "I;16N")  # grey modes of more than 8 bits
_PIXEL_BYTES = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16B": 2, "I;16L": 2, "I;16N": 2}  # PIL's memory per pixel; others take 4


def decoded_bytes(img: Image.Image) -> int:
    """Memory PIL takes for the decoded pixels of ``img`` (header read, not yet loaded), bytes."""
    w, h = img.size
    return w * h * _PIXEL_BYTES.get(img.mode, 4)


def _box_reduce(img: Image.Image, k: int) -> Image.Image:
    """``img.reduce(k)`` done in strips of rows, so that the premultiplied copy PIL makes of an
    image with alpha is never full-size (the result is the same: strips start at multiples of k)."""
    w, h = img.size
    out = Image.new(img.mode, (-(-w // k), -(-h // k)))
    step = k * max(1, _REDUCE_STRIP_ROWS // k)
    for top in range(0, h, step):
        out.paste(img.crop((0, top, w, min(h, top + step))).reduce(k), (0, top // k))
    return out


def _shrink_while_decoding(img: Image.Image, work_side: int) -> Image.Image:
    """Load ``img`` with its long side reduced to at most ``work_side``: a JPEG decodes at a
    reduced DCT scale; other formats are box-reduced right after decoding, strip by strip, and
    resampled to the exact size, so nothing but the decoded pixels is ever full-size."""
    w, h = img.size
    scale = work_side / max(w, h)
    target = (max(1, round(w * scale)), max(1, round(h * scale)))
    if img.format == "JPEG":
        img.draft(img.mode if img.mode in ("RGB", "L") else "RGB", target)  # 1/2 .. 1/8 of the size, at least target
    img.load()
    sixteen = img.mode.startswith("I;16")
    if img.mode in ("P", "PA", "1"):  # palettes only resample by nearest: lines would break up
        img = img.convert("RGBA" if img.mode == "PA" or "transparency" in img.info else "RGB")
    elif img.mode in _WIDE_MODES:  # deep grey resamples as float
        img = img.convert("F")
    k = int(max(img.size) / work_side)  # the box reduce leaves less than 2x for the resampling
    if k > 1:
        img = _box_reduce(img, k)
    if max(img.size) > work_side:
        img = img.resize(target, Image.Resampling.BOX if img.mode == "F" else Image.Resampling.LANCZOS)
    return img.point(lambda v: v * (255 / 65535)) if sixteen else img  # 16-bit grey -> float 0..255


def read_image(
    source: str | Path | bytes,
    *,
    max_bytes: int = 25 * 2**20,
    max_pixels: int = 40_000_000,
    max_aspect: float = MAX_ASPECT,
    work_side: int | None = None,
) -> Image.Image:
    """Decode a PNG / JPEG / WebP / BMP / GIF (first frame) file or bytes into a loaded PIL image.

    ``max_bytes`` caps the encoded size, ``max_pixels`` the width * height and ``max_aspect``
    the long side over the short one, all checked from the header before any pixel is decoded.
    ``work_side`` (None = full size) decodes straight to at most that long side, for callers
    that never need more (a JPEG is then decoded at a reduced scale). EXIF orientation is
    applied; the mode is kept unless ``work_side`` had to resample a palette or deep image.
    """
    name, data = _read_bytes(source, max_bytes)
    if not data:
        raise InputImageError(f"{name} is empty (0 bytes).", hint="Choose a PNG or JPEG image file.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our own limit applies below
            with Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS) as img:  # lazy: reads the header only
                _check_shape(name, img.size, max_pixels, max_aspect)
                small = _shrink_while_decoding(img, work_side) if work_side and max(img.size) > work_side else None
                if small is None:
                    img.load()
                loaded = img if small is None else small
                try:
                    out = ImageOps.exif_transpose(loaded)  # a loaded copy, upright
                except Exception:  # broken EXIF must not reject a good picture: keep it as stored
                    out = loaded.copy()
                del small, loaded
    except InputImageError:
        raise
    except Image.DecompressionBombError as err:
        raise InputImageError(
            f"{name} declares far more pixels than allowed ({max_pixels / 1e6:.1f} megapixels), so it was not decoded.",
            hint="Resize the image to a few megapixels and try again.",
        ) from err
    except Image.UnidentifiedImageError as err:
        what = _sniff(data)
        problem = f"{name} is {what + ', ' if what else ''}not a {_ACCEPTED_TEXT} image."
        raise InputImageError(problem, hint="Save or export it as PNG or JPEG and try again.") from err
    except Exception as err:  # decoders raise OSError, SyntaxError, ValueError, EOFError, ... on damaged data
        raise InputImageError(f"{name} could not be decoded; the file may be damaged ({err}).", _RESAVE_HINT) from err
    out.load()
    return out
