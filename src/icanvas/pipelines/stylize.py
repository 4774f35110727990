"""Stylize: a person in a photo -> the same photo with that person redrawn as a character.

Inference only; the four stages are passed in (:mod:`icanvas.portrait.stages`):

1. the selector finds the person's mask on a copy of the photo at most ``work_side`` px long;
2. the filler fills the hole the person leaves, at the photo's size (it works at its own
   reduced size and changes only the hole);
3. the person's square-ish crop (:func:`~icanvas.portrait.compose.person_box`), at most
   ``crop_side`` px long, is restyled. With a ``body`` restyler (a face-trained model, e.g. one
   learned from selfies) the model gets the square around the face
   (:func:`~icanvas.portrait.compose.head_box`) and ``body`` (the cartoon treatment) the rest
   of the person, the two blended at the square's edge (``body`` does it all when no face was
   found); without one, the restyler gets the whole crop;
4. the restyled crop goes back over the filled background through the feathered mask.

The result has the input's size; pixels away from the person are the input's own.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps

from icanvas.data.edges import as_photo, mask_extent
from icanvas.data.images import read_image, resize, to_rgb
from icanvas.errors import CheckpointError, PromptError
from icanvas.portrait.cartoon import CartoonRestyler
from icanvas.portrait.compose import HEAD_FADE, Box, blend, box_fade, clip_box, head_box, paste, person_box, scale_box
from icanvas.portrait.fill import check_mask
from icanvas.portrait.prompts import check_prompt
from icanvas.portrait.stages import BackgroundFiller, PersonSelector, Point, Prompt, Restyler

WORK_SIDE = 1024  # px, longest side of the copy the selector works on (None-like 0 is not allowed)
CROP_SIDE = 512  # px, longest side of the person's crop handed to the restylers
MIN_PERSON_SIDE = 32  # px at the working size: a person whose box is shorter than this is too small to restyle
MIN_PERSON_AREA = 0.001  # share of the photo a person's mask must cover
MASK_LEVEL = 0.5  # mask value above which a pixel is the person
STAGES = ("read", "select", "fill", "restyle", "compose", "total")  # keys of Stylized.timings_ms, in order
TINT = (255, 0, 200)  # RGB the person is tinted with in the debug overlay
TINT_ALPHA = 0.45  # opacity of that tint (0 = photo only)


@dataclass
class Stylized:
    image: np.ndarray  # (H, W, 3) uint8, the result at the input's size
    photo: np.ndarray  # (H, W, 3) uint8, the input as read (upright, RGB)
    mask: np.ndarray  # (H, W) float32 in [0, 1], the person
    background: np.ndarray  # (H, W, 3) uint8, the photo with the person filled away
    crop_box: Box  # (x0, y0, x1, y1) of the restyled crop, input px
    crop: np.ndarray  # (h, w, 3) uint8, the crop as the restylers saw it (long side <= crop_side)
    restyled: np.ndarray  # (h, w, 3) uint8, the crop restyled
    face: Box | None  # (x0, y0, x1, y1) of the face, input px; None when none was found
    timings_ms: dict[str, float] = field(default_factory=dict)  # stage (see STAGES) -> ms


def load_photo(source: str | Path | bytes | Image.Image | np.ndarray) -> np.ndarray:
    """A photo from a path, encoded bytes, a PIL image or an array -> (H, W, 3) uint8 RGB, upright.

    Files and bytes go through the safe reader (size, pixel and format limits, clear errors);
    EXIF orientation is applied; transparency is composited over white.
    """
    if isinstance(source, np.ndarray):
        return as_photo(source)
    if isinstance(source, Image.Image):
        try:
            source = ImageOps.exif_transpose(source)
        except Exception:  # broken EXIF must not reject a good picture
            pass
        return to_rgb(source)
    return to_rgb(read_image(source))


def scale_prompt(prompt: Prompt, k: float, shape: tuple[int, int]) -> Prompt:
    """``prompt`` in photo px, checked against a photo of ``shape`` (H, W) so that errors name the
    photo's own pixels -> the same prompt at ``k`` working px per photo px."""
    check_prompt(prompt, shape)
    h, w = shape
    wh, ww = max(1, round(h * k)), max(1, round(w * k))  # the working copy's size
    box = None if prompt.box is None else clip_box(scale_box(prompt.box, k), (wh, ww))
    points = tuple(Point(min(int(p.x * k), ww - 1), min(int(p.y * k), wh - 1), p.foreground) for p in prompt.points)
    return Prompt(points=points, box=box)


def default_body(restyler: Restyler) -> Restyler | None:
    """The body restyler to pair with ``restyler``: the cartoon treatment for a model trained on
    faces (``scope = "face"``), none for one that restyles the whole person (any other scope, or none)."""
    return CartoonRestyler() if getattr(restyler, "scope", "person") == "face" else None


class Stylize:
    """Inference only: receives its stages, never loads or trains anything itself."""

    def __init__(self, selector: PersonSelector, filler: BackgroundFiller, restyler: Restyler,
                 body: Restyler | None = None, *, work_side: int = WORK_SIDE, crop_side: int = CROP_SIDE) -> None:
        self.selector, self.filler, self.restyler = selector, filler, restyler
        self.body = body  # restyles the person around the face; None = the restyler does the whole person
        self.work_side = work_side  # px, longest side stage 1 works at
        self.crop_side = crop_side  # px, longest side of the crop stage 3 works at

    def __call__(self, photo: str | Path | bytes | Image.Image | np.ndarray, prompt: Prompt) -> Stylized:
        times: dict[str, float] = {}
        start = tick = time.perf_counter()

        def lap(stage: str) -> None:
            nonlocal tick
            now = time.perf_counter()
            times[stage] = 1000 * (now - tick)
            tick = now

        image = load_photo(photo)  # (H, W, 3)
        h, w = image.shape[:2]
        lap("read")
        mask, face = self.select(image, prompt)  # (H, W), input px
        lap("select")
        background = self.filler.fill(image, mask)
        if not isinstance(background, np.ndarray) or background.shape != image.shape or background.dtype != np.uint8:
            raise CheckpointError(f"The {self.filler.name} filler returned {_describe(background)} for a {image.shape} photo.",
                                  "A filler returns a (H, W, 3) uint8 picture of the photo's size.")
        lap("fill")
        box = person_box(mask_extent(mask > MASK_LEVEL), (h, w))
        crop, crop_mask, crop_face = self.crop(image, mask, face, box)
        restyled = self.restyle(crop, crop_mask, crop_face)
        lap("restyle")
        result = paste(background, restyled, mask, box)
        lap("compose")
        times["total"] = 1000 * (time.perf_counter() - start)
        return Stylized(result, image, mask, background, box, crop, restyled, face, times)

    # ------------------------------------------------------------------ steps

    def select(self, image: np.ndarray, prompt: Prompt) -> tuple[np.ndarray, Box | None]:
        """Stage 1 on the working copy -> the person's (H, W) float32 mask and face box, both at the input's size."""
        h, w = image.shape[:2]
        k = min(1.0, self.work_side / max(h, w))  # working px per input px
        work = image if k == 1.0 else resize(image, max(1, round(w * k)), max(1, round(h * k)))  # (h', w', 3)
        sel = self.selector.select(work, scale_prompt(prompt, k, (h, w)))
        small = check_mask(sel.mask, work.shape[:2])
        person = mask_extent(small > MASK_LEVEL)
        hint = "Click on the person (--point X,Y), add a box around them (--box X0,Y0,X1,Y1), or use a photo where they are bigger."
        if person is None:
            raise PromptError("Nothing was selected: no part of the photo was taken for the person.", hint)
        side, area = max(person[2] - person[0], person[3] - person[1]), float((small > MASK_LEVEL).mean())
        if side < MIN_PERSON_SIDE or area < MIN_PERSON_AREA:
            raise PromptError(f"The selected person is too small to redraw ({side} px, {100 * area:.2f}% of the photo).", hint)
        mask = small if k == 1.0 else np.clip(resize(small, w, h), 0.0, 1.0)  # (H, W)
        face = None
        if sel.face is not None:
            fx0, fy0, fx1, fy1 = scale_box(sel.face, 1 / k)
            if fx1 > fx0 and fy1 > fy0 and fx0 < w and fy0 < h and fx1 > 0 and fy1 > 0:
                face = clip_box((fx0, fy0, fx1, fy1), (h, w))
        return mask, face

    def crop(self, image: np.ndarray, mask: np.ndarray, face: Box | None, box: Box
             ) -> tuple[np.ndarray, np.ndarray, Box | None]:
        """The person's crop at most ``crop_side`` long: (h, w, 3) uint8, (h, w) float32 mask, face in crop px."""
        x0, y0, x1, y1 = box
        c = min(1.0, self.crop_side / max(x1 - x0, y1 - y0))  # crop px per input px
        cw, ch = max(1, round((x1 - x0) * c)), max(1, round((y1 - y0) * c))
        crop = resize(image[y0:y1, x0:x1], cw, ch)  # (ch, cw, 3)
        crop_mask = np.clip(resize(mask[y0:y1, x0:x1], cw, ch), 0.0, 1.0)  # (ch, cw)
        crop_face = None
        if face is not None:
            fx0, fy0, fx1, fy1 = (max(x0, face[0]), max(y0, face[1]), min(x1, face[2]), min(y1, face[3]))
            if fx1 > fx0 and fy1 > fy0:  # a face outside the person's crop is someone else's
                crop_face = clip_box(scale_box((fx0 - x0, fy0 - y0, fx1 - x0, fy1 - y0), c), (ch, cw))
        return crop, crop_mask, crop_face

    def restyle(self, crop: np.ndarray, mask: np.ndarray, face: Box | None) -> np.ndarray:
        """Stage 3 on the crop: the whole crop, or the head by the restyler and the rest by ``body``
        (all of it by ``body`` when no face was found: a face model has nothing to work on)."""
        if self.body is None:
            return _restyled(self.restyler, crop, mask, face)
        if face is None:
            return _restyled(self.body, crop, mask, face)
        body = _restyled(self.body, crop, mask, face)
        hx0, hy0, hx1, hy1 = head_box(face, crop.shape[:2])
        head_face = clip_box((face[0] - hx0, face[1] - hy0, face[2] - hx0, face[3] - hy0), (hy1 - hy0, hx1 - hx0))
        head = _restyled(self.restyler, crop[hy0:hy1, hx0:hx1], mask[hy0:hy1, hx0:hx1], head_face)
        canvas = body.copy()
        canvas[hy0:hy1, hx0:hx1] = head
        weight = box_fade(crop.shape[:2], (hx0, hy0, hx1, hy1), HEAD_FADE * (hx1 - hx0))  # (h, w)
        return blend(body, canvas, weight)


def _describe(x: object) -> str:
    return f"{x.shape} {x.dtype}" if isinstance(x, np.ndarray) else type(x).__name__


def _restyled(restyler: Restyler, crop: np.ndarray, mask: np.ndarray, face: Box | None) -> np.ndarray:
    """``restyler`` on one crop, its answer checked and brought to the crop's size."""
    out = restyler.restyle(np.ascontiguousarray(crop), np.ascontiguousarray(mask), face)
    if not isinstance(out, np.ndarray) or out.ndim != 3 or out.shape[2] != 3 or out.dtype != np.uint8 or min(out.shape[:2]) < 1:
        raise CheckpointError(f"The {restyler.name} restyler returned {_describe(out)} for a {crop.shape} crop.",
                              "A restyler returns a (h, w, 3) uint8 picture of the crop.")
    return resize(out, crop.shape[1], crop.shape[0])


def debug_images(result: Stylized, prompt: Prompt) -> dict[str, np.ndarray]:
    """What each stage made, by file name: mask.png, background.png, crop.png, restyled.png and
    overlay.png (the photo with the person tinted, the clicks (green: person, red: not), the
    prompt's box (blue), the crop (white) and the face (yellow))."""
    photo = result.photo
    line = max(1, round(max(photo.shape[:2]) / 400))  # px, width of the drawn boxes
    tint = np.empty_like(photo)
    tint[:] = TINT
    overlay = blend(photo, tint, TINT_ALPHA * result.mask)
    boxes = [(result.crop_box, (255, 255, 255)), (result.face, (255, 220, 0)), (prompt.box, (40, 120, 255))]
    for box, colour in boxes:
        if box is not None:
            cv2.rectangle(overlay, box[:2], (box[2] - 1, box[3] - 1), colour, line)
    for p in prompt.points:
        cv2.circle(overlay, (p.x, p.y), 4 * line, (0, 220, 0) if p.foreground else (230, 0, 0), -1)
        cv2.circle(overlay, (p.x, p.y), 4 * line, (0, 0, 0), max(1, line // 2))
    return {"mask.png": (result.mask * 255).round().astype(np.uint8), "background.png": result.background,
            "crop.png": result.crop, "restyled.png": result.restyled, "overlay.png": overlay}
