"""Shared route dependencies: the studio state, a database session, who is asking, CSRF, cookies.

Roles: guest (no login), parent (logged in, no child profile active), child (a parent's login
with a child profile active). Use the ``*Dep`` aliases in route signatures.

Every change of rights (log in, enter a child profile, unlock the parent area) gets a new
session token, and the old one ends. The CSRF token is an HMAC of the session token (or, for a
guest, of an HttpOnly guest cookie) under a key shared through the database
(:func:`icanvas.serve.security.server_key`): the page reads it from ``/api/me`` or the CSRF
cookie and echoes it in the ``X-CSRF-Token`` header.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, Form, Request, Response
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session, sessionmaker

from icanvas.serve.generation import GenerationPool
from icanvas.serve.kinds import Models
from icanvas.serve.photos import PhotoSlots
from icanvas.serve.portraits import Portraits
from icanvas.serve.problems import Forbidden, Unauthorized
from icanvas.serve.schemas import ChildBrief, Me, ParentOut
from icanvas.serve.security import CSRF_KEY, DEVICE_DAYS, csrf_token_of, new_token, same_token, server_key, token_hash
from icanvas.serve.reserve import SpaceReserve
from icanvas.serve.settings import Settings
from icanvas.serve.storage import FileStore
from icanvas.serve.tables import Child, LoginSession, Parent, utcnow

SESSION_COOKIE = "icanvas_session"  # HttpOnly login token
GUEST_COOKIE = "icanvas_guest"  # HttpOnly random token a guest's CSRF token is made from
DEVICE_COOKIE = "icanvas_device"  # HttpOnly token of a browser that once logged in (sent to /api/auth only)
DEVICE_COOKIE_PATH = "/api/auth"  # the only routes that read the device cookie
CSRF_COOKIE = "icanvas_csrf"  # readable by the page, echoed in the CSRF header
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{20,100}$")


@dataclass
class StudioState:
    """Everything the server sets up once at start (``app.state.studio``)."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    store: FileStore
    pool: GenerationPool
    models: Models
    missions: list[Any]  # game.Mission
    reserve: SpaceReserve  # room kept on the data disk for signing in and deleting when it is full
    photos: PhotoSlots  # grown-ups' uploaded photos, in memory only, one per login
    portraits: Portraits | None = None  # photo -> character; None when its stages are not installed
    csrf_key: bytes | None = None  # shared key of CSRF tokens, read from the database on first use


@dataclass
class Viewer:
    """Who sent the request."""

    role: str  # "guest", "parent" or "child"
    parent: Parent | None = None
    child: Child | None = None
    login: LoginSession | None = None


def get_state(request: Request) -> StudioState:
    return request.app.state.studio


StateDep = Annotated[StudioState, Depends(get_state)]
CanvasFlag = Annotated[bool, Form(description="true when the drawing is the studio's own canvas export: no sheet of "
                                  "paper is looked for in it (a photo of paper goes through POST /api/paper)")]


def get_db(state: StateDep) -> Iterator[Session]:
    with state.sessions() as db:
        yield db


DB = Annotated[Session, Depends(get_db)]


def get_viewer(request: Request, db: DB) -> Viewer:
    token = request.cookies.get(SESSION_COOKIE)
    if not token or not _TOKEN_SHAPE.match(token):
        return Viewer("guest")
    login = db.scalar(select(LoginSession).where(LoginSession.token_hash == token_hash(token)))
    if login is None or login.expires_at <= utcnow():
        return Viewer("guest")
    parent = db.get(Parent, login.parent_id)
    if parent is None:
        return Viewer("guest")
    if login.child_id is None:
        return Viewer("parent", parent, None, login)
    child = db.get(Child, login.child_id)
    if child is None or child.parent_id != parent.id:  # a child's login never becomes a parent's
        return Viewer("guest")
    return Viewer("child", parent, child, login)


ViewerDep = Annotated[Viewer, Depends(get_viewer)]


def require_parent(viewer: ViewerDep) -> Viewer:
    if viewer.role == "guest":
        raise Unauthorized("Please log in as a parent first.", "Log in with your e-mail and password.")
    if viewer.role == "child":
        raise Forbidden("This is for grown-ups.", "Ask a parent to unlock the parent area with their password.")
    return viewer


def require_child(viewer: ViewerDep) -> Viewer:
    if viewer.role == "guest":
        raise Unauthorized("Log in and pick a child profile to save drawings.", "A parent logs in, then the child picks their profile.")
    if viewer.role == "parent":
        raise Forbidden("Pick a child profile first.", "Choose a profile and enter its picture PIN.")
    return viewer


def require_family(viewer: ViewerDep) -> Viewer:
    if viewer.role == "guest":
        raise Unauthorized("Please log in first.", "A parent logs in with their e-mail and password.")
    return viewer


ParentDep = Annotated[Viewer, Depends(require_parent)]
ChildDep = Annotated[Viewer, Depends(require_child)]
FamilyDep = Annotated[Viewer, Depends(require_family)]


def csrf_key(state: StudioState) -> bytes:
    """The shared CSRF key (read once per process; every process reads the same row)."""
    if state.csrf_key is None:
        with state.sessions() as db:
            state.csrf_key = server_key(db, CSRF_KEY)
    return state.csrf_key


def _shaped(token: str | None) -> str | None:
    return token if token and _TOKEN_SHAPE.match(token) else None


def session_cookie(request: Request) -> str | None:
    """The browser's session token, if it sent one of the right shape (valid or not)."""
    return _shaped(request.cookies.get(SESSION_COOKIE))


def _binding(session: str | None, guest: str | None) -> str | None:
    """What a CSRF token is made from: the session token, else the guest token."""
    return f"session:{session}" if session else f"guest:{guest}" if guest else None


def check_csrf(request: Request, state: StateDep) -> None:
    """On every state-changing request the header must be the CSRF token of the browser's session
    (or guest) cookie; a made-up cookie and header pair does not pass."""
    if request.method not in UNSAFE_METHODS:
        return
    binding = _binding(session_cookie(request), _shaped(request.cookies.get(GUEST_COOKIE)))
    expected = csrf_token_of(csrf_key(state), binding) if binding else None
    if not same_token(request.headers.get(CSRF_HEADER), expected):
        raise Forbidden("The page's security token is missing or out of date.", "Reload the page and try again.")


# ---------------------------------------------------------------- cookies and the `me` answer


def _secure(request: Request, settings: Settings) -> bool:
    return settings.secure_cookies or request.url.scheme == "https"


def _cookie_age(settings: Settings, until: datetime | None = None) -> int:
    if until is None:
        return int(timedelta(days=settings.session_days).total_seconds())
    return max(1, int((until - utcnow()).total_seconds()))


def _set_cookie(request: Request, response: Response, settings: Settings, name: str, value: str, max_age: int,
                *, httponly: bool = True, path: str = "/") -> None:
    response.set_cookie(name, value, max_age=max_age, path=path, secure=_secure(request, settings), httponly=httponly,
                        samesite="lax")


def issue_csrf(request: Request, response: Response, state: StudioState, session: str | None) -> str:
    """The CSRF token for a browser that holds session token ``session`` after this answer (None:
    no login, then its guest cookie, made here when missing); also sets the CSRF cookie."""
    settings = state.settings
    guest = None
    if session is None:
        guest = _shaped(request.cookies.get(GUEST_COOKIE))
        if guest is None:
            guest = new_token()
            _set_cookie(request, response, settings, GUEST_COOKIE, guest, _cookie_age(settings))
    token = csrf_token_of(csrf_key(state), _binding(session, guest))
    _set_cookie(request, response, settings, CSRF_COOKIE, token, _cookie_age(settings), httponly=False)
    return token


def set_session_cookie(request: Request, response: Response, settings: Settings, token: str,
                       until: datetime | None = None) -> None:
    """The HttpOnly session cookie, kept until ``until`` (default: ``session_days`` from now)."""
    _set_cookie(request, response, settings, SESSION_COOKIE, token, _cookie_age(settings, until))


def clear_session_cookie(request: Request, response: Response, settings: Settings) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", secure=_secure(request, settings), httponly=True, samesite="lax")


def device_cookie(request: Request) -> str | None:
    return _shaped(request.cookies.get(DEVICE_COOKIE))


def set_device_cookie(request: Request, response: Response, settings: Settings, token: str) -> None:
    _set_cookie(request, response, settings, DEVICE_COOKIE, token, int(timedelta(days=DEVICE_DAYS).total_seconds()),
                path=DEVICE_COOKIE_PATH)


def start_login(db: Session, parent: Parent, settings: Settings, old: LoginSession | None = None) -> tuple[str, LoginSession]:
    """A new server-side session for ``parent`` (the old one, if any, ends); returns (token, row)."""
    if old is not None:
        db.delete(old)
    now = utcnow()
    db.execute(delete(LoginSession).where(LoginSession.parent_id == parent.id, LoginSession.expires_at <= now))
    token = new_token()
    login = LoginSession(token_hash=token_hash(token), parent_id=parent.id, child_id=None, created_at=now,
                         expires_at=now + timedelta(days=settings.session_days))
    db.add(login)
    return token, login


def switch_login(db: Session, old: LoginSession, child_id: int | None) -> tuple[str, LoginSession]:
    """The same login with other rights (``child_id`` None: the parent's) under a new token: the old
    row is deleted, the new one ends when the old one would have; returns (token, row)."""
    if db.execute(delete(LoginSession).where(LoginSession.id == old.id)).rowcount != 1:  # ended or switched meanwhile
        raise Unauthorized("This login has ended.", "Log in again.")
    token = new_token()
    login = LoginSession(token_hash=token_hash(token), parent_id=old.parent_id, child_id=child_id, created_at=utcnow(),
                         expires_at=old.expires_at)
    db.add(login)
    return token, login


def me_answer(request: Request, response: Response, state: StudioState, viewer: Viewer, session: str | None) -> Me:
    """The ``me`` body for a browser that holds session token ``session`` after this answer (None:
    no login); (re)sets the CSRF cookie and returns its value too."""
    token = issue_csrf(request, response, state, session)
    parent = ParentOut(id=viewer.parent.id, email=viewer.parent.email) if viewer.parent else None
    child = ChildBrief.model_validate(viewer.child) if viewer.child else None
    return Me(role=viewer.role, parent=parent, child=child, csrf_token=token)
