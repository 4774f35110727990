"""Fréchet Inception Distance, only with a feature network the user has on disk.

FID (Heusel et al. 2017) fits a Gaussian to Inception-v3 pool features (2048-d) of real and of
generated images and reports their Fréchet distance. The network is not bundled and never
downloaded: the user passes the TorchScript file ``inception-2015-12-05.pt`` (the TensorFlow
Inception graph translated to TorchScript, as distributed with StyleGAN2-ADA and clean-fid)
through ``--fid-features PATH``. That module is called as ``net(images, return_features=True)``
on uint8-valued NCHW tensors of any size (it resizes to 299 px itself) and returns (N, 2048)
float32 features. Other TorchScript extractors work as long as they take an NCHW batch and return
one feature vector per image; the calling convention is found on the first batch.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from icanvas.errors import CheckpointError, InputImageError, MissingResourceError
from icanvas.eval.frechet import frechet_distance, gaussian_stats

EXPECTED_FILE = "inception-2015-12-05.pt"  # TorchScript Inception-v3 of StyleGAN2-ADA / clean-fid
FLAG = "--fid-features PATH"  # command-line flag that supplies the file

FeatureExtractor = Callable[[np.ndarray], np.ndarray]  # (N, H, W, 3) uint8 -> (N, D) float


def _missing(problem: str) -> MissingResourceError:
    return MissingResourceError(
        problem,
        hint=f"FID needs the TorchScript Inception network {EXPECTED_FILE} on disk (the file StyleGAN2-ADA and "
        f"clean-fid use); pass its path with {FLAG}, or leave FID out. Nothing is downloaded.",
    )


def _resolve_path(path: str | os.PathLike | None) -> Path:
    """The feature file: ``path`` itself, or ``path/inception-2015-12-05.pt`` when a folder is given."""
    if path is None or str(path) == "":
        raise _missing("No feature-extractor file was given for FID.")
    p = Path(path).expanduser()
    if p.is_dir():
        p = p / EXPECTED_FILE
    if not p.is_file():
        raise _missing(f"Feature-extractor file {p} does not exist.")
    return p


def _check_images(images: np.ndarray, name: str) -> np.ndarray:
    """Validate a uint8 batch; returns (N, H, W, 3), grayscale repeated to 3 channels."""
    x = np.asarray(images)
    if x.dtype != np.uint8 or x.ndim != 4 or x.shape[-1] not in (1, 3) or x.shape[0] == 0:
        raise InputImageError(
            f"{name} must be a non-empty uint8 (N, H, W, 3) array, got {x.dtype} {x.shape}.",
            hint="Convert float images with (img * 255).round().astype(np.uint8) and stack them.",
        )
    return np.repeat(x, 3, axis=-1) if x.shape[-1] == 1 else x


class InceptionFeatures:
    """Callable feature extractor around a local TorchScript network: (N, H, W, 3) uint8 -> (N, D).

    ``path``: the ``.pt`` file, or a folder holding ``inception-2015-12-05.pt``.
    ``device``: torch device to run on ("cpu", "cuda", ...).
    Raises MissingResourceError when the file is absent and CheckpointError when it is not a
    loadable TorchScript archive (e.g. a pickle such as StyleGAN3's ``.pkl`` copy of the network).
    """

    def __init__(self, path: str | os.PathLike | None, *, device: str | torch.device = "cpu") -> None:
        self.path = _resolve_path(path)
        self.device = torch.device(device)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)  # the distributed file is TorchScript
                module = torch.jit.load(str(self.path), map_location=self.device)
        except Exception as err:  # torch raises RuntimeError/ValueError/OSError for non-archives
            raise CheckpointError(
                f"{self.path} is not a TorchScript archive ({type(err).__name__}: {str(err).splitlines()[0]}).",
                hint=f"Pass the TorchScript file {EXPECTED_FILE} (a zip archive loadable with torch.jit.load) "
                f"with {FLAG}; pickled networks (.pkl) are not loaded.",
            ) from err
        self.module = module.eval()
        self._convention: tuple[torch.dtype, bool] | None = None  # (input dtype, pass return_features)

    def _forward(self, batch: torch.Tensor, dtype: torch.dtype, keyword: bool) -> torch.Tensor:
        x = batch.to(dtype)  # uint8 or float32, both in 0..255
        out = self.module(x, return_features=True) if keyword else self.module(x)
        if isinstance(out, (tuple, list)):
            out = out[0]
        return out.reshape(out.shape[0], -1)  # (N, D); (N, D, 1, 1) pool outputs flattened

    @torch.inference_mode()
    def __call__(self, images: np.ndarray) -> np.ndarray:
        """(N, H, W, 3) uint8 -> (N, D) float64 features, D = 2048 for the Inception file."""
        x = _check_images(images, "images")
        batch = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2))).to(self.device)  # (N, 3, H, W)
        if self._convention is None:
            self._convention = self._find_convention(batch)
        feats = self._forward(batch, *self._convention)
        if feats.shape[0] != x.shape[0] or not torch.isfinite(feats).all():
            raise CheckpointError(
                f"{self.path.name} returned features of shape {tuple(feats.shape)} for {x.shape[0]} images "
                "or non-finite values.",
                hint=f"Use {EXPECTED_FILE}, which returns one 2048-d vector per image.",
            )
        return feats.double().cpu().numpy()

    def _find_convention(self, batch: torch.Tensor) -> tuple[torch.dtype, bool]:
        """Try uint8 + ``return_features=True`` (StyleGAN2-ADA convention) first, then simpler calls."""
        errors: list[Exception] = []
        for dtype in (torch.uint8, torch.float32):
            for keyword in (True, False):
                try:
                    self._forward(batch[:1], dtype, keyword)
                    return dtype, keyword
                except Exception as err:  # TorchScript reports bad signatures and dtypes as RuntimeError
                    errors.append(err)
        first = str(errors[0]).strip().splitlines() or [""]  # error of the documented convention
        raise CheckpointError(
            f"{self.path.name} could not be called on an image batch ({type(errors[0]).__name__}: {first[-1]}).",
            hint=f"Use {EXPECTED_FILE}: called as net(uint8 NCHW images, return_features=True).",
        )


def fid_from_features(real_feats: np.ndarray, fake_feats: np.ndarray) -> float:
    """FID from two (N, D) feature arrays: Fréchet distance of their fitted Gaussians (N may differ)."""
    mu_r, sigma_r = gaussian_stats(real_feats)
    mu_f, sigma_f = gaussian_stats(fake_feats)
    return frechet_distance(mu_r, sigma_r, mu_f, sigma_f)


def extract_features(images: np.ndarray, extractor: FeatureExtractor, batch_size: int = 32) -> np.ndarray:
    """Run ``extractor`` over a uint8 (N, H, W, 3) array in batches -> (N, D) float64."""
    x = _check_images(images, "images")
    if batch_size < 1:
        raise InputImageError(f"batch_size must be >= 1, got {batch_size}.", hint="Use e.g. 32.")
    chunks = [np.asarray(extractor(x[i : i + batch_size]), dtype=np.float64) for i in range(0, len(x), batch_size)]
    return np.concatenate(chunks)  # (N, D)


def compute_fid(
    real_images: np.ndarray,
    fake_images: np.ndarray,
    extractor: FeatureExtractor,
    batch_size: int = 32,  # images per forward pass
) -> float:
    """FID between uint8 (N, H, W, 3) real and generated images, features from ``extractor``.

    ``extractor`` is usually an :class:`InceptionFeatures`. Published FIDs use 10k-50k images;
    with a few hundred the value is biased upwards and only comparable at equal counts.
    """
    real = extract_features(_check_images(real_images, "real images"), extractor, batch_size)
    fake = extract_features(_check_images(fake_images, "generated images"), extractor, batch_size)
    return fid_from_features(real, fake)
