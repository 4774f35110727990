"""``icanvas recognize`` and ``icanvas doodles``: the recognizer's commands (registered in :mod:`icanvas.cli`).

Kept apart from ``cli.py`` so neither file grows past a readable size; errors are typed errors,
printed by :func:`icanvas.cli.main` like every other command's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from icanvas.cli_console import console
from icanvas.errors import ConfigError, ICanvasError

out = console()
err = console(stderr=True)


def recognize(
    drawings: Annotated[list[Path], typer.Argument(help="Drawings: black lines on white paper (PNG, JPEG, WebP), any size.")],
    top: Annotated[int, typer.Option(help="Guesses printed per drawing, most likely first.")] = 3,
    model: Annotated[Optional[str], typer.Option(help="Recognizer model folder or name (default: the bundled one).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object per drawing (one per line), for scripts.")] = False,
) -> None:
    """Guess what each drawing shows: its top guesses with their probabilities.

    A drawing that cannot be read (or holds no lines) is reported on stderr and the others are
    still guessed; the exit status is then 2.

    Example: `icanvas recognize shoe.png cat.png --top 3` prints `shoe.png: shoe 0.93, handbag 0.03, car 0.01`.
    With `--json`: `{"drawing": "shoe.png", "guesses": [{"label": "shoe", "prob": 0.93}, ...]}` per line.
    """
    from icanvas.catalog import find_model
    from icanvas.data.images import normalize_drawing, read_image
    from icanvas.pipelines.recognizer import Recognizer

    if top < 1:
        raise ConfigError(f"--top must be >= 1, got {top}.", "Use e.g. --top 3.")
    recognizer = Recognizer.from_pretrained(find_model(model or "recognizer"))
    failed = 0
    for path in drawings:
        try:
            guesses = recognizer.predict(normalize_drawing(read_image(path)).lines, top=top)
        except ICanvasError as e:
            failed += 1
            err.print(f"[bold red]error:[/bold red] {path}: {e.problem}" + (f" [yellow]{e.hint}[/yellow]" if e.hint else ""))
            if as_json:
                print(json.dumps({"drawing": str(path), "error": e.problem}), flush=True)
            continue
        if as_json:
            print(json.dumps({"drawing": str(path), "guesses": [{"label": label, "prob": round(p, 4)} for label, p in guesses]}),
                  flush=True)
        else:
            text = ", ".join(f"{label} {p:.2f}" for label, p in guesses)
            out.print(f"{path}: {text}", highlight=False, soft_wrap=True)
    if failed:
        raise typer.Exit(2)


def doodles(
    pairs: Annotated[list[Path], typer.Argument(help="Prepared pair folders of one kind (written by `icanvas prepare`).")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write LABEL.npy and doodles.json into (LABEL from --label).")],
    label: Annotated[str, typer.Option(help="Class name the doodles are written as, e.g. handbag.")],
    per_photo: Annotated[int, typer.Option(help="Doodles of the whole object drawn from each pair.")] = 2,
    heads: Annotated[int, typer.Option(help="Doodles of the face drawn from each pair whose photo shows a frontal face with two dark eye patches (a panda's).")] = 0,
    mask: Annotated[str, typer.Option(help="How the object is found: paper (product shots on white) or grabcut (a subject in a scene).")] = "paper",
    interior: Annotated[str, typer.Option(help="Strokes inside the outline: lines (the pair's sketch, simplified) or patches (the photo's dark patches).")] = "lines",
    max_interior: Annotated[int, typer.Option(help="Most strokes drawn inside the outline.")] = 6,
    level: Annotated[bool, typer.Option("--level", help="Turn each object so its long axis lies level (shoes, drawn from the side).")] = False,
    min_holes: Annotated[int, typer.Option(help="Skip pairs whose object has fewer holes than this (1 for handbags: the handle).")] = 0,
    round_holes: Annotated[bool, typer.Option("--round-holes", help="Draw holes as round ellipses (a handbag's handle as an arc).")] = False,
    seed: Annotated[int, typer.Option(help="Seed of the random choices.")] = 0,
) -> None:
    """Draw Quick, Draw!-style doodles of a kind from its prepared (sketch | photo) pairs, for the recognizer.

    Each doodle is the object's simplified outline plus a few inner strokes, drawn with a studio
    pen on the canvas and reduced to 28 x 28 as the recognizer reduces a drawing. The folder can
    then be passed to `icanvas train --config recognizer` as a second --data folder.

    Example: `icanvas doodles data/shoe_hed data/shoe_xdog --label shoe --out data/doodles`
    """
    from icanvas.data.doodles import DoodleOptions, make_doodles

    opts = DoodleOptions(label=label, per_photo=per_photo, heads=heads, mask=mask, interior=interior, max_interior=max_interior, level=level, min_holes=min_holes, round_holes=round_holes, seed=seed)
    report = make_doodles(pairs, out_dir, opts)
    out.print(f"Wrote {report.count} {label} doodles from {report.pairs} pairs to {report.path}"
              + (f", {report.heads} of them of a face" if heads else "")
              + (f" ({report.skipped} pairs skipped: no clear object, not the holes asked for, or no face when --heads was given)" if report.skipped else ""))
