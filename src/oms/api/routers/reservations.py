"""Reservations: `/api/v1/reservations`, hard or soft, within the caller's warehouses."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from oms.api.deps import SessionDep, require
from oms.auth.permissions import Permission
from oms.auth.principal import Principal
from oms.inventory import reservations, views
from oms.inventory.ledger import Reference
from oms.inventory.schemas import (
    ReservationConsumeIn,
    ReservationIn,
    ReservationMoveIn,
    ReservationOut,
)

router = APIRouter(prefix="/api/v1/reservations", tags=["reservations"])

Reader = Annotated[Principal, Depends(require(Permission.INVENTORY_READ))]
Reserver = Annotated[Principal, Depends(require(Permission.INVENTORY_RESERVE))]
# Consuming ships stock: on hand falls, like any other outgoing movement.
Shipper = Annotated[Principal, Depends(require(Permission.INVENTORY_ADJUST))]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_reservation(
    body: ReservationIn, tx: SessionDep, actor: Reserver, response: Response
) -> ReservationOut:
    """Set stock aside for a reference. 409 `inventory.insufficient_stock` when available
    stock does not cover it; its `details` carry `requested` and `available`."""
    reservation = reservations.reserve(
        tx,
        sku=body.sku,
        warehouse=body.warehouse,
        quantity=body.quantity,
        reference=body.reference,
        expires_in_seconds=body.expires_in_seconds,
        actor=actor,
    )
    response.headers["Location"] = f"/api/v1/reservations/{reservation.id}"
    return views.reservation_out(tx, reservation)


@router.get("/{reservation_id}")
def get_reservation(reservation_id: int, tx: SessionDep, actor: Reader) -> ReservationOut:
    """One reservation, whatever its status."""
    return views.reservation_out(tx, reservations.get(tx, reservation_id, actor=actor))


@router.delete("/{reservation_id}")
def release_reservation(reservation_id: int, tx: SessionDep, actor: Reserver) -> ReservationOut:
    """Give the reservation's open quantity back. 409 `inventory.reservation_not_active`
    when it is already released, expired or consumed."""
    return views.reservation_out(tx, reservations.release(tx, reservation_id, actor=actor))


@router.post("/{reservation_id}/move")
def move_reservation(
    reservation_id: int, body: ReservationMoveIn, tx: SessionDep, actor: Reserver
) -> ReservationOut:
    """Move the open quantity to another warehouse, checked there like a new reservation;
    answers the new reservation (the old one is released)."""
    moved = reservations.move(tx, reservation_id, warehouse=body.warehouse, actor=actor)
    return views.reservation_out(tx, moved)


@router.post("/{reservation_id}/consume")
def consume_reservation(
    reservation_id: int, body: ReservationConsumeIn, tx: SessionDep, actor: Shipper
) -> ReservationOut:
    """Ship part or all of a reservation: reserved and on hand fall together."""
    consumed = reservations.consume(
        tx,
        reservation_id,
        quantity=body.quantity,
        reference=Reference("shipment", body.reference),
        actor=actor,
    )
    return views.reservation_out(tx, consumed)
