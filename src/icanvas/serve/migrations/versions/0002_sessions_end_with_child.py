"""Sessions end with their child profile; known devices; the servers' shared CSRF key.

- ``sessions.child_id`` is ON DELETE CASCADE. Before, deleting a child profile set the child's
  sessions to no child, which made them parent sessions. The table is recreated (every login
  ends once, at the upgrade).
- ``devices``: browsers that once logged in to a parent account (only the sha256 of their
  cookie), so their login tries count against the device alone.
- ``server_secrets``: random keys every server process shares, starting with the key that
  ties CSRF tokens to their session.
- ``login_attempts`` now holds sha256 keys; the rows of the old plain keys can never be
  counted again and are deleted.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from __future__ import annotations

import secrets
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
SECRET_BYTES = 32  # randomness of a server key, bytes


def _sessions(child_ondelete: str) -> None:
    op.create_table(
        "sessions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("parent_id", sa.Integer, sa.ForeignKey("parents.id", ondelete="CASCADE"), nullable=False),
        sa.Column("child_id", sa.Integer, sa.ForeignKey("children.id", ondelete=child_ondelete), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
    )
    op.create_index("ix_sessions_parent_id", "sessions", ["parent_id"])


def upgrade() -> None:
    op.drop_table("sessions")  # logins are short-lived secrets: dropping them only asks everyone to log in again
    _sessions("CASCADE")
    op.create_table(
        "devices",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("parent_id", sa.Integer, sa.ForeignKey("parents.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("last_login_at", TS, nullable=False),
    )
    op.create_index("ix_devices_parent_id", "devices", ["parent_id"])
    keys = op.create_table(
        "server_secrets",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("value", sa.String(128), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    now = datetime.now(timezone.utc)
    if op.get_context().dialect.name == "sqlite":
        now = now.replace(tzinfo=None)  # the ORM stores naive UTC on SQLite
    op.bulk_insert(keys, [{"name": "csrf", "value": secrets.token_hex(SECRET_BYTES), "created_at": now}])
    op.execute("DELETE FROM login_attempts")


def downgrade() -> None:
    op.drop_table("server_secrets")
    op.drop_table("devices")
    op.drop_table("sessions")
    _sessions("SET NULL")
