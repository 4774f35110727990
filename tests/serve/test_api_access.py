"""Who may see and change what: child A vs sibling B vs child C of another family, parent X vs
parent Y, and a guest. Anything a viewer may not see answers 404 (its existence stays hidden);
parent-only actions from a child answer 403, from a guest 401."""

from __future__ import annotations

from tests.serve.conftest import PIN, both_databases, drawing_png


def _album_ids(api, **params) -> set[int]:
    r = api.get("/api/creations", params=params)
    assert r.status_code == 200, r.text
    return {c["id"] for c in r.json()}


@both_databases
def test_creation_access_matrix(family):
    a, b, c, x, y, guest = (family[k] for k in ("a", "b", "c", "x", "y", "guest"))
    ids = family["ids"]
    saved = a.save(picture=drawing_png(seed=3))
    assert saved.status_code == 201, saved.text
    cid = saved.json()["creation"]["id"]
    b_saved = b.save(drawing=drawing_png(seed=9)).json()["creation"]["id"]

    # listings
    assert _album_ids(a) == {cid}
    assert _album_ids(b) == {b_saved}
    assert _album_ids(c) == set() and _album_ids(y) == set() and _album_ids(guest) == set()
    assert _album_ids(x) == {cid, b_saved}
    assert _album_ids(x, child_id=ids["a"]) == {cid}
    for who in (y, b, c):
        assert who.get("/api/creations", params={"child_id": ids["a"]}).status_code == 404

    # images and favourite: owner and own parent yes, everyone else 404
    for who, ok in ((a, True), (x, True), (b, False), (c, False), (y, False), (guest, False)):
        for image in ("drawing", "picture"):
            r = who.get(f"/api/creations/{cid}/{image}.png")
            assert r.status_code == (200 if ok else 404), (image, r.status_code)
        r = who.patch(f"/api/creations/{cid}", json={"favourite": True})
        assert r.status_code == (200 if ok else 404), r.status_code
    assert a.get(f"/api/creations/{cid}/drawing.png").content[:8] == b"\x89PNG\r\n\x1a\n"
    assert a.get("/api/creations/999999/drawing.png").status_code == 404  # unknown looks the same as forbidden

    # deleting is for the own parent only
    assert a.delete(f"/api/creations/{cid}").status_code == 403
    assert b.delete(f"/api/creations/{cid}").status_code == 403
    assert guest.delete(f"/api/creations/{cid}").status_code == 401
    assert y.delete(f"/api/creations/{cid}").status_code == 404
    assert x.delete(f"/api/creations/{cid}").status_code == 204
    assert a.get(f"/api/creations/{cid}/drawing.png").status_code == 404


@both_databases
def test_profile_access_matrix(family):
    a, b, c, x, y, guest = (family[k] for k in ("a", "b", "c", "x", "y", "guest"))
    ids = family["ids"]
    a_id = ids["a"]

    assert {k["id"] for k in x.get("/api/children").json()} == {ids["a"], ids["b"]}
    assert {k["id"] for k in y.get("/api/children").json()} == {ids["c"]}
    assert all("pin" not in k and "pin_hash" not in k for k in x.get("/api/children").json())
    assert {k["id"] for k in a.get("/api/profiles").json()} == {ids["a"], ids["b"]}
    assert {k["id"] for k in c.get("/api/profiles").json()} == {ids["c"]}

    # parent Y cannot touch X's child: 404 everywhere
    assert y.patch(f"/api/children/{a_id}", json={"nickname": "Hacked"}).status_code == 404
    assert y.get(f"/api/children/{a_id}/export").status_code == 404
    assert y.delete(f"/api/children/{a_id}").status_code == 404
    assert y.post(f"/api/children/{a_id}/enter", json={"pin": PIN}).status_code == 404
    assert c.post(f"/api/children/{a_id}/enter", json={"pin": PIN}).status_code == 404
    # children cannot use parent routes, guests must log in
    assert a.patch(f"/api/children/{ids['b']}", json={"nickname": "Hacked"}).status_code == 403
    assert a.delete(f"/api/children/{ids['b']}").status_code == 403
    assert guest.patch(f"/api/children/{a_id}", json={"nickname": "Hacked"}).status_code == 401
    assert guest.post(f"/api/children/{a_id}/enter", json={"pin": PIN}).status_code == 401
    assert x.get("/api/children").json()[0]["nickname"] == "Ari"

    # a child may switch to a sibling with the sibling's PIN, not without
    assert a.post(f"/api/children/{ids['b']}/enter", json={"pin": PIN}).status_code == 403
    assert a.enter(ids["b"], ["sun", "moon", "star"])["child"]["id"] == ids["b"]


def test_saving_and_progress_need_a_child(family):
    x, guest, a = family["x"], family["guest"], family["a"]
    assert x.save().status_code == 403
    assert guest.save().status_code == 401
    assert x.get("/api/progress").status_code == 403
    assert a.get("/api/progress").status_code == 200


def test_guests_may_draw_generate_and_recognize(family):
    guest = family["guest"]
    assert guest.generate().status_code == 200
    r = guest.post("/api/recognize", files={"drawing": ("d.png", drawing_png(), "image/png")})
    assert r.status_code == 200 and r.json()["guesses"][0]["label"] == "cat"
    assert guest.get("/api/studio").status_code == 200 and guest.get("/api/missions").status_code == 200
