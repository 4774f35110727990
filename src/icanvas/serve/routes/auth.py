"""Who am I, parent accounts, log in and out, and unlocking the parent area from a child profile.

Signing up never tells whether an e-mail already has an account: the answer, its status and
its time are the same either way (the password is hashed in both cases), and the page then
logs in with the same e-mail and password. Rate limits are described in
:mod:`icanvas.serve.security`.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status
from sqlalchemy import select

from icanvas.serve.problems import Forbidden, Unauthorized
from icanvas.serve.routes.deps import (
    DB, ChildDep, StateDep, Viewer, ViewerDep, clear_session_cookie, device_cookie, issue_csrf, me_answer,
    session_cookie, set_device_cookie, set_session_cookie, start_login, switch_login,
)
from icanvas.serve.reserve import with_room
from icanvas.serve.schemas import Login, Me, Register, SignedUp, Unlock
from icanvas.serve.security import (
    LOGIN_PER_ADDRESS, LOGIN_PER_DEVICE, LOGIN_PER_EMAIL, LOGIN_PER_PAIR, SIGNUP_PER_ADDRESS, UNLOCK_PER_PARENT, burn_time,
    hash_secret, insert_unless_present, known_device, remember_device, take_try, verify_secret,
)
from icanvas.serve.tables import Parent, utcnow

router = APIRouter(tags=["account"])

_SLOW_DOWN = ("Too many wrong tries.", "Wait a little and try again.")
_SIGNED_UP = SignedUp(message="If this e-mail address can be used, its account is ready.",
                      hint="Log in with the e-mail address and password. If you had an account already, use its password.")


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def pair_key(ip: str, email: str) -> str:
    """What ``LOGIN_PER_PAIR`` counts: one address trying one e-mail."""
    return f"{ip}\n{email}"


@router.get("/me", response_model=Me)
def me(request: Request, response: Response, state: StateDep, viewer: ViewerDep) -> Me:
    """Who is using the studio; (re)sets the CSRF cookie and returns its value."""
    return me_answer(request, response, state, viewer, session_cookie(request))


@router.post("/auth/register", response_model=SignedUp, status_code=status.HTTP_202_ACCEPTED)
def register(body: Register, request: Request, db: DB) -> SignedUp:
    """Create a parent account; the same answer whether or not the e-mail had one. Log in next.
    429 after 10 sign-ups from one address in an hour."""
    take_try(db, [(SIGNUP_PER_ADDRESS, client_ip(request))], "Too many sign-ups from here.", "Wait an hour and try again.")
    password_hash = hash_secret(body.password)  # hashed either way, so both answers take as long
    insert_unless_present(db, Parent, {"email": body.email, "password_hash": password_hash, "created_at": utcnow()}, ["email"])
    db.commit()
    return _SIGNED_UP


@router.post("/auth/login", response_model=Me)
def login(body: Login, request: Request, response: Response, db: DB, state: StateDep, viewer: ViewerDep) -> Me:
    """Log in with e-mail and password. A browser that logged in to the account before is limited
    on its own (5 failures in 15 minutes); other tries per address and e-mail (5), per e-mail (20)
    and per address (100), all in 15 minutes; 429 beyond. Works on a full disk (see serve.reserve)."""
    return with_room(state.reserve, db, lambda: _login(body, request, response, db, state, viewer))


def _login(body: Login, request: Request, response: Response, db: DB, state: StateDep, viewer: Viewer) -> Me:
    ip = client_ip(request)
    parent = db.scalar(select(Parent).where(Parent.email == body.email))
    device = known_device(db, device_cookie(request), parent.id if parent else None)
    if device is not None:
        counted = [(LOGIN_PER_DEVICE, str(device.id))]
    else:
        counted = [(LOGIN_PER_PAIR, pair_key(ip, body.email)), (LOGIN_PER_EMAIL, body.email), (LOGIN_PER_ADDRESS, ip)]
    attempt = take_try(db, counted, *_SLOW_DOWN)
    if parent is None:
        burn_time(body.password)
    if parent is None or not verify_secret(body.password, parent.password_hash):
        raise Unauthorized("That e-mail and password do not match.", "Check both and try again.")
    attempt.succeeded(db, forgive=[(LOGIN_PER_PAIR, pair_key(ip, body.email))] + ([counted[0]] if device else []))
    device_token = remember_device(db, parent.id, device)
    token, session = start_login(db, parent, state.settings, viewer.login)
    db.commit()
    state.photos.drop(viewer.login.token_hash if viewer.login else None)  # the old login ended
    set_session_cookie(request, response, state.settings, token)
    if device_token is not None:
        set_device_cookie(request, response, state.settings, device_token)
    return me_answer(request, response, state, Viewer("parent", parent, None, session), token)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
def logout(request: Request, db: DB, state: StateDep, viewer: ViewerDep) -> Response:
    """End this login (also fine when not logged in) and forget its photo; the CSRF cookie becomes the guest's."""
    if viewer.login is not None:
        state.photos.drop(viewer.login.token_hash)
        db.delete(viewer.login)
        db.commit()
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    clear_session_cookie(request, response, state.settings)
    issue_csrf(request, response, state, None)
    return response


@router.post("/parent/unlock", response_model=Me)
def unlock(body: Unlock, request: Request, response: Response, db: DB, state: StateDep, viewer: ChildDep) -> Me:
    """Leave the child profile for the parent area with the parent's password (a new session token);
    429 after 5 wrong passwords in 15 minutes per account."""
    parent = viewer.parent
    attempt = take_try(db, [(UNLOCK_PER_PARENT, str(parent.id))], *_SLOW_DOWN)
    if not verify_secret(body.password, parent.password_hash):
        raise Forbidden("That is not the parent password.", "A grown-up types the password they log in with.")
    attempt.succeeded(db, forgive=[(UNLOCK_PER_PARENT, str(parent.id))])
    token, session = switch_login(db, viewer.login, None)
    db.commit()
    set_session_cookie(request, response, state.settings, token, session.expires_at)
    return me_answer(request, response, state, Viewer("parent", parent, None, session), token)
