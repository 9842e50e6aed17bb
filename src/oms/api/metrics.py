"""Prometheus metrics: requests and latency by route, the DB pool, the outbox backlog."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.pool import QueuePool

from oms.db import Database
from oms.outbox import repository as outbox_repository


class Metrics:
    """One registry per app, so that several apps (tests) never clash."""

    def __init__(self, database: Database) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "oms_http_requests",
            "HTTP requests answered, by route template, method and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "oms_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template and method.",
            ["method", "route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
            registry=self.registry,
        )
        self.intake_batch = Histogram(
            "oms_intake_batch_size",
            "Single-order deliveries the intake batcher took in together.",
            buckets=(1, 2, 4, 8, 16, 32, 64, 100),
            registry=self.registry,
        )
        self.registry.register(_DatabaseCollector(database))


class _DatabaseCollector(Collector):
    def __init__(self, database: Database) -> None:
        self.database = database

    def collect(self) -> Iterator[GaugeMetricFamily]:
        pool = self.database.engine.pool
        checked_out = GaugeMetricFamily("oms_db_pool_checked_out", "Database connections in use.")
        size = GaugeMetricFamily("oms_db_pool_size", "Database connections kept in the pool.")
        if isinstance(pool, QueuePool):
            checked_out.add_metric([], pool.checkedout())
            size.add_metric([], pool.size())
        yield checked_out
        yield size
        backlog = GaugeMetricFamily(
            "oms_outbox_backlog",
            "Outbox work not yet done: events not fanned out, deliveries pending or in flight.",
            labels=["kind"],
        )
        try:
            with self.database.transaction() as session:
                counts = outbox_repository.backlog(session)
        except Exception:
            counts = {}
        for kind, count in sorted(counts.items()):
            backlog.add_metric([kind], count)
        yield backlog
