"""Browser fixtures: the real studio app on a free port (tiny untrained model, fake recognizer)
and Debian's Chromium driven by Playwright. Everything skips cleanly when Chromium is missing.

Screenshots go to the folder named by ICANVAS_SCREENSHOTS (default: a pytest temp folder).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest

from tests.serve.conftest import FakeRecognizer, pipelines, tiny_model_dir, tiny_pipe  # noqa: F401  (fixtures reused)

CHROMIUM = Path("/usr/bin/chromium")  # Debian's browser; Playwright's own download is never used
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SERVER_START_S = 30  # longest wait for the app to answer, seconds
LANDSCAPE = {"width": 1024, "height": 768}  # tablet / small laptop
PORTRAIT = {"width": 768, "height": 1024}  # tablet held upright
PHONE = {"width": 390, "height": 844}  # phone held upright

HERE = Path(__file__).resolve().parent


def _missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is not installed (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is not installed (pip install -e '.[dev]')"
    return None


def pytest_collection_modifyitems(config, items):
    reason = _missing()
    if reason is None:
        return
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.skip(reason=reason))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """uvicorn running the app in a background thread."""

    def __init__(self, app) -> None:
        import uvicorn

        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> "LiveServer":
        self.thread.start()
        deadline = time.monotonic() + SERVER_START_S
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("The studio app did not start.")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory, pipelines):  # noqa: F811  (fixture imported above)
    """A fresh studio (own data folder and database) for each test module."""
    from icanvas.serve.app import create_app
    from icanvas.serve.settings import Settings

    data = tmp_path_factory.mktemp("studio-data")
    settings = Settings(data_dir=data, database_url="", gen_window_ms=0, model_path="")
    app = create_app(settings, pipelines=pipelines, recognizer=FakeRecognizer())
    with LiveServer(app) as server:
        yield server


@pytest.fixture(scope="package")  # closed after the browser tests: the sync API keeps an event loop running in this thread
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory) -> Path:
    folder = os.environ.get("ICANVAS_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _page_opener(chromium, url: str):
    """Yields make(viewport=LANDSCAPE, **context options) -> a Page on ``url``, ready to draw; closes them after."""
    contexts = []

    def make(viewport: dict | None = None, **options):
        context = chromium.new_context(viewport=viewport or LANDSCAPE, **options)
        contexts.append(context)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.js_errors = errors
        page.goto(url + "/")
        page.wait_for_selector("body[data-ready=true]")
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def open_page(chromium, live_server):
    """open_page(viewport=LANDSCAPE, **context options) -> a Page on the studio, ready to draw."""
    yield from _page_opener(chromium, live_server.url)


class RedSampler:
    """A sampler for the "Surprise me!" button: solid saturated red pictures (easy to find in any
    exported image), of the one kind it knows or of no kind in particular; remembers what it was asked."""

    kinds = ["shoe"]  # asking for another kind gets a 422 from the app

    def __init__(self) -> None:
        self.asked: list[str | None] = []  # the kind of every picture made, oldest first

    def __call__(self, kind: str | None):
        import numpy as np

        self.asked.append(kind)
        return np.full((64, 64, 3), (255, 0, 0), np.uint8)  # (H, W, 3) uint8 RGB


@pytest.fixture(scope="module")
def surprise_server(tmp_path_factory, pipelines):  # noqa: F811  (fixture imported above)
    """A fresh studio with a RedSampler installed (``surprise_server.sampler``), one per test module."""
    from icanvas.serve.app import create_app
    from icanvas.serve.settings import Settings

    data = tmp_path_factory.mktemp("surprise-data")
    settings = Settings(data_dir=data, database_url="", gen_window_ms=0, model_path="")
    sampler = RedSampler()
    app = create_app(settings, pipelines=pipelines, sampler=sampler)
    with LiveServer(app) as server:
        server.sampler = sampler
        yield server


@pytest.fixture
def open_surprise_page(chromium, surprise_server):
    """Like open_page, on the studio with a sampler installed."""
    yield from _page_opener(chromium, surprise_server.url)
