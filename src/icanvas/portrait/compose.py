"""Stage 4 and the crop geometry: where the person is cut out, and how they go back in.

Boxes are ``(x0, y0, x1, y1)`` in px, ends exclusive. :func:`person_box` is the square-ish
region around the person that stage 3 restyles; :func:`head_box` the square around the face
that a face-trained model restyles (the rest of the person gets the cartoon treatment);
:func:`paste` puts a restyled crop back over the filled background through a feathered mask.
"""

from __future__ import annotations

import cv2
import numpy as np

from icanvas.data.edges import as_photo
from icanvas.data.images import resize
from icanvas.errors import InputImageError

Box = tuple[int, int, int, int]  # (x0, y0, x1, y1) px, ends exclusive

PERSON_MARGIN = 0.08  # room around the person's box in the crop, share of its longer side
HEAD_SCALE = 2.2  # side of the head square / the face box's longer side (hair, ears, chin and neck fit)
HEAD_LIFT = 0.1  # the head square's centre sits this share of the face's height above the face's centre (hair)
HEAD_FADE = 0.04  # a restyled head square fades into the body over ~2x this share of its side (Gaussian sigma)
FEATHER = 0.006  # soft edge of a pasted person: Gaussian sigma as a share of the crop's longer side ...
FEATHER_MIN = 1.0  # ... at least this many px ...
FEATHER_MAX = 6.0  # ... and at most this many px


def clip_box(box: Box, shape: tuple[int, int]) -> Box:
    """``box`` limited to an image of ``shape`` (H, W); never empty (at least 1 x 1 px inside it)."""
    h, w = shape[:2]
    x0, y0 = min(max(0, int(box[0])), w - 1), min(max(0, int(box[1])), h - 1)
    return x0, y0, min(w, max(x0 + 1, int(box[2]))), min(h, max(y0 + 1, int(box[3])))


def scale_box(box: Box, kx: float, ky: float | None = None) -> Box:
    """``box`` in another resolution: x multiplied by ``kx``, y by ``ky`` (default ``kx``); outward rounding."""
    ky = kx if ky is None else ky
    return (int(np.floor(box[0] * kx)), int(np.floor(box[1] * ky)), int(np.ceil(box[2] * kx)), int(np.ceil(box[3] * ky)))


def square_around(cx: float, cy: float, side: float, shape: tuple[int, int]) -> Box:
    """The square of ``side`` px centred on (cx, cy), slid inside the image; cut only where the image is smaller."""
    h, w = shape[:2]
    sw, sh = min(w, int(round(side))), min(h, int(round(side)))
    x0 = int(round(min(max(0.0, cx - sw / 2), w - sw)))
    y0 = int(round(min(max(0.0, cy - sh / 2), h - sh)))
    return clip_box((x0, y0, x0 + sw, y0 + sh), shape)


def person_box(box: Box, shape: tuple[int, int], margin: float = PERSON_MARGIN) -> Box:
    """The square-ish crop around a person whose tight box is ``box``: a square of the box's
    longer side plus ``margin``, slid inside the photo; the photo's edge cuts it where it must."""
    x0, y0, x1, y1 = box
    side = max(x1 - x0, y1 - y0) * (1 + 2 * margin)
    crop = square_around((x0 + x1) / 2, (y0 + y1) / 2, side, shape)
    # the tight box must stay whole even where the square was cut short by the photo
    return min(crop[0], x0), min(crop[1], y0), max(crop[2], x1), max(crop[3], y1)


def head_box(face: Box, shape: tuple[int, int], scale: float = HEAD_SCALE) -> Box:
    """The square around a face box, ``scale`` times its longer side, a little above its centre."""
    x0, y0, x1, y1 = face
    side = max(x1 - x0, y1 - y0) * scale
    return square_around((x0 + x1) / 2, (y0 + y1) / 2 - HEAD_LIFT * (y1 - y0), side, shape)


def feather_sigma(side: int) -> float:
    """Gaussian sigma, px, of the soft edge of a person pasted into a crop whose longer side is ``side`` px."""
    return float(np.clip(FEATHER * side, FEATHER_MIN, FEATHER_MAX))


def feather(mask: np.ndarray, sigma: float) -> np.ndarray:
    """(H, W) float32 mask in [0, 1] -> the same with its edge softened by a Gaussian of ``sigma`` px."""
    m = np.asarray(mask, np.float32)
    return np.clip(cv2.GaussianBlur(m, (0, 0), sigma), 0.0, 1.0) if sigma > 0 else m.copy()


def box_fade(shape: tuple[int, int], box: Box, sigma: float) -> np.ndarray:
    """(H, W) float32 weight: 1 inside ``box``, fading to 0 at its edges over ~2 ``sigma`` px, except along
    the image's own border (a patch reaching the border is not faded there)."""
    h, w = shape
    x0, y0, x1, y1 = box
    pad = int(np.ceil(2 * sigma))
    inner = np.zeros((h, w), np.float32)
    ix0, iy0 = x0 + (pad if x0 > 0 else 0), y0 + (pad if y0 > 0 else 0)
    ix1, iy1 = x1 - (pad if x1 < w else 0), y1 - (pad if y1 < h else 0)
    inner[iy0:max(iy0, iy1), ix0:max(ix0, ix1)] = 1.0
    return feather(inner, sigma) * _box_mask((h, w), box)


def _box_mask(shape: tuple[int, int], box: Box) -> np.ndarray:
    out = np.zeros(shape, np.float32)
    out[box[1] : box[3], box[0] : box[2]] = 1.0
    return out


def blend(base: np.ndarray, top: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """``top`` over ``base`` (both (H, W, 3) uint8) through ``alpha`` (H, W) in [0, 1]."""
    a = np.ascontiguousarray(alpha, np.float32)  # (H, W)
    return cv2.blendLinear(np.ascontiguousarray(top), np.ascontiguousarray(base), a, 1.0 - a)


def paste(background: np.ndarray, restyled: np.ndarray, mask: np.ndarray, box: Box, sigma: float | None = None) -> np.ndarray:
    """Put a restyled crop back: (H, W, 3) uint8 of ``background``'s size.

    ``restyled`` (h, w, 3) uint8 is the crop ``box`` of the photo at any resolution (it is
    resized to the box), ``mask`` (H, W) float32 in [0, 1] the person at the photo's size;
    inside the box the person's pixels come from ``restyled`` through the mask feathered by
    ``sigma`` px (default: :func:`feather_sigma` of the box). Outside the box nothing changes.
    """
    background = as_photo(background)
    h, w = background.shape[:2]
    if np.asarray(mask).shape != (h, w):
        raise InputImageError(f"The mask is {np.asarray(mask).shape} and the background {(h, w)}.",
                              "Pass the person's mask at the photo's size.")
    x0, y0, x1, y1 = clip_box(box, (h, w))
    if (x0, y0, x1, y1) != tuple(box):
        raise InputImageError(f"The crop box {tuple(box)} is not inside the {w}x{h} photo.", "Use the box the crop was cut from.")
    top = resize(as_photo(restyled), x1 - x0, y1 - y0)  # (bh, bw, 3)
    sigma = feather_sigma(max(x1 - x0, y1 - y0)) if sigma is None else sigma
    alpha = feather(mask[y0:y1, x0:x1], sigma)  # (bh, bw)
    out = background.copy()
    out[y0:y1, x0:x1] = blend(background[y0:y1, x0:x1], top, alpha)
    return out
