"""Content-addressed image files: ``files/ab/cdef....png`` named by the sha256 of their bytes.

Files are written atomically (a temporary file in the same folder, fsync, ``os.replace``), so
a reader sees a whole file or none, also when the disk fills up mid-write (that answers 507
and leaves nothing behind). Rows in ``creations`` hold the keys; :meth:`FileStore.collect`
deletes a file once no row refers to it. ``FileStore.lock`` serialises "write file + commit
row" against "check references + delete file" inside one server process.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from icanvas.serve.problems import InsufficientStorage
from icanvas.serve.tables import Creation

SUFFIX = ".png"  # every stored image is a PNG
_KEY = re.compile(r"^[0-9a-f]{64}$")
_FULL = {errno.ENOSPC, errno.EDQUOT}


def disk_full() -> InsufficientStorage:
    return InsufficientStorage("The server's disk is full, so the picture was not saved.",
                               "Ask the person who runs the studio to free some disk space, then try again.")


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
        key = hashlib.sha256(data).hexdigest()
        target = self.path(key)
        if target.is_file() and target.stat().st_size == len(data):
            return key
        tmp: str | None = None
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=SUFFIX)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, target)
            tmp = None
        except OSError as e:
            if e.errno in _FULL:
                raise disk_full() from e
            raise
        finally:
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)
        return key

    def read(self, key: str) -> bytes:
        return self.path(key).read_bytes()

    def delete(self, key: str) -> None:
        path = self.path(key)
        path.unlink(missing_ok=True)
        try:
            path.parent.rmdir()  # only succeeds when the folder is empty
        except OSError:
            pass

    def collect(self, db: Session, keys: Iterable[str | None]) -> list[str]:
        """Delete the files of ``keys`` that no creation refers to any more; returns those deleted.

        Call after the deleting transaction committed, with ``self.lock`` held or not.
        """
        deleted = []
        with self.lock:
            for key in sorted({k for k in keys if k}):
                used = db.scalar(select(Creation.id).where(or_(Creation.drawing_key == key, Creation.picture_key == key)).limit(1))
                if used is None:
                    self.delete(key)
                    deleted.append(key)
        return deleted

    def temp_files(self) -> list[Path]:
        """Leftover temporary files (there should be none)."""
        return sorted(self.root.glob("*/.tmp-*")) if self.root.is_dir() else []
