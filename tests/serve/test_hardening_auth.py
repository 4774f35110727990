"""Accounts under attack: sessions of deleted profiles, concurrent guessing, lock-outs by strangers,
telling who has an account, session fixation and made-up CSRF tokens; the 0002 migration on data."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import func, select

from icanvas.serve.db import alembic_config, make_engine, migrate, session_factory
from icanvas.serve.security import PIN_PER_CHILD, failures, take_try
from icanvas.serve.tables import LoginSession, ServerSecret, UTCDateTime, utcnow
from tests.serve.conftest import PASSWORD, PIN, Api, TestClient, both_databases

SIBLING_PIN = ["sun", "moon", "star"]  # child B's PIN in the `family` fixture
RACERS = 32  # concurrent tries in the race tests
WRONG = {"password": "not the password"}


def _browser(app, ip: str = "testclient") -> Api:
    """A fresh browser (no cookies) at client address ``ip``."""
    return Api(TestClient(app, client=(ip, 50000)))


def _race(app, cookies: dict, csrf: str, url: str, body: dict, n: int = RACERS) -> list[int]:
    """POST ``body`` to ``url`` from ``n`` threads at once, each with its own client; the statuses."""
    clients = [TestClient(app, cookies=cookies) for _ in range(n)]
    start = threading.Barrier(n)
    statuses: list[int] = []
    lock = threading.Lock()

    def go(client: TestClient) -> None:
        start.wait()
        status = client.post(url, json=body, headers={"X-CSRF-Token": csrf}).status_code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=go, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(statuses) == n
    return statuses


# ---------------------------------------------------------------- a deleted profile's session


@both_databases
def test_childs_session_is_a_guest_after_the_parent_deletes_the_profile(family):
    a, b, x = family["a"], family["b"], family["x"]
    ids = family["ids"]
    assert x.delete(f"/api/children/{ids['a']}").status_code == 204
    assert a.me()["role"] == "guest"
    assert a.get("/api/children").status_code == 401  # never the parent's list
    assert a.get(f"/api/children/{ids['b']}/export").status_code == 401  # nor a sibling's album
    assert a.post(f"/api/children/{ids['b']}/enter", json={"pin": SIBLING_PIN}).status_code == 401
    assert b.me()["role"] == "child" and x.me()["role"] == "parent"  # other logins go on


@pytest.fixture
def engine(tmp_path, database_url):
    eng = make_engine(database_url or f"sqlite:///{tmp_path / 'old.db'}")
    yield eng
    eng.dispose()


_META = sa.MetaData()
_OLD = {  # the tables of revision 0001 that the test fills, as that revision made them
    "parents": sa.Table("parents", _META, sa.Column("id", sa.Integer), sa.Column("email", sa.String),
                        sa.Column("password_hash", sa.String), sa.Column("created_at", UTCDateTime)),
    "children": sa.Table("children", _META, sa.Column("id", sa.Integer), sa.Column("parent_id", sa.Integer),
                         sa.Column("nickname", sa.String), sa.Column("avatar", sa.String), sa.Column("pin_hash", sa.String),
                         sa.Column("created_at", UTCDateTime)),
    "sessions": sa.Table("sessions", _META, sa.Column("id", sa.Integer), sa.Column("token_hash", sa.String),
                         sa.Column("parent_id", sa.Integer), sa.Column("child_id", sa.Integer),
                         sa.Column("created_at", UTCDateTime), sa.Column("expires_at", UTCDateTime)),
    "creations": sa.Table("creations", _META, sa.Column("id", sa.Integer), sa.Column("child_id", sa.Integer),
                          sa.Column("colours", sa.Integer), sa.Column("seconds", sa.Float), sa.Column("favourite", sa.Boolean),
                          sa.Column("drawing_key", sa.String), sa.Column("created_at", UTCDateTime)),
    "login_attempts": sa.Table("login_attempts", _META, sa.Column("id", sa.Integer), sa.Column("scope", sa.String),
                               sa.Column("key", sa.String), sa.Column("at", UTCDateTime)),
}


@both_databases
def test_migration_0002_upgrades_a_database_with_data(engine):
    migrate(engine, "0001")
    now = utcnow()
    t = _OLD
    with engine.begin() as conn:
        conn.execute(t["parents"].insert().values(id=1, email="old@example.com", password_hash="x", created_at=now))
        conn.execute(t["children"].insert(), [dict(id=i, parent_id=1, nickname=n, avatar="bear", pin_hash="x", created_at=now)
                                              for i, n in ((1, "A"), (2, "B"))])
        conn.execute(t["sessions"].insert(), [dict(id=1, token_hash="a" * 64, parent_id=1, child_id=1, created_at=now,
                                                   expires_at=now + timedelta(days=1)),
                                              dict(id=2, token_hash="b" * 64, parent_id=1, child_id=None, created_at=now,
                                                   expires_at=now + timedelta(days=1))])
        conn.execute(t["creations"].insert().values(id=1, child_id=1, colours=2, seconds=1.5, favourite=True,
                                                    drawing_key="c" * 64, created_at=now))
        conn.execute(t["login_attempts"].insert().values(scope="email", key="old@example.com", at=now))

    migrate(engine, "0002")
    with engine.connect() as conn:
        assert conn.execute(select(t["parents"].c.email)).scalars().all() == ["old@example.com"]
        assert conn.execute(select(t["children"].c.nickname).order_by(t["children"].c.id)).scalars().all() == ["A", "B"]
        assert conn.execute(select(t["creations"].c.drawing_key, t["creations"].c.favourite)).all() == [("c" * 64, True)]
        assert conn.execute(select(func.count()).select_from(t["sessions"])).scalar() == 0  # everyone logs in again
        assert conn.execute(select(func.count()).select_from(t["login_attempts"])).scalar() == 0
        assert len(bytes.fromhex(conn.execute(select(ServerSecret.value).where(ServerSecret.name == "csrf")).scalar())) == 32
    with session_factory(engine)() as db:  # a child's new login now ends with the profile
        db.add_all([LoginSession(token_hash="d" * 64, parent_id=1, child_id=1, expires_at=now + timedelta(days=1)),
                    LoginSession(token_hash="e" * 64, parent_id=1, child_id=None, expires_at=now + timedelta(days=1))])
        db.commit()
        db.execute(t["children"].delete().where(t["children"].c.id == 1))
        db.commit()
        assert db.scalars(select(LoginSession.token_hash)).all() == ["e" * 64]

    cfg = alembic_config(engine)
    with engine.begin() as conn:  # and back again
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0001")
    with engine.connect() as conn:
        assert not sa.inspect(conn).has_table("devices") and not sa.inspect(conn).has_table("server_secrets")
        assert conn.execute(select(t["parents"].c.email)).scalars().all() == ["old@example.com"]


# ---------------------------------------------------------------- concurrent guessing


@both_databases
def test_concurrent_tries_check_at_most_the_limit(engine):
    migrate(engine)
    sessions = session_factory(engine)
    start = threading.Barrier(RACERS)
    checked: list[int] = []
    lock = threading.Lock()

    def guess(i: int) -> None:
        with sessions() as db:
            start.wait()
            try:
                take_try(db, [(PIN_PER_CHILD, "race")], "p", "h")
            except Exception as e:  # noqa: BLE001  (only 429 may come)
                assert getattr(e, "status", None) == 429, e
                return
            with lock:
                checked.append(i)  # the secret would be checked here, and be wrong

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(RACERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert 1 <= len(checked) <= PIN_PER_CHILD.tries
    with sessions() as db:
        assert failures(db, PIN_PER_CHILD, "race") == len(checked)  # refused tries are not counted


@both_databases
def test_concurrent_wrong_pins_passwords_and_unlocks_are_limited(family):
    app, a, ids = family["a"].client.app, family["a"], family["ids"]
    statuses = _race(app, dict(a.client.cookies), a.csrf, f"/api/children/{ids['b']}/enter", {"pin": PIN})
    assert 1 <= statuses.count(403) <= 5 and statuses.count(429) == RACERS - statuses.count(403), statuses
    statuses = _race(app, dict(a.client.cookies), a.csrf, "/api/parent/unlock", WRONG)
    assert 1 <= statuses.count(403) <= 5 and statuses.count(429) == RACERS - statuses.count(403), statuses
    stranger = _browser(app, "203.0.113.9")
    stranger.me()
    statuses = _race(app, dict(stranger.client.cookies), stranger.csrf, "/api/auth/login", {"email": "x@example.com", **WRONG})
    assert 1 <= statuses.count(401) <= 5 and statuses.count(429) == RACERS - statuses.count(401), statuses


# ---------------------------------------------------------------- no lock-out button for strangers


def _login(api: Api, email: str, password: str = PASSWORD) -> int:
    return api.post("/api/auth/login", json={"email": email, "password": password}).status_code


@both_databases
def test_known_device_logs_in_after_a_stranger_failed_many_times(browser):
    parent = browser()
    parent.register("mum@example.com")  # this browser now is a known device of the account
    assert parent.post("/api/auth/logout").status_code == 204
    app = parent.client.app
    same_address = _browser(app)  # a stranger behind the parent's own address
    codes = [_login(same_address, "mum@example.com", "guess%03d!" % i) for i in range(8)]
    assert codes == [401] * 5 + [429] * 3  # the stranger is stopped
    assert _login(same_address, "mum@example.com") == 429  # even with the right password, from there
    for i in range(3):  # strangers from more addresses use up the e-mail's allowance (20)
        elsewhere = _browser(app, f"198.51.100.{i}")
        assert [_login(elsewhere, "mum@example.com", "guess%03d!" % j) for j in range(5)] == [401] * 5
    assert _login(_browser(app, "198.51.100.99"), "mum@example.com", "guess999!") == 429
    assert _login(parent, "mum@example.com") == 200  # the parent's own browser still gets in
    assert parent.me()["role"] == "parent"


@both_databases
def test_failures_for_one_account_do_not_stop_another_parent_at_that_address(browser):
    browser().register("one@example.com")
    browser().register("two@example.com")
    app = browser().client.app
    school = "192.0.2.10"  # many parents behind one school address
    first = _browser(app, school)
    assert [_login(first, "one@example.com", "forgot it %d" % i) for i in range(6)] == [401] * 5 + [429]
    second = _browser(app, school)  # a new browser: no device cookie
    assert _login(second, "two@example.com") == 200
    assert _login(_browser(app, "192.0.2.11"), "one@example.com") == 200  # from elsewhere the account is not locked


def test_a_device_counts_only_for_its_own_account(browser):
    api = browser()
    api.register("own@example.com")
    browser().register("other@example.com")
    api.post("/api/auth/logout")
    assert [_login(api, "other@example.com", "guess %d!" % i) for i in range(6)] == [401] * 5 + [429]
    assert _login(api, "own@example.com") == 200


# ---------------------------------------------------------------- signing up tells nothing


@both_databases
def test_register_answers_alike_whether_or_not_the_email_is_taken(browser, monkeypatch):
    from icanvas.serve.routes import auth

    hashed: list[str] = []
    real_hash = auth.hash_secret
    monkeypatch.setattr(auth, "hash_secret", lambda secret: hashed.append(secret) or real_hash(secret))
    api = browser()
    new = api.post("/api/auth/register", json={"email": "taken@example.com", "password": PASSWORD})
    again = api.post("/api/auth/register", json={"email": "TAKEN@example.com", "password": "another password"})
    assert new.status_code == again.status_code == 202 and new.json() == again.json()
    assert set(new.json()) == {"message", "hint"}
    assert "icanvas_session" not in new.headers.get("set-cookie", "") + again.headers.get("set-cookie", "")
    assert len(hashed) == 2  # the password is hashed either way: both answers take as long
    assert _login(api, "taken@example.com", "another password") == 401  # the account was not changed
    assert _login(api, "taken@example.com") == 200


def test_register_is_rate_limited_per_address(browser):
    api = browser()
    for i in range(10):
        assert api.post("/api/auth/register", json={"email": f"n{i}@example.com", "password": PASSWORD}).status_code == 202
    r = api.post("/api/auth/register", json={"email": "n10@example.com", "password": PASSWORD})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    other = _browser(api.client.app, "203.0.113.50")
    assert other.post("/api/auth/register", json={"email": "n11@example.com", "password": PASSWORD}).status_code == 202


# ---------------------------------------------------------------- new sessions, tied CSRF tokens


def _as(api: Api, session: str) -> TestClient:
    return TestClient(api.client.app, cookies={"icanvas_session": session})


@both_databases
def test_every_change_of_rights_gets_a_new_session(browser):
    api = browser()
    api.register("rot@example.com")
    kid = api.add_child("Ari")
    parent_token = api.client.cookies["icanvas_session"]
    parent_csrf = api.csrf
    assert api.enter(kid)["role"] == "child"
    child_token = api.client.cookies["icanvas_session"]
    assert child_token != parent_token and api.csrf != parent_csrf
    assert _as(api, parent_token).get("/api/me").json()["role"] == "guest"  # the old token has ended
    assert api.unlock()["role"] == "parent"
    assert api.client.cookies["icanvas_session"] != child_token
    assert _as(api, child_token).get("/api/me").json()["role"] == "guest"
    with api.client.app.state.studio.sessions() as db:
        assert db.scalar(select(func.count()).select_from(LoginSession)) == 1
    assert api.get("/api/children").status_code == 200


@both_databases
def test_made_up_csrf_pairs_are_refused(browser):
    api = browser()
    api.register("csrf@example.com")
    app = api.client.app
    made_up = "A" * 43
    for cookies in ({"icanvas_csrf": made_up}, {"icanvas_csrf": made_up, "icanvas_guest": "B" * 43},
                    {"icanvas_csrf": made_up, "icanvas_session": api.client.cookies["icanvas_session"]}):
        r = TestClient(app, cookies=cookies).post("/api/auth/logout", headers={"X-CSRF-Token": made_up})
        assert r.status_code == 403, cookies
    other = browser()
    other.me()
    r = api.client.post("/api/children", json={"nickname": "X", "avatar": "bear", "pin": PIN},
                        headers={"X-CSRF-Token": other.csrf})  # another browser's token
    assert r.status_code == 403
    guest = _browser(app)
    pre_login = guest.me()["csrf_token"]
    assert _login(guest, "csrf@example.com") == 200
    r = guest.client.post("/api/auth/logout", headers={"X-CSRF-Token": pre_login})
    assert r.status_code == 403  # a token from before the login no longer works
    assert guest.post("/api/auth/logout").status_code == 204


def test_csrf_key_is_shared_by_every_server_process(settings, pipelines):
    from icanvas.serve.app import create_app

    with TestClient(create_app(settings, pipelines=pipelines)) as one, TestClient(create_app(settings, pipelines=pipelines)) as two:
        token = one.get("/api/me").json()["csrf_token"]
        elsewhere = TestClient(two.app, cookies=dict(one.cookies))  # the same browser, answered by the other process
        assert elsewhere.post("/api/auth/logout", headers={"X-CSRF-Token": token}).status_code == 204
        with one.app.state.studio.sessions() as db:
            stored = db.scalar(select(ServerSecret.value).where(ServerSecret.name == "csrf"))
        assert one.app.state.studio.csrf_key == two.app.state.studio.csrf_key == bytes.fromhex(stored)
