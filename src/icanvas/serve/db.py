"""Database engine and migrations: SQLite by default (WAL, foreign keys on), PostgreSQL by URL.

:func:`migrate` brings any database to the newest schema with Alembic, configured in code, so
the server needs no ``alembic.ini`` in its working directory. Running it again does nothing.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from icanvas.errors import ConfigError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_MS = 10_000  # how long SQLite waits for another writer before failing, ms


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
    cursor.execute("PRAGMA foreign_keys=ON")  # SQLite ignores ON DELETE CASCADE without it
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL, far fewer fsyncs
    cursor.close()


MIGRATION_LOCK = 0x1CA7_7A5  # PostgreSQL advisory lock key held while migrating (any number unique to this app)


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite files get their folder created and the pragmas above."""
    try:
        parsed = make_url(url)
    except ArgumentError as e:
        raise ConfigError(f"ICANVAS_DATABASE_URL {url!r} is not a database URL.",
                          "Use e.g. sqlite:////path/icanvas.db or postgresql+psycopg://user:pass@host/db.") from e
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(parsed, pool_pre_ping=True)


def alembic_config(engine: Engine | None = None) -> Config:
    """Alembic config built in code, pointing at the packaged migrations."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database to ``revision`` (idempotent). Servers starting at once (several
    processes or machines) migrate one after another: under an advisory lock on PostgreSQL, under
    a lock file beside the database file on SQLite."""
    cfg = alembic_config(engine)
    try:
        with _sqlite_file_lock(engine), engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, revision)
    except OperationalError as e:
        raise ConfigError(f"Cannot open the database at {engine.url.render_as_string()}: {e.orig}.",
                          "Check ICANVAS_DATABASE_URL / ICANVAS_DATA_DIR, that the server is running and you may write there.") from e


@contextmanager
def _sqlite_file_lock(engine: Engine) -> Iterator[None]:
    """Hold an exclusive lock on ``<database file>.migrate-lock`` (SQLite files only; else nothing)."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    with open(f"{database}.migrate-lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        yield


def current_revision(engine: Engine) -> str | None:
    """The schema revision recorded in the database, None for an empty one."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
