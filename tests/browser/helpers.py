"""Small helpers for driving the studio page: draw with the mouse, read the canvas, screenshots."""

from __future__ import annotations

import math
from pathlib import Path


def tid(testid: str) -> str:
    """CSS selector of the element with that data-testid."""
    return f'[data-testid="{testid}"]'


def draw(page, points: list[tuple[float, float]], steps: int = 2) -> None:
    """One mouse stroke through `points`, given as fractions (0..1) of the canvas box."""
    box = page.locator(tid("canvas")).bounding_box()
    xy = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in points]
    page.mouse.move(*xy[0])
    page.mouse.down()
    for x, y in xy[1:]:
        page.mouse.move(x, y, steps=steps)
    page.mouse.up()


def draw_circle(page, cx: float = 0.5, cy: float = 0.5, r: float = 0.25, n: int = 20) -> None:
    draw(page, [(cx + r * math.cos(2 * math.pi * i / n), cy + r * math.sin(2 * math.pi * i / n)) for i in range(n + 1)], steps=1)


def ink_fraction(page) -> float:
    """Share of the exported CANVAS_SIZE drawing that is not white paper (0..1)."""
    return page.evaluate(
        """() => new Promise((resolve) => {
            const c = document.querySelector('[data-testid=canvas]');
            const ctx = c.getContext('2d');
            const d = ctx.getImageData(0, 0, c.width, c.height).data;
            let ink = 0;
            for (let i = 0; i < d.length; i += 4) if (d[i] < 200 || d[i + 1] < 200 || d[i + 2] < 200) ink += 1;
            resolve(ink / (d.length / 4));
        })"""
    )


def shot(page, folder: Path, name: str) -> Path:
    path = folder / f"{name}.png"
    page.screenshot(path=str(path))
    return path
