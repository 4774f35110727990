"""Initial studio schema: parents, children, sessions, creations, stars, badges, missions, login attempts.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "parents",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(254), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "children",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("parent_id", sa.Integer, sa.ForeignKey("parents.id", ondelete="CASCADE"), nullable=False),
        sa.Column("nickname", sa.String(20), nullable=False),
        sa.Column("avatar", sa.String(40), nullable=False),
        sa.Column("pin_hash", sa.String(200), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_children_parent_id", "children", ["parent_id"])
    op.create_table(
        "sessions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("parent_id", sa.Integer, sa.ForeignKey("parents.id", ondelete="CASCADE"), nullable=False),
        sa.Column("child_id", sa.Integer, sa.ForeignKey("children.id", ondelete="SET NULL"), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
    )
    op.create_index("ix_sessions_parent_id", "sessions", ["parent_id"])
    op.create_table(
        "creations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("child_id", sa.Integer, sa.ForeignKey("children.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(40), nullable=True),
        sa.Column("recognized", sa.String(40), nullable=True),
        sa.Column("recognized_prob", sa.Float, nullable=True),
        sa.Column("colours", sa.Integer, nullable=False),
        sa.Column("seconds", sa.Float, nullable=False),
        sa.Column("mission_id", sa.String(60), nullable=True),
        sa.Column("favourite", sa.Boolean, nullable=False),
        sa.Column("drawing_key", sa.String(64), nullable=False),
        sa.Column("picture_key", sa.String(64), nullable=True),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_creations_child_created", "creations", ["child_id", "created_at"])
    op.create_index("ix_creations_drawing_key", "creations", ["drawing_key"])
    op.create_index("ix_creations_picture_key", "creations", ["picture_key"])
    op.create_table(
        "star_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("child_id", sa.Integer, sa.ForeignKey("children.id", ondelete="CASCADE"), nullable=False),
        sa.Column("creation_id", sa.Integer, sa.ForeignKey("creations.id", ondelete="SET NULL"), nullable=True),
        sa.Column("reason", sa.String(60), nullable=False),
        sa.Column("stars", sa.Integer, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_star_events_child_id", "star_events", ["child_id"])
    op.create_table(
        "badges_earned",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("child_id", sa.Integer, sa.ForeignKey("children.id", ondelete="CASCADE"), nullable=False),
        sa.Column("badge_id", sa.String(60), nullable=False),
        sa.Column("earned_at", TS, nullable=False),
        sa.UniqueConstraint("child_id", "badge_id", name="uq_badges_earned_child_badge"),
    )
    op.create_table(
        "missions_done",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("child_id", sa.Integer, sa.ForeignKey("children.id", ondelete="CASCADE"), nullable=False),
        sa.Column("mission_id", sa.String(60), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("creation_id", sa.Integer, sa.ForeignKey("creations.id", ondelete="SET NULL"), nullable=True),
        sa.UniqueConstraint("child_id", "mission_id", "day", name="uq_missions_done_child_mission_day"),
    )
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("scope", sa.String(20), nullable=False),
        sa.Column("key", sa.String(254), nullable=False),
        sa.Column("at", TS, nullable=False),
    )
    op.create_index("ix_login_attempts_scope_key_at", "login_attempts", ["scope", "key", "at"])


def downgrade() -> None:
    for table in ("login_attempts", "missions_done", "badges_earned", "star_events", "creations", "sessions", "children", "parents"):
        op.drop_table(table)
