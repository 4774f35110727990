"""The drawing studio: what the page needs to know, making pictures, guessing drawings, surprises."""

from __future__ import annotations

import base64
import json
from typing import Annotated

import numpy as np
from fastapi import APIRouter, File, Form, Query, Response, UploadFile
from starlette.concurrency import run_in_threadpool

from icanvas.data import canvas
from icanvas.data.images import NO_PAGE
from icanvas.data.page import drawing_corners
from icanvas.serve.images import PICTURE_MAX_SIDE, UPLOAD_WORK_SIDE, decode_drawing, overlay_png, png_bytes, read_limited, too_many_bytes
from icanvas.serve.kinds import AVATARS
from icanvas.serve.problems import NotFound, Unprocessable
from icanvas.serve.routes.deps import CanvasFlag, StateDep
from icanvas.serve.schemas import Guess, Guesses, KindOut, PaperPage, Studio
from icanvas.serve.security import PIN_ICONS

router = APIRouter(tags=["studio"])

LANGUAGES = ["ko", "en"]  # languages the page is written in; the first is the default
GUESSES = 3  # recognizer guesses returned
PNG = {200: {"content": {"image/png": {}}, "description": "A PNG picture"}}


@router.get("/studio", response_model=Studio)
def studio(state: StateDep) -> Studio:
    """Canvas numbers, the kinds the studio can draw and which extras are installed."""
    models = state.models
    return Studio(
        canvas_size=canvas.CANVAS_SIZE, pen_widths=dict(canvas.PEN_WIDTHS), eraser_width=canvas.ERASER_WIDTH,
        crayon_width=canvas.CRAYON_WIDTH, crayons=dict(canvas.CRAYONS),
        kinds=[KindOut(kind=k.kind, label=k.label, icon=k.icon, hints=k.hints, model=k.model) for k in models.kinds],
        recognizer=models.recognizer is not None, surprise=models.sampler is not None,
        surprise_kinds=list(getattr(models.sampler, "kinds", []) or []),
        languages=LANGUAGES, default_language=LANGUAGES[0], avatars=list(AVATARS), pin_icons=list(PIN_ICONS),
        photo_side=UPLOAD_WORK_SIDE,
    )


@router.post("/generate", response_class=Response, responses={**PNG, 503: {"description": "Busy; see Retry-After"}})
async def generate(
    state: StateDep,
    drawing: Annotated[UploadFile, File(description="The drawing: PNG, JPEG or WebP")],
    kind: Annotated[str, Form(max_length=40, description="A kind from GET /api/studio")],
    canvas: CanvasFlag = False,
) -> Response:
    """Turn a drawing into a picture of the chosen kind (PNG)."""
    limit = state.settings.max_upload_bytes
    data = await drawing.read(limit + 1)
    if len(data) > limit:
        raise too_many_bytes("The drawing", limit)
    png = await state.pool.generate(data, kind, canvas)
    return Response(png, media_type="image/png", headers={"Cache-Control": "no-store", "X-ICanvas-Kind": kind})


@router.post("/recognize", response_model=Guesses)
def recognize(
    state: StateDep,
    drawing: Annotated[UploadFile, File(description="The drawing: PNG, JPEG or WebP")],
    canvas: CanvasFlag = False,
) -> Guesses:
    """The recognizer's top guesses of what the drawing shows (none without a recognizer or lines)."""
    models, s = state.models, state.settings
    if models.recognizer is None:
        return Guesses(guesses=[])
    _, drawn = decode_drawing(read_limited(drawing.file, s.max_upload_bytes), s.max_upload_bytes, s.max_upload_pixels,
                              allow_empty=True, canvas=canvas)
    if drawn is None:  # an empty canvas: nothing to guess yet
        return Guesses(guesses=[])
    lines = drawn.lines
    return Guesses(guesses=[Guess(label=g.label, prob=g.prob, kind=g.kind, kinds=g.kinds, preselect=g.preselect)
                            for g in models.guess(lines, GUESSES)])


@router.post("/paper", response_model=PaperPage)
def paper(
    state: StateDep,
    photo: Annotated[UploadFile, File(description="A photo of a drawing on paper: PNG, JPEG or WebP")],
    corners: Annotated[str | None, Form(max_length=200, description="The page's four corners placed by hand, as JSON "
                                        "[[x, y], ...] in px of the photo as read (see width, height); omit to search")] = None,
) -> PaperPage:
    """Find the page in a photo of a paper drawing and read the drawing on it, as the models will see it.

    The studio shows the answer over the photo, so a child or grown-up can check it, place the
    corners by hand when the page was found wrong, and then use the drawing like a canvas drawing.
    """
    s = state.settings
    hand = _corners(corners)
    image, drawn = decode_drawing(read_limited(photo.file, s.max_upload_bytes, "The photo"), s.max_upload_bytes,
                                  s.max_upload_pixels, "The photo", corners=hand)
    w, h = image.size
    whole = [[0.0, 0.0], [float(w), 0.0], [float(w), float(h)], [0.0, float(h)]]
    page = drawn.page
    if page is not None:
        found = "placed" if hand is not None else "found"
        outline, inner = page.corners.tolist(), drawing_corners(page).tolist()
    else:
        found = "missing" if drawn.source.startswith(NO_PAGE) else "whole"
        outline, inner = whole, whole
    dh, dw = drawn.lines.shape
    return PaperPage(width=w, height=h, page=found, corners=outline, drawing_corners=inner, description=drawn.source,
                     drawing="data:image/png;base64," + base64.b64encode(overlay_png(drawn)).decode("ascii"),
                     drawing_width=dw, drawing_height=dh)


def _corners(text: str | None) -> list | None:
    """Corners sent as JSON [[x, y] x 4], or None; a 422 problem when they are not four pairs of numbers."""
    if text is None or not text.strip():
        return None
    try:
        value = np.asarray(json.loads(text), np.float64)
    except (ValueError, TypeError):
        value = None
    if value is None or value.shape != (4, 2) or not np.isfinite(value).all():
        raise Unprocessable("The page corners are not four [x, y] pairs.", 'Send them as JSON: [[x, y], [x, y], [x, y], [x, y]].')
    return value.tolist()


@router.get("/surprise", response_class=Response, responses={**PNG, 404: {"description": "No sampler model installed"}})
async def surprise(state: StateDep, kind: Annotated[str | None, Query(max_length=40)] = None) -> Response:
    """A picture the studio dreams up by itself (only with a sampler model installed)."""
    sampler = state.models.sampler
    if sampler is None:
        raise NotFound("No surprise pictures are installed.", "Install a sampler model to enable surprises.")
    kinds = list(getattr(sampler, "kinds", []) or [])
    if kind is not None and kinds and kind not in kinds:
        raise Unprocessable(f"The surprise model cannot make {kind!r}.", f"Use one of: {', '.join(kinds)}.")
    png = await run_in_threadpool(lambda: png_bytes(sampler(kind), PICTURE_MAX_SIDE))  # sampler gives (H, W, 3) uint8
    return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})
