"""Stage 1 of photo -> character: the person the clicks and/or the box point at.

    from icanvas.portrait.select import default_selector, parse_points, parse_box
    selector = default_selector()                        # or default_selector(sam_encoder=..., sam_decoder=...)
    prompt = Prompt(points=parse_points(["120,80", "-30,40"]), box=parse_box("10,10,200,300"))
    selection = selector.select(photo, prompt)           # .mask (H, W) float32, .box, .face, .info

Three backends, one interface (:class:`~icanvas.portrait.stages.PersonSelector`):

- ``selfie-segmenter`` (default, :mod:`~icanvas.portrait.segmenter`): MediaPipe's selfie
  segmenter and BlazeFace (two small .tflite files that ``scripts/setup.sh`` puts in place),
  GrabCut on the border; ~0.1-0.3 s on 2 CPU cores;
- ``classical`` (:mod:`~icanvas.portrait.classical`): used when those files are missing: face
  (LBP cascade) -> body prior -> GrabCut; rougher, needs no file;
- ``sam`` (:mod:`~icanvas.portrait.sam`): SAM / MobileSAM from ONNX files the user passes.

``backend_status()`` says in one line which one ``default_selector()`` gives and what to run to
get the better one. Every selector raises :class:`~icanvas.errors.PromptError` for a prompt it
cannot use (no prompt, a click outside the photo, an empty or inverted box, a click on nothing,
no person in the photo).
"""

from __future__ import annotations

from pathlib import Path

from icanvas.portrait.litert import FETCH_HINT, SEGMENTER_FILE, find_model, litert_installed, search_dirs
from icanvas.portrait.prompts import check_prompt, parse_box, parse_point, parse_points
from icanvas.portrait.stages import PersonSelector

__all__ = ["backend_status", "check_prompt", "default_selector", "parse_box", "parse_point", "parse_points"]


def segmenter_ready() -> bool:
    """True when the default backend can run: the TFLite runtime and the segmenter's file are there."""
    return litert_installed() and find_model(SEGMENTER_FILE) is not None


def backend_status() -> str:
    """One line: which backend ``default_selector()`` uses, and how to get the better one."""
    if segmenter_ready():
        return (f"person selection: selfie-segmenter ({find_model(SEGMENTER_FILE)}); "
                "pass --sam-encoder/--sam-decoder ONNX files to use SAM instead.")
    if not litert_installed():
        return "person selection: classical (face + GrabCut) because ai-edge-litert is not installed; run 'bash scripts/setup.sh'."
    where = " or ".join(str(d) for d in search_dirs())
    return f"person selection: classical (face + GrabCut) because {SEGMENTER_FILE} is not in {where}; {FETCH_HINT}"


def default_selector(sam_encoder: Path | None = None, sam_decoder: Path | None = None, *, threads: int = 2) -> PersonSelector:
    """SAM when either ONNX path is given (both are then required), else the selfie segmenter,
    else the classical fallback (see :func:`backend_status`)."""
    if sam_encoder is not None or sam_decoder is not None:
        from icanvas.portrait.sam import SamSelector

        return SamSelector(sam_encoder, sam_decoder, threads=threads)
    if segmenter_ready():
        from icanvas.portrait.segmenter import SegmenterSelector

        return SegmenterSelector(threads=threads)
    from icanvas.portrait.classical import ClassicalSelector

    return ClassicalSelector()
