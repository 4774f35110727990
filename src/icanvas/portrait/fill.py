"""Stage 2: fill the hole the person leaves with what surrounds it.

Every backend fills the person's mask grown by a few px (so the soft edge and the halo of hair
and clothes go too), works on a copy of the photo reduced to a working size, and blends the
enlarged fill into the hole only: outside the grown mask the photo's pixels stay exactly as they
were, and a big photo costs little more than a small one.

Backends (the first two in an explicit registry keyed by the ``--inpaint`` names):

- ``"opencv"`` (default): OpenCV's Navier-Stokes inpainting. Measured on 30 real photos with a
  person-shaped hole (``benchmarks/fill_quality.py``) it is as close to the true background as
  fast marching (Telea) and the fastest; it keeps a flat wall exactly flat and continues a
  colour ramp twice as well. Both are smooth, not textured. Telea stays available, run on 16
  bits (on 8 bits it drifts ~5 grey levels lighter towards the hole's middle).
- ``"patchmatch"``: PatchMatch (``pip install 'icanvas[patchmatch]'``, MIT, a wheel with its own
  OpenCV); copies texture from around the hole, 1-2 s at its working size.
- LaMa from a local TorchScript file (the released ``big-lama.pt``), for people who have it:
  :class:`LamaFiller`, chosen with ``--inpaint-model PATH``.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from icanvas.data.edges import as_photo, mask_extent
from icanvas.data.images import resize
from icanvas.errors import CheckpointError, ConfigError, InputImageError, MissingResourceError
from icanvas.portrait.stages import BackgroundFiller

HOLE_LEVEL = 0.1  # mask value above which a pixel belongs to the hole (keeps the soft edge in it)
GROW = 0.02  # the hole grows by this share of its bounding box's longer side, px per px ...
GROW_MIN = 3  # ... and by at least this many px
RAMP = 0.5  # fill fades in over this share of the growth, measured inward from the hole's edge (0 = hard edge)
OPENCV_WORK_SIDE = 384  # px, long side the OpenCV backends work at (measured: 256 is 2% farther from the truth, 512 3x slower)
OPENCV_RADIUS = 3  # px at the working size, neighbourhood each filled pixel is computed from
PATCHMATCH_WORK_SIDE = 256  # px, long side PatchMatch works at (~1-2 s here; its cost grows fast with size)
PATCHMATCH_PATCH = 3  # patch radius, px at the working size: patches of 7 x 7
LAMA_WORK_SIDE = 1024  # px, long side LaMa works at (it was trained at 256 and keeps its quality far above)
LAMA_MULTIPLE = 8  # LaMa's input sides must be multiples of this (its down- and upsampling)
LAMA_FILE = "big-lama.pt"  # the released TorchScript file this backend is written for
LAMA_FLAG = "--inpaint-model PATH"  # command-line flag that supplies the file

Inpaint = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (h, w, 3) uint8, (h, w) uint8 0/1 hole -> (h, w, 3) uint8

FILLERS: dict[str, Callable[..., BackgroundFiller]] = {}


def register_filler(name: str) -> Callable:
    """Decorator: make a filler class available to :func:`make_filler` (and ``--inpaint``) as ``name``."""

    def wrap(cls):
        FILLERS[name] = cls
        return cls

    return wrap


# ----------------------------------------------------------------------------- shared steps


def check_mask(mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A person mask as (H, W) float32 in [0, 1] matching ``shape``; InputImageError otherwise."""
    m = np.asarray(mask)
    if m.shape != tuple(shape) or not (np.issubdtype(m.dtype, np.floating) or m.dtype in (np.uint8, np.bool_)):
        raise InputImageError(f"Expected a mask of shape {tuple(shape)} (float in [0, 1]), got {m.shape} {m.dtype}.",
                              "Pass the person's mask at the photo's size, e.g. Selection.mask.")
    if m.dtype == np.uint8:
        return m.astype(np.float32) / 255.0
    out = m.astype(np.float32)  # a copy: (H, W) float32
    np.nan_to_num(out, copy=False)
    return np.clip(out, 0.0, 1.0, out=out)


def hole_of(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """The region to fill: (H, W) bool, the mask above HOLE_LEVEL grown by ``grow`` px, and ``grow``.

    The growth is a distance threshold inside the grown bounding box, so its cost does not
    depend on how far the hole grows.
    """
    core = mask > HOLE_LEVEL
    box = mask_extent(core)
    hole = np.zeros(mask.shape, bool)
    if box is None:
        return hole, 0
    grow = max(GROW_MIN, int(round(GROW * max(box[2] - box[0], box[3] - box[1]))))
    h, w = mask.shape
    x0, y0, x1, y1 = max(0, box[0] - grow), max(0, box[1] - grow), min(w, box[2] + grow), min(h, box[3] + grow)
    outside = (~core[y0:y1, x0:x1]).astype(np.uint8)  # (bh, bw) 1 where the person is not
    hole[y0:y1, x0:x1] = cv2.distanceTransform(outside, cv2.DIST_L2, cv2.DIST_MASK_PRECISE) <= grow
    return hole, grow


def fill_hole(photo: np.ndarray, mask: np.ndarray, inpaint: Inpaint, work_side: int) -> np.ndarray:
    """Fill ``mask``'s grown hole with ``inpaint`` run at ``work_side``; pixels outside the hole are unchanged.

    ``photo`` (H, W, 3) uint8, ``mask`` (H, W) float32 in [0, 1] (1 = the person) -> (H, W, 3) uint8.
    """
    photo = as_photo(photo)
    h, w = photo.shape[:2]
    hole, grow = hole_of(check_mask(mask, (h, w)))
    if grow == 0:
        return photo.copy()
    k = min(1.0, work_side / max(h, w))  # working px per photo px
    sw, sh = max(1, round(w * k)), max(1, round(h * k))
    small = resize(photo, sw, sh)  # (sh, sw, 3)
    small_hole = resize(hole.astype(np.uint8) * 255, sw, sh) > 0  # any share of the hole counts: never smaller
    filled = inpaint(small, small_hole.astype(np.uint8))  # (sh, sw, 3)
    if filled.shape != small.shape:
        raise CheckpointError(f"The inpainting returned {filled.shape} for a {small.shape} picture.",
                              "Use a model that returns a picture of its input's size.")
    return blend_into_hole(photo, filled, hole, ramp=RAMP * grow)


def blend_into_hole(photo: np.ndarray, small_fill: np.ndarray, hole: np.ndarray, ramp: float) -> np.ndarray:
    """``photo`` with the enlarged ``small_fill`` blended into ``hole`` over ``ramp`` px inside its edge.

    Only the hole's bounding box is enlarged (bilinear, pixel centres aligned with a full-size
    resize), so the cost follows the hole, not the photo.
    """
    out = photo.copy()
    x0, y0, x1, y1 = mask_extent(hole)
    h, w = hole.shape
    sy, sx = small_fill.shape[0] / h, small_fill.shape[1] / w  # small px per photo px
    to_small = np.float32([[sx, 0, sx * (x0 + 0.5) - 0.5], [0, sy, sy * (y0 + 0.5) - 0.5]])  # box px -> small px
    patch = cv2.warpAffine(small_fill, to_small, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                           borderMode=cv2.BORDER_REPLICATE)  # (y1-y0, x1-x0, 3)
    inside = hole[y0:y1, x0:x1]
    if ramp > 0:  # distance to the nearest pixel outside the hole, px
        ring = np.pad(inside.astype(np.uint8), 1)  # next to the tight box is outside the hole ...
        if y0 == 0:  # ... except beyond the photo's edge, where the hole goes on
            ring[0] = ring[1]
        if y1 == h:
            ring[-1] = ring[-2]
        if x0 == 0:
            ring[:, 0] = ring[:, 1]
        if x1 == w:
            ring[:, -1] = ring[:, -2]
        weight = np.minimum(1.0, cv2.distanceTransform(ring, cv2.DIST_L2, 3)[1:-1, 1:-1] / ramp)
    else:
        weight = inside.astype(np.float32)
    weight = np.ascontiguousarray(weight, np.float32)  # (bh, bw), 0 outside the hole: those pixels stay exact
    out[y0:y1, x0:x1] = cv2.blendLinear(patch, np.ascontiguousarray(out[y0:y1, x0:x1]), weight, 1.0 - weight)
    return out


# ----------------------------------------------------------------------------- backends


@register_filler("opencv")
class OpenCVFiller:
    """Navier-Stokes (``"ns"``) or fast-marching (``"telea"``) inpainting at a working size."""

    name = "opencv"

    def __init__(self, method: str = "ns", work_side: int = OPENCV_WORK_SIDE, radius: int = OPENCV_RADIUS) -> None:
        if method not in ("telea", "ns"):
            raise ConfigError(f"Unknown OpenCV inpainting method {method!r}.", "Use 'ns' or 'telea'.")
        self.flag = cv2.INPAINT_TELEA if method == "telea" else cv2.INPAINT_NS
        self.work_side, self.radius = work_side, radius

    def _inpaint(self, small: np.ndarray, hole: np.ndarray) -> np.ndarray:
        if self.flag != cv2.INPAINT_TELEA:
            return cv2.inpaint(small, hole, self.radius, self.flag)
        # Telea on 8 bits rounds up as it marches inward (a flat wall comes out ~5 levels lighter);
        # on 16 bits, one channel at a time, the drift is gone
        deep = small.astype(np.uint16) * 257  # (h, w, 3) 0..65535
        out = np.stack([cv2.inpaint(np.ascontiguousarray(deep[..., c]), hole, self.radius, self.flag) for c in range(3)], axis=-1)
        return ((out.astype(np.uint32) + 128) // 257).astype(np.uint8)

    def fill(self, photo: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return fill_hole(photo, mask, self._inpaint, self.work_side)


@register_filler("patchmatch")
class PatchMatchFiller:
    """PatchMatch inpainting (texture copied from around the hole) from the optional ``pypatchmatch``."""

    name = "patchmatch"

    def __init__(self, work_side: int = PATCHMATCH_WORK_SIDE, patch: int = PATCHMATCH_PATCH, seed: int = 0) -> None:
        hint = "Install it with: pip install 'icanvas[patchmatch]' (or use --inpaint opencv)."
        try:
            import patchmatch
        except ImportError as err:
            raise MissingResourceError("PatchMatch inpainting needs the pypatchmatch package.", hint) from err
        if not patchmatch.patchmatch_available:
            raise MissingResourceError("pypatchmatch is installed but its native library did not load.",
                                       "Reinstall it: pip install --force-reinstall --no-deps pypatchmatch.")
        self.module, self.work_side, self.patch, self.seed = patchmatch, work_side, patch, seed

    def _inpaint(self, small: np.ndarray, hole: np.ndarray) -> np.ndarray:
        self.module.set_random_seed(self.seed)  # the same photo gives the same fill
        return self.module.inpaint(small, hole, patch_size=self.patch)

    def fill(self, photo: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return fill_hole(photo, mask, self._inpaint, self.work_side)


class LamaFiller:
    """LaMa from a local TorchScript file, called as ``model(image, mask)``.

    ``image`` (1, 3, H, W) float in [0, 1], ``mask`` (1, 1, H, W) float {0, 1} (1 = fill),
    returns (1, 3, H, W) in [0, 1]. The picture is padded (reflect) to multiples of 8 and
    cropped back. MissingResourceError when the file is absent, CheckpointError when it is not
    a loadable TorchScript archive or cannot be called that way.
    """

    name = "lama"

    def __init__(self, path: str | os.PathLike | None, *, work_side: int = LAMA_WORK_SIDE, device: str = "cpu") -> None:
        hint = (f"LaMa inpainting needs the TorchScript file {LAMA_FILE} on disk; pass its path with {LAMA_FLAG}, "
                "or leave it out to use OpenCV. Nothing is downloaded.")
        if path is None:
            raise MissingResourceError("No LaMa model file was given.", hint)
        self.path = Path(path).expanduser()
        if not self.path.is_file():
            raise MissingResourceError(f"LaMa model file {self.path} not found.", hint)
        import torch  # only for this backend: the default fill never loads it

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)  # the released file is TorchScript
                self.model = torch.jit.load(str(self.path), map_location=device).eval()
        except Exception as err:  # torch raises RuntimeError/ValueError/OSError for non-archives
            raise CheckpointError(f"{self.path} is not a TorchScript archive ({type(err).__name__}: {str(err).splitlines()[0]}).",
                                  f"Pass the TorchScript file {LAMA_FILE} (a zip archive loadable with torch.jit.load) "
                                  f"with {LAMA_FLAG}.") from err
        self.torch, self.device, self.work_side = torch, device, work_side

    def _inpaint(self, small: np.ndarray, hole: np.ndarray) -> np.ndarray:
        torch = self.torch
        h, w = hole.shape
        ph, pw = -h % LAMA_MULTIPLE, -w % LAMA_MULTIPLE  # rows / columns added at the bottom / right
        image = np.pad(small, ((0, ph), (0, pw), (0, 0)), mode="reflect" if min(h, w) > 1 else "edge")
        holes = np.pad(hole, ((0, ph), (0, pw)), mode="reflect" if min(h, w) > 1 else "edge")
        x = torch.from_numpy(image.transpose(2, 0, 1).copy()).float().div(255)[None].to(self.device)  # (1, 3, H8, W8)
        m = torch.from_numpy((holes > 0).astype(np.float32))[None, None].to(self.device)  # (1, 1, H8, W8)
        try:
            with torch.inference_mode():
                y = self.model(x, m)
        except Exception as err:
            raise CheckpointError(f"{self.path.name} could not be called as model(image, mask) "
                                  f"({type(err).__name__}: {str(err).strip().splitlines()[-1] if str(err).strip() else ''}).",
                                  f"Use {LAMA_FILE}: (1, 3, H, W) image and (1, 1, H, W) mask in, (1, 3, H, W) out.") from err
        if not isinstance(y, torch.Tensor) or y.ndim != 4 or tuple(y.shape[:2]) != (1, 3) or y.shape[2] < h or y.shape[3] < w:
            shape = tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__
            raise CheckpointError(f"{self.path.name} returned {shape} for a (1, 3, {h + ph}, {w + pw}) picture.",
                                  f"Use {LAMA_FILE}, which returns a (1, 3, H, W) picture in [0, 1].")
        out = y[0, :, :h, :w].clamp(0, 1).mul(255).round().byte().permute(1, 2, 0)  # (h, w, 3), padding cropped
        return np.ascontiguousarray(out.cpu().numpy())

    def fill(self, photo: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return fill_hole(photo, mask, self._inpaint, self.work_side)


def make_filler(inpaint: str = "opencv", model: str | os.PathLike | None = None) -> BackgroundFiller:
    """The filler for ``--inpaint NAME``, or LaMa when ``model`` (its TorchScript file) is given."""
    if inpaint not in FILLERS:
        raise ConfigError(f"Unknown inpainting {inpaint!r}.", f"Use one of: {', '.join(FILLERS)}; LaMa comes with {LAMA_FLAG}.")
    if model is not None:
        if inpaint != "opencv":
            raise ConfigError(f"{LAMA_FLAG} fills with LaMa, and --inpaint {inpaint} asks for another method.",
                              "Give one of the two.")
        return LamaFiller(model)
    return FILLERS[inpaint]()
