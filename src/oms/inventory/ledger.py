"""Stock movements: receipts, shipments, adjustments, write-offs, restocks, transfers.

Each movement is one ledger row and one conditional balance update in the
caller's transaction; the balance can never go below zero, and every change
marks the item for a channel availability recount.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.orm import Session

from oms import audit
from oms.auth.principal import Principal
from oms.catalog import items, warehouses
from oms.catalog.models import Item, Warehouse
from oms.errors import Problem, ValidationFailed
from oms.inventory import availability
from oms.inventory import repository as stock
from oms.inventory.errors import NegativeStock
from oms.inventory.models import MovementKind
from oms.kit import clock


class AdjustmentReason(StrEnum):
    """Why stock was adjusted by hand; required on every adjustment."""

    CYCLE_COUNT = "cycle_count"
    DAMAGED = "damaged"
    FOUND = "found"
    LOST = "lost"
    THEFT = "theft"
    EXPIRED = "expired"
    QUALITY_HOLD = "quality_hold"
    INITIAL_LOAD = "initial_load"
    CORRECTION = "correction"


@dataclass(frozen=True)
class Reference:
    """The document a movement belongs to (`order`, `SO-000123`)."""

    type: str
    id: str


def resolve(
    session: Session, *, sku: str, warehouse: str, actor: Principal, path: str = ""
) -> tuple[Item, Warehouse]:
    """The item and warehouse named; a warehouse out of the actor's scope does not exist."""
    return items.get_item(session, sku), warehouses.get_warehouse(session, warehouse, actor=actor)


def post(
    session: Session,
    *,
    item: Item,
    warehouse: Warehouse,
    kind: MovementKind,
    on_hand: int = 0,
    reserved: int = 0,
    in_transit: int = 0,
    actor: Principal,
    reason: str | None = None,
    note: str | None = None,
    reference: Reference | None = None,
    within_available: bool = False,
) -> None:
    """Append one movement and apply it to the balance, refusing to go below zero.

    With `within_available`, an outgoing quantity may only come from available
    stock (not from what is reserved or held as safety stock), decided by the
    same single conditional statement.
    """
    stock.ensure_balances(session, [(item.id, warehouse.id)])
    applied = stock.try_change(
        session,
        item_id=item.id,
        warehouse_id=warehouse.id,
        on_hand_delta=on_hand,
        reserved_delta=reserved,
        in_transit_delta=in_transit,
        within_available=within_available,
    )
    if not applied:
        current = stock.balance(session, item.id, warehouse.id)
        raise NegativeStock(
            sku=item.sku,
            warehouse=warehouse.code,
            on_hand=current.on_hand if current else 0,
            change=on_hand,
        )
    if on_hand or reserved:
        stock.add_movements(
            session,
            [
                {
                    "item_id": item.id,
                    "warehouse_id": warehouse.id,
                    "kind": kind,
                    "on_hand_delta": on_hand,
                    "reserved_delta": reserved,
                    "reason": reason,
                    "note": note,
                    "reference_type": reference.type if reference else None,
                    "reference_id": reference.id if reference else None,
                    "actor": actor.label,
                    "at": clock.now(),
                }
            ],
        )
    availability.mark_changed(session, [item.id])


def adjust(
    session: Session,
    *,
    sku: str,
    warehouse: str,
    quantity: int,
    reason: str,
    note: str | None = None,
    actor: Principal,
) -> None:
    """Correct on hand by a signed quantity, with a reason code."""
    problems = []
    if quantity == 0:
        problems.append(Problem("quantity", "must not be zero"))
    try:
        reason_code = AdjustmentReason(reason)
    except ValueError:
        allowed = ", ".join(r.value for r in AdjustmentReason)
        problems.append(Problem("reason", f"unknown reason {reason!r}; use one of {allowed}"))
    if problems:
        raise ValidationFailed(problems)
    item, found = resolve(session, sku=sku, warehouse=warehouse, actor=actor)
    post(
        session,
        item=item,
        warehouse=found,
        kind=MovementKind.ADJUSTMENT,
        on_hand=quantity,
        actor=actor,
        reason=reason_code.value,
        note=note,
    )
    audit.record(
        session,
        actor=actor.label,
        action="inventory.adjusted",
        entity_type="balance",
        entity_id=f"{item.sku}@{found.code}",
        after={"quantity": quantity, "reason": reason_code.value, "note": note},
    )


def receive(
    session: Session,
    *,
    sku: str,
    warehouse: str,
    quantity: int,
    reference: Reference | None = None,
    kind: MovementKind = MovementKind.RECEIPT,
    actor: Principal,
) -> None:
    """Add received (or restocked) units to on hand."""
    if quantity <= 0:
        raise ValidationFailed([Problem("quantity", "must be greater than zero")])
    item, found = resolve(session, sku=sku, warehouse=warehouse, actor=actor)
    post(
        session,
        item=item,
        warehouse=found,
        kind=kind,
        on_hand=quantity,
        actor=actor,
        reference=reference,
    )


def write_off(
    session: Session,
    *,
    sku: str,
    warehouse: str,
    quantity: int,
    reason: str,
    reference: Reference | None = None,
    actor: Principal,
) -> None:
    """Remove damaged or lost units from on hand."""
    if quantity <= 0:
        raise ValidationFailed([Problem("quantity", "must be greater than zero")])
    item, found = resolve(session, sku=sku, warehouse=warehouse, actor=actor)
    post(
        session,
        item=item,
        warehouse=found,
        kind=MovementKind.WRITE_OFF,
        on_hand=-quantity,
        actor=actor,
        reason=reason,
        reference=reference,
    )
