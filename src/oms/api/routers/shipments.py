"""Shipments: `/api/v1/shipments` — what left the warehouses, with each package's tracking.

A key scoped to warehouses sees only theirs; a key scoped to channels only their orders'.
Outside the scope a shipment does not exist (404).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from oms.api.deps import PageDep, SessionDep, require
from oms.api.schemas import ListOf
from oms.auth.permissions import Permission
from oms.auth.principal import Principal
from oms.fulfillment import shipments
from oms.fulfillment.models import TrackingStatus
from oms.fulfillment.schemas import ShipmentDetailOut, ShipmentOut

router = APIRouter(prefix="/api/v1/shipments", tags=["shipments"])

Reader = Annotated[Principal, Depends(require(Permission.FULFILLMENT_READ))]


@router.get("")
def list_shipments(
    tx: SessionDep,
    actor: Reader,
    page: PageDep,
    order_id: Annotated[int | None, Query(description="the sales order's id")] = None,
    warehouse: Annotated[str | None, Query(description="the warehouse's code")] = None,
    carrier: Annotated[str | None, Query(description="a carrier code, SCAC or name")] = None,
    status: TrackingStatus | None = None,
    tracking_number: Annotated[
        str | None, Query(description="a package's tracking number (spaces and case ignored)")
    ] = None,
) -> ListOf[ShipmentOut]:
    """Shipments with their packages and lines, oldest first (`sort=-id` or
    `sort=-shipped_at` for newest first)."""
    found = shipments.search(
        tx,
        page,
        actor=actor,
        order_id=order_id,
        warehouse=warehouse,
        carrier=carrier,
        status=status,
        tracking_number=tracking_number,
    )
    return ListOf(items=found.items, next_cursor=found.next_cursor)


@router.get("/{shipment}")
def get_shipment(
    shipment: Annotated[str, Path(description="its id, or its number (SH-000123)")],
    tx: SessionDep,
    actor: Reader,
) -> ShipmentDetailOut:
    """One shipment with its lines and each package's tracking events, newest first."""
    key: int | str = int(shipment) if shipment.isdigit() else shipment
    return shipments.get(tx, key, actor=actor)
