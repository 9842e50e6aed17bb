"""Allocation on intake: reserve each line's open units at the channel's warehouses.

Until the routing planner exists, a line goes to the first warehouse, in the
channel's rank order, that holds all of it; failing that, it is split across
the warehouses in rank order; what no warehouse holds is backordered. All of
an order's reservations are made by one `reserve_many` call: one conditional
UPDATE per item and warehouse, rows locked in a fixed order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from oms.auth.principal import Principal
from oms.catalog import repository as catalog
from oms.catalog.models import Warehouse
from oms.inventory import balances, reservations
from oms.inventory.batch import Granted, ReservationRequest, reserve_many
from oms.kit import clock
from oms.orders import repository
from oms.orders.models import OrderLine, SalesOrder


@dataclass(frozen=True)
class Allocated:
    allocated: int
    backordered: int


def plan(
    lines: Sequence[OrderLine],
    warehouses: Sequence[Warehouse],
    available: dict[tuple[int, int], int],
) -> list[tuple[OrderLine, Warehouse, int]]:
    """(line, warehouse, quantity) to reserve; pure. Whole lines first, then splits."""
    left = dict(available)
    chosen: list[tuple[OrderLine, Warehouse, int]] = []
    for line in sorted(lines, key=lambda found: found.line_number):
        if line.item_id is None or line.open <= 0:
            continue
        need = line.open
        whole = next((w for w in warehouses if left.get((line.item_id, w.id), 0) >= need), None)
        for warehouse in [whole] if whole else warehouses:
            take = min(need, left.get((line.item_id, warehouse.id), 0))
            if take > 0:
                chosen.append((line, warehouse, take))
                left[(line.item_id, warehouse.id)] -= take
                need -= take
            if need == 0:
                break
    return chosen


def allocate(
    session: Session,
    order: SalesOrder,
    lines: Sequence[OrderLine],
    *,
    actor: Principal,
    warehouses: Sequence[Warehouse] | None = None,
    available: dict[tuple[int, int], int] | None = None,
) -> Allocated:
    """Reserve the open units of `lines`; backorder what cannot be reserved now.

    A caller that has just read the channel's serving warehouses (in rank order) and
    the stock available there (intake) passes them, saving both reads.
    """
    live = [line for line in lines if line.item_id is not None and line.open > 0]
    if not live:
        return Allocated(0, 0)
    if warehouses is None:
        warehouses = catalog.serving_warehouses(session, order.channel_id)
    if available is None:
        available = balances.available_at(
            session,
            [line.item_id for line in live if line.item_id is not None],
            [w.id for w in warehouses],
        )
    chosen = plan(live, warehouses, available)
    outcomes = reserve_many(
        session,
        [
            ReservationRequest(
                item_id=line.item_id or 0,
                sku=line.sku,
                warehouse_id=warehouse.id,
                warehouse=warehouse.code,
                quantity=quantity,
                reference=f"{order.number}/{line.line_number}",
            )
            for line, warehouse, quantity in chosen
        ],
        actor=actor,
    )
    now = clock.now()
    rows = []
    allocated = 0
    for (line, warehouse, quantity), outcome in zip(chosen, outcomes, strict=True):
        if isinstance(outcome, Granted):
            line.allocated += quantity
            allocated += quantity
            rows.append(
                {
                    "order_id": order.id,
                    "line_id": line.id,
                    "warehouse_id": warehouse.id,
                    "reservation_id": outcome.id,
                    "quantity": quantity,
                    "created_at": now,
                }
            )
    repository.insert_allocations(session, rows)
    backordered = 0
    for line in live:
        if line.open > 0:
            backordered += line.open
            line.backordered += line.open
    session.flush()
    return Allocated(allocated=allocated, backordered=backordered)


def release(session: Session, line: OrderLine, quantity: int, *, actor: Principal) -> int:
    """Give back up to `quantity` allocated units of a line, newest allocation first;
    returns how many were released."""
    left = min(quantity, line.allocated)
    released = 0
    for allocation in reversed(repository.allocations_of_lines(session, [line.id])):
        if left == 0:
            break
        take = min(left, allocation.quantity)
        reservations.release_part(session, allocation.reservation_id, quantity=take, actor=actor)
        if take == allocation.quantity:
            repository.delete_allocation(session, allocation)
        else:
            allocation.quantity -= take
        left -= take
        released += take
    line.allocated -= released
    session.flush()
    return released
