"""routing: rule sets, plans with their traces, fulfillment orders

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 10:49:30.109167
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "routing_rule_sets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column(
            "rules", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("activated_by", sa.String(length=200), nullable=True),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channels.id"], name=op.f("fk_routing_rule_sets_channel_id_channels")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_rule_sets")),
        sa.UniqueConstraint(
            "scope_id", "version", name=op.f("uq_routing_rule_sets_scope_id_version")
        ),
    )
    with op.batch_alter_table("routing_rule_sets", schema=None) as batch_op:
        batch_op.create_index("ix_routing_rule_sets_active", ["scope_id", "active"], unique=False)

    op.create_table(
        "routing_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("demand_key", sa.String(length=40), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("rule_set_id", sa.Integer(), nullable=True),
        sa.Column("rule_set_version", sa.Integer(), nullable=False),
        sa.Column(
            "rules", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("strategy", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column(
            "destination", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("planned_units", sa.Integer(), nullable=False),
        sa.Column("backordered_units", sa.Integer(), nullable=False),
        sa.Column("hold_for_review", sa.Boolean(), nullable=False),
        sa.Column("shipments", sa.Integer(), nullable=False),
        sa.Column("cost", sa.Double(), nullable=False),
        sa.Column("distance_km", sa.Double(), nullable=False),
        sa.Column(
            "notes", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column(
            "trace", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channels.id"], name=op.f("fk_routing_plans_channel_id_channels")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["sales_orders.id"], name=op.f("fk_routing_plans_order_id_sales_orders")
        ),
        sa.ForeignKeyConstraint(
            ["rule_set_id"],
            ["routing_rule_sets.id"],
            name=op.f("fk_routing_plans_rule_set_id_routing_rule_sets"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_plans")),
    )
    with op.batch_alter_table("routing_plans", schema=None) as batch_op:
        batch_op.create_index("ix_routing_plans_order", ["order_id", "id"], unique=False)

    op.create_table(
        "fulfillment_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("order_number", sa.String(length=40), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channels.id"], name=op.f("fk_fulfillment_orders_channel_id_channels")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["sales_orders.id"],
            name=op.f("fk_fulfillment_orders_order_id_sales_orders"),
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["routing_plans.id"],
            name=op.f("fk_fulfillment_orders_plan_id_routing_plans"),
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["warehouses.id"],
            name=op.f("fk_fulfillment_orders_warehouse_id_warehouses"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fulfillment_orders")),
    )
    with op.batch_alter_table("fulfillment_orders", schema=None) as batch_op:
        batch_op.create_index("ix_fulfillment_orders_order", ["order_id", "id"], unique=False)
        batch_op.create_index("ix_fulfillment_orders_status", ["status", "id"], unique=False)
        batch_op.create_index(
            "ix_fulfillment_orders_warehouse", ["warehouse_id", "created_at"], unique=False
        )

    op.create_table(
        "fulfillment_order_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fulfillment_order_id", sa.Integer(), nullable=False),
        sa.Column("order_line_id", sa.Integer(), nullable=False),
        sa.Column("line_number", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("reservation_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["fulfillment_order_id"],
            ["fulfillment_orders.id"],
            name=op.f("fk_fulfillment_order_lines_fulfillment_order_id_fulfillment_orders"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_fulfillment_order_lines_item_id_items")
        ),
        sa.ForeignKeyConstraint(
            ["order_line_id"],
            ["sales_order_lines.id"],
            name=op.f("fk_fulfillment_order_lines_order_line_id_sales_order_lines"),
        ),
        sa.ForeignKeyConstraint(
            ["reservation_id"],
            ["reservations.id"],
            name=op.f("fk_fulfillment_order_lines_reservation_id_reservations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fulfillment_order_lines")),
    )
    with op.batch_alter_table("fulfillment_order_lines", schema=None) as batch_op:
        batch_op.create_index(
            "ix_fulfillment_order_lines_order", ["fulfillment_order_id", "id"], unique=False
        )
        batch_op.create_index(
            "ix_fulfillment_order_lines_reservation", ["reservation_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("fulfillment_order_lines", schema=None) as batch_op:
        batch_op.drop_index("ix_fulfillment_order_lines_reservation")
        batch_op.drop_index("ix_fulfillment_order_lines_order")

    op.drop_table("fulfillment_order_lines")
    with op.batch_alter_table("fulfillment_orders", schema=None) as batch_op:
        batch_op.drop_index("ix_fulfillment_orders_warehouse")
        batch_op.drop_index("ix_fulfillment_orders_status")
        batch_op.drop_index("ix_fulfillment_orders_order")

    op.drop_table("fulfillment_orders")
    with op.batch_alter_table("routing_plans", schema=None) as batch_op:
        batch_op.drop_index("ix_routing_plans_order")

    op.drop_table("routing_plans")
    with op.batch_alter_table("routing_rule_sets", schema=None) as batch_op:
        batch_op.drop_index("ix_routing_rule_sets_active")

    op.drop_table("routing_rule_sets")
