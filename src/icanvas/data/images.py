"""Image arrays and the normalisation of hand-made drawings.

Reading user images lives in :mod:`icanvas.data.reading` (:func:`read_image` is re-exported
here). :func:`normalize_drawing` turns any drawing (scan, photo
of paper, chalk on a board, transparent PNG, crayons) into black lines on white paper plus the
coloured strokes (on a photographed page a thin dark line is a line, whatever its colour: a blue
ballpoint draws lines, a crayon colours in); :func:`fit_square`, :func:`letterbox` and
:func:`unletterbox` move between arbitrary aspect ratios and a model's square.
"""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
from PIL import Image

from icanvas.data.inks import drawn_in_ink
from icanvas.data.page import Page, page_from_corners, search_page, straighten
from icanvas.data.reading import ACCEPTED_FORMATS, read_image  # noqa: F401  (re-exported: callers read and normalise together)
from icanvas.data.rules import printed_rules
from icanvas.errors import InputImageError

# --- normalize_drawing tunables (grey levels are 0..255 with paper light and ink dark)
_ALPHA_MIN_FRACTION = 0.01  # fraction of see-through pixels (alpha < 250) that makes alpha the drawing
_DARK_BACKGROUND = 110  # median grey level below which the background is dark and polarity is inverted
_INK_LEVEL = 128  # clean drawings: a pixel darker than this is ink
_PHOTO_PAPER_LEVEL = 215  # median paper level below which the paper counts as photographed (grey)
_PHOTO_NOISE = 3.0  # robust noise sigma of the paper, grey levels, above which it counts as photographed
_PHOTO_SPREAD = 60  # difference between the brightest and darkest lit block, grey levels, above which: photographed
_BG_WORK_SIDE = 256  # long side of the reduced copy on which the paper level is estimated, px
_BG_KERNEL_FRAC = 1 / 12  # strokes narrower than this fraction of the long side are removed from the paper level
_LIGHT_GRID = 4  # the lighting is compared between the brightest levels of this many x this many blocks
_WEAK_CONTRAST = 0.15  # photos: at least this fraction darker than the local paper -> candidate ink
_STRONG_CONTRAST = 0.35  # photos: a candidate stroke survives only with a pixel this much darker
_WEAK_SIGMAS = 4.0  # photos: candidate ink must also be this many noise sigmas darker than paper
_STRONG_SIGMAS = 8.0  # photos: the same for the pixel that confirms a stroke
_SPECKLE_FRAC = 1e-5  # ink blobs smaller than this fraction of the image area are speckles ...
_SPECKLE_MIN = 5  # ... and never fewer than this many pixels
_MIN_INK_FRAC = 5e-5  # less ink than this fraction of the image area means an empty drawing
_CHROMA = 60  # colour strokes: max - min channel after white balance, 0..255, above which a pixel is coloured
_COLOR_DIST = 40  # colour strokes: a coloured pixel also differs from the paper colour by this much, 0..255
_RULE_CONTRAST = 0.06  # printed rules are looked for among pixels at least this fraction darker than the paper
_STATS_SAMPLES = 1_000_000  # at most this many pixels feed medians and percentiles


# ============================================================================ arrays


def _rgb_alpha(img: Image.Image) -> tuple[np.ndarray, np.ndarray | None]:
    """(H, W, 3) uint8 RGB and (H, W) uint8 alpha, or None when nothing is transparent."""
    if img.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):  # 16/32-bit grey: scale to 0..255
        grey = np.asarray(img, dtype=np.float64)
        top = float(grey.max()) if grey.size else 0.0  # "I" and "F" say nothing of their range: guess it
        scale = 255 / 65535 if img.mode.startswith("I;16") or top > 255 else (255.0 if img.mode == "F" and top <= 1 else 1)
        grey = np.clip(grey * scale + 0.5, 0, 255).astype(np.uint8)  # (H, W)
        return np.repeat(grey[..., None], 3, axis=2), None
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info:
        rgba = np.array(img.convert("RGBA"))  # (H, W, 4)
        return np.ascontiguousarray(rgba[..., :3]), np.ascontiguousarray(rgba[..., 3])
    return np.array(img if img.mode == "RGB" else img.convert("RGB")), None


def _composite(rgb: np.ndarray, alpha: np.ndarray, background: tuple[int, int, int]) -> np.ndarray:
    a = alpha[..., None].astype(np.uint16)  # (H, W, 1)
    bg = np.asarray(background, np.uint16)  # (3,)
    return ((rgb.astype(np.uint16) * a + bg * (255 - a) + 127) // 255).astype(np.uint8)


def to_rgb(img: Image.Image, background: int | tuple[int, int, int] = (255, 255, 255)) -> np.ndarray:
    """Any PIL image -> (H, W, 3) uint8 RGB, transparency composited over ``background``."""
    bg = (background,) * 3 if isinstance(background, (int, np.integer)) else tuple(background)
    if len(bg) != 3 or not all(0 <= int(c) <= 255 for c in bg):
        raise ValueError(f"background must be a grey level or an RGB triple in 0..255, not {background!r}")
    rgb, alpha = _rgb_alpha(img)
    return rgb if alpha is None else _composite(rgb, alpha, tuple(int(c) for c in bg))


_ARRAY_DTYPES = (np.uint8, np.uint16, np.int16, np.float32, np.float64, np.bool_)  # what cv2.resize takes


def _check_array(img: np.ndarray) -> None:
    ok = isinstance(img, np.ndarray) and img.ndim in (2, 3) and img.shape[0] >= 1 and img.shape[1] >= 1
    if not ok or img.dtype.type not in _ARRAY_DTYPES:
        what = f"{img.shape} {img.dtype}" if isinstance(img, np.ndarray) else type(img).__name__
        raise InputImageError(f"Expected an (H, W) or (H, W, C) uint8/float image array, got {what}.",
                              hint="Pass a decoded image array, e.g. from to_rgb(read_image(path)).")


def resize(img: np.ndarray, w: int, h: int) -> np.ndarray:
    """``img`` at ``w`` x ``h`` px: cv2.resize that keeps (H, W, 1) and bool arrays; INTER_AREA when shrinking, linear when enlarging."""
    if img.shape[0] == h and img.shape[1] == w:
        return img.copy()
    if img.dtype == bool:
        return resize(img.astype(np.uint8) * 255, w, h) > 127
    shrink = h * w < img.shape[0] * img.shape[1]
    out = cv2.resize(np.ascontiguousarray(img), (w, h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    return out.reshape((h, w) + img.shape[2:])  # cv2 drops a single channel axis


def _filled(img: np.ndarray, size: int, fill: int | tuple) -> np.ndarray:
    """A (size, size[, C]) array of ``fill`` with the dtype of ``img``."""
    shape = (size, size) + img.shape[2:]
    channels = img.shape[2] if img.ndim == 3 else 1
    values = np.atleast_1d(np.asarray(fill))
    if values.size not in (1, channels):
        raise ValueError(f"fill {fill!r} does not match an image with {channels} channel(s)")
    out = np.empty(shape, img.dtype)
    out[...] = values if img.ndim == 3 else values[0]
    return out


@dataclasses.dataclass(frozen=True)
class Placement:
    """Where :func:`letterbox` put an image inside its square."""

    orig_h: int  # height of the image before letterboxing, px
    orig_w: int  # width of the image before letterboxing, px
    size: int  # side of the square, px
    top: int  # first row of the content in the square
    left: int  # first column of the content in the square
    h: int  # rows of content in the square
    w: int  # columns of content in the square


def letterbox(img: np.ndarray, size: int, fill: int | tuple = 255) -> tuple[np.ndarray, Placement]:
    """Resize so the long side is ``size`` and pad the short side centred with ``fill``."""
    _check_array(img)
    if size < 1:
        raise ValueError(f"size must be >= 1, got {size}")
    oh, ow = img.shape[:2]
    scale = size / max(oh, ow)
    h, w = max(1, min(size, round(oh * scale))), max(1, min(size, round(ow * scale)))
    top, left = (size - h) // 2, (size - w) // 2
    square = _filled(img, size, fill)  # (size, size[, C])
    square[top : top + h, left : left + w] = resize(img, w, h)
    return square, Placement(oh, ow, size, top, left, h, w)


def unletterbox(square: np.ndarray, placement: Placement) -> np.ndarray:
    """Cut the content region out of a (generated) square and restore the original aspect ratio.

    The square may have another side than at letterboxing (a model working at 2x); the result
    has the original aspect and the square's resolution, but never exceeds the original size.
    """
    _check_array(square)
    s = square.shape[0]
    if square.shape[1] != s:
        raise InputImageError(f"Expected a square image, got {square.shape[1]}x{s}.", "Pass the model's square output.")
    k = s / placement.size  # square px per letterbox px
    top, left = round(placement.top * k), round(placement.left * k)
    bottom = min(s, max(top + 1, round((placement.top + placement.h) * k)))
    right = min(s, max(left + 1, round((placement.left + placement.w) * k)))
    region = square[top:bottom, left:right]  # (h', w'[, C]) content, pads dropped
    shrink = min(1.0, s / max(placement.orig_h, placement.orig_w))
    out_h, out_w = max(1, round(placement.orig_h * shrink)), max(1, round(placement.orig_w * shrink))
    return resize(region, out_w, out_h)


def fit_square(img: np.ndarray, size: int, *, mode: str = "pad", fill: int | tuple = 255) -> np.ndarray:
    """(H, W[, C]) -> (size, size[, C]): "pad" keeps the whole object, "crop" cuts the centre."""
    _check_array(img)
    if mode == "pad":
        return letterbox(img, size, fill)[0]
    if mode != "crop":
        raise ValueError(f"mode must be 'pad' or 'crop', not {mode!r}")
    if size < 1:
        raise ValueError(f"size must be >= 1, got {size}")
    h, w = img.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    return resize(img[top : top + side, left : left + side], size, size)


# ============================================================================ drawings


NO_PAGE = "photographed, no page found"  # how a drawing's description starts when no page was found in the photo


@dataclasses.dataclass(frozen=True)
class Drawing:
    """A drawing as the models want it, whatever it was made with."""

    lines: np.ndarray  # (H, W) uint8 sketch: 255 paper, 0 ink (only these two values)
    colors: np.ndarray  # (H, W, 3) uint8 RGB of coloured strokes, 0 elsewhere
    color_mask: np.ndarray  # (H, W) bool, True on a coloured (non-grey) stroke
    source: str  # what was detected, e.g. "dark lines on light paper"
    page: Page | None = None  # the sheet the drawing was cut out of, in input px (page.drawing_corners says where the
    # drawing's own corners lie); None when the drawing is the whole input


def drawing_rgb(drawing: Drawing) -> np.ndarray:
    """The drawing as the models see it, for people to look at: (H, W, 3) uint8 black lines and
    the coloured strokes in their colours on white paper."""
    out = np.where(drawing.lines[..., None] < 128, 0, 255).astype(np.uint8).repeat(3, axis=2)
    out[drawing.color_mask] = drawing.colors[drawing.color_mask]
    return out


def _sample(a: np.ndarray) -> np.ndarray:
    """A strided subset of ``a``'s pixels for statistics, at most about _STATS_SAMPLES."""
    step = max(1, int((a.shape[0] * a.shape[1] / _STATS_SAMPLES) ** 0.5))
    return a[::step, ::step]


def _masked_median(img: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(C,) float64 ``np.median`` over the (H, W) uint8 ``mask``'s pixels of each channel of the
    (H, W[, C]) uint8 ``img``: the same figures, from histograms instead of a sort."""
    img, mask = np.ascontiguousarray(img), np.ascontiguousarray(mask, dtype=np.uint8)
    out = np.empty(img.shape[2] if img.ndim == 3 else 1)
    for c in range(len(out)):
        cum = cv2.calcHist([img], [c], mask, [256], [0, 256]).ravel().cumsum()  # exact counts (< 2**24)
        n = int(cum[-1])
        out[c] = (np.searchsorted(cum, (n - 1) // 2 + 1) + np.searchsorted(cum, n // 2 + 1)) / 2  # the two middle values
    return out


def _paper_level(work: np.ndarray) -> np.ndarray:
    """(H, W) float32 paper brightness with strokes removed (closing on a reduced copy)."""
    h, w = work.shape
    scale = min(1.0, _BG_WORK_SIDE / max(h, w))
    small = cv2.resize(work, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    k = max(3, int(max(small.shape) * _BG_KERNEL_FRAC) | 1)  # odd kernel side, px of the reduced copy
    closed = cv2.morphologyEx(small, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    closed = cv2.medianBlur(closed, k).astype(np.float32)  # smooths the blocks, keeps shadow edges sharp
    return np.maximum(cv2.resize(closed, (w, h), interpolation=cv2.INTER_LINEAR), 1.0)  # (H, W)


def _looks_photographed(work: np.ndarray, bg: np.ndarray) -> bool:
    """Grey, noisy or unevenly lit paper needs the adaptive path; clean scans do not."""
    sw = _sample(work)
    w, b = sw.astype(np.float32), _sample(bg)
    paper = sw >= _INK_LEVEL
    if paper.sum() < 16:
        return True
    level = float(_masked_median(sw, paper)[0])
    noise = 1.4826 * float(np.median(np.abs(w[paper] - b[paper])))
    n = _LIGHT_GRID
    bh, bw = w.shape[0] // n, w.shape[1] // n
    if bh and bw:  # paper level of each block: a high percentile ignores strokes and noise
        blocks = w[: n * bh, : n * bw].reshape(n, bh, n, bw).transpose(0, 2, 1, 3).reshape(n * n, -1)
        lit = np.percentile(blocks, 95, axis=1)  # (n * n,)
        if float(lit.max() - lit.min()) > _PHOTO_SPREAD:
            return True
    return level < _PHOTO_PAPER_LEVEL or noise > _PHOTO_NOISE


def _photo_ink(work: np.ndarray, bg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(weak, strong) ink masks from the flat-fielded image: paper divided by its local level."""
    norm = work.astype(np.float32) * (255.0 / bg)  # (H, W) paper ~ 255 under any lighting
    s = _sample(norm)
    ref = float(np.median(s))
    sigma = 1.4826 * float(np.median(np.abs(s - ref)))
    weak = min(ref * (1 - _WEAK_CONTRAST), ref - _WEAK_SIGMAS * sigma)
    strong = min(ref * (1 - _STRONG_CONTRAST), ref - _STRONG_SIGMAS * sigma)
    return norm < weak, norm < strong


def _channel_max_min(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(H, W, 3) uint8 -> (H, W) uint8 max and min over the channels."""
    r, g, b = cv2.split(rgb)
    return cv2.max(cv2.max(r, g), b), cv2.min(cv2.min(r, g), b)


def _colour_strokes(
    rgb: np.ndarray, work: np.ndarray, bg: np.ndarray | None, inverted: bool, white: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """(mask (H, W) bool, true colours (H, W, 3) uint8) of strokes that are not grey; ``white``: the
    paper is known to be white (a drawing app's board), even where light crayon covers most of it."""
    sw = _sample(work)
    paper = sw >= _INK_LEVEL
    found = bool(paper.any())
    measured = found and not (white and not inverted)  # a drawing app's white board needs no measuring
    paper_rgb = _masked_median(_sample(rgb), paper) if measured else np.full(3, 0.0 if inverted else 255.0)
    if bg is None and not inverted and (paper_rgb == 255).all():  # white paper: nothing to balance, same figures sooner
        top, bottom = _channel_max_min(rgb)
        return (cv2.subtract(top, bottom) > _CHROMA) & (cv2.subtract(255, bottom) > _COLOR_DIST), rgb
    local: np.ndarray | tuple  # the paper's colour: one colour everywhere (a cv2 scalar) or per pixel
    if bg is None or inverted:  # one paper colour everywhere
        local = (*np.round(paper_rgb).astype(np.uint8).tolist(), 0)
        floor = tuple(max(v, 16) for v in local)
    else:  # lighting varies: paper colour = local brightness x paper tint
        gains = paper_rgb / max(float(_masked_median(sw, paper)[0]) if found else 255.0, 1.0)  # (3,)
        local = cv2.merge([cv2.convertScaleAbs(bg, alpha=float(g)) for g in gains])  # (H, W, 3)
        floor = np.maximum(local, 16)
    if inverted:  # light chalk adds to a dark board: look at what was added
        balanced = cv2.subtract(rgb, local)  # (H, W, 3)
        colours = rgb
    else:  # ink filters light: divide by the paper colour (white balance + lighting)
        balanced = colours = cv2.divide(rgb, floor, scale=255)  # (H, W, 3) under white light
    top, bottom = _channel_max_min(balanced)
    mask = (cv2.subtract(top, bottom) > _CHROMA) & (_channel_max_min(cv2.absdiff(rgb, local))[0] > _COLOR_DIST)
    return mask, colours


def _keep_strokes(weak: np.ndarray, strong: np.ndarray, min_area: int) -> np.ndarray:
    """Connected parts of ``weak`` that hold a ``strong`` pixel and are no speckle."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(weak.astype(np.uint8), connectivity=8)
    keep = (stats[:, cv2.CC_STAT_AREA] >= min_area) & (np.bincount(labels[strong], minlength=n) > 0)
    keep[0] = False  # label 0 is the paper
    return keep[labels]


def _normalize_rgb(rgb: np.ndarray, photographed: bool = False, canvas: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """(lines, colours, colour mask, source) of an (H, W, 3) uint8 drawing; ``photographed``: it is a
    page found in a photo, even when it looks as clean as a scan once straightened; ``canvas``: a
    drawing app's export, evenly lit and without printed rules, so neither is looked for."""
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)  # (H, W)
    hist = np.bincount(_sample(gray).ravel(), minlength=256)
    inverted = int(np.searchsorted(hist.cumsum(), hist.sum() / 2)) < _DARK_BACKGROUND
    work = 255 - gray if inverted else gray  # (H, W) light paper, dark ink
    bg = None if canvas else _paper_level(work)
    photo = bg is not None and _looks_photographed(work, bg)
    if photo:
        weak, strong = _photo_ink(work, bg)
    else:
        weak = strong = work < _INK_LEVEL
    colour, colours = _colour_strokes(rgb, work, bg if photo else None, inverted, white=canvas)
    if canvas or inverted:  # dark boards and drawing apps have no printed rules
        rules = np.zeros_like(colour)
    else:  # printed rules are faint but whole; dark strokes stay
        rules = printed_rules((work.astype(np.float32) < bg * (1 - _RULE_CONTRAST)) | colour) & ~strong
    if rules.any():  # lined or squared paper: its rules are neither ink nor colour
        weak, strong, colour = weak & ~rules, strong & ~rules, colour & ~rules
    area = gray.size
    ink = _keep_strokes(weak | colour, strong | colour, max(_SPECKLE_MIN, round(_SPECKLE_FRAC * area)))
    if ink.sum() < max(_SPECKLE_MIN, _MIN_INK_FRAC * area):
        raise InputImageError(
            "The drawing is empty: no lines were found.",
            hint="Draw something (dark lines on light paper work best) and try again.",
        )
    colour &= ink
    if (photo or photographed) and not inverted and colour.any():  # a ballpoint on paper draws lines; the studio's crayons stay colour
        colour &= ~drawn_in_ink(colour, colours)
    source = {
        (False, False): "dark lines on light paper",
        (False, True): "light lines on dark background (inverted)",
        (True, False): "photographed paper (adaptive threshold)",
        (True, True): "photographed dark board (inverted, adaptive threshold)",
    }[(photo, inverted)]
    if rules.any():
        source += ", printed rules removed"
    lines = np.where(ink, 0, 255).astype(np.uint8)  # (H, W) binary
    colors = cv2.bitwise_and(colours, colours, mask=colour.view(np.uint8))  # (H, W, 3), 0 off the colour
    return lines, colors, colour, source


def _details(source: str) -> str:
    """What :func:`_normalize_rgb` said after its first words, e.g. ', printed rules removed'."""
    return source[source.index(","):] if "," in source else ""


def normalize_drawing(
    img: Image.Image, *, find_page: bool = True, corners: np.ndarray | list | None = None, canvas: bool = False
) -> Drawing:
    """Any drawing -> black lines on white + coloured strokes.

    Handles transparent backgrounds, light lines on dark backgrounds, photographed paper
    (uneven light, grey paper, noise, the printed rules of lined or squared paper) and crayon
    colours. A photo of a page lying on something (``find_page``) is cut to the page and
    straightened first (:mod:`icanvas.data.page`): the drawing then has the page's size and
    shape, and ``Drawing.page`` is the sheet's outline in the photo; every other drawing keeps the
    input's size. ``corners`` (four x, y in input px) outline the page by hand instead of
    searching for it. ``canvas``: the drawing is a drawing app's export (the studio's board), so
    no page, uneven light or printed rules are looked for in it. Raises InputImageError when no
    drawing is found or the corners are wrong.
    """
    rgb, alpha = _rgb_alpha(img)
    page = None
    if corners is not None:
        try:
            page = page_from_corners(corners, rgb.shape[:2])
        except ValueError as e:
            raise InputImageError(f"Those page corners cannot be used: {e}.", "Place the four corners on the corners of the paper.") from e
        rgb = _composite(rgb, alpha, (255, 255, 255)) if alpha is not None else rgb
        lines, colors, mask, source = _normalize_rgb(straighten(rgb, page), photographed=True)
        source = "photographed page, corners placed by hand" + _details(source)
    elif alpha is None or np.mean(_sample(alpha) < 250) < _ALPHA_MIN_FRACTION:
        search = search_page(rgb) if find_page and not canvas else None
        page = search.page if search else None
        cut = page is not None and not page.fills_photo  # a photo: its page was found in it
        lines, colors, mask, source = _normalize_rgb(straighten(rgb, page) if cut else rgb, photographed=cut, canvas=canvas)
        if cut:
            source = "photographed page, found and straightened" + _details(source)
        elif search and search.page is None and source.startswith("photographed paper"):
            source = f"{NO_PAGE} ({search.reason}): used the whole photo" + _details(source)
    else:
        try:  # strokes are what is opaque: dark or coloured strokes show on white ...
            lines, colors, mask, _ = _normalize_rgb(_composite(rgb, alpha, (255, 255, 255)))
            source = "transparent background"
        except InputImageError:  # ... white ones only on black
            lines, colors, mask, _ = _normalize_rgb(_composite(rgb, alpha, (0, 0, 0)))
            source = "light lines on transparent background (inverted)"
    if mask.any():
        source += ", with coloured strokes"
    sheet = page if page is not None and not page.fills_photo else None  # a photo or scan that is the page is no sheet
    return Drawing(lines=lines, colors=colors, color_mask=mask, source=source, page=sheet)
