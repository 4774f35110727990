"""Synthetic photos of a drawn page, with the truth: where the page is and which strokes are on it.

Used by the tests and ``benchmarks/paper.py`` to measure page finding
(:func:`icanvas.data.page.find_page`) and line reading on photographed paper: a page with known
strokes (pencil, felt-tip, ballpoint, a crayon outline and colouring-in), optionally lined or
squared, is placed on a dark, wooden or cluttered background, rotated, seen in perspective, lit
unevenly, with a finger or a second sheet (turned against the page) at an edge, folded once,
and noised like a phone photo.
"""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np

BACKGROUNDS = ("dark", "wood", "cluttered")  # what the page lies on
PAPERS = {"white": (246, 245, 240), "cream": (240, 230, 205), "yellow": (250, 235, 150)}  # paper colours, RGB
RULE_RGB = (150, 185, 225)  # light-blue printed rules, RGB
TOOLS = {  # colour RGB, width as a fraction of the page's long side
    "pencil": ((95, 95, 100), 0.003),
    "felt-tip": ((25, 25, 30), 0.006),
    "ballpoint": ((30, 40, 140), 0.0025),
}
CRAYON_RGB = (220, 60, 40)  # the crayon of the colouring-in, RGB
_PAGE_FILL = (0.55, 0.8)  # the page's long side spans this range of fractions of the photo's short side
_NOISE = 4.0  # sensor noise sigma, grey levels
_FOLD_SHADE = 0.85  # brightness of a folded page's lower half relative to its upper half


@dataclasses.dataclass(frozen=True)
class PaperPhoto:
    rgb: np.ndarray  # (H, W, 3) uint8 the photo
    corners: np.ndarray  # (4, 2) float32 the page's corners in the photo: top-left, top-right, bottom-right, bottom-left
    strokes: np.ndarray  # (H, W) bool the child's dark strokes (outlines) in the photo
    colouring: np.ndarray  # (H, W) bool the crayon colouring-in in the photo
    page_strokes: np.ndarray  # (h, w) bool the dark strokes on the page itself, page px
    label: str  # what the photo shows, e.g. "wood 20deg persp shadow lined"


def draw_page(h: int, w: int, rng: np.random.Generator, paper: str = "white", rules: str = "",
              colouring: bool = True, blank: bool = False, tools: tuple[str, ...] = tuple(TOOLS),
              crayon: tuple[int, int, int] = CRAYON_RGB) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(page (h, w, 3) uint8, dark strokes (h, w) bool, colouring (h, w) bool) of a child's drawing:
    a few strokes of each of ``tools`` (names in ``TOOLS``) and a colouring-in with ``crayon`` (RGB)."""
    page = np.empty((h, w, 3), np.uint8)
    page[:] = PAPERS[paper]
    side = max(h, w)
    if rules:  # printed rules, about 8 mm apart on A4
        gap, thick = max(6, round(side * 0.028)), max(1, round(side * 0.0012))
        for y in range(round(side * 0.06), h, gap):
            cv2.line(page, (0, y), (w - 1, y), RULE_RGB, thick)
        for x in range(gap // 2, w, gap) if rules == "squared" else ():
            cv2.line(page, (x, 0), (x, h - 1), RULE_RGB, thick)
    strokes = np.zeros((h, w), np.uint8)
    colour = np.zeros((h, w), np.uint8)
    if colouring and not blank:  # a crayon colouring-in with gaps, inside a felt-tip outline
        cx, cy, r = int(w * rng.uniform(0.55, 0.7)), int(h * rng.uniform(0.55, 0.7)), int(side * 0.09)
        cv2.circle(colour, (cx, cy), r, 1, -1)
        colour &= (rng.random((h, w)) < 0.8).astype(np.uint8)  # wax skips over the paper's grain
        page[colour > 0] = crayon
        cv2.circle(strokes, (cx, cy), r, 1, max(1, round(side * TOOLS["felt-tip"][1])))
    for rgb, width in () if blank else (TOOLS[name] for name in tools):  # a few strokes of each tool
        stroke = np.zeros((h, w), np.uint8)
        lw = max(1, round(side * width))
        for _ in range(2):
            pts = np.cumsum(rng.normal(0, side * 0.06, (6, 2)), axis=0) + [w * rng.uniform(0.25, 0.75), h * rng.uniform(0.25, 0.75)]
            pts = np.clip(pts, [0.08 * w, 0.08 * h], [0.92 * w, 0.92 * h]).round().astype(np.int32)
            cv2.polylines(stroke, [pts], False, 1, lw, cv2.LINE_AA)
        page[stroke > 0] = rgb
        strokes |= stroke
    colour &= ~strokes
    return page, strokes > 0, colour > 0


def background(h: int, w: int, kind: str, rng: np.random.Generator) -> np.ndarray:
    """(h, w, 3) uint8 a table or floor: dark, wood-textured or cluttered."""
    if kind == "dark":
        bg = np.full((h, w, 3), rng.uniform(25, 55), np.float32) * np.array([1.0, 0.95, 0.9], np.float32)
    elif kind == "wood":
        y, x = np.mgrid[0:h, 0:w].astype(np.float32)
        a = rng.uniform(0, np.pi)
        u = (x * np.cos(a) + y * np.sin(a)) / max(h, w)
        v = (-x * np.sin(a) + y * np.cos(a)) / max(h, w)
        grain = np.sin(2 * np.pi * (u * 40 + 2 * np.sin(2 * np.pi * v * 3))) * 0.5 + 0.5  # rings bent by knots
        tone = 0.65 + 0.25 * grain  # (h, w)
        bg = tone[..., None] * np.array([165, 110, 65], np.float32)  # (h, w, 3) a mid-brown table
    elif kind == "cluttered":
        bg = np.empty((h, w, 3), np.float32)
        bg[:] = rng.uniform(60, 120, 3)
        for _ in range(25):  # toys, books, pens
            c = tuple(int(v) for v in rng.uniform(0, 230, 3))
            x0, y0 = int(rng.uniform(0, w)), int(rng.uniform(0, h))
            if rng.random() < 0.5:
                cv2.rectangle(bg, (x0, y0), (x0 + int(rng.uniform(0.05, 0.3) * w), y0 + int(rng.uniform(0.05, 0.3) * h)), c, -1)
            else:
                cv2.ellipse(bg, (x0, y0), (int(rng.uniform(0.02, 0.15) * w), int(rng.uniform(0.02, 0.15) * h)),
                            rng.uniform(0, 180), 0, 360, c, -1)
    else:
        raise ValueError(f"background must be one of {BACKGROUNDS}, not {kind!r}")
    return np.clip(bg, 0, 255).astype(np.uint8)


def page_corners(h: int, w: int, ph: int, pw: int, rng: np.random.Generator, angle: float, perspective: float) -> np.ndarray:
    """(4, 2) float32 where a page of ``pw`` x ``ph`` lands in a photo of ``w`` x ``h``."""
    side = min(h, w) * rng.uniform(*_PAGE_FILL)
    k = side / max(ph, pw)
    half = np.array([[-pw, -ph], [pw, -ph], [pw, ph], [-pw, ph]], np.float64) * k / 2
    a = np.radians(angle)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    quad = half @ rot.T
    if perspective:  # the far edge shrinks: keystone, as from a phone held at an angle
        top = quad[:, 1] < 0 if rng.random() < 0.5 else quad[:, 0] < 0
        quad[top] *= 1 - perspective
        quad += rng.normal(0, perspective * side * 0.1, quad.shape)
    return (quad + [w / 2 + rng.uniform(-0.05, 0.05) * w, h / 2 + rng.uniform(-0.05, 0.05) * h]).astype(np.float32)


def _turned(quad: np.ndarray, angle: float) -> np.ndarray:
    """(4, 2) ``quad`` turned by ``angle`` degrees about its centre."""
    a = np.radians(angle)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    centre = quad.mean(axis=0)
    return (quad - centre) @ rot.T + centre


def paper_photo(size: int = 640, *, seed: int = 0, backdrop: str = "dark", angle: float = 0.0, perspective: float = 0.0,
                shadow: bool = False, rules: str = "", paper: str = "white", finger: bool = False,
                second_sheet: bool = False, second_tilt: float = 0.0, fold: bool = False, colouring: bool = True,
                blank: bool = False, tools: tuple[str, ...] = tuple(TOOLS), crayon: tuple[int, int, int] = CRAYON_RGB) -> PaperPhoto:
    """A 4:3 landscape photo with long side ``size`` px of a portrait page lying on ``backdrop``.

    ``second_sheet`` slides another sheet under the page, turned by ``second_tilt`` degrees against
    it; ``fold`` shades the lower half of a page once folded in half; ``tools`` and ``crayon`` are
    what the child drew with (see :func:`draw_page`).
    """
    rng = np.random.default_rng(seed)
    h, w = round(size * 3 / 4), size
    pw_, ph_ = 1000, 1414  # A4 proportions; drawn at about the photo's resolution
    page_px = max(64, round(min(h, w) * 0.85))
    ph, pw = page_px, round(page_px * pw_ / ph_)
    page, strokes, colour = draw_page(ph, pw, rng, paper, rules, colouring, blank, tools, crayon)
    if fold:  # folded in half and opened again: the lower half faces the light a little less
        page[ph // 2 :] = (page[ph // 2 :] * _FOLD_SHADE).astype(np.uint8)
    corners = page_corners(h, w, ph, pw, rng, angle, perspective)
    H = cv2.getPerspectiveTransform(np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float32), corners)
    photo = background(h, w, backdrop, rng).astype(np.float32)
    if second_sheet:  # another sheet under the page, a little greyer, peeking out of one side
        sign = rng.choice([-1.0, 1.0], 2)
        moved = corners + sign[0] * 0.25 * (corners[1] - corners[0]) + sign[1] * 0.12 * (corners[3] - corners[0])
        if second_tilt:
            moved = _turned(moved, second_tilt)
        H2 = cv2.getPerspectiveTransform(np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float32), moved.astype(np.float32))
        under = cv2.warpPerspective(np.ones((ph, pw), np.float32), H2, (w, h))[..., None]
        photo = photo * (1 - under) + under * np.array(PAPERS["white"], np.float32) * 0.82
    warp = lambda a, interp=cv2.INTER_LINEAR: cv2.warpPerspective(a, H, (w, h), flags=interp)  # noqa: E731
    alpha = warp(np.ones((ph, pw), np.float32))[..., None]  # (h, w, 1) anti-aliased page edge
    photo = photo * (1 - alpha) + warp(page.astype(np.float32)) * alpha
    if finger:  # a fingertip holding the page down, over the middle of one side
        k = int(rng.integers(0, 4))
        mid = (corners[k] + corners[(k + 1) % 4]) / 2
        out = mid - corners.mean(axis=0)
        tip = mid - out / np.linalg.norm(out) * min(h, w) * 0.03
        d = out / np.linalg.norm(out)
        r = min(h, w) * 0.035
        poly = np.array([tip + d * r * 4 + np.array([-d[1], d[0]]) * r, tip + np.array([-d[1], d[0]]) * r,
                         tip - np.array([-d[1], d[0]]) * r, tip + d * r * 4 - np.array([-d[1], d[0]]) * r])
        cv2.fillConvexPoly(photo, poly.round().astype(np.int32), (205, 150, 125))
        cv2.circle(photo, tuple(int(v) for v in tip), int(r), (205, 150, 125), -1)
    if shadow:  # light falls off across the photo in some direction
        y, x = np.mgrid[0:h, 0:w].astype(np.float32)
        a = rng.uniform(0, 2 * np.pi)
        u = (x - w / 2) * np.cos(a) + (y - h / 2) * np.sin(a)
        u = (u - u.min()) / (u.max() - u.min())
        photo *= (0.5 + 0.5 * u)[..., None]
    photo += rng.normal(0, _NOISE, photo.shape).astype(np.float32)
    rgb = np.clip(photo, 0, 255).round().astype(np.uint8)
    label = " ".join(p for p in (backdrop, f"{angle:.0f}deg", "persp" if perspective else "", "shadow" if shadow else "",
                                 rules, paper if paper != "white" else "", "finger" if finger else "",
                                 "second-sheet" if second_sheet else "", "fold" if fold else "") if p)
    return PaperPhoto(rgb=rgb, corners=corners, strokes=warp(strokes.astype(np.float32)) > 0.5,
                      colouring=warp(colour.astype(np.float32)) > 0.5, page_strokes=strokes, label=label)
