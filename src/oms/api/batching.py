"""Reservation batching: concurrent reservation requests share one transaction.

A hot SKU (a flash sale, a marketplace feed) has every caller waiting on one
balance row, and each transaction holds that row's lock until its commit: one
unit per commit, however many clients. The batcher queues the requests of one
process and a single thread grants them in batches through
`inventory.batch.reserve_many` — one conditional UPDATE per item and warehouse
per batch — so one commit serves every request that arrived meanwhile. Each
caller still gets its own reservation, or its own 409 with the figures.

The batcher is an entry point: it owns the transaction of each batch, as a
request or a job does (ARCHITECTURE.md rule 2).
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field, replace

import structlog

from oms.auth.principal import Principal
from oms.db import Database
from oms.inventory.batch import Outcome, ReservationRequest, reserve_many
from oms.kit.queues import drain

log = structlog.get_logger("oms.reservations")


@dataclass
class _Pending:
    request: ReservationRequest
    actor: Principal
    future: Future[Outcome] = field(default_factory=Future)


class ReservationBatcher:
    """Grants queued reservation requests in batches of at most `max_batch`."""

    def __init__(self, database: Database, *, max_batch: int = 500) -> None:
        self.database = database
        self.max_batch = max_batch
        self.batches = 0
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="oms-reservations", daemon=True)
        self._started = False
        self._lock = threading.Lock()

    def submit(self, request: ReservationRequest, *, actor: Principal) -> Future[Outcome]:
        """Queue a request; the future resolves to a `Granted` or an `InsufficientStock`."""
        self._ensure_started()
        pending = _Pending(request, actor)
        self._queue.put(pending)
        return pending.future

    def stop(self) -> None:
        if self._started:
            self._queue.put(None)
            self._thread.join(timeout=10)

    def _ensure_started(self) -> None:
        with self._lock:
            if not self._started:
                self._thread.start()
                self._started = True

    def _run(self) -> None:
        while True:
            batch = drain(self._queue, self.max_batch)
            if batch is None:
                return
            self._grant(batch)

    def _grant(self, batch: list[_Pending]) -> None:
        requests = [replace(p.request, actor=p.actor) for p in batch]
        try:
            with self.database.transaction() as session:
                outcomes = reserve_many(session, requests, actor=batch[0].actor)
        except Exception as exc:  # every waiting caller must hear of it
            log.exception("reservation_batch_failed", size=len(batch))
            for pending in batch:
                pending.future.set_exception(exc)
            return
        self.batches += 1
        for pending, outcome in zip(batch, outcomes, strict=True):
            pending.future.set_result(outcome)
