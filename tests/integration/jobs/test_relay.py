"""The relay against a real local HTTP receiver: once-only delivery, signatures, retries, order."""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading

import pytest
from standardwebhooks.webhooks import Webhook

from oms import outbox
from oms.config import Settings
from oms.db import Database
from oms.jobs.relay import RelayCounts, relay_once
from oms.kit.paging import PageRequest
from oms.outbox import deliveries, repository
from oms.outbox.schemas import DeliveryOut
from tests.integration.jobs.receiver import Hit, Receiver
from tests.integration.outbox.clocks import ManualClock
from tests.integration.outbox.factories import a_subscription, an_event


def drain(db: Database, settings: Settings, *, relay_name: str = "test-relay") -> RelayCounts:
    """Run relay passes until one finds nothing to do; returns the last busy pass."""
    last = RelayCounts()
    for _ in range(50):
        counts = relay_once(db, settings, relay_name=relay_name)
        if not counts.did_work:
            return last
        last = counts
    raise AssertionError("the relay kept finding work")


def delivery_log(db: Database) -> list[DeliveryOut]:
    with db.transaction() as session:
        page = deliveries.search_deliveries(
            session, repository.DeliveryFilter(), PageRequest(limit=500, sort="id")
        )
    return page.items


def test_each_event_is_delivered_exactly_once(
    db: Database, settings: Settings, receiver: Receiver
) -> None:
    a_subscription(db, url=receiver.url, topics=["*"])
    recorded = [an_event(db, key=f"item:{n}") for n in range(5)]

    drain(db, settings)
    drain(db, settings)

    assert sorted(receiver.ids()) == sorted(recorded)
    assert set(receiver.counts().values()) == {1}
    assert [(d.status, d.attempts) for d in delivery_log(db)] == [("delivered", 1)] * 5


def test_every_delivery_carries_a_signature_that_standard_webhooks_verifies(
    db: Database, settings: Settings, receiver: Receiver
) -> None:
    _, secret = a_subscription(db, url=receiver.url, topics=["item.*"])
    event_id = an_event(db, "item.created", payload={"sku": "ABC-1", "qty": 3})

    drain(db, settings)

    [hit] = receiver.hits
    message = Webhook(secret).verify(hit.body, hit.headers)
    assert message["id"] == event_id == hit.webhook_id
    assert message["type"] == "item.created"
    assert message["data"] == {"sku": "ABC-1", "qty": 3}
    assert dt.datetime.fromisoformat(message["timestamp"]).tzinfo is not None
    assert hit.headers["content-type"] == "application/json"


def test_an_event_reaches_only_the_subscriptions_whose_topics_match(
    db: Database, settings: Settings, receiver: Receiver
) -> None:
    a_subscription(db, url=f"{receiver.url}/orders", topics=["order.*"])
    a_subscription(db, url=f"{receiver.url}/items", topics=["item.created", "item.updated"])
    a_subscription(db, url=f"{receiver.url}/paused", topics=["*"], active=False)
    an_event(db, "item.created")

    drain(db, settings)

    assert [hit.path for hit in receiver.hits] == ["/hooks/items"]


def test_a_receiver_answering_500_is_retried_with_backoff_then_dead_lettered(
    db: Database, settings: Settings, receiver: Receiver, manual_clock: ManualClock
) -> None:
    receiver.answer_always(500)
    a_subscription(db, url=receiver.url)
    event_id = an_event(db)
    waits = []

    for _ in range(settings.webhook_max_attempts):
        relay_once(db, settings, relay_name="test-relay")
        [delivery] = delivery_log(db)
        if delivery.next_attempt_at is None:
            break
        assert delivery.last_attempt_at is not None
        waits.append((delivery.next_attempt_at - delivery.last_attempt_at).total_seconds())
        manual_clock.move_to(delivery.next_attempt_at - dt.timedelta(milliseconds=1))
        assert relay_once(db, settings, relay_name="test-relay").claimed == 0
        manual_clock.move_to(delivery.next_attempt_at)

    [delivery] = delivery_log(db)
    assert receiver.ids() == [event_id] * 3
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("dead", 3, 500)
    base = settings.webhook_backoff_seconds
    assert waits == [pytest.approx(base, rel=0.11), pytest.approx(2 * base, rel=0.11)]


def test_a_dead_delivery_is_not_tried_again_by_the_relay(
    db: Database, settings: Settings, receiver: Receiver, manual_clock: ManualClock
) -> None:
    receiver.answer_always(503)
    a_subscription(db, url=receiver.url)
    an_event(db)
    for _ in range(settings.webhook_max_attempts):
        relay_once(db, settings, relay_name="test-relay")
        manual_clock.advance(60)

    relay_once(db, settings, relay_name="test-relay")

    assert len(receiver.hits) == settings.webhook_max_attempts


def test_a_retry_that_succeeds_marks_the_delivery_delivered(
    db: Database, settings: Settings, receiver: Receiver, manual_clock: ManualClock
) -> None:
    answers = iter([500, 200])
    receiver.answer = lambda _hit: next(answers)
    a_subscription(db, url=receiver.url)
    an_event(db)
    relay_once(db, settings, relay_name="test-relay")
    manual_clock.advance(1)

    relay_once(db, settings, relay_name="test-relay")

    [delivery] = delivery_log(db)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 2, 200)
    assert delivery.delivered_at is not None


def test_a_receiver_that_cannot_be_reached_is_logged_as_a_failed_attempt(
    db: Database, settings: Settings
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    a_subscription(db, url=f"http://127.0.0.1:{closed_port}/hooks")
    an_event(db)

    relay_once(db, settings, relay_name="relay-7")

    [delivery] = delivery_log(db)
    with db.transaction() as session:
        detail = deliveries.get_delivery(session, delivery.id)
    [attempt] = detail.attempt_log
    assert (detail.status, detail.attempts, detail.last_status_code) == ("pending", 1, None)
    assert attempt.error is not None
    assert attempt.error.startswith("ConnectError")
    assert attempt.relay == "relay-7"


def test_events_of_one_key_reach_the_receiver_in_the_order_they_were_recorded(
    db: Database, settings: Settings, receiver: Receiver, manual_clock: ManualClock
) -> None:
    first_tries: set[str] = set()

    def fail_first_try(hit: Hit) -> int:
        if hit.webhook_id in first_tries:
            return 200
        first_tries.add(hit.webhook_id)
        return 500

    receiver.answer = fail_first_try
    a_subscription(db, url=receiver.url)
    order_events = [an_event(db, "order.updated", key="order:1") for _ in range(4)]
    other = an_event(db, "order.updated", key="order:2")

    for _ in range(12):
        relay_once(db, settings, relay_name="test-relay")
        manual_clock.advance(1)

    arrivals = receiver.ids()
    delivered = [i for n, i in enumerate(arrivals) if i in arrivals[:n]]  # second (200) hits
    assert [i for i in delivered if i != other] == order_events
    assert arrivals.index(other) < arrivals.index(order_events[1])


def test_a_dead_delivery_redelivered_by_hand_is_sent_again_and_audited(
    db: Database, settings: Settings, receiver: Receiver, manual_clock: ManualClock
) -> None:
    receiver.answer_always(500)
    a_subscription(db, url=receiver.url)
    event_id = an_event(db)
    for _ in range(settings.webhook_max_attempts):
        relay_once(db, settings, relay_name="test-relay")
        manual_clock.advance(60)
    [dead] = delivery_log(db)
    receiver.answer_always(204)

    with db.transaction() as session:
        deliveries.redeliver(session, dead.id, actor="user:ops")
    relay_once(db, settings, relay_name="test-relay")

    [delivery] = delivery_log(db)
    assert dead.status == "dead"
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 4, 204)
    assert receiver.ids() == [event_id] * 4


def test_the_message_body_is_the_event_as_json(
    db: Database, settings: Settings, receiver: Receiver
) -> None:
    a_subscription(db, url=receiver.url)
    an_event(db, "item.updated", payload={"name": "Blue widget", "tags": ["é"]})

    drain(db, settings)

    body = json.loads(receiver.hits[0].body)
    assert set(body) == {"id", "type", "timestamp", "data"}
    assert body["data"] == {"name": "Blue widget", "tags": ["é"]}


@pytest.mark.postgres_only
def test_two_relays_on_postgresql_never_deliver_one_event_twice(
    db: Database, settings: Settings, receiver: Receiver
) -> None:
    a_subscription(db, url=receiver.url)
    with db.transaction() as session:
        recorded = [
            outbox.record(session, "order.updated", {"n": n}, key=f"order:{n % 25}").event_id
            for n in range(300)
        ]
    failures: list[BaseException] = []
    start = threading.Barrier(2)

    def run_relay(name: str) -> None:
        own = Database(db.url)
        try:
            start.wait()
            idle = 0
            while idle < 3:
                counts = relay_once(own, settings, relay_name=name, fan_out_limit=40, claim_limit=8)
                idle = 0 if counts.did_work else idle + 1
        except BaseException as exc:
            failures.append(exc)
        finally:
            own.dispose()

    relays = [threading.Thread(target=run_relay, args=(f"relay-{n}",)) for n in (1, 2)]
    for relay in relays:
        relay.start()
    for relay in relays:
        relay.join(timeout=120)

    assert failures == []
    assert sorted(receiver.counts()) == sorted(recorded)
    assert set(receiver.counts().values()) == {1}
    arrivals = receiver.ids()
    for key in range(25):
        of_key = [i for n, i in enumerate(recorded) if n % 25 == key]
        assert [i for i in arrivals if i in set(of_key)] == of_key
    with db.transaction() as session:
        details = [deliveries.get_delivery(session, d.id) for d in delivery_log(db)]
    assert {a.relay for d in details for a in d.attempt_log} == {"relay-1", "relay-2"}
