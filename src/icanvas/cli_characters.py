"""``icanvas characters``: learn, list and remove character styles (registered in :mod:`icanvas.cli`)."""

from __future__ import annotations

import shlex
import shutil
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from icanvas.cli_console import console
from icanvas.errors import ConfigError, ModelNotFoundError

METHODS = ("translation", "dreambooth-lora")  # --method choices: the CPU default, and LoRA on a Stable Diffusion folder

out = console()
characters = typer.Typer(no_args_is_help=True, rich_markup_mode="markdown",
                         help="Character styles for `icanvas stylize --style NAME`: learn one from a few pictures, list, remove.")


@characters.command("learn")
def learn(
    pictures: Annotated[Path, typer.Argument(help="Folder with 8-10 pictures of the character (PNG, JPEG or WebP).")],
    name: Annotated[str, typer.Option(help="Name of the new style: letters, digits, '-' and '_'.")],
    photos: Annotated[Optional[Path], typer.Option(help="Folder of portraits of people (8 or more) the style is fitted on, e.g. the photos you want to restyle.")] = None,
    base: Annotated[str, typer.Option(help="Style to start from (translation method).")] = "anime",
    steps: Annotated[int, typer.Option(help="Training steps (0 = the preset's; about 0.4 s each on 2 CPU cores).")] = 0,
    method: Annotated[str, typer.Option(help="translation (CPU, minutes) or dreambooth-lora (Stable Diffusion; GPU expected).")] = "translation",
    base_model: Annotated[Optional[Path], typer.Option(help="dreambooth-lora: local Stable Diffusion folder (diffusers layout).")] = None,
    replace: Annotated[bool, typer.Option(help="Overwrite a character of the same name.")] = False,
    set_: Annotated[Optional[list[str]], typer.Option("--set", help="Override a setting of the few-shot preset, e.g. --set run.batch_size=2.")] = None,
) -> None:
    """Learn a character style from a few pictures.

    Example: `icanvas characters learn my_character/ --name sky-knight --photos my_photos/`
    then `icanvas stylize photo.jpg --point 320,200 --style sky-knight -o out.png`.

    With `--method dreambooth-lora --base-model PATH` a LoRA of a local Stable Diffusion model is
    trained instead (`pip install 'icanvas[diffusion]'`; a GPU is expected).
    """
    from icanvas.training.characters import check_name, new_character_dir

    if method not in METHODS:
        raise ConfigError(f"Unknown --method {method!r}.", f"Choose one of: {', '.join(METHODS)}.")
    check_name(name)
    if method == "dreambooth-lora":
        if base_model is None:
            raise ConfigError("--method dreambooth-lora needs --base-model.", "Pass a local Stable Diffusion folder (with model_index.json).")
        from icanvas.training.dreambooth_lora import learn_lora

        res = learn_lora(pictures, name, base_model, new_character_dir(name, replace), **({"steps": steps} if steps else {}))
        out.print(f"Learned {name!r} (LoRA, {res.steps} steps, {res.seconds / 60:.1f} min): {res.folder}")
        return
    if photos is None:
        raise ConfigError("--photos is needed to learn a style.",
                          "Pass a folder with 8 or more portraits of people (the faces the style will be drawn on).")
    from icanvas.training.characters import learn_character

    command = "icanvas " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    res = learn_character(pictures, photos, name, base=base, steps=steps, overrides=set_ or [], replace=replace, command=command)
    out.print(f"Learned {name!r} in {res.seconds / 60:.1f} min ({res.steps} steps): {res.model_dir}")
    out.print(f"Before/after sheet: {res.sheet}")
    out.print(f"Use it: icanvas stylize PHOTO --point X,Y --style {name} -o out.png")


@characters.command("list")
def list_cmd() -> None:
    """List the styles `--style` accepts (bundled, learned, and the classical cartoon)."""
    from icanvas.catalog import list_models
    from icanvas.portrait.restyle import CLASSICAL_STYLE, METHOD

    table = Table("style", "source", "folder")
    for e in list_models():
        if e.method == METHOD:
            table.add_row(e.name, e.source, str(e.path))
    for sub in _lora_characters():
        table.add_row(sub.name, "characters (dreambooth-lora)", str(sub))
    table.add_row(CLASSICAL_STYLE, "built in", "-")
    out.print(table)


@characters.command("remove")
def remove(name: Annotated[str, typer.Argument(help="A learned character's name.")]) -> None:
    """Delete a learned character (its style folder and its training run)."""
    from icanvas.catalog import characters_dir
    from icanvas.training.characters import check_name

    check_name(name)
    target = characters_dir() / name
    if not target.is_dir():
        raise ModelNotFoundError(f"No learned character named {name!r}.", "See `icanvas characters list`.")
    shutil.rmtree(target)
    shutil.rmtree(characters_dir() / ".runs" / name, ignore_errors=True)
    out.print(f"Removed {name!r}.")


def _lora_characters() -> list[Path]:
    from icanvas.catalog import characters_dir

    root = characters_dir()
    return sorted(p for p in root.iterdir() if (p / "character.json").is_file()) if root.is_dir() else []
