"""Backorders served when stock arrives: set-based, in priority order.

Whenever an item with backorders has available stock at a warehouse that may
serve a backordered order's channel (a receipt, an adjustment, a return put
back, a cancellation or release freeing units), `reallocate_backorders` moves
backordered units to allocated:

    one query   ─► backordered lines of live orders, item by item in serving order
                   (priority high first, then ship-by earliest with none last, then
                   placed earliest, then order id), cut where the lines before one
                   already take all its channel's available units of the item
    one pass    ─► each line takes what is left at its channel's warehouses, in the
                   channel's rank order (a line may be shared between warehouses), but
                   at a warehouse that gave it back (rejected or short-picked it) and
                   whose stock of the item nothing counted, adjusted, wrote off or
                   replenished since (`standing_refusals`)
    settle      ─► the reads, queued before any write: planned fulfillment orders of
                   the order at that warehouse (extended), ids for the reservations,
                   plans and fulfillment orders to make
    grant       ─► `grant_many`: the units taken on the balances (a conditional UPDATE
                   for every item × warehouse at once)
    writes      ─► line buckets, reservations and their ledger rows (`record_granted`),
                   allocations, a plan per order (reason `backorder`), fulfillment
                   orders and their lines, one `order.allocated` event per order, then
                   the statuses (read from the buckets written) and the events
                   published; queued behind the pass (`bulk.writing_behind`): the
                   database writes one batch while Python prepares the next

No planner call per line: serving backorders is a matter of priority and stock,
not of choosing between warehouses by cost; what a rule set decided at intake
stays as it was. A unit a concurrent reservation took meanwhile stays backordered
for the next pass.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy.orm import Session

from oms import audit
from oms.auth.principal import Principal
from oms.catalog import repository as catalog
from oms.inventory import balances
from oms.inventory.batch import (
    Granted,
    ReservationRequest,
    grant_many,
    new_reservation_ids,
    record_granted,
)
from oms.kit import bulk, clock
from oms.orders import repository, status
from oms.orders.repository import BackorderRow
from oms.outbox import service as outbox
from oms.routing import repository as routing
from oms.routing.model import Filter, Ranking, SplitPolicy
from oms.routing.models import FulfillmentStatus, fulfillment_number
from oms.routing.rules import RuleSetRules

EVENT = "allocated"
REASON = "backorder"
RULES = RuleSetRules(
    filters=[Filter.SERVES_CHANNEL],
    ranking=[Ranking.PRIORITY],
    split=SplitPolicy.SPLIT_WITHIN_LINE,
).model_dump(mode="json")
"""What serving backorders applies, stored on each plan: the channel's warehouses in rank order."""


@dataclass(frozen=True)
class Reallocated:
    """What one pass did; `more_due` when it stopped at its limit of lines."""

    lines: int = 0
    units: int = 0
    orders: int = 0
    more_due: bool = False


class _Piece(NamedTuple):
    row: BackorderRow
    warehouse_id: int
    quantity: int


def reallocate_backorders(
    session: Session,
    *,
    actor: Principal,
    item_ids: Sequence[int] | None = None,
    limit: int = 200_000,
) -> Reallocated:
    """Serve backorders (of `item_ids`, or every item) from available stock in priority order;
    at most `limit` backordered lines are looked at."""
    with bulk.collector_paused():
        return _reallocate(session, actor=actor, item_ids=item_ids, limit=limit)


def _reallocate(
    session: Session, *, actor: Principal, item_ids: Sequence[int] | None, limit: int
) -> Reallocated:
    refused = repository.standing_refusals(session, item_ids=item_ids)
    refused_lines = frozenset(line_id for line_id, _ in refused)
    rows = repository.servable_backorders(
        session, item_ids=item_ids, limit=limit, refused=refused_lines
    )
    if not rows:
        return Reallocated()
    # Lines refused somewhere come on top of `limit`: the pass is full without them.
    more_due = sum(1 for row in rows if row.line_id not in refused_lines) == limit
    pieces = _share(session, rows, refused)
    if not pieces:
        return Reallocated(more_due=more_due)
    warehouses = {
        w.id: w.code for w in catalog.warehouses_by_ids(session, {p.warehouse_id for p in pieces})
    }
    # From here on what needs no answer at once is queued: the database works on one
    # statement while Python prepares the next.
    with bulk.writing_behind(session):
        settle = _settle(session, pieces)
        requests = [
            ReservationRequest(
                item_id=p.row.item_id,
                sku=p.row.sku,
                warehouse_id=p.warehouse_id,
                warehouse=warehouses[p.warehouse_id],
                quantity=p.quantity,
                reference=f"{p.row.number}/{p.row.line_number}",
            )
            for p in pieces
        ]
        refusals = grant_many(session, requests)
        taken = [p for p, refusal in zip(pieces, refusals, strict=True) if refusal is None]
        if not taken:
            return Reallocated(more_due=more_due)
        settled = settle()
        extended = {(p.row.order_id, p.warehouse_id) for p in taken} & settled.planned.keys()
        routing.touch_fulfillment_orders(
            session, sorted(settled.planned[key] for key in extended), settled.now
        )
        # PostgreSQL updates the lines after the rows that refer to them are in: checking
        # those references then finds one version of each line instead of two. SQLite
        # (one version) updates them first, and has the statuses while the inserts run.
        buckets = None if bulk.is_postgresql(session) else _move(session, taken)
        outcomes = record_granted(
            session, requests, refusals, actor=actor, ids=settled.reservations[: len(taken)]
        )
        granted = [
            (p, outcome.id)
            for p, outcome in zip(pieces, outcomes, strict=True)
            if isinstance(outcome, Granted)
        ]
        _record(session, granted, settled, buckets, actor=actor)
    return Reallocated(
        lines=len({p.row.line_id for p, _ in granted}),
        units=sum(p.quantity for p, _ in granted),
        orders=len({p.row.order_id for p, _ in granted}),
        more_due=more_due,
    )


def _share(
    session: Session, rows: Sequence[BackorderRow], refused: set[tuple[int, int]]
) -> list[_Piece]:
    """Each line in serving order takes what is left at its channel's warehouses in rank
    order, but at one that gave the line back (`refused`: (line id, warehouse id))."""
    ranked = repository.ranked_channel_warehouses(session, sorted({r.channel_id for r in rows}))
    warehouse_ids = sorted({w for ids in ranked.values() for w in ids})
    left = balances.available_at(session, sorted({r.item_id for r in rows}), warehouse_ids)
    pieces: list[_Piece] = []
    for row in rows:
        wanted = row.backordered
        for warehouse_id in ranked.get(row.channel_id, []):
            there = left.get((row.item_id, warehouse_id), 0)
            if there <= 0 or (row.line_id, warehouse_id) in refused:
                continue
            take = min(wanted, there)
            left[(row.item_id, warehouse_id)] = there - take
            pieces.append(_Piece(row, warehouse_id, take))
            wanted -= take
            if wanted == 0:
                break
    return pieces


@dataclass(frozen=True)
class _Settled:
    """What the pass reads before it grants and writes, for every piece (those refused
    then leave their ids unused): the planned fulfillment orders it may extend, and ids
    for what it inserts."""

    now: dt.datetime
    planned: dict[tuple[int, int], int]
    """(order id, warehouse id) → the order's fulfillment order still planned there"""
    reservations: list[int]
    """ids for the reservations, in the order `record_granted` makes them"""
    plans: dict[int, int]
    """order id → the id of its new plan"""
    fulfillment: dict[tuple[int, int], int]
    """(order id, warehouse id) → the fulfillment order extended or about to be made"""
    new: list[tuple[int, int]]
    """(order id, warehouse id) of the fulfillment orders to make"""


def _settle(session: Session, pieces: Sequence[_Piece]) -> Callable[[], _Settled]:
    """The reads, queued before any write: planned fulfillment orders, and ids for the
    reservations, plans and fulfillment orders to make (one for each order and warehouse
    of a piece: those planned already leave theirs unused); what it returns gives them."""
    order_ids = sorted({p.row.order_id for p in pieces})
    pairs = sorted({(p.row.order_id, p.warehouse_id) for p in pieces})
    planned = routing.planned_of_orders(session, order_ids)
    made = routing.new_fulfillment_order_ids(session, len(pairs))
    reservations = new_reservation_ids(session, len(pieces))
    plans = routing.new_plan_ids(session, len(order_ids))
    now = clock.now()

    def settled() -> _Settled:
        extended = planned()
        new = [pair for pair in pairs if pair not in extended]
        return _Settled(
            now=now,
            planned=extended,
            reservations=reservations(),
            plans=dict(zip(order_ids, plans(), strict=True)),
            fulfillment={**extended, **dict(zip(new, made(), strict=False))},
            new=new,
        )

    return settled


def _record(
    session: Session,
    granted: Sequence[tuple[_Piece, int]],
    settled: _Settled,
    buckets: Callable[[], list[tuple[Any, ...]]] | None,
    *,
    actor: Principal,
) -> None:
    """Allocations, plans, fulfillment orders and their lines, events, then the lines'
    buckets (unless `_move` queued them before, giving `buckets`), the statuses read from
    them and what is published."""
    now = settled.now
    by_order: dict[int, list[tuple[_Piece, int]]] = {}
    for piece, reservation_id in granted:
        by_order.setdefault(piece.row.order_id, []).append((piece, reservation_id))
    repository.insert_allocation_rows(
        session,
        [
            {
                "order_id": piece.row.order_id,
                "line_id": piece.row.line_id,
                "warehouse_id": piece.warehouse_id,
                "reservation_id": reservation_id,
                "quantity": piece.quantity,
                "created_at": now,
            }
            for piece, reservation_id in granted
        ],
    )
    plans = settled.plans
    routing.insert_plan_rows(
        session,
        [
            _plan_row(plans[order_id], order_id, by_order[order_id], actor, now)
            for order_id in sorted(by_order)
        ],
    )
    first = {order_id: pieces[0][0].row for order_id, pieces in by_order.items()}
    warehouses_of = {
        order_id: {p.warehouse_id for p, _ in pieces} for order_id, pieces in by_order.items()
    }
    fulfillment = settled.fulfillment
    routing.insert_fulfillment_order_rows(
        session,
        [
            {
                "id": fulfillment[(order_id, warehouse_id)],
                "order_id": order_id,
                "order_number": first[order_id].number,
                "channel_id": first[order_id].channel_id,
                "plan_id": plans[order_id],
                "warehouse_id": warehouse_id,
                "status": FulfillmentStatus.PLANNED,
                "created_at": now,
                "updated_at": now,
                "version": 1,
            }
            for order_id, warehouse_id in settled.new
            if order_id in by_order and warehouse_id in warehouses_of[order_id]
        ],
    )
    routing.insert_fulfillment_line_rows(
        session,
        [
            {
                "fulfillment_order_id": fulfillment[(piece.row.order_id, piece.warehouse_id)],
                "order_line_id": piece.row.line_id,
                "line_number": piece.row.line_number,
                "item_id": piece.row.item_id,
                "sku": piece.row.sku,
                "quantity": piece.quantity,
                "reservation_id": reservation_id,
            }
            for piece, reservation_id in granted
        ],
    )
    published = _events(session, by_order, plans, fulfillment, actor=actor, now=now)
    if buckets is None:
        buckets = _move(session, [piece for piece, _ in granted])
    statuses = _statuses(buckets)
    repository.set_statuses(session, sorted(statuses.items()), now)
    outbox.record_many(
        session,
        [
            (topic, {**payload, "status": statuses[payload["order_id"]]}, key)
            for topic, payload, key in published
        ],
    )


def _move(session: Session, taken: Sequence[_Piece]) -> Callable[[], list[tuple[Any, ...]]]:
    """The pieces' units from backordered to allocated on their lines, and the orders'
    buckets read once they are (`repository.order_buckets`)."""
    moved: dict[int, int] = {}
    for piece in taken:
        moved[piece.row.line_id] = moved.get(piece.row.line_id, 0) + piece.quantity
    repository.move_backordered_to_allocated(session, sorted(moved.items()))
    return repository.order_buckets(session, sorted({p.row.order_id for p in taken}))


def _plan_row(
    plan_id: int,
    order_id: int,
    pieces: Sequence[tuple[_Piece, int]],
    actor: Principal,
    now: dt.datetime,
) -> dict[str, Any]:
    row = pieces[0][0].row
    units = sum(p.quantity for p, _ in pieces)
    return {
        "id": plan_id,
        "order_id": order_id,
        "demand_key": row.number,
        "channel_id": row.channel_id,
        "rule_set_id": None,
        "rule_set_version": 0,
        "rules": RULES,
        "strategy": REASON,
        "reason": REASON,
        "destination": {},
        "units": units,
        "planned_units": units,
        "backordered_units": 0,
        "hold_for_review": False,
        "shipments": len({p.warehouse_id for p, _ in pieces}),
        "cost": 0.0,
        "distance_km": 0.0,
        "notes": [
            f"line {p.row.line_number} ({p.row.sku}): {p.quantity} backordered units "
            f"reserved at warehouse {p.warehouse_id} as stock arrived"
            for p, _ in pieces
        ],
        "trace": [],
        "actor": actor.label,
        "created_at": now,
    }


def _statuses(buckets: Callable[[], list[tuple[Any, ...]]]) -> dict[int, str]:
    """order id → its status, from `repository.order_buckets`."""
    found: dict[int, str] = {}
    for order_id, accepted, closed, *sums in buckets():
        total = status.Buckets(*(int(s or 0) for s in sums))
        found[int(order_id)] = status.derive([total], accepted=bool(accepted), closed=bool(closed))
    return found


def _events(
    session: Session,
    by_order: dict[int, list[tuple[_Piece, int]]],
    plans: dict[int, int],
    fulfillment: dict[tuple[int, int], int],
    *,
    actor: Principal,
    now: dt.datetime,
) -> list[tuple[str, dict[str, Any], str]]:
    """One `order.allocated` per order: timeline rows and audit rows in one statement each;
    the outbox events to publish (topic, payload, key), their status still to fill in."""
    events: list[dict[str, Any]] = []
    audits: list[dict[str, Any]] = []
    published: list[tuple[str, dict[str, Any], str]] = []
    for order_id, pieces in by_order.items():
        row = pieces[0][0].row
        data = {
            "reason": REASON,
            "lines": [
                {"line_number": p.row.line_number, "sku": p.row.sku, "quantity": p.quantity}
                for p, _ in pieces
            ],
            "routing_plan": plans[order_id],
            "fulfillment_orders": sorted(
                {fulfillment_number(fulfillment[(order_id, p.warehouse_id)]) for p, _ in pieces}
            ),
        }
        events.append(
            {"order_id": order_id, "type": EVENT, "actor": actor.label, "at": now, "data": data}
        )
        audits.append(
            {
                "actor": actor.label,
                "action": f"order.{EVENT}",
                "entity_type": "sales_order",
                "entity_id": row.number,
                # The lines are on the timeline and in the event; the trail names the plan.
                "after": {
                    "reason": REASON,
                    "units": sum(p.quantity for p, _ in pieces),
                    "routing_plan": plans[order_id],
                },
            }
        )
        published.append(
            (
                f"order.{EVENT}",
                {"order_id": order_id, "number": row.number, "status": None, **data},
                f"order:{row.number}",
            )
        )
    repository.insert_event_rows(session, events)
    audit.record_many(session, audits)
    return published
