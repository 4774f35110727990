"""Room kept back on the data disk, so that signing in and deleting work when the disk is full.

The studio keeps a file of ``size`` bytes (``reserve.bin`` in the data folder). When a write
that must work on a full disk (a login, deleting a creation or a profile) fails because the
disk is full, :func:`with_room` deletes the reserve and tries once more: the freed space is
enough for a few database pages, and a deletion then frees the space of its images. Saving a
creation first puts the reserve back (:meth:`SpaceReserve.ensure`); when there is no room for
it, the save answers 507, so children's drawings never eat the room that grown-ups need to
sign in and clean up.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from sqlalchemy.orm import Session

from icanvas.serve.problems import DISK_FULL_ERRNOS, is_disk_full

log = logging.getLogger("icanvas.serve")
T = TypeVar("T")

RESERVE_FILE = "reserve.bin"  # name of the reserve inside the data folder
_CHUNK = 1 << 20  # bytes written at a time where fallocate is not available


class SpaceReserve:
    """A file of ``size`` bytes that can be given up when the disk is full (size 0: none)."""

    def __init__(self, folder: str | os.PathLike, size: int) -> None:
        self.path = Path(folder) / RESERVE_FILE
        self.size = max(0, int(size))
        self._lock = threading.Lock()

    def present(self) -> bool:
        try:
            return self.path.stat().st_size >= self.size
        except FileNotFoundError:
            return False

    def ensure(self) -> bool:
        """Make sure the reserve exists; True when it does. Creates it only when the disk has
        room for it and as much again, so it never takes the last free bytes itself."""
        if self.size == 0 or self.present():
            return True
        with self._lock:
            if self.present():
                return True
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if shutil.disk_usage(self.path.parent).free < 2 * self.size:
                return False
            tmp = self.path.with_suffix(".tmp")
            try:
                with open(tmp, "wb") as f:
                    try:
                        os.posix_fallocate(f.fileno(), 0, self.size)  # real blocks, not a sparse file
                    except OSError as e:
                        if e.errno in DISK_FULL_ERRNOS:
                            raise
                        for done in range(0, self.size, _CHUNK):  # file systems without fallocate
                            f.write(bytes(min(_CHUNK, self.size - done)))
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, self.path)
            except OSError as e:
                tmp.unlink(missing_ok=True)
                if e.errno in DISK_FULL_ERRNOS:
                    return False
                raise
            return True

    def release(self) -> bool:
        """Delete the reserve; True when it was there (and its space is now free)."""
        with self._lock:
            try:
                self.path.unlink()
            except FileNotFoundError:
                return False
        log.warning("The data disk is full: gave up the %d MB reserve so that signing in and deleting still work. "
                    "Free some disk space.", self.size // 2**20)
        return True


def with_room(reserve: SpaceReserve, db: Session, work: Callable[[], T]) -> T:
    """``work()``, and once more after giving up the reserve if it failed because the disk is
    full. ``work`` must be a whole unit that commits, since the failed try is rolled back; it
    may raise HTTP problems (they pass through)."""
    try:
        return work()
    except Exception as e:
        if not is_disk_full(e):
            raise
        db.rollback()
        if not reserve.release():
            raise
    result = work()
    reserve.ensure()  # back at once if the work freed room (a deletion), else at a later save or start
    return result

