"""Accounts over HTTP: me, register, login, logout, unlocking the parent area; error bodies."""

from __future__ import annotations

from tests.serve.conftest import PASSWORD, PIN, TestClient, both_databases


def test_guest_me(browser):
    me = browser().me()
    assert me["role"] == "guest" and me["parent"] is None and me["child"] is None and len(me["csrf_token"]) > 20


@both_databases
def test_register_then_login_and_logout_ends_it(browser):
    api = browser()
    me = api.register("Mum@Example.com")  # signs up (202), then logs in as the page does
    assert me["role"] == "parent" and me["parent"]["email"] == "mum@example.com" and me["csrf_token"] == api.csrf
    assert api.me()["role"] == "parent"
    r = api.post("/api/auth/logout")
    assert r.status_code == 204 and r.content == b""
    assert api.me()["role"] == "guest"
    assert api.post("/api/auth/logout").status_code == 204  # logging out twice is fine


@both_databases
def test_register_refuses_bad_input(browser):
    api = browser()
    api.register("dad@example.com")
    for body in ({"email": "dad2@example.com", "password": "short"}, {"email": "not-an-email", "password": PASSWORD},
                 {"email": "x@example.com"}):
        r = api.post("/api/auth/register", json=body)
        assert r.status_code == 422 and set(r.json()["detail"]) == {"problem", "hint"}, body


def test_login_with_right_and_wrong_password(browser):
    api = browser()
    api.register("p@example.com")
    api.post("/api/auth/logout")
    r = api.post("/api/auth/login", json={"email": "p@example.com", "password": "wrong wrong"})
    assert r.status_code == 401 and r.json()["detail"]["hint"]
    r = api.post("/api/auth/login", json={"email": "nobody@example.com", "password": PASSWORD})
    assert r.status_code == 401
    old = api.client.cookies.get("icanvas_session")
    r = api.post("/api/auth/login", json={"email": "p@example.com", "password": PASSWORD})
    assert r.status_code == 200 and r.json()["role"] == "parent"
    assert api.client.cookies["icanvas_session"] != old


def test_login_replaces_the_previous_session(browser):
    api = browser()
    api.register("s@example.com")
    first = api.client.cookies["icanvas_session"]
    api.post("/api/auth/login", json={"email": "s@example.com", "password": PASSWORD})
    thief = TestClient(api.client.app, cookies={"icanvas_session": first})
    assert thief.get("/api/me").json()["role"] == "guest"  # the old token no longer works


def test_child_mode_locks_parent_routes_until_unlock(browser):
    api = browser()
    api.register("lock@example.com")
    kid = api.add_child("Min")
    me = api.enter(kid)
    assert me["role"] == "child" and me["child"] == {"id": kid, "nickname": "Min", "avatar": "bear"}
    assert api.get("/api/children").status_code == 403
    assert api.post("/api/children", json={"nickname": "X", "avatar": "cat", "pin": PIN}).status_code == 403
    assert api.get(f"/api/children/{kid}/export").status_code == 403
    assert api.get("/api/profiles").status_code == 200
    r = api.post("/api/parent/unlock", json={"password": "not it at all"})
    assert r.status_code == 403 and api.me()["role"] == "child"
    assert api.unlock()["role"] == "parent"
    assert api.get("/api/children").status_code == 200
    assert api.post("/api/parent/unlock", json={"password": PASSWORD}).status_code == 403  # only from a child profile


def test_guest_gets_401_on_family_routes(browser):
    api = browser()
    for method, url in (("GET", "/api/children"), ("GET", "/api/profiles"), ("GET", "/api/progress"),
                        ("POST", "/api/parent/unlock")):
        r = api.request(method, url, json={"password": "x"} if method == "POST" else None)
        assert r.status_code == 401, url
        assert set(r.json()["detail"]) == {"problem", "hint"}


def test_errors_are_problem_bodies(browser):
    api = browser()
    r = api.get("/api/nothing-here")
    assert r.status_code == 404 and r.json()["detail"]["problem"]
    r = api.post("/api/auth/login", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and "problem" in r.json()["detail"]


def test_unexpected_errors_hide_the_traceback(settings, pipelines):
    from icanvas.serve.app import create_app

    class Broken:
        labels = ["cat"]

        def predict(self, lines, top=3):
            raise RuntimeError("secret internal detail")

    app = create_app(settings, pipelines=pipelines, recognizer=Broken())
    with TestClient(app, raise_server_exceptions=False) as client:
        token = client.get("/api/me").json()["csrf_token"]
        from tests.serve.conftest import drawing_png

        r = client.post("/api/recognize", files={"drawing": ("d.png", drawing_png(), "image/png")}, headers={"X-CSRF-Token": token})
    assert r.status_code == 500
    assert r.json() == {"detail": {"problem": "Something went wrong on our side.", "hint": "Try again."}}
    assert "secret" not in r.text and "Traceback" not in r.text


def test_openapi_and_pages(client):
    schema = client.get("/openapi.json").json()
    for path in ("/api/studio", "/api/me", "/api/generate", "/api/creations", "/api/children/{child_id}/export", "/api/progress"):
        assert path in schema["paths"], path
    r = client.get("/")
    assert r.status_code in (200, 404)
    if r.status_code == 200:
        assert r.headers["content-type"].startswith("text/html") and "content-security-policy" in r.headers
    assert client.get("/api/studio").headers["x-content-type-options"] == "nosniff"
