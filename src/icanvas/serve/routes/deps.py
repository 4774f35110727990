"""Shared route dependencies: the studio state, a database session, who is asking, CSRF, cookies.

Roles: guest (no login), parent (logged in, no child profile active), child (a parent's login
with a child profile active). Use the ``*Dep`` aliases in route signatures.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session, sessionmaker

from icanvas.serve.generation import GenerationPool
from icanvas.serve.kinds import Models
from icanvas.serve.problems import Forbidden, Unauthorized
from icanvas.serve.schemas import ChildBrief, Me, ParentOut
from icanvas.serve.security import new_token, same_token, token_hash
from icanvas.serve.settings import Settings
from icanvas.serve.storage import FileStore
from icanvas.serve.tables import Child, LoginSession, Parent, utcnow

SESSION_COOKIE = "icanvas_session"  # HttpOnly login token
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
    child = db.get(Child, login.child_id) if login.child_id is not None else None
    if child is not None and child.parent_id != parent.id:  # cannot happen through the API; refuse anyway
        child = None
    return Viewer("child" if child else "parent", parent, child, login)


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


def check_csrf(request: Request) -> None:
    """Double-submit check on every state-changing request: header must equal the cookie."""
    if request.method in UNSAFE_METHODS and not same_token(request.cookies.get(CSRF_COOKIE), request.headers.get(CSRF_HEADER)):
        raise Forbidden("The page's security token is missing or out of date.", "Reload the page and try again.")


# ---------------------------------------------------------------- cookies and the `me` answer


def _secure(request: Request, settings: Settings) -> bool:
    return settings.secure_cookies or request.url.scheme == "https"


def csrf_token_for(request: Request) -> str:
    """The CSRF token the browser already holds, or a fresh one."""
    token = request.cookies.get(CSRF_COOKIE)
    return token if token and _TOKEN_SHAPE.match(token) else new_token()


def set_csrf_cookie(request: Request, response: Response, settings: Settings, token: str) -> None:
    response.set_cookie(CSRF_COOKIE, token, max_age=int(timedelta(days=settings.session_days).total_seconds()),
                        path="/", secure=_secure(request, settings), httponly=False, samesite="lax")


def set_session_cookie(request: Request, response: Response, settings: Settings, token: str) -> None:
    response.set_cookie(SESSION_COOKIE, token, max_age=int(timedelta(days=settings.session_days).total_seconds()),
                        path="/", secure=_secure(request, settings), httponly=True, samesite="lax")


def clear_session_cookie(request: Request, response: Response, settings: Settings) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", secure=_secure(request, settings), httponly=True, samesite="lax")


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


def me_answer(request: Request, response: Response, settings: Settings, viewer: Viewer) -> Me:
    """The ``me`` body; (re)sets the CSRF cookie and returns its value too."""
    token = csrf_token_for(request)
    set_csrf_cookie(request, response, settings, token)
    parent = ParentOut(id=viewer.parent.id, email=viewer.parent.email) if viewer.parent else None
    child = ChildBrief.model_validate(viewer.child) if viewer.child else None
    return Me(role=viewer.role, parent=parent, child=child, csrf_token=token)
