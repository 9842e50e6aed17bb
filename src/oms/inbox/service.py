"""Storing inbound payloads and their outcomes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from oms.errors import NotFound, Problem
from oms.inbox import repository
from oms.inbox.models import InboxMessage, InboxStatus
from oms.kit import clock
from oms.kit.paging import Page, PageRequest


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
    return repository.insert_messages(session, [row(p, actor=actor, now=now) for p in payloads])


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
    repository.update_outcome(session, values["id"], {k: v for k, v in values.items() if k != "id"})


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


def stranded(session: Session, *, kind: str, before: dt.datetime, limit: int) -> list[int]:
    """Payloads of `kind` still `received` that came before `before` (their processing
    was cut off: the process that stored them stopped before taking them in), oldest
    first, at most `limit`."""
    return repository.stranded_ids(session, kind=kind, before=before, limit=limit)


def received_locked(session: Session, message_id: int) -> InboxMessage | None:
    """The message, locked until the transaction ends, if it is still `received` and no
    other transaction holds it."""
    return repository.received_locked(session, message_id)


def later_delivery(session: Session, message: InboxMessage) -> int | None:
    """The id of a later payload of the same kind for the same document (channel and
    external id), if one was stored after `message`."""
    return repository.later_delivery(session, message)


def get(
    session: Session, message_id: int, *, channels: frozenset[str] | None = None
) -> InboxMessage:
    """One inbox message; one of a channel outside `channels` does not exist."""
    message = repository.message(session, message_id)
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
    return repository.search(
        session,
        page,
        status=filters.status,
        kind=filters.kind,
        channel=filters.channel,
        external_id=filters.external_id,
        channels=filters.channels,
    )
