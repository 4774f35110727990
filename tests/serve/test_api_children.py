"""Child profiles over HTTP: create, change, picture PINs, export as zip, delete with all data."""

from __future__ import annotations

import io
import json
import zipfile

from sqlalchemy import func, select

from icanvas.serve.tables import BadgeEarned, Child, Creation, MissionDone, StarEvent
from tests.serve.conftest import PIN, both_databases, drawing_png


def test_create_and_change_a_profile(browser):
    x = browser()
    x.register("mum@example.com")
    r = x.post("/api/children", json={"nickname": "  Ari ", "avatar": "fox", "pin": PIN})
    assert r.status_code == 201
    kid = r.json()
    assert kid == {"id": kid["id"], "nickname": "Ari", "avatar": "fox", "stars": 0, "level": 1}
    for bad in ({"nickname": "", "avatar": "fox", "pin": PIN}, {"nickname": "x" * 21, "avatar": "fox", "pin": PIN},
                {"nickname": "A", "avatar": "dragon", "pin": PIN}, {"nickname": "A", "avatar": "fox", "pin": ["sun", "moon"]},
                {"nickname": "A", "avatar": "fox", "pin": ["sun", "moon", "lava"]}):
        assert x.post("/api/children", json=bad).status_code == 422, bad
    r = x.patch(f"/api/children/{kid['id']}", json={"nickname": "Bo", "pin": ["moon", "moon", "sun"]})
    assert r.status_code == 200 and r.json()["nickname"] == "Bo" and r.json()["avatar"] == "fox"
    assert x.post(f"/api/children/{kid['id']}/enter", json={"pin": PIN}).status_code == 403  # old PIN
    assert x.enter(kid["id"], ["moon", "moon", "sun"])["child"]["nickname"] == "Bo"
    with x.client.app.state.studio.sessions() as db:
        stored = db.scalar(select(Child.pin_hash))
    assert stored.startswith("scrypt$") and "moon" not in stored


@both_databases
def test_export_zip_holds_everything(family):
    a, x = family["a"], family["x"]
    drawing, picture = drawing_png(seed=21), drawing_png(seed=22)
    saved = a.save(drawing=drawing, picture=picture).json()
    cid = saved["creation"]["id"]
    a.save(drawing=drawing_png(seed=23))
    r = x.get(f"/api/children/{family['ids']['a']}/export")
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    assert "attachment" in r.headers["content-disposition"]
    z = zipfile.ZipFile(io.BytesIO(r.content))
    names = set(z.namelist())
    assert {"profile.json", "creations.json", f"creations/{cid}-drawing.png", f"creations/{cid}-picture.png"} <= names
    profile = json.loads(z.read("profile.json"))
    assert profile["nickname"] == "Ari" and profile["stars"] > 0 and "first-drawing" in {b["id"] for b in profile["badges"]}
    assert "pin" not in profile and "scrypt" not in json.dumps(profile)
    listing = json.loads(z.read("creations.json"))
    assert len(listing) == 2 and listing[0]["id"] == cid and listing[0]["picture"] == f"creations/{cid}-picture.png"
    assert listing[1]["picture"] is None
    assert z.read(f"creations/{cid}-drawing.png") == a.get(f"/api/creations/{cid}/drawing.png").content
    assert z.read(f"creations/{cid}-picture.png") == a.get(f"/api/creations/{cid}/picture.png").content
    b_zip = zipfile.ZipFile(io.BytesIO(x.get(f"/api/children/{family['ids']['b']}/export").content))
    assert json.loads(b_zip.read("creations.json")) == []  # the sibling's export holds nothing of A


@both_databases
def test_deleting_a_profile_removes_all_its_data(family):
    a, b, x = family["a"], family["b"], family["x"]
    a_id = family["ids"]["a"]
    a.save(picture=drawing_png(seed=31))
    a.save(drawing=drawing_png(seed=32))
    kept = b.save(drawing=drawing_png(seed=33)).json()["creation"]["id"]
    state = x.client.app.state.studio
    assert len(list(state.store.root.rglob("*.png"))) == 4
    assert x.delete(f"/api/children/{a_id}").status_code == 204
    with state.sessions() as db:
        for table in (Creation, StarEvent, BadgeEarned, MissionDone):
            count = db.scalar(select(func.count()).select_from(table).where(table.child_id == a_id))
            assert count == 0, table.__tablename__
        assert db.get(Child, a_id) is None
        assert db.scalar(select(func.count()).select_from(Creation)) == 1
    assert len(list(state.store.root.rglob("*.png"))) == 1  # only B's drawing is left
    assert b.get(f"/api/creations/{kept}/drawing.png").status_code == 200
    assert a.me()["role"] == "guest"  # A's login ended with the profile: it never becomes a parent's
    assert x.get(f"/api/children/{a_id}/export").status_code == 404
    assert x.delete(f"/api/children/{a_id}").status_code == 404
