"""The ``icanvas`` command: prepare -> train -> generate -> evaluate -> export.

Every command has ``--help`` with a runnable example. Errors a user can cause print what was
wrong and what to do, without a traceback, and exit with status 2.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from icanvas.cli_characters import characters
from icanvas.cli_console import console, plain_metavars
from icanvas.cli_recognize import doodles, recognize
from icanvas.cli_serve import serve
from icanvas.cli_stylize import stylize
from icanvas.errors import ConfigError, ICanvasError

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode="markdown",
                  help="iCanvas: turn a child's sketch into a picture. Run `icanvas COMMAND --help` for examples.")
err = console(stderr=True)  # the terminal wraps long messages; paths are never split
out = console()


@app.command()
def prepare(
    photos_dir: Annotated[Path, typer.Argument(help="Folder of photos (or aligned pairs with --pairs-order).")],
    out_dir: Annotated[Path, typer.Argument(help="Dataset folder to write (train/, val/, manifest.json).")],
    size: Annotated[int, typer.Option(help="Side of the square images, px.")] = 256,
    edges: Annotated[str, typer.Option(help="Line extractor: xdog or canny; 'dataset' keeps an aligned set's own edges.")] = "xdog",
    remove_background: Annotated[bool, typer.Option("--remove-background", help="Cut the object out (GrabCut) before extracting lines.")] = False,
    background_init: Annotated[str, typer.Option(help="GrabCut start: border, center or auto.")] = "auto",
    pairs_order: Annotated[str, typer.Option(help="Import aligned pairs: sketch-photo or photo-sketch.")] = "",
    fit: Annotated[str, typer.Option(help="pad (keep the whole photo), crop (fill the square) or subject (the square around the object).")] = "pad",
    box: Annotated[str, typer.Option(help="Cut every photo to left,top,right,bottom (fractions) first, e.g. 0.2,0.25,0.8,0.85.")] = "",
    line_width: Annotated[int, typer.Option(help="Pen width of extracted lines at 256 px.")] = 2,
    val_fraction: Annotated[float, typer.Option(help="Share held out for validation.")] = 0.1,
    seed: Annotated[int, typer.Option(help="Seed of the split and random steps.")] = 0,
    kind: Annotated[str, typer.Option(help="What the photos show (default: folder name).")] = "",
    category: Annotated[str, typer.Option(help="Keep only this category of the source's manifest.csv.")] = "",
    limit: Annotated[int, typer.Option(help="Use at most N images (0 = all).")] = 0,
    data_terms: Annotated[str, typer.Option(help="Licence/terms of the source data, copied into model cards.")] = "",
    workers: Annotated[int, typer.Option(help="Worker processes (0 = all cores).")] = 0,
    preview: Annotated[Optional[Path], typer.Option(help="Also write a contact sheet PNG: photo / lines / sketchified lines.")] = None,
) -> None:
    """Turn a folder of photos into (sketch, photo) training pairs.

    Example: `icanvas prepare ../shared/data/photos/cat data/cat --remove-background --preview cat_sheet.png`
    """
    from icanvas.data.prepare import PrepareOptions, prepare_dataset, preview_sheet

    opts = PrepareOptions(size=size, edges=edges, remove_background=remove_background, background_init=background_init,
                          pairs_order=pairs_order, fit=fit, box=box, line_width=line_width, val_fraction=val_fraction, seed=seed,
                          kind=kind, category=category, limit=limit, data_terms=data_terms)
    report = prepare_dataset(photos_dir, out_dir, opts, workers=workers)
    out.print(f"Wrote {report.counts['train']} training and {report.counts['val']} validation pairs to {out_dir}"
              + (f" ({report.counts['skipped']} files skipped, see manifest.json)" if report.counts["skipped"] else ""))
    if preview:
        out.print(f"Contact sheet: {preview_sheet(out_dir, preview, seed=seed)}")


@app.command()
def train(
    config: Annotated[Optional[str], typer.Option(help="Preset YAML path or name (tiny, pix2pix-128, pix2pix-256, recognizer, ...).")] = None,
    data: Annotated[Optional[list[Path]], typer.Option(help="Prepared dataset folder (repeat for several kinds); recognizer: the Quick, Draw! bitmap folder.")] = None,
    run_dir: Annotated[Path, typer.Option("--out", help="Run folder to write.")] = Path("runs/latest"),
    set_: Annotated[Optional[list[str]], typer.Option("--set", help="Override a setting, e.g. --set run.steps=500.")] = None,
    resume: Annotated[bool, typer.Option(help="Continue the run in --out exactly where it stopped.")] = False,
    dry_run: Annotated[bool, typer.Option(help="Print the resolved config and data counts, then stop.")] = False,
    max_minutes: Annotated[float, typer.Option(help="Stop with a checkpoint after this long (0 = no limit); continue with --resume.")] = 0.0,
    stop_at: Annotated[int, typer.Option(help="Stop with a checkpoint at this step (0 = run to the end); continue with --resume.")] = 0,
) -> None:
    """Train a model from prepared data.

    Example: `icanvas train --config pix2pix-128 --data data/cat --out runs/cat --set run.steps=2000`

    Recognizer: `icanvas train --config recognizer --data ../shared/data/quickdraw/bitmaps --out runs/recognizer`

    Several processes: `torchrun --nproc_per_node=2 -m icanvas train --config tiny --data data/cat --out runs/ddp`
    """
    import yaml

    from icanvas.config import load_train_config, to_dict
    from icanvas.training.loop import load_run_config, run_training

    if resume and config is None:
        cfg = load_run_config(run_dir, set_ or [])
    elif config is None:
        raise ICanvasError("--config is required for a new run.", "Pass a preset, e.g. --config pix2pix-128.")
    else:
        cfg = load_train_config(config, set_ or [])
    if not data:
        raise ICanvasError("--data is required.", "Pass a folder written by 'icanvas prepare'.")
    if dry_run:  # the method's recipe loads the data exactly as training would, on the CPU
        import torch

        from icanvas.methods import get_method
        from icanvas.training.distributed import DistInfo

        out.print(yaml.safe_dump(to_dict(cfg), sort_keys=False))
        prepared = get_method(cfg.method).recipe().prepare(cfg, list(data), torch.device("cpu"), DistInfo())
        out.print(f"{prepared.overview}; {cfg.run.steps} steps of batch {cfg.run.batch_size}.")
        return
    command = "icanvas " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    result = run_training(cfg, list(data), run_dir, resume=resume, command=command,
                          stop_at=stop_at or None, max_minutes=max_minutes)
    what = "Model written to" if result.steps >= cfg.run.steps else f"Stopped at step {result.steps}; continue with --resume. Checkpoint:"
    out.print(f"{what} {result.model_dir} ({result.seconds / 60:.1f} min, "
                    f"waiting for data {100 * result.data_fraction:.1f}% of the time)")


@app.command()
def generate(
    inputs: Annotated[list[Path], typer.Argument(help="Drawings: PNG, JPEG or WebP, any size; a phone photo of a drawing on paper works too (the page is found and straightened).")],
    model: Annotated[str, typer.Option(help="Model name or a kind it draws (see 'icanvas models'), or a model folder.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Folder for the pictures, or a .png file for one drawing.")] = Path("out"),
    kind: Annotated[Optional[str], typer.Option(help="Kind to draw, for models that draw several.")] = None,
    backend: Annotated[str, typer.Option(help="auto (onnxruntime when installed), onnx, int8 (8-bit onnxruntime: faster, pictures a little different) or torch.")] = "auto",
    side_by_side: Annotated[bool, typer.Option(help="Also write drawing|picture pairs, both the same height.")] = False,
) -> None:
    """Turn drawings into pictures.

    Example: `icanvas generate --model cat my_cat.png -o pictures/` (or `-o cat.png` for one drawing)
    """
    from icanvas.catalog import find_model_for
    from icanvas.data.images import drawing_rgb, normalize_drawing, read_image
    from icanvas.pipelines.sketch_to_image import SketchToImage
    from icanvas.sheets import save_png, side_by_side

    one_file = output.suffix.lower() == ".png"
    if one_file and len(inputs) > 1:
        raise ConfigError(f"-o {output} is one file, and there are {len(inputs)} drawings.", "Give -o a folder for several drawings.")
    folder, implied = find_model_for(model)
    kind = kind or implied
    pipe = SketchToImage.from_pretrained(folder, backend=backend)
    failures = 0
    for path in inputs:
        try:
            res = pipe.run([normalize_drawing(read_image(path))], [kind])[0]
        except ICanvasError as e:
            failures += 1
            err.print(f"[red]{path}[/red]: {e}")
            continue
        target = output if one_file else output / f"{path.stem}.png"
        save_png(target, res.image)
        if side_by_side:
            save_png(target.with_name(f"{target.stem}_pair.png"), side_by_side(drawing_rgb(res.drawing), res.image))
        out.print(f"{path} -> {target}  ({res.drawing.source}; {pipe.backend.name})")
    if failures:
        raise typer.Exit(2)


@app.command()
def sample(
    model: Annotated[str, typer.Option(help="A picture-from-nothing (dcgan) model: name, a kind it makes, or a model folder.")],
    count: Annotated[int, typer.Option("-n", "--count", help="How many pictures.")] = 16,
    seed: Annotated[int, typer.Option(help="Seed of the latent vectors: the same seed gives the same pictures.")] = 0,
    output: Annotated[Path, typer.Option("-o", "--output", help="Folder for the pictures and grid.png.")] = Path("samples"),
    scale: Annotated[int, typer.Option(help="Enlarge each picture this many times (nearest neighbour) when writing.")] = 1,
) -> None:
    """Make pictures from nothing with an unconditional model; writes sample_000.png ... and grid.png.

    Example: `icanvas sample --model anime_face -n 16 --seed 7 -o samples/`
    """
    import numpy as np

    from icanvas.catalog import find_model_for
    from icanvas.pipelines.sampler import Sampler
    from icanvas.sheets import grid, save_png

    if not 1 <= scale <= 16:
        raise ICanvasError(f"--scale {scale} is out of range.", "Use 1 to 16.")
    folder, _ = find_model_for(model, method="dcgan")
    sampler = Sampler.from_pretrained(folder)
    imgs = sampler.sample(count, seed)  # (N, S, S, 3) uint8
    if scale > 1:
        imgs = imgs.repeat(scale, axis=1).repeat(scale, axis=2)
    for i, img in enumerate(imgs):
        save_png(output / f"sample_{i:03d}.png", img)
    cols = int(np.ceil(np.sqrt(len(imgs))))
    save_png(output / "grid.png", grid([list(imgs[r : r + cols]) for r in range(0, len(imgs), cols)], pad=2))
    out.print(f"{len(imgs)} pictures from {folder.name} (seed {seed}) -> {output}/sample_*.png, {output}/grid.png")


@app.command()
def evaluate(
    model: Annotated[str, typer.Option(help="Model name or folder.")],
    data: Annotated[Optional[list[Path]], typer.Option(help="Prepared dataset folder(s); their val/ split is used.")] = None,
    report_dir: Annotated[Path, typer.Option("--out", help="Report folder (metrics.json, index.html).")] = Path("report"),
    real_photos: Annotated[Optional[Path], typer.Option(help="Real photos for realism: a photo folder or a prepared dataset (its val photos). Default: the val targets.")] = None,
    human_sketches: Annotated[Optional[Path], typer.Option(help="Quick, Draw! strokes (.ndjson file or folder) drawn by people; evaluated instead of --data.")] = None,
    kind: Annotated[Optional[str], typer.Option(help="Kind to draw (class-conditional models) and to pick the stroke file.")] = None,
    split: Annotated[str, typer.Option(help="Split to evaluate.")] = "val",
    limit: Annotated[int, typer.Option(help="At most N pairs (0 = all).")] = 0,
    edges: Annotated[str, typer.Option(help="Line extractor used for sketch adherence.")] = "xdog",
    fid_features: Annotated[Optional[Path], typer.Option(help="Local TorchScript Inception (inception-2015-12-05.pt) to also report FID.")] = None,
    backend: Annotated[str, typer.Option(help="auto, int8, onnx or torch.")] = "auto",
) -> None:
    """Measure a model on held-out pairs: L1, PSNR, SSIM, realism (patch SWD), sketch adherence, optional FID.

    With --human-sketches it measures realism and adherence on drawings made by people,
    drawn with the studio's pen and run through the same steps as a drawing from the studio.

    Example: `icanvas evaluate --model runs/cat/model --data data/cat --out reports/cat`

    Example: `icanvas evaluate --model cat --human-sketches ../shared/data/quickdraw/strokes --kind cat --real-photos data/cat --out reports/cat-human`
    """
    from icanvas.catalog import find_model
    from icanvas.eval.report import evaluate_folder, load_photo_folder, run_backend, score, write_report
    from icanvas.pipelines.sketch_to_image import SketchToImage

    pipe = SketchToImage.from_pretrained(find_model(model), backend=backend)
    if human_sketches is not None:
        from icanvas.eval.human import generate_human, render_human_set, strokes_file

        if kind is None and pipe.kinds:
            raise ConfigError("--human-sketches needs --kind.", f"This model draws: {', '.join(pipe.kinds)}.")
        source = strokes_file(human_sketches, kind or (pipe.info.kinds or ["?"])[0])
        sketches, outputs = generate_human(pipe, render_human_set(source, limit=limit), kind)
        real = load_photo_folder(real_photos, pipe.size) if real_photos else None
        metrics = {"source": str(source), **score(sketches, outputs, targets=None, real=real, edges=edges)}
        write_report(report_dir, metrics, sketches, outputs, None, title=f"iCanvas human-drawing evaluation: {model} ({kind})")
        _print_metrics(metrics, report_dir)
        return
    if not data:
        raise ConfigError("Nothing to evaluate.", "Pass --data PREPARED_DIR (held-out pairs) or --human-sketches STROKES.")
    inputs = evaluate_folder(pipe, list(data), split, limit=limit)
    outputs = run_backend(pipe, inputs.sketches, inputs.labels)
    real = load_photo_folder(real_photos, pipe.size) if real_photos else inputs.targets
    extractor = None
    if fid_features is not None:
        from icanvas.eval.fid import InceptionFeatures

        extractor = InceptionFeatures(fid_features)
    metrics = score(inputs.sketches, outputs, targets=inputs.targets, real=real, edges=edges, fid_extractor=extractor)
    write_report(report_dir, metrics, inputs.sketches, outputs, inputs.targets, title=f"iCanvas evaluation: {model}")
    _print_metrics(metrics, report_dir)


def _print_metrics(metrics: dict, report_dir: Path) -> None:
    table = Table("metric", "value")
    for k, v in metrics.items():
        if isinstance(v, (int, float)):
            table.add_row(k, f"{v:.4f}")
    out.print(table)
    out.print(f"Report: {report_dir / 'index.html'}")


@app.command()
def export(
    model: Annotated[str, typer.Option(help="Model name or folder (a run's model/ or checkpoint/ folder).")],
    onnx: Annotated[Optional[Path], typer.Option(help="ONNX file to write.")] = None,
    folder: Annotated[Optional[Path], typer.Option(help="Model folder to write: a copy ready to ship (fp16 weights, card).")] = None,
    card: Annotated[Optional[Path], typer.Option(help="Markdown model card for --folder (default: the model's own card.md).")] = None,
    half: Annotated[bool, typer.Option(help="Store --folder weights as fp16 (loaded as fp32).")] = True,
    check: Annotated[bool, typer.Option(help="Compare onnxruntime with PyTorch on random input.")] = True,
) -> None:
    """Export a generator to ONNX, or copy it as a model folder ready to bundle.

    Example: `icanvas export --model runs/cat/model --onnx cat.onnx`

    Example: `icanvas export --model runs/cat/model --folder src/icanvas/bundled/cat --card cat_card.md`
    """
    from icanvas.catalog import find_model
    from icanvas.checkpoint import from_pretrained, save_pretrained
    from icanvas.runtime.onnx import export_onnx, onnx_parity

    if onnx is None and folder is None:
        raise ConfigError("Nothing to export.", "Pass --onnx FILE, --folder DIR, or both.")
    source = find_model(model)
    generator, info = from_pretrained(source)
    if folder is not None:
        card_file = card or source / "card.md"
        text = card_file.read_text(encoding="utf-8") if card_file.is_file() else f"# {folder.name}\n\nExported from {source}.\n"
        save_pretrained(generator, folder, method=info.method, config=info.config, meta=info.meta, card=text, half=half)
        size = sum(f.stat().st_size for f in folder.iterdir() if f.is_file())
        out.print(f"Wrote {folder} ({size / 2**20:.1f} MiB{', fp16 weights' if half else ''})")
    if onnx is None:
        return
    path = export_onnx(generator, info, onnx)
    msg = f"Wrote {path} ({path.stat().st_size / 2**20:.1f} MiB)"
    if check:
        msg += f"; max |onnxruntime - pytorch| = {onnx_parity(generator, info, path):.2e}"
    out.print(msg)


@app.command("models")
def models_cmd() -> None:
    """List every available model: name, method, resolution, size on disk, where it lives.

    Example: `icanvas models`
    """
    from icanvas.catalog import list_models

    table = Table("name", "method", "px", "kinds", "size", "where")
    entries = list_models()
    for e in entries:
        table.add_row(e.name, e.method, str(e.resolution), ", ".join(e.kinds), f"{e.size_bytes / 2**20:.1f} MiB", f"{e.path} ({e.source})")
    out.print(table if entries else "No models installed. Train one with 'icanvas train', or set ICANVAS_MODEL_PATH.")


@app.command()
def demo(
    work: Annotated[Path, typer.Option(help="Folder for the demo's data, run and pictures.")] = Path(".icanvas/demo"),
    photos: Annotated[Optional[Path], typer.Option(help="Photo folder (default: ../shared/data/photos/cat if present, else synthetic shapes).")] = None,
    steps: Annotated[int, typer.Option(help="Training steps.")] = 60,
) -> None:
    """Prepare a few photos, train the tiny preset briefly and generate a picture.

    Example: `icanvas demo --steps 60`
    """
    from icanvas.demo import run_demo

    run_demo(work, photos, steps, out)


app.command("serve")(serve)  # the drawing studio web app; lives in cli_serve.py
app.command("stylize")(stylize)  # a person in a photo -> a character; lives in cli_stylize.py
app.command("recognize")(recognize)  # what does a drawing show; lives in cli_recognize.py
app.command("doodles")(doodles)  # doodles of a kind from its photos, for the recognizer; lives in cli_recognize.py
app.add_typer(characters, name="characters")  # learn / list / remove character styles; lives in cli_characters.py


def main() -> None:
    try:
        command = typer.main.get_command(app)
        plain_metavars(command)
        rc = command.main(standalone_mode=False)
        if isinstance(rc, int) and rc:
            sys.exit(rc)
    except ICanvasError as e:
        err.print(f"[bold red]error:[/bold red] {e.problem}")
        if e.hint:
            err.print(f"[yellow]what to do:[/yellow] {e.hint}")
        sys.exit(2)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except typer.Abort:
        err.print("Aborted.")
        sys.exit(130)
    except KeyboardInterrupt:
        err.print("Interrupted; a training run can continue with --resume.")
        sys.exit(130)
    except Exception as e:  # usage errors (unknown command or option) arrive here in non-standalone mode
        # typer may bring its own copy of click, so recognise them by what they offer, not by class
        if callable(getattr(e, "show", None)) and isinstance(getattr(e, "exit_code", None), int):
            e.show()
            sys.exit(e.exit_code)
        raise
