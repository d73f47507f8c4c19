"""order changes: cancel, return and exchange details, row versions, idempotent writes

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cancel_reason", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("return_items", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("return_payment_method_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("exchange_items", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("exchange_new_items", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("exchange_payment_method_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("exchange_price_difference", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("payment_methods", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
    op.create_table(
        "write_requests",
        sa.Column("request_id", sa.String(length=255), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("request_id"),
    )


def downgrade() -> None:
    op.drop_table("write_requests")
    with op.batch_alter_table("payment_methods", schema=None) as batch_op:
        batch_op.drop_column("version")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        for column in (
            "exchange_price_difference", "exchange_payment_method_id", "exchange_new_items",
            "exchange_items", "return_payment_method_id", "return_items", "cancel_reason",
        ):
            batch_op.drop_column(column)
