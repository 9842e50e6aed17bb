"""Every query of the inbox."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Update, insert, select, update
from sqlalchemy.orm import Session

from oms.inbox.models import InboxMessage, InboxStatus
from oms.kit.paging import Page, PageRequest, paginate


def insert_messages(session: Session, rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """Insert messages in one statement; their ids, in the order given."""
    if not rows:
        return []
    result = session.execute(
        insert(InboxMessage).returning(InboxMessage.id, sort_by_parameter_order=True), rows
    )
    return [int(i) for i in result.scalars()]


def _outcome(values: Mapping[str, Any]) -> Update:
    """An UPDATE that sets an outcome's `values` and counts one more attempt."""
    return (
        update(InboxMessage)
        .values(attempts=InboxMessage.attempts + 1, **values)
        .execution_options(synchronize_session=False)
    )


def update_outcome(session: Session, message_id: int, values: Mapping[str, Any]) -> None:
    """Set one message's outcome (no read)."""
    session.execute(_outcome(values).where(InboxMessage.id == message_id))


def stranded_ids(session: Session, *, kind: str, before: dt.datetime, limit: int) -> list[int]:
    """At most `limit` messages of `kind` still `received` that came before `before`,
    oldest first."""
    found = session.scalars(
        select(InboxMessage.id)
        .where(
            InboxMessage.status == InboxStatus.RECEIVED,
            InboxMessage.kind == kind,
            InboxMessage.received_at < before,
        )
        .order_by(InboxMessage.id)
        .limit(limit)
    )
    return list(found)


def received_locked(session: Session, message_id: int) -> InboxMessage | None:
    """The message if it is still `received`, locked until the transaction ends (one
    another transaction holds is skipped: None, as for one no longer received)."""
    return session.scalar(
        select(InboxMessage)
        .where(InboxMessage.id == message_id, InboxMessage.status == InboxStatus.RECEIVED)
        .with_for_update(skip_locked=True)
    )


def later_delivery(session: Session, message: InboxMessage) -> int | None:
    """The id of a message of the same kind, channel and external id stored after this
    one, if any."""
    if message.channel is None or message.external_id is None:
        return None
    return session.scalar(
        select(InboxMessage.id)
        .where(
            InboxMessage.kind == message.kind,
            InboxMessage.channel == message.channel,
            InboxMessage.external_id == message.external_id,
            InboxMessage.id > message.id,
        )
        .order_by(InboxMessage.id)
        .limit(1)
    )


def message(session: Session, message_id: int) -> InboxMessage | None:
    return session.get(InboxMessage, message_id)


def search(
    session: Session,
    page: PageRequest,
    *,
    status: str | None,
    kind: str | None,
    channel: str | None,
    external_id: str | None,
    channels: frozenset[str] | None,
) -> Page[InboxMessage]:
    """Messages matching every filter given, newest first by default."""
    stmt = select(InboxMessage)
    if status:
        stmt = stmt.where(InboxMessage.status == status)
    if kind:
        stmt = stmt.where(InboxMessage.kind == kind)
    if channel:
        stmt = stmt.where(InboxMessage.channel == channel)
    if external_id:
        stmt = stmt.where(InboxMessage.external_id == external_id)
    if channels is not None:
        stmt = stmt.where(InboxMessage.channel.in_(sorted(channels)))
    return paginate(
        session,
        stmt,
        request=page,
        sortable={"id": InboxMessage.id, "received_at": InboxMessage.received_at},
        default_sort="-id",
        id_column=InboxMessage.id,
    )
