"""How different the kinds look: the same people's drawings through every kind the studio offers.

    python benchmarks/kinds.py --data-root ../shared/data                      # the installed models
    python benchmarks/kinds.py --data-root ../shared/data --models RUN/model   # these first (e.g. one class-conditional model)

Takes the first ``--per-kind`` Quick, Draw! drawings of each kind, runs all of them through the
model of every kind (as the studio would, paint kept inside the outlines) and prints the mean
absolute difference, in grey levels of 255, between the pictures two kinds make of the same
drawing. A class-conditional model that ignores its kind label scores near 0.
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import numpy as np

from icanvas.eval.human import generate_human, render_human_set, strokes_file
from icanvas.serve.kinds import load_pipelines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-root", type=Path, default=Path("../shared/data"), help="folder with quickdraw/strokes")
    ap.add_argument("--models", type=Path, nargs="*", default=[], help="model folders to use before the installed ones")
    ap.add_argument("--per-kind", type=int, default=5, help="drawings taken from each kind")
    args = ap.parse_args()
    pipelines = load_pipelines(args.models)
    kinds = list(pipelines)
    strokes = args.data_root / "quickdraw" / "strokes"
    drawings = np.concatenate([render_human_set(strokes_file(strokes, k), limit=args.per_kind) for k in kinds])
    pictures = {k: generate_human(pipe, drawings, label)[1].astype(np.float32) for k, (pipe, label) in pipelines.items()}
    print(f"{len(drawings)} drawings ({args.per_kind} of each kind) through the model of every kind; "
          "mean |difference| between the pictures of two kinds, of 255\n")
    print("| kind | model | " + " | ".join(kinds) + " |")
    print("|---|---|" + "---:|" * len(kinds))
    for a in kinds:
        row = [f"{np.abs(pictures[a] - pictures[b]).mean():.1f}" if a != b else "-" for b in kinds]
        print(f"| {a} | {pipelines[a][0].info.path.name} | " + " | ".join(row) + " |")
    pairs = [np.abs(pictures[a] - pictures[b]).mean() for a, b in itertools.combinations(kinds, 2)]
    print(f"\nmean over kind pairs: {np.mean(pairs):.1f} (min {np.min(pairs):.1f}, max {np.max(pairs):.1f})")


if __name__ == "__main__":
    main()
