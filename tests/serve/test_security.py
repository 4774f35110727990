"""Password and PIN hashing, tokens, CSRF, cookie flags and rate limits."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from icanvas.serve.db import make_engine, migrate, session_factory
from icanvas.serve.problems import TooManyRequests
from icanvas.serve.security import (
    LOGIN_PER_EMAIL, LOGIN_PER_PAIR, PIN_PER_CHILD, clear_failures, failures, hash_secret, new_token, same_token, take_try,
    token_hash, verify_secret,
)
from icanvas.serve.tables import LoginSession
from tests.serve.conftest import PASSWORD, TestClient, both_databases


def test_scrypt_hashes_are_salted_and_verify(monkeypatch):
    from icanvas.serve import security

    monkeypatch.setattr(security, "SCRYPT_N", 2**14)  # the production cost
    a, b = hash_secret("hunter22"), hash_secret("hunter22")
    assert a != b and a.startswith("scrypt$16384$8$1$")
    assert verify_secret("hunter22", a) and verify_secret("hunter22", b)
    assert not verify_secret("hunter23", a)
    assert not verify_secret("hunter22", "garbage") and not verify_secret("hunter22", "md5$1$2$3$aa$bb")


def test_tokens_are_random_and_compared_safely():
    t1, t2 = new_token(), new_token()
    assert t1 != t2 and len(t1) >= 40
    assert token_hash(t1) == hashlib.sha256(t1.encode()).hexdigest()
    assert same_token(t1, t1) and not same_token(t1, t2) and not same_token("", "") and not same_token(None, t1)


def test_limiter_counts_tries_inside_the_window(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    migrate(engine)
    with session_factory(engine)() as db:
        for _ in range(PIN_PER_CHILD.tries):
            take_try(db, [(PIN_PER_CHILD, "7")], "p", "h")  # 5 tries pass their check and stay counted
        with pytest.raises(TooManyRequests) as info:
            take_try(db, [(PIN_PER_CHILD, "7")], "p", "h")
        assert 0 < info.value.retry_after <= PIN_PER_CHILD.window.total_seconds()
        assert info.value.headers["Retry-After"] == str(info.value.retry_after)
        assert failures(db, PIN_PER_CHILD, "7") == PIN_PER_CHILD.tries  # the refused try is not counted
        take_try(db, [(PIN_PER_CHILD, "8")], "p", "h")  # another key is not affected
        take_try(db, [(LOGIN_PER_PAIR, "7")], "p", "h")  # nor another scope
        take_try(db, [(PIN_PER_CHILD, "9")], "p", "h").succeeded(db)  # a right secret is not counted
        db.commit()
        assert failures(db, PIN_PER_CHILD, "9") == 0
        clear_failures(db, PIN_PER_CHILD, "7")
        assert failures(db, PIN_PER_CHILD, "7") == 0
    engine.dispose()


# ---------------------------------------------------------------- over HTTP


def test_csrf_is_required_on_every_change(browser):
    api = browser()
    api.me()
    raw = api.client
    body = {"email": "a@example.com", "password": PASSWORD}
    r = raw.post("/api/auth/register", json=body)  # cookie but no header
    assert r.status_code == 403 and "security token" in r.json()["detail"]["problem"]
    r = raw.post("/api/auth/register", json=body, headers={"X-CSRF-Token": "x" * 43})
    assert r.status_code == 403
    fresh = TestClient(raw.app)  # header but no cookie
    assert fresh.post("/api/auth/register", json=body, headers={"X-CSRF-Token": api.csrf}).status_code == 403
    r = raw.post("/api/generate", files={"drawing": ("d.png", b"x", "image/png")}, data={"kind": "cat"})
    assert r.status_code == 403  # guests too
    assert raw.post("/api/auth/register", json=body, headers={"X-CSRF-Token": api.csrf}).status_code == 202
    assert raw.post("/api/auth/login", json=body, headers={"X-CSRF-Token": api.csrf}).status_code == 200
    for method, url in (("PATCH", "/api/creations/1"), ("DELETE", "/api/children/1"), ("POST", "/api/auth/logout")):
        assert raw.request(method, url).status_code == 403, url
    assert raw.get("/api/children").status_code == 200  # reading needs no token


def _cookie(response, name: str) -> str:
    return next(h for h in response.headers.get_list("set-cookie") if h.startswith(name + "="))


def test_cookie_flags(browser):
    api = browser()
    r = api.client.get("/api/me")
    csrf = _cookie(r, "icanvas_csrf").lower()
    assert "samesite=lax" in csrf and "httponly" not in csrf and "secure" not in csrf
    assert r.json()["csrf_token"] == api.client.cookies["icanvas_csrf"]
    assert api.client.get("/api/me").json()["csrf_token"] == r.json()["csrf_token"]  # kept, not rotated per call
    guest = _cookie(r, "icanvas_guest").lower()
    assert "httponly" in guest and "samesite=lax" in guest and "secure" not in guest
    api.csrf = guest_csrf = r.json()["csrf_token"]
    api.post("/api/auth/register", json={"email": "c@example.com", "password": PASSWORD})
    r = api.post("/api/auth/login", json={"email": "c@example.com", "password": PASSWORD})
    session = _cookie(r, "icanvas_session").lower()
    assert "httponly" in session and "samesite=lax" in session and "secure" not in session
    device = _cookie(r, "icanvas_device").lower()
    assert "httponly" in device and "samesite=lax" in device and "path=/api/auth" in device
    assert r.json()["csrf_token"] == api.client.cookies["icanvas_csrf"] != guest_csrf  # a new login, a new token


def test_secure_cookies_setting(settings, pipelines):
    from icanvas.serve.app import create_app

    with TestClient(create_app(settings.model_copy(update={"secure_cookies": True}), pipelines=pipelines)) as client:
        r = client.get("/api/me")
        assert "secure" in _cookie(r, "icanvas_csrf").lower()


def test_session_token_is_stored_hashed(browser):
    api = browser()
    api.register("h@example.com")
    token = api.client.cookies["icanvas_session"]
    state = api.client.app.state.studio
    with state.sessions() as db:
        stored = db.scalars(select(LoginSession.token_hash)).all()
    assert stored == [hashlib.sha256(token.encode()).hexdigest()] and token not in stored


@both_databases
def test_login_rate_limit_per_address_and_email(browser):
    browser().register("rl@example.com")
    api = browser()  # a browser that never logged in to the account
    for _ in range(5):
        r = api.post("/api/auth/login", json={"email": "rl@example.com", "password": "wrong password"})
        assert r.status_code == 401 and r.json()["detail"]["problem"]
    r = api.post("/api/auth/login", json={"email": "rl@example.com", "password": PASSWORD})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0 and r.json()["detail"]["hint"]


def test_login_rate_limit_per_address(browser, monkeypatch):
    from icanvas.serve.routes import auth
    from icanvas.serve.security import Limit

    monkeypatch.setattr(auth, "LOGIN_PER_ADDRESS", Limit("ip", 8, auth.LOGIN_PER_ADDRESS.window))  # 100 in production
    browser().register("ip@example.com")
    api = browser()
    for i in range(8):
        r = api.post("/api/auth/login", json={"email": f"nobody{i}@example.com", "password": "whatever1"})
        assert r.status_code == 401
    r = api.post("/api/auth/login", json={"email": "ip@example.com", "password": PASSWORD})
    assert r.status_code == 429 and "Retry-After" in r.headers


def test_successful_login_forgives_the_pair_counter(browser):
    from icanvas.serve.routes.auth import pair_key

    browser().register("ok@example.com")
    api = browser()
    for _ in range(3):
        assert api.post("/api/auth/login", json={"email": "ok@example.com", "password": "nope nope"}).status_code == 401
    assert api.post("/api/auth/login", json={"email": "OK@example.com ", "password": PASSWORD}).status_code == 200
    with api.client.app.state.studio.sessions() as db:
        assert failures(db, LOGIN_PER_PAIR, pair_key("testclient", "ok@example.com")) == 0
        assert failures(db, LOGIN_PER_EMAIL, "ok@example.com") == 3  # others' failures are not forgiven by this one


@both_databases
def test_picture_pin_rate_limit(browser):
    api = browser()
    api.register("pin@example.com")
    kid = api.add_child("Kim", pin=["sun", "moon", "star"])
    for _ in range(5):
        r = api.post(f"/api/children/{kid}/enter", json={"pin": ["sun", "star", "moon"]})
        assert r.status_code == 403
    r = api.post(f"/api/children/{kid}/enter", json={"pin": ["sun", "moon", "star"]})
    assert r.status_code == 429 and 0 < int(r.headers["Retry-After"]) <= 300
