"""A WMS message from payload to outcome, raw first.

An entry point runs three steps, each in a transaction of its own: `store` keeps the
payload in the inbox before anything reads it; `process` parses it, applies it
(`wms.acknowledge`, `report_status` or `ship`) and notes the outcome on the inbox
message; when that fails, `record_failure` notes every problem there, so nothing a
WMS sent is lost, even a payload that could not be read.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy.orm import Session

from oms.auth.principal import Principal
from oms.errors import OmsError, Problem, ValidationFailed
from oms.fulfillment import shipping, wms
from oms.fulfillment.models import MessageOutcome
from oms.fulfillment.schemas import AckIn, MessageOut, ShipmentIn, StatusIn
from oms.inbox import service as inbox
from oms.inbox.models import InboxStatus
from oms.kit.validation import parse
from oms.routing import service as routing_service

M = TypeVar("M", bound=BaseModel)


class Kind(StrEnum):
    ACK = "ack"
    STATUS = "status"
    SHIPMENT = "shipment"


HANDLERS: dict[Kind, tuple[type[BaseModel], Callable[..., wms.Handled]]] = {
    Kind.ACK: (AckIn, wms.acknowledge),
    Kind.STATUS: (StatusIn, wms.report_status),
    Kind.SHIPMENT: (ShipmentIn, wms.ship),
}


def store(session: Session, kind: Kind, key: str, body: str, *, actor: Principal) -> int:
    """Keep the payload as received; its inbox id."""
    return store_raw(session, f"wms.{kind}", key, body, actor=actor)


def store_raw(session: Session, kind: str, key: str, body: str, *, actor: Principal) -> int:
    """Keep a WMS payload of `kind` about `key` as received; its inbox id. The key (from
    the URL, any length) is cut to what the inbox keeps, so nothing a WMS sent fails to be
    kept."""
    return inbox.store(
        session,
        inbox.Inbound(kind=kind, source=f"wms:{key}"[:30], body=body, external_id=key[:100]),
        actor=actor.label,
    )


def parsed(model: type[M], body: str) -> M:
    """The stored body read as `model`; ValidationFailed naming every problem."""
    try:
        data: Any = json.loads(body)
    except ValueError as exc:
        raise ValidationFailed([Problem("body", f"is not JSON: {exc}", "json_invalid")]) from exc
    return parse(model, data)


def note_outcome(
    session: Session, inbox_id: int, outcome: MessageOutcome, *, document: str, note: str | None
) -> None:
    """Note on the stored payload what its message did."""
    inbox.record_outcome(
        session,
        inbox_id,
        status=InboxStatus.DUPLICATE
        if outcome == MessageOutcome.DUPLICATE
        else InboxStatus.ACCEPTED,
        document_id=document,
        outcome={"outcome": str(outcome), "note": note},
    )
    session.flush()


def process(
    session: Session, inbox_id: int, kind: Kind, key: int | str, body: str, *, actor: Principal
) -> MessageOut:
    """Parse and apply a stored WMS message; the answer the WMS gets."""
    model, handler = HANDLERS[kind]
    handled = handler(session, key, parsed(model, body), actor=actor, inbox_id=inbox_id)
    note_outcome(
        session,
        inbox_id,
        handled.outcome,
        document=handled.fulfillment_order.number,
        note=handled.note,
    )
    return MessageOut(
        message_id=handled.message_id,
        outcome=handled.outcome,
        note=handled.note,
        fulfillment_order=routing_service.fulfillment_views(session, [handled.fulfillment_order])[
            0
        ],
        shipment=shipping.view(session, [handled.shipment])[0] if handled.shipment else None,
    )


def record_failure(session: Session, inbox_id: int, error: OmsError) -> None:
    """Note on the stored payload why it was not applied."""
    problems = (
        error.problems
        if isinstance(error, ValidationFailed)
        else [Problem("body", error.message, error.code)]
    )
    inbox.record_outcome(session, inbox_id, status=InboxStatus.FAILED, problems=problems)
