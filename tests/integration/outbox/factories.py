"""Small factories for outbox tests: subscriptions and recorded events."""

from __future__ import annotations

from typing import Any

from oms import outbox
from oms.db import Database
from oms.outbox import subscriptions
from oms.outbox.schemas import SubscriptionCreate


def a_subscription(
    db: Database,
    *,
    url: str = "http://127.0.0.1:9/hooks",
    topics: list[str] | None = None,
    active: bool = True,
) -> tuple[int, str]:
    """A committed subscription; returns its id and its secret."""
    with db.transaction() as session:
        subscription, secret = subscriptions.create_subscription(
            session,
            SubscriptionCreate(url=url, topics=topics or ["*"], active=active),
            actor="test",
        )
    return subscription.id, secret


def an_event(
    db: Database,
    topic: str = "item.created",
    *,
    key: str = "item:A",
    payload: dict[str, Any] | None = None,
) -> str:
    """A committed outbox event; returns its event id (`evt_…`)."""
    with db.transaction() as session:
        event = outbox.record(session, topic, payload or {"sku": "A"}, key=key)
    return event.event_id
