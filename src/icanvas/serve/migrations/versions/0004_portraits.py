"""A grown-up's own album: ``portraits``, the photo -> character pictures a parent saved.

Each row holds the sha256 key of its picture file (the same content-addressed files as
creations) and belongs to a parent account (deleted with it). A parent saving the same picture
twice keeps one row (unique per parent and picture).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "portraits",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("parent_id", sa.Integer, sa.ForeignKey("parents.id", ondelete="CASCADE"), nullable=False),
        sa.Column("picture_key", sa.String(64), nullable=False),
        sa.Column("style", sa.String(60), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_portraits_picture_key", "portraits", ["picture_key"])
    op.create_index("ix_portraits_parent_created", "portraits", ["parent_id", "created_at"])
    op.create_index("uq_portraits_parent_picture", "portraits", ["parent_id", "picture_key"], unique=True)


def downgrade() -> None:
    op.drop_table("portraits")  # its indexes go with it
