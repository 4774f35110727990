"""``icanvas stylize``: redraw a person in a photo as a character (registered in :mod:`icanvas.cli`).

Kept apart from ``cli.py`` so neither file grows past a readable size; errors are raised as
typed errors and printed by :func:`icanvas.cli.main` like every other command's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from icanvas.cli_console import console
from icanvas.errors import ConfigError

OUTPUT_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")  # picture formats -o may name

out = console()


def stylize(
    photo: Annotated[Path, typer.Argument(help="Photo with a person in it: PNG, JPEG, WebP, BMP or GIF.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Picture to write (.png).")],
    point: Annotated[Optional[list[str]], typer.Option("--point", help="X,Y of a pixel on the person (repeat for more); --point=-X,Y marks a pixel that is not the person.")] = None,
    bg_point: Annotated[Optional[list[str]], typer.Option("--bg-point", help="X,Y of a pixel that is not the person (repeat for more).")] = None,
    box: Annotated[Optional[str], typer.Option(help="X0,Y0,X1,Y1 box around the person, pixels from the top-left corner.")] = None,
    style: Annotated[Optional[str], typer.Option(help="Character style (default: the bundled one); 'cartoon' is the classical look, no model.")] = None,
    inpaint: Annotated[str, typer.Option(help="Background fill: opencv (fast, smooth) or patchmatch (copies texture; pip install 'icanvas[patchmatch]').")] = "opencv",
    inpaint_model: Annotated[Optional[Path], typer.Option(help="LaMa TorchScript file (big-lama.pt) to fill the background with instead.")] = None,
    sam_encoder: Annotated[Optional[Path], typer.Option(help="SAM / MobileSAM image encoder (.onnx) to select the person with; needs --sam-decoder.")] = None,
    sam_decoder: Annotated[Optional[Path], typer.Option(help="SAM / MobileSAM mask decoder (.onnx); needs --sam-encoder.")] = None,
    debug: Annotated[Optional[Path], typer.Option(help="Folder for what each stage made: mask, background, crop, restyled, overlay (.png).")] = None,
) -> None:
    """Redraw the person in a photo as a character: select them, fill the background, restyle, paste back.

    Prints the time each stage took. Points and boxes are in pixels of the photo as it is shown (upright).

    Example: `icanvas stylize family.jpg --point 420,310 -o family_anime.png`

    Example: `icanvas stylize beach.jpg --box 120,40,520,700 --point=-300,650 --style cartoon --debug dbg/ -o beach_cartoon.png`
    """
    from icanvas.pipelines.stylize import STAGES, Stylize, debug_images, default_body
    from icanvas.portrait.fill import make_filler
    from icanvas.portrait.restyle import load_restyler
    from icanvas.portrait.select import default_selector, parse_box, parse_points
    from icanvas.portrait.stages import Prompt
    from icanvas.sheets import save_png

    if output.suffix.lower() not in OUTPUT_SUFFIXES:
        raise ConfigError(f"-o {output} is not a picture file name.", "End it with .png (or .jpg, .webp).")
    points = (*parse_points(point or []), *parse_points(bg_point or [], foreground=False))
    prompt = Prompt(points=points, box=parse_box(box) if box else None)
    filler = make_filler(inpaint, inpaint_model)
    selector = default_selector(sam_encoder, sam_decoder)
    restyler = load_restyler(style)
    pipe = Stylize(selector, filler, restyler, body=default_body(restyler))
    result = pipe(photo, prompt)
    save_png(output, result.image)
    if debug is not None:
        for name, img in debug_images(result, prompt).items():
            save_png(debug / name, img)
    h, w = result.image.shape[:2]
    body = "" if pipe.body is None else f" + {pipe.body.name} body" if result.face is not None else f"; no face found, so all {pipe.body.name}"
    out.print(f"{photo} -> {output}  ({w}x{h}; select {getattr(selector, 'name', '?')}, fill {filler.name}, "
              f"restyle {restyler.name}{body})" + (f"; stages in {debug}/" if debug is not None else ""))
    table = Table("stage", "ms")
    for stage in STAGES:
        table.add_row(stage, f"{result.timings_ms[stage]:.0f}")
    out.print(table)
