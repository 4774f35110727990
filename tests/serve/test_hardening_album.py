"""Saving to the album: crash-safe (start-up sweep), leaves nothing when it fails, idempotent
under retries and races, and reading a bounded number of rows however large the album is."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

from icanvas.serve import album, game
from icanvas.serve.db import make_engine, migrate, session_factory
from icanvas.serve.problems import InsufficientStorage
from icanvas.serve.storage import SWEEP_GRACE_S, FileStore, disk_full
from icanvas.serve.tables import BadgeEarned, Child, Creation, MissionDone, StarEvent
from tests.serve.conftest import TestClient, add_family, both_databases, drawing_png

UTC = timezone.utc
OLD = SWEEP_GRACE_S + 60  # seconds: older than the sweep's grace period


@pytest.fixture
def sessions(tmp_path, database_url):
    engine = make_engine(database_url or f"sqlite:///{tmp_path / 'album.db'}")
    migrate(engine)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture
def child_id(sessions) -> int:
    with sessions() as db:
        _, child = add_family(db)
        db.commit()
        return child.id


def _age(path: Path, seconds: float = OLD) -> None:
    st = path.stat()
    os.utime(path, (st.st_atime - seconds, st.st_mtime - seconds))


def _files(store: FileStore) -> set[Path]:
    return {p for p in store.root.rglob("*") if p.is_file()} if store.root.is_dir() else set()


def _count(db, table) -> int:
    return db.scalar(select(func.count()).select_from(table))


def _save(sessions, store: FileStore, child_id: int, at: datetime | None = None, drawing: bytes | None = None,
          picture: bytes | None = None, key: str | None = None, **facts) -> album.Saved:
    with sessions() as db:
        child = db.get(Child, child_id)
        f = game.CreationFacts(at=at or datetime.now(UTC), **facts)
        return album.save_creation(db, store, child, drawing or os.urandom(64), picture, f, game.load_missions(),
                                   game.RECOGNIZER_LABELS, idempotency_key=key)


# ----------------------------------------------------------------------------- 1. crash and disk-full leftovers


@both_databases
def test_sweep_removes_only_old_temp_files_and_old_unreferenced_images(sessions, child_id, tmp_path):
    store = FileStore(tmp_path / "files")
    saved = _save(sessions, store, child_id, picture=b"picture bytes")
    used = [saved.creation.drawing_key, saved.creation.picture_key]
    old_orphan, young_orphan = store.put(b"old orphan"), store.put(b"young orphan")
    old_temp = store.path(old_orphan).with_name(".tmp-abc.png")
    young_temp = store.path(old_orphan).with_name(".tmp-def.png")
    stranger = store.path(old_orphan).with_name("notes.txt")  # not the store's: never touched
    for p in (old_temp, young_temp, stranger):
        p.write_bytes(b"x")
    for p in [store.path(k) for k in (*used, old_orphan)] + [old_temp, stranger]:
        _age(p)
    with sessions() as db:
        swept = store.sweep(db)
    assert swept.orphans == [old_orphan] and swept.temp_files == [old_temp]
    assert all(store.exists(k) for k in (*used, young_orphan)) and not store.exists(old_orphan)
    assert young_temp.exists() and stranger.exists() and not old_temp.exists()
    with sessions() as db:  # with no grace, the young ones go too
        swept = store.sweep(db, grace_s=0, now=time.time() + 1)
    assert swept.orphans == [young_orphan] and swept.temp_files == [young_temp]
    assert all(store.exists(k) for k in used) and store.temp_files() == []


def test_sweep_keeps_a_file_another_process_is_saving(sessions, child_id, tmp_path, monkeypatch):
    from icanvas.serve import storage

    store = FileStore(tmp_path / "files")
    key = store.put(b"a drawing saved again elsewhere")
    _age(store.path(key))
    store.put(b"a drawing saved again elsewhere")  # a save writes it again: its age starts over
    with sessions() as db:
        assert store.sweep(db).orphans == [] and store.exists(key)
    _age(store.path(key))
    checked = storage._referenced

    def touched_meanwhile(db, keys):  # another process puts the file right after the reference check
        used = checked(db, keys)
        os.utime(store.path(key))
        return used

    monkeypatch.setattr(storage, "_referenced", touched_meanwhile)
    with sessions() as db:
        assert store.sweep(db).orphans == []
    assert store.read(key) == b"a drawing saved again elsewhere" and store.temp_files() == []


def test_start_up_sweeps_what_a_killed_server_left(settings, pipelines):
    from icanvas.serve.app import create_app

    store = FileStore(settings.files_dir)
    orphan = store.put(b"written, never committed")
    temp = store.path(orphan).with_name(".tmp-killed.png")
    temp.write_bytes(b"half a file")
    _age(store.path(orphan))
    _age(temp)
    with TestClient(create_app(settings, pipelines=pipelines)):
        assert not store.exists(orphan) and not temp.exists()


KILLED_SAVER = """
import os, sys
from datetime import datetime, timezone
from icanvas.serve import album, game
from icanvas.serve.db import make_engine, session_factory
from icanvas.serve.storage import FileStore
from icanvas.serve.tables import Child
sessions = session_factory(make_engine(sys.argv[1]))
store, missions = FileStore(sys.argv[2]), game.load_missions()
print("ready", flush=True)
while True:
    with sessions() as db:
        facts = game.CreationFacts(at=datetime.now(timezone.utc), kind="cat")
        album.save_creation(db, store, db.get(Child, int(sys.argv[3])), os.urandom(30000), os.urandom(30000), facts, missions, ())
"""


def test_saves_killed_midway_leave_nothing_after_the_sweep(tmp_path, sessions, child_id):
    """SIGKILL a process in the middle of saving, several times; the sweep then leaves only referenced files."""
    url = sessions.kw["bind"].url.render_as_string(hide_password=False)
    store = FileStore(tmp_path / "files")
    rng = random.Random(0)
    for _ in range(4):
        proc = subprocess.Popen([sys.executable, "-c", KILLED_SAVER, url, str(store.root), str(child_id)],
                                stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.05, 0.4))
        proc.kill()
        proc.wait()
        proc.stdout.close()
    with sessions() as db:
        saved = _count(db, Creation)
        store.sweep(db, grace_s=0, now=time.time() + 1)
        referenced = {k for row in db.execute(select(Creation.drawing_key, Creation.picture_key)) for k in row if k}
    on_disk = {p.parent.name + p.stem for p in store.root.rglob("*.png") if not p.name.startswith(".")}
    assert saved > 0 and on_disk == referenced and store.temp_files() == []


class FullOnSecondPut(FileStore):
    """A store whose disk fills up on the second file of a save."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.calls = 0

    def add(self, data: bytes) -> tuple[str, bool]:
        self.calls += 1
        if self.calls == 2:
            raise disk_full()
        return super().add(data)


@both_databases
def test_a_full_disk_on_the_second_file_leaves_nothing(sessions, child_id, tmp_path):
    store = FullOnSecondPut(tmp_path / "files")
    with pytest.raises(InsufficientStorage):
        _save(sessions, store, child_id, picture=b"the picture")
    assert _files(store) == set()
    with sessions() as db:
        assert _count(db, Creation) == _count(db, StarEvent) == 0


@both_databases
def test_a_database_failure_leaves_nothing(sessions, child_id, tmp_path, monkeypatch):
    store = FileStore(tmp_path / "files")
    kept = _save(sessions, store, child_id, drawing=b"an earlier drawing")  # shared with the failing save: must stay
    before = _files(store)

    def broken_commit(self):
        raise OperationalError("COMMIT", {}, Exception("the database went away"))

    monkeypatch.setattr("sqlalchemy.orm.Session.commit", broken_commit)
    with pytest.raises(OperationalError):
        _save(sessions, store, child_id, drawing=b"an earlier drawing", picture=b"a new picture")
    monkeypatch.undo()
    assert _files(store) == before and store.exists(kept.creation.drawing_key)
    with sessions() as db:
        assert _count(db, Creation) == 1


@both_databases
def test_any_failure_leaves_nothing_even_without_the_database(sessions, child_id, tmp_path, monkeypatch):
    store = FileStore(tmp_path / "files")

    def rules_broke(*args, **kwargs):
        raise RuntimeError("rules broke")

    def database_gone(db, keys):
        raise OperationalError("SELECT", {}, Exception("the database went away"))

    monkeypatch.setattr(album.game, "evaluate", rules_broke)
    monkeypatch.setattr("icanvas.serve.storage._referenced", database_gone)  # the cleanup cannot ask the database
    with pytest.raises(RuntimeError):
        _save(sessions, store, child_id, picture=b"a picture")
    assert _files(store) == set()


# ----------------------------------------------------------------------------- 2. idempotent saves


def _post(api, drawing: bytes, picture: bytes | None = None, header: str | None = None, field: str | None = None):
    files = {"drawing": ("drawing.png", drawing, "image/png")}
    if picture is not None:
        files["picture"] = ("picture.png", picture, "image/png")
    data = {"kind": "cat", "colours": "1", "seconds": "30"} | ({"idempotency_key": field} if field is not None else {})
    return api.post("/api/creations", files=files, data=data, headers={"Idempotency-Key": header} if header is not None else {})


def _ledger(app) -> tuple[int, int, int, int]:
    with app.state.studio.sessions() as db:
        return _count(db, Creation), _count(db, StarEvent), _count(db, MissionDone), _count(db, BadgeEarned)


@both_databases
def test_a_retried_save_answers_the_first_one_again(family):
    a, app = family["a"], family["a"].client.app
    store = app.state.studio.store
    level_up = None
    for n in range(12):  # until a save levels up, so the retry must give level_up back as well
        key = f"save-{n:04d}-{'k' * 20}"
        first = _post(a, drawing_png(seed=n), drawing_png(seed=100 + n), header=key)
        assert first.status_code == 201, first.text
        assert "Idempotent-Replayed" not in first.headers
        if first.json()["rewards"]["level_up"]:
            level_up = (key, n, first.json())
            break
    assert level_up is not None
    key, n, answer = level_up
    assert a.save(drawing=drawing_png(seed=999)).status_code == 201  # changes the totals; the retry still answers the first answer
    files, rows = _files(store), _ledger(app)
    for how in ({"header": key}, {"field": key}):
        again = _post(a, drawing_png(seed=n), drawing_png(seed=100 + n), **how)
        assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
        assert again.json() == answer
    assert _ledger(app) == rows and _files(store) == files  # no new row, star, mission, badge or file


def test_idempotency_keys_are_checked_and_belong_to_one_child(family):
    a, b = family["a"], family["b"]
    for bad in ("short", "x" * 65, "has space in it", "semi;colon-key"):
        assert _post(a, drawing_png(), header=bad).status_code == 422
    assert _post(a, drawing_png(), field="ünïcödé-key-123").status_code == 422
    assert _post(a, drawing_png(), header="a" * 16, field="b" * 16).status_code == 422
    first = _post(a, drawing_png(), field="same-key-for-both")
    other = _post(b, drawing_png(), field="same-key-for-both")
    assert first.status_code == other.status_code == 201
    assert first.json()["creation"]["id"] != other.json()["creation"]["id"]
    assert "Idempotent-Replayed" not in other.headers
    assert a.save().json()["creation"]["id"] != a.save().json()["creation"]["id"]  # without a key, each save is new


def _race(monkeypatch, step: str, save) -> list[album.Saved]:
    """Run ``save(0)`` and ``save(1)`` in two threads that both finish ``album.<step>`` before either goes on."""
    barrier, waited, real = threading.Barrier(2, timeout=20), threading.local(), getattr(album, step)

    def together(*args):
        found = real(*args)
        if not getattr(waited, "once", False):
            waited.once = True
            barrier.wait()
        return found

    monkeypatch.setattr(album, step, together)
    results, errors = [], []

    def run(i: int) -> None:
        try:
            results.append(save(i))
        except BaseException as e:  # noqa: BLE001  (reported below)
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == [] and len(results) == 2
    return results


@both_databases
def test_two_identical_saves_racing_make_one_creation(sessions, child_id, tmp_path, monkeypatch):
    """Both look the key up before either commits; the unique index lets one win, the other answers its creation."""
    store = FileStore(tmp_path / "files")
    results = _race(monkeypatch, "saved_with_key", lambda i: _save(
        sessions, store, child_id, drawing=b"one drawing", picture=b"one picture", key="raced-key-0001", kind="cat",
        recognized="cat", colours=3))
    won, replayed = sorted(results, key=lambda s: s.replayed)
    assert not won.replayed and replayed.replayed
    assert won.creation.id == replayed.creation.id and won.rewards == replayed.rewards and won.total == replayed.total
    with sessions() as db:
        assert _count(db, Creation) == 1
        assert db.scalar(select(func.sum(StarEvent.stars))) == won.total
    assert len(list(store.root.rglob("*.png"))) == 2 and store.temp_files() == []


def test_migration_0003_adds_the_key_to_an_album_that_has_creations(tmp_path):
    from sqlalchemy import text

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    migrate(engine, "0002")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO parents (id, email, password_hash, created_at) VALUES (1, 'p@x', 'x', '2025-01-01')"))
        conn.execute(text("INSERT INTO children (id, parent_id, nickname, avatar, pin_hash, created_at) "
                          "VALUES (1, 1, 'A', 'bear', 'x', '2025-01-01')"))
        for i in range(2):
            conn.execute(text("INSERT INTO creations (child_id, colours, seconds, favourite, drawing_key, created_at) "
                              f"VALUES (1, 0, 0, 0, '{i:064x}', '2025-01-01')"))
    migrate(engine)
    with session_factory(engine)() as db:
        assert db.scalars(select(Creation.idempotency_key)).all() == [None, None]
    engine.dispose()


# ----------------------------------------------------------------------------- 3. a save's cost does not grow with the album


KINDS = [None, "cat", "car", "shoe", "handbag", "panda", "face", "house", "tree"]
LABELS = [None, None, "cat", "car", "sun", "tree", "fish", "face", "house", "flower"]
LABEL_SETS = [game.RECOGNIZER_LABELS, frozenset(), frozenset({"cat", "car"})]


@both_databases
def test_rewards_from_the_summary_equal_rewards_from_the_whole_history(sessions, child_id, tmp_path, monkeypatch):
    """A random run of saves (and a few deletions) over several weeks: every answer equals what
    the rules give on the whole history, and the stored summary equals the summarized history."""
    monkeypatch.setattr(album, "STREAK_WINDOW_DAYS", 2)  # streaks outgrow the first window often: it widens
    rng = random.Random(7)
    store = FileStore(tmp_path / "files")
    missions = game.load_missions()
    full, at = game.History(), datetime(2025, 3, 1, 8, tzinfo=UTC)
    kept: list[tuple[int, game.CreationFacts]] = []
    for step in range(170):
        at += rng.choice([timedelta(minutes=20), timedelta(hours=3), timedelta(hours=20), timedelta(hours=22), timedelta(days=1),
                          timedelta(days=1, hours=2), timedelta(days=2), timedelta(days=4)])
        facts = game.CreationFacts(at=at, kind=rng.choice(KINDS), recognized=rng.choice(LABELS), colours=rng.randint(0, 6),
                                   seconds=rng.uniform(5, 120), mission_id=rng.choice([None, "draw-cat"]))
        labels, today = rng.choice(LABEL_SETS), game.day_of(at)
        expected = game.evaluate(full, facts, missions, child_id, today, known_labels=labels)
        with sessions() as db:
            summary = album.history_of(db, child_id, today)
            whole = game.summarize(full, today, missions, child_id)
            assert summary == game.Summary(**{**whole.__dict__, "days": summary.days})
            assert game.streak_days(summary, today) == game.streak_days(full, today)
            saved = album.save_creation(db, store, db.get(Child, child_id), os.urandom(32), None, facts, missions, labels)
        assert saved.rewards == expected, f"step {step}"
        assert saved.total == full.stars + expected.stars
        kept.append((saved.creation.id, facts))
        full = game.History(creations=(*full.creations, facts),
                            missions_done=(*full.missions_done, *((m, today) for m in expected.missions_done)),
                            stars=full.stars + expected.stars, badges=full.badges | set(expected.badges))
        if rng.random() < 0.05:  # a parent deletes a creation: it leaves the album, its stars and missions stay
            gone_id, gone = kept.pop(rng.randrange(len(kept)))
            with sessions() as db:
                album.delete_creation(db, store, db.get(Creation, gone_id))
            creations = list(full.creations)
            creations.remove(gone)
            full = game.History(tuple(creations), full.missions_done, full.stars, full.badges)
    assert len(full.badges) >= 5 and len({d for _, d in full.missions_done}) >= 10  # the run reached the rules
    assert max(game.streak_days(game.History(full.creations[:i]), game.day_of(c.at)) for i, c in enumerate(full.creations)) >= 9  # widened twice


ROW_BUDGET = 60  # rows a save may read: counts, distinct kinds and labels, a streak window, this week's missions, badges


def _rows_read(engine, action) -> int:
    """Rows the SELECTs of ``action()`` returned, counted by running each one again afterwards."""
    selects = []

    def seen(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            selects.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", seen)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    with engine.connect() as conn:
        return sum(len(conn.exec_driver_sql(s, p).all()) for s, p in selects)


def _fill(sessions, child_id: int, n: int, before: datetime) -> None:
    """``n`` creations (with their stars and some missions) spread over the years before ``before``."""
    rng = random.Random(n)
    with sessions() as db:
        for i in range(n):
            at = before - timedelta(days=3 * (i + 1), hours=rng.randint(0, 20))
            c = Creation(child_id=child_id, kind=KINDS[i % 4], recognized=LABELS[i % 5], colours=rng.randint(0, 6),
                         seconds=30.0, favourite=False, drawing_key=f"{i:064x}", created_at=at)
            db.add(c)
            db.flush()
            db.add(StarEvent(child_id=child_id, creation_id=c.id, reason="creation", stars=1, created_at=at))
            if i % 5 == 0:
                db.add(MissionDone(child_id=child_id, mission_id="use-3-colours", day=at.date(), creation_id=c.id))
                db.add(StarEvent(child_id=child_id, creation_id=c.id, reason="daily_bonus:use-3-colours", stars=2, created_at=at))
        db.commit()


@both_databases
def test_a_save_reads_the_same_few_rows_in_a_small_and_a_large_album(sessions, child_id, tmp_path):
    engine = sessions.kw["bind"]
    store = FileStore(tmp_path / "files")
    now = datetime.now(UTC)
    counts = []
    for n in (60, 600):  # both past every badge threshold, so both earned the same badges
        with sessions() as db:
            child = Child(parent_id=db.get(Child, child_id).parent_id, nickname=f"c{n}", avatar="bear", pin_hash="x")
            db.add(child)
            db.commit()
            cid = child.id
        _fill(sessions, cid, n, now - timedelta(days=60))  # all older than the streak and the week
        for day in range(3):  # the same recent days for both children
            _save(sessions, store, cid, at=now - timedelta(days=3 - day), kind="cat", recognized="cat")
        counts.append(_rows_read(engine, lambda: _save(sessions, store, cid, at=now, key=f"counted-{n:04d}", kind="shoe", colours=4)))
    small, large = counts
    assert large == small and large <= ROW_BUDGET, counts


@both_databases
def test_two_different_saves_racing_for_one_mission_both_land(sessions, child_id, tmp_path, monkeypatch):
    """Two server processes (two stores on one folder: one process's saves wait for each other) read
    the child's past before either commits, so both would complete the same missions and earn the
    same first badges; the one that loses the unique index runs the rules again and lands."""
    results = _race(monkeypatch, "history_of", lambda i: _save(  # each its own store, as another process has
        sessions, FileStore(tmp_path / "files"), child_id, drawing=f"drawing {i}".encode(), kind="cat", recognized="cat", colours=3))
    assert not any(r.replayed for r in results)
    assert any(r.rewards.missions_done or r.rewards.badges for r in results)  # there was something to race for
    with sessions() as db:
        assert _count(db, Creation) == 2
        done = db.execute(select(MissionDone.mission_id, MissionDone.day)).all()
        badges = db.scalars(select(BadgeEarned.badge_id)).all()
    assert len(done) == len(set(done)) and len(badges) == len(set(badges))
    assert sorted(done) == sorted((m, r.creation.created_at.date()) for r in results for m in r.rewards.missions_done)
