"""Shipments: what left a warehouse, recorded from the WMS's message.

Recording a shipment, for each line shipped:

- the fulfillment order's lines of that order line give up the units (oldest first),
  each consuming its reservation: reserved and on hand fall together through a
  `shipment` movement on the ledger;
- the order line's units move from released to shipped, its allocation shrinks;

then the order's status is derived again, and `order.shipped` (timeline, audit, outbox)
tells the channel the carrier and the tracking numbers per line. A channel or ERP
also gets `shipment.confirmed` with the whole shipment.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from oms.auth.principal import Principal
from oms.catalog import repository as catalog
from oms.errors import Problem, ValidationFailed
from oms.fulfillment import carriers, repository
from oms.fulfillment.models import Shipment, ShipmentLine, ShipmentPackage, shipment_number
from oms.fulfillment.schemas import (
    PackageOut,
    ShipmentIn,
    ShipmentLineOut,
    ShipmentOut,
)
from oms.inventory import reservations
from oms.inventory.ledger import Reference
from oms.kit import clock
from oms.orders import lifecycle, timeline
from oms.orders import repository as orders
from oms.orders.models import OrderLine
from oms.outbox import service as outbox
from oms.routing import repository as routing
from oms.routing.models import FulfillmentOrder, FulfillmentOrderLine

MAX_SERVICE = 60
"""The longest service code a shipment keeps."""


def record_shipment(
    session: Session, fo: FulfillmentOrder, data: ShipmentIn, *, actor: Principal
) -> tuple[Shipment, int]:
    """Record a shipment of `fo` (locked by the caller); returns it and the units the
    fulfillment order still holds after it."""
    carrier = carriers.normalize_carrier(data.carrier, path="carrier")
    service = _service(carrier.code, data.service)
    fo_lines = routing.lines_of_fulfillment_orders(session, [fo.id])
    order = orders.order_by_id(session, fo.order_id, lock=True)
    assert order is not None
    order_lines = orders.lines_of(session, order.id)
    wanted = _shipped_lines(data, fo_lines, order_lines)

    shipped_at = data.shipped_at or clock.now()
    shipment = Shipment(
        fulfillment_order_id=fo.id,
        order_id=fo.order_id,
        warehouse_id=fo.warehouse_id,
        carrier=carrier.code,
        carrier_name=carrier.name,
        scac=carrier.scac,
        service=service,
        message_id=data.message_id,
        shipped_at=shipped_at,
        delivered_at=None,
        created_at=clock.now(),
    )
    repository.insert_shipment(
        session,
        shipment,
        [
            {
                "tracking_number": carriers.normalize_tracking_number(p.tracking_number),
                "weight": p.weight,
                "weight_unit": p.weight_unit,
                "sscc": p.sscc,
                "status": "pre_transit",
            }
            for p in data.packages
        ],
        [
            {
                "order_line_id": line.id,
                "line_number": line.line_number,
                "item_id": line.item_id,
                "sku": line.sku,
                "quantity": quantity,
            }
            for line, quantity in wanted
        ],
    )
    reference = Reference("shipment", shipment_number(shipment.id))
    by_order_line: dict[int, list[FulfillmentOrderLine]] = {}
    for fo_line in fo_lines:
        by_order_line.setdefault(fo_line.order_line_id, []).append(fo_line)
    allocations = {
        a.reservation_id: a
        for a in orders.allocations_of_lines(session, [line.id for line, _ in wanted])
    }
    for line, quantity in wanted:
        left = quantity
        for fo_line in by_order_line.get(line.id, []):
            take = min(left, fo_line.quantity)
            if take == 0:
                continue
            reservations.consume(
                session, fo_line.reservation_id, quantity=take, reference=reference, actor=actor
            )
            fo_line.quantity -= take
            fo_line.shipped += take
            allocation = allocations.get(fo_line.reservation_id)
            if allocation is not None:
                if allocation.quantity <= take:
                    orders.delete_allocation(session, allocation)
                else:
                    allocation.quantity -= take
            left -= take
        moved = min(quantity, line.released)
        line.released -= moved
        line.allocated -= quantity - moved
        line.shipped += quantity
    session.flush()
    lifecycle.refresh(order, order_lines)
    warehouse = catalog.warehouses_by_ids(session, [fo.warehouse_id])[0].code
    shown = view(session, [shipment])[0]
    tracking = [p.tracking_number for p in shown.packages]
    timeline.record(
        session,
        order,
        "shipped",
        actor=actor,
        data={
            "shipment": shipment.number,
            "fulfillment_order": fo.number,
            "warehouse": warehouse,
            "carrier": carrier.code,
            "scac": carrier.scac,
            "service": service,
            "tracking_numbers": tracking,
            "lines": [
                {
                    "line_number": line.line_number,
                    "sku": line.sku,
                    "quantity": quantity,
                    "carrier": carrier.code,
                    "tracking_numbers": tracking,
                }
                for line, quantity in wanted
            ],
        },
    )
    outbox.record(
        session,
        "shipment.confirmed",
        {
            "channel_order_id": order.external_id,
            "order_number": order.number,
            "shipment": shown.model_dump(mode="json"),
        },
        key=f"order:{order.number}",
    )
    return shipment, routing.units_left(session, fo.id)


def _service(carrier: str, text: str) -> str:
    """The service's code as a shipment keeps it; refused at `service` when it names none or
    is longer than a shipment keeps."""
    service = carriers.normalize_service(carrier, text)
    if not service or len(service) > MAX_SERVICE:
        raise ValidationFailed(
            [
                Problem(
                    "service",
                    f"{text!r} names no {carrier} service of at most {MAX_SERVICE} characters",
                    "shipment.invalid_service",
                )
            ]
        )
    return service


def _shipped_lines(
    data: ShipmentIn, fo_lines: Sequence[FulfillmentOrderLine], order_lines: Sequence[OrderLine]
) -> list[tuple[OrderLine, int]]:
    """The order lines a shipment names, with units; each must be one the fulfillment order
    holds, and not more than it holds."""
    held: dict[int, int] = {}
    for fo_line in fo_lines:
        held[fo_line.order_line_id] = held.get(fo_line.order_line_id, 0) + fo_line.quantity
    ours = [o for o in order_lines if o.id in held]
    by_number = {o.line_number: o for o in ours}
    by_sku: dict[str, list[OrderLine]] = {}
    for o in ours:
        by_sku.setdefault(o.sku, []).append(o)
    problems: list[Problem] = []
    totals: dict[int, int] = {}
    named: dict[int, OrderLine] = {}
    for index, shipped in enumerate(data.lines):
        path = f"lines[{index}]"
        found: OrderLine | None = None
        if shipped.line_number is not None:
            found = by_number.get(shipped.line_number)
            if found is None:
                problems.append(
                    Problem(
                        f"{path}.line_number",
                        f"line {shipped.line_number} is not on this fulfillment order",
                        "shipment.unknown_line",
                    )
                )
                continue
            if shipped.sku is not None and shipped.sku != found.sku:
                problems.append(
                    Problem(
                        f"{path}.sku",
                        f"line {found.line_number} is {found.sku}, not {shipped.sku}",
                        "shipment.sku_mismatch",
                    )
                )
                continue
        else:
            candidates = by_sku.get(shipped.sku or "", [])
            if len(candidates) != 1:
                problems.append(
                    Problem(
                        f"{path}.sku",
                        f"{shipped.sku} is not on this fulfillment order"
                        if not candidates
                        else f"{shipped.sku} is on several lines: name the line_number",
                        "shipment.unknown_line" if not candidates else "shipment.ambiguous_sku",
                    )
                )
                continue
            found = candidates[0]
        line = found
        totals[line.id] = totals.get(line.id, 0) + shipped.quantity
        named[line.id] = line
        if totals[line.id] > held[line.id]:
            problems.append(
                Problem(
                    f"{path}.quantity",
                    f"line {line.line_number} ({line.sku}) has {held[line.id]} units left to "
                    f"ship on this fulfillment order, not {totals[line.id]}",
                    "shipment.too_many_units",
                )
            )
    if problems:
        raise ValidationFailed(problems)
    return [(named[line_id], quantity) for line_id, quantity in totals.items()]


def backorder_rest(session: Session, fo: FulfillmentOrder, *, actor: Principal) -> int:
    """Units a short final shipment left: their reservations given back, the order lines'
    units moved from released to backordered (served later as stock allows)."""
    fo_lines = routing.lines_of_fulfillment_orders(session, [fo.id])
    order = orders.order_by_id(session, fo.order_id, lock=True)
    assert order is not None
    order_lines = {line.id: line for line in orders.lines_of(session, order.id)}
    allocations = {
        a.reservation_id: a
        for a in orders.allocations_of_lines(session, sorted({f.order_line_id for f in fo_lines}))
    }
    moved_total = 0
    moved_lines = []
    refused: list[OrderLine] = []
    for fo_line in fo_lines:
        units = fo_line.quantity
        if units == 0:
            continue
        reservations.release_part(session, fo_line.reservation_id, quantity=units, actor=actor)
        fo_line.quantity = 0
        allocation = allocations.get(fo_line.reservation_id)
        if allocation is not None:
            if allocation.quantity <= units:
                orders.delete_allocation(session, allocation)
            else:
                allocation.quantity -= units
        line = order_lines[fo_line.order_line_id]
        line.released -= units
        line.backordered += units
        moved_total += units
        moved_lines.append({"line_number": line.line_number, "sku": line.sku, "quantity": units})
        refused.append(line)
    session.flush()
    # The warehouse had fewer than it held: the backorder pass is not to send them back.
    orders.refuse(session, fo, refused, now=clock.now())
    lifecycle.refresh(order, list(order_lines.values()))
    timeline.record(
        session,
        order,
        "backordered",
        actor=actor,
        data={"reason": "short_shipment", "fulfillment_order": fo.number, "lines": moved_lines},
    )
    return moved_total


def shipment_of_message(
    session: Session, fulfillment_order_id: int, message_id: str
) -> Shipment | None:
    return repository.shipment_of_message(session, fulfillment_order_id, message_id)


def packages_and_lines(
    session: Session, shipment_ids: Sequence[int]
) -> tuple[dict[int, list[ShipmentPackage]], dict[int, list[ShipmentLine]]]:
    """The packages and the lines of these shipments, by shipment id (two queries)."""
    packages: dict[int, list[ShipmentPackage]] = {}
    for package in repository.packages_of(session, shipment_ids):
        packages.setdefault(package.shipment_id, []).append(package)
    lines: dict[int, list[ShipmentLine]] = {}
    for line in repository.lines_of_shipments(session, shipment_ids):
        lines.setdefault(line.shipment_id, []).append(line)
    return packages, lines


def view(session: Session, shipments: Sequence[Shipment]) -> list[ShipmentOut]:
    """Shipments as the API shows them, with packages and lines (four queries)."""
    if not shipments:
        return []
    packages, lines = packages_and_lines(session, [s.id for s in shipments])
    warehouses = {
        w.id: w.code
        for w in catalog.warehouses_by_ids(session, {s.warehouse_id for s in shipments})
    }
    fos = routing.fulfillment_orders_by_ids(session, {s.fulfillment_order_id for s in shipments})
    return [
        ShipmentOut(
            id=s.id,
            number=s.number,
            fulfillment_order=fos[s.fulfillment_order_id].number,
            order_id=s.order_id,
            order_number=fos[s.fulfillment_order_id].order_number,
            warehouse=warehouses.get(s.warehouse_id, ""),
            carrier=s.carrier,
            carrier_name=s.carrier_name,
            scac=s.scac,
            service=s.service,
            status=s.status,
            shipped_at=s.shipped_at,
            delivered_at=s.delivered_at,
            packages=[
                PackageOut(
                    tracking_number=p.tracking_number,
                    carrier=s.carrier,
                    weight=p.weight,
                    weight_unit=p.weight_unit,
                    sscc=p.sscc,
                    status=p.status,
                    status_at=p.status_at,
                    estimated_delivery=p.estimated_delivery,
                    delivered_at=p.delivered_at,
                )
                for p in packages.get(s.id, [])
            ],
            lines=[
                ShipmentLineOut(line_number=line.line_number, sku=line.sku, quantity=line.quantity)
                for line in lines.get(s.id, [])
            ],
        )
        for s in shipments
    ]
