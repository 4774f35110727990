"""The disk reserve: kept, given up once when the disk is full, and never taking the last bytes."""

from __future__ import annotations

import errno
import sqlite3
from collections import namedtuple

import pytest
from sqlalchemy.exc import OperationalError

from icanvas.serve import reserve as reserve_module
from icanvas.serve.problems import InsufficientStorage, is_disk_full
from icanvas.serve.reserve import SpaceReserve, with_room

Usage = namedtuple("Usage", "total used free")


class FakeDb:
    def __init__(self) -> None:
        self.rollbacks = 0

    def rollback(self) -> None:
        self.rollbacks += 1


def sqlite_full() -> OperationalError:
    return OperationalError("INSERT ...", {}, sqlite3.OperationalError("database or disk is full"))


def test_disk_full_errors_are_recognised():
    assert is_disk_full(sqlite_full())
    assert is_disk_full(OSError(errno.ENOSPC, "No space left on device"))
    assert is_disk_full(InsufficientStorage("full"))
    assert not is_disk_full(OSError(errno.EACCES, "Permission denied"))
    assert not is_disk_full(OperationalError("SELECT", {}, sqlite3.OperationalError("database is locked")))
    assert not is_disk_full(ValueError("full"))


def test_reserve_is_created_with_real_blocks_and_released_once(tmp_path):
    r = SpaceReserve(tmp_path, 1 << 20)
    assert not r.present() and r.ensure() and r.present()
    assert r.path.stat().st_blocks * 512 >= 1 << 20  # not a sparse file: the space is really held
    assert r.ensure()  # already there
    assert r.release() and not r.path.exists()
    assert not r.release()  # nothing left to give up
    assert SpaceReserve(tmp_path, 0).ensure()  # size 0: no reserve is fine


def test_reserve_is_not_made_from_the_last_free_bytes(tmp_path, monkeypatch):
    r = SpaceReserve(tmp_path, 1 << 20)
    monkeypatch.setattr(reserve_module.shutil, "disk_usage", lambda _: Usage(10 << 20, 9 << 20, (1 << 20) + 5))
    assert not r.ensure() and not r.path.exists()


def test_with_room_retries_once_after_giving_up_the_reserve(tmp_path):
    r = SpaceReserve(tmp_path, 1 << 16)
    r.ensure()
    db, calls = FakeDb(), []

    def work():
        calls.append(r.present())
        if len(calls) == 1:
            raise sqlite_full()
        return "done"

    assert with_room(r, db, work) == "done"
    assert calls == [True, False] and db.rollbacks == 1  # the second try ran with the reserve given up
    assert r.present()  # and it is back as soon as there is room

    r.release()
    calls.clear()
    with pytest.raises(OperationalError):  # no reserve left: the error goes through
        with_room(r, db, lambda: calls.append(1) or (_ for _ in ()).throw(sqlite_full()))
    assert calls == [1]
    with pytest.raises(ValueError):  # other errors are never retried
        with_room(r, db, lambda: (_ for _ in ()).throw(ValueError("no")))
