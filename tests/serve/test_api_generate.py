"""Making pictures over HTTP: the right model and kind, upload limits (413/415/422), 503 when busy,
recognising drawings and surprise pictures."""

from __future__ import annotations

import io
import struct
import threading
import zlib
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from icanvas.serve.app import create_app
from tests.serve.conftest import Api, FakeRecognizer, TestClient, blank_png, decode_png, drawing_png, png


def test_generate_returns_the_picture_of_the_asked_kind(browser, tiny_pipe):
    api = browser()
    drawing = drawing_png()
    pictures = {}
    for kind in ("cat", "shoe"):
        r = api.generate(drawing, kind)
        assert r.status_code == 200 and r.headers["content-type"] == "image/png"
        assert r.headers["x-icanvas-kind"] == kind and r.headers["cache-control"] == "no-store"
        pictures[kind] = decode_png(r.content)
        expected = tiny_pipe(drawing, kind=kind).image  # what the model itself makes for that kind
        assert pictures[kind].shape == expected.shape == (512, 512, 3)
        assert np.abs(pictures[kind].astype(int) - expected.astype(int)).max() <= 1
    assert np.abs(pictures["cat"].astype(int) - pictures["shoe"].astype(int)).max() > 0


def test_generate_shrinks_big_drawings_to_512(browser):
    r = browser().generate(drawing_png(size=900))
    assert r.status_code == 200 and max(Image.open(io.BytesIO(r.content)).size) == 512


def _problem(r, status: int) -> dict:
    assert r.status_code == status, (r.status_code, r.text)
    detail = r.json()["detail"]
    assert set(detail) == {"problem", "hint"} and detail["problem"] and detail["hint"]
    return detail


def _bomb_png(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` x ``height`` pixels."""
    raw = png(Image.new("L", (1, 1), 255))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return raw[:8] + struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk)) + raw[8 + 25:]


def test_upload_errors(browser, settings):
    api = browser()
    _problem(api.generate(b"this is not an image"), 415)
    _problem(api.generate(png(Image.new("RGB", (64, 64), "white"), "GIF")), 415)
    _problem(api.generate(b"%PDF-1.4 ..."), 415)
    assert "empty" in _problem(api.generate(blank_png()), 422)["problem"]
    assert "cannot draw" in _problem(api.generate(kind="dragon"), 422)["problem"]
    _problem(api.post("/api/generate", data={"kind": "cat"}), 422)  # no file at all
    too_big = b"\x89PNG" + bytes(settings.max_upload_bytes + 10)
    _problem(api.generate(too_big), 413)
    huge_body = bytes(2 * settings.max_upload_bytes + 2**21)  # over the whole-request limit: refused by Content-Length
    _problem(api.post("/api/generate", files={"drawing": ("d.png", huge_body, "image/png")}, data={"kind": "cat"}), 413)
    def streamed():  # no Content-Length: counted while it arrives
        yield b'--b\r\nContent-Disposition: form-data; name="drawing"; filename="d.png"\r\nContent-Type: image/png\r\n\r\n'
        for _ in range(2 * settings.max_upload_bytes // 2**20 + 3):
            yield bytes(2**20)

    r = api.post("/api/generate", content=streamed(), headers={"Content-Type": "multipart/form-data; boundary=b"})
    assert "content-length" not in {k.lower() for k in r.request.headers}
    _problem(r, 413)
    many = png(Image.new("L", (2100, 2100), 255))  # 4.4 megapixels, few bytes
    assert "megapixels" in _problem(api.generate(many), 413)["problem"]
    _problem(api.generate(_bomb_png(100_000, 100_000)), 413)
    _problem(api.generate(_bomb_png(2100, 2000)), 413)  # header checked before decoding


def test_jpeg_and_webp_drawings_are_fine(browser):
    api = browser()
    base = Image.open(io.BytesIO(drawing_png()))
    for fmt in ("JPEG", "WEBP"):
        assert api.generate(png(base, fmt)).status_code == 200, fmt


class SlowPipeline:
    """Blocks in run() until released, so the pool fills up."""

    kinds = ["cat"]
    hints = False

    def __init__(self) -> None:
        self.started, self.release = threading.Event(), threading.Event()

    def run(self, drawings, kinds=None, each=None):
        self.started.set()
        self.release.wait(10)
        return [SimpleNamespace(image=np.full((16, 16, 3), 200, np.uint8)) for _ in drawings]


def test_saturated_pool_answers_503_with_retry_after(settings):
    slow = SlowPipeline()
    app = create_app(settings.model_copy(update={"gen_max_queue": 1, "gen_max_batch": 1, "gen_workers": 1}),
                     pipelines={"cat": (slow, None)})
    with TestClient(app) as client:
        api = Api(client)
        pool = client.app.state.studio.pool
        running = pool.submit(drawing_png(), "cat")
        assert slow.started.wait(10)
        waiting = pool.submit(drawing_png(), "cat")  # fills the one queue place
        r = api.generate()
        _problem(r, 503)
        assert int(r.headers["Retry-After"]) >= 1
        slow.release.set()
        assert running.result(10)[:4] == b"\x89PNG" and waiting.result(10)[:4] == b"\x89PNG"
        assert api.generate().status_code == 200  # room again


def test_recognize(browser):
    api = browser()
    r = api.post("/api/recognize", files={"drawing": ("d.png", drawing_png(), "image/png")})
    assert r.status_code == 200
    guesses = r.json()["guesses"]
    assert [g["label"] for g in guesses] == ["cat", "sun", "tree"]
    assert guesses[0]["kind"] == "cat" and guesses[1]["kind"] is None  # only installed kinds get a kind
    assert guesses[0]["kinds"] == ["cat"] and guesses[1]["kinds"] == []
    assert [g["preselect"] for g in guesses] == [True, False, False]  # only a sure top guess of an installed kind
    assert abs(sum(g["prob"] for g in guesses) - 1.0) < 1e-6
    r = api.post("/api/recognize", files={"drawing": ("d.png", blank_png(), "image/png")})
    assert r.status_code == 200 and r.json() == {"guesses": []}
    assert api.post("/api/recognize", files={"drawing": ("d.png", b"nope", "image/png")}).status_code == 415


@pytest.mark.parametrize("recognizer", [FakeRecognizer([("cat", 0.45), ("sun", 0.3), ("tree", 0.25)])])
def test_an_unsure_guess_is_shown_but_picks_no_kind(browser, recognizer):
    guesses = browser().post("/api/recognize", files={"drawing": ("d.png", drawing_png(), "image/png")}).json()["guesses"]
    assert guesses[0]["label"] == "cat" and guesses[0]["kind"] == "cat"
    assert guesses[0]["preselect"] is False  # 0.45 is below the recognizer's preselect_min_prob of 0.5


@pytest.mark.parametrize("recognizer", [FakeRecognizer(preselect_min_prob=None)])
def test_a_recognizer_without_a_fitted_threshold_never_picks_a_kind(browser, recognizer):
    guesses = browser().post("/api/recognize", files={"drawing": ("d.png", drawing_png(), "image/png")}).json()["guesses"]
    assert guesses[0]["prob"] == 0.9 and [g["preselect"] for g in guesses] == [False, False, False]


def test_a_face_may_be_a_face_or_a_character():
    from icanvas.serve.kinds import Models

    rec = FakeRecognizer([("face", 0.8), ("cat", 0.2)])
    both = Models({"character": (object(), None), "face": (object(), None)}, rec)
    guessed = both.guess(np.full((64, 64), 255, np.uint8))
    assert guessed[0].kinds == ["face", "character"] and guessed[0].kind == "face" and guessed[0].preselect
    only = Models({"character": (object(), None), "cat": (object(), None)}, rec).guess(np.full((64, 64), 255, np.uint8))
    assert only[0].kinds == ["character"] and only[0].kind == "character"  # no face model: the character kind
    assert only[1].kinds == ["cat"] and not only[1].preselect  # only the top guess is pre-selected


@pytest.mark.parametrize("recognizer", [None])
def test_without_recognizer_there_are_no_guesses(browser, recognizer):
    api = browser()
    assert api.get("/api/studio").json()["recognizer"] is False
    r = api.post("/api/recognize", files={"drawing": ("d.png", drawing_png(), "image/png")})
    assert r.json() == {"guesses": []}


def test_studio_describes_the_canvas_and_kinds(browser):
    s = browser().get("/api/studio").json()
    assert s["canvas_size"] == 512 and s["pen_widths"]["medium"] == 8 and len(s["crayons"]) == 10
    assert [k["kind"] for k in s["kinds"]] == ["cat", "shoe"]
    cat = s["kinds"][0]
    assert cat["label"] == {"ko": "고양이", "en": "Cat"} and cat["icon"] == "cat" and cat["model"] == "tiny-pets"
    assert s["recognizer"] is True and s["surprise"] is False and s["surprise_kinds"] == [] and s["default_language"] == "ko"
    assert len(s["pin_icons"]) >= 9 and s["avatars"]


def test_surprise(settings, pipelines):
    api_app = create_app(settings, pipelines=pipelines)
    with TestClient(api_app) as client:
        assert client.get("/api/surprise").status_code == 404

    def sampler(kind):
        return np.full((64, 32, 3), 100 if kind == "cat" else 50, np.uint8)

    with TestClient(create_app(settings, pipelines=pipelines, sampler=sampler)) as client:
        assert client.get("/api/studio").json()["surprise"] is True
        r = client.get("/api/surprise", params={"kind": "cat"})
        assert r.status_code == 200 and decode_png(r.content).shape == (64, 32, 3) and decode_png(r.content)[0, 0, 0] == 100
