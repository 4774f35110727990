"""Database: migrations on an empty database, idempotence, schema = ORM, pragmas, cascades, time zones."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, inspect, select, text

from alembic.script import ScriptDirectory

from icanvas.serve.db import alembic_config, current_revision, make_engine, migrate, session_factory
from icanvas.serve.tables import (
    Base, BadgeEarned, Child, Creation, LoginSession, MissionDone, Parent, StarEvent, utcnow,
)
from tests.serve.conftest import add_family, both_databases

TABLES = {"parents", "children", "sessions", "creations", "star_events", "badges_earned", "missions_done", "login_attempts",
          "devices", "server_secrets", "portraits"}
HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()  # the newest migration


@pytest.fixture
def engine(tmp_path, database_url):
    eng = make_engine(database_url or f"sqlite:///{tmp_path / 'sub' / 'icanvas.db'}")
    yield eng
    eng.dispose()


@both_databases
def test_migrations_create_everything_and_are_idempotent(engine):
    assert current_revision(engine) is None
    migrate(engine)
    assert current_revision(engine) == HEAD
    assert TABLES <= set(inspect(engine).get_table_names())
    migrate(engine)  # a second start changes nothing
    assert current_revision(engine) == HEAD


@both_databases
def test_migrated_schema_matches_the_orm(engine):
    migrate(engine)
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diffs == []


def test_sqlite_uses_wal_and_foreign_keys(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()


def _family(db):
    parent, child = add_family(db)
    creation = Creation(child_id=child.id, drawing_key="a" * 64, colours=2, seconds=3.5, favourite=False)
    db.add(creation)
    db.flush()
    now = utcnow()
    db.add_all([StarEvent(child_id=child.id, creation_id=creation.id, reason="creation", stars=1),
                BadgeEarned(child_id=child.id, badge_id="first-drawing"),
                MissionDone(child_id=child.id, mission_id="draw-cat", day=date(2025, 1, 2), creation_id=creation.id),
                LoginSession(token_hash="f" * 64, parent_id=parent.id, child_id=child.id, expires_at=now + timedelta(days=1))])
    db.commit()
    return parent, child


@both_databases
def test_deleting_a_child_cascades_and_ends_its_sessions(engine):
    migrate(engine)
    with session_factory(engine)() as db:
        parent, child = _family(db)
        db.add(LoginSession(token_hash="e" * 64, parent_id=parent.id, child_id=None, expires_at=utcnow() + timedelta(days=1)))
        db.commit()
        db.delete(child)
        db.commit()
        for table in (Child, Creation, StarEvent, BadgeEarned, MissionDone):
            assert db.scalar(select(func.count()).select_from(table)) == 0, table.__tablename__
        # the child's login ends with the profile (it never becomes a parent's); the parent's stays
        assert db.scalars(select(LoginSession.token_hash)).all() == ["e" * 64]


@both_databases
def test_deleting_a_parent_removes_the_whole_family(engine):
    migrate(engine)
    with session_factory(engine)() as db:
        parent, _ = _family(db)
        db.delete(parent)
        db.commit()
        for table in (Parent, Child, Creation, StarEvent, BadgeEarned, MissionDone, LoginSession):
            assert db.scalar(select(func.count()).select_from(table)) == 0, table.__tablename__


@both_databases
def test_times_come_back_aware_utc(engine):
    migrate(engine)
    seoul = timezone(timedelta(hours=9))
    at = datetime(2025, 3, 1, 8, 30, tzinfo=seoul)
    with session_factory(engine)() as db:
        _, child = _family(db)
        db.add(Creation(child_id=child.id, drawing_key="b" * 64, colours=0, seconds=0, favourite=False, created_at=at))
        db.commit()
    with session_factory(engine)() as db:
        got = db.scalar(select(Creation.created_at).where(Creation.drawing_key == "b" * 64))
    assert got.tzinfo is not None and got.utcoffset() == timedelta(0) and got == at


@both_databases
def test_naive_times_are_refused(engine):
    migrate(engine)
    with session_factory(engine)() as db:
        _, child = _family(db)
        db.add(Creation(child_id=child.id, drawing_key="c" * 64, colours=0, seconds=0, favourite=False,
                        created_at=datetime(2025, 1, 1)))
        with pytest.raises(Exception, match="naive"):
            db.commit()


@both_databases
def test_app_start_migrates_an_empty_database_twice(settings, pipelines):
    from tests.serve.conftest import TestClient

    from icanvas.serve.app import create_app

    for _ in range(2):
        with TestClient(create_app(settings, pipelines=pipelines)) as client:
            assert client.get("/api/me").json()["role"] == "guest"
            state = client.app.state.studio
            assert current_revision(state.engine) == HEAD
    if not settings.database_url:
        assert (settings.data_dir / "icanvas.db").is_file()


def test_bad_database_url_is_a_typed_error():
    from icanvas.errors import ConfigError

    with pytest.raises(ConfigError, match="not a database URL"):
        make_engine("not a url at all")


def test_servers_starting_at_once_on_one_sqlite_file_migrate_one_after_another(tmp_path):
    import subprocess
    import sys

    code = ("import sys; from icanvas.serve.db import make_engine, migrate, current_revision; "
            "e = make_engine(sys.argv[1]); migrate(e); print(current_revision(e))")
    url = f"sqlite:///{tmp_path / 'icanvas.db'}"
    runs = [subprocess.Popen([sys.executable, "-c", code, url], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(4)]
    answers = [r.communicate(timeout=120) for r in runs]
    assert [r.returncode for r in runs] == [0] * 4, [err[-500:] for _, err in answers]
    assert len({out.strip() for out, _ in answers}) == 1 and answers[0][0].strip()  # all at the same, newest revision
