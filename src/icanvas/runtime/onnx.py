"""ONNX export of generators and an onnxruntime backend with the same call shape as PyTorch's.

Backends take a float32 batch ``(B, C, S, S)`` (and int64 labels for class-conditional
models) and return ``(B, 3, S, S)`` float32 in [-1, 1]. ``generate`` and the studio use
onnxruntime when it is installed: at 256 px it is 2-3x faster than eager PyTorch on a CPU.
"""

from __future__ import annotations

import copy
import hashlib
import os
import threading
import warnings
from pathlib import Path
from typing import Protocol

import numpy as np
import torch
from torch import nn

from icanvas.checkpoint import WEIGHTS_FILE, ModelInfo
from icanvas.config import cache_dir
from icanvas.errors import CheckpointError
from icanvas.models.layers import fold_resize_upsampling

ONNX_FILE = "generator.onnx"
OPSET = 17  # ONNX operator set used for export


class Backend(Protocol):
    name: str

    def __call__(self, x: np.ndarray, label: np.ndarray | None = None) -> np.ndarray: ...


class _WithLabel(nn.Module):
    """Export wrapper giving class-conditional generators a fixed (x, label) signature."""

    def __init__(self, g: nn.Module) -> None:
        super().__init__()
        self.g = g

    def forward(self, x: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        return self.g(x, label)


def input_channels(cfg) -> int:
    """Channels of a generator's input: its image channels plus colour-hint channels (3 when the config has neither)."""
    return getattr(cfg, "in_channels", 3) + getattr(cfg, "hint_channels", 0)


EXPORT_VERSION = 2  # bumped when export_onnx writes a different graph for the same weights (cache key)


def export_onnx(generator: nn.Module, info: ModelInfo, path: str | Path, upsampling: str = "transposed") -> Path:
    """Write ``generator`` as ONNX with a dynamic batch axis (and dynamic height and width for a
    generator whose class says ``fully_convolutional = True``); returns the path. ``upsampling``:
    the form "resize" upsampling blocks are written in (:func:`fold_resize_upsampling`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    cfg = info.config
    size = cfg.image_size
    x = torch.zeros(1, input_channels(cfg), size, size)
    spatial = {2: "height", 3: "width"} if getattr(generator, "fully_convolutional", False) else {}
    conditional = getattr(cfg, "num_classes", 0) > 0
    generator = fold_resize_upsampling(copy.deepcopy(generator), upsampling)  # same numbers, fewer multiply-adds or int8-ready
    module = _WithLabel(generator) if conditional else generator
    args = (x, torch.zeros(1, dtype=torch.long)) if conditional else (x,)
    names = ["sketch", "label"] if conditional else ["sketch"]
    axes = {n: {0: "batch", **(spatial if n != "label" else {})} for n in names + ["image"]}
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    generator.eval()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, args, str(tmp), input_names=names, output_names=["image"], dynamic_axes=axes,
                          opset_version=OPSET, dynamo=False)
    os.replace(tmp, path)
    return path


class TorchBackend:
    name = "pytorch"

    def __init__(self, generator: nn.Module) -> None:
        self.generator = generator.eval()

    @torch.inference_mode()
    def __call__(self, x: np.ndarray, label: np.ndarray | None = None) -> np.ndarray:
        lab = torch.from_numpy(label) if label is not None else None
        return self.generator(torch.from_numpy(x), lab).numpy()


_arena_lock = threading.Lock()
_arena_shared: bool | None = None  # None: not tried yet in this process


def _share_cpu_arena(ort) -> bool:
    """Register one CPU memory arena for all sessions of this process (once); False if it cannot be.

    Each session otherwise grows an arena of its own to its largest batch: with the studio's
    five models that held ~300 MB more, at the same speed."""
    global _arena_shared
    with _arena_lock:
        if _arena_shared is None:
            try:
                info = ort.OrtMemoryInfo("Cpu", ort.OrtAllocatorType.ORT_ARENA_ALLOCATOR, 0, ort.OrtMemType.DEFAULT)
                ort.create_and_register_allocator(info, ort.OrtArenaCfg(0, -1, -1, -1))  # 0 / -1: onnxruntime's defaults
                _arena_shared = True
            except Exception:  # noqa: BLE001 - an older onnxruntime: each session keeps its own arena
                _arena_shared = False
        return _arena_shared


def open_session(path: str | Path, threads: int = 0, hint: str = "Delete it and export again."):
    """An onnxruntime CPU session on ``path`` sharing the process's memory arena; CheckpointError
    (with ``hint``) when the file is not a loadable ONNX model."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads  # 0 = onnxruntime's default (all cores)
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # idle threads sleep instead of spinning: a spinning pool burns a core after every call, which a
    # server needs for decoding, normalising and HTTP (same call time, ~30 % less CPU per batch)
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.add_session_config_entry("session.inter_op.allow_spinning", "0")
    if _share_cpu_arena(ort):  # one arena for every model of the process, not one each
        opts.add_session_config_entry("session.use_env_allocators", "1")
    try:
        return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    except Exception as e:  # noqa: BLE001 - onnxruntime raises its own untyped errors
        raise CheckpointError(f"{path} is not a loadable ONNX model ({e}).", hint) from e


class OnnxBackend:
    def __init__(self, path: str | Path, threads: int = 0, name: str = "onnxruntime") -> None:
        self.name = name
        self.session = open_session(path, threads)
        self.inputs = [i.name for i in self.session.get_inputs()]

    def __call__(self, x: np.ndarray, label: np.ndarray | None = None) -> np.ndarray:
        feed = {"sketch": x.astype(np.float32, copy=False)}
        if "label" in self.inputs:
            feed["label"] = (label if label is not None else np.zeros(len(x), np.int64)).astype(np.int64)
        return self.session.run(["image"], feed)[0]


def onnx_parity(generator: nn.Module, info: ModelInfo, path: str | Path) -> float:
    """Largest |onnxruntime - PyTorch| of the exported ``path`` on two random inputs of the model's size."""
    cfg = info.config
    x = np.random.default_rng(0).uniform(-1, 1, (2, input_channels(cfg), cfg.image_size, cfg.image_size)).astype(np.float32)
    label = np.zeros(2, np.int64) if getattr(cfg, "num_classes", 0) else None
    return float(np.abs(OnnxBackend(path)(x, label) - TorchBackend(generator)(x, label)).max())


def onnxruntime_available() -> bool:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def cache_path(info: ModelInfo, form: str = "") -> Path:
    """Where the ONNX file of ``info``'s weights (in another ``form``, e.g. "-int8v2") is kept in the cache."""
    digest = hashlib.sha256((info.path / WEIGHTS_FILE).read_bytes()).hexdigest()[:16]
    return cache_dir() / "onnx" / f"{digest}-e{EXPORT_VERSION}{form}.onnx"


def cached_onnx(generator: nn.Module, info: ModelInfo) -> Path:
    """The model's ONNX file: ``generator.onnx`` in its folder if present, else exported once into the cache."""
    local = info.path / ONNX_FILE
    weights = info.path / WEIGHTS_FILE
    if local.is_file() and local.stat().st_mtime >= weights.stat().st_mtime:
        return local
    target = cache_path(info)
    if not target.is_file():
        export_onnx(generator, info, target)
    return target
