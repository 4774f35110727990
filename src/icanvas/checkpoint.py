"""Model folders: ``config.json`` + ``generator.safetensors`` + ``card.md``.

A model folder is all that inference needs; ``from_pretrained(path)`` rebuilds the module
from ``config.json`` alone. Training checkpoints add ``train_state.pt`` (optimisers, LR
schedule, step, RNG), which only ``--resume`` reads; nothing that serves models loads it.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from icanvas.config import FORMAT_VERSION, from_dict, to_dict
from icanvas.errors import CheckpointError, ConfigError, ModelNotFoundError
from icanvas.methods import get_method

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "generator.safetensors"
CARD_FILE = "card.md"
TRAIN_STATE_FILE = "train_state.pt"


@dataclass(frozen=True)
class ModelInfo:
    """What ``config.json`` says about a model besides its architecture."""

    path: Path
    method: str
    config: Any
    meta: dict[str, Any] = field(default_factory=dict)  # kinds, image size, training summary, ...

    @property
    def kinds(self) -> list[str]:
        return list(self.meta.get("kinds", []))


def unwrap(module: nn.Module) -> nn.Module:
    """Strip DistributedDataParallel and ``torch.compile`` wrappers."""
    while True:
        if hasattr(module, "module") and isinstance(module.module, nn.Module):
            module = module.module
        elif hasattr(module, "_orig_mod"):
            module = module._orig_mod
        else:
            return module


def _umask() -> int:
    """The process's umask, read without changing it (setting it to read it races other threads)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    return 0o022  # the usual default where /proc is not there


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a reader sees the old file or the whole new one, never a part."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # the permissions of a plainly written file, not mkstemp's owner-only ones
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def save_pretrained(
    module: nn.Module,
    folder: str | Path,
    *,
    method: str,
    config: Any,
    meta: dict[str, Any] | None = None,
    card: str | None = None,
    half: bool = False,
) -> Path:
    """Write a model folder. ``half`` stores fp16 weights (loaded back as fp32)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to("cpu").contiguous() for k, v in unwrap(module).state_dict().items()}
    if half:
        state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    doc = {"format_version": FORMAT_VERSION, "method": method, "model": to_dict(config), "meta": meta or {}}
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{WEIGHTS_FILE}.")
        os.close(fd)
        save_file(state, tmp, metadata={"format_version": str(FORMAT_VERSION), "method": method})
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp made it owner-only
        os.replace(tmp, folder / WEIGHTS_FILE)
        write_text_atomic(folder / CONFIG_FILE, json.dumps(doc, indent=2) + "\n")
        if card is not None:
            write_text_atomic(folder / CARD_FILE, card)
    except OSError as e:
        raise CheckpointError(f"Could not write the model to {folder}: {e.strerror or e}.", "Check free disk space and permissions.") from e
    return folder


def read_model_info(folder: str | Path) -> ModelInfo:
    """Parse and validate ``config.json`` of a model folder."""
    folder = Path(folder)
    cfg_path = folder / CONFIG_FILE
    if not folder.is_dir():
        raise ModelNotFoundError(f"Model folder {folder} does not exist.", "Run 'icanvas models' to list available models.")
    if not cfg_path.is_file():
        raise ModelNotFoundError(f"{folder} has no {CONFIG_FILE}.", "A model folder needs config.json and generator.safetensors.")
    try:
        doc = json.loads(cfg_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{cfg_path} is not valid JSON ({e}).", "The file is damaged; restore or retrain the model.") from e
    version = doc.get("format_version")
    if version != FORMAT_VERSION:
        raise CheckpointError(
            f"{cfg_path} has format version {version!r}; this iCanvas reads version {FORMAT_VERSION}.",
            "Upgrade iCanvas or re-export the model.",
        )
    method = doc.get("method")
    try:
        model_config = get_method(method).model_config
    except ConfigError as e:
        raise CheckpointError(f"{cfg_path} names unknown method {method!r}.", e.hint) from e
    try:
        config = from_dict(model_config, doc.get("model", {}), prefix="model.")
    except ConfigError as e:
        raise CheckpointError(f"{cfg_path}: {e}") from e
    return ModelInfo(path=folder, method=method, config=config, meta=doc.get("meta", {}))


def from_pretrained(folder: str | Path, *, device: str | torch.device = "cpu") -> tuple[nn.Module, ModelInfo]:
    """Rebuild a generator from a model folder, in eval mode, fp32."""
    info = read_model_info(folder)
    weights = info.path / WEIGHTS_FILE
    if not weights.is_file():
        raise ModelNotFoundError(f"{info.path} has no {WEIGHTS_FILE}.", "Copy the weights file into the folder or retrain.")
    try:
        state = load_file(str(weights), device="cpu")
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(f"{weights} cannot be read ({e}).", "The file is damaged or incomplete; restore or retrain the model.") from e
    module = get_method(info.method).build(info.config)
    state = {k: v.float() if v.is_floating_point() else v for k, v in state.items()}
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as e:
        raise CheckpointError(
            f"{weights} does not match the architecture in {CONFIG_FILE}: {str(e).splitlines()[0]}",
            "config.json and the weights come from different models.",
        ) from e
    return module.to(device).eval(), info

