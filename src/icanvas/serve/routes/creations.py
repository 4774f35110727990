"""The album: saving a creation (with its rewards), listing, favourites, deleting, the images.

A child sees and changes only their own creations, a parent only their children's; anyone
else gets 404 for a creation, so its existence is never revealed.

Saving is idempotent when the page names the save: an ``Idempotency-Key`` header or an
``idempotency_key`` form field (8 to 64 letters, digits, ``-`` or ``_``; a fresh random one per
save, the same one when retrying it). A save whose key the child used before answers 201 with
the creation saved then and the same rewards, marked ``Idempotent-Replayed: true``, and
writes nothing.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, File, Form, Header, Query, Response, UploadFile, status
from fastapi.responses import FileResponse
from sqlalchemy import select

from icanvas.serve import game
from icanvas.serve.album import Saved, creation_out, delete_creation, replay, save_creation, saved_with_key
from icanvas.serve.images import decode_drawing, decode_upload, png_bytes, read_limited
from icanvas.serve.problems import NotFound, Unprocessable
from icanvas.serve.reserve import with_room
from icanvas.serve.routes.children import family_child
from icanvas.serve.routes.deps import DB, CanvasFlag, ChildDep, ParentDep, StateDep, Viewer, ViewerDep
from icanvas.serve.schemas import CreationOut, CreationSaved, Favourite, Reason, RewardsOut
from icanvas.serve.storage import disk_full
from icanvas.serve.tables import Child, Creation, utcnow

router = APIRouter(tags=["album"])

LIST_LIMIT = 500  # most creations one listing returns
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_-]{8,64}$")  # shape of a save's idempotency key (fits creations.idempotency_key)
REPLAYED_HEADER = "Idempotent-Replayed"  # "true" on the answer to a retried save
IMAGE_CACHE = "private, max-age=3600"  # images change never (new ones get new ids), but stay private


def visible_creation(db: DB, viewer: Viewer, creation_id: int) -> Creation:
    """The creation if the viewer may see it (own child / own children), else 404."""
    creation = db.get(Creation, creation_id)
    if creation is not None:
        if viewer.role == "child" and creation.child_id == viewer.child.id:
            return creation
        if viewer.role == "parent" and db.get(Child, creation.child_id).parent_id == viewer.parent.id:
            return creation
    raise NotFound("There is no such creation.", "Pick one from the album.")


@router.post("/creations", response_model=CreationSaved, status_code=status.HTTP_201_CREATED)
def save(
    db: DB,
    state: StateDep,
    viewer: ChildDep,
    response: Response,
    drawing: Annotated[UploadFile, File(description="The drawing as PNG")],
    picture: Annotated[UploadFile | None, File(description="The generated picture as PNG")] = None,
    kind: Annotated[str | None, Form(max_length=40)] = None,
    colours: Annotated[int, Form(ge=0, le=64)] = 0,
    seconds: Annotated[float, Form(ge=0, le=86_400)] = 0.0,
    mission_id: Annotated[str | None, Form(max_length=60)] = None,
    idempotency_key: Annotated[str | None, Form(max_length=64)] = None,
    idempotency_header: Annotated[str | None, Header(alias="Idempotency-Key", max_length=64)] = None,
    canvas: CanvasFlag = False,
) -> CreationSaved:
    """Save a drawing (and its picture) to the child's album and hand out stars, missions and badges.

    Send the same ``Idempotency-Key`` (header or form field) when retrying a save: it is then saved once.
    """
    key = _idempotency_key(idempotency_header, idempotency_key)
    if key is not None and (earlier := saved_with_key(db, viewer.child.id, key)) is not None:
        return _answer(replay(db, earlier), response)
    s, models = state.settings, state.models
    image, drawn = decode_drawing(read_limited(drawing.file, s.max_upload_bytes), s.max_upload_bytes, s.max_upload_pixels,
                                  canvas=canvas)
    lines = drawn.lines  # an empty canvas was a 422
    picture_png = None
    if picture is not None and (picture.filename or picture.size):
        what = "The picture"
        pic = decode_upload(read_limited(picture.file, s.max_upload_bytes, what), s.max_upload_bytes, s.max_upload_pixels, what)
        picture_png = png_bytes(pic)
    kind = kind or None
    if kind is not None and kind not in models.pipelines:
        raise Unprocessable(f"The studio does not know the kind {kind!r}.", f"Use one of: {', '.join(models.pipelines) or 'none'}.")
    mission_id = mission_id or None
    if mission_id is not None and mission_id not in {m.id for m in state.missions}:
        raise Unprocessable(f"There is no mission {mission_id!r}.", "Pick a mission from the list.")
    if not state.reserve.ensure():  # children's saves never take the room kept for signing in and deleting
        raise disk_full()
    guesses = models.guess(lines, top=1)
    label, prob = (guesses[0].label, guesses[0].prob) if guesses else (None, None)
    recognized = label if prob is not None and prob >= game.RECOGNIZED_MIN_PROB else None
    facts = game.CreationFacts(at=utcnow(), kind=kind, recognized=recognized, colours=colours, seconds=seconds, mission_id=mission_id)
    saved = save_creation(db, state.store, viewer.child, png_bytes(image), picture_png, facts, state.missions,
                          models.known_labels, recognized_prob=prob, idempotency_key=key)
    return _answer(saved, response)


def _idempotency_key(header: str | None, field: str | None) -> str | None:
    """The save's idempotency key from the header or the form field (422 when malformed or when they differ)."""
    header, field = header or None, field or None
    if header is not None and field is not None and header != field:
        raise Unprocessable("The Idempotency-Key header and the idempotency_key field differ.", "Send the key once.")
    key = header or field
    if key is not None and not IDEMPOTENCY_KEY.match(key):
        raise Unprocessable("The idempotency key is not 8 to 64 letters, digits, '-' or '_'.",
                            "Send a fresh random key per save, e.g. 32 hex digits, and the same one when retrying it.")
    return key


def _answer(saved: Saved, response: Response) -> CreationSaved:
    if saved.replayed:
        response.headers[REPLAYED_HEADER] = "true"
    r = saved.rewards
    out = RewardsOut(stars=r.stars, reasons=[Reason(key=k, stars=v) for k, v in r.reasons], missions_done=list(r.missions_done),
                     badges=list(r.badges), level=game.level_for(saved.total).number, level_up=r.level_up, total_stars=saved.total)
    return CreationSaved(creation=creation_out(saved.creation), rewards=out)


@router.get("/creations", response_model=list[CreationOut])
def album(
    db: DB,
    viewer: ViewerDep,
    child_id: int | None = None,
    kind: Annotated[str | None, Query(max_length=40)] = None,
    favourite: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=LIST_LIMIT)] = 200,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[CreationOut]:
    """Newest first: a child's own creations, or a parent's children's (``child_id`` narrows it)."""
    if viewer.role == "guest":
        return []
    if viewer.role == "child":
        if child_id is not None and child_id != viewer.child.id:
            raise NotFound("There is no such child profile.", "Pick a profile from the list.")
        q = select(Creation).where(Creation.child_id == viewer.child.id)
    elif child_id is not None:
        q = select(Creation).where(Creation.child_id == family_child(db, viewer, child_id).id)
    else:
        q = select(Creation).join(Child, Child.id == Creation.child_id).where(Child.parent_id == viewer.parent.id)
    if kind is not None:
        q = q.where(Creation.kind == kind)
    if favourite is not None:
        q = q.where(Creation.favourite == favourite)
    rows = db.scalars(q.order_by(Creation.created_at.desc(), Creation.id.desc()).limit(limit).offset(offset))
    return [creation_out(c) for c in rows]


@router.patch("/creations/{creation_id}", response_model=CreationOut)
def mark(creation_id: int, body: Favourite, db: DB, viewer: ViewerDep) -> CreationOut:
    """Mark or unmark a favourite (the child who made it, or their parent)."""
    creation = visible_creation(db, viewer, creation_id)
    creation.favourite = body.favourite
    db.commit()
    return creation_out(creation)


@router.delete("/creations/{creation_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
def remove(creation_id: int, db: DB, state: StateDep, viewer: ParentDep) -> Response:
    """Delete a creation; its files go when no other creation uses them. Works on a full disk (see serve.reserve)."""
    with_room(state.reserve, db, lambda: delete_creation(db, state.store, visible_creation(db, viewer, creation_id)))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _image(db: DB, state: StateDep, viewer: Viewer, creation_id: int, which: str) -> FileResponse:
    creation = visible_creation(db, viewer, creation_id)
    key = creation.drawing_key if which == "drawing" else creation.picture_key
    if not key or not state.store.exists(key):
        raise NotFound(f"This creation has no {which}.", "Make a picture from the drawing first.")
    return FileResponse(state.store.path(key), media_type="image/png", headers={"Cache-Control": IMAGE_CACHE})


@router.get("/creations/{creation_id}/drawing.png", response_class=FileResponse, responses={200: {"content": {"image/png": {}}}})
def drawing_png(creation_id: int, db: DB, state: StateDep, viewer: ViewerDep) -> FileResponse:
    """The drawing of a creation."""
    return _image(db, state, viewer, creation_id, "drawing")


@router.get("/creations/{creation_id}/picture.png", response_class=FileResponse, responses={200: {"content": {"image/png": {}}}})
def picture_png(creation_id: int, db: DB, state: StateDep, viewer: ViewerDep) -> FileResponse:
    """The picture made from a creation's drawing."""
    return _image(db, state, viewer, creation_id, "picture")
