"""Image-quality metrics as small pure functions.

Conventions:

- an *image* is ``np.ndarray`` (H, W, C) with C = 3 (RGB) or 1, a *batch* is (N, H, W, C);
  floats are expected in [0, 1]; uint8 arrays are accepted and divided by 255 first, so
  ``data_range`` always refers to the float scale (leave it at 1.0 for uint8 input);
- a *line map* is ``np.ndarray`` (H, W) bool, True = line pixel (for a sketch: ``sketch < 128``);
- paired metrics (prediction vs. target of the same shape) are registered in :data:`METRICS`
  through :func:`register_metric`, so a report can loop over them by short name;
- randomness (sliced Wasserstein) comes from a seed, so every value is reproducible.
"""

from __future__ import annotations

from typing import Any, Callable

import cv2
import numpy as np

from icanvas.errors import ConfigError, InputImageError
from icanvas.eval.frechet import frechet_distance, gaussian_stats  # noqa: F401  (part of this module's API)

PairedMetric = Callable[[np.ndarray, np.ndarray], float]

METRICS: dict[str, PairedMetric] = {}
"""Paired metrics by short name: ``fn(pred, target) -> float``, filled by :func:`register_metric`."""


def register_metric(name: str) -> Callable[[PairedMetric], PairedMetric]:
    """Decorator: add a paired metric ``fn(pred, target) -> float`` to :data:`METRICS` under ``name``."""

    def decorator(fn: PairedMetric) -> PairedMetric:
        if name in METRICS:
            raise ConfigError(f"Metric name {name!r} is registered twice.", hint="Pick a unique name.")
        METRICS[name] = fn
        return fn

    return decorator


def get_metric(name: str) -> PairedMetric:
    """Look up a registered paired metric by name; unknown names raise ConfigError listing the choices."""
    if name not in METRICS:
        raise ConfigError(f"Unknown metric {name!r}.", hint=f"Choose one of: {', '.join(sorted(METRICS))}.")
    return METRICS[name]


# ---------------------------------------------------------------------------------------------
# Input checks
# ---------------------------------------------------------------------------------------------


def _as_batch(x: np.ndarray, name: str, dtype: type = np.float64) -> np.ndarray:
    """Validate one image or a batch and return it as (N, H, W, C) in [0, 1] floats of ``dtype``."""
    x = np.asarray(x)
    if x.ndim not in (3, 4) or x.shape[-1] not in (1, 3):
        raise InputImageError(
            f"{name} has shape {x.shape}; expected (H, W, C) or (N, H, W, C) with C = 1 or 3.",
            hint="Add a channel axis to grayscale images, e.g. img[..., None].",
        )
    if x.dtype == np.uint8:
        x = x.astype(dtype) / dtype(255.0)
    elif np.issubdtype(x.dtype, np.floating) or x.dtype == bool:
        x = x.astype(dtype, copy=False)
    else:
        raise InputImageError(f"{name} has dtype {x.dtype}.", hint="Pass floats in [0, 1] or uint8.")
    if x.size == 0 or not np.isfinite(x).all():
        raise InputImageError(f"{name} is empty or contains NaN/inf.", hint="Check the images fed to the metric.")
    return x[None] if x.ndim == 3 else x  # (N, H, W, C)


def _paired(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = _as_batch(a, "prediction"), _as_batch(b, "target")
    if a.shape != b.shape:
        raise InputImageError(
            f"Paired metric got shapes {a.shape} and {b.shape}.",
            hint="Compare images of identical size and channel count (resize the prediction first).",
        )
    return a, b


# ---------------------------------------------------------------------------------------------
# Paired metrics
# ---------------------------------------------------------------------------------------------


@register_metric("l1")
def l1(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute error over all pixels and channels: ``mean(|a - b|)``; 0 is perfect."""
    a, b = _paired(a, b)
    return float(np.mean(np.abs(a - b)))


@register_metric("psnr")
def psnr(a: np.ndarray, b: np.ndarray, data_range: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB: ``10 * log10(data_range**2 / mean((a - b)**2))``.

    ``inf`` for identical images. For a batch the per-image PSNRs are averaged (so one identical
    pair makes the mean ``inf``), which is what papers report as "mean PSNR".
    """
    a, b = _paired(a, b)
    mse = np.mean((a - b) ** 2, axis=(1, 2, 3))  # (N,)
    with np.errstate(divide="ignore"):
        values = 10.0 * np.log10(data_range**2 / mse)  # identical pair: mse 0 -> +inf
    return float(np.mean(values))


_SSIM_SIGMA = 1.5  # std of the Gaussian window, px (Wang et al. 2004)
_SSIM_RADIUS = 5  # window half-size, px: 11 x 11 window (as skimage: int(3.5 * sigma + 0.5))
_SSIM_K1 = 0.01  # luminance stabiliser, fraction of data_range
_SSIM_K2 = 0.03  # contrast stabiliser, fraction of data_range


def _ssim_channel(x: np.ndarray, y: np.ndarray, data_range: float) -> float:
    """Mean SSIM of two 2-D float64 arrays, border of ``_SSIM_RADIUS`` px excluded ("valid" windows)."""
    kernel = cv2.getGaussianKernel(2 * _SSIM_RADIUS + 1, _SSIM_SIGMA, cv2.CV_64F)  # (11, 1), sums to 1

    def blur(img: np.ndarray) -> np.ndarray:
        out = cv2.sepFilter2D(img, cv2.CV_64F, kernel, kernel, borderType=cv2.BORDER_REFLECT)
        return out[_SSIM_RADIUS:-_SSIM_RADIUS, _SSIM_RADIUS:-_SSIM_RADIUS]  # (H-10, W-10)

    mu_x, mu_y = blur(x), blur(y)
    var_x = blur(x * x) - mu_x**2  # population (weighted) variances, as in the paper
    var_y = blur(y * y) - mu_y**2
    cov_xy = blur(x * y) - mu_x * mu_y
    c1, c2 = (_SSIM_K1 * data_range) ** 2, (_SSIM_K2 * data_range) ** 2
    num = (2 * mu_x * mu_y + c1) * (2 * cov_xy + c2)
    den = (mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2)
    return float(np.mean(num / den))


@register_metric("ssim")
def ssim(a: np.ndarray, b: np.ndarray, data_range: float = 1.0) -> float:
    """Structural similarity (Wang, Bovik, Sheikh, Simoncelli 2004, IEEE TIP 13(4)).

    Per channel: ``SSIM = (2 mu_x mu_y + C1)(2 cov_xy + C2) / ((mu_x^2 + mu_y^2 + C1)(var_x + var_y + C2))``
    with local statistics from an 11 x 11 Gaussian window (sigma 1.5), C1 = (0.01 L)^2,
    C2 = (0.03 L)^2, L = ``data_range``; the map is averaged over windows lying fully inside the
    image, then over channels, then over the batch. Matches ``skimage.metrics.structural_similarity``
    with ``gaussian_weights=True, sigma=1.5, use_sample_covariance=False``. 1 is perfect.
    """
    a, b = _paired(a, b)
    n, h, w, c = a.shape
    if min(h, w) < 2 * _SSIM_RADIUS + 1:
        raise InputImageError(f"SSIM needs images of at least 11 x 11 px, got {h} x {w}.", hint="Use larger images.")
    per_image = [np.mean([_ssim_channel(a[i, ..., k], b[i, ..., k], data_range) for k in range(c)]) for i in range(n)]
    return float(np.mean(per_image))


# ---------------------------------------------------------------------------------------------
# Sliced Wasserstein distance (Karras et al. 2018, "Progressive Growing of GANs", Sec. 5 and App. D)
# ---------------------------------------------------------------------------------------------

_SWD_MIN_RES = 16  # coarsest pyramid level, px (smaller image side), as in the paper
_SWD_SCALE = 1e3  # reported values are multiplied by this, as in the paper's tables


def _laplacian_pyramid(img: np.ndarray, num_levels: int) -> list[np.ndarray]:
    """(H, W, C) float32 -> list of (h_l, w_l, C) levels, finest first; the last one is the Gaussian level."""
    c = img.shape[-1]
    levels, g = [], img
    for _ in range(num_levels - 1):
        down = cv2.pyrDown(g).reshape((g.shape[0] + 1) // 2, (g.shape[1] + 1) // 2, c)  # 5-tap binomial filter
        up = cv2.pyrUp(down, dstsize=(g.shape[1], g.shape[0])).reshape(g.shape)
        levels.append(g - up)  # band-pass detail at this resolution
        g = down
    levels.append(g)
    return levels


def _pyramid_sizes(h: int, w: int, levels: int | None, patch_size: int) -> list[tuple[int, int]]:
    """(H, W) of every pyramid level, finest first (each level halves, rounding up like cv2.pyrDown)."""
    sizes = [(h, w)]
    while True:
        nxt = ((sizes[-1][0] + 1) // 2, (sizes[-1][1] + 1) // 2)
        if (levels is None and min(nxt) < _SWD_MIN_RES) or (levels is not None and len(sizes) == levels):
            break
        sizes.append(nxt)
    if min(sizes[-1]) < patch_size:
        raise InputImageError(
            f"Images of {h} x {w} px are too small for {len(sizes)} pyramid level(s) of {patch_size} px patches.",
            hint="Use fewer levels, smaller patches or larger images.",
        )
    return sizes


def _sample_descriptors(
    images: np.ndarray, num_patches: int, num_levels: int, patch_size: int, rng: np.random.Generator
) -> list[np.ndarray]:
    """Draw ``num_patches`` random neighbourhoods per pyramid level from a (N, H, W, C) batch.

    Returns one (num_patches, C * p * p) float32 array per level, each normalised with the
    per-channel mean and std of that set (Karras et al.: "normalized w.r.t. each color channel").
    """
    n, c = images.shape[0], images.shape[-1]
    counts = np.full(n, num_patches // n)
    counts[rng.permutation(n)[: num_patches - counts.sum()]] += 1  # spread the remainder over random images
    per_level: list[list[np.ndarray]] = [[] for _ in range(num_levels)]
    for i in np.flatnonzero(counts):  # a much larger set leaves some images unused
        pyramid = _laplacian_pyramid(images[i], num_levels)
        for lvl, band in enumerate(pyramid):
            windows = np.lib.stride_tricks.sliding_window_view(band, (patch_size, patch_size), axis=(0, 1))
            ys = rng.integers(0, windows.shape[0], counts[i])
            xs = rng.integers(0, windows.shape[1], counts[i])
            per_level[lvl].append(windows[ys, xs])  # (k, C, p, p)
    out = []
    for chunks in per_level:
        desc = np.concatenate(chunks).reshape(num_patches, c, patch_size * patch_size)  # (K, C, p*p)
        desc = desc - desc.mean(axis=(0, 2), keepdims=True)
        desc = desc / (desc.std(axis=(0, 2), keepdims=True) + 1e-8)  # constant images stay finite
        out.append(desc.reshape(num_patches, -1))  # (K, C*p*p)
    return out


def _swd(a: np.ndarray, b: np.ndarray, num_projections: int, repeats: int, rng: np.random.Generator) -> float:
    """Sliced Wasserstein-1 between two equal-size point sets (K, D): mean |sorted projections| gap."""
    values = []
    for _ in range(repeats):
        dirs = rng.standard_normal((a.shape[1], num_projections)).astype(np.float32)  # (D, P)
        dirs /= np.linalg.norm(dirs, axis=0, keepdims=True)  # unit directions
        pa, pb = np.sort(a @ dirs, axis=0), np.sort(b @ dirs, axis=0)  # (K, P)
        values.append(float(np.mean(np.abs(pa - pb))))
    return float(np.mean(values))


def sliced_wasserstein(
    real: np.ndarray,
    fake: np.ndarray,
    *,
    patch_size: int = 7,  # side of the square neighbourhood, px (paper: 7)
    patches_per_image: int = 64,  # neighbourhoods per image and level, for the smaller set (paper: 128)
    num_projections: int = 128,  # random unit directions per repeat (paper: 128)
    repeats: int = 4,  # independent sets of directions, averaged (paper: 4)
    levels: int | None = None,  # pyramid levels; None = from the image size down to 16 px
    seed: int = 0,  # seeds patch locations and directions: same seed, same value
) -> dict:
    """Sliced Wasserstein distance between patch statistics of two image sets (Karras et al. 2018).

    Each image is split into a Laplacian pyramid (finest level = image size, coarsest >= 16 px,
    the coarsest being the low-pass Gaussian level). From every level, random 7 x 7 x C
    neighbourhoods are taken, normalised per channel with the set's own mean/std, and the two
    point clouds are compared by projecting on random unit directions, sorting each projection and
    averaging the absolute differences (the 1-D Wasserstein-1 distance), averaged over directions
    and repeats. Both sets get ``patches_per_image * min(N_real, N_fake)`` patches per level, so
    sets of different sizes compare fairly. Patch locations are drawn with the same seed for both
    sets, so identical sets give exactly 0. Because of the per-set normalisation, a global per-channel
    gain/offset per level is not measured: the metric looks at the shape of local structure.

    ``real``, ``fake``: (N, H, W, C) (or one (H, W, C) image), same H, W, C; N may differ.
    Returns ``{"swd_avg": float, "swd_by_level": {resolution_px: float}}``, values x 1e3 as in the
    paper; the key is the level's smaller side. Lower is better.
    """
    real = _as_batch(real, "real images", np.float32)  # (N_real, H, W, C); float32 halves memory
    fake = _as_batch(fake, "generated images", np.float32)  # (N_fake, H, W, C)
    if real.shape[1:] != fake.shape[1:]:
        raise InputImageError(
            f"Real images are {real.shape[1:]} but generated ones are {fake.shape[1:]} (H, W, C).",
            hint="Resize both sets to the same size and channel count before computing SWD.",
        )
    if min(patch_size, patches_per_image, num_projections, repeats) < 1 or (levels is not None and levels < 1):
        raise ConfigError("SWD parameters must be positive integers.", hint="Check patch_size, levels and counts.")
    sizes = _pyramid_sizes(real.shape[1], real.shape[2], levels, patch_size)
    num_patches = patches_per_image * min(real.shape[0], fake.shape[0])
    # Same sampling stream for both sets (common random numbers); separate stream for directions.
    desc_real = _sample_descriptors(real, num_patches, len(sizes), patch_size, np.random.default_rng([seed, 0]))
    desc_fake = _sample_descriptors(fake, num_patches, len(sizes), patch_size, np.random.default_rng([seed, 0]))
    dir_rng = np.random.default_rng([seed, 1])
    by_level = {
        int(min(size)): _SWD_SCALE * _swd(dr, df, num_projections, repeats, dir_rng)
        for size, dr, df in zip(sizes, desc_real, desc_fake)
    }
    return {"swd_avg": float(np.mean(list(by_level.values()))), "swd_by_level": by_level}


def colour_distance(real: np.ndarray, fake: np.ndarray, *, pixels: int = 20000, num_projections: int = 64,
                    repeats: int = 4, seed: int = 0) -> float:
    """How far apart the colours of two image sets are: sliced Wasserstein-1 between their RGB pixels.

    ``pixels`` random pixels are drawn from each set (same count, seeded), projected on random
    unit directions of colour space and compared sorted, as in :func:`sliced_wasserstein`, but
    without any normalisation, so a colour cast, washed-out contrast or wrong brightness all
    count (the patch SWD normalises each set and does not see them). Inputs: (N, H, W, C) uint8
    or floats in [0, 1]; the result is on the 0-255 scale, 0 for identical sets, lower is better.
    """
    real = _as_batch(real, "real images", np.float32)
    fake = _as_batch(fake, "generated images", np.float32)
    if real.shape[-1] != fake.shape[-1]:
        raise InputImageError(f"Real images have {real.shape[-1]} channels but generated ones {fake.shape[-1]}.",
                              hint="Compare RGB with RGB.")
    if min(pixels, num_projections, repeats) < 1:
        raise ConfigError("colour_distance parameters must be positive integers.", hint="Check pixels and counts.")
    # the same sampling stream for both sets (common random numbers): identical sets give exactly 0
    a = real.reshape(-1, real.shape[-1])[np.random.default_rng([seed, 2]).integers(0, real[..., 0].size, pixels)]  # (P, C)
    b = fake.reshape(-1, fake.shape[-1])[np.random.default_rng([seed, 2]).integers(0, fake[..., 0].size, pixels)]
    return 255.0 * _swd(a, b, num_projections, repeats, np.random.default_rng([seed, 3]))


REALISM_FLOOR_MAX = 256  # training photos compared with the held-out ones for the "real vs real" floors


def realism(held_out: np.ndarray, generated: np.ndarray, train: np.ndarray, seed: int = 1234,
            floor: dict[str, float] | None = None) -> dict[str, Any]:
    """Distances of ``generated`` pictures to the ``held_out`` photos, and the floors (lower is better).

    ``swd`` (patch structure; blind to global colour) and ``colour`` (RGB pixel distribution,
    0-255 scale; sees casts and washed-out contrast). ``*_real`` are the same distances between
    up to as many training photos and the held-out ones: what a generator that drew like the data
    would get. All arrays (N, S, S, 3) uint8. ``floor``: those two values from an earlier call with
    the same photos and as many pictures (they depend on nothing else), so they are not computed again.
    """
    if floor is None:
        pick = train[np.sort(np.random.default_rng(seed).permutation(len(train))[: min(REALISM_FLOOR_MAX, len(generated))])]
        floor = {"swd_real": round(sliced_wasserstein(held_out, pick, seed=0)["swd_avg"], 2),
                 "colour_real": round(colour_distance(held_out, pick), 2)}
    res = sliced_wasserstein(held_out, generated, seed=0)
    return {"swd": round(res["swd_avg"], 2), "swd_real": floor["swd_real"],
            "colour": round(colour_distance(held_out, generated), 2), "colour_real": floor["colour_real"],
            "swd_by_level": {str(k): round(v, 2) for k, v in res["swd_by_level"].items()},
            "generated": len(generated), "held_out": len(held_out)}


# ---------------------------------------------------------------------------------------------
# Sketch adherence
# ---------------------------------------------------------------------------------------------


def _distance_to(lines: np.ndarray) -> np.ndarray:
    """(H, W) bool -> (H, W) float32 Euclidean distance of every pixel to the nearest True pixel."""
    background = np.where(lines, 0, 255).astype(np.uint8)  # distanceTransform measures distance to zeros
    return cv2.distanceTransform(background, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)


def sketch_adherence(pred_lines: np.ndarray, ref_lines: np.ndarray, tolerance: int = 3) -> dict:
    """How well the lines of a generated picture follow the input sketch, with a pixel tolerance.

    ``precision`` = fraction of predicted line pixels with a reference line pixel within
    ``tolerance`` px (Euclidean, inclusive); ``recall`` = fraction of reference line pixels with a
    predicted one within ``tolerance`` px; ``f1`` = 2PR / (P + R) (0 when P + R = 0). This is the
    boundary-matching idea of the BSDS edge benchmark, with distance transforms instead of a
    one-to-one assignment. Edge cases: both maps empty -> all 1.0 (nothing to draw, nothing drawn);
    exactly one empty -> all 0.0.

    ``pred_lines``, ``ref_lines``: (H, W) bool, True = line (for a sketch: ``sketch < 128``).
    Returns ``{"precision": float, "recall": float, "f1": float}``.
    """
    pred, ref = np.asarray(pred_lines), np.asarray(ref_lines)
    if pred.dtype != bool or ref.dtype != bool or pred.ndim != 2 or pred.shape != ref.shape:
        raise InputImageError(
            f"Line maps must be two (H, W) bool arrays of equal shape, got {pred.shape} {pred.dtype} "
            f"and {ref.shape} {ref.dtype}.",
            hint="Convert sketches with `sketch < 128` (True = ink) and resize them to the same size.",
        )
    if tolerance < 0:
        raise ConfigError(f"tolerance must be >= 0 px, got {tolerance}.", hint="Use e.g. 3.")
    n_pred, n_ref = int(pred.sum()), int(ref.sum())
    if n_pred == 0 or n_ref == 0:
        value = 1.0 if n_pred == n_ref else 0.0
        return {"precision": value, "recall": value, "f1": value}
    precision = float(np.mean(_distance_to(ref)[pred] <= tolerance))
    recall = float(np.mean(_distance_to(pred)[ref] <= tolerance))
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}
