"""Who am I, parent accounts, log in and out, and unlocking the parent area from a child profile."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from icanvas.serve.problems import Conflict, Forbidden, Unauthorized
from icanvas.serve.routes.deps import (
    DB, ChildDep, StateDep, Viewer, ViewerDep, clear_session_cookie, me_answer, set_session_cookie, start_login,
)
from icanvas.serve.schemas import Login, Me, Register, Unlock
from icanvas.serve.security import (
    LOGIN_PER_EMAIL, LOGIN_PER_IP, burn_time, check_limit, clear_failures, hash_secret, record_failure, verify_secret,
)
from icanvas.serve.tables import Parent

router = APIRouter(tags=["account"])

_SLOW_DOWN = ("Too many wrong tries.", "Wait a little and try again.")


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.get("/me", response_model=Me)
def me(request: Request, response: Response, state: StateDep, viewer: ViewerDep) -> Me:
    """Who is using the studio; (re)sets the CSRF cookie and returns its value."""
    return me_answer(request, response, state.settings, viewer)


@router.post("/auth/register", response_model=Me, status_code=status.HTTP_201_CREATED)
def register(body: Register, request: Request, response: Response, db: DB, state: StateDep, viewer: ViewerDep) -> Me:
    """Create a parent account and log in."""
    if db.scalar(select(Parent.id).where(Parent.email == body.email)) is not None:
        raise Conflict("There is already an account with this e-mail.", "Log in instead, or use another e-mail address.")
    parent = Parent(email=body.email, password_hash=hash_secret(body.password))
    db.add(parent)
    try:
        db.flush()
    except IntegrityError:
        db.rollback()
        raise Conflict("There is already an account with this e-mail.", "Log in instead, or use another e-mail address.") from None
    token, login = start_login(db, parent, state.settings, viewer.login)
    db.commit()
    set_session_cookie(request, response, state.settings, token)
    return me_answer(request, response, state.settings, Viewer("parent", parent, None, login))


@router.post("/auth/login", response_model=Me)
def login(body: Login, request: Request, response: Response, db: DB, state: StateDep, viewer: ViewerDep) -> Me:
    """Log in with e-mail and password; 429 after 5 failures in 15 minutes per e-mail and per address."""
    ip = client_ip(request)
    check_limit(db, LOGIN_PER_EMAIL, body.email, *_SLOW_DOWN)
    check_limit(db, LOGIN_PER_IP, ip, *_SLOW_DOWN)
    parent = db.scalar(select(Parent).where(Parent.email == body.email))
    if parent is None:
        burn_time(body.password)
    if parent is None or not verify_secret(body.password, parent.password_hash):
        record_failure(db, LOGIN_PER_EMAIL, body.email)
        record_failure(db, LOGIN_PER_IP, ip)
        db.commit()
        raise Unauthorized("That e-mail and password do not match.", "Check both and try again.")
    clear_failures(db, LOGIN_PER_EMAIL, body.email)
    token, session = start_login(db, parent, state.settings, viewer.login)
    db.commit()
    set_session_cookie(request, response, state.settings, token)
    return me_answer(request, response, state.settings, Viewer("parent", parent, None, session))


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
def logout(request: Request, db: DB, state: StateDep, viewer: ViewerDep) -> Response:
    """End this login (also fine when not logged in)."""
    if viewer.login is not None:
        db.delete(viewer.login)
        db.commit()
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    clear_session_cookie(request, response, state.settings)
    return response


@router.post("/parent/unlock", response_model=Me)
def unlock(body: Unlock, request: Request, response: Response, db: DB, state: StateDep, viewer: ChildDep) -> Me:
    """Leave the child profile for the parent area; needs the parent's password."""
    parent = viewer.parent
    check_limit(db, LOGIN_PER_EMAIL, parent.email, *_SLOW_DOWN)
    if not verify_secret(body.password, parent.password_hash):
        record_failure(db, LOGIN_PER_EMAIL, parent.email)
        db.commit()
        raise Forbidden("That is not the parent password.", "A grown-up types the password they log in with.")
    clear_failures(db, LOGIN_PER_EMAIL, parent.email)
    viewer.login.child_id = None
    db.commit()
    return me_answer(request, response, state.settings, Viewer("parent", parent, None, viewer.login))
