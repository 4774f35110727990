"""Human test sets: real people's stroke drawings, drawn the way the studio's canvas draws them.

Models trained on edge maps tend to fail on lines people actually draw. These helpers turn
Quick, Draw! stroke files into sketches with the studio's pen (:mod:`icanvas.data.canvas`)
and run them through the full inference path (crop to the drawing, letterbox, redraw the
lines), exactly as a drawing sent from the studio is handled.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from icanvas.data.canvas import render_strokes
from icanvas.data.images import Drawing
from icanvas.data.quickdraw import read_strokes
from icanvas.errors import DatasetError

QUICKDRAW_NAMES = {"handbag": "purse", "character": "face"}  # product kind -> Quick, Draw! class name, where they differ
HUMAN_SIZE = 256  # px: side of the rendered human sketches
HUMAN_PEN = "medium"  # the studio's default pencil
HUMAN_MARGIN = 0.08  # paper around the drawing, fraction of the side


def strokes_file(strokes: str | Path, kind: str) -> Path:
    """The stroke file for ``kind``: ``strokes`` itself when it is a file, else ``<dir>/<class>.ndjson``."""
    path = Path(strokes)
    if path.is_file():
        return path
    name = QUICKDRAW_NAMES.get(kind, kind)
    found = path / f"{name}.ndjson"
    if not found.is_file():
        raise DatasetError(f"No stroke file for kind {kind!r} in {path} (looked for {found.name}).",
                           "Pass the folder of Quick, Draw! .ndjson files, or the file itself.")
    return found


def render_human_set(path: str | Path, size: int = HUMAN_SIZE, pen: str = HUMAN_PEN, limit: int = 0) -> np.ndarray:
    """Every drawing of a stroke file as a studio-style sketch: (N, size, size) uint8, 255 paper."""
    drawings = read_strokes(path)
    if limit:
        drawings = drawings[:limit]
    sketches = [render_strokes(d, size=size, pen=pen, margin=HUMAN_MARGIN) for d in drawings]
    sketches = [s for s in sketches if (s < 128).any()]
    if not sketches:
        raise DatasetError(f"{path} holds no drawings with strokes.", "Use a Quick, Draw! simplified .ndjson file.")
    return np.stack(sketches)


def as_drawing(sketch: np.ndarray) -> Drawing:
    """A rendered sketch as the pipeline's :class:`Drawing` (pencil only, no colours)."""
    h, w = sketch.shape
    return Drawing(lines=sketch, colors=np.zeros((h, w, 3), np.uint8), color_mask=np.zeros((h, w), bool), source="rendered strokes")


def generate_human(pipeline, sketches: np.ndarray, kind: str | None, batch: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Run sketches through the whole inference path.

    Returns the sketches as the model saw them, (N, S, S) uint8, and its outputs, (N, S, S, 3) uint8.
    """
    seen, outs = [], []
    for i in range(0, len(sketches), batch):
        chunk = [as_drawing(s) for s in sketches[i : i + batch]]
        for g in pipeline.run(chunk, [kind] * len(chunk)):
            seen.append(g.lines)
            outs.append(g.square)
    return np.stack(seen), np.stack(outs)
