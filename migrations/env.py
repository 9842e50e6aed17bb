"""Alembic environment: the only way an Item OMS schema is made or changed."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from oms import models
from oms.config import get_settings
from oms.db import create_db_engine

target_metadata = models.metadata()
config = context.config


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    url = config.get_main_option("sqlalchemy.url") or get_settings().database_url
    engine = create_db_engine(url)
    with engine.connect() as conn:
        run(conn)
    engine.dispose()
