"""Inventory documents as people read them: SKUs and warehouse codes instead of row ids.

Reading goes through the same scope as writing: a warehouse outside the actor's
scope does not exist, and neither does a document that lives only there.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from oms.auth.principal import Principal
from oms.catalog import items, warehouses
from oms.catalog import repository as catalog
from oms.inventory import balances, snapshots
from oms.inventory import repository as stock
from oms.inventory.batch import Granted
from oms.inventory.errors import TransferNotFound
from oms.inventory.models import MovementKind, Reservation, Transfer
from oms.inventory.schemas import (
    ItemAvailabilityOut,
    MovementOut,
    ReferenceOut,
    ReservationOut,
    SnapshotLineOut,
    SnapshotOut,
    StockLineOut,
    StockTotals,
    TransferLineOut,
    TransferOut,
)
from oms.kit.paging import Page, PageRequest


def stock_line(line: balances.StockLine) -> StockLineOut:
    return StockLineOut.model_validate(line)


def item_availability(found: balances.ItemAvailability) -> ItemAvailabilityOut:
    return ItemAvailabilityOut(
        sku=found.sku,
        warehouses=[stock_line(w) for w in found.warehouses],
        total=StockTotals(**found.total),
    )


def search_movements(
    session: Session,
    *,
    sku: str | None = None,
    warehouse: str | None = None,
    kind: MovementKind | None = None,
    page: PageRequest,
    actor: Principal,
) -> Page[MovementOut]:
    """The ledger, newest first, within the actor's warehouses."""
    item_id = warehouse_id = None
    if sku is not None:
        item_id = items.get_item(session, sku).id
    if warehouse is not None:
        warehouse_id = warehouses.get_warehouse(session, warehouse, actor=actor).id
    scope = None
    if actor.warehouses is not None:
        scope = [w.id for w in catalog.warehouses_by_codes(session, actor.warehouses).values()]
    rows = stock.search_movements(
        session,
        item_id=item_id,
        warehouse_id=warehouse_id,
        kind=kind,
        warehouse_ids=scope,
        page=page,
    )
    skus = _skus(session, (m.item_id for m in rows.items))
    codes = _codes(session, (m.warehouse_id for m in rows.items))
    return Page(
        items=[
            MovementOut(
                id=m.id,
                sku=skus[m.item_id],
                warehouse=codes[m.warehouse_id],
                kind=m.kind,
                on_hand_delta=m.on_hand_delta,
                reserved_delta=m.reserved_delta,
                reason=m.reason,
                note=m.note,
                reference=ReferenceOut(type=m.reference_type, id=m.reference_id or "")
                if m.reference_type
                else None,
                actor=m.actor,
                at=m.at,
            )
            for m in rows.items
        ],
        next_cursor=rows.next_cursor,
    )


def get_transfer(session: Session, transfer_id: int, *, actor: Principal) -> TransferOut:
    """A transfer seen from either of its warehouses."""
    transfer = stock.transfer_by_id(session, transfer_id)
    if transfer is None:
        raise TransferNotFound(transfer_id)
    shown = transfer_out(session, transfer)
    if not (actor.sees_warehouse(shown.source) or actor.sees_warehouse(shown.destination)):
        raise TransferNotFound(transfer_id)
    return shown


def transfer_out(session: Session, transfer: Transfer) -> TransferOut:
    codes = _codes(session, (transfer.source_warehouse_id, transfer.destination_warehouse_id))
    return TransferOut(
        id=transfer.id,
        source=codes[transfer.source_warehouse_id],
        destination=codes[transfer.destination_warehouse_id],
        status=transfer.status,
        expected_at=transfer.expected_at,
        note=transfer.note,
        lines=[
            TransferLineOut(sku=item.sku, quantity=line.quantity)
            for line, item in stock.transfer_lines(session, transfer.id)
        ],
        created_at=transfer.created_at,
        received_at=transfer.received_at,
        actor=transfer.actor,
    )


def granted_out(granted: Granted) -> ReservationOut:
    """A reservation just made by `batch.reserve_many`, shown without reading it back."""
    request = granted.request
    return ReservationOut(
        id=granted.id,
        sku=request.sku,
        warehouse=request.warehouse,
        quantity=request.quantity,
        consumed=0,
        open_quantity=request.quantity,
        reference=request.reference,
        kind=granted.kind,
        status=granted.status,
        expires_at=granted.expires_at,
        created_at=granted.created_at,
        closed_at=None,
        actor=request.actor.label if request.actor else "",
    )


def reservation_out(session: Session, reservation: Reservation) -> ReservationOut:
    return ReservationOut(
        id=reservation.id,
        sku=_skus(session, [reservation.item_id])[reservation.item_id],
        warehouse=stock.warehouse_of(session, reservation.warehouse_id).code,
        quantity=reservation.quantity,
        consumed=reservation.consumed,
        open_quantity=reservation.open_quantity,
        reference=reservation.reference,
        kind=reservation.kind,
        status=reservation.status,
        expires_at=reservation.expires_at,
        created_at=reservation.created_at,
        closed_at=reservation.closed_at,
        actor=reservation.actor,
    )


def get_snapshot(session: Session, snapshot_id: int, *, actor: Principal) -> SnapshotOut:
    """A snapshot with its status, its errors, and every line of its difference report."""
    snapshot = snapshots.get(session, snapshot_id, actor=actor)
    return SnapshotOut(
        id=snapshot.id,
        warehouse=stock.warehouse_of(session, snapshot.warehouse_id).code,
        format=snapshot.format,
        status=snapshot.status,
        as_of=snapshot.as_of,
        received_at=snapshot.received_at,
        actor=snapshot.actor,
        errors=snapshot.errors,
        report=[
            SnapshotLineOut(
                id=line.id,
                sku=sku,
                counted=line.counted,
                in_flight=line.in_flight,
                on_hand=line.on_hand,
                moved_since=line.moved_since,
                expected=line.expected,
                difference=line.difference,
                reserved=line.reserved,
                status=line.status,
                short_of_reservations=line.counted < line.reserved,
                decided_by=line.decided_by,
                decided_at=line.decided_at,
            )
            for line, sku in stock.snapshot_lines(session, snapshot.id)
        ],
    )


def _skus(session: Session, item_ids: Iterable[int]) -> dict[int, str]:
    return {i.id: i.sku for i in catalog.items_by_ids(session, set(item_ids))}


def _codes(session: Session, warehouse_ids: Iterable[int]) -> dict[int, str]:
    return {w.id: w.code for w in catalog.warehouses_by_ids(session, set(warehouse_ids))}
