"""Optional background removal before line extraction, so the drawing shows the object only.

GrabCut (an iterated graph cut between two colour models) is started from a guess:

- ``"border"``: a thin strip along the image border is background, the rest may be object;
  right for product shots and objects that fill the frame;
- ``"center"``: the same strip is background, a centre box is probably object and the ring
  between them probably background; right for an animal in the middle of a cluttered scene;
- ``"auto"``: both, keeping the larger plausible object (between MIN_OBJECT and MAX_OBJECT of
  the image). GrabCut's usual mistake is to lose object parts that look like the background
  (a white panda head against a pale fence), so the larger of two plausible answers is
  usually the better one.

The result keeps the largest object part(s) and fills small holes. It never returns an empty
object: when GrabCut collapses (or leaves only a thin border), the whole image is kept.

``subject_square`` uses the same mask to frame the object: the square crop around it, so an
animal photographed small in a wide scene fills the training picture the way it fills a
child's drawing.

``subject_masks`` finds the subjects of a whole training set once and keeps them in the cache
folder (:func:`icanvas.config.cache_dir`), keyed by the photos' bytes, so a resumed or repeated
run on the same photos reads them back in a second instead of minutes.
"""

from __future__ import annotations

import hashlib
import io
import logging
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from icanvas.config import cache_dir
from icanvas.data.edges import as_photo, mask_extent
from icanvas.errors import ConfigError

log = logging.getLogger(__name__)

INITS = ("auto", "border", "center")

WORK_SIZE = 192  # px; GrabCut runs with the longer side at most this, the mask is scaled back
BORDER_MARGIN = 0.03  # width of the sure-background strip along the border, fraction of the side
CENTER_MARGIN = 0.15  # inset of the probable-object box for init="center", fraction of the side
MIN_OBJECT = 0.02  # object smaller than this fraction of the image = collapse, keep everything
KEEP_PART = 0.2  # object parts at least this fraction of the largest part are kept
MAX_HOLE = 0.01  # enclosed holes smaller than this fraction of the image are filled
MAX_OBJECT = 0.9  # an object covering more than this fraction of the image = keep everything
SUBJECT_MARGIN = 0.08  # room left around the object by subject_square, fraction of its longer side
SUBJECTS_VERSION = 1  # part of the cache key of subject_masks; raise it when remove_background changes


def _margin(shape: tuple[int, int]) -> int:
    return max(1, round(BORDER_MARGIN * min(shape)))


def _initial_mask(shape: tuple[int, int], init: str) -> np.ndarray:
    """GrabCut label map (H, W) uint8 for the starting guess."""
    h, w = shape
    m = _margin(shape)
    if init == "border":
        mask = np.full((h, w), cv2.GC_PR_FGD, np.uint8)
    else:
        mask = np.full((h, w), cv2.GC_PR_BGD, np.uint8)
        cy, cx = round(CENTER_MARGIN * h), round(CENTER_MARGIN * w)
        mask[cy : h - cy, cx : w - cx] = cv2.GC_PR_FGD
    mask[:m], mask[-m:], mask[:, :m], mask[:, -m:] = cv2.GC_BGD, cv2.GC_BGD, cv2.GC_BGD, cv2.GC_BGD
    return mask


def _tidy(obj: np.ndarray) -> np.ndarray:
    """Keep the large object part(s) of a bool (H, W) mask and fill its small enclosed holes."""
    h, w = obj.shape
    m8 = obj.astype(np.uint8)
    k = max(3, round(min(h, w) / 85)) | 1  # ~3 px at 256: smooths ragged GrabCut borders
    m8 = cv2.morphologyEx(m8, cv2.MORPH_OPEN, np.ones((k, k), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(m8, connectivity=8)
    if n <= 1:
        return np.zeros_like(obj)
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep = np.zeros(n, bool)
    keep[1:] = areas >= KEEP_PART * areas.max()
    out = keep[labels]
    # holes: paper regions not touching the border and small enough
    n, labels, stats, _ = cv2.connectedComponentsWithStats((~out).astype(np.uint8), connectivity=4)
    x, y = stats[:, cv2.CC_STAT_LEFT], stats[:, cv2.CC_STAT_TOP]
    x2, y2 = x + stats[:, cv2.CC_STAT_WIDTH], y + stats[:, cv2.CC_STAT_HEIGHT]
    inner = (x > 0) & (y > 0) & (x2 < w) & (y2 < h)
    fill = inner & (stats[:, cv2.CC_STAT_AREA] < MAX_HOLE * h * w)
    fill[0] = False  # label 0 is the object
    return out | fill[labels]


def _grabcut(img: np.ndarray, init: str, iterations: int) -> np.ndarray:
    """Object mask (H, W) bool of GrabCut started from ``init`` ("border" or "center"), tidied."""
    labels = _initial_mask(img.shape[:2], init)  # (H, W) GrabCut labels
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.setRNGSeed(0)  # GrabCut seeds its colour models by k-means from OpenCV's global RNG
    try:
        cv2.grabCut(np.ascontiguousarray(img[:, :, ::-1]), labels, None, bgd, fgd, iterations, cv2.GC_INIT_WITH_MASK)
    except cv2.error:  # degenerate input, e.g. one flat colour: no object found
        return np.zeros(img.shape[:2], bool)
    obj = ((labels == cv2.GC_FGD) | (labels == cv2.GC_PR_FGD)).astype(np.uint8)
    # the sure-background strip is a guess, not an answer: an object reaching it goes on to the
    # image edge (else every cut-off object would get a straight outline along the border)
    m = _margin(img.shape[:2])
    obj = cv2.copyMakeBorder(obj[m:-m, m:-m], m, m, m, m, cv2.BORDER_REPLICATE)
    return _tidy(obj > 0)


def remove_background(
    photo: np.ndarray,
    *,
    init: str = "auto",
    iterations: int = 5,
    fill: int = 255,
) -> tuple[np.ndarray, np.ndarray]:
    """Replace the background of a photo with a plain colour.

    ``init`` is the starting guess (see the module doc), ``iterations`` the GrabCut rounds,
    ``fill`` the grey level (0-255) painted over the background.
    Returns (photo (H, W, 3) uint8 with the background set to ``fill``, mask (H, W) bool, True = object).
    """
    if init not in INITS:
        raise ConfigError(f"Unknown background init {init!r}.", f"Use one of: {', '.join(INITS)}.")
    if iterations < 1:
        raise ConfigError(f"iterations must be >= 1, got {iterations}.", "Use 3-10 GrabCut rounds.")
    if not 0 <= fill <= 255:
        raise ConfigError(f"fill must be a grey level in 0..255, got {fill}.", "Use 255 for white paper.")
    img = as_photo(photo)
    h, w = img.shape[:2]
    scale = min(1.0, WORK_SIZE / max(h, w))
    small = img if scale == 1.0 else cv2.resize(img, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    if init == "auto":
        answers = [_grabcut(small, name, iterations) for name in ("border", "center")]  # (h', w') bool
        plausible = [a for a in answers if MIN_OBJECT <= a.mean() <= MAX_OBJECT]
        obj = max(plausible or answers[:1], key=lambda a: a.mean())
    else:
        obj = _grabcut(small, init, iterations)  # (h', w') bool
    if scale != 1.0:
        obj = cv2.resize(obj.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR) >= 0.5
    if not MIN_OBJECT <= obj.mean() <= MAX_OBJECT:  # nothing found, or nothing to remove
        obj = np.ones((h, w), bool)
    out = img.copy()
    out[~obj] = fill
    return out, obj


def subject_square(photo: np.ndarray, *, init: str = "auto", margin: float = SUBJECT_MARGIN) -> tuple[int, int, int]:
    """(left, top, side) of the square that frames the object of a photo, inside the photo.

    The square is centred on the box around the object mask of ``remove_background`` and is
    ``margin`` (a fraction of the box's longer side) larger on every side, never smaller than a
    quarter of the photo's shorter side, and never larger than that side; it is shifted, not cut,
    where it would leave the photo. With no object found it is the largest centred square.
    """
    if not 0.0 <= margin <= 1.0:
        raise ConfigError(f"margin must be in [0, 1], got {margin}.", "Use about 0.08 (8 % of the object's size).")
    img = as_photo(photo)
    h, w = img.shape[:2]
    _, obj = remove_background(img, init=init)
    x0, y0, x1, y1 = mask_extent(obj)  # never empty: see remove_background
    longest = max(y1 - y0, x1 - x0)
    side = int(round(min(min(h, w), max(min(h, w) / 4, longest * (1 + 2 * margin)))))
    left = int(np.clip(round((x0 + x1 - side) / 2), 0, w - side))
    top = int(np.clip(round((y0 + y1 - side) / 2), 0, h - side))
    return left, top, side


def subject_masks(photos: np.ndarray, *, workers: int = 2, progress: bool = False, cache: bool = True) -> np.ndarray:
    """(N, H, W, 3) uint8 photos -> (N, H, W) bool: each photo's subject as :func:`remove_background`
    finds it (init "auto"; the whole photo where it finds none). OpenCV releases the GIL, so
    ``workers`` threads share the work (about 0.3 s per photo per core); ``progress`` shows a bar
    on a terminal and a log line elsewhere. With ``cache``, the masks are read from and written
    to the cache folder (a file that cannot be read or written is found again, with a warning)."""
    path = _subjects_path(photos) if cache else None
    if path is not None and path.is_file():
        try:
            with np.load(path) as f:
                packed, shape = f["packed"], tuple(int(v) for v in f["shape"])
            if shape == photos.shape[:3]:
                return np.unpackbits(packed, count=int(np.prod(shape))).reshape(shape).astype(bool)
            log.warning("Photo subjects in %s are for another set of photos; finding them again.", path)
        except (OSError, ValueError, KeyError) as e:
            log.warning("Photo subjects in %s cannot be read (%s); finding them again.", path, e)
    bar = progress and sys.stderr.isatty()
    if progress and not bar:
        log.info("Finding the subjects of %d photos (about %.0f s on %d threads)...", len(photos), 0.3 * len(photos) / max(1, workers), workers)
    out = np.zeros(photos.shape[:3], bool)
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        found = pool.map(remove_background, photos)
        for i, (_, mask) in enumerate(tqdm(found, total=len(photos), desc="photo subjects", disable=not bar, mininterval=1.0, leave=False)):
            out[i] = mask
    if path is not None:
        _save_subjects(path, out)
    return out


def _subjects_path(photos: np.ndarray) -> Path:
    digest = hashlib.blake2b(np.ascontiguousarray(photos).data, digest_size=12)
    digest.update(f"{photos.shape}-v{SUBJECTS_VERSION}".encode())
    return cache_dir() / "subjects" / f"{digest.hexdigest()}.npz"


def _save_subjects(path: Path, masks: np.ndarray) -> None:
    from icanvas.checkpoint import write_bytes_atomic

    buf = io.BytesIO()
    np.savez_compressed(buf, packed=np.packbits(masks.reshape(-1)), shape=np.asarray(masks.shape))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(path, buf.getvalue())
    except OSError as e:  # a cache: training goes on, the next run finds the subjects again
        log.warning("Could not keep the photo subjects in %s (%s); a later run will find them again.", path, e)
