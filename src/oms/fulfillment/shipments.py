"""Reading shipments: the list, one shipment with its packages' tracking histories, and an
order's shipments for its detail.

A key scoped to warehouses sees only their shipments; a key scoped to channels only their
orders'. Outside the scope a shipment does not exist (404).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy.orm import Session

from oms.auth.principal import Principal
from oms.catalog.scope import scope_ids, sees
from oms.errors import NotFound
from oms.fulfillment import carriers, shipping
from oms.fulfillment import repository as shipments_repository
from oms.fulfillment import tracking_repository as repository
from oms.fulfillment.models import (
    Shipment,
    ShipmentLine,
    ShipmentPackage,
    TrackingEvent,
    TrackingStatus,
    number_id,
    shipment_number,
)
from oms.fulfillment.schemas import (
    PackageDetailOut,
    PackageOut,
    ShipmentDetailOut,
    ShipmentLineOut,
    ShipmentOut,
    TrackingEventOut,
)
from oms.kit.paging import Page, PageRequest
from oms.orders import repository as orders


class ShipmentNotFound(NotFound):
    def __init__(self, key: object) -> None:
        super().__init__("shipment", key, code="shipment.not_found")


def search(
    session: Session,
    page: PageRequest,
    *,
    actor: Principal,
    order_id: int | None = None,
    warehouse: str | None = None,
    carrier: str | None = None,
    status: TrackingStatus | None = None,
    tracking_number: str | None = None,
) -> Page[ShipmentOut]:
    """Shipments, oldest first, filtered; only those of the actor's warehouses and channels
    (a warehouse outside its scope lists nothing). `carrier` is read like any carrier
    spelling (`UPS`, `UPSN`, `ups`)."""
    scope = scope_ids(session, actor, warehouse=warehouse)
    warehouse_ids, channel_ids = scope.warehouse_ids, scope.channel_ids
    carrier_code = None
    if carrier is not None:
        known = carriers.find_carrier(carrier)
        carrier_code = known.code if known is not None else carrier.strip().upper()
    filters = repository.ShipmentFilter(
        order_id=order_id,
        warehouse_ids=warehouse_ids,
        channel_ids=channel_ids,
        carrier=carrier_code,
        status=status,
        tracking_number=carriers.normalize_tracking_number(tracking_number)
        if tracking_number
        else None,
    )
    found = repository.search_shipments(session, filters, page)
    return Page(items=shipping.view(session, found.items), next_cursor=found.next_cursor)


def get(session: Session, key: int | str, *, actor: Principal) -> ShipmentDetailOut:
    """One shipment, by id or number (`SH-000123`), with its lines and each package's
    tracking events newest first; outside the actor's scope it does not exist."""
    wanted = key if isinstance(key, int) else number_id(key, "SH")
    shipment = repository.shipment_by_id(session, wanted) if wanted is not None else None
    if shipment is None or not _in_scope(session, shipment, actor):
        raise ShipmentNotFound(key if isinstance(key, str) else shipment_number(key))
    shown = shipping.view(session, [shipment])[0]
    packages = shipments_repository.packages_of(session, [shipment.id])
    events: dict[int, list[TrackingEvent]] = {}
    for event in repository.events_of_packages(session, [p.id for p in packages]):
        events.setdefault(event.package_id, []).append(event)
    return ShipmentDetailOut(
        **shown.model_dump(exclude={"packages"}),
        packages=[
            PackageDetailOut(
                **_package(shipment, package).model_dump(),
                events=[_event(e) for e in events.get(package.id, [])],
            )
            for package in packages
        ],
    )


def _in_scope(session: Session, shipment: Shipment, actor: Principal) -> bool:
    order = orders.order_by_id(session, shipment.order_id) if actor.channels is not None else None
    channel_id = order.channel_id if order is not None else None
    return sees(session, actor, warehouse_id=shipment.warehouse_id, channel_id=channel_id)


def of_order(
    session: Session,
    order_id: int,
    order_number: str,
    fulfillment_orders: Mapping[int, tuple[str, str]],
) -> list[ShipmentOut]:
    """An order's shipments, oldest first, for its detail: three queries (none when it has
    no fulfillment order). `fulfillment_orders`: id → (number, warehouse code), as the
    detail already read them."""
    if not fulfillment_orders:
        return []
    found = repository.shipments_of_order(session, order_id)
    if not found:
        return []
    packages, lines = shipping.packages_and_lines(session, [s.id for s in found])
    return [
        _shipment(
            s,
            *fulfillment_orders.get(s.fulfillment_order_id, ("", "")),
            order_number,
            packages.get(s.id, []),
            lines.get(s.id, []),
        )
        for s in found
    ]


def _shipment(
    s: Shipment,
    fulfillment_order: str,
    warehouse: str,
    order_number: str,
    packages: Sequence[ShipmentPackage],
    lines: Sequence[ShipmentLine],
) -> ShipmentOut:
    return ShipmentOut(
        id=s.id,
        number=s.number,
        fulfillment_order=fulfillment_order,
        order_id=s.order_id,
        order_number=order_number,
        warehouse=warehouse,
        carrier=s.carrier,
        carrier_name=s.carrier_name,
        scac=s.scac,
        service=s.service,
        status=s.status,
        shipped_at=s.shipped_at,
        delivered_at=s.delivered_at,
        packages=[_package(s, p) for p in packages],
        lines=[
            ShipmentLineOut(line_number=line.line_number, sku=line.sku, quantity=line.quantity)
            for line in lines
        ],
    )


def _package(s: Shipment, p: ShipmentPackage) -> PackageOut:
    return PackageOut(
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


def _event(e: TrackingEvent) -> TrackingEventOut:
    return TrackingEventOut(
        status=e.status,
        raw_status=e.raw_status,
        description=e.description,
        location=e.location,
        occurred_at=e.occurred_at,
        provider=e.provider,
        received_at=e.received_at,
    )
