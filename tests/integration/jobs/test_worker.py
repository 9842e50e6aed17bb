"""The worker loop: embedded in the API process, and its housekeeping."""

from __future__ import annotations

import datetime as dt
import time

import httpx
from fastapi.testclient import TestClient
from standardwebhooks.webhooks import Webhook

from oms import idempotency
from oms.api.app import create_app
from oms.config import Settings
from oms.db import Database
from oms.jobs.worker import WorkerLoop
from oms.kit import clock
from tests.integration.jobs.receiver import Receiver
from tests.integration.outbox.factories import a_subscription, an_event


def wait_for_hits(receiver: Receiver, count: int, *, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while len(receiver.hits) < count and time.monotonic() < deadline:
        time.sleep(0.02)


def test_the_embedded_worker_delivers_an_event_while_the_app_runs(
    db: Database, settings: Settings, receiver: Receiver
) -> None:
    app = create_app(settings.model_copy(update={"embedded_worker": True}), database=db)
    _, secret = a_subscription(db, url=receiver.url)

    with TestClient(app):
        event_id = an_event(db, "item.created")
        wait_for_hits(receiver, 1)

    [hit] = receiver.hits
    assert Webhook(secret).verify(hit.body, hit.headers)["id"] == event_id


def test_a_worker_turn_purges_expired_idempotency_keys(db: Database, settings: Settings) -> None:
    with db.transaction() as session:
        session.add(
            idempotency.IdempotencyRecord(
                scope="key:1",
                key="old",
                request_hash="h",
                created_at=clock.now() - dt.timedelta(days=2),
            )
        )
        idempotency.claim(session, scope="key:1", key="fresh", request_hash="h")

    with httpx.Client() as client:
        WorkerLoop(db, settings, relay_name="test").turn(client)

    with db.transaction() as session:
        assert idempotency.find(session, scope="key:1", key="old") is None
        assert idempotency.find(session, scope="key:1", key="fresh") is not None
