"""FID: a tiny TorchScript stand-in for the Inception file exercises loading, calling and errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from icanvas.errors import CheckpointError, InputImageError, MissingResourceError
from icanvas.eval.fid import EXPECTED_FILE, InceptionFeatures, compute_fid, fid_from_features


class _TinyDetector(torch.nn.Module):
    """Mimics the Inception file: forward(uint8 NCHW, return_features) -> (N, 8) features."""

    def __init__(self) -> None:
        super().__init__()
        with torch.random.fork_rng():  # fixed weights without touching the global generator
            torch.manual_seed(0)
            self.conv = torch.nn.Conv2d(3, 8, 3, padding=1)
            self.head = torch.nn.Linear(8, 4)

    def forward(self, x: torch.Tensor, return_features: bool = False) -> torch.Tensor:
        h = torch.relu(self.conv(x.to(torch.float32) / 127.5 - 1.0))  # (N, 8, H, W)
        feats = h.mean(dim=(2, 3))  # (N, 8)
        if return_features:
            return feats
        return self.head(feats)  # "logits", must not be used for FID


class _PlainDetector(torch.nn.Module):
    """Float-only extractor without the keyword, returning (N, 3, 1, 1)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=(2, 3), keepdim=True)


def _save(module: torch.nn.Module, path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.script(module).save(str(path))


@pytest.fixture(scope="module")
def detector_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("fid") / EXPECTED_FILE
    _save(_TinyDetector(), path)
    return path


def _images(n: int, seed: int, shift: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 200, (n, 16, 16, 3))
    return np.clip(base + shift, 0, 255).astype(np.uint8)


def test_features_shape_and_determinism(detector_file):
    net = InceptionFeatures(detector_file)
    imgs = _images(5, seed=0)
    feats = net(imgs)
    assert feats.shape == (5, 8) and feats.dtype == np.float64
    np.testing.assert_array_equal(net(imgs), feats)
    np.testing.assert_allclose(net(imgs[:2]), feats[:2], rtol=1e-6)
    assert InceptionFeatures(detector_file.parent)(imgs).shape == (5, 8)  # folder holding the file


def test_features_use_return_features_convention(detector_file):
    net = InceptionFeatures(detector_file)
    net(_images(2, seed=1))
    assert net._convention == (torch.uint8, True)


def test_other_call_conventions_are_handled(tmp_path):
    path = tmp_path / "plain.pt"
    _save(_PlainDetector(), path)
    net = InceptionFeatures(path)
    imgs = _images(3, seed=2)
    feats = net(imgs)
    assert feats.shape == (3, 3)
    np.testing.assert_allclose(feats, imgs.mean(axis=(1, 2)), rtol=1e-5)
    gray = InceptionFeatures(path)(imgs[..., :1])  # grayscale is repeated to 3 channels
    assert gray.shape == (3, 3) and np.allclose(gray[:, 0], gray[:, 2])


def test_fid_zero_for_same_set_and_grows_with_shift(detector_file):
    net = InceptionFeatures(detector_file)
    a = _images(64, seed=3)
    same = compute_fid(a, a, net, batch_size=16)
    assert same == pytest.approx(0.0, abs=1e-6)
    other = compute_fid(a, _images(64, seed=4), net, batch_size=16)
    shifted = compute_fid(a, _images(64, seed=3, shift=50), net)
    assert same < other < shifted
    assert shifted > 10 * max(other, 1e-9)


def test_fid_from_features_matches_mean_shift():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((500, 3))
    assert fid_from_features(x, x + np.array([3.0, 0.0, 4.0])) == pytest.approx(25.0)


def test_missing_file_names_expected_file_and_flag(tmp_path):
    for path in (None, tmp_path / "nope.pt", tmp_path):
        with pytest.raises(MissingResourceError) as info:
            InceptionFeatures(path)
        assert EXPECTED_FILE in info.value.hint and "--fid-features" in info.value.hint


def test_corrupt_or_non_torchscript_file_is_checkpoint_error(tmp_path):
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a zip archive")
    with pytest.raises(CheckpointError):
        InceptionFeatures(garbage)
    state_dict = tmp_path / "state.pt"
    torch.save({"w": torch.zeros(2)}, state_dict)  # a zip, but not TorchScript
    with pytest.raises(CheckpointError):
        InceptionFeatures(state_dict)


def test_bad_images_are_rejected(detector_file):
    net = InceptionFeatures(detector_file)
    with pytest.raises(InputImageError):
        net(np.zeros((2, 16, 16, 3), np.float32))
    with pytest.raises(InputImageError):
        compute_fid(np.zeros((2, 16, 16), np.uint8), np.zeros((2, 16, 16, 3), np.uint8), net)
