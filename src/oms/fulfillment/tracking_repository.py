"""Every query of tracking and of reading shipments: packages by tracking number, their
events, providers' secrets, and the shipments list."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from oms.fulfillment.models import (
    Shipment,
    ShipmentPackage,
    TrackingEvent,
    TrackingProvider,
    TrackingStatus,
)
from oms.fulfillment.repository import locked
from oms.kit.paging import Page, PageRequest, paginate
from oms.orders.models import SalesOrder

# -- packages and their events ---------------------------------------------------------


def package_ids_by_tracking_number(session: Session, tracking_number: str) -> list[int]:
    """The packages carrying this (normalized) tracking number, oldest first."""
    return [
        int(i)
        for i in session.scalars(
            select(ShipmentPackage.id)
            .where(ShipmentPackage.tracking_number == tracking_number)
            .order_by(ShipmentPackage.id)
        )
    ]


def lock_shipments_of_packages(session: Session, package_ids: Sequence[int]) -> list[Shipment]:
    """The shipments of these packages, locked in id order (two updates for packages of one
    shipment then see each other's package statuses)."""
    if not package_ids:
        return []
    owners = select(ShipmentPackage.shipment_id).where(
        ShipmentPackage.id.in_(sorted(set(package_ids)))
    )
    return locked(session, Shipment, Shipment.id.in_(owners))


def lock_packages_of_shipments(
    session: Session, shipment_ids: Sequence[int]
) -> list[ShipmentPackage]:
    """Every package of these shipments, locked, read afresh, in id order."""
    if not shipment_ids:
        return []
    wanted = ShipmentPackage.shipment_id.in_(sorted(set(shipment_ids)))
    return locked(session, ShipmentPackage, wanted)


def insert_events_once(session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """Keep the tracking events not yet kept for their package (by fingerprint); how many
    were new. The unique key decides, so two deliveries at once keep each event once."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert  # type: ignore[assignment]
    statement = (
        upsert(TrackingEvent)
        .values(list(rows))
        .on_conflict_do_nothing(index_elements=["package_id", "fingerprint"])
        .returning(TrackingEvent.id)
    )
    return len(list(session.execute(statement).scalars()))


def events_of_packages(session: Session, package_ids: Sequence[int]) -> list[TrackingEvent]:
    """The packages' tracking events, newest first."""
    if not package_ids:
        return []
    return list(
        session.scalars(
            select(TrackingEvent)
            .where(TrackingEvent.package_id.in_(sorted(set(package_ids))))
            .order_by(TrackingEvent.occurred_at.desc(), TrackingEvent.id.desc())
        )
    )


# -- providers -------------------------------------------------------------------------


def provider(session: Session, name: str, *, lock: bool = False) -> TrackingProvider | None:
    query = select(TrackingProvider).where(TrackingProvider.provider == name)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def providers(session: Session) -> list[TrackingProvider]:
    return list(session.scalars(select(TrackingProvider).order_by(TrackingProvider.provider)))


def add(session: Session, record: Any) -> None:
    session.add(record)
    session.flush()


# -- shipments -------------------------------------------------------------------------


def shipment_by_id(session: Session, shipment_id: int) -> Shipment | None:
    return session.get(Shipment, shipment_id)


def shipments_of_order(session: Session, order_id: int) -> list[Shipment]:
    return list(
        session.scalars(select(Shipment).where(Shipment.order_id == order_id).order_by(Shipment.id))
    )


@dataclass(frozen=True)
class ShipmentFilter:
    order_id: int | None = None
    warehouse_ids: frozenset[int] | None = None
    """The warehouses asked for and in scope; None: every one."""
    channel_ids: frozenset[int] | None = None
    """The principal's channel scope; None: every channel."""
    carrier: str | None = None
    status: TrackingStatus | None = None
    tracking_number: str | None = None


def search_shipments(
    session: Session, filters: ShipmentFilter, page: PageRequest
) -> Page[Shipment]:
    stmt = select(Shipment)
    if filters.order_id is not None:
        stmt = stmt.where(Shipment.order_id == filters.order_id)
    if filters.warehouse_ids is not None:
        stmt = stmt.where(Shipment.warehouse_id.in_(sorted(filters.warehouse_ids)))
    if filters.channel_ids is not None:
        stmt = stmt.join(SalesOrder, SalesOrder.id == Shipment.order_id).where(
            SalesOrder.channel_id.in_(sorted(filters.channel_ids))
        )
    if filters.carrier is not None:
        stmt = stmt.where(Shipment.carrier == filters.carrier)
    if filters.status is not None:
        stmt = stmt.where(Shipment.status == filters.status)
    if filters.tracking_number is not None:
        stmt = stmt.where(
            exists().where(
                ShipmentPackage.shipment_id == Shipment.id,
                ShipmentPackage.tracking_number == filters.tracking_number,
            )
        )
    return paginate(
        session,
        stmt,
        request=page,
        sortable={"id": Shipment.id, "shipped_at": Shipment.shipped_at},
        default_sort="id",
        id_column=Shipment.id,
    )
