"""A save can be retried safely: ``creations.idempotency_key``, unique per child.

The page sends a fresh key with each save and the same key when it retries that save; the
server answers a retry with the creation it already saved. Creations saved before have none.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("creations", sa.Column("idempotency_key", sa.String(64), nullable=True))
    op.create_index("uq_creations_child_idempotency_key", "creations", ["child_id", "idempotency_key"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_creations_child_idempotency_key", table_name="creations")
    with op.batch_alter_table("creations") as batch:  # SQLite drops a column by copying the table
        batch.drop_column("idempotency_key")
