"""Fréchet distance between Gaussians (the core of FID), as small pure functions."""

from __future__ import annotations

import warnings

import numpy as np
import scipy.linalg

from icanvas.errors import DatasetError, ICanvasError

def gaussian_stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, D) features -> mean (D,) and unbiased covariance (D, D), float64 (as in Heusel et al. 2017)."""
    f = np.asarray(features, dtype=np.float64)
    if f.ndim != 2 or not np.isfinite(f).all():
        raise ICanvasError(f"Features must be a finite (N, D) array, got shape {f.shape}.", hint="Check the extractor.")
    if f.shape[0] < 2:
        raise DatasetError(f"Need at least 2 samples for a covariance, got {f.shape[0]}.", hint="Use more images.")
    return f.mean(axis=0), np.atleast_2d(np.cov(f, rowvar=False))


_SQRTM_TOL = 1e-3  # accepted relative residual / imaginary part of the matrix square root


def _trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray, eps: float) -> float:
    """Tr(sqrtm(sigma1 @ sigma2)), with the regularisation rule of :func:`frechet_distance`."""
    offset = 0.0
    for attempt in range(2):
        a = (sigma1 + offset * np.eye(len(sigma1))) @ (sigma2 + offset * np.eye(len(sigma2)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # singular-matrix warnings are handled by the checks below
            root = scipy.linalg.sqrtm(a)
        if np.isfinite(root).all():
            scale = max(1.0, float(np.abs(root.real).max()))
            residual = np.linalg.norm(root @ root - a) / max(np.linalg.norm(a), 1e-300)
            if np.abs(root.imag).max(initial=0.0) <= _SQRTM_TOL * scale and residual <= _SQRTM_TOL:
                return float(np.trace(root.real))
        if attempt == 0:
            mean_var = max(float(np.trace(sigma1) + np.trace(sigma2)) / (2 * len(sigma1)), 1e-12)
            offset = eps * mean_var
    if np.isfinite(root).all():  # still inaccurate after regularising: keep the real part, as FID tools do
        return float(np.trace(root.real))
    raise ICanvasError(
        "The covariance square root for the Fréchet distance is not finite.",
        hint="Use more images than feature dimensions, or check the features for degenerate values.",
    )


def frechet_distance(
    mu1: np.ndarray,
    sigma1: np.ndarray,
    mu2: np.ndarray,
    sigma2: np.ndarray,
    eps: float = 1e-6,  # relative diagonal offset used only when the plain square root is unusable
) -> float:
    """Squared Fréchet (2-Wasserstein) distance between N(mu1, sigma1) and N(mu2, sigma2).

    ``d^2 = |mu1 - mu2|^2 + Tr(sigma1 + sigma2 - 2 sqrtm(sigma1 sigma2))`` (Dowson & Landau 1982;
    FID of Heusel et al. 2017 when the Gaussians are fitted to Inception features).

    Numerical rule: ``scipy.linalg.sqrtm(sigma1 @ sigma2)`` is accepted when it is finite, its
    imaginary part is at most 1e-3 of its largest real entry (or 1e-3 absolute), and
    ``|X X - sigma1 sigma2|_F / |sigma1 sigma2|_F <= 1e-3``. Otherwise (near-singular covariances,
    e.g. fewer samples than dimensions) it is recomputed once with ``eps * m * I`` added to both
    covariances, ``m`` = mean diagonal of the two, and the real part is used. The result is clipped
    at 0 against round-off.
    """
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    s1, s2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    d = mu1.shape[0]
    if mu1.shape != (d,) or mu2.shape != (d,) or s1.shape != (d, d) or s2.shape != (d, d):
        raise ICanvasError(
            f"Fréchet distance got mu {mu1.shape}/{mu2.shape} and sigma {s1.shape}/{s2.shape}.",
            hint="Pass means (D,) and covariances (D, D) of the same feature size D.",
        )
    if not all(np.isfinite(x).all() for x in (mu1, mu2, s1, s2)):
        raise ICanvasError("Fréchet distance got NaN/inf statistics.", hint="Check the features for NaN/inf.")
    diff = mu1 - mu2
    value = diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * _trace_sqrt_product(s1, s2, eps)
    return max(float(value), 0.0)
