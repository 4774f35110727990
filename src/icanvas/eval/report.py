"""``icanvas evaluate``: run a model over a prepared validation split and write a report.

``REPORT_DIR/metrics.json`` holds every number; ``REPORT_DIR/index.html`` shows them beside
a sketch | output | target grid (``grid.png``).
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from icanvas.data.datasets import load_pairs
from icanvas.data.edges import extract_lines
from icanvas.data.photos import read_photo_folder
from icanvas.errors import DatasetError
from icanvas.eval.metrics import METRICS, sketch_adherence, sliced_wasserstein
from icanvas.sheets import grid, save_png, tensor_to_uint8

GRID_ROWS = 12  # pairs shown in the report grid


@dataclass(frozen=True)
class EvalInputs:
    sketches: np.ndarray  # (N, S, S) uint8
    targets: np.ndarray | None  # (N, S, S, 3) uint8 or None (human doodles have no target)
    labels: np.ndarray  # (N,) int64


def run_backend(pipeline, sketches: np.ndarray, labels: np.ndarray | None = None, batch: int = 8) -> np.ndarray:
    """Generate for square sketches already at the model's size: (N, S, S) uint8 -> (N, S, S, 3) uint8."""
    outs = []
    for i in range(0, len(sketches), batch):
        x = (sketches[i : i + batch].astype(np.float32) / 127.5 - 1.0)[:, None]  # (B, 1, S, S)
        if pipeline.hints:
            x = np.concatenate([x, np.zeros((len(x), 4, *x.shape[2:]), np.float32)], axis=1)  # no colour given
        lab = labels[i : i + batch] if (labels is not None and pipeline.kinds) else None
        y = pipeline.backend(x, lab)
        outs += [tensor_to_uint8(t) for t in y]
    return np.stack(outs)


def load_photo_folder(folder: str | Path, size: int, limit: int = 0) -> np.ndarray:
    """Real photos for the realism metric: (N, S, S, 3) uint8, centre-cropped squares.

    A prepared dataset folder (one with ``manifest.json``) gives the photos of its val split,
    which are framed (and cut out) exactly as the model learned to draw them.
    """
    folder = Path(folder)
    if (folder / "manifest.json").is_file():
        photos = load_pairs([folder], "val", size).photos
        return photos[:limit] if limit else photos
    if not folder.is_dir():
        raise DatasetError(f"No real photos found in {folder}.", "Pass a folder of PNG/JPEG photos with --real-photos.")
    return read_photo_folder(folder, size, limit)[0]


def score(
    sketches: np.ndarray,
    outputs: np.ndarray,
    *,
    targets: np.ndarray | None,
    real: np.ndarray | None,
    edges: str = "xdog",
    tolerance: int = 3,
    fid_extractor=None,
) -> dict:
    """All metrics for one set of outputs. Images are uint8; metrics see floats in [0, 1]."""
    result: dict = {"count": int(len(outputs))}
    if targets is not None:
        a, b = outputs.astype(np.float32) / 255.0, targets.astype(np.float32) / 255.0
        for name, fn in METRICS.items():
            vals = [fn(a[i], b[i]) for i in range(len(a))]
            finite = [v for v in vals if np.isfinite(v)]
            result[name] = float(np.mean(finite)) if finite else float("inf")
    if real is not None:
        swd = sliced_wasserstein(real.astype(np.float32) / 255.0, outputs.astype(np.float32) / 255.0)
        result["swd"] = swd["swd_avg"]
        result["swd_by_level"] = swd["swd_by_level"]
    adh = [sketch_adherence(extract_lines(o, edges) < 128, s < 128, tolerance=tolerance) for o, s in zip(outputs, sketches)]
    for k in ("precision", "recall", "f1"):
        result[f"adherence_{k}"] = float(np.mean([d[k] for d in adh]))
    if fid_extractor is not None and real is not None:
        from icanvas.eval.fid import compute_fid

        result["fid"] = compute_fid(real, outputs, fid_extractor)
    return result


def evaluate_folder(pipeline, data_dirs: list[Path], split: str = "val", *, limit: int = 0) -> EvalInputs:
    size = pipeline.size
    pairs = load_pairs(data_dirs, split, size, tuple(pipeline.kinds))
    n = len(pairs) if not limit else min(limit, len(pairs))
    return EvalInputs(pairs.sketches[:n], pairs.photos[:n], pairs.labels[:n])


def write_report(out_dir: str | Path, metrics: dict, sketches: np.ndarray, outputs: np.ndarray, targets: np.ndarray | None,
                 title: str) -> Path:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    rows = []
    for i in range(min(GRID_ROWS, len(outputs))):
        rows.append([sketches[i], outputs[i]] + ([targets[i]] if targets is not None else []))
    titles = ["sketch", "output"] + (["target"] if targets is not None else [])
    save_png(out / "grid.png", grid(rows, titles=titles))
    table = "\n".join(
        f"<tr><td>{html.escape(k)}</td><td>{v:.4f}</td></tr>" for k, v in metrics.items() if isinstance(v, (int, float))
    )
    (out / "index.html").write_text(f"""<!doctype html>
<html lang="en"><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;margin:2em}} td{{padding:2px 12px}} img{{max-width:100%}}</style>
<h1>{html.escape(title)}</h1>
<table><tr><th>metric</th><th>value</th></tr>
{table}
</table>
<p>L1, PSNR, SSIM compare outputs with targets; swd is the patch sliced Wasserstein distance to real photos
(lower is more realistic); adherence compares lines extracted from the output with the input sketch.</p>
<img src="grid.png" alt="sketch, output and target side by side">
</html>
""")
    return out

