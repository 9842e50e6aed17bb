"""Messages from a warehouse's WMS: acknowledgement, picking and packed, shipments.

Each message is kept once per warehouse and message id (a unique key decides between
concurrent deliveries): a second delivery of an id is answered `duplicate` with what
the first did and changes nothing. Statuses only move forward

    released (1) → acknowledged (2) → picking (3) → packed (4) → shipped (5)

and a message that would move a fulfillment order back (packed after shipped, an
acknowledgement after picking) is kept as `ignored` with the reason, never applied.
A WMS may skip steps (picking without an acknowledgement first).

A rejection, taken until the fulfillment order ships (a WMS may find no stock after
acknowledging), sends every unit it still holds back to routing without that warehouse. A shipment
consumes the shipped units' reservations (a `shipment` movement on the ledger each);
a final shipment that leaves units unshipped is short: they go back to routing or to
backorder by the connection's `short_ship` rule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from oms import audit
from oms.auth.permissions import Role
from oms.auth.principal import Principal
from oms.catalog import repository as catalog
from oms.errors import Conflict, PermissionDenied
from oms.fulfillment import repository, shipping
from oms.fulfillment.models import MessageOutcome, Shipment, ShortShipPolicy
from oms.fulfillment.schemas import AckIn, ShipmentIn, StatusIn
from oms.kit import clock
from oms.orders import repository as orders
from oms.orders import reroute
from oms.outbox import service as outbox
from oms.routing import repository as routing
from oms.routing import service as routing_service
from oms.routing.models import FulfillmentOrder, FulfillmentStatus

F = FulfillmentStatus
RANK = {F.RELEASED: 1, F.ACKNOWLEDGED: 2, F.PICKING: 3, F.PACKED: 4, F.SHIPPED: 5}
"""How far along the WMS's work a status is; a message never moves it back."""
ENDED = frozenset({F.REJECTED, F.CANCELLED})


@dataclass(frozen=True)
class Handled:
    message_id: str
    outcome: MessageOutcome
    note: str | None
    fulfillment_order: FulfillmentOrder
    shipment: Shipment | None = None


class NotReleased(Conflict):
    def __init__(self, number: str) -> None:
        super().__init__(
            f"fulfillment order {number} is planned, not released: its warehouse has not been "
            "sent it yet",
            code="fulfillment.not_released",
            number=number,
        )


def check_sender(actor: Principal) -> None:
    """An integration key speaks for a WMS only when scoped to its warehouses."""
    speaks_for_all = actor.roles & {Role.ADMIN, Role.WAREHOUSE}
    if not speaks_for_all and actor.warehouses is None:
        raise PermissionDenied(
            "an integration key sends WMS messages only when scoped to its warehouses",
            code="fulfillment.integration_not_scoped",
        )


def acknowledge(
    session: Session, key: int | str, data: AckIn, *, actor: Principal, inbox_id: int | None
) -> Handled:
    # An acceptance is old news once the work moved on; a rejection is taken until the
    # work ships (a WMS that finds no stock at the bin after acknowledging gives it back).
    furthest = F.ACKNOWLEDGED if data.accepted else F.SHIPPED

    def apply(fo: FulfillmentOrder) -> tuple[MessageOutcome, str | None, Shipment | None]:
        if fo.status in ENDED or RANK.get(fo.status, 0) >= RANK[furthest]:
            return MessageOutcome.IGNORED, f"fulfillment order is already {fo.status}", None
        now = clock.now()
        before = str(fo.status)
        if data.accepted:
            fo.status = F.ACKNOWLEDGED
            fo.acknowledged_at = now
            fo.wms_reference = data.reference
            _touched(session, fo, "acknowledged", before, actor=actor)
            return MessageOutcome.APPLIED, None, None
        fo.reject_reason = data.reason
        reroute.reroute(session, fo.id, actor=actor)
        _touched(session, fo, "rejected", before, actor=actor, reason=data.reason)
        return MessageOutcome.APPLIED, f"rejected: {data.reason}; the units were re-routed", None

    return _handle(
        session, key, "ack", data.message_id, data, apply, actor=actor, inbox_id=inbox_id
    )


def report_status(
    session: Session, key: int | str, data: StatusIn, *, actor: Principal, inbox_id: int | None
) -> Handled:
    target = F(data.status)

    def apply(fo: FulfillmentOrder) -> tuple[MessageOutcome, str | None, Shipment | None]:
        if fo.status in ENDED or RANK.get(fo.status, 0) >= RANK[target]:
            return (
                MessageOutcome.IGNORED,
                f"out of order: fulfillment order is already {fo.status}",
                None,
            )
        before = str(fo.status)
        fo.status = target
        if fo.acknowledged_at is None:
            fo.acknowledged_at = data.at or clock.now()
        _touched(session, fo, str(target), before, actor=actor)
        return MessageOutcome.APPLIED, None, None

    return _handle(
        session, key, "status", data.message_id, data, apply, actor=actor, inbox_id=inbox_id
    )


def ship(
    session: Session, key: int | str, data: ShipmentIn, *, actor: Principal, inbox_id: int | None
) -> Handled:
    def apply(fo: FulfillmentOrder) -> tuple[MessageOutcome, str | None, Shipment | None]:
        if fo.status in ENDED or fo.status == F.SHIPPED:
            return MessageOutcome.IGNORED, f"fulfillment order is already {fo.status}", None
        before = str(fo.status)
        shipment, short = shipping.record_shipment(session, fo, data, actor=actor)
        note = None
        if data.final and short:
            policy = _short_ship_policy(session, fo.warehouse_id)
            if policy == ShortShipPolicy.REROUTE:
                reroute.reroute(session, fo.id, actor=actor)
            else:
                shipping.backorder_rest(session, fo, actor=actor)
            note = f"short by {short} units: sent to {policy}"
        if data.final or routing.units_left(session, fo.id) == 0:
            fo.status = F.SHIPPED
        fo.shipped_at = shipment.shipped_at
        # An open fulfillment order (more shipments to come) is not announced as shipped.
        event = "shipped" if fo.status == F.SHIPPED else "partially_shipped"
        _touched(session, fo, event, before, actor=actor, shipment=shipment.number)
        return MessageOutcome.APPLIED, note, shipment

    return _handle(
        session, key, "shipment", data.message_id, data, apply, actor=actor, inbox_id=inbox_id
    )


def _short_ship_policy(session: Session, warehouse_id: int) -> ShortShipPolicy:
    connection = repository.connection_of(session, warehouse_id)
    return ShortShipPolicy(connection.short_ship) if connection else ShortShipPolicy.REROUTE


def _handle(
    session: Session,
    key: int | str,
    kind: str,
    message_id: str,
    data: Any,
    apply: Callable[[FulfillmentOrder], tuple[MessageOutcome, str | None, Shipment | None]],
    *,
    actor: Principal,
    inbox_id: int | None,
) -> Handled:
    check_sender(actor)
    shown = routing_service.get_fulfillment_order(session, key, actor=actor)
    # The order before its fulfillment order, as every path locks them (release, edits).
    orders.order_by_id(session, shown.order_id, lock=True)
    fo = repository.fulfillment_order_for_update(session, shown.id)
    assert fo is not None
    kept = repository.insert_message_once(
        session,
        {
            "warehouse_id": fo.warehouse_id,
            "message_id": message_id,
            "kind": kind,
            "fulfillment_order_id": fo.id,
            "return_id": None,
            "inbox_id": inbox_id,
            "outcome": MessageOutcome.APPLIED,
            "note": None,
            "body": data.model_dump(mode="json"),
            "actor": actor.label,
            "received_at": clock.now(),
        },
    )
    if kept is None:
        first = repository.message(session, fo.warehouse_id, message_id)
        assert first is not None
        said = f"message {message_id} was received at {first.received_at.isoformat()}"
        shipment = shipping.shipment_of_message(session, fo.id, message_id)
        return Handled(
            message_id, MessageOutcome.DUPLICATE, f"{said}: {first.outcome}", fo, shipment
        )
    if fo.status == F.PLANNED:
        raise NotReleased(fo.number)
    outcome, note, shipment = apply(fo)
    repository.set_message_outcome(session, kept, outcome, note)
    if outcome == MessageOutcome.IGNORED:
        audit.record(
            session,
            actor=actor.label,
            action="fulfillment_order.message_ignored",
            entity_type="fulfillment_order",
            entity_id=fo.number,
            after={"message_id": message_id, "kind": kind, "reason": note},
        )
    return Handled(message_id, outcome, note, fo, shipment)


def _touched(
    session: Session,
    fo: FulfillmentOrder,
    event: str,
    before: str,
    *,
    actor: Principal,
    **details: Any,
) -> None:
    """Audit and announce a fulfillment order's new status."""
    fo.updated_at = clock.now()
    fo.version += 1
    session.flush()
    warehouse = catalog.warehouses_by_ids(session, [fo.warehouse_id])[0].code
    after = {"status": str(fo.status), **{k: v for k, v in details.items() if v is not None}}
    audit.record(
        session,
        actor=actor.label,
        action=f"fulfillment_order.{event}",
        entity_type="fulfillment_order",
        entity_id=fo.number,
        before={"status": before},
        after=after,
    )
    outbox.record(
        session,
        f"fulfillment_order.{event}",
        {
            "number": fo.number,
            "order_id": fo.order_id,
            "order_number": fo.order_number,
            "warehouse": warehouse,
            **after,
        },
        key=f"fulfillment_order:{fo.number}",
    )
