"""Reservations: `/api/v1/reservations`, hard or soft, within the caller's warehouses."""

from __future__ import annotations

import asyncio
from typing import Annotated

from anyio.to_thread import run_sync
from fastapi import APIRouter, Depends, Request, Response, status

from oms.api.batching import ReservationBatcher
from oms.api.deps import SessionDep, require, require_standalone
from oms.auth.permissions import Permission
from oms.auth.principal import Principal
from oms.db import Database
from oms.inventory import reservations, views
from oms.inventory.batch import ReservationRequest
from oms.inventory.errors import InsufficientStock
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
async def create_reservation(
    body: ReservationIn,
    request: Request,
    actor: Annotated[Principal, Depends(require_standalone(Permission.INVENTORY_RESERVE))],
    response: Response,
) -> ReservationOut:
    """Set stock aside for a reference. 409 `inventory.insufficient_stock` when available
    stock does not cover it; its `details` carry `requested` and `available`.

    Concurrent requests are granted together by the reservation batcher, one
    transaction per batch, so a hot SKU is not limited to one commit per unit.
    """
    db: Database = request.app.state.database
    batcher: ReservationBatcher = request.app.state.reservation_batcher

    def resolve() -> ReservationRequest:
        with db.transaction() as tx:
            return reservations.request_for(
                tx,
                sku=body.sku,
                warehouse=body.warehouse,
                quantity=body.quantity,
                reference=body.reference,
                expires_in_seconds=body.expires_in_seconds,
                actor=actor,
            )

    wanted = await run_sync(resolve)
    outcome = await asyncio.wrap_future(batcher.submit(wanted, actor=actor))
    if isinstance(outcome, InsufficientStock):
        raise outcome
    response.headers["Location"] = f"/api/v1/reservations/{outcome.id}"
    return views.granted_out(outcome)


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
