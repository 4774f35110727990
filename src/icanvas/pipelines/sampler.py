"""Sampler: pictures from nothing, made by an unconditional (DCGAN) generator.

A seed fixes the latent vectors (drawn with NumPy, the same on every machine), so
``sample(16, seed=7)`` gives the same pictures every time. The generators are small (a few
million parameters at 64 px) and run in PyTorch in milliseconds on a CPU.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import numpy as np
import torch
from torch import nn

from icanvas.catalog import require_method
from icanvas.checkpoint import ModelInfo, from_pretrained
from icanvas.errors import ConfigError
from icanvas.models.dcgan import latent_vectors, slerp
from icanvas.sheets import tensor_to_uint8

MAX_SAMPLES = 1024  # most pictures one call may ask for
BATCH = 64  # latents per forward pass


class Sampler:
    """Inference only: receives its generator and model description."""

    def __init__(self, generator: nn.Module, info: ModelInfo) -> None:
        if info.method != "dcgan":
            raise ConfigError(f"{info.path} is a {info.method} model, not one that makes pictures from nothing.",
                              "Pass a model trained with a dcgan preset (see 'icanvas models').")
        self.generator, self.info = generator.eval(), info
        self.size: int = info.config.image_size
        self.latent_dim: int = info.config.latent_dim
        self.kinds: list[str] = info.kinds

    @classmethod
    def from_pretrained(cls, folder: str | Path) -> "Sampler":
        require_method(folder, "dcgan")
        generator, info = from_pretrained(folder)
        return cls(generator, info)

    def latents(self, count: int, seed: int) -> np.ndarray:
        """(count, latent_dim) float32: the latent vectors of ``seed``."""
        return latent_vectors(count, self.latent_dim, seed)

    @torch.inference_mode()
    def generate(self, z: np.ndarray) -> np.ndarray:
        """(N, latent_dim) latents -> (N, S, S, 3) uint8 pictures."""
        z = np.asarray(z, np.float32)
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ConfigError(f"Latents must have shape (N, {self.latent_dim}), got {z.shape}.")
        out = [self.generator(torch.from_numpy(z[i : i + BATCH])).numpy() for i in range(0, len(z), BATCH)]
        return np.stack([tensor_to_uint8(x) for x in np.concatenate(out)]) if out else np.zeros((0, self.size, self.size, 3), np.uint8)

    def sample(self, count: int, seed: int) -> np.ndarray:
        """``count`` pictures (N, S, S, 3) uint8; the same seed gives the same pictures."""
        if not 1 <= count <= MAX_SAMPLES:
            raise ConfigError(f"Asked for {count} pictures.", f"Ask for 1 to {MAX_SAMPLES} at a time.")
        return self.generate(self.latents(count, seed))

    def interpolate(self, seed_a: int, seed_b: int, frames: int) -> np.ndarray:
        """``frames`` pictures on a smooth (spherical) path from the picture of ``seed_a`` to that of ``seed_b``."""
        if not 2 <= frames <= MAX_SAMPLES:
            raise ConfigError(f"Asked for {frames} frames.", f"Ask for 2 to {MAX_SAMPLES}.")
        a, b = self.latents(1, seed_a), self.latents(1, seed_b)
        return self.generate(np.concatenate([slerp(a, b, t) for t in np.linspace(0.0, 1.0, frames)]))

    def __call__(self, kind: str | None = None) -> np.ndarray:
        """One fresh picture (S, S, 3) uint8 from a random seed; ``kind`` is accepted for the studio's interface."""
        return self.sample(1, secrets.randbits(63))[0]
