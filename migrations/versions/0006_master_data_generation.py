"""master data generation: a counter every change of the catalog's routing inputs bumps

The counter `master_data` (table `counters`) takes a new random value whenever a row
of items, warehouses, channels, channel_warehouses or routing_rule_sets is inserted,
updated or deleted, by triggers: whatever writes the change (the API, an import, a
script, psql). Random rather than counted up: a value seen before cannot come back
when the row is deleted and made again (as a test emptying every table does). Intake keeps those rows in memory and reads the counter with the stock it
reads anyway; a new value tells it to read them again (`oms.orders.master_data`).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 15:05:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("items", "warehouses", "channels", "channel_warehouses", "routing_rule_sets")
POSTGRESQL_RANDOM = "(floor(random() * 2147483646) + 1)::integer"
SQLITE_RANDOM = "(abs(random() % 2147483646) + 1)"


def bump(value: str) -> str:
    return (
        f"INSERT INTO counters (name, value) VALUES ('master_data', {value}) "  # noqa: S608
        "ON CONFLICT (name) DO UPDATE SET value = excluded.value"
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # Once per statement: an import of many items bumps it once, not per row.
        op.execute(
            "CREATE FUNCTION oms_master_data_changed() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN {bump(POSTGRESQL_RANDOM)}; RETURN NULL; END $$"
        )
        for table in TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_master_data AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION oms_master_data_changed()"
            )
        return
    # SQLite has row triggers only; a bump costs it a few microseconds.
    for table in TABLES:
        for event in ("INSERT", "UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_master_data_{event.lower()} AFTER {event} ON {table} "
                f"BEGIN {bump(SQLITE_RANDOM)}; END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER {table}_master_data ON {table}")
        op.execute("DROP FUNCTION oms_master_data_changed()")
        return
    for table in TABLES:
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER {table}_master_data_{event}")
