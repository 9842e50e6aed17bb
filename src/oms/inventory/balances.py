"""Reading the stock picture: balances with inbound and reorder state, item availability,
and the proof that balances equal the ledger."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from oms.auth.principal import Principal
from oms.catalog import items
from oms.inventory import repository as stock


@dataclass(frozen=True)
class Inbound:
    quantity: int
    expected_at: dt.datetime | None
    source: str


@dataclass(frozen=True)
class StockLine:
    """One item at one warehouse, as `GET /inventory` shows it."""

    sku: str
    warehouse: str
    on_hand: int
    reserved: int
    safety_stock: int
    available: int
    inbound: int
    inbound_detail: list[Inbound] = field(default_factory=list)
    reorder_point: int | None = None
    reorder_quantity: int | None = None
    min_quantity: int | None = None
    max_quantity: int | None = None

    @property
    def position(self) -> int:
        """What purchasing plans with: on hand − reserved + inbound."""
        return self.on_hand - self.reserved + self.inbound

    @property
    def below_reorder_point(self) -> bool:
        if self.reorder_point is not None:
            return self.position <= self.reorder_point
        if self.min_quantity is not None:
            return self.position < self.min_quantity
        return False


def stock_lines(
    session: Session,
    *,
    sku: str | None = None,
    warehouse: str | None = None,
    below_reorder_point: bool | None = None,
    actor: Principal,
) -> list[StockLine]:
    """Balances in the actor's scope, with inbound quantities and reorder state."""
    rows = stock.balance_rows(
        session,
        skus=[sku.strip()] if sku else None,
        warehouses=[warehouse.strip()] if warehouse else None,
    )
    rows = [r for r in rows if actor.sees_warehouse(r.warehouse)]
    pairs = [(r.item_id, r.warehouse_id) for r in rows]
    reorder = stock.reorder_settings(session, pairs)
    inbound = stock.inbound_transfers(session, pairs)
    lines = []
    for r in rows:
        setting = reorder.get((r.item_id, r.warehouse_id))
        detail = [
            Inbound(quantity=q, expected_at=at, source=f"transfer:{t}")
            for t, q, at in inbound.get((r.item_id, r.warehouse_id), [])
        ]
        line = StockLine(
            sku=r.sku,
            warehouse=r.warehouse,
            on_hand=r.on_hand,
            reserved=r.reserved,
            safety_stock=r.safety_stock,
            available=r.available,
            inbound=r.in_transit,
            inbound_detail=detail,
            reorder_point=setting.reorder_point if setting else None,
            reorder_quantity=setting.reorder_quantity if setting else None,
            min_quantity=setting.min_quantity if setting else None,
            max_quantity=setting.max_quantity if setting else None,
        )
        if below_reorder_point is None or line.below_reorder_point == below_reorder_point:
            lines.append(line)
    return lines


@dataclass(frozen=True)
class ItemAvailability:
    sku: str
    warehouses: list[StockLine]

    @property
    def total(self) -> dict[str, int]:
        names = ("on_hand", "reserved", "safety_stock", "available", "inbound")
        return {n: sum(getattr(w, n) for w in self.warehouses) for n in names}


def item_availability(session: Session, sku: str, *, actor: Principal) -> ItemAvailability:
    """One item's stock per warehouse in the actor's scope, and the total."""
    items.get_item(session, sku)
    return ItemAvailability(sku=sku.strip(), warehouses=stock_lines(session, sku=sku, actor=actor))


@dataclass(frozen=True)
class Verification:
    balances: int
    ledger_mismatches: list[tuple[int, int, int, int, int, int]]
    reservation_mismatches: list[tuple[int, int, int]]

    @property
    def ok(self) -> bool:
        return not self.ledger_mismatches and not self.reservation_mismatches


def verify(session: Session) -> Verification:
    """Prove that every balance equals the sum of its ledger, and reserved equals the
    open quantity of its active reservations (no ghost reservations)."""
    return Verification(
        balances=stock.count_balances(session),
        ledger_mismatches=sorted(stock.ledger_mismatches(session)),
        reservation_mismatches=sorted(stock.reservations_held(session)),
    )


def available_at(
    session: Session, item_ids: Sequence[int], warehouse_ids: Sequence[int]
) -> dict[tuple[int, int], int]:
    """Available stock per (item id, warehouse id), for planners; absent pairs have none."""
    wanted = set(warehouse_ids)
    found = stock.available_by_item_warehouse(session, list(item_ids))
    return {pair: qty for pair, qty in found.items() if pair[1] in wanted}
