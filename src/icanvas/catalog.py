"""Finding model folders by short name, and listing every available model.

Search order for a name: an existing folder path; then each folder in the environment
variable ``ICANVAS_MODEL_PATH`` (``os.pathsep``-separated); then the models bundled in the
package (``icanvas/bundled/<name>``); then the character styles the user learned
(``characters_dir()``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from icanvas.checkpoint import CONFIG_FILE, read_model_info
from icanvas.errors import ICanvasError, ModelNotFoundError

BUNDLED_DIR = Path(__file__).resolve().parent / "bundled"


@dataclass(frozen=True)
class ModelEntry:
    name: str
    method: str
    resolution: int
    kinds: tuple[str, ...]
    size_bytes: int
    path: Path
    source: str  # "bundled", "ICANVAS_MODEL_PATH", "characters" or "path"


def data_home() -> Path:
    """The user's iCanvas folder: ``ICANVAS_DATA_DIR``, else ``~/.local/share/icanvas``."""
    return Path(os.environ.get("ICANVAS_DATA_DIR") or Path.home() / ".local" / "share" / "icanvas")


def characters_dir() -> Path:
    """Where ``icanvas characters learn`` writes learned character styles (one model folder each)."""
    return data_home() / "characters"


def search_dirs() -> list[tuple[Path, str]]:
    extra = [Path(p) for p in os.environ.get("ICANVAS_MODEL_PATH", "").split(os.pathsep) if p]
    return [(p, "ICANVAS_MODEL_PATH") for p in extra] + [(BUNDLED_DIR, "bundled"), (characters_dir(), "characters")]


def find_model(name_or_path: str | Path) -> Path:
    """Folder of a model given by path or short name; clear error listing names otherwise."""
    p = Path(name_or_path)
    if (p / CONFIG_FILE).is_file():
        return p
    if p.exists() and p.is_dir():
        raise ModelNotFoundError(f"{p} is not a model folder: it has no {CONFIG_FILE}.", "Point --model at a folder written by 'icanvas train' (RUN_DIR/model).")
    for folder, _ in search_dirs():
        cand = folder / str(name_or_path)
        if (cand / CONFIG_FILE).is_file():
            return cand
    names = ", ".join(e.name for e in list_models()) or "none installed"
    raise ModelNotFoundError(f"No model named {str(name_or_path)!r}.", f"Available: {names}. Or pass a model folder path.")


def find_model_for(name: str | Path, method: str = "pix2pix") -> tuple[Path, str | None]:
    """Like :func:`find_model`, but a kind drawn by an installed model of ``method`` also works as a name.

    Returns the model folder and the kind to ask it for (None when ``name`` named the model
    itself): ``find_model_for("cat")`` finds the sketch model whose kinds include "cat".
    """
    try:
        return find_model(name), None
    except ModelNotFoundError:
        entries = list_models()
        for entry in entries:
            if str(name) in entry.kinds and entry.method == method:
                return entry.path, str(name)
        other = next((e for e in entries if str(name) in e.kinds), None)
        if other is not None:
            fitting = ", ".join(e.name for e in entries if e.method == method) or "none installed"
            raise ModelNotFoundError(f"{str(name)!r} is made by {other.name}, a {other.method} model, and this needs a {method} model.",
                                     f"{method} models: {fitting}.") from None
        raise


MAKES = {  # method -> what its models make, and the command that uses them
    "pix2pix": "pictures from drawings (icanvas generate)",
    "dcgan": "pictures from nothing (icanvas sample)",
    "recognizer": "guesses of what a drawing shows (icanvas recognize)",
    "translation": "character styles for photos (icanvas stylize --style)",
}


def require_method(folder: str | Path, method: str) -> None:
    """Raise a clear error when the model folder is not of ``method``: what it makes, and which models fit."""
    info = read_model_info(folder)
    if info.method == method:
        return
    fitting = ", ".join(e.name for e in list_models() if e.method == method) or "none installed"
    raise ModelNotFoundError(f"{Path(folder).name} is a {info.method} model: it makes {MAKES.get(info.method, info.method)}.",
                             f"{method} models, which make {MAKES.get(method, method)}: {fitting}.")


def _entry(path: Path, source: str) -> ModelEntry | None:
    try:
        info = read_model_info(path)
    except ICanvasError:
        return None
    size = sum(f.stat().st_size for f in path.iterdir() if f.is_file())
    return ModelEntry(path.name, info.method, info.config.image_size, tuple(info.kinds), size, path, source)


def list_models() -> list[ModelEntry]:
    """Every model folder in the search path (first one wins for a name)."""
    seen: dict[str, ModelEntry] = {}
    for folder, source in search_dirs():
        if not folder.is_dir():
            continue
        for sub in sorted(folder.iterdir()):
            if sub.name not in seen and (sub / CONFIG_FILE).is_file():
                entry = _entry(sub, source)
                if entry:
                    seen[sub.name] = entry
    return list(seen.values())
