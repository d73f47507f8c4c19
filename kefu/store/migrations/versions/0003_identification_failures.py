"""identification failures: failed attempts per customer and per source, across conversations

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identification_failures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("identification_failures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_identification_failures_key"), ["key"], unique=False)
        batch_op.create_index(batch_op.f("ix_identification_failures_at"), ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("identification_failures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identification_failures_at"))
        batch_op.drop_index(batch_op.f("ix_identification_failures_key"))
    op.drop_table("identification_failures")
