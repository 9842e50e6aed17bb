"""Test infrastructure: a real database per run (SQLite or PostgreSQL), emptied per test.

`OMS_TEST_BACKEND=sqlite|postgresql` picks the backend (the Makefile runs both).
The PostgreSQL half makes a fresh database for the run and drops it after; when
no server answers it skips, unless `OMS_TEST_REQUIRE_POSTGRES=1` (CI), where it fails.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from oms import migrate, models
from oms.api.app import create_app
from oms.auth import service as auth
from oms.auth.principal import SYSTEM
from oms.config import Settings
from oms.db import Database

BACKEND = os.environ.get("OMS_TEST_BACKEND", "sqlite")
POSTGRES_ADMIN_URL = os.environ.get(
    "OMS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_POSTGRES = os.environ.get("OMS_TEST_REQUIRE_POSTGRES") == "1"
SAMPLES_DIR = Path(os.environ.get("OMS_SAMPLES_DIR", Path(__file__).parents[2] / "shared/samples"))


def pytest_report_header() -> str:
    return f"Item OMS test backend: {BACKEND}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if BACKEND != "postgresql":
        skip = pytest.mark.skip(reason="needs PostgreSQL; runs in the PostgreSQL half")
        for item in items:
            if "postgres_only" in item.keywords:
                item.add_marker(skip)


def _postgres_url(name: str) -> str:
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base.replace('postgresql://', 'postgresql+psycopg://', 1)}/{name}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A new, migrated database for this test run."""
    yield from _fresh_database(tmp_path_factory)


@pytest.fixture
def new_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[], Database]]:
    """Makes new, migrated databases on the run's backend, for one test (dropped after):
    ids start at 1 in each."""
    made: list[tuple[Iterator[str], Database]] = []

    def make() -> Database:
        urls = _fresh_database(tmp_path_factory)
        database = Database(next(urls))
        made.append((urls, database))
        return database

    yield make
    for urls, database in made:
        database.dispose()
        for _ in urls:
            pass


def _fresh_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if BACKEND == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'oms.db'}"
        _migrate(url)
        yield url
        return
    name = f"oms_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        admin = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL is required (OMS_TEST_REQUIRE_POSTGRES=1) but: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = _postgres_url(name)
        _migrate(url)
        yield url
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _migrate(url: str) -> None:
    database = Database(url)
    try:
        migrate.upgrade(database.engine)
    finally:
        database.dispose()


@pytest.fixture(scope="session")
def _session_database(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def db(_session_database: Database) -> Iterator[Database]:
    """The run's database, emptied after each test."""
    yield _session_database
    _empty(_session_database)


def _empty(database: Database) -> None:
    tables = [t.name for t in models.metadata().sorted_tables]
    # DELETE beats TRUNCATE here: the tables are small, and TRUNCATE of every table
    # costs PostgreSQL half a second per test.
    with database.transaction() as session:
        for table in reversed(tables):
            session.execute(text(f"DELETE FROM {table}"))


@pytest.fixture(scope="module")
def demo_db(_session_database: Database) -> Iterator[Database]:
    """The run's database with the demo dataset, loaded once for a whole module whose
    tests only read it (or load it again, which changes nothing); emptied after."""
    from oms import demo

    with _session_database.transaction() as session:
        demo.load(session)
    yield _session_database
    _empty(_session_database)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        embedded_worker=False,
        webhook_backoff_seconds=0.05,
        webhook_max_attempts=3,
        webhook_timeout_seconds=2,
        worker_poll_seconds=0.05,
    )


@pytest.fixture
def app(settings: Settings, db: Database) -> FastAPI:
    return create_app(settings, database=db)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


AuthHeaders = Callable[..., dict[str, str]]


@pytest.fixture
def auth_headers(db: Database) -> AuthHeaders:
    """Makes an API key with the given role (and scope) and returns its headers."""

    def make(
        role: str = "admin",
        *,
        channels: list[str] | None = None,
        warehouses: list[str] | None = None,
    ) -> dict[str, str]:
        with db.transaction() as session:
            issued = auth.create_api_key(
                session,
                name=f"test-{role}",
                roles=[role],
                channels=channels,
                warehouses=warehouses,
                actor=SYSTEM,
            )
        return {"Authorization": f"Bearer {issued.secret}"}

    return make


@pytest.fixture
def admin(auth_headers: AuthHeaders) -> dict[str, str]:
    return auth_headers("admin")
