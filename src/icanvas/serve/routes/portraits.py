"""Photo -> character, for grown-ups only: upload a photo, click the person, pick a style, then
download the result or keep it in the grown-up's own album (apart from the children's).

Every route needs a logged-in parent in the parent area: a guest gets 401, a child profile 403,
and a saved picture of another grown-up 404. The photo is the request body itself
(``Content-Type: image/jpeg``, ``image/png`` or ``image/webp``; the bytes decide), so it never
lands in the temporary file a multipart upload may be spooled to. Its pixels are kept in memory
only, for this login, and forgotten a few minutes after their last use, at log out, or when the
page lets go of them (:mod:`icanvas.serve.photos`); every answer and every saved file is made
from pixels alone, so no metadata (EXIF, GPS, ICC, text) of the photo survives. Clicks are
pixels of the photo as kept (``width`` x ``height`` of the upload's answer).
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile, status
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from icanvas.data.images import to_rgb
from icanvas.portrait.stages import Point, Prompt
from icanvas.serve.images import decode_upload, png_bytes, read_limited, too_many_bytes
from icanvas.serve.photos import Photo
from icanvas.serve.portraits import (
    Portraits, delete_portrait, list_portraits, own_portrait, portrait_out, save_portrait, style_label,
)
from icanvas.serve.problems import NotFound, PayloadTooLarge, Unprocessable, UnsupportedImage
from icanvas.serve.reserve import with_room
from icanvas.serve.routes.deps import DB, ParentDep, StateDep, StudioState, Viewer
from icanvas.serve.schemas import Click, MaskAsk, PhotoOut, PortraitOut, PortraitStudio, StyleOut, StylizeAsk
from icanvas.serve.storage import disk_full

router = APIRouter(tags=["photo to character"])

LIST_LIMIT = 500  # most pictures one album listing returns
IMAGE_CACHE = "private, max-age=3600"  # a saved picture never changes (a new one gets a new id), but stays private
STYLE_NAME = r"^[A-Za-z0-9_.-]{1,60}$"  # what a saved picture's style may be called
PHOTO_HINTS = {413: "Choose a smaller photo (a JPEG from a phone is fine).", 415: "Choose a JPEG, PNG or WebP photo.",
               422: "Choose another photo, or save this one again as JPEG."}  # hints of refused photos, by status
PNG = {200: {"content": {"image/png": {}}, "description": "A PNG picture"}}
PHOTO_BODY = {"requestBody": {"required": True, "description": "The photo's bytes: JPEG, PNG or WebP",
                              "content": {t: {"schema": {"type": "string", "format": "binary"}}
                                          for t in ("image/jpeg", "image/png", "image/webp")}}}


def _owner(viewer: Viewer) -> str:
    """What a photo is kept under: the login (its token's hash), never reused by another login."""
    return viewer.login.token_hash


def _portraits(state: StudioState) -> Portraits:
    if state.portraits is None:
        raise NotFound("Photo to character is not installed on this studio.",
                       "Ask the person who runs the studio to install it (bash scripts/setup.sh).")
    return state.portraits


def decode_photo(data: bytes, max_bytes: int, max_pixels: int, what: str = "The photo") -> np.ndarray:
    """Uploaded bytes -> (H, W, 3) uint8 RGB pixels, upright, at most UPLOAD_WORK_SIDE long, nothing else kept."""
    try:
        image = decode_upload(data, max_bytes, max_pixels, what)
    except (PayloadTooLarge, UnsupportedImage, Unprocessable) as e:
        raise type(e)(e.problem, PHOTO_HINTS[e.status]) from e
    return np.ascontiguousarray(to_rgb(image))  # (H, W, 3)


def _photo_out(photo: Photo, state: StudioState) -> PhotoOut:
    return PhotoOut(width=photo.width, height=photo.height, expires_in_s=round(state.photos.ttl_s))


def _prompt(points: list[Click], photo: Photo) -> Prompt:
    w, h = photo.width, photo.height
    for p in points:
        if p.x >= w or p.y >= h:
            raise Unprocessable(f"The click at {p.x},{p.y} is outside the {w}x{h} photo.",
                                f"Click on the photo: 0 <= x < {w} and 0 <= y < {h}, in pixels from its top-left corner.")
    if not any(p.foreground for p in points):
        raise Unprocessable("Every click says \"not the person\": nothing says who to take.", "Click on the person first.")
    return Prompt(points=tuple(Point(p.x, p.y, p.foreground) for p in points))


@router.get("/portrait", response_model=PortraitStudio)
def portrait_studio(state: StateDep, viewer: ParentDep) -> PortraitStudio:
    """What the photo page needs: the styles, the limits, and this login's photo if it is still kept."""
    portraits, s = state.portraits, state.settings
    photo = state.photos.peek(_owner(viewer))
    styles = portraits.styles if portraits is not None else []
    return PortraitStudio(available=portraits is not None, styles=[StyleOut(name=n, label=style_label(n)) for n in styles],
                          default_style=portraits.default_style if portraits is not None else None,
                          photo=_photo_out(photo, state) if photo is not None else None,
                          max_upload_bytes=s.max_upload_bytes, photo_minutes=s.photo_minutes)


@router.post("/portrait/photo", response_model=PhotoOut, openapi_extra=PHOTO_BODY)
async def upload_photo(request: Request, state: StateDep, viewer: ParentDep) -> PhotoOut:
    """Keep a photo for this login (replacing the one before) in memory, for clicks and styles.

    Send the photo's bytes as the body. Refused: more than the upload limit (413), not a JPEG,
    PNG or WebP (415), damaged or a strip's shape (422).
    """
    _portraits(state)
    s = state.settings
    chunks, total = [], 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > s.max_upload_bytes:
            raise PayloadTooLarge(too_many_bytes("The photo", s.max_upload_bytes).problem, PHOTO_HINTS[413])
        chunks.append(chunk)
    pixels = await run_in_threadpool(decode_photo, b"".join(chunks), s.max_upload_bytes, s.max_upload_pixels)
    return _photo_out(state.photos.put(_owner(viewer), pixels), state)


@router.delete("/portrait/photo", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
def forget_photo(state: StateDep, viewer: ParentDep) -> Response:
    """Forget this login's photo now (also fine when there is none)."""
    state.photos.drop(_owner(viewer))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/portrait/mask", response_class=Response, responses=PNG)
async def mask(body: MaskAsk, state: StateDep, viewer: ParentDep) -> Response:
    """The person the clicks point at, as a greyscale PNG of the photo's size (255 = the person).

    404 when the photo was forgotten (upload it again), 422 for a click outside it or clicks that
    select nobody.
    """
    portraits = _portraits(state)
    photo = state.photos.get(_owner(viewer))
    png = await portraits.work.run(_owner(viewer), portraits.mask, photo.pixels, _prompt(body.points, photo))
    return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})


@router.post("/portrait/stylize", response_class=Response, responses=PNG)
async def stylize(body: StylizeAsk, state: StateDep, viewer: ParentDep) -> Response:
    """The photo with the person the clicks point at redrawn in ``style`` (PNG of the photo's size).

    The time of each stage is in the Server-Timing header.
    """
    portraits = _portraits(state)
    photo = state.photos.get(_owner(viewer))
    prompt = _prompt(body.points, photo)
    portraits.check_style(body.style)  # before any work waits
    png, timings = await portraits.work.run(_owner(viewer), portraits.stylize, photo.pixels, prompt, body.style)
    timing = ", ".join(f"{stage};dur={ms:.0f}" for stage, ms in timings.items())
    return Response(png, media_type="image/png", headers={"Cache-Control": "no-store", "Server-Timing": timing})


# ----------------------------------------------------------------------------- the grown-up's album


@router.get("/portraits", response_model=list[PortraitOut])
def album(db: DB, viewer: ParentDep, limit: Annotated[int, Query(ge=1, le=LIST_LIMIT)] = 200,
          offset: Annotated[int, Query(ge=0)] = 0) -> list[PortraitOut]:
    """The grown-up's own saved pictures, newest first."""
    return [portrait_out(p) for p in list_portraits(db, viewer.parent.id, limit, offset)]


@router.post("/portraits", response_model=PortraitOut, status_code=status.HTTP_201_CREATED)
def save(
    db: DB,
    state: StateDep,
    viewer: ParentDep,
    response: Response,
    picture: Annotated[UploadFile, File(description="The picture: PNG, JPEG or WebP")],
    style: Annotated[str | None, Form(pattern=STYLE_NAME, description="The style it was made in")] = None,
) -> PortraitOut:
    """Keep a picture in the grown-up's own album; only its pixels are stored (as PNG).

    Saving the same picture again answers the first save (``Idempotent-Replayed: true``).
    """
    s = state.settings
    pixels = decode_photo(read_limited(picture.file, s.max_upload_bytes, "The picture"), s.max_upload_bytes,
                          s.max_upload_pixels, "The picture")
    if not state.reserve.ensure():  # saves never take the room kept for signing in and deleting
        raise disk_full()
    portrait, replayed = save_portrait(db, state.store, viewer.parent.id, png_bytes(pixels), style or None)
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return portrait_out(portrait)


@router.get("/portraits/{portrait_id}/picture.png", response_class=FileResponse, responses=PNG)
def picture(portrait_id: int, db: DB, state: StateDep, viewer: ParentDep) -> FileResponse:
    """A saved picture."""
    portrait = own_portrait(db, viewer.parent.id, portrait_id)
    if not state.store.exists(portrait.picture_key):
        raise NotFound("This picture's file is missing.", "Delete it from your album.")
    return FileResponse(state.store.path(portrait.picture_key), media_type="image/png", headers={"Cache-Control": IMAGE_CACHE})


@router.delete("/portraits/{portrait_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
def remove(portrait_id: int, db: DB, state: StateDep, viewer: ParentDep) -> Response:
    """Delete a saved picture and its file. Works on a full disk (see serve.reserve)."""
    with_room(state.reserve, db, lambda: delete_portrait(db, state.store, own_portrait(db, viewer.parent.id, portrait_id)))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
