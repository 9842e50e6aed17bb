"""The relay's database steps: fan-out, claims under a lease, outcomes, per-key order."""

from __future__ import annotations

import datetime as dt

from oms.db import Database
from oms.kit.paging import PageRequest
from oms.outbox import dispatch, repository, subscriptions
from oms.outbox.dispatch import Outcome, Result
from oms.outbox.schemas import SubscriptionUpdate
from tests.integration.outbox.clocks import ManualClock
from tests.integration.outbox.factories import a_subscription, an_event

LEASE = 60.0


def fan_out(db: Database) -> dispatch.FanOut:
    with db.transaction() as session:
        return dispatch.fan_out(session, limit=100)


def claim(db: Database, *, limit: int = 10) -> list[dispatch.Claim]:
    with db.transaction() as session:
        return dispatch.claim_due(session, limit=limit, lease_seconds=LEASE)


def record(db: Database, claimed: dispatch.Claim, outcome: Outcome) -> Result:
    with db.transaction() as session:
        result, _ = dispatch.record_outcome(
            session, claimed, outcome, relay="test", max_attempts=3, backoff_seconds=1.0
        )
    return result


def backlog(db: Database) -> dict[str, int]:
    with db.transaction() as session:
        return repository.backlog(session)


def test_fan_out_makes_one_delivery_per_matching_subscription_and_marks_the_event(
    db: Database,
) -> None:
    a_subscription(db, topics=["item.*"])
    a_subscription(db, topics=["order.created"])
    a_subscription(db, topics=["*"])
    an_event(db, "item.created")

    done = fan_out(db)

    assert (done.events, done.deliveries) == (1, 2)
    assert backlog(db)["undispatched_events"] == 0
    assert backlog(db)["deliveries_pending"] == 2


def test_an_event_no_subscription_wants_is_dispatched_with_no_delivery(db: Database) -> None:
    a_subscription(db, topics=["order.*"])
    an_event(db, "item.created")

    done = fan_out(db)

    assert (done.events, done.deliveries) == (1, 0)
    assert fan_out(db).events == 0


def test_an_event_waits_for_fan_out_while_an_earlier_event_of_its_key_is_undispatched(
    db: Database,
) -> None:
    a_subscription(db)
    first = an_event(db, key="order:1")
    an_event(db, key="order:1")
    other = an_event(db, key="order:2")

    with db.transaction() as session:
        taken = [e.event_id for e in repository.claim_undispatched_events(session, limit=10)]

    assert taken == [first, other]


def test_fan_out_twice_never_makes_a_second_delivery(db: Database) -> None:
    subscription_id, _ = a_subscription(db)
    an_event(db)
    fan_out(db)
    with db.transaction() as session:
        [delivery] = repository.search_deliveries(
            session, repository.DeliveryFilter(), PageRequest()
        ).items
        row = {
            "event_id": delivery.event_id,
            "subscription_id": subscription_id,
            "key": delivery.key,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": delivery.next_attempt_at,
            "created_at": delivery.created_at,
        }

    with db.transaction() as session:
        repository.add_deliveries(session, [row])

    assert backlog(db)["deliveries_pending"] == 1


def test_a_claim_puts_the_delivery_in_flight_until_its_lease_ends(
    db: Database, manual_clock: ManualClock
) -> None:
    a_subscription(db)
    an_event(db)
    fan_out(db)

    [claimed] = claim(db)

    assert claimed.lease_until == manual_clock.current + dt.timedelta(seconds=LEASE)
    assert claim(db) == []
    assert backlog(db)["deliveries_in_flight"] == 1


def test_a_delivery_whose_relay_died_is_claimed_again_after_its_lease(
    db: Database, manual_clock: ManualClock
) -> None:
    a_subscription(db)
    an_event(db)
    fan_out(db)
    [first] = claim(db)

    manual_clock.advance(LEASE + 1)
    [second] = claim(db)

    assert second.delivery_id == first.delivery_id
    assert second.lease_until > first.lease_until


def test_an_outcome_under_a_lost_lease_is_logged_but_leaves_the_delivery_alone(
    db: Database, manual_clock: ManualClock
) -> None:
    a_subscription(db)
    an_event(db)
    fan_out(db)
    [stale] = claim(db)
    manual_clock.advance(LEASE + 1)
    [current] = claim(db)

    result = record(db, stale, Outcome(status_code=500, latency_ms=3.0))

    assert result == Result.LEASE_LOST
    assert record(db, current, Outcome(status_code=200, latency_ms=2.0)) == Result.DELIVERED


def test_a_later_event_of_a_key_waits_while_an_earlier_one_is_retrying(
    db: Database, manual_clock: ManualClock
) -> None:
    a_subscription(db)
    an_event(db, key="order:1")
    an_event(db, key="order:1")
    fan_out(db)
    fan_out(db)
    [first] = claim(db)
    record(db, first, Outcome(status_code=502, latency_ms=1.0))

    waiting = claim(db)
    manual_clock.advance(5)
    [retry] = claim(db)

    assert waiting == []
    assert (retry.delivery_id, retry.attempt) == (first.delivery_id, 2)


def test_deliveries_of_a_paused_subscription_wait_until_it_is_active_again(
    db: Database,
) -> None:
    subscription_id, _ = a_subscription(db)
    an_event(db)
    fan_out(db)
    with db.transaction() as session:
        subscriptions.update_subscription(
            session, subscription_id, SubscriptionUpdate(active=False), actor="test"
        )

    assert claim(db) == []
    with db.transaction() as session:
        subscriptions.update_subscription(
            session, subscription_id, SubscriptionUpdate(active=True), actor="test"
        )
    assert len(claim(db)) == 1


def test_the_third_failure_dead_letters_the_delivery(
    db: Database, manual_clock: ManualClock
) -> None:
    a_subscription(db)
    an_event(db)
    fan_out(db)
    results = []

    for _ in range(3):
        [claimed] = claim(db)
        results.append(record(db, claimed, Outcome(status_code=None, latency_ms=1.0, error="boom")))
        manual_clock.advance(10)

    assert results == [Result.RETRY, Result.RETRY, Result.DEAD]
    assert backlog(db)["deliveries_dead"] == 1
    assert claim(db) == []
