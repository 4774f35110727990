"""Process-group set-up for ``torchrun`` (DistributedDataParallel: gloo on CPU, nccl on CUDA)."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def init_distributed(device: torch.device) -> DistInfo:
    """Join the process group when launched by torchrun (WORLD_SIZE > 1); otherwise single process."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistInfo()
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return DistInfo(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))


def barrier(info: DistInfo) -> None:
    if info.enabled:
        dist.barrier()


def shutdown(info: DistInfo) -> None:
    if info.enabled and dist.is_initialized():
        dist.destroy_process_group()


def weight_fingerprint(module: torch.nn.Module, dims: int = 16) -> torch.Tensor:
    """A (dims,) float64 projection of all parameters with a fixed random basis.

    Equal across processes exactly when the weights are equal (up to float rounding),
    and cheap to all-gather, unlike the weights themselves.
    """
    gen = torch.Generator().manual_seed(1234)
    out = torch.zeros(dims, dtype=torch.float64)
    for p in module.parameters():  # one parameter at a time keeps the random basis small
        flat = p.detach().double().flatten().cpu()
        out += torch.randn(dims, flat.numel(), generator=gen, dtype=torch.float64) @ flat
    return out


def gather_fingerprints(info: DistInfo, fp: torch.Tensor) -> list[list[float]]:
    """Every rank's fingerprint, in rank order (only meaningful on all ranks when distributed)."""
    if not info.enabled:
        return [fp.tolist()]
    out = [torch.zeros_like(fp) for _ in range(info.world_size)]
    dist.all_gather(out, fp)
    return [t.tolist() for t in out]
