"""Migrations are the only way a schema is made: they build exactly what the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from oms import migrate, models
from oms.db import Database


def test_the_migrated_schema_matches_the_models(db: Database) -> None:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, models.metadata())

    assert differences == []


def test_the_test_database_is_at_the_newest_migration(db: Database) -> None:
    assert migrate.is_at_head(db.engine)
