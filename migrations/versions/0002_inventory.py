"""inventory

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 09:47:45.678647
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "channel_availability_configs",
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name=op.f("fk_channel_availability_configs_channel_id_channels"),
        ),
        sa.PrimaryKeyConstraint("channel_id", name=op.f("pk_channel_availability_configs")),
    )
    op.create_table(
        "counters",
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_counters")),
    )
    op.create_table(
        "availability_marks",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("marked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_availability_marks_item_id_items")
        ),
        sa.PrimaryKeyConstraint("item_id", name=op.f("pk_availability_marks")),
    )
    op.create_table(
        "channel_availability",
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("atp", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name=op.f("fk_channel_availability_channel_id_channels"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_channel_availability_item_id_items")
        ),
        sa.PrimaryKeyConstraint("channel_id", "item_id", name=op.f("pk_channel_availability")),
    )
    with op.batch_alter_table("channel_availability", schema=None) as batch_op:
        batch_op.create_index("ix_channel_availability_seq", ["channel_id", "seq"], unique=False)

    op.create_table(
        "inventory_balances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=False),
        sa.Column("on_hand", sa.Integer(), nullable=False),
        sa.Column("reserved", sa.Integer(), nullable=False),
        sa.Column("safety_stock", sa.Integer(), nullable=False),
        sa.Column("in_transit", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("on_hand >= 0", name=op.f("ck_inventory_balances_on_hand_not_negative")),
        sa.CheckConstraint(
            "reserved >= 0", name=op.f("ck_inventory_balances_reserved_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_inventory_balances_item_id_items")
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["warehouses.id"],
            name=op.f("fk_inventory_balances_warehouse_id_warehouses"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_balances")),
        sa.UniqueConstraint(
            "item_id", "warehouse_id", name=op.f("uq_inventory_balances_item_id_warehouse_id")
        ),
    )
    with op.batch_alter_table("inventory_balances", schema=None) as batch_op:
        batch_op.create_index(
            "ix_inventory_balances_warehouse", ["warehouse_id", "item_id"], unique=False
        )

    op.create_table(
        "inventory_movements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("on_hand_delta", sa.Integer(), nullable=False),
        sa.Column("reserved_delta", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=50), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("reference_type", sa.String(length=30), nullable=True),
        sa.Column("reference_id", sa.String(length=100), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_inventory_movements_item_id_items")
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["warehouses.id"],
            name=op.f("fk_inventory_movements_warehouse_id_warehouses"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_movements")),
    )
    with op.batch_alter_table("inventory_movements", schema=None) as batch_op:
        batch_op.create_index(
            "ix_inventory_movements_item_warehouse", ["item_id", "warehouse_id", "id"], unique=False
        )
        batch_op.create_index(
            "ix_inventory_movements_reference", ["reference_type", "reference_id"], unique=False
        )

    op.create_table(
        "inventory_transfers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_warehouse_id", sa.Integer(), nullable=False),
        sa.Column("destination_warehouse_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("expected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["destination_warehouse_id"],
            ["warehouses.id"],
            name=op.f("fk_inventory_transfers_destination_warehouse_id_warehouses"),
        ),
        sa.ForeignKeyConstraint(
            ["source_warehouse_id"],
            ["warehouses.id"],
            name=op.f("fk_inventory_transfers_source_warehouse_id_warehouses"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_transfers")),
    )
    op.create_table(
        "reorder_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=False),
        sa.Column("reorder_point", sa.Integer(), nullable=True),
        sa.Column("reorder_quantity", sa.Integer(), nullable=True),
        sa.Column("min_quantity", sa.Integer(), nullable=True),
        sa.Column("max_quantity", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_reorder_settings_item_id_items")
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["warehouses.id"],
            name=op.f("fk_reorder_settings_warehouse_id_warehouses"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reorder_settings")),
        sa.UniqueConstraint(
            "item_id", "warehouse_id", name=op.f("uq_reorder_settings_item_id_warehouse_id")
        ),
    )
    op.create_table(
        "reservations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("consumed", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_reservations_item_id_items")
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["warehouses.id"],
            name=op.f("fk_reservations_warehouse_id_warehouses"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reservations")),
    )
    with op.batch_alter_table("reservations", schema=None) as batch_op:
        batch_op.create_index("ix_reservations_expiry", ["status", "expires_at"], unique=False)
        batch_op.create_index(
            "ix_reservations_item_warehouse", ["item_id", "warehouse_id", "status"], unique=False
        )
        batch_op.create_index("ix_reservations_reference", ["reference"], unique=False)

    op.create_table(
        "safety_stock_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("warehouse_id", sa.Integer(), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_safety_stock_rules_item_id_items")
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["warehouses.id"],
            name=op.f("fk_safety_stock_rules_warehouse_id_warehouses"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_stock_rules")),
        sa.UniqueConstraint(
            "item_id", "warehouse_id", name=op.f("uq_safety_stock_rules_item_id_warehouse_id")
        ),
    )
    op.create_table(
        "stock_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(length=10), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column(
            "errors", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True
        ),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["warehouses.id"],
            name=op.f("fk_stock_snapshots_warehouse_id_warehouses"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_snapshots")),
    )
    op.create_table(
        "inventory_transfer_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("transfer_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_inventory_transfer_lines_item_id_items")
        ),
        sa.ForeignKeyConstraint(
            ["transfer_id"],
            ["inventory_transfers.id"],
            name=op.f("fk_inventory_transfer_lines_transfer_id_inventory_transfers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_transfer_lines")),
    )
    op.create_table(
        "stock_snapshot_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("counted", sa.Integer(), nullable=False),
        sa.Column("in_flight", sa.Integer(), nullable=False),
        sa.Column("on_hand", sa.Integer(), nullable=False),
        sa.Column("moved_since", sa.Integer(), nullable=False),
        sa.Column("expected", sa.Integer(), nullable=False),
        sa.Column("difference", sa.Integer(), nullable=False),
        sa.Column("reserved", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_stock_snapshot_lines_item_id_items")
        ),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["stock_snapshots.id"],
            name=op.f("fk_stock_snapshot_lines_snapshot_id_stock_snapshots"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_snapshot_lines")),
    )
    with op.batch_alter_table("stock_snapshot_lines", schema=None) as batch_op:
        batch_op.create_index(
            "ix_stock_snapshot_lines_snapshot", ["snapshot_id", "id"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("stock_snapshot_lines", schema=None) as batch_op:
        batch_op.drop_index("ix_stock_snapshot_lines_snapshot")

    op.drop_table("stock_snapshot_lines")
    op.drop_table("inventory_transfer_lines")
    op.drop_table("stock_snapshots")
    op.drop_table("safety_stock_rules")
    with op.batch_alter_table("reservations", schema=None) as batch_op:
        batch_op.drop_index("ix_reservations_reference")
        batch_op.drop_index("ix_reservations_item_warehouse")
        batch_op.drop_index("ix_reservations_expiry")

    op.drop_table("reservations")
    op.drop_table("reorder_settings")
    op.drop_table("inventory_transfers")
    with op.batch_alter_table("inventory_movements", schema=None) as batch_op:
        batch_op.drop_index("ix_inventory_movements_reference")
        batch_op.drop_index("ix_inventory_movements_item_warehouse")

    op.drop_table("inventory_movements")
    with op.batch_alter_table("inventory_balances", schema=None) as batch_op:
        batch_op.drop_index("ix_inventory_balances_warehouse")

    op.drop_table("inventory_balances")
    with op.batch_alter_table("channel_availability", schema=None) as batch_op:
        batch_op.drop_index("ix_channel_availability_seq")

    op.drop_table("channel_availability")
    op.drop_table("availability_marks")
    op.drop_table("counters")
    op.drop_table("channel_availability_configs")
