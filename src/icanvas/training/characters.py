"""Learning a character style from a few pictures: few-shot fine-tuning of a style model.

The base style (by default the bundled ``anime`` model) is the starting point; its encoder's
first layers stay fixed (they read faces in photos), the rest of the generator, a fresh
discriminator and the patch projections learn from the 8-10 pictures. A few pictures are
easy to memorise, so the discriminator sees them through strong differentiable augmentation
(shifts, cutout, colour), and the training crops are zoomed and flipped at random. Photos of
people supply the faces to translate (PatchNCE keeps each person's structure). The run is an
ordinary translation run (run folder, samples, TensorBoard, checkpoints) and its model folder
is installed under :func:`icanvas.catalog.characters_dir`, where ``--style NAME`` finds it.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from icanvas.catalog import characters_dir, find_model
from icanvas.checkpoint import read_model_info
from icanvas.config import load_train_config, to_dict, train_config_from_dict
from icanvas.data.datasets import IMAGE_SUFFIXES
from icanvas.errors import ConfigError, DatasetError
from icanvas.sheets import grid, save_png
from icanvas.training.loop import run_training

MIN_PICTURES = 3  # fewer pictures of a character cannot define a style
MAX_PICTURES = 60  # more is not "a few": train a full run with `icanvas train --config anime` instead
MIN_PHOTOS = 8  # photos of people the style is fitted on
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")  # a character's name: a folder name on every system
PRESET = "character"  # the preset with the few-shot settings (configs/character.yaml)
SHEET_PHOTOS = 6  # photos on the before/after sheet


@dataclass(frozen=True)
class Learned:
    name: str
    model_dir: Path  # the installed style, characters_dir()/name
    run_dir: Path  # the training run (samples, metrics, checkpoint)
    seconds: float
    steps: int
    sheet: Path  # before/after sheet: photo | base style | learned style


def _images(folder: Path, what: str) -> list[Path]:
    if not folder.is_dir():
        raise DatasetError(f"{folder} is not a folder.", f"Pass a folder of {what} (PNG, JPEG or WebP).")
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)


def check_name(name: str) -> str:
    if not NAME_PATTERN.match(name):
        raise ConfigError(f"{name!r} cannot be a character's name.",
                          "Use 1-40 letters, digits, '-' or '_', starting with a letter or digit, e.g. --name sky-knight.")
    return name


def new_character_dir(name: str, replace: bool) -> Path:
    """Where the character ``name`` is installed; an error when one exists and ``replace`` is not set."""
    target = characters_dir() / check_name(name)
    if target.exists() and not replace:
        raise ConfigError(f"A character named {name!r} already exists ({target}).", "Choose another --name or add --replace.")
    return target


def learn_character(pictures: Path, photos: Path, name: str, *, base: str | Path = "anime", steps: int = 0,
                    run_dir: Path | None = None, overrides: list[str] | None = None, replace: bool = False,
                    command: str = "") -> Learned:
    """Fine-tune the style ``base`` towards the character in ``pictures``, fitted on ``photos``; install it as ``name``."""
    target = new_character_dir(name, replace)
    pics = _images(Path(pictures), "pictures of the character")
    if not MIN_PICTURES <= len(pics) <= MAX_PICTURES:
        raise DatasetError(f"{pictures} holds {len(pics)} pictures; a character is learned from {MIN_PICTURES}-{MAX_PICTURES}.",
                           "8-10 pictures of the character's face, each showing it clearly, work best.")
    if len(_images(Path(photos), "photos of people")) < MIN_PHOTOS:
        raise DatasetError(f"{photos} holds fewer than {MIN_PHOTOS} photos of people.",
                           "Pass --photos with portraits of people (the faces the style will be drawn on), e.g. the photos you want to restyle.")
    base_dir = find_model(base)
    info = read_model_info(base_dir)
    if info.method != "translation":
        raise ConfigError(f"--base {base} is a {info.method} model, not a character style.", "Start from a style, e.g. --base anime.")
    data = to_dict(load_train_config(PRESET, overrides or []))
    data["generator"] = to_dict(info.config)
    data["finetune"]["init_generator"] = str(base_dir.resolve())
    data["data"].update(domain_a=str(Path(photos).resolve()), domain_b=str(Path(pictures).resolve()), test_a="", test_b="")
    if steps:
        data["run"]["steps"] = steps
    cfg = train_config_from_dict(data)
    run_dir = Path(run_dir) if run_dir else characters_dir() / ".runs" / name
    if run_dir.exists():
        shutil.rmtree(run_dir)
    result = run_training(cfg, [Path(pictures)], run_dir, command=command)
    sheet = run_dir / "before_after.png"
    save_png(sheet, before_after(base_dir, result.model_dir, Path(photos)))
    staging = target.with_name(f".{name}.new")
    if staging.exists():
        shutil.rmtree(staging)
    shutil.copytree(result.model_dir, staging)
    shutil.copy2(sheet, staging / "before_after.png")
    if target.exists():
        shutil.rmtree(target)
    staging.rename(target)  # the style appears whole or not at all
    return Learned(name, target, run_dir, result.seconds, result.steps, sheet)


def before_after(base_dir: Path, learned_dir: Path, photos: Path, count: int = SHEET_PHOTOS) -> np.ndarray:
    """A sheet: rows of photo | base style | learned style, on the first ``count`` photos."""
    from icanvas.data.photos import read_photo_folder
    from icanvas.portrait.restyle import load_style_model

    before, after = load_style_model(base_dir, prefer_onnx=False), load_style_model(learned_dir, prefer_onnx=False)
    imgs, _ = read_photo_folder(photos, before.size, count)
    rows = [[img, before.restyle(img, None, None), after.restyle(img, None, None)] for img in imgs]
    return grid(rows, titles=["photo", base_dir.name, learned_dir.parent.name if learned_dir.name == "model" else learned_dir.name])
