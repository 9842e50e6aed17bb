"""The inbox: `/api/v1/inbox`, every inbound payload as it arrived, with its outcome.

A payload that failed keeps its errors; once the cause is fixed (the missing
item created, say), `POST /api/v1/inbox/{id}/replay` runs it again. A principal
scoped to some channels sees only those channels' payloads.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from oms.api.deps import PageDep, SessionDep, require, require_standalone
from oms.api.routers.order_intake import DatabaseDep, ProblemOut, run_stored
from oms.api.schemas import ListOf
from oms.auth.permissions import Permission
from oms.auth.principal import Principal
from oms.catalog.schemas import Code
from oms.inbox import service as inbox
from oms.inbox.models import InboxMessage, InboxStatus
from oms.orders import intake
from oms.orders.intake import Outcome
from oms.orders.views import OrderOut

router = APIRouter(prefix="/api/v1/inbox", tags=["inbox"])

Reader = Annotated[Principal, Depends(require(Permission.INBOX_READ))]
Replayer = Annotated[Principal, Depends(require_standalone(Permission.INBOX_REPLAY))]


class InboxMessageOut(BaseModel):
    id: int
    kind: str
    source: str
    channel: str | None
    external_id: str | None
    content_type: str
    status: InboxStatus
    errors: list[ProblemOut]
    """Why it failed (or what its order is held for)."""
    outcome: dict[str, Any] | None
    document_id: str | None
    """What it became: the order's number, say."""
    attempts: int
    actor: str
    received_at: dt.datetime
    processed_at: dt.datetime | None


class InboxMessageDetail(InboxMessageOut):
    body: str
    """The payload exactly as it arrived."""


class ReplayOut(BaseModel):
    message: InboxMessageOut
    outcome: Outcome
    order: OrderOut


def _fields(message: InboxMessage) -> dict[str, Any]:
    return {
        "id": message.id,
        "kind": message.kind,
        "source": message.source,
        "channel": message.channel,
        "external_id": message.external_id,
        "content_type": message.content_type,
        "status": InboxStatus(message.status),
        "errors": [ProblemOut(**e) for e in message.errors or []],
        "outcome": message.outcome,
        "document_id": message.document_id,
        "attempts": message.attempts,
        "actor": message.actor,
        "received_at": message.received_at,
        "processed_at": message.processed_at,
    }


@router.get("")
def list_messages(
    tx: SessionDep,
    actor: Reader,
    page: PageDep,
    status: InboxStatus | None = None,
    channel: Code | None = None,
    kind: Annotated[str | None, Query(max_length=30, description="`sales_order`, …")] = None,
    external_id: Annotated[str | None, Query(max_length=100)] = None,
) -> ListOf[InboxMessageOut]:
    """Inbound payloads, newest first (`sort`: `id`, `-id`, `received_at`, `-received_at`);
    `?status=failed` lists what failed, with its errors."""
    filters = inbox.InboxFilter(
        status=status,
        kind=kind,
        channel=channel,
        external_id=external_id,
        channels=actor.channels,
    )
    found = inbox.search(tx, filters, page)
    return ListOf(
        items=[InboxMessageOut(**_fields(m)) for m in found.items], next_cursor=found.next_cursor
    )


@router.get("/{message_id}")
def get_message(message_id: int, tx: SessionDep, actor: Reader) -> InboxMessageDetail:
    """One inbound payload as it arrived, with its outcome or errors."""
    message = inbox.get(tx, message_id, channels=actor.channels)
    return InboxMessageDetail(**_fields(message), body=message.body)


@router.post(
    "/{message_id}/replay",
    responses={
        409: {"description": "`inbox.not_replayable`: only a failed order payload is replayed"},
        422: {"description": "It failed again; its errors are recorded and named"},
    },
)
def replay_message(message_id: int, actor: Replayer, db: DatabaseDep) -> ReplayOut:
    """Run a failed order payload again, after the cause was fixed: its new outcome is
    recorded and its attempts counted; 422 naming every problem if it fails again."""
    with db.transaction() as session:
        message = intake.replayable(session, message_id, actor=actor)
        body = message.body
        [number] = intake.draw_numbers(session, 1)
    result, shown = run_stored(db, message_id, body, number=number, actor=actor)
    with db.transaction() as session:
        replayed = inbox.get(session, message_id)
        fields = _fields(replayed)
    return ReplayOut(message=InboxMessageOut(**fields), outcome=result.outcome, order=shown)
