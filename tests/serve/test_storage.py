"""Content-addressed image files: layout, atomic writes, full disks, reference-counted deletion."""

from __future__ import annotations

import errno
import hashlib
import os

import pytest

from icanvas.serve.db import make_engine, migrate, session_factory
from icanvas.serve.problems import InsufficientStorage
from icanvas.serve.storage import FileStore
from icanvas.serve.tables import Creation
from tests.serve.conftest import add_family


def test_put_is_content_addressed_and_idempotent(tmp_path):
    store = FileStore(tmp_path / "files")
    data = b"\x89PNG fake image bytes"
    key = store.put(data)
    assert key == hashlib.sha256(data).hexdigest()
    path = store.path(key)
    assert path == tmp_path / "files" / key[:2] / (key[2:] + ".png")
    assert path.read_bytes() == data and store.read(key) == data
    assert store.put(data) == key and len(list((tmp_path / "files").rglob("*.png"))) == 1
    assert store.temp_files() == []


def test_bad_keys_never_become_paths(tmp_path):
    store = FileStore(tmp_path)
    for key in ("../../etc/passwd", "ab", "A" * 64, ""):
        with pytest.raises(ValueError):
            store.path(key)


def test_full_disk_raises_507_and_leaves_nothing(tmp_path, monkeypatch):
    store = FileStore(tmp_path / "files")

    def no_space(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)  # the bytes were written to the temp file, the disk is full at flush
    with pytest.raises(InsufficientStorage) as info:
        store.put(b"some picture")
    assert info.value.status == 507 and "disk is full" in info.value.problem
    assert store.temp_files() == []
    assert list((tmp_path / "files").rglob("*.png")) == []


def test_other_write_errors_propagate_and_clean_up(tmp_path, monkeypatch):
    store = FileStore(tmp_path / "files")

    def broken(src, dst):
        raise OSError(errno.EIO, "I/O error")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError) as info:
        store.put(b"x")
    assert not isinstance(info.value, InsufficientStorage) and info.value.errno == errno.EIO
    assert store.temp_files() == []


def test_replace_keeps_the_old_complete_file_until_the_new_one_is_whole(tmp_path, monkeypatch):
    store = FileStore(tmp_path / "files")
    key = store.put(b"complete")
    store.path(key).write_bytes(b"comp")  # damaged copy (wrong size) gets rewritten whole
    assert store.put(b"complete") == key and store.read(key) == b"complete"


def test_collect_deletes_only_unreferenced_files(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    migrate(engine)
    store = FileStore(tmp_path / "files")
    shared, own, orphan = store.put(b"shared"), store.put(b"own"), store.put(b"orphan")
    with session_factory(engine)() as db:
        _, child = add_family(db)
        first = Creation(child_id=child.id, drawing_key=shared, picture_key=own, colours=0, seconds=0, favourite=False)
        second = Creation(child_id=child.id, drawing_key=shared, colours=0, seconds=0, favourite=False)
        db.add_all([first, second])
        db.commit()
        assert store.collect(db, [orphan, shared, None]) == [orphan]
        db.delete(first)
        db.commit()
        assert store.collect(db, [shared, own]) == [own]
        assert store.exists(shared) and not store.exists(own) and not store.exists(orphan)
        db.delete(second)
        db.commit()
        assert store.collect(db, [shared]) == [shared] and not store.exists(shared)
    engine.dispose()
