"""The worker loop, as a process (`oms worker`) or a thread inside `oms serve`."""

from __future__ import annotations

import threading

import structlog

from oms.config import Settings
from oms.db import Database

log = structlog.get_logger("oms.worker")


class EmbeddedWorker:
    """Runs the worker loop in a daemon thread beside the API."""

    def __init__(self, database: Database, settings: Settings) -> None:
        self.database = database
        self.settings = settings
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="oms-worker", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self.settings.worker_poll_seconds):
            pass


def run_forever(database: Database, settings: Settings) -> None:
    """The `oms worker` loop."""
    stop = threading.Event()
    log.info("worker_started")
    try:
        while not stop.wait(settings.worker_poll_seconds):
            pass
    except KeyboardInterrupt:
        log.info("worker_stopped")
