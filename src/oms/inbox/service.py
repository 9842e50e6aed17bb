"""Storing inbound payloads and their outcomes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from oms.errors import NotFound, Problem
from oms.inbox.models import InboxMessage, InboxStatus
from oms.kit import clock
from oms.kit.paging import Page, PageRequest, paginate


@dataclass(frozen=True)
class Inbound:
    """One payload as it arrived."""

    kind: str
    source: str
    body: str
    content_type: str = "application/json"
    channel: str | None = None
    external_id: str | None = None


def store(session: Session, payload: Inbound, *, actor: str) -> int:
    """Keep a payload as received; returns its inbox id."""
    return store_many(session, [payload], actor=actor)[0]


def row(payload: Inbound, *, actor: str, now: dt.datetime) -> dict[str, Any]:
    """A stored payload's columns (but the id), for a caller that writes it with others."""
    return {
        "kind": payload.kind,
        "source": payload.source,
        "channel": payload.channel,
        "external_id": payload.external_id,
        "content_type": payload.content_type,
        "body": payload.body,
        "status": InboxStatus.RECEIVED,
        "attempts": 0,
        "actor": actor,
        "received_at": now,
    }


def store_many(session: Session, payloads: Sequence[Inbound], *, actor: str) -> list[int]:
    """Keep many payloads in one statement (bulk intake); their ids, in order."""
    now = clock.now()
    rows = [row(p, actor=actor, now=now) for p in payloads]
    if not rows:
        return []
    result = session.execute(
        insert(InboxMessage).returning(InboxMessage.id, sort_by_parameter_order=True), rows
    )
    return [int(i) for i in result.scalars()]


def record_outcome(
    session: Session,
    message_id: int,
    *,
    status: InboxStatus,
    document_id: str | None = None,
    outcome: dict[str, Any] | None = None,
    problems: Sequence[Problem] = (),
) -> None:
    """Note what became of a payload (one UPDATE; no read)."""
    write_outcome(
        session,
        outcome_values(
            message_id, status=status, document_id=document_id, outcome=outcome, problems=problems
        ),
    )


def write_outcome(session: Session, values: dict[str, Any]) -> None:
    """`record_outcome` of values from `outcome_values`."""
    session.execute(
        update(InboxMessage)
        .where(InboxMessage.id == values["id"])
        .values(
            attempts=InboxMessage.attempts + 1, **{k: v for k, v in values.items() if k != "id"}
        )
        .execution_options(synchronize_session=False)
    )


def outcome_values(
    message_id: int,
    *,
    status: InboxStatus,
    document_id: str | None = None,
    outcome: dict[str, Any] | None = None,
    problems: Sequence[Problem] = (),
) -> dict[str, Any]:
    """`record_outcome`'s columns (and the message's id), for a caller that writes them
    with others; `attempts` goes up by one besides."""
    return {
        "id": message_id,
        "status": status,
        "document_id": document_id,
        "outcome": outcome,
        "errors": [p.as_dict() for p in problems] or None,
        "processed_at": clock.now(),
    }


def mark_interrupted(
    session: Session, *, kind: str, before: dt.datetime, problem: Problem, limit: int
) -> int:
    """Mark failed, with `problem`, payloads of `kind` still `received` that came before
    `before` (their processing was cut off: the process that stored them stopped before
    taking them in), so that they can be replayed; how many, at most `limit`."""
    stranded = (
        select(InboxMessage.id)
        .where(
            InboxMessage.status == InboxStatus.RECEIVED,
            InboxMessage.kind == kind,
            InboxMessage.received_at < before,
        )
        .order_by(InboxMessage.id)
        .limit(limit)
    )
    result = session.execute(
        update(InboxMessage)
        .where(InboxMessage.id.in_(stranded), InboxMessage.status == InboxStatus.RECEIVED)
        .values(
            status=InboxStatus.FAILED,
            errors=[problem.as_dict()],
            processed_at=clock.now(),
            attempts=InboxMessage.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def get(
    session: Session, message_id: int, *, channels: frozenset[str] | None = None
) -> InboxMessage:
    """One inbox message; one of a channel outside `channels` does not exist."""
    message = session.get(InboxMessage, message_id)
    if message is None or (channels is not None and message.channel not in channels):
        raise NotFound("inbox_message", message_id, code="inbox.message_not_found")
    return message


@dataclass(frozen=True)
class InboxFilter:
    status: str | None = None
    kind: str | None = None
    channel: str | None = None
    external_id: str | None = None
    channels: frozenset[str] | None = None


def search(session: Session, filters: InboxFilter, page: PageRequest) -> Page[InboxMessage]:
    """Inbox messages, newest first by default."""
    stmt = select(InboxMessage)
    if filters.status:
        stmt = stmt.where(InboxMessage.status == filters.status)
    if filters.kind:
        stmt = stmt.where(InboxMessage.kind == filters.kind)
    if filters.channel:
        stmt = stmt.where(InboxMessage.channel == filters.channel)
    if filters.external_id:
        stmt = stmt.where(InboxMessage.external_id == filters.external_id)
    if filters.channels is not None:
        stmt = stmt.where(InboxMessage.channel.in_(sorted(filters.channels)))
    return paginate(
        session,
        stmt,
        request=page,
        sortable={"id": InboxMessage.id, "received_at": InboxMessage.received_at},
        default_sort="-id",
        id_column=InboxMessage.id,
    )
