"""Grown-ups' uploaded photos, held in memory only, one per login, for a few minutes.

A photo of a person is personal data: the studio keeps its pixels (decoded, upright, at most
:data:`~icanvas.serve.images.UPLOAD_WORK_SIDE` px, every bit of metadata gone) in this
process's memory, never on disk, so that clicks on the person need not send it again. Each
login has at most one photo; a new upload replaces it. A photo is forgotten ``ttl_s`` after its
last use (a sweeper thread drops it even when nobody asks again), when its login ends (log
out, a child profile entered) or when the page lets it go.

Photos live in one server process: a studio run as several processes needs sticky sessions
for the photo page (a photo uploaded to one process is not found by another: upload it again).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from icanvas.serve.problems import NotFound, Saturated

SWEEP_EVERY_S = 15.0  # how often the sweeper drops photos past their time, s
FULL_RETRY_S = 30  # Retry-After when every place for a photo is taken by a live one, s


@dataclass
class Photo:
    pixels: np.ndarray  # (H, W, 3) uint8 RGB, upright, no metadata
    expires: float  # clock time at which it is forgotten, s

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])


def gone() -> NotFound:
    return NotFound("There is no photo to work on: photos are forgotten a few minutes after their last use, and when you log out.",
                    "Choose the photo again.")


class PhotoSlots:
    """At most ``max_kept`` photos, keyed by their owner (a login's token hash), each forgotten
    ``ttl_s`` after its last use. Thread-safe; ``clock`` is monotonic seconds (tests pass their own)."""

    def __init__(self, ttl_s: float, max_kept: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s, self.max_kept, self.clock = ttl_s, max_kept, clock
        self._photos: dict[str, Photo] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._sweeper: threading.Thread | None = None

    def __len__(self) -> int:
        with self._lock:
            return len(self._photos)

    def put(self, owner: str, pixels: np.ndarray) -> Photo:
        """Keep ``pixels`` as ``owner``'s photo (replacing theirs); 503 when every place holds a live photo of others."""
        with self._lock:
            self._photos.pop(owner, None)
            self._drop_expired()
            if len(self._photos) >= self.max_kept:
                raise Saturated(FULL_RETRY_S)
            photo = Photo(pixels, self.clock() + self.ttl_s)
            self._photos[owner] = photo
            return photo

    def get(self, owner: str) -> Photo:
        """``owner``'s photo, its time renewed; 404 when there is none (never uploaded, forgotten, expired)."""
        with self._lock:
            photo = self._photos.get(owner)
            now = self.clock()
            if photo is None or photo.expires <= now:
                self._photos.pop(owner, None)
                raise gone()
            photo.expires = now + self.ttl_s
            return photo

    def peek(self, owner: str) -> Photo | None:
        """``owner``'s live photo without renewing it, or None."""
        with self._lock:
            photo = self._photos.get(owner)
            return photo if photo is not None and photo.expires > self.clock() else None

    def drop(self, owner: str | None) -> bool:
        """Forget ``owner``'s photo now; True when there was one."""
        with self._lock:
            return owner is not None and self._photos.pop(owner, None) is not None

    def sweep(self) -> int:
        """Forget every photo past its time; returns how many."""
        with self._lock:
            return self._drop_expired()

    def _drop_expired(self) -> int:
        now = self.clock()
        old = [owner for owner, photo in self._photos.items() if photo.expires <= now]
        for owner in old:
            del self._photos[owner]
        return len(old)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> PhotoSlots:
        """Start the sweeper thread (idempotent)."""
        if self._sweeper is None:
            self._stop.clear()
            self._sweeper = threading.Thread(target=self._sweep_until_closed, name="icanvas-photo-sweeper", daemon=True)
            self._sweeper.start()
        return self

    def close(self) -> None:
        """Stop the sweeper and forget every photo."""
        self._stop.set()
        if self._sweeper is not None:
            self._sweeper.join(timeout=5)
            self._sweeper = None
        with self._lock:
            self._photos.clear()

    def _sweep_until_closed(self) -> None:
        while not self._stop.wait(SWEEP_EVERY_S):
            self.sweep()
