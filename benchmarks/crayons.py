"""Do the crayons a child picks colour the picture? A table per model, kind and crayon.

    python benchmarks/crayons.py --model cat --model car --data-root ../shared/data --out reports/crayons

For every kind of each model, every drawing of the human test set (the Quick, Draw! stroke
drawings of that kind, drawn with the studio's pen) gets two scribbles of each of the studio's
10 crayons inside the drawn object (:mod:`icanvas.eval.crayons`) and goes through the studio's
inference path. A case is a hit when the picture's mean colour in the scribbled region has the
crayon's hue within 30 degrees (black: a dark region). "plain" is the same test on the picture
made without crayons: how often the picture already had that colour there (chance level).
Writes a contact sheet per kind (doodle, then the pictures for each crayon) and crayons.json.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from icanvas.catalog import find_model
from icanvas.data.canvas import CRAYONS
from icanvas.eval.crayons import crayon_drawing, crayon_hit
from icanvas.eval.human import as_drawing, render_human_set, strokes_file
from icanvas.pipelines.sketch_to_image import SketchToImage
from icanvas.sheets import grid, save_png

SHEET_ROWS = 6  # drawings per contact sheet


def run_kind(pipe: SketchToImage, kind: str, strokes: Path, seed: int) -> tuple[dict, list]:
    doodles = render_human_set(strokes_file(strokes, kind))
    rng = np.random.default_rng(seed)
    hits = {c: 0 for c in CRAYONS}
    plain_hits = {c: 0 for c in CRAYONS}
    rows = []
    for sketch in doodles:
        plain = pipe.run([as_drawing(sketch)], [kind])[0].image
        cases = [crayon_drawing(sketch, c, rng) for c in CRAYONS]
        made = pipe.run([c.drawing for c in cases], [kind] * len(cases))
        for case, g in zip(cases, made):
            hits[case.crayon] += crayon_hit(g.image, case.region, case.crayon)
            plain_hits[case.crayon] += crayon_hit(plain, case.region, case.crayon)
        if len(rows) < SHEET_ROWS:
            shown = [np.stack([sketch] * 3, -1)] + [g.image for g in made]
            rows.append(shown)
    n = len(doodles)
    return {"drawings": n, "hit": {c: hits[c] / n for c in CRAYONS}, "plain": {c: plain_hits[c] / n for c in CRAYONS},
            "hit_all": sum(hits.values()) / (n * len(CRAYONS)),
            "plain_all": sum(plain_hits.values()) / (n * len(CRAYONS))}, rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", action="append", required=True, help="model name or folder; repeat for several")
    ap.add_argument("--data-root", type=Path, default=Path("../shared/data"), help="folder with quickdraw/strokes")
    ap.add_argument("--kinds", nargs="*", help="kinds to test (default: every kind of each model)")
    ap.add_argument("--out", type=Path, default=Path("reports/crayons"))
    ap.add_argument("--seed", type=int, default=0, help="seed of the scribbles")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    strokes = args.data_root / "quickdraw" / "strokes"
    report: dict = {}
    print("| model | kind | " + " | ".join(CRAYONS) + " | all | plain (chance) |")
    print("|---|---|" + "---:|" * (len(CRAYONS) + 2))
    total = []
    for name in args.model:
        pipe = SketchToImage.from_pretrained(find_model(name))
        if not pipe.hints:
            print(f"| {name} | - | this model takes no crayons |")
            continue
        for kind in args.kinds or pipe.kinds or pipe.info.kinds:
            r, rows = run_kind(pipe, kind, strokes, args.seed)
            report[f"{name}:{kind}"] = r
            total.append((r["hit_all"], r["drawings"]))
            cells = " | ".join(f"{100 * r['hit'][c]:.0f}%" for c in CRAYONS)
            print(f"| {name} | {kind} | {cells} | **{100 * r['hit_all']:.0f}%** | {100 * r['plain_all']:.0f}% |", flush=True)
            folder = pipe.info.path if getattr(pipe.info, "path", None) else Path(name)
            tag = folder.parent.name if folder.name in ("model", "checkpoint") else folder.name  # a run's folder names it
            save_png(args.out / f"crayons_{tag}_{kind}.png", grid(rows, titles=["drawing", *CRAYONS]))
    if total:
        overall = sum(h * n for h, n in total) / sum(n for _, n in total)
        print(f"\nAll kinds: {100 * overall:.1f}% of cases follow the crayon.")
        report["all"] = overall
    (args.out / "crayons.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"Sheets and crayons.json in {args.out}")


if __name__ == "__main__":
    main()
