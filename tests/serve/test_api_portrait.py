"""Photo -> character over the API, with stand-in stages: grown-ups only, upload limits, no
metadata kept, clicks and masks, styles, the grown-up's own album, photos forgotten in time,
and a slow photo holding up nothing else."""

from __future__ import annotations

import io
import threading
import time
from datetime import timedelta

import numpy as np
import pytest
import sqlalchemy as sa
from PIL import Image

from icanvas.serve.db import alembic_config, migrate, session_factory
from icanvas.serve.tables import Parent, Portrait, utcnow
from tests.serve.conftest import Api, TestClient, both_databases, decode_png, drawing_png, png
from tests.serve.fake_portrait import (
    BACKGROUND, BODY, HEAD, SECRET, SHIRT, UPRIGHT, fake_kit, person_image, person_jpeg, photo_png,
)
from tests.serve.test_db import engine  # noqa: F401  (fixture reused: an empty database on every backend)

IMAGE = {"Content-Type": "image/jpeg"}
ON_SHIRT = {"x": 240, "y": 500}  # a click on the body, px of the upright photo
ON_HEAD = {"x": HEAD[0], "y": HEAD[1]}
ON_WALL = {"x": 20, "y": 20}


@pytest.fixture
def kit():
    return fake_kit()


@pytest.fixture
def app(settings, pipelines, recognizer, kit):
    from icanvas.serve.app import create_app

    return create_app(settings, pipelines=pipelines, recognizer=recognizer, portrait=kit)


def upload(api, data: bytes | None = None, content_type: str = "image/jpeg"):
    return api.post("/api/portrait/photo", content=person_jpeg() if data is None else data, headers={"Content-Type": content_type})


def mask_of(api, *points: dict, **fg):
    return api.post("/api/portrait/mask", json={"points": [{**p, **fg} for p in points]})


def stylize(api, *points: dict, style: str = "toon"):
    return api.post("/api/portrait/stylize", json={"points": list(points), "style": style})


def save(api, picture: bytes, style: str | None = "toon", name: str = "picture.png", ctype: str = "image/png"):
    return api.post("/api/portraits", files={"picture": (name, picture, ctype)}, data={"style": style} if style else None)


def files_under(folder) -> list:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def state_of(api):
    return api.client.app.state.studio


# ---------------------------------------------------------------- who may use it


@both_databases
def test_only_the_grown_up_who_made_it_gets_in(family):
    x, y, a, guest = family["x"], family["y"], family["a"], family["guest"]
    assert upload(x).status_code == 200
    picture = stylize(x, ON_SHIRT)
    assert picture.status_code == 200, picture.text
    saved = save(x, picture.content)
    assert saved.status_code == 201, saved.text
    pid = saved.json()["id"]
    routes = [("GET", "/api/portrait", {}), ("POST", "/api/portrait/photo", {"content": person_jpeg(), "headers": IMAGE}),
              ("DELETE", "/api/portrait/photo", {}), ("POST", "/api/portrait/mask", {"json": {"points": [ON_SHIRT]}}),
              ("POST", "/api/portrait/stylize", {"json": {"points": [ON_SHIRT], "style": "toon"}}),
              ("GET", "/api/portraits", {}), ("POST", "/api/portraits", {"files": {"picture": ("p.png", picture.content, "image/png")}}),
              ("GET", f"/api/portraits/{pid}/picture.png", {}), ("DELETE", f"/api/portraits/{pid}", {})]
    for method, url, kw in routes:
        assert guest.request(method, url, **kw).status_code == 401, (method, url)
        r = a.request(method, url, **kw)  # a child profile of the same family
        assert r.status_code == 403 and "grown-ups" in r.json()["detail"]["problem"], (method, url)
    # another grown-up: none of x's photo or pictures, and the same answer as for nothing at all
    assert y.get("/api/portrait").json()["photo"] is None
    assert mask_of(y, ON_SHIRT).status_code == 404 and stylize(y, ON_SHIRT).status_code == 404
    assert y.get("/api/portraits").json() == []
    for r in (y.get(f"/api/portraits/{pid}/picture.png"), y.delete(f"/api/portraits/{pid}"), y.get("/api/portraits/999999/picture.png")):
        assert r.status_code == 404 and r.json()["detail"]["problem"] == "There is no such picture."
    assert x.get(f"/api/portraits/{pid}/picture.png").content[:8] == b"\x89PNG\r\n\x1a\n"  # x's things are all still there
    assert mask_of(x, ON_SHIRT).status_code == 200


def test_a_child_entering_or_logging_out_forgets_the_grown_ups_photo(family):
    x = family["x"]
    slots = state_of(x).photos
    assert upload(x).status_code == 200 and x.get("/api/portrait").json()["photo"]["width"] == UPRIGHT[0]
    n = len(slots)
    x.enter(family["ids"]["a"])  # the parent lets a child draw: the photo goes
    assert len(slots) == n - 1
    x.unlock()
    assert x.get("/api/portrait").json()["photo"] is None and mask_of(x, ON_SHIRT).status_code == 404
    assert upload(x).status_code == 200 and len(slots) == n
    assert x.post("/api/auth/logout").status_code == 204
    assert len(slots) == n - 1


# ---------------------------------------------------------------- uploads


def _gif() -> bytes:
    buf = io.BytesIO()
    person_image().save(buf, "GIF")
    return buf.getvalue()


def test_refused_uploads_say_what_was_wrong(browser, settings):
    x = browser()
    x.register("x@example.com")
    jpeg = person_jpeg()
    huge_file = np.random.default_rng(0).integers(0, 256, (900, 1200, 3), np.uint8)  # noise: a PNG far over 2 MB
    cases = {
        "empty": (b"", 422, "empty"),
        "text": (b"hello, this is not a photo at all", 415, "not a PNG, JPEG or WebP"),
        "gif": (_gif(), 415, "GIF"),
        "corrupt": (jpeg[: len(jpeg) // 3] + bytes(range(256)) * 8 + jpeg[-100:], 422, "damaged"),
        "too many bytes": (png(huge_file), 413, "larger than"),
        "too many pixels": (png(Image.new("RGB", (2100, 2100), "white")), 413, "megapixels"),
        "strip": (png(Image.new("RGB", (3000, 200), "white")), 422, "more than 8 times"),
    }
    assert len(cases["too many bytes"][0]) > settings.max_upload_bytes
    for name, (data, code, words) in cases.items():
        r = upload(x, data)
        assert r.status_code == code, (name, r.status_code, r.text)
        problem, hint = r.json()["detail"]["problem"], r.json()["detail"]["hint"]
        assert words in problem and hint and "canvas" not in hint, (name, problem, hint)  # a photo's hint, not a drawing's
        assert problem.startswith("The photo"), (name, problem)
    assert x.get("/api/portrait").json()["photo"] is None  # nothing refused was kept
    for data, ctype in ((photo_png(), "image/png"), (png(person_image(), "WEBP"), "image/webp")):
        r = upload(x, data, ctype)
        assert r.status_code == 200 and r.json()["width"] == UPRIGHT[0], r.text


def test_a_photo_leaves_no_metadata_and_touches_no_disk(browser, settings):
    x = browser()
    x.register("x@example.com")
    before = files_under(settings.data_dir)
    r = upload(x)
    assert r.status_code == 200
    assert (r.json()["width"], r.json()["height"]) == UPRIGHT  # the phone's orientation applied: the person stands up
    assert files_under(settings.data_dir) == before  # kept in memory only
    result = stylize(x, ON_SHIRT)
    assert result.status_code == 200
    assert SECRET.encode() not in result.content
    with Image.open(io.BytesIO(result.content)) as img:
        assert img.format == "PNG" and img.size == UPRIGHT and not img.getexif() and "exif" not in img.info

    # saving: the result, and a JPEG full of metadata sent as the picture; only pixels are stored
    for picture, name, ctype in ((result.content, "r.png", "image/png"), (person_jpeg(), "p.jpg", "image/jpeg")):
        r = save(x, picture, name=name, ctype=ctype)
        assert r.status_code == 201, r.text
    stored = files_under(settings.files_dir)
    assert len(stored) == 2
    for path in stored:
        data = path.read_bytes()
        assert SECRET.encode() not in data and b"Exif" not in data and b"eXIf" not in data and b"iCCP" not in data
        with Image.open(path) as img:
            assert img.format == "PNG" and not img.getexif() and set(img.info) <= {"dpi", "gamma"}
            assert img.size == UPRIGHT  # upright, not as the JPEG stored it


# ---------------------------------------------------------------- clicks, masks, styles


def test_clicks_make_the_mask_and_bad_clicks_are_clear_4xx(browser, kit):
    x = browser()
    x.register("x@example.com")
    assert mask_of(x, ON_SHIRT).status_code == 404  # no photo yet
    assert upload(x).status_code == 200
    r = mask_of(x, ON_SHIRT)
    assert r.status_code == 200 and r.headers["content-type"] == "image/png" and r.headers["cache-control"] == "no-store"
    with Image.open(io.BytesIO(r.content)) as img:
        assert img.mode == "L" and img.size == UPRIGHT
        m = np.asarray(img)
    x0, y0, x1, y1 = BODY
    assert m[y0 + 20:, x0 + 10:x1 - 10].min() == 255  # the shirt
    assert m[HEAD[1], HEAD[0]] == 0 and m[ON_WALL["y"], ON_WALL["x"]] == 0  # not the head, not the wall

    both = np.asarray(Image.open(io.BytesIO(mask_of(x, ON_SHIRT, ON_HEAD).content)))
    assert both[HEAD[1], HEAD[0]] == 255 and both[y0 + 20, x0 + 20] == 255  # a second click adds the head
    less = mask_of(x, ON_SHIRT, ON_HEAD, {**ON_HEAD, "x": HEAD[0] + 5, "foreground": False})
    assert np.asarray(Image.open(io.BytesIO(less.content)))[HEAD[1], HEAD[0]] == 0  # "not the person" takes it away

    w, h = UPRIGHT
    for points, words in (([{"x": w, "y": 10}], "outside the 480x640 photo"), ([{"x": 5, "y": h + 3}], "outside"),
                          ([{"x": -1, "y": 5}], "greater than or equal to 0"), ([], "at least 1"),
                          ([{"x": 20, "y": 20, "foreground": False}], "nothing says who to take")):
        r = x.post("/api/portrait/mask", json={"points": points})
        assert r.status_code == 422, (points, r.text)
        assert words in r.json()["detail"]["problem"], (points, r.json())
    nobody = mask_of(x, ON_WALL, {**ON_WALL, "x": 30, "foreground": False})  # the selector takes nothing
    assert nobody.status_code == 422 and nobody.json()["detail"]["problem"]
    assert nobody.json()["detail"]["hint"].startswith("Click on the person")  # words for the page, not the command line
    assert kit.selector.calls == 4  # clicks refused by the page's rules never reached the selector


def test_stylize_redraws_the_person_in_the_chosen_style(browser, kit):
    x = browser()
    x.register("x@example.com")
    styles = x.get("/api/portrait").json()
    assert styles["available"] and [s["name"] for s in styles["styles"]] == ["toon", "mono"]
    assert styles["default_style"] == "toon" and styles["photo"] is None and styles["photo_minutes"] == 10
    assert upload(x, photo_png(), "image/png").status_code == 200
    r = stylize(x, ON_SHIRT, ON_HEAD)
    assert r.status_code == 200, r.text
    assert "select;dur=" in r.headers["server-timing"] and "restyle;dur=" in r.headers["server-timing"]
    out = decode_png(r.content)
    assert out.shape == (UPRIGHT[1], UPRIGHT[0], 3)
    assert tuple(out[5, 5]) == BACKGROUND  # far from the person, the photo's own pixels
    assert np.abs(out[BODY[1] + 100, 240].astype(int) - (255 - np.array(SHIRT))).max() <= 2  # the person, redrawn (inverted)
    assert stylize(x, ON_SHIRT, style="mono").status_code == 200
    assert stylize(x, ON_SHIRT).status_code == 200
    assert kit.load_style.loaded == ["toon", "mono"]  # each style loads once
    bad = stylize(x, ON_SHIRT, style="nope")
    assert bad.status_code == 422 and "toon, mono" in bad.json()["detail"]["hint"]


def test_a_style_learned_while_the_studio_runs_is_offered_without_a_restart(browser, kit):
    installed = ["toon"]
    kit.refresh = lambda: list(installed)
    x = browser()
    x.register("x@example.com")
    assert [s["name"] for s in x.get("/api/portrait").json()["styles"]] == ["toon"]
    installed.append("mono")  # `icanvas characters learn` finished meanwhile
    assert [s["name"] for s in x.get("/api/portrait").json()["styles"]] == ["toon", "mono"]
    assert upload(x, photo_png(), "image/png").status_code == 200
    assert stylize(x, ON_SHIRT, style="mono").status_code == 200
    installed.remove("mono")  # `icanvas characters remove mono`
    assert stylize(x, ON_SHIRT, style="mono").status_code == 422


def test_without_stages_the_page_says_so(settings):
    from icanvas.serve.app import create_app

    with TestClient(create_app(settings, pipelines={})) as c:  # models given, no stages: nothing is loaded from disk
        x = Api(c)
        x.register("x@example.com")
        assert x.get("/api/portrait").json()["available"] is False
        r = upload(x)
        assert r.status_code == 404 and "not installed" in r.json()["detail"]["problem"]


# ---------------------------------------------------------------- the grown-up's album


@both_databases
def test_save_list_and_delete_remove_every_file(family, settings):
    x, y = family["x"], family["y"]
    assert upload(x).status_code == 200
    picture = stylize(x, ON_SHIRT).content
    first = save(x, picture)
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    again = save(x, picture)  # a retry: the same item, nothing new written
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true" and again.json() == first.json()
    other = save(x, png(person_image()), style=None)
    assert other.status_code == 201 and other.json()["style"] is None
    listing = x.get("/api/portraits").json()
    assert [p["id"] for p in listing] == [other.json()["id"], first.json()["id"]]  # newest first
    assert listing[1]["style"] == "toon" and listing[1]["picture_url"] == f"/api/portraits/{first.json()['id']}/picture.png"
    assert np.array_equal(decode_png(x.get(listing[1]["picture_url"]).content), decode_png(picture))
    assert x.get("/api/creations").json() == []  # the grown-up's album is not the children's
    assert len(files_under(settings.files_dir)) == 2

    shared = save(y, picture)  # another grown-up happens to save the same picture: one file, two rows
    assert shared.status_code == 201 and shared.json()["id"] != first.json()["id"]
    assert len(files_under(settings.files_dir)) == 2
    for p in listing:
        assert x.delete(f"/api/portraits/{p['id']}").status_code == 204
    assert x.get("/api/portraits").json() == [] and x.get(listing[0]["picture_url"]).status_code == 404
    assert len(files_under(settings.files_dir)) == 1  # y's picture still needs its file
    assert y.get(f"/api/portraits/{shared.json()['id']}/picture.png").status_code == 200
    assert y.delete(f"/api/portraits/{shared.json()['id']}").status_code == 204
    assert files_under(settings.files_dir) == []  # every file is gone


def test_a_failed_save_leaves_no_file(browser, settings, monkeypatch):
    x = browser()
    x.register("x@example.com")

    def broken_commit(self):
        raise sa.exc.OperationalError("COMMIT", {}, Exception("the database went away"))

    monkeypatch.setattr("sqlalchemy.orm.Session.commit", broken_commit)
    assert save(x, png(person_image())).status_code == 500
    monkeypatch.undo()
    assert files_under(settings.files_dir) == []
    assert x.get("/api/portraits").json() == []


# ---------------------------------------------------------------- forgetting and waiting


def test_a_photo_is_forgotten_minutes_after_its_last_use(browser):
    x = browser()
    x.register("x@example.com")
    slots = state_of(x).photos
    slots.close()  # no sweeper thread in this test: it would race the steps below (sweep() is called by hand)
    now = [1000.0]
    slots.clock = lambda: now[0]
    ttl = slots.ttl_s
    assert ttl == 600 and upload(x).json()["expires_in_s"] == 600
    now[0] += ttl - 1
    assert mask_of(x, ON_SHIRT).status_code == 200  # used in time: its time starts over
    now[0] += ttl - 1
    assert mask_of(x, ON_SHIRT).status_code == 200
    now[0] += ttl + 1
    r = mask_of(x, ON_SHIRT)
    assert r.status_code == 404 and "forgotten" in r.json()["detail"]["problem"] and r.json()["detail"]["hint"]
    assert x.get("/api/portrait").json()["photo"] is None and len(slots) == 0

    assert upload(x).status_code == 200  # nobody asks again: the sweeper forgets it all the same
    now[0] += ttl + 1
    assert len(slots) == 1 and slots.sweep() == 1 and len(slots) == 0
    assert upload(x).status_code == 200
    assert x.delete("/api/portrait/photo").status_code == 204 and len(slots) == 0  # the page lets go of it


def test_a_slow_photo_holds_up_nothing_else(settings, pipelines, recognizer):
    from icanvas.serve.app import create_app

    gate = threading.Event()
    kit = fake_kit(["slow", "toon"], gate)
    app = create_app(settings.model_copy(update={"portrait_max_waiting": 0}), pipelines=pipelines, recognizer=recognizer,
                     portrait=kit)
    with TestClient(app) as c:
        x, y = Api(c), Api(TestClient(app))
        x.register("x@example.com")
        y.register("y@example.com")
        assert upload(x).status_code == upload(y).status_code == 200
        answer = {}
        slow = threading.Thread(target=lambda: answer.update(r=stylize(x, ON_SHIRT, style="slow")))
        slow.start()
        try:
            _wait_for(lambda: "slow" in kit.load_style.made and kit.load_style.made["slow"].started.is_set())
            # meanwhile, on the same event loop: pages, drawings made into pictures, saves
            assert x.get("/api/studio").status_code == 200
            assert x.generate(drawing_png()).status_code == 200
            assert x.get("/api/portraits").status_code == 200
            again = mask_of(x, ON_SHIRT)  # the same login asks for more while its photo is being made
            assert again.status_code == 429 and again.headers["retry-after"]
            busy = mask_of(y, ON_SHIRT)  # another grown-up: no room to wait
            assert busy.status_code == 503 and int(busy.headers["retry-after"]) >= 1
        finally:
            gate.set()
            slow.join(30)
        assert answer["r"].status_code == 200
        assert mask_of(y, ON_SHIRT).status_code == 200  # the worker is free again


def _wait_for(done, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError("the slow photo never started")
        time.sleep(0.02)


# ---------------------------------------------------------------- the migration


@both_databases
def test_migration_0004_adds_the_grown_ups_album_and_goes_back(engine):
    from alembic import command

    migrate(engine, "0003")
    now = utcnow()
    with session_factory(engine)() as db:
        db.add(Parent(id=1, email="p@example.com", password_hash="x", created_at=now))  # the parents table is as in 0003
        db.commit()
    migrate(engine)
    with session_factory(engine)() as db:
        db.add_all([Portrait(parent_id=1, picture_key="a" * 64, style="toon", created_at=now),
                    Portrait(parent_id=1, picture_key="b" * 64, style=None, created_at=now + timedelta(seconds=1))])
        db.commit()
        db.add(Portrait(parent_id=1, picture_key="a" * 64, created_at=now))
        with pytest.raises(sa.exc.IntegrityError):  # one row per grown-up and picture
            db.commit()
        db.rollback()
        db.delete(db.get(Parent, 1))  # the album goes with the account
        db.commit()
        assert db.scalar(sa.select(sa.func.count()).select_from(Portrait)) == 0
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0003")
    with engine.connect() as conn:
        assert not sa.inspect(conn).has_table("portraits") and sa.inspect(conn).has_table("creations")
