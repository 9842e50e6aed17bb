"""The delivery state machine and topic matching, as pure model behaviour."""

from __future__ import annotations

import datetime as dt

import pytest

from oms.errors import InvalidTransition
from oms.outbox.models import DeliveryStatus, WebhookDelivery, WebhookSubscription, topic_matches

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def a_delivery(
    status: DeliveryStatus = DeliveryStatus.PENDING, attempts: int = 0
) -> WebhookDelivery:
    return WebhookDelivery(id=1, status=status, attempts=attempts, next_attempt_at=NOW)


@pytest.mark.parametrize(
    ("pattern", "topic", "expected"),
    [
        ("order.created", "order.created", True),
        ("order.created", "order.cancelled", False),
        ("order.*", "order.created", True),
        ("order.*", "order.line.added", True),
        ("order.*", "orders.created", False),
        ("order.*", "order", False),
        ("*", "anything.at.all", True),
    ],
)
def test_topic_patterns_match_exactly_by_prefix_or_everything(
    pattern: str, topic: str, expected: bool
) -> None:
    assert topic_matches(pattern, topic) is expected


def test_a_paused_subscription_wants_no_topic() -> None:
    subscription = WebhookSubscription(topics=["*"], active=False)

    assert not subscription.wants("item.created")


def test_a_failure_before_the_last_attempt_schedules_a_retry() -> None:
    delivery = a_delivery(DeliveryStatus.IN_FLIGHT, attempts=1)

    delivery.mark_failed(status_code=500, error="HTTP 500", retry_at=NOW, max_attempts=3)

    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 2)


def test_the_last_failed_attempt_makes_the_delivery_dead() -> None:
    delivery = a_delivery(DeliveryStatus.IN_FLIGHT, attempts=2)

    delivery.mark_failed(status_code=500, error="HTTP 500", retry_at=NOW, max_attempts=3)

    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DEAD, 3)


def test_a_redelivered_dead_delivery_that_fails_again_is_dead_at_once() -> None:
    delivery = a_delivery(DeliveryStatus.DEAD, attempts=3)
    delivery.redeliver(at=NOW)
    delivery.claim(lease_until=NOW)

    delivery.mark_failed(status_code=500, error="HTTP 500", retry_at=NOW, max_attempts=3)

    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DEAD, 4)


@pytest.mark.parametrize("status", [DeliveryStatus.PENDING, DeliveryStatus.IN_FLIGHT])
def test_an_open_delivery_cannot_be_redelivered(status: DeliveryStatus) -> None:
    with pytest.raises(InvalidTransition):
        a_delivery(status).redeliver(at=NOW)


def test_a_delivered_delivery_cannot_be_claimed() -> None:
    with pytest.raises(InvalidTransition):
        a_delivery(DeliveryStatus.DELIVERED).claim(lease_until=NOW)
