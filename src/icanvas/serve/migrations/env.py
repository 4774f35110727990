"""Alembic environment of the studio database.

The server runs migrations in code (:func:`icanvas.serve.db.migrate`) and hands over its open
connection in ``config.attributes["connection"]``; the ``alembic`` command line works too when
``sqlalchemy.url`` is set in the config it is given.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from icanvas.serve.tables import Base

config = context.config
target_metadata = Base.metadata


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite")  # SQLite alters tables by copying
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
