"""Metrics: hand-computed values, reference implementations and orderings on synthetic data."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
import scipy.linalg
from skimage.metrics import structural_similarity

from icanvas.errors import ConfigError, DatasetError, ICanvasError, InputImageError
from icanvas.eval.metrics import (
    METRICS,
    frechet_distance,
    gaussian_stats,
    get_metric,
    l1,
    psnr,
    register_metric,
    sketch_adherence,
    sliced_wasserstein,
    ssim,
)


def _shapes(n: int, size: int, seed: int) -> np.ndarray:
    """(n, size, size, 3) float32 images: coloured rectangles and discs on a gradient background."""
    rng = np.random.default_rng(seed)
    out = np.empty((n, size, size, 3), np.float32)
    ramp = np.linspace(0, 1, size, dtype=np.float32)
    for i in range(n):
        img = np.ascontiguousarray(np.stack([ramp[None, :] * np.ones((size, 1), np.float32)] * 3, -1) * rng.random(3))
        for _ in range(6):
            colour = tuple(float(c) for c in rng.random(3))
            x, y = (int(v) for v in rng.integers(0, size, 2))
            if rng.random() < 0.5:
                cv2.circle(img, (x, y), int(rng.integers(3, size // 4)), colour, -1)
            else:
                cv2.rectangle(img, (x, y), (x + int(rng.integers(4, 20)), y + int(rng.integers(4, 20))), colour, -1)
        out[i] = img
    return out


# --- l1 / psnr ------------------------------------------------------------------------------


def test_l1_and_psnr_by_hand_on_2x2():
    a = np.array([[[0.0], [0.5]], [[1.0], [0.25]]])  # (2, 2, 1)
    b = np.array([[[0.0], [0.0]], [[0.5], [0.25]]])
    # |diff| = 0, 0.5, 0.5, 0 -> mean 0.25; diff^2 = 0, .25, .25, 0 -> mse 0.125
    assert l1(a, b) == pytest.approx(0.25)
    assert psnr(a, b) == pytest.approx(10 * math.log10(1 / 0.125))  # 9.0309 dB
    assert psnr(a, b, data_range=2.0) == pytest.approx(10 * math.log10(4 / 0.125))


def test_psnr_identical_is_inf_and_batch_is_mean_of_per_image_values():
    a = np.zeros((2, 2, 3))
    assert psnr(a, a) == math.inf
    b = np.stack([np.full((2, 2, 3), 0.1), np.full((2, 2, 3), 0.01)])  # mse 0.01 and 0.0001: 20 and 40 dB
    assert psnr(b, np.zeros_like(b)) == pytest.approx(30.0)
    assert l1(b, np.zeros_like(b)) == pytest.approx(0.055)


def test_uint8_inputs_are_scaled_to_unit_range():
    a = np.full((2, 2, 3), 255, np.uint8)
    assert l1(a, np.zeros((2, 2, 3))) == pytest.approx(1.0)


def test_paired_metrics_reject_bad_shapes():
    with pytest.raises(InputImageError):
        l1(np.zeros((4, 4, 3)), np.zeros((4, 5, 3)))
    with pytest.raises(InputImageError):
        psnr(np.zeros((4, 4)), np.zeros((4, 4)))  # no channel axis
    with pytest.raises(InputImageError):
        ssim(np.zeros((8, 8, 3)), np.zeros((8, 8, 3)))  # smaller than the 11 x 11 window


# --- ssim -----------------------------------------------------------------------------------


def _skimage_ssim(a: np.ndarray, b: np.ndarray) -> float:
    return structural_similarity(
        a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, channel_axis=-1, data_range=1
    )


def test_ssim_identical_is_one():
    img = _shapes(1, 32, seed=0)[0]
    assert ssim(img, img) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("kind", ["random", "structured", "gray"])
def test_ssim_matches_skimage(kind):
    rng = np.random.default_rng(1)
    if kind == "random":
        a = rng.random((40, 33, 3))
    elif kind == "structured":
        a = _shapes(1, 48, seed=2)[0].astype(np.float64)
    else:
        a = _shapes(1, 48, seed=3)[0, :, :, :1].astype(np.float64)
    b = np.clip(cv2.GaussianBlur(a, (5, 5), 1.0).reshape(a.shape) + 0.05 * rng.standard_normal(a.shape), 0, 1)
    ours = ssim(a, b)
    assert ours == pytest.approx(_skimage_ssim(a, b), abs=1e-3)
    assert ours < 0.99  # the pair really differs, so the comparison is not trivial


def test_ssim_batch_is_mean_of_images():
    a = _shapes(2, 32, seed=4).astype(np.float64)
    b = np.clip(a + 0.1, 0, 1)
    assert ssim(a, b) == pytest.approx((ssim(a[0], b[0]) + ssim(a[1], b[1])) / 2)


# --- registry -------------------------------------------------------------------------------


def test_registry_holds_paired_metrics_and_rejects_duplicates():
    assert {"l1", "psnr", "ssim"} <= set(METRICS)
    assert get_metric("ssim") is ssim
    with pytest.raises(ConfigError, match="lpips"):
        get_metric("lpips")
    with pytest.raises(ConfigError):
        register_metric("l1")(lambda a, b: 0.0)
    assert METRICS["l1"] is l1


# --- sliced Wasserstein ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def swd_sets():
    real = _shapes(32, 64, seed=10)
    other = _shapes(32, 64, seed=11)  # same distribution, different images (the noise floor)
    # Distortions of independent images, as generated images are never the real ones.
    blurred = np.stack([cv2.GaussianBlur(x, (0, 0), 1.5) for x in other])
    noisy = np.clip(other + np.random.default_rng(0).normal(0, 0.08, other.shape), 0, 1).astype(np.float32)
    return real, other, blurred, noisy


def test_swd_identical_sets_give_zero(swd_sets):
    real = swd_sets[0]
    out = sliced_wasserstein(real, real.copy())
    assert out["swd_avg"] == pytest.approx(0.0, abs=1e-6)
    assert sorted(out["swd_by_level"]) == [16, 32, 64]  # 64 px down to 16 px


def test_swd_orders_same_distribution_below_distortions(swd_sets):
    real, other, blurred, noisy = swd_sets
    same, blur, noise = (sliced_wasserstein(real, x) for x in (other, blurred, noisy))
    assert 0 < same["swd_avg"] < blur["swd_avg"] < noise["swd_avg"]
    # The finest level sees lost or added detail most clearly.
    assert blur["swd_by_level"][64] > 1.5 * same["swd_by_level"][64]
    assert noise["swd_by_level"][64] > 3 * same["swd_by_level"][64]


def test_swd_deterministic_per_seed_and_allows_different_counts(swd_sets):
    real, other = swd_sets[0], swd_sets[1][:10]
    first = sliced_wasserstein(real, other, seed=3)
    assert sliced_wasserstein(real, other, seed=3) == first
    assert sliced_wasserstein(real, other, seed=4)["swd_avg"] != first["swd_avg"]
    assert np.isfinite(first["swd_avg"])


def test_swd_levels_and_errors(swd_sets):
    real = swd_sets[0]
    out = sliced_wasserstein(real[:4], real[4:8], levels=2, patches_per_image=8)
    assert sorted(out["swd_by_level"]) == [32, 64]
    gray = sliced_wasserstein(real[:4, ..., :1], real[4:8, ..., :1], patches_per_image=8)
    assert len(gray["swd_by_level"]) == 3
    with pytest.raises(InputImageError):
        sliced_wasserstein(real, real[:, :32, :32])
    with pytest.raises(InputImageError):
        sliced_wasserstein(real, real, levels=5)  # 64 -> 4 px is smaller than a 7 px patch


# --- sketch adherence -----------------------------------------------------------------------


def _hline(row: int, start: int = 10, stop: int = 50, size: int = 64) -> np.ndarray:
    m = np.zeros((size, size), bool)
    m[row, start:stop] = True
    return m


def test_adherence_tolerance_accepts_small_shift_and_rejects_large_one():
    ref = _hline(30)
    assert sketch_adherence(_hline(32), ref, tolerance=3) == {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert sketch_adherence(_hline(36), ref, tolerance=3) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    assert sketch_adherence(_hline(32), ref, tolerance=0)["f1"] == 0.0


def test_adherence_half_missing():
    # Two far-apart reference lines, only one drawn: recall exactly 1/2, precision 1.
    ref = _hline(10) | _hline(50)
    out = sketch_adherence(_hline(10), ref, tolerance=3)
    assert out["precision"] == 1.0 and out["recall"] == 0.5
    assert out["f1"] == pytest.approx(2 * 0.5 / 1.5)
    # Half of one 40 px line drawn: the 3 px tolerance also covers 3 px past its end -> 23/40.
    out = sketch_adherence(_hline(30, 10, 30), _hline(30, 10, 50), tolerance=3)
    assert out["precision"] == 1.0 and out["recall"] == pytest.approx(23 / 40)


def test_adherence_extra_strokes_lower_precision_only():
    ref = _hline(30)
    pred = _hline(30) | _hline(5)  # a spurious stroke as long as the real one
    out = sketch_adherence(pred, ref)
    assert out["recall"] == 1.0 and out["precision"] == 0.5


def test_adherence_edge_cases_and_errors():
    empty = np.zeros((16, 16), bool)
    line = _hline(8, 2, 12, size=16)
    assert sketch_adherence(empty, empty) == {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert sketch_adherence(empty, line)["f1"] == 0.0
    assert sketch_adherence(line, empty)["f1"] == 0.0
    with pytest.raises(InputImageError, match="sketch < 128"):
        sketch_adherence(line.astype(np.uint8), line)
    with pytest.raises(InputImageError):
        sketch_adherence(line, line[:8])


# --- Fréchet distance -----------------------------------------------------------------------


def test_frechet_identical_is_zero():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 5))
    mu, sigma = gaussian_stats(x)
    assert frechet_distance(mu, sigma, mu, sigma) == pytest.approx(0.0, abs=1e-8)


def test_frechet_mean_shift_only():
    sigma = np.array([[2.0, 0.3], [0.3, 1.0]])
    mu1, mu2 = np.array([1.0, 2.0]), np.array([4.0, -2.0])
    assert frechet_distance(mu1, sigma, mu2, sigma) == pytest.approx(25.0)


def test_frechet_diagonal_closed_form():
    a, b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 0.25])
    expected = np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)  # 1 + 1 + 6.25
    assert frechet_distance(np.zeros(3), np.diag(a), np.zeros(3), np.diag(b)) == pytest.approx(expected)
    assert expected == pytest.approx(8.25)


def test_frechet_non_commuting_2x2_closed_form():
    # For 2x2: Tr sqrt(M) = sqrt(Tr M + 2 sqrt(det M)) when M = S1 S2 has non-negative eigenvalues.
    s1, s2 = np.array([[2.0, 1.0], [1.0, 2.0]]), np.array([[1.0, 0.0], [0.0, 3.0]])
    m = s1 @ s2
    tr_sqrt = math.sqrt(np.trace(m) + 2 * math.sqrt(np.linalg.det(m)))
    expected = np.trace(s1) + np.trace(s2) - 2 * tr_sqrt
    assert frechet_distance(np.zeros(2), s1, np.zeros(2), s2) == pytest.approx(expected, rel=1e-9)


def test_frechet_from_samples_converges_to_analytic_value():
    rng = np.random.default_rng(5)
    q, _ = np.linalg.qr(rng.standard_normal((4, 4)))  # shared eigenvectors: a closed form exists
    a, b = np.array([1.0, 2.0, 0.5, 3.0]), np.array([2.0, 0.5, 0.5, 1.0])
    mu1, mu2 = np.zeros(4), np.array([0.5, 0.0, -0.5, 1.0])
    analytic = float(np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2))
    s1, s2 = q @ np.diag(a) @ q.T, q @ np.diag(b) @ q.T
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(analytic, rel=1e-8)
    errors = []
    for n in (200, 20000):
        x1 = rng.multivariate_normal(mu1, s1, n)
        x2 = rng.multivariate_normal(mu2, s2, n)
        errors.append(abs(frechet_distance(*gaussian_stats(x1), *gaussian_stats(x2)) - analytic))
    assert errors[1] < 0.05 * analytic
    assert errors[1] < errors[0]


def test_frechet_singular_covariances_stay_finite():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((5, 20))  # 5 samples in 20-d: rank-4 covariance
    mu, sigma = gaussian_stats(x)
    assert frechet_distance(mu, sigma, mu, sigma) == pytest.approx(0.0, abs=1e-4)
    y = rng.standard_normal((5, 20)) + 1.0
    d = frechet_distance(mu, sigma, *gaussian_stats(y))
    assert np.isfinite(d) and d > 10.0  # mean shift alone contributes about 20


def test_frechet_regularises_once_when_square_root_is_unusable(monkeypatch):
    real_sqrtm, calls = scipy.linalg.sqrtm, []

    def flaky_sqrtm(a):  # first call fails like a numerically singular product would
        calls.append(a.copy())
        return np.full_like(a, np.nan) if len(calls) == 1 else real_sqrtm(a)

    monkeypatch.setattr(scipy.linalg, "sqrtm", flaky_sqrtm)
    a, b = np.array([1.0, 4.0]), np.array([4.0, 1.0])
    value = frechet_distance(np.zeros(2), np.diag(a), np.zeros(2), np.diag(b))
    assert len(calls) == 2
    offset = calls[1][0, 0] - 4.0  # (1 + e)(4 + e) - 4 = 5e + e^2 on the diagonal
    assert 0 < offset < 1e-4
    assert value == pytest.approx(2.0, abs=1e-4)  # (1 - 2)^2 + (2 - 1)^2

    monkeypatch.setattr(scipy.linalg, "sqrtm", lambda a: np.full_like(a, np.nan))
    with pytest.raises(ICanvasError, match="not finite"):
        frechet_distance(np.zeros(2), np.diag(a), np.zeros(2), np.diag(b))


def test_gaussian_stats_shapes_and_errors():
    mu, sigma = gaussian_stats(np.array([[0.0], [2.0]]))
    assert mu.shape == (1,) and sigma.shape == (1, 1) and sigma[0, 0] == pytest.approx(2.0)  # unbiased
    with pytest.raises(DatasetError):
        gaussian_stats(np.zeros((1, 3)))


def test_colour_distance_sees_casts_that_patch_swd_does_not():
    import numpy as np

    from icanvas.eval.metrics import colour_distance, sliced_wasserstein

    rng = np.random.default_rng(0)
    real = rng.integers(0, 256, (8, 32, 32, 3)).astype(np.uint8)
    assert colour_distance(real, real) == 0.0
    pink = np.clip(real.astype(int) * 0.5 + np.array([120, 60, 60]), 0, 255).astype(np.uint8)  # washed out, red cast
    noisy = np.clip(real.astype(int) + rng.integers(-3, 4, real.shape), 0, 255).astype(np.uint8)
    assert colour_distance(real, pink) > 20 * colour_distance(real, noisy)
    # the patch SWD normalises each set's colours, so the cast barely registers there
    assert sliced_wasserstein(real, pink)["swd_avg"] < 0.2 * colour_distance(real, pink)
