"""Child profiles: list, create, change, delete, export, and entering one with its picture PIN."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import StreamingResponse
from sqlalchemy import delete, func, select

from icanvas.serve import game
from icanvas.serve.album import delete_child, export_child, stars_of
from icanvas.serve.problems import Conflict, Forbidden, NotFound
from icanvas.serve.reserve import with_room
from icanvas.serve.routes.deps import DB, FamilyDep, ParentDep, StateDep, Viewer, me_answer, set_session_cookie, switch_login
from icanvas.serve.schemas import ChildBrief, ChildCreate, ChildOut, ChildPatch, Enter, Me
from icanvas.serve.security import PIN_PER_CHILD, hash_secret, pin_text, take_try, verify_secret
from icanvas.serve.tables import Child, LoginSession

router = APIRouter(tags=["children"])

MAX_CHILDREN = 12  # child profiles one parent account may have


def family_child(db: DB, viewer: Viewer, child_id: int) -> Child:
    """The child ``child_id`` of the viewer's family, else 404 (never tells whether it exists)."""
    child = db.get(Child, child_id)
    if child is None or viewer.parent is None or child.parent_id != viewer.parent.id:
        raise NotFound("There is no such child profile.", "Pick a profile from the list.")
    return child


def _out(db: DB, children: list[Child]) -> list[ChildOut]:
    stars = stars_of(db, [c.id for c in children])
    return [ChildOut(id=c.id, nickname=c.nickname, avatar=c.avatar, stars=stars[c.id], level=game.level_for(stars[c.id]).number)
            for c in children]


def _family(db: DB, viewer: Viewer) -> list[Child]:
    return list(db.scalars(select(Child).where(Child.parent_id == viewer.parent.id).order_by(Child.id)))


@router.get("/children", response_model=list[ChildOut])
def list_children(db: DB, viewer: ParentDep) -> list[ChildOut]:
    """The parent's child profiles with their stars and level (PINs are never shown)."""
    return _out(db, _family(db, viewer))


@router.get("/profiles", response_model=list[ChildBrief])
def profiles(db: DB, viewer: FamilyDep) -> list[ChildBrief]:
    """The family's profiles for the "who is drawing?" screen."""
    return [ChildBrief.model_validate(c) for c in _family(db, viewer)]


@router.post("/children", response_model=ChildOut, status_code=status.HTTP_201_CREATED)
def create_child(body: ChildCreate, db: DB, viewer: ParentDep) -> ChildOut:
    """Add a child profile with a nickname, an avatar and a picture PIN of three icons."""
    count = db.scalar(select(func.count()).select_from(Child).where(Child.parent_id == viewer.parent.id))
    if count >= MAX_CHILDREN:
        raise Conflict(f"An account can have at most {MAX_CHILDREN} child profiles.", "Delete a profile you no longer use first.")
    child = Child(parent_id=viewer.parent.id, nickname=body.nickname, avatar=body.avatar, pin_hash=hash_secret(pin_text(body.pin)))
    db.add(child)
    db.commit()
    return _out(db, [child])[0]


@router.patch("/children/{child_id}", response_model=ChildOut)
def change_child(child_id: int, body: ChildPatch, db: DB, viewer: ParentDep) -> ChildOut:
    """Change a profile's nickname, avatar or picture PIN."""
    child = family_child(db, viewer, child_id)
    if body.nickname is not None:
        child.nickname = body.nickname
    if body.avatar is not None:
        child.avatar = body.avatar
    if body.pin is not None:
        child.pin_hash = hash_secret(pin_text(body.pin))
    db.commit()
    return _out(db, [child])[0]


@router.delete("/children/{child_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
def remove_child(child_id: int, db: DB, state: StateDep, viewer: ParentDep) -> Response:
    """Delete a profile with all its creations, stars and badges, and their files; its logins end.
    Works on a full disk (see serve.reserve)."""

    def work() -> None:
        child = family_child(db, viewer, child_id)
        db.execute(delete(LoginSession).where(LoginSession.child_id == child.id))  # the database cascades too
        delete_child(db, state.store, child)

    with_room(state.reserve, db, work)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/children/{child_id}/export", response_class=StreamingResponse,
            responses={200: {"content": {"application/zip": {}}, "description": "profile.json, creations.json and the images"}})
def export(child_id: int, db: DB, state: StateDep, viewer: ParentDep) -> StreamingResponse:
    """Everything stored about one child, as a zip."""
    child = family_child(db, viewer, child_id)
    data = export_child(db, state.store, child)
    name = f"icanvas-child-{child.id}.zip"

    def chunks():
        try:
            while block := data.read(1 << 16):
                yield block
        finally:
            data.close()

    return StreamingResponse(chunks(), media_type="application/zip",
                             headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


@router.post("/children/{child_id}/enter", response_model=Me)
def enter(child_id: int, body: Enter, request: Request, response: Response, db: DB, state: StateDep, viewer: FamilyDep) -> Me:
    """Switch to a child profile with its picture PIN (a new session token); 429 after 5 wrong tries in 5 minutes."""
    child = family_child(db, viewer, child_id)
    key = str(child.id)
    attempt = take_try(db, [(PIN_PER_CHILD, key)], "Too many wrong picture PINs.", "Wait a few minutes, or ask a parent.")
    if not verify_secret(pin_text(body.pin), child.pin_hash):
        raise Forbidden("That picture PIN is not right.", "Try the three pictures again, in order.")
    attempt.succeeded(db, forgive=[(PIN_PER_CHILD, key)])
    token, login = switch_login(db, viewer.login, child.id)
    db.commit()
    state.photos.drop(viewer.login.token_hash)  # a grown-up's photo never stays behind a child's profile
    set_session_cookie(request, response, state.settings, token, login.expires_at)
    return me_answer(request, response, state, Viewer("child", viewer.parent, child, login), token)
