"""The studio's FastAPI app factory.

``create_app(settings)`` returns an app whose lifespan opens the database (running migrations),
loads every installed model once and starts the generation pool and the photo -> character
worker. Passing ``pipelines`` (kind -> (SketchToImage, kind label or None)) uses exactly those
models, with the given ``recognizer``, ``sampler`` and ``portrait`` stages (a
:class:`~icanvas.serve.portraits.PortraitKit`), or none, and loads nothing from disk: tests and
embedding programs do this. Example::

    uvicorn --factory icanvas.serve.app:create_app
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from icanvas.serve import game
from icanvas.serve.db import make_engine, migrate, session_factory
from icanvas.serve.docs import install_docs
from icanvas.serve.generation import GenerationPool
from icanvas.serve.kinds import Models, load_pipelines, load_recognizer, load_sampler
from icanvas.serve.metrics import Metrics, install_metrics
from icanvas.serve.middleware import BodyLimit, SecurityHeaders
from icanvas.serve.photos import PhotoSlots
from icanvas.serve.portraits import PortraitKit, Portraits, load_portrait_kit
from icanvas.serve.problems import install_handlers
from icanvas.serve.reserve import SpaceReserve
from icanvas.serve.routes import api, pages
from icanvas.serve.routes.deps import StudioState, check_csrf
from icanvas.serve.schemas import ProblemAnswer
from icanvas.serve.settings import Settings
from icanvas.serve.storage import FileStore

log = logging.getLogger("icanvas.serve")

BODY_SLACK = 2**20  # room for form fields and multipart framing on top of the image files, bytes
FORM_LIMITS = {"max_files": 2, "max_fields": 16, "max_part_size": 64 * 1024}  # multipart: files, text fields, bytes per field
PROBLEM_RESPONSES = {code: {"model": ProblemAnswer, "description": text} for code, text in (
    ("4XX", "What was wrong and what to do: {detail: {problem, hint}}"),
    ("5XX", "The server could not do it (busy: see Retry-After; disk full: 507): {detail: {problem, hint}}"))}


def start_studio(settings: Settings, pipelines: dict[str, tuple[Any, str | None]] | None = None,
                 recognizer: Any = None, sampler: Any = None, portrait: PortraitKit | None = None,
                 metrics: Metrics | None = None) -> StudioState:
    """Open the database (migrating it), the file store, the models, the generation pool and the photo worker."""
    missions = game.load_missions()
    if pipelines is None and portrait is None:
        portrait = load_portrait_kit()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.db_url)
    migrate(engine)
    if pipelines is None:
        pipelines = load_pipelines(settings.model_dirs, backend=settings.model_backend)
        recognizer = recognizer if recognizer is not None else load_recognizer(settings.model_dirs)
        sampler = sampler if sampler is not None else load_sampler(settings.model_dirs)
        if not pipelines:
            log.warning("No pix2pix models found: the studio can save drawings but not make pictures. "
                        "Train one with 'icanvas train' or set ICANVAS_MODEL_PATH.")
    models = Models(dict(pipelines), recognizer, sampler)
    pool = GenerationPool(models.pipelines, settings.gen_workers, settings.gen_max_batch, settings.gen_window_ms,
                          settings.gen_max_queue, max_bytes=settings.max_upload_bytes, max_pixels=settings.max_upload_pixels,
                          on_batch=metrics.observe_batch if metrics is not None else None, helpers=settings.gen_helpers)
    if metrics is not None:
        metrics.gauge("icanvas_generation_queued", "Drawings waiting for a generation worker.", lambda: pool.queued)
        metrics.gauge("icanvas_generation_workers", "Generation worker threads.", lambda: pool.workers)
    state = StudioState(settings=settings, engine=engine, sessions=session_factory(engine), store=FileStore(settings.files_dir),
                        pool=pool.start(), models=models, missions=missions,
                        reserve=SpaceReserve(settings.data_dir, settings.disk_reserve_mb * 2**20),
                        photos=PhotoSlots(settings.photo_minutes * 60, settings.photo_max_kept).start(),
                        portraits=Portraits(portrait, settings.portrait_max_waiting) if portrait is not None else None)
    state.reserve.ensure()
    with state.sessions() as db:
        state.store.sweep(db)  # files left by a server killed mid-save or a full disk
    log.info("Studio ready: kinds %s, recognizer %s, surprises %s, photo to character %s, data in %s",
             ", ".join(models.pipelines) or "none", "on" if recognizer is not None else "off",
             "on" if sampler is not None else "off", "on" if portrait is not None else "off", settings.data_dir)
    return state


def stop_studio(state: StudioState) -> None:
    state.pool.close()
    state.photos.close()
    if state.portraits is not None:
        state.portraits.close()
    state.engine.dispose()


def create_app(settings: Settings | None = None, *, pipelines: dict[str, tuple[Any, str | None]] | None = None,
               recognizer: Any = None, sampler: Any = None, portrait: PortraitKit | None = None) -> FastAPI:
    """The studio app; see the module docstring for what ``pipelines``, ``recognizer``, ``sampler`` and ``portrait`` do."""
    settings = settings or Settings()
    metrics = Metrics()  # this process's request and generation figures, served at /metrics

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = await run_in_threadpool(start_studio, settings, pipelines, recognizer, sampler, portrait, metrics)
        app.state.studio = state
        try:
            yield
        finally:
            await run_in_threadpool(stop_studio, state)

    from icanvas import __version__

    app = FastAPI(title="iCanvas studio", version=__version__, lifespan=lifespan,
                  description="Draw, turn drawings into pictures, collect them in an album and earn stars.",
                  form_limits=FORM_LIMITS, docs_url=None, redoc_url=None)
    install_handlers(app)
    install_docs(app)  # /docs from the studio's own copy of Swagger UI
    app.add_middleware(BodyLimit, max_bytes=2 * settings.max_upload_bytes + BODY_SLACK)
    app.add_middleware(SecurityHeaders)
    app.include_router(api, prefix="/api", dependencies=[Depends(check_csrf)], responses=PROBLEM_RESPONSES)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=pages.STATIC_DIR, check_dir=False), name="static")
    install_metrics(app, metrics)  # outermost: counts every answer, errors and refusals too
    return app


def app_from_environment() -> FastAPI:
    """The studio app as each of several server processes (``icanvas serve --workers N``) or the
    reloader builds it: settings from the ICANVAS_* environment, malloc tuned in this process."""
    from icanvas.serve.http import show_studio_log, tune_malloc

    show_studio_log()
    tune_malloc()
    return create_app(Settings())
