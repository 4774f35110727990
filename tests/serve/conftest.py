"""Studio fixtures: a tiny untrained class-conditional model, the app around it, API clients.

Database fixtures run on SQLite and, when ICANVAS_TEST_POSTGRES_URL is set, on PostgreSQL
too, each test in a fresh schema that is dropped afterwards.
"""

from __future__ import annotations

import io
import os
import uuid
from pathlib import Path

import numpy as np
import warnings

import pytest
from PIL import Image, ImageDraw

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx`")  # starlette prefers httpx2 for its test client; httpx works
    from fastapi.testclient import TestClient

PG_ENV = "ICANVAS_TEST_POSTGRES_URL"
KINDS = ["cat", "shoe"]  # kinds of the tiny class-conditional model
PASSWORD = "correct horse battery"
PIN = ["cat", "sun", "tree"]
BACKENDS = ["sqlite"] + (["postgres"] if os.environ.get(PG_ENV) else [])


# ---------------------------------------------------------------- images


def png(img: Image.Image | np.ndarray, fmt: str = "PNG") -> bytes:
    pil = img if isinstance(img, Image.Image) else Image.fromarray(img)
    buf = io.BytesIO()
    pil.save(buf, format=fmt)
    return buf.getvalue()


def decode_png(data: bytes) -> np.ndarray:
    """(H, W, 3) uint8 RGB of PNG/JPEG bytes."""
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def drawing_png(size: int = 512, seed: int = 0, colour: bool = False) -> bytes:
    """A white canvas with a few black strokes (and a red crayon stroke when ``colour``)."""
    rng = np.random.default_rng(seed)
    img = Image.new("RGB", (size, size), "white")
    d = ImageDraw.Draw(img)
    d.ellipse([size * 0.25, size * 0.25, size * 0.75, size * 0.75], outline="black", width=max(2, size // 64))
    for _ in range(3):
        x0, y0, x1, y1 = (rng.uniform(0.2, 0.8, 4) * size).tolist()
        d.line([x0, y0, x1, y1], fill="black", width=max(2, size // 64))
    if colour:
        d.line([size * 0.3, size * 0.6, size * 0.7, size * 0.6], fill=(229, 57, 53), width=max(3, size // 28))
    return png(img)


def add_family(db) -> tuple:
    """A parent with one child profile, flushed so both have ids: (parent, child)."""
    from icanvas.serve.tables import Child, Parent

    parent = Parent(email="p@example.com", password_hash="x")
    db.add(parent)
    db.flush()
    child = Child(parent_id=parent.id, nickname="A", avatar="bear", pin_hash="x")
    db.add(child)
    db.flush()
    return parent, child


def blank_png(size: int = 512) -> bytes:
    return png(Image.new("RGB", (size, size), "white"))


# ---------------------------------------------------------------- models


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    import torch

    from icanvas.checkpoint import save_pretrained
    from icanvas.config import UNetConfig
    from icanvas.models.unet import UNetGenerator

    torch.manual_seed(0)
    cfg = UNetConfig(image_size=32, ngf=4, max_channels=8, dropout=0.0, num_classes=len(KINDS))
    return save_pretrained(UNetGenerator(cfg), tmp_path_factory.mktemp("models") / "tiny-pets", method="pix2pix",
                           config=cfg, meta={"kinds": KINDS})


@pytest.fixture(scope="session")
def tiny_pipe(tiny_model_dir):
    from icanvas.pipelines.sketch_to_image import SketchToImage

    return SketchToImage.from_pretrained(tiny_model_dir, backend="torch")


@pytest.fixture(scope="session")
def pipelines(tiny_pipe) -> dict:
    return {k: (tiny_pipe, k) for k in KINDS}


class FakeRecognizer:
    """Always sure the drawing is a cat (or gives the ``answer`` it was made with)."""

    labels = ["cat", "sun", "tree"]

    def __init__(self, answer: list[tuple[str, float]] | None = None, preselect_min_prob: float | None = 0.5) -> None:
        self.calls = 0
        self.answer = answer or [("cat", 0.9), ("sun", 0.06), ("tree", 0.04)]
        self.preselect_min_prob = preselect_min_prob

    def predict(self, lines: np.ndarray, top: int = 3) -> list[tuple[str, float]]:
        if lines.ndim != 2 or lines.dtype != np.uint8:
            raise TypeError("lines must be (H, W) uint8")
        self.calls += 1
        return self.answer[:top]


# ---------------------------------------------------------------- databases


# Put on a test (or a module's ``pytestmark``) to run it on every database backend; others use SQLite.
both_databases = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)


@pytest.fixture(autouse=True)
def _cheap_hashing(monkeypatch):
    """Lighter scrypt for speed; hashes record their cost, so verification is unchanged."""
    from icanvas.serve import security

    monkeypatch.setattr(security, "SCRYPT_N", 2**10)


@pytest.fixture
def database_url(request) -> str:
    """'' for SQLite in the data folder, or a PostgreSQL URL bound to a fresh schema."""
    if getattr(request, "param", "sqlite") == "sqlite":
        yield ""
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = os.environ[PG_ENV]
    schema = f"icv_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def settings(tmp_path, database_url):
    from icanvas.serve.settings import Settings

    return Settings(data_dir=tmp_path / "data", database_url=database_url, gen_window_ms=0, max_upload_bytes=2 * 2**20,
                    max_upload_pixels=4_000_000, model_path="")


# ---------------------------------------------------------------- clients


class Api:
    """A browser: keeps its cookies and sends the CSRF header on every change."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.csrf = ""

    def me(self) -> dict:
        r = self.client.get("/api/me")
        r.raise_for_status()
        self.csrf = r.json()["csrf_token"]
        return r.json()

    def request(self, method: str, url: str, **kw):
        headers = dict(kw.pop("headers", None) or {})
        if method.upper() != "GET":
            if not self.csrf:
                self.me()
            headers.setdefault("X-CSRF-Token", self.csrf)
        r = self.client.request(method, url, headers=headers, **kw)
        self.csrf = self.client.cookies.get("icanvas_csrf") or self.csrf  # a new login comes with a new token
        return r

    def get(self, url, **kw):
        return self.request("GET", url, **kw)

    def post(self, url, **kw):
        return self.request("POST", url, **kw)

    def patch(self, url, **kw):
        return self.request("PATCH", url, **kw)

    def delete(self, url, **kw):
        return self.request("DELETE", url, **kw)

    # -------------------------------------------------------- shortcuts

    def register(self, email: str, password: str = PASSWORD) -> dict:
        """Sign up and log in, as the page does; returns the login's `me` answer."""
        r = self.post("/api/auth/register", json={"email": email, "password": password})
        assert r.status_code == 202, r.text
        r = self.post("/api/auth/login", json={"email": email, "password": password})
        assert r.status_code == 200, r.text
        return r.json()

    def add_child(self, nickname: str, pin: list[str] = PIN, avatar: str = "bear") -> int:
        r = self.post("/api/children", json={"nickname": nickname, "avatar": avatar, "pin": pin})
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def enter(self, child_id: int, pin: list[str] = PIN) -> dict:
        r = self.post(f"/api/children/{child_id}/enter", json={"pin": pin})
        assert r.status_code == 200, r.text
        return r.json()

    def unlock(self, password: str = PASSWORD) -> dict:
        r = self.post("/api/parent/unlock", json={"password": password})
        assert r.status_code == 200, r.text
        return r.json()

    def save(self, drawing: bytes | None = None, picture: bytes | None = None, **fields):
        files = {"drawing": ("drawing.png", drawing or drawing_png(), "image/png")}
        if picture is not None:
            files["picture"] = ("picture.png", picture, "image/png")
        data = {"kind": "cat", "colours": "1", "seconds": "30"} | {k: str(v) for k, v in fields.items()}
        return self.post("/api/creations", files=files, data=data)

    def generate(self, drawing: bytes | None = None, kind: str = "cat"):
        return self.post("/api/generate", files={"drawing": ("d.png", drawing or drawing_png(), "image/png")}, data={"kind": kind})


@pytest.fixture
def recognizer() -> FakeRecognizer:
    return FakeRecognizer()


@pytest.fixture
def app(settings, pipelines, recognizer):
    from icanvas.serve.app import create_app

    return create_app(settings, pipelines=pipelines, recognizer=recognizer)


@pytest.fixture
def client(app):
    """The first client runs the app's lifespan; ``browser()`` makes more on the same app."""
    with TestClient(app) as c:
        yield c


@pytest.fixture
def browser(client):
    made: list[TestClient] = []

    def make() -> Api:
        if not made:
            made.append(client)
            return Api(client)
        extra = TestClient(client.app)
        made.append(extra)
        return Api(extra)

    return make


@pytest.fixture
def family(browser):
    """Parent X with children A and B (each in its own browser), parent Y with child C, and a guest."""
    x = browser()
    x.register("x@example.com")
    a_id, b_id = x.add_child("Ari"), x.add_child("Bo", pin=["sun", "moon", "star"])
    y = browser()
    y.register("y@example.com")
    c_id = y.add_child("Cy")
    a, b, c = browser(), browser(), browser()
    for who, cid, pin, email in ((a, a_id, PIN, "x@example.com"), (b, b_id, ["sun", "moon", "star"], "x@example.com"),
                                 (c, c_id, PIN, "y@example.com")):
        r = who.post("/api/auth/login", json={"email": email, "password": PASSWORD})
        assert r.status_code == 200, r.text
        who.enter(cid, pin)
    return {"x": x, "y": y, "a": a, "b": b, "c": c, "guest": browser(), "ids": {"a": a_id, "b": b_id, "c": c_id}}
