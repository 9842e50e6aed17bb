"""The worker loop, as a process (`oms worker`) or a thread inside `oms serve`.

Each turn runs the scheduled jobs (availability publication, reservation
expiry: `schedules.run_due`), then one relay pass, which delivers what those
jobs recorded; when the pass found a full batch it goes again at once, else it
waits `worker_poll_seconds`. Now and then it also purges expired idempotency
keys and, on a PostgreSQL server that runs no autovacuum, analyzes the tables that
changed (`Database.analyze_stale`). A failing turn is logged and the loop goes on:
the worker must outlive a database restart.
"""

from __future__ import annotations

import signal
import threading
import time
from dataclasses import asdict
from types import FrameType

import httpx
import structlog

from oms import idempotency
from oms.config import Settings
from oms.db import Database
from oms.jobs import relay, schedules

log = structlog.get_logger("oms.worker")

PURGE_EVERY_SECONDS = 600.0
STATISTICS_EVERY_SECONDS = 60.0
"""How often the worker looks for tables to ANALYZE when the server runs no autovacuum
(autovacuum's own default pause)."""
ERROR_PAUSE_SECONDS = 5.0


class WorkerLoop:
    """The worker's turns; `run` loops until `stop` is set."""

    def __init__(
        self, database: Database, settings: Settings, *, relay_name: str | None = None
    ) -> None:
        self.database = database
        self.settings = settings
        self.relay_name = relay_name or relay.default_relay_name()
        self._next_purge = 0.0
        self._next_statistics = 0.0

    def turn(self, client: httpx.Client) -> relay.RelayCounts:
        """The scheduled jobs, one relay pass, and the idempotency purge when it is due."""
        scheduled = schedules.run_due(self.database, self.settings)
        if scheduled.did_work:
            log.info("scheduled_jobs", **asdict(scheduled))
        counts = relay.relay_once(
            self.database, self.settings, relay_name=self.relay_name, client=client
        )
        if counts.did_work:
            log.info("relay_pass", **asdict(counts))
        if time.monotonic() >= self._next_purge:
            self._next_purge = time.monotonic() + PURGE_EVERY_SECONDS
            with self.database.transaction() as session:
                purged = idempotency.purge_expired(session)
            if purged:
                log.info("idempotency_keys_purged", count=purged)
        if time.monotonic() >= self._next_statistics:
            self._next_statistics = time.monotonic() + STATISTICS_EVERY_SECONDS
            try:
                analyzed = self.database.analyze_stale()
            except Exception:  # statistics are an aid: the turn's work is done
                log.exception("tables_analysis_failed")
            else:
                if analyzed:
                    log.info("tables_analyzed", tables=analyzed)
        return counts

    def run(self, stop: threading.Event) -> None:
        structlog.contextvars.bind_contextvars(relay=self.relay_name)
        log.info("worker_started", poll_seconds=self.settings.worker_poll_seconds)
        with relay.new_client(self.settings) as client:
            while not stop.is_set():
                try:
                    counts = self.turn(client)
                except Exception:
                    log.exception("worker_turn_failed")
                    stop.wait(ERROR_PAUSE_SECONDS)
                    continue
                busy = counts.events >= relay.FAN_OUT_LIMIT or counts.claimed >= relay.CLAIM_LIMIT
                if not busy:
                    stop.wait(self.settings.worker_poll_seconds)
        log.info("worker_stopped")


class EmbeddedWorker:
    """Runs the worker loop in a daemon thread beside the API."""

    def __init__(self, database: Database, settings: Settings) -> None:
        self.loop = WorkerLoop(database, settings)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="oms-worker", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        self.loop.run(self._stop)


def run_forever(database: Database, settings: Settings) -> None:
    """The `oms worker` loop; stops cleanly on Ctrl-C or SIGTERM."""
    stop = threading.Event()

    def _stop(signum: int, _frame: FrameType | None) -> None:
        log.info("worker_stopping", signal=signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    WorkerLoop(database, settings).run(stop)
