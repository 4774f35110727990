"""Reading and checking the prompt a person gives: clicks (``--point X,Y``) and a box (``--box``).

``parse_points(["120,80", "-30,40"])``: a leading ``-`` marks a background click ("not this");
``parse_points(["30,40"], foreground=False)`` reads ``--bg-point`` values. ``check_prompt``
rejects prompts no selector can use (nothing given, a click outside the photo, an empty or
inverted box) before any model runs.
"""

from __future__ import annotations

from collections.abc import Iterable

from icanvas.errors import PromptError
from icanvas.portrait.stages import Point, Prompt

MIN_BOX_SIDE = 4  # px; a box narrower or lower than this cannot hold a person


def _ints(text: str, count: int, what: str, example: str) -> list[int]:
    parts = [p.strip() for p in str(text).replace(" ", "").split(",")]
    try:
        values = [int(round(float(p))) for p in parts]
    except ValueError:
        values = []
    if len(values) != count:
        raise PromptError(f"Cannot read {what} {text!r}.", f"Write {count} numbers separated by commas, e.g. {example}.")
    return values


def parse_point(text: str, foreground: bool = True) -> Point:
    """``"X,Y"`` -> a click in photo pixels; ``"-X,Y"`` is a background click whatever ``foreground`` says."""
    text = str(text).strip()
    if text.startswith("-"):
        foreground, text = False, text[1:]
    x, y = _ints(text, 2, "the point", "--point 120,80 (or --point=-120,80 for 'not this')")
    if x < 0 or y < 0:
        raise PromptError(f"The point {text!r} has a negative coordinate.", "Use photo pixels: X from the left edge, Y from the top.")
    return Point(x, y, foreground)


def parse_points(texts: Iterable[str], foreground: bool = True) -> tuple[Point, ...]:
    """Several ``--point`` values (``foreground=False`` for ``--bg-point`` values)."""
    return tuple(parse_point(t, foreground) for t in texts)


def parse_box(text: str) -> tuple[int, int, int, int]:
    """``"X0,Y0,X1,Y1"`` -> (x0, y0, x1, y1); the box must not be empty or inverted."""
    x0, y0, x1, y1 = _ints(text, 4, "the box", "--box 10,10,200,300 (left, top, right, bottom)")
    box = (x0, y0, x1, y1)
    _check_box_shape(box)
    return box


def _check_box_shape(box: tuple[int, int, int, int]) -> None:
    x0, y0, x1, y1 = box
    if x1 <= x0 or y1 <= y0:
        raise PromptError(f"The box {box} is empty or inverted (it needs x1 > x0 and y1 > y0).",
                          "Give the left, top, right and bottom edges in that order, e.g. --box 10,10,200,300.")
    if x1 - x0 < MIN_BOX_SIDE or y1 - y0 < MIN_BOX_SIDE:
        raise PromptError(f"The box {box} is too small to hold a person.", "Draw the box around the whole person.")


def check_prompt(prompt: Prompt, shape: tuple[int, ...]) -> None:
    """Raise PromptError unless ``prompt`` has a foreground click or a box, all inside a photo of ``shape``."""
    h, w = shape[:2]
    if not prompt.points and prompt.box is None:
        raise PromptError("No prompt: the selector needs a click on the person or a box around them.",
                          "Pass --point X,Y on the person (and/or --box X0,Y0,X1,Y1).")
    for p in prompt.points:
        if not (0 <= p.x < w and 0 <= p.y < h):
            raise PromptError(f"The point ({p.x}, {p.y}) is outside the photo ({w}x{h}).",
                              f"Use X in 0..{w - 1} and Y in 0..{h - 1} (pixels from the top-left corner).")
    if prompt.box is not None:
        _check_box_shape(prompt.box)
        x0, y0, x1, y1 = prompt.box
        if x0 < 0 or y0 < 0 or x1 > w or y1 > h:
            raise PromptError(f"The box {prompt.box} reaches outside the photo ({w}x{h}).",
                              f"Keep 0 <= x0 < x1 <= {w} and 0 <= y0 < y1 <= {h}.")
    if prompt.box is None and not any(p.foreground for p in prompt.points):
        raise PromptError("Only background clicks were given: nothing says which person to take.",
                          "Add a click on the person (--point X,Y) or a box around them.")
