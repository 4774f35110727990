"""Configuration machinery: frozen dataclasses loaded from YAML presets with ``--set`` overrides.

The config dataclasses themselves live with their method in :mod:`icanvas.methods` (one
module per method, shared sections in :mod:`icanvas.methods.common`); a model's own config
(e.g. ``UNetConfig``) is saved as ``config.json`` next to its weights, so loading a model
never needs the command line that trained it. This module keeps what every method shares:
validation helpers, (de)serialisation, overrides and preset lookup. Unknown keys and bad
values raise :class:`~icanvas.errors.ConfigError` naming the key and what is allowed.

The config classes can still be imported from here (``from icanvas.config import UNetConfig``);
they are looked up in the method modules on first use.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import types
import typing
from pathlib import Path
from typing import Any, Literal

import yaml

from icanvas.errors import ConfigError

FORMAT_VERSION = 1  # version of config.json / model folder layout


def cache_dir() -> Path:
    """Where derived files that can be made again are kept (ONNX exports, photo subjects): ``$ICANVAS_CACHE``,
    else ``~/.cache/icanvas``."""
    return Path(os.environ.get("ICANVAS_CACHE", Path.home() / ".cache" / "icanvas"))


def check(cond: bool, key: str, msg: str) -> None:
    """Raise a ConfigError naming ``key`` unless ``cond`` holds; ``msg`` says what is allowed."""
    if not cond:
        raise ConfigError(f"Bad value for '{key}': {msg}.", "Fix the preset or the --set override.")


def one_of(value: str, allowed: tuple[str, ...], key: str) -> None:
    check(value in allowed, key, f"{value!r} is not one of {', '.join(allowed)}")


_check, _one_of = check, one_of  # the names method modules used before these were public


def __getattr__(name: str) -> Any:
    """``from icanvas.config import UNetConfig``: a class defined in one of the method modules."""
    if name.startswith("__"):
        raise AttributeError(name)
    from icanvas.methods import method_modules

    for module_name in method_modules():
        module = importlib.import_module(module_name)
        value = module.__dict__.get(name)
        if isinstance(value, type) and value.__module__ == module_name:
            globals()[name] = value  # found once, then a plain attribute
            return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ----------------------------------------------------------------------------- (de)serialisation


def to_dict(cfg: Any) -> dict[str, Any]:
    """Plain nested dict (tuples become lists) for JSON / YAML."""

    def conv(v: Any) -> Any:
        if dataclasses.is_dataclass(v):
            return {f.name: conv(getattr(v, f.name)) for f in dataclasses.fields(v)}
        if isinstance(v, (tuple, list)):
            return [conv(x) for x in v]
        return v

    return conv(cfg)


def _coerce(value: Any, tp: Any, key: str) -> Any:
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigError(f"'{key}' must be a mapping of settings, got {value!r}.")
        return from_dict(tp, value, prefix=key + ".")
    if origin is Literal:
        if value not in typing.get_args(tp):
            raise ConfigError(f"'{key}' must be one of {typing.get_args(tp)}, got {value!r}.")
        return value
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None:
            return None
        return _coerce(value, args[0], key)
    if origin is tuple:
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"'{key}' must be a list, got {value!r}.")
        inner = typing.get_args(tp)[0]
        return tuple(_coerce(v, inner, key) for v in value)
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"'{key}' must be true or false, got {value!r}.")
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"'{key}' must be a whole number, got {value!r}.")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"'{key}' must be a number, got {value!r}.")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"'{key}' must be text, got {value!r}.")
        return value
    return value


def from_dict(cls: type, data: dict[str, Any], prefix: str = "") -> Any:
    """Build dataclass ``cls`` from a nested dict, rejecting unknown keys by name."""
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ConfigError(
            f"Unknown config key '{prefix}{unknown[0]}'.",
            f"Valid keys under '{prefix.rstrip('.') or 'top level'}': {', '.join(sorted(names))}.",
        )
    kwargs = {k: _coerce(v, hints[k], prefix + k) for k, v in data.items()}
    try:
        return cls(**kwargs)
    except TypeError as e:  # pragma: no cover - fields all have defaults
        raise ConfigError(f"Cannot build {prefix or cls.__name__}: {e}.") from e


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply ``key.sub=value`` strings (values parsed as YAML) to a nested dict copy."""
    out = yaml.safe_load(yaml.safe_dump(data)) or {}
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"Override {item!r} has no '='.", "Write --set section.key=value, e.g. run.steps=100.")
        key, raw = item.split("=", 1)
        parts = key.strip().split(".")
        node = out
        for p in parts[:-1]:
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                raise ConfigError(f"Override {item!r}: '{p}' is not a section.")
        node[parts[-1]] = yaml.safe_load(raw)
    return out


PRESET_DIR = Path(__file__).resolve().parents[2] / "configs"  # presets in a source checkout


def resolve_preset(path_or_name: str | Path) -> Path:
    """A preset path, or a bare name looked up in ``./configs`` and the project's ``configs/``."""
    p = Path(path_or_name)
    if p.is_file():
        return p
    for folder in (Path("configs"), PRESET_DIR):
        cand = folder / f"{p.stem}.yaml"
        if cand.is_file():
            return cand
    known = sorted(x.stem for x in PRESET_DIR.glob("*.yaml")) if PRESET_DIR.is_dir() else []
    raise ConfigError(f"Config {str(path_or_name)!r} not found.", f"Known presets: {', '.join(known) or 'none'}.")


def load_train_config(path_or_name: str | Path, overrides: list[str] | None = None) -> Any:
    """Load a training preset (YAML), apply overrides and validate it."""
    path = resolve_preset(path_or_name)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as e:
        raise ConfigError(f"{path} is not valid YAML: {e}.") from e
    if not isinstance(raw, dict):
        raise ConfigError(f"{path} must hold a mapping of settings.")
    return train_config_from_dict(apply_overrides(raw, overrides or []))


def train_config_from_dict(data: dict[str, Any]) -> Any:
    """The training config of the method named by ``data["method"]`` (default pix2pix), validated."""
    from icanvas.methods import get_method  # the method modules import this one

    return from_dict(get_method(data.get("method", "pix2pix")).train_config, data)


def replace(cfg: Any, **changes: Any) -> Any:
    """``dataclasses.replace`` re-running validation."""
    return dataclasses.replace(cfg, **changes)
