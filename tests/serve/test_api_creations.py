"""The album over HTTP: saving with rewards, listing, favourites, deleting files, full disks."""

from __future__ import annotations

import errno
import io
import os

import numpy as np
from PIL import Image
from sqlalchemy import func, select

from icanvas.serve.tables import BadgeEarned, Creation, MissionDone, StarEvent
from tests.serve.conftest import blank_png, both_databases, drawing_png


def _state(api):
    return api.client.app.state.studio


@both_databases
def test_save_runs_the_game_and_writes_the_ledger(family):
    a = family["a"]
    r = a.save(picture=drawing_png(seed=5), colours=3, seconds=20)
    assert r.status_code == 201, r.text
    body = r.json()
    creation, rewards = body["creation"], body["rewards"]
    assert creation["kind"] == "cat" and creation["recognized"] == "cat" and creation["favourite"] is False
    assert creation["drawing_url"].endswith("/drawing.png") and creation["picture_url"].endswith("/picture.png")
    assert rewards["stars"] > 0 and rewards["total_stars"] == rewards["stars"]
    keys = [reason["key"] for reason in rewards["reasons"]]
    assert "creation" in keys and "first_kind:cat" in keys and "mission:draw-cat" in keys
    assert "draw-cat" in rewards["missions_done"] and "use-3-colours" in rewards["missions_done"]
    assert "first-drawing" in rewards["badges"]
    assert sum(reason["stars"] for reason in rewards["reasons"]) == rewards["stars"]
    with _state(a).sessions() as db:
        assert db.scalar(select(func.sum(StarEvent.stars))) == rewards["stars"]
        assert set(db.scalars(select(MissionDone.mission_id))) == set(rewards["missions_done"])
        assert set(db.scalars(select(BadgeEarned.badge_id))) == set(rewards["badges"])
    assert _state(a).models.recognizer.calls == 1  # the server ran the recognizer on the saved drawing

    again = a.save(drawing=drawing_png(seed=1)).json()["rewards"]
    again_keys = [reason["key"] for reason in again["reasons"]]
    assert "first_kind:cat" not in again_keys and "mission:draw-cat" not in again_keys  # once per kind / per day
    assert again["total_stars"] == rewards["stars"] + again["stars"]

    progress = a.get("/api/progress").json()
    assert progress["stars"] == again["total_stars"] and progress["streak_days"] == 1
    assert {b["id"] for b in progress["badges"]} >= {"first-drawing"}
    assert next(m for m in progress["missions"] if m["id"] == "draw-cat")["done_today"] is True
    assert progress["daily"]["id"] in {m["id"] for m in progress["missions"]}
    assert progress["level"]["needed"] > 0
    kids = family["x"].get("/api/children").json()
    assert next(k for k in kids if k["id"] == family["ids"]["a"])["stars"] == progress["stars"]


def test_album_lists_newest_first_with_filters(family):
    a = family["a"]
    first = a.save(drawing=drawing_png(seed=1)).json()["creation"]["id"]
    second = a.save(drawing=drawing_png(seed=2), kind="shoe").json()["creation"]["id"]
    assert [c["id"] for c in a.get("/api/creations").json()] == [second, first]
    assert [c["id"] for c in a.get("/api/creations", params={"kind": "shoe"}).json()] == [second]
    r = a.patch(f"/api/creations/{first}", json={"favourite": True})
    assert r.status_code == 200 and r.json()["favourite"] is True
    assert [c["id"] for c in a.get("/api/creations", params={"favourite": "true"}).json()] == [first]
    assert [c["id"] for c in a.get("/api/creations", params={"favourite": "false"}).json()] == [second]
    assert len(a.get("/api/creations", params={"limit": 1}).json()) == 1


def test_saved_images_are_the_uploaded_ones(family):
    a = family["a"]
    drawing, picture = drawing_png(seed=4, colour=True), drawing_png(size=256, seed=8)
    cid = a.save(drawing=drawing, picture=picture).json()["creation"]["id"]
    got = a.get(f"/api/creations/{cid}/drawing.png")
    assert got.headers["content-type"] == "image/png" and "private" in got.headers["cache-control"]
    same = np.asarray(Image.open(io.BytesIO(got.content)).convert("RGB"))
    assert np.array_equal(same, np.asarray(Image.open(io.BytesIO(drawing)).convert("RGB")))
    pic = Image.open(io.BytesIO(a.get(f"/api/creations/{cid}/picture.png").content))
    assert pic.size == (256, 256)
    without = a.save(drawing=drawing_png(seed=6)).json()["creation"]
    assert without["picture_url"] is None
    assert a.get(f"/api/creations/{without['id']}/picture.png").status_code == 404


@both_databases
def test_delete_removes_files_no_other_creation_uses(family):
    a, x = family["a"], family["x"]
    store = _state(a).store
    shared = drawing_png(seed=11)
    one = a.save(drawing=shared, picture=drawing_png(seed=12)).json()["creation"]["id"]
    two = a.save(drawing=shared).json()["creation"]["id"]
    with _state(a).sessions() as db:
        c1, c2 = db.get(Creation, one), db.get(Creation, two)
        assert c1.drawing_key == c2.drawing_key  # same bytes, one file
        drawing_key, picture_key = c1.drawing_key, c1.picture_key
    assert store.exists(drawing_key) and store.exists(picture_key)
    assert x.delete(f"/api/creations/{one}").status_code == 204
    assert store.exists(drawing_key) and not store.exists(picture_key)
    assert x.delete(f"/api/creations/{two}").status_code == 204
    assert not store.exists(drawing_key)
    assert list(store.root.rglob("*.png")) == []
    assert x.delete(f"/api/creations/{two}").status_code == 404


def test_save_refuses_bad_input(family):
    a = family["a"]
    assert a.save(drawing=blank_png()).status_code == 422
    assert a.save(drawing=b"GIF89a not really").status_code == 415
    assert a.save(kind="dragon").status_code == 422
    assert a.save(mission_id="no-such-mission").status_code == 422
    assert a.save(colours=-1).status_code == 422
    assert a.save(picture=b"junk").status_code == 415
    with _state(a).sessions() as db:
        assert db.scalar(select(func.count()).select_from(Creation)) == 0
    assert list(_state(a).store.root.rglob("*.png")) == []


@both_databases
def test_full_disk_gives_507_and_saves_nothing(family, monkeypatch):
    a = family["a"]

    def no_space(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    r = a.save()
    assert r.status_code == 507 and "disk is full" in r.json()["detail"]["problem"]
    monkeypatch.undo()
    store = _state(a).store
    assert store.temp_files() == [] and list(store.root.rglob("*.png")) == []
    with _state(a).sessions() as db:
        assert db.scalar(select(func.count()).select_from(Creation)) == 0
        assert db.scalar(select(func.count()).select_from(StarEvent)) == 0
    assert a.save().status_code == 201  # fine again once there is room


def test_failed_commit_collects_the_new_files(family, monkeypatch):
    from icanvas.serve import album

    a = family["a"]

    def broken_evaluate(*args, **kwargs):
        raise RuntimeError("rules broke")

    monkeypatch.setattr(album.game, "evaluate", broken_evaluate)
    from tests.serve.conftest import TestClient

    quiet = TestClient(a.client.app, raise_server_exceptions=False, cookies=dict(a.client.cookies))
    r = quiet.post("/api/creations", files={"drawing": ("d.png", drawing_png(), "image/png")}, data={"kind": "cat"},
                   headers={"X-CSRF-Token": a.csrf})
    assert r.status_code == 500 and "rules broke" not in r.text
    assert list(_state(a).store.root.rglob("*.png")) == []
