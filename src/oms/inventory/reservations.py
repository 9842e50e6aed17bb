"""Reservations: hard (until released or consumed) and soft (with an expiry).

A reservation is one conditional UPDATE of its balance (it succeeds only while
available stock covers it) plus its ledger row, in the caller's transaction.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from oms import audit, outbox
from oms.auth.principal import SYSTEM, Principal
from oms.catalog.models import Item, Warehouse
from oms.errors import Problem, ValidationFailed
from oms.inventory import availability
from oms.inventory import repository as stock
from oms.inventory.batch import ReservationRequest
from oms.inventory.errors import InsufficientStock, ReservationNotActive, ReservationNotFound
from oms.inventory.ledger import Reference, resolve
from oms.inventory.models import MovementKind, Reservation, ReservationKind, ReservationStatus
from oms.kit import clock

MAX_SOFT_SECONDS = 30 * 24 * 3600


def reserve(
    session: Session,
    *,
    sku: str,
    warehouse: str,
    quantity: int,
    reference: str,
    expires_in_seconds: int | None = None,
    actor: Principal,
) -> Reservation:
    """Set stock aside for `reference`, or raise InsufficientStock with the figures."""
    _check(quantity=quantity, reference=reference, expires_in_seconds=expires_in_seconds)
    item, found = resolve(session, sku=sku, warehouse=warehouse, actor=actor)
    return reserve_resolved(
        session,
        item=item,
        warehouse=found,
        quantity=quantity,
        reference=reference.strip(),
        expires_in_seconds=expires_in_seconds,
        actor=actor,
    )


def request_for(
    session: Session,
    *,
    sku: str,
    warehouse: str,
    quantity: int,
    reference: str,
    expires_in_seconds: int | None = None,
    actor: Principal,
) -> ReservationRequest:
    """A checked request for `batch.reserve_many` (or the batcher), nothing reserved yet."""
    _check(quantity=quantity, reference=reference, expires_in_seconds=expires_in_seconds)
    item, found = resolve(session, sku=sku, warehouse=warehouse, actor=actor)
    return ReservationRequest(
        item_id=item.id,
        sku=item.sku,
        warehouse_id=found.id,
        warehouse=found.code,
        quantity=quantity,
        reference=reference.strip(),
        expires_in_seconds=expires_in_seconds,
        actor=actor,
    )


def _check(*, quantity: int, reference: str, expires_in_seconds: int | None) -> None:
    problems = []
    if quantity <= 0:
        problems.append(Problem("quantity", "must be greater than zero"))
    if not reference.strip():
        problems.append(Problem("reference", "is required"))
    if expires_in_seconds is not None and not 0 < expires_in_seconds <= MAX_SOFT_SECONDS:
        problems.append(Problem("expires_in_seconds", f"must be between 1 and {MAX_SOFT_SECONDS}"))
    if problems:
        raise ValidationFailed(problems)


def reserve_resolved(
    session: Session,
    *,
    item: Item,
    warehouse: Warehouse,
    quantity: int,
    reference: str,
    expires_in_seconds: int | None = None,
    actor: Principal,
) -> Reservation:
    """`reserve` for an item and warehouse already loaded (order intake, routing)."""
    if not stock.try_reserve(
        session, item_id=item.id, warehouse_id=warehouse.id, quantity=quantity
    ):
        current = stock.balance(session, item.id, warehouse.id)
        raise InsufficientStock(
            sku=item.sku,
            warehouse=warehouse.code,
            requested=quantity,
            available=current.available if current else 0,
        )
    now = clock.now()
    reservation = Reservation(
        item_id=item.id,
        warehouse_id=warehouse.id,
        quantity=quantity,
        reference=reference,
        kind=ReservationKind.SOFT if expires_in_seconds else ReservationKind.HARD,
        expires_at=now + dt.timedelta(seconds=expires_in_seconds) if expires_in_seconds else None,
        created_at=now,
        actor=actor.label,
    )
    stock.add_reservation(session, reservation)
    _ledger(session, reservation, MovementKind.RESERVE, reserved=quantity, actor=actor)
    availability.mark_changed(session, [item.id])
    return reservation


def release(session: Session, reservation_id: int, *, actor: Principal) -> Reservation:
    """Give a reservation's open quantity back to available stock."""
    return _close(session, reservation_id, status=ReservationStatus.RELEASED, actor=actor)


def release_part(
    session: Session, reservation_id: int, *, quantity: int, actor: Principal
) -> Reservation:
    """Give back `quantity` of a reservation (a cancelled part of an order line); releasing
    all that is open closes it like `release`."""
    reservation = _active(session, reservation_id, actor=actor)
    if not 0 < quantity <= reservation.open_quantity:
        raise ValidationFailed(
            [Problem("quantity", f"must be between 1 and {reservation.open_quantity}")]
        )
    if quantity == reservation.open_quantity:
        return release(session, reservation_id, actor=actor)
    if not stock.shrink_reservation(session, reservation_id, quantity=quantity):
        raise ReservationNotActive(reservation_id, "closed")
    stock.try_change(
        session,
        item_id=reservation.item_id,
        warehouse_id=reservation.warehouse_id,
        reserved_delta=-quantity,
    )
    _ledger(session, reservation, MovementKind.RELEASE, reserved=-quantity, actor=actor)
    availability.mark_changed(session, [reservation.item_id])
    session.refresh(reservation)
    return reservation


def _close(
    session: Session, reservation_id: int, *, status: ReservationStatus, actor: Principal
) -> Reservation:
    reservation = _active(session, reservation_id, actor=actor)
    open_quantity = reservation.open_quantity
    if not stock.close_reservation(session, reservation_id, status=status):
        raise ReservationNotActive(reservation_id, "closed")
    stock.try_change(
        session,
        item_id=reservation.item_id,
        warehouse_id=reservation.warehouse_id,
        reserved_delta=-open_quantity,
    )
    _ledger(session, reservation, MovementKind.RELEASE, reserved=-open_quantity, actor=actor)
    availability.mark_changed(session, [reservation.item_id])
    session.refresh(reservation)
    return reservation


def consume(
    session: Session,
    reservation_id: int,
    *,
    quantity: int,
    reference: Reference,
    actor: Principal,
) -> Reservation:
    """Ship `quantity` against a reservation: reserved and on hand fall together."""
    reservation = _active(session, reservation_id, actor=actor)
    if not 0 < quantity <= reservation.open_quantity:
        raise ValidationFailed(
            [Problem("quantity", f"must be between 1 and {reservation.open_quantity}")]
        )
    if not stock.consume_reservation(session, reservation_id, quantity=quantity):
        raise ReservationNotActive(reservation_id, "closed")
    stock.try_change(
        session,
        item_id=reservation.item_id,
        warehouse_id=reservation.warehouse_id,
        on_hand_delta=-quantity,
        reserved_delta=-quantity,
    )
    _ledger(
        session,
        reservation,
        MovementKind.SHIPMENT,
        on_hand=-quantity,
        reserved=-quantity,
        actor=actor,
        reference=reference,
    )
    availability.mark_changed(session, [reservation.item_id])
    session.refresh(reservation)
    return reservation


def move(session: Session, reservation_id: int, *, warehouse: str, actor: Principal) -> Reservation:
    """Move a reservation to another warehouse, checking stock there like a new one."""
    reservation = _active(session, reservation_id, actor=actor)
    item = session.get(Item, reservation.item_id)
    assert item is not None
    _, destination = resolve(session, sku=item.sku, warehouse=warehouse, actor=actor)
    if destination.id == reservation.warehouse_id:
        return reservation
    with session.begin_nested():
        moved = reserve_resolved(
            session,
            item=item,
            warehouse=destination,
            quantity=reservation.open_quantity,
            reference=reservation.reference,
            expires_in_seconds=_seconds_left(reservation),
            actor=actor,
        )
        _close(session, reservation_id, status=ReservationStatus.RELEASED, actor=actor)
    audit.record(
        session,
        actor=actor.label,
        action="reservation.moved",
        entity_type="reservation",
        entity_id=str(reservation_id),
        after={"moved_to": moved.id, "warehouse": destination.code},
    )
    return moved


def expire_due(session: Session, *, limit: int = 500) -> int:
    """Release soft reservations whose expiry has passed; returns how many."""
    expired = 0
    for reservation_id in stock.expired_reservation_ids(session, now=clock.now(), limit=limit):
        try:
            reservation = _close(
                session, reservation_id, status=ReservationStatus.EXPIRED, actor=SYSTEM
            )
        except ReservationNotActive:
            continue
        outbox.record(
            session,
            "reservation.expired",
            {"reservation_id": reservation.id, "reference": reservation.reference},
            key=f"reservation:{reservation.reference}",
        )
        expired += 1
    return expired


def get(session: Session, reservation_id: int, *, actor: Principal) -> Reservation:
    reservation = stock.reservation_by_id(session, reservation_id)
    if reservation is None or not actor.sees_warehouse(_warehouse_code(session, reservation)):
        raise ReservationNotFound(reservation_id)
    return reservation


def _active(session: Session, reservation_id: int, *, actor: Principal) -> Reservation:
    reservation = get(session, reservation_id, actor=actor)
    if reservation.status != ReservationStatus.ACTIVE:
        raise ReservationNotActive(reservation_id, reservation.status)
    return reservation


def _warehouse_code(session: Session, reservation: Reservation) -> str:
    warehouse = session.get(Warehouse, reservation.warehouse_id)
    return warehouse.code if warehouse else ""


def _seconds_left(reservation: Reservation) -> int | None:
    if reservation.expires_at is None:
        return None
    return max(1, int((reservation.expires_at - clock.now()).total_seconds()))


def _ledger(
    session: Session,
    reservation: Reservation,
    kind: MovementKind,
    *,
    on_hand: int = 0,
    reserved: int = 0,
    actor: Principal,
    reference: Reference | None = None,
) -> None:
    ref = reference or Reference("reservation", str(reservation.id))
    stock.add_movements(
        session,
        [
            {
                "item_id": reservation.item_id,
                "warehouse_id": reservation.warehouse_id,
                "kind": kind,
                "on_hand_delta": on_hand,
                "reserved_delta": reserved,
                "reference_type": ref.type,
                "reference_id": ref.id,
                "note": reservation.reference,
                "actor": actor.label,
                "at": clock.now(),
            }
        ],
    )
