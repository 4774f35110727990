"""Content-addressed image files: ``files/ab/cdef....png`` named by the sha256 of their bytes.

Files are written atomically (a temporary file in the same folder, fsync, ``os.replace``), so
a reader sees a whole file or none, also when the disk fills up mid-write (that answers 507
and leaves nothing behind). Rows in ``creations`` and ``portraits`` hold the keys;
:meth:`FileStore.collect` deletes a file once no row refers to it. ``FileStore.lock``
serialises "write file + commit row" against "check references + delete file" inside one
server process; :meth:`FileStore.all_or_nothing` is that pattern for a save.

Between server processes (several workers, or several machines sharing one files folder and
one database) the file's modification time is the signal: :meth:`FileStore.put` writes or
touches the file right before its row is committed, and :meth:`FileStore.sweep` (run at
start-up) only removes temporary files and unreferenced images older than a grace period.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select, union
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from icanvas.serve.problems import DISK_FULL_ERRNOS, InsufficientStorage
from icanvas.serve.tables import Creation, Portrait

SUFFIX = ".png"  # every stored image is a PNG
TEMP_PREFIX = ".tmp-"  # temporary files (writes in progress, files being swept) start with this
SWEEP_GRACE_S = 300.0  # the sweep leaves files younger than this alone (a save in flight elsewhere), s; above any clock skew
SWEEP_BATCH = 500  # file keys checked against the database per query
_KEY = re.compile(r"^[0-9a-f]{64}$")
_NAME = re.compile(r"^[0-9a-f]{62}" + re.escape(SUFFIX) + "$")  # an image file's name inside its folder
_FOLDER = re.compile(r"^[0-9a-f]{2}$")

log = logging.getLogger("icanvas.serve")


def key_of(data: bytes) -> str:
    """The key a file of these bytes is stored under (sha256 hex)."""
    return hashlib.sha256(data).hexdigest()


def disk_full() -> InsufficientStorage:
    return InsufficientStorage("The server's disk is full, so the picture was not saved.",
                               "Ask the person who runs the studio to free some disk space, then try again.")


@dataclass
class Swept:
    """What :meth:`FileStore.sweep` removed."""

    temp_files: list[Path] = field(default_factory=list)  # leftover temporary files
    orphans: list[str] = field(default_factory=list)  # keys of image files no creation or portrait referred to


class FileStore:
    """Image files under ``root`` keyed by sha256 hex."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.lock = threading.RLock()

    def path(self, key: str) -> Path:
        if not _KEY.match(key or ""):
            raise ValueError(f"not a file key: {key!r}")
        return self.root / key[:2] / (key[2:] + SUFFIX)

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def put(self, data: bytes) -> str:
        """Store ``data`` (idempotent) and return its key. A full disk raises InsufficientStorage."""
        return self.add(data)[0]

    def add(self, data: bytes) -> tuple[str, bool]:
        """Store ``data``; returns (key, whether this call wrote the file). A full disk raises InsufficientStorage.

        A file that is already there gets its modification time refreshed, so no sweep takes it
        while the row that will refer to it is being committed.
        """
        key = key_of(data)
        target = self.path(key)
        if target.is_file() and target.stat().st_size == len(data):
            try:
                os.utime(target)
                return key, False
            except FileNotFoundError:
                pass  # swept away this very moment: write it again
        tmp: str | None = None
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=TEMP_PREFIX, suffix=SUFFIX)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, target)
            tmp = None
        except OSError as e:
            if e.errno in DISK_FULL_ERRNOS:
                raise disk_full() from e
            raise
        finally:
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)
        return key, True

    @contextmanager
    def all_or_nothing(self, db: Session) -> Iterator[Callable[[bytes], str]]:
        """A save of files and rows, all or nothing: ``with store.all_or_nothing(db) as put:`` write
        files with ``put(data) -> key``, add rows and commit inside the block.

        The lock is held throughout, so no file of the save is collected before its row is
        committed. When the block raises (a full disk, a failed commit, anything), the session
        is rolled back and the files this save wrote are deleted (files that were there
        already stay); the exception goes on.
        """
        written: list[str] = []  # keys of the files this save wrote (not those that were there already)

        def put(data: bytes) -> str:
            key, new = self.add(data)
            if new:
                written.append(key)
            return key

        with self.lock:
            try:
                yield put
            except BaseException:
                db.rollback()
                self.discard(db, written)
                raise

    def read(self, key: str) -> bytes:
        return self.path(key).read_bytes()

    def delete(self, key: str) -> None:
        self._unlink(self.path(key))

    @staticmethod
    def _unlink(path: Path) -> None:
        path.unlink(missing_ok=True)
        try:
            path.parent.rmdir()  # only succeeds when the folder is empty
        except OSError:
            pass

    def collect(self, db: Session, keys: Iterable[str | None]) -> list[str]:
        """Delete the files of ``keys`` that no creation or portrait refers to any more; returns those deleted.

        Call after the deleting transaction committed, with ``self.lock`` held or not.
        """
        deleted = []
        with self.lock:
            for key in sorted({k for k in keys if k}):
                if not _referenced(db, [key]):
                    self.delete(key)
                    deleted.append(key)
        return deleted

    def discard(self, db: Session, keys: Iterable[str]) -> list[str]:
        """Delete the files a failed save wrote (``keys``), unless a committed row refers to them.

        Call after rolling back. When the database cannot answer, the files are deleted all the
        same: this save wrote them and committed nothing.
        """
        keys = list(keys)
        try:
            return self.collect(db, keys)
        except SQLAlchemyError:
            log.warning("Could not check the files of a failed save against the database; deleting them.", exc_info=True)
            with self.lock:
                for key in keys:
                    self.delete(key)
            return list(keys)

    def temp_files(self) -> list[Path]:
        """Leftover temporary files (there should be none)."""
        return sorted(self.root.glob(f"*/{TEMP_PREFIX}*")) if self.root.is_dir() else []

    def sweep(self, db: Session, grace_s: float = SWEEP_GRACE_S, now: float | None = None) -> Swept:
        """Delete temporary files and image files no creation or portrait refers to, when older than ``grace_s``.

        Left behind by a server killed mid-save or a full disk. Safe while other processes save:
        their files are younger than the grace period, and each image is moved aside, checked
        again (age, references) and only then deleted, under ``self.lock``.
        """
        cutoff = (time.time() if now is None else now) - grace_s
        swept = Swept()
        candidates: list[str] = []
        for folder in _listing(self.root):
            if not _FOLDER.match(folder.name):
                continue
            for path in _listing(folder):
                if path.name.startswith(TEMP_PREFIX):
                    if _older(path, cutoff) and self._try(self._unlink, path):
                        swept.temp_files.append(path)
                elif _NAME.match(path.name) and _older(path, cutoff):
                    candidates.append(folder.name + path.name[: -len(SUFFIX)])
        for start in range(0, len(candidates), SWEEP_BATCH):
            batch = candidates[start:start + SWEEP_BATCH]
            with self.lock:
                used = _referenced(db, batch)
                swept.orphans += [key for key in batch if key not in used and self._try(self._remove_stale, key, cutoff)]
        if swept.temp_files or swept.orphans:
            log.info("Swept %d leftover temporary files and %d unreferenced image files from %s",
                     len(swept.temp_files), len(swept.orphans), self.root)
        return swept

    @staticmethod
    def _try(action, *args) -> bool:
        """Run a file action of the sweep; a file it may not touch is logged and left, not fatal."""
        try:
            return action(*args) is not False
        except OSError as e:
            log.warning("The sweep could not remove %s: %s", args[0], e.strerror or e)
            return False

    def _remove_stale(self, key: str, cutoff: float) -> bool:
        """Move the file aside, then delete it unless it was touched (a save elsewhere) meanwhile."""
        path = self.path(key)
        aside = path.with_name(f"{TEMP_PREFIX}sweep-{uuid.uuid4().hex}{SUFFIX}")
        try:
            os.rename(path, aside)
        except FileNotFoundError:
            return False
        if not _older(aside, cutoff):  # a put refreshed it between the check and the move: keep it
            os.replace(aside, path)  # same key, same bytes, so this is safe even if it was written again
            return False
        self._unlink(aside)
        return True


def _listing(folder: Path) -> list[Path]:
    """The entries of a folder, sorted; none when it is not there (any more) or not a folder."""
    try:
        return sorted(folder.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return []


def _older(path: Path, cutoff: float) -> bool:
    try:
        return path.stat().st_mtime < cutoff
    except FileNotFoundError:
        return False


def _referenced(db: Session, keys: list[str]) -> set[str]:
    """The keys among ``keys`` that some creation or portrait refers to."""
    if not keys:
        return set()
    drawings = select(Creation.drawing_key).where(Creation.drawing_key.in_(keys))
    pictures = select(Creation.picture_key).where(Creation.picture_key.in_(keys))
    portraits = select(Portrait.picture_key).where(Portrait.picture_key.in_(keys))
    return set(db.scalars(union(drawings, pictures, portraits)))  # UNION drops duplicates: at most len(keys) rows
