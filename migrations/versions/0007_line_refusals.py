"""line refusals: the warehouses that gave an order line's units back

A warehouse that rejects or short-picks a fulfillment order gives its lines back to
routing, which plans them elsewhere or backorders them. The backorder pass used to
send a backordered line straight back to the warehouse that had just refused it (its
balance still showing the units), on every tick. A row here keeps it from doing so
until the warehouse's stock of the item is counted, adjusted, written off or
replenished: a ledger movement of one of those kinds after `after_movement`.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 23:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "line_refusals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("fulfillment_order_id", sa.Integer(), nullable=False),
        sa.Column("refused_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("after_movement", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["fulfillment_order_id"],
            ["fulfillment_orders.id"],
            name=op.f("fk_line_refusals_fulfillment_order_id_fulfillment_orders"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_line_refusals_item_id_items")
        ),
        sa.ForeignKeyConstraint(
            ["line_id"],
            ["sales_order_lines.id"],
            name=op.f("fk_line_refusals_line_id_sales_order_lines"),
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["warehouses.id"],
            name=op.f("fk_line_refusals_warehouse_id_warehouses"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_line_refusals")),
    )
    op.create_index("ix_line_refusals_line", "line_refusals", ["line_id", "warehouse_id"])


def downgrade() -> None:
    op.drop_index("ix_line_refusals_line", table_name="line_refusals")
    op.drop_table("line_refusals")
