"""The FastAPI app factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from fastapi import FastAPI

from oms import __version__
from oms.api import problems
from oms.api.batching import ReservationBatcher
from oms.api.intake_batching import IntakeBatcher
from oms.api.metrics import Metrics
from oms.api.middleware import Idempotency, RequestContext, RequestGate
from oms.api.routers import ROUTERS, order_intake
from oms.config import Settings, get_settings
from oms.db import POSTGRES_POOL_SIZE, Database

DESCRIPTION = """
Item OMS takes orders from every channel, keeps stock honest, routes work to
warehouses and buys what is missing.

**Conventions**: authenticate with `Authorization: Bearer <api key>`; errors are
RFC 9457 problem+json with a stable `code`; lists answer
`{"items": [...], "next_cursor": ...}`; POST accepts `Idempotency-Key`; updates of
master data honour `If-Match` with the ETag of a read.
"""


def create_app(settings: Settings | None = None, *, database: Database | None = None) -> FastAPI:
    """A ready app: routes, error handlers, middleware, and (if set) the embedded worker."""
    settings = settings or get_settings()
    database = database or Database(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        worker = None
        if settings.runs_embedded_worker:
            from oms.jobs.worker import EmbeddedWorker

            worker = EmbeddedWorker(database, settings)
            worker.start()
        try:
            yield
        finally:
            if worker is not None:
                worker.stop()
            batcher.stop()
            intake_batcher.stop()

    app = FastAPI(
        title="Item OMS",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.database = database
    batcher = ReservationBatcher(database)
    app.state.reservation_batcher = batcher
    metrics = Metrics(database)
    app.state.metrics = metrics
    intake_batcher = IntakeBatcher(
        database,
        partial(order_intake.settle, database),
        observe=metrics.intake_batch.observe,
        # SQLite: storing and taking in wait for the same write lock; one thread does both.
        pipelined=database.dialect != "sqlite",
    )
    app.state.intake_batcher = intake_batcher
    problems.install(app)
    for router in ROUTERS:
        app.include_router(router)
    app.add_middleware(Idempotency, database=database)
    app.add_middleware(RequestGate, limit=request_concurrency(settings))
    app.add_middleware(RequestContext, metrics=metrics)
    return app


SQLITE_REQUEST_CONCURRENCY = 8


def request_concurrency(settings: Settings) -> int:
    """How many requests one process works on at once (see `RequestGate`)."""
    if settings.request_concurrency is not None:
        return settings.request_concurrency
    return SQLITE_REQUEST_CONCURRENCY if settings.is_sqlite else POSTGRES_POOL_SIZE
