"""Release: planned fulfillment orders handed to their warehouse's WMS.

A fulfillment order is released when nothing holds its order, by its warehouse's
release rule: at once (also the rule of a warehouse without a connection), or in
waves at the connection's times, a wave taking what was planned before it. The
worker releases what is due on every tick (`release_due`); an operator may release
one by hand. Releasing one:

- moves its units from allocated to released on the order lines, and the order's
  status with them;
- sets its SLA deadline (`sla.ship_by`, from the warehouse's cut-off and the order's
  service level);
- records `order.released` (timeline, audit trail, outbox), and the fulfillment order
  itself on the outbox: `fulfillment_order.released`, and `wms.<code>.fulfillment_order.
  released` for a warehouse whose WMS is pushed to (docs/WMS.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from oms.auth.principal import Principal
from oms.catalog import repository as catalog
from oms.catalog.scope import scope_ids
from oms.errors import Conflict, InvalidTransition
from oms.fulfillment import repository, sla
from oms.fulfillment.connections import topic_prefix
from oms.kit import clock
from oms.orders import lifecycle, timeline
from oms.orders import repository as orders
from oms.orders.models import SalesOrder
from oms.outbox import service as outbox
from oms.routing import repository as routing
from oms.routing import service as routing_service
from oms.routing.models import FulfillmentOrder, FulfillmentStatus


class NotPlanned(InvalidTransition):
    def __init__(self, number: str, status: str) -> None:
        super().__init__(
            f"fulfillment order {number} is {status}: only a planned one can be released",
            code="fulfillment.not_planned",
            number=number,
            status=status,
        )


class OrderOnHold(Conflict):
    def __init__(self, number: str, order_number: str, holds: list[str]) -> None:
        super().__init__(
            f"fulfillment order {number} cannot be released: order {order_number} is on hold "
            f"({', '.join(holds)}); release the holds first",
            code="fulfillment.order_on_hold",
            number=number,
            order_number=order_number,
            holds=holds,
        )


def release_one(session: Session, key: int | str, *, actor: Principal) -> FulfillmentOrder:
    """Release one planned fulfillment order by hand (id or number) whatever its warehouse's
    rule, if nothing holds its order."""
    shown = routing_service.get_fulfillment_order(session, key, actor=actor)
    orders.order_by_id(session, shown.order_id, lock=True)
    fo = repository.fulfillment_order_for_update(session, shown.id)
    assert fo is not None
    if fo.status != FulfillmentStatus.PLANNED:
        raise NotPlanned(fo.number, fo.status)
    holds = orders.active_hold_types(session, [fo.order_id]).get(fo.order_id, [])
    if holds:
        raise OrderOnHold(fo.number, fo.order_number, holds)
    release(session, [fo], actor=actor, reason="manual")
    return fo


def release_due(
    session: Session, *, actor: Principal, now: dt.datetime | None = None, limit: int = 200
) -> list[str]:
    """Release what the warehouses' rules make due now (at most `limit`), of the actor's
    warehouses and channels; the numbers."""
    now = now or clock.now()
    waves: dict[int, dt.datetime] = {}
    for connection, warehouse in repository.wave_connections(session):
        last = last_wave(now, connection.wave_times, warehouse.timezone)
        if last is not None:
            waves[warehouse.id] = last
    scope = scope_ids(session, actor)
    due = repository.releasable(
        session,
        waves=waves,
        limit=limit,
        warehouse_ids=scope.warehouse_ids,
        channel_ids=scope.channel_ids,
    )
    if not due:
        return []
    return [fo.number for fo in release(session, due, actor=actor, reason="rule")]


def last_wave(now: dt.datetime, wave_times: Sequence[str], timezone: str) -> dt.datetime | None:
    """The most recent wave at or before `now` (today's or yesterday's), in UTC."""
    if not wave_times:
        return None
    zone = ZoneInfo(timezone or "UTC")
    local = now.astimezone(zone)
    instants = []
    for days_back in (0, 1):
        day = local.date() - dt.timedelta(days=days_back)
        for text in wave_times:
            hours, minutes = (int(p) for p in text.split(":", 1))
            instant = dt.datetime.combine(day, dt.time(hours, minutes), tzinfo=zone)
            if instant <= local:
                instants.append(instant)
    return max(instants).astimezone(dt.UTC) if instants else None


def release(
    session: Session, due: Sequence[FulfillmentOrder], *, actor: Principal, reason: str
) -> list[FulfillmentOrder]:
    """Release planned fulfillment orders, order by order; the ones released (those still
    planned, of orders nothing holds, once locked: see `_lock`)."""
    now = clock.now()
    by_order = _lock(session, due)
    ready = [fo for _, fos in by_order.values() for fo in fos]
    if not ready:
        return []
    warehouses = {
        w.id: w for w in catalog.warehouses_by_ids(session, {f.warehouse_id for f in ready})
    }
    channel_ids = {f.channel_id for f in ready}
    channels = {c.id: c.code for c in catalog.channels_by_ids(session, channel_ids)}
    pushed = {
        c.warehouse_id
        for c in repository.connections_of(session, list(warehouses)).values()
        if c.subscription_id is not None and c.active
    }
    fo_lines: dict[int, list[Any]] = {}
    for fo_line in routing.lines_of_fulfillment_orders(session, [f.id for f in ready]):
        fo_lines.setdefault(fo_line.fulfillment_order_id, []).append(fo_line)

    for order_id, (order, fos) in by_order.items():
        lines = orders.lines_of(session, order_id)
        by_line = {line.id: line for line in lines}
        for fo in fos:
            warehouse = warehouses[fo.warehouse_id]
            for fo_line in fo_lines.get(fo.id, []):
                line = by_line[fo_line.order_line_id]
                moved = min(fo_line.quantity, line.allocated)
                line.allocated -= moved
                line.released += moved
            fo.status = FulfillmentStatus.RELEASED
            fo.released_at = now
            fo.ship_by = sla.ship_by(
                now,
                service_level=str(order.service_level),
                cutoff=warehouse.cutoff_time,
                timezone=warehouse.timezone,
            )
            fo.updated_at = now
            fo.version += 1
            document = wms_document(
                order, fo, warehouse.code, channels.get(fo.channel_id, ""), fo_lines.get(fo.id, [])
            )
            outbox.record(
                session,
                "fulfillment_order.released",
                {"fulfillment_order": document},
                key=f"fulfillment_order:{fo.number}",
            )
            if fo.warehouse_id in pushed:
                outbox.record(
                    session,
                    f"{topic_prefix(warehouse.code)}fulfillment_order.released",
                    {"fulfillment_order": document},
                    key=f"fulfillment_order:{fo.number}",
                )
        session.flush()
        lifecycle.refresh(order, lines)
        timeline.record(
            session,
            order,
            "released",
            actor=actor,
            data={
                "reason": reason,
                "fulfillment_orders": [
                    {
                        "number": fo.number,
                        "warehouse": warehouses[fo.warehouse_id].code,
                        "ship_by": fo.ship_by.isoformat() if fo.ship_by else None,
                    }
                    for fo in fos
                ],
            },
        )
    session.flush()
    return ready


def _lock(
    session: Session, due: Sequence[FulfillmentOrder]
) -> dict[int, tuple[SalesOrder, list[FulfillmentOrder]]]:
    """Each order (in id order), then its fulfillment orders, locked and read again: the
    order every path that changes both locks them in (edits, cancellations, backorders,
    WMS messages), so none deadlocks with a release. What changed while waiting counts:
    a fulfillment order no longer planned, or of an order held or closed meanwhile, is
    left out."""
    ids: dict[int, list[int]] = {}
    for fo in due:
        ids.setdefault(fo.order_id, []).append(fo.id)
    locked: dict[int, tuple[SalesOrder, list[FulfillmentOrder]]] = {}
    for order_id in sorted(ids):
        order = orders.order_by_id(session, order_id, lock=True)
        assert order is not None
        fos = [
            fo
            for fo in repository.fulfillment_orders_for_update(session, ids[order_id])
            if fo.status == FulfillmentStatus.PLANNED
        ]
        held = orders.active_hold_types(session, [order_id]).get(order_id)
        if fos and not held and order.status not in repository.CLOSED_ORDERS:
            locked[order_id] = (order, fos)
    return locked


def wms_document(
    order: SalesOrder,
    fo: FulfillmentOrder,
    warehouse: str,
    channel: str,
    lines: Sequence[Any],
) -> dict[str, Any]:
    """A released fulfillment order as its WMS receives it (docs/WMS.md)."""
    return {
        "id": fo.id,
        "number": fo.number,
        "warehouse": warehouse,
        "status": str(fo.status),
        "order_number": order.number,
        "channel": channel,
        "service_level": str(order.service_level),
        "ship_by": fo.ship_by.isoformat() if fo.ship_by else None,
        "released_at": fo.released_at.isoformat() if fo.released_at else None,
        "ship_to": order.ship_to,
        "gift": order.gift,
        "notes": order.notes,
        "lines": [
            {"line_number": line.line_number, "sku": line.sku, "quantity": line.quantity}
            for line in sorted(lines, key=lambda item: item.line_number)
            if line.quantity > 0
        ],
    }
