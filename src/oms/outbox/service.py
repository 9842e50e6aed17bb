"""Recording events in the caller's transaction."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from oms.audit import current_request_id
from oms.kit import bulk, clock
from oms.outbox.models import OutboxEvent


def record(session: Session, topic: str, payload: dict[str, Any], *, key: str) -> OutboxEvent:
    """Append an event to the outbox; it leaves only if the caller's transaction commits.

    `key` orders delivery: events with the same key reach each subscriber in
    the order they were recorded (an order's events, say: `key="order:42"`).
    """
    event = OutboxEvent(**row(topic, payload, key=key))
    session.add(event)
    return event


def row(
    topic: str,
    payload: dict[str, Any],
    *,
    key: str,
    now: dt.datetime | None = None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """An event's values (every column but the id and `dispatched_at`), for a caller that
    writes it with others; `request_id` defaults to the current one."""
    return {
        "event_id": f"evt_{uuid.uuid4().hex}",
        "topic": topic,
        "key": key,
        "payload": payload,
        "created_at": now or clock.now(),
        "request_id": request_id or current_request_id(),
    }


def record_many(session: Session, events: Sequence[tuple[str, dict[str, Any], str]]) -> None:
    """Append many events, (topic, payload, key) each, in one multi-row statement; for bulk
    passes recording one event per order (their order within one key is the given one)."""
    if not events:
        return
    now = clock.now()
    request_id = current_request_id()
    bulk.insert_rows(
        session,
        OutboxEvent,
        [
            row(topic, payload, key=key, now=now, request_id=request_id)
            for topic, payload, key in events
        ],
    )
