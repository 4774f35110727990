"""Photos of paper drawings over HTTP (POST /api/paper): the page found or placed by hand, the
drawing as the models will see it, and clear problems for photos that cannot be used."""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
from PIL import Image

from icanvas.eval.paper_photos import paper_photo
from tests.serve.conftest import blank_png, drawing_png, png


def _read(api, photo: bytes | np.ndarray, corners=None, fmt: str = "JPEG"):
    data = photo if isinstance(photo, bytes) else png(Image.fromarray(photo), fmt)
    form = {} if corners is None else {"corners": json.dumps(np.asarray(corners).tolist())}
    return api.post("/api/paper", files={"photo": ("photo.jpg", data, "image/jpeg")}, data=form)


def _overlay(answer: dict) -> np.ndarray:
    head, _, body = answer["drawing"].partition(",")
    assert head == "data:image/png;base64"
    img = Image.open(io.BytesIO(base64.b64decode(body)))
    assert img.mode == "RGBA" and img.size == (answer["drawing_width"], answer["drawing_height"])
    return np.asarray(img)


def test_a_photographed_page_is_found_and_its_drawing_shown_on_transparent_paper(browser):
    photo = paper_photo(900, seed=3, backdrop="wood", angle=18, perspective=0.08, shadow=True)
    r = _read(browser(), photo.rgb)
    assert r.status_code == 200, r.text
    a = r.json()
    assert (a["width"], a["height"]) == (900, 675) and a["page"] == "found"
    assert a["description"].startswith("photographed page, found and straightened")
    assert np.abs(np.array(a["corners"]) - photo.corners).max() < 6  # photo px
    inner, outer = np.array(a["drawing_corners"]), np.array(a["corners"])
    centre = outer.mean(axis=0)
    assert (np.linalg.norm(inner - centre, axis=1) < np.linalg.norm(outer - centre, axis=1)).all()
    assert 0 < np.abs(inner - outer).max() < 20  # just inside the page's edge
    rgba = _overlay(a)
    assert a["drawing_height"] > a["drawing_width"]  # the page is portrait
    ink = rgba[..., 3] == 255
    assert 0.002 < ink.mean() < 0.2 and (rgba[..., 3][~ink] == 0).all()  # lines on see-through paper
    assert not ink[:4].any() and not ink[-4:].any() and not ink[:, :4].any() and not ink[:, -4:].any()  # no table edges
    coloured = ink & (rgba[..., 0].astype(int) - rgba[..., 2] > 80)
    assert coloured.sum() > 100  # the red colouring-in keeps its colour


def test_corners_placed_by_hand_are_used_instead_of_the_search(browser):
    photo = paper_photo(800, seed=5, backdrop="dark", angle=8)
    api = browser()
    found = _read(api, photo.rgb).json()
    c = np.array(found["corners"])
    top_half = np.array([c[0], c[1], (c[1] + c[2]) / 2, (c[0] + c[3]) / 2])
    r = _read(api, photo.rgb, corners=top_half[[2, 0, 3, 1]])  # any order
    assert r.status_code == 200, r.text
    a = r.json()
    assert a["page"] == "placed" and a["description"].startswith("photographed page, corners placed by hand")
    assert np.abs(np.array(a["corners"]) - top_half).max() < 0.01  # returned in order: top-left first, clockwise
    assert a["drawing_height"] < 0.6 * found["drawing_height"]  # only the top half of the page


@pytest.mark.parametrize("corners, problem", [
    ("[[0, 0], [10, 0], [10, 10]]", "not four [x, y] pairs"),
    ("not json", "not four [x, y] pairs"),
    ("[[0, 0], [1, 0], [1, 1], [0, 1]]", "less than 2% of the photo"),
    ("[[0, 0], [600, 0], [100, 100], [0, 450]]", "bend inwards"),
    ("[[0, 0], [5000, 0], [600, 450], [0, 450]]", "far outside the photo"),
])
def test_unusable_corners_get_a_clear_problem(browser, corners, problem):
    photo = paper_photo(600, seed=2, backdrop="wood")
    data = png(Image.fromarray(photo.rgb), "JPEG")
    r = browser().post("/api/paper", files={"photo": ("p.jpg", data, "image/jpeg")}, data={"corners": corners})
    assert r.status_code == 422 and problem in r.json()["detail"]["problem"], r.text


def test_a_canvas_export_is_its_own_page_and_a_floor_without_paper_says_why(browser):
    api = browser()
    a = _read(api, drawing_png(), fmt="PNG").json()
    assert a["page"] == "whole" and a["corners"] == [[0, 0], [512, 0], [512, 512], [0, 512]] == a["drawing_corners"]
    assert (a["drawing_width"], a["drawing_height"]) == (512, 512)
    rng = np.random.default_rng(1)
    floor = np.full((480, 640, 3), (165, 130, 95), np.uint8)
    floor[200:260, 290:350] = 245  # a sticky note, far too small to be the page
    floor[100:105, 100:540] = 10  # and a line drawn on the floor
    floor = np.clip(floor * np.linspace(0.75, 1.0, 640)[None, :, None] + rng.normal(0, 4, floor.shape), 0, 255).astype(np.uint8)
    a = _read(api, floor).json()
    assert a["page"] == "missing" and "no page found (" in a["description"] and a["drawing_width"] == 640


def test_photos_that_cannot_be_read_get_clear_problems(browser, settings):
    api = browser()
    blank = paper_photo(640, seed=7, backdrop="wood", angle=10, blank=True)
    r = _read(api, blank.rgb)
    assert r.status_code == 422 and "empty" in r.json()["detail"]["problem"].lower()
    assert _read(api, b"GIF89a not really").status_code == 415
    r = _read(api, b"\xff" * (settings.max_upload_bytes + 10))
    assert r.status_code == 413 and "The photo is larger than" in r.json()["detail"]["problem"]
    assert _read(api, blank_png()).status_code == 422


def test_the_studios_own_canvas_is_never_searched_for_a_page(browser, monkeypatch):
    from icanvas.data import images

    searched = []
    real = images.search_page
    monkeypatch.setattr(images, "search_page", lambda rgb: searched.append(rgb.shape) or real(rgb))
    edge = np.full((512, 512, 3), 255, np.uint8)
    edge[:, :14] = 0  # a thick stroke along the paper's edge: no plain white border to tell it is a canvas
    edge[100:400, 200:210] = 0
    data = png(edge)
    api = browser()
    for route, extra in (("/api/generate", {"kind": "cat"}), ("/api/recognize", {})):
        searched.clear()
        r = api.post(route, files={"drawing": ("d.png", data, "image/png")}, data={**extra, "canvas": "true"})
        assert r.status_code == 200 and searched == [], route
        r = api.post(route, files={"drawing": ("d.png", data, "image/png")}, data=extra)
        assert r.status_code == 200 and searched == [(512, 512, 3)], route  # an upload of unknown origin may be a photo
