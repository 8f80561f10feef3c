"""matching index version stamp

Revision ID: eba494c1511a
Revises: 67b62166be1f
Create Date: 2026-11-26 13:53:40.892078

"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "eba494c1511a"
down_revision = "67b62166be1f"
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table(
        "matching_index_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_matching_index_state")),
    )
    # The single row every worker reads; changes bump it.
    op.bulk_insert(table, [{"id": 1, "version": 1, "changed_at": datetime.now(UTC)}])


def downgrade():
    op.drop_table("matching_index_state")
