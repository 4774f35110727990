"""Photo -> character in the studio (grown-ups only): the pipeline's stages, the worker thread
that runs them, and a grown-up's own album of the pictures they saved.

The stages (:class:`PortraitKit`) are loaded once at start (:func:`load_portrait_kit`: the default
person selector and background filler, every style :func:`~icanvas.portrait.restyle.list_styles`
names); a style's model is loaded on its first use and kept. Tests pass a kit of tiny stages to
:func:`icanvas.serve.app.create_app`.

The pipeline runs on its own worker thread (:class:`PortraitWork`), never on the event loop nor
on the threads that answer other requests or make drawings into pictures, so a slow photo holds
up nothing else; a few requests may wait for it, more answer 503 with Retry-After. One worker,
because the stages (a TFLite interpreter, model sessions) are not made to be called from
several threads at once.

Saved pictures are content-addressed files like the children's creations
(:meth:`~icanvas.serve.storage.FileStore.all_or_nothing`), one ``portraits`` row each.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from icanvas.serve.images import png_bytes
from icanvas.serve.problems import NotFound, Saturated, TooManyRequests, Unprocessable
from icanvas.serve.schemas import PortraitOut
from icanvas.serve.storage import FileStore, key_of
from icanvas.serve.tables import Portrait, utcnow

log = logging.getLogger("icanvas.serve")

STYLE_LABELS: dict[str, dict[str, str]] = {  # style name -> its name on the page by language; others show their own name
    "anime": {"ko": "애니메이션", "en": "Anime"},
    "cartoon": {"ko": "만화", "en": "Cartoon"},
}
PREFERRED_STYLE = "anime"  # the style the page starts with when it is installed (else the first one)
FIRST_JOB_GUESS_S = 3.0  # assumed seconds per request before one has been timed
EMA_WEIGHT = 0.2  # weight of the newest request in the running request-time average
CLICK_HINT = ("Click on the person (more clicks help), mark what is not the person with a right-click or a long press, "
              "or use a photo where the person is bigger.")


@dataclass
class PortraitKit:
    """The stages :class:`~icanvas.pipelines.stylize.Stylize` is built from, and the styles offered."""

    selector: Any  # PersonSelector: (H, W, 3) photo + Prompt -> Selection
    filler: Any  # BackgroundFiller: photo + mask -> the photo with the person filled away
    styles: list[str]  # style names offered, in this order
    load_style: Callable[[str], Any]  # style name -> Restyler, called once per style on its first use
    body: Callable[[Any], Any] | None = None  # restyler -> the restyler of the rest of the person (None: no pairing)
    refresh: Callable[[], list[str]] | None = None  # () -> the styles installed now (learned characters appear); None = fixed


class InstalledStyles:
    """``list_styles()``, read again only when a folder models are found in changed (a style was added or removed):
    a stat per folder on each request instead of reading every model's config.json."""

    def __init__(self, list_styles: Callable[[], list[str]]) -> None:
        self._list, self._seen, self._styles = list_styles, None, []

    def __call__(self) -> list[str]:
        from icanvas.catalog import search_dirs

        seen = tuple(folder.stat().st_mtime_ns if folder.is_dir() else None for folder, _ in search_dirs())
        if seen != self._seen:
            self._seen, self._styles = seen, self._list()
        return list(self._styles)


def load_portrait_kit() -> PortraitKit | None:
    """The installed stages, or None (logged) when they cannot be loaded: the studio then runs without the photo page."""
    try:
        from icanvas.pipelines.stylize import default_body
        from icanvas.portrait.fill import make_filler
        from icanvas.portrait.restyle import list_styles, load_restyler
        from icanvas.portrait.select import backend_status, default_selector

        installed = InstalledStyles(list_styles)
        kit = PortraitKit(default_selector(), make_filler(), installed(), load_restyler, default_body, refresh=installed)
        log.info("Photo -> character: styles %s; %s", ", ".join(kit.styles), backend_status())
        return kit
    except Exception:  # noqa: BLE001  (a broken optional feature must not keep the studio from starting)
        log.warning("Photo -> character is off: its stages could not be loaded.", exc_info=True)
        return None


def style_label(name: str) -> dict[str, str]:
    return dict(STYLE_LABELS.get(name, {"ko": name, "en": name}))


class _SelectOnly:
    """The restyler of the pipeline that only finds masks: never called."""

    name = "none"

    def restyle(self, crop: np.ndarray, mask: np.ndarray, face: Any) -> np.ndarray:
        raise RuntimeError("the selecting pipeline does not restyle")


@contextmanager
def _web_words() -> Iterator[None]:
    """The pipeline's prompt errors (nothing selected, too small) as 422 problems with a hint for the page."""
    from icanvas.errors import PromptError

    try:
        yield
    except PromptError as e:
        raise Unprocessable(e.problem, CLICK_HINT) from e


class Portraits:
    """The studio's photo -> character pipeline: one :class:`Stylize` per style, built on first use."""

    def __init__(self, kit: PortraitKit, max_waiting: int) -> None:
        from icanvas.pipelines.stylize import Stylize

        self.kit, self.work = kit, PortraitWork(max_waiting)
        self._make = Stylize  # imported here: the studio starts even when the pipeline's modules cannot be imported
        self._selecting = Stylize(kit.selector, kit.filler, _SelectOnly())
        self._pipes: dict[str, Any] = {}
        self._lock = threading.Lock()  # a style loads once, however many ask at once

    @property
    def styles(self) -> list[str]:
        """The styles offered now: a character learned while the studio runs shows up without a restart."""
        if self.kit.refresh is not None:
            self.kit.styles = self.kit.refresh()
        return self.kit.styles

    @property
    def default_style(self) -> str | None:
        styles = self.styles
        return PREFERRED_STYLE if PREFERRED_STYLE in styles else (styles[0] if styles else None)

    def check_style(self, style: str) -> None:
        styles = self.styles
        if style not in styles:
            raise Unprocessable(f"There is no style {style!r}.", f"Pick one of: {', '.join(styles) or 'none installed'}.")

    def pipe(self, style: str) -> Any:
        """The pipeline of ``style``, its restyler loaded on first use."""
        self.check_style(style)
        with self._lock:
            if style not in self._pipes:
                restyler = self.kit.load_style(style)
                body = self.kit.body(restyler) if self.kit.body is not None else None
                self._pipes[style] = self._make(self.kit.selector, self.kit.filler, restyler, body)
            return self._pipes[style]

    def mask(self, photo: np.ndarray, prompt: Any) -> bytes:
        """The person's mask as a greyscale PNG of the photo's size (255 = the person). Runs on the worker."""
        with _web_words():
            mask, _ = self._selecting.select(photo, prompt)  # (H, W) float32 in [0, 1]
        return png_bytes((mask * 255).round().astype(np.uint8))

    def stylize(self, photo: np.ndarray, prompt: Any, style: str) -> tuple[bytes, dict[str, float]]:
        """(the photo with the person redrawn, as PNG; ms per stage). Runs on the worker."""
        pipe = self.pipe(style)
        with _web_words():
            result = pipe(photo, prompt)
        return png_bytes(result.image), dict(result.timings_ms)

    def close(self) -> None:
        self.work.close()


class PortraitWork:
    """One worker thread for photo -> character and at most ``max_waiting`` requests waiting for it
    (more answer 503 with Retry-After); a login runs one request at a time (a second answers 429)."""

    def __init__(self, max_waiting: int) -> None:
        self.max_waiting = max_waiting
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="icanvas-portrait")
        self._lock = threading.Lock()
        self._pending = 0  # requests running or waiting
        self._owners: set[str] = set()  # logins with a request running or waiting
        self._job_s = FIRST_JOB_GUESS_S

    def retry_after(self) -> int:
        """Seconds a client should wait before trying again, from the requests ahead and their time."""
        return max(1, math.ceil((self._pending + 1) * self._job_s))

    async def run(self, owner: str, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)`` on the worker thread, for the login ``owner``."""
        with self._lock:
            if owner in self._owners:
                raise TooManyRequests("Your last photo request is still running.", "Wait for it to finish, then try again.", 1)
            if self._pending >= 1 + self.max_waiting:
                raise Saturated(self.retry_after())
            self._pending += 1
            self._owners.add(owner)
        try:
            future = self._pool.submit(self._timed, fn, *args)
        except RuntimeError:  # the studio is shutting down
            self._release(owner)
            raise Saturated(self.retry_after()) from None
        future.add_done_callback(lambda _: self._release(owner))  # also when the client left before the answer
        return await asyncio.wrap_future(future)

    def _timed(self, fn: Callable[..., Any], *args: Any) -> Any:
        started = time.monotonic()
        try:
            return fn(*args)
        finally:
            self._job_s = (1 - EMA_WEIGHT) * self._job_s + EMA_WEIGHT * (time.monotonic() - started)

    def _release(self, owner: str) -> None:
        with self._lock:
            self._pending -= 1
            self._owners.discard(owner)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


# ----------------------------------------------------------------------------- the grown-up's album


def portrait_out(p: Portrait) -> PortraitOut:
    return PortraitOut(id=p.id, style=p.style, created_at=p.created_at, picture_url=f"/api/portraits/{p.id}/picture.png")


def own_portrait(db: Session, parent_id: int, portrait_id: int) -> Portrait:
    """The parent's portrait ``portrait_id``, else 404 (another's looks the same as none)."""
    portrait = db.get(Portrait, portrait_id)
    if portrait is None or portrait.parent_id != parent_id:
        raise NotFound("There is no such picture.", "Pick one from your album.")
    return portrait


def list_portraits(db: Session, parent_id: int, limit: int, offset: int = 0) -> list[Portrait]:
    """Newest first."""
    return list(db.scalars(select(Portrait).where(Portrait.parent_id == parent_id)
                           .order_by(Portrait.created_at.desc(), Portrait.id.desc()).limit(limit).offset(offset)))


def _saved(db: Session, parent_id: int, key: str) -> Portrait | None:
    return db.scalar(select(Portrait).where(Portrait.parent_id == parent_id, Portrait.picture_key == key))


def save_portrait(db: Session, store: FileStore, parent_id: int, picture_png: bytes, style: str | None) -> tuple[Portrait, bool]:
    """Store a grown-up's picture and its row, all or nothing; returns (row, whether it was saved
    before): the same picture saved again by the same grown-up (a retry, or two saves at once)
    answers the row saved first and writes nothing."""
    key = key_of(picture_png)
    if (earlier := _saved(db, parent_id, key)) is not None:
        return earlier, True
    try:
        with store.all_or_nothing(db) as put:
            portrait = Portrait(parent_id=parent_id, picture_key=put(picture_png), style=style, created_at=utcnow())
            db.add(portrait)
            db.commit()
    except IntegrityError:
        if (earlier := _saved(db, parent_id, key)) is not None:  # the same save, sent twice at once: the other one won
            return earlier, True
        raise
    return portrait, False


def delete_portrait(db: Session, store: FileStore, portrait: Portrait) -> None:
    """Delete the row, then its file unless another row (another grown-up's same picture) still uses it."""
    key = portrait.picture_key
    db.delete(portrait)
    db.commit()
    store.collect(db, [key])

