"""The express lane of intake: new orders with nothing to hold them for, in few statements.

    (each stored raw before, in a transaction of its own, with its number)
    read    the master-data counter, the items' stock at every warehouse, the buyers
            by e-mail, which of the orders exist already, ids for the orders and
            their lines                                            1 statement
    plan    in memory, order after order: routing's planner over the channel,
            warehouses and rules kept in memory (`master_data`)
    ids     for the reservations, plans and fulfillment orders planned  1 statement
    write   the orders, lines, reservations, ledger rows, plans, fulfillment orders
            and their lines, allocations, timeline, audit, outbox, the inbox
            messages' outcomes                                     1 statement
    take    the units on the balances (one conditional UPDATE, rows locked in
            (item, warehouse) order), then the items' availability marks
                                                                   1 statement

That is on PostgreSQL, where each statement is a round trip, for one order or for a
run of a bulk chunk's; SQLite, in the process, takes a few more
(`repository.read_for_intake`, `oms.kit.batch`).

The balance rows are the ones every intake of the same items wants: they are taken
last, so that each is held locked from the take to the COMMIT that follows it, not
while the rest is written. The items' availability marks come after the balances, as
in every other reservation: the other way round, a lane order waiting for a balance
row while holding a mark a reservation wanted next would deadlock with it.

The lane writes what its plan expects, every unit taken; when the take falls short
of that (a concurrent order took units between the read and the take) or an order
exists by then (a concurrent delivery of it), `send` raises `StaleRead` and the
transaction is rolled back whole, to be run again (`Database.run`,
`Database.in_chunks`, the intake batcher): its read then sees the units gone, or the
order made, and plans and answers with what is there. SQLite takes its write lock at
BEGIN, so what its read saw stays true until the take.

The rows are those the general path (`intake._accept` with `allocation.allocate`)
writes for the same order, built by the same functions (routing's `plan_values`,
inventory's `granted_rows`, the timeline's `rows`); a test takes the same orders in
by both and compares every table. What the lane does not take is decided before
anything is written, and goes the general way: a payload with any problem, a buyer
not named by e-mail alone or not known yet or checked for credit, an order cancelled
as it arrives, a warehouse with a daily capacity (the day's count is another read),
a plan that asks for review, a re-delivery.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from oms.audit import AuditEntry
from oms.auth.principal import Principal
from oms.catalog.models import Customer, Item
from oms.db import StaleRead
from oms.inbox.models import InboxMessage
from oms.inventory.batch import granted_rows, group_totals, take_all
from oms.inventory.models import Movement, Reservation
from oms.kit import batch, clock
from oms.orders import allocation, credit, master_data, repository, timeline, views
from oms.orders.master_data import ChannelData
from oms.orders.models import OrderAllocation, OrderEvent, OrderLine, SalesOrder
from oms.orders.schemas import OrderIn
from oms.outbox.models import OutboxEvent
from oms.routing import planner
from oms.routing import service as routing
from oms.routing.costs import DEFAULT_COST_MODEL
from oms.routing.model import Demand, Plan
from oms.routing.models import (
    FulfillmentOrder,
    FulfillmentOrderLine,
    FulfillmentStatus,
    RoutingPlan,
    fulfillment_number,
)

LINE_COLUMNS = tuple(c.name for c in OrderLine.__table__.c)
RESERVATION_COLUMNS = tuple(c.name for c in Reservation.__table__.c)
MOVEMENT_COLUMNS = tuple(c.name for c in Movement.__table__.c if c.name != "id")
PLAN_COLUMNS = tuple(c.name for c in RoutingPlan.__table__.c)
FULFILLMENT_COLUMNS = tuple(c.name for c in FulfillmentOrder.__table__.c)
FULFILLMENT_LINE_COLUMNS = tuple(
    c.name for c in FulfillmentOrderLine.__table__.c if c.name not in ("id", "shipped")
)
ALLOCATION_COLUMNS = tuple(c.name for c in OrderAllocation.__table__.c if c.name != "id")
EVENT_COLUMNS = tuple(c.name for c in OrderEvent.__table__.c if c.name != "id")
AUDIT_COLUMNS = tuple(c.name for c in AuditEntry.__table__.c if c.name != "id")
OUTBOX_COLUMNS = tuple(c.name for c in OutboxEvent.__table__.c if c.name not in ("id",))
OUTCOME_COLUMNS = ("status", "document_id", "outcome", "errors", "processed_at")

ORDER_COLUMNS = tuple(c.name for c in SalesOrder.__table__.c)

WRITE = batch.Shape(
    batch.Insert(SalesOrder, ORDER_COLUMNS),
    batch.Insert(OrderLine, LINE_COLUMNS),
    batch.Insert(Reservation, RESERVATION_COLUMNS),
    batch.Insert(Movement, MOVEMENT_COLUMNS),
    batch.Insert(RoutingPlan, PLAN_COLUMNS),
    batch.Insert(FulfillmentOrder, FULFILLMENT_COLUMNS),
    batch.Insert(FulfillmentOrderLine, (*FULFILLMENT_LINE_COLUMNS, "shipped")),
    batch.Insert(OrderAllocation, ALLOCATION_COLUMNS),
    batch.Insert(OrderEvent, EVENT_COLUMNS),
    batch.Insert(AuditEntry, AUDIT_COLUMNS),
    batch.Insert(OutboxEvent, OUTBOX_COLUMNS),
    batch.Update(InboxMessage, OUTCOME_COLUMNS, added=("attempts",)),
)
"""Everything the lane writes but the take, in one statement on PostgreSQL."""

(
    ORDERS,
    LINES,
    RESERVATIONS,
    MOVEMENTS,
    PLANS,
    FULFILLMENT_ORDERS,
    FULFILLMENT_LINES,
    ALLOCATIONS,
    EVENTS,
    AUDITS,
    OUTBOX,
    OUTCOMES,
) = range(len(WRITE.parts))
"""Each part's place in `WRITE`, for the rows given to it."""


def eligible(payload: OrderIn, data: ChannelData | None) -> bool:
    """Whether the lane may take this valid order, before anything is read for it."""
    ref = payload.customer
    return (
        data is not None
        and ref.id is None
        and not ref.account_number
        and bool(ref.email)
        and not payload.cancelled
        and not data.capacity_limited
    )


def read(
    session: Session,
    items: Iterable[Item],
    emails: Sequence[str],
    keys: Sequence[tuple[int, str]],
    *,
    orders: int,
    lines: int,
    generation: int | None,
) -> repository.IntakeReading | None:
    """The stock of `items`, the buyers with these e-mail addresses, the orders with these
    (channel id, external id) keys, ids for `orders` orders of `lines` lines in all; None
    when the master data kept (read under `generation`) changed since: it is dropped, to
    be read again."""
    found = repository.read_for_intake(
        session,
        sorted({i.id for i in items}),
        sorted(set(emails)),
        keys,
        orders=orders,
        lines=lines,
    )
    if found.generation != generation:
        master_data.forget(session, found.generation)
        return None
    return found


def buyer(reading: repository.IntakeReading, email: str) -> Customer | None:
    """The order's buyer, if the lane may take its order: known, not checked for credit."""
    found = reading.customers.get(email)
    return None if found is None or credit.is_checked(found) else found


@dataclass(frozen=True)
class Planned:
    order: routing.OrderToRoute
    lines: list[routing.LineToRoute]
    demand: Demand
    plan: Plan
    requests: routing.Requests
    rules: ChannelData


def plan(
    data: ChannelData,
    order: routing.OrderToRoute,
    lines: list[routing.LineToRoute],
    hazmat: Mapping[int, bool],
    available: dict[tuple[int, int], int],
) -> Planned | None:
    """Routing's plan for the lines over every active warehouse, its units then taken off
    `available` (for the next order of a batch); None when it asks for a person's review."""
    demand = routing.demand_of(order, lines, hazmat)
    made = planner.plan(
        demand,
        routing.candidates_of(data.candidates, available, {}),
        rules=data.rules,
        costs=DEFAULT_COST_MODEL,
    )
    if made.hold_for_review:
        return None
    requests = routing.reservation_requests(order, lines, made, data.candidates)
    for r in requests.wanted:
        key = (r.item_id, r.warehouse_id)
        available[key] = available.get(key, 0) - r.quantity
    return Planned(order, lines, demand, made, requests, data)


@dataclass(frozen=True)
class Ids:
    """The ids of one order's rows the lane writes: its reservations, plan and
    fulfillment orders."""

    reservations: list[int]
    plan_id: int
    fulfillment_orders: list[int]


def ids_for(session: Session, plans: Sequence[Planned]) -> list[Ids]:
    """Ids for the rows of the orders `plans` plan, drawn in one statement."""
    counts = [
        (len(p.requests.wanted), len({r.warehouse_id for r in p.requests.wanted})) for p in plans
    ]
    drawn = repository.draw_ids(
        session,
        {
            Reservation: sum(r for r, _ in counts),
            RoutingPlan: len(plans),
            FulfillmentOrder: sum(f for _, f in counts),
        },
    )
    reservations, fulfillment = iter(drawn[Reservation]), iter(drawn[FulfillmentOrder])
    return [
        Ids(
            reservations=list(islice(reservations, r)),
            plan_id=plan_id,
            fulfillment_orders=list(islice(fulfillment, f)),
        )
        for (r, f), plan_id in zip(counts, drawn[RoutingPlan], strict=True)
    ]


class Taken:
    """What the lane made of an order it planned, and the rows it has still to write
    (`send`)."""

    def __init__(
        self,
        ids: Ids,
        order: SalesOrder,
        values: Mapping[str, Any],
        lines: Sequence[OrderLine],
        planned: Planned,
        *,
        actor: Principal,
    ) -> None:
        """The lines' buckets set, every unit of the plan taken; the rows of the order
        (`values`, its status as `send` finds it), its reservations and ledger, plan,
        fulfillment orders and their lines, allocations."""
        now = order.created_at
        requests = planned.requests
        granted = granted_rows(
            requests.wanted,
            [None] * len(requests.wanted),
            ids.reservations,
            actor=actor,
            now=now,
        )
        reserved, refused, backordered = routing.settled(planned.plan, requests, granted.outcomes)
        plan_id = ids.plan_id
        warehouses = sorted({r.warehouse_id for r in reserved})
        fulfillment = dict(zip(warehouses, ids.fulfillment_orders, strict=False))
        by_line = {line.line_id: line for line in planned.lines}
        self.allocated = 0
        for line in lines:
            line.allocated = sum(r.quantity for r in reserved if r.line_id == line.id)
            line.backordered = line.quantity - line.allocated
            self.allocated += line.allocated
        self.backordered = sum(line.backordered for line in lines)
        self.wanted = group_totals(requests.wanted)
        """(item id, warehouse id, units) the take is to take for it."""
        self.values = values
        self.plan_id = plan_id
        self.fulfillment_orders = tuple(fulfillment_number(fulfillment[w]) for w in warehouses)
        self.channel = planned.rules.channel.code
        self.warehouses = {w.id: w.code for w, _ in planned.rules.candidates}
        self.rows: list[list[dict[str, Any]]] = [[] for _ in WRITE.parts]
        self.rows[LINES] = [_line_row(line) for line in lines]
        self.rows[RESERVATIONS] = granted.reservations
        self.rows[MOVEMENTS] = granted.movements
        self.rows[PLANS] = [
            {
                "id": plan_id,
                **routing.plan_values(
                    planned.order,
                    planned.lines,
                    planned.demand,
                    planned.plan,
                    (planned.rules.rules, planned.rules.stored_rules),
                    reserved,
                    refused,
                    backordered,
                    actor=actor,
                    reason=REASON,
                    now=now,
                ),
            }
        ]
        self.rows[FULFILLMENT_ORDERS] = [
            _fulfillment_row(fulfillment[w], order, plan_id, w, now) for w in warehouses
        ]
        self.rows[FULFILLMENT_LINES] = [
            {
                **routing.fulfillment_line_values(
                    r, by_line[r.line_id], fulfillment[r.warehouse_id]
                ),
                "shipped": 0,
            }
            for r in reserved
        ]
        self.rows[ALLOCATIONS] = [allocation.allocation_row(order.id, r, now) for r in reserved]

    def shown(self, order: SalesOrder, lines: Sequence[OrderLine]) -> views.OrderOut:
        """The order as `views.order_out` shows it, from the rows in hand."""
        allocations = self.rows[ALLOCATIONS]
        fulfillment, fulfillment_lines = self.rows[FULFILLMENT_ORDERS], self.rows[FULFILLMENT_LINES]
        return views.shown(
            order,
            channel=self.channel,
            lines=lines,
            allocations=[_Allocation.of(row) for row in allocations],
            holds=[],
            warehouses=self.warehouses,
            fulfillment_orders=views.fulfillment_out(
                [
                    (_Fulfillment.of(row), self.warehouses[row["warehouse_id"]])
                    for row in fulfillment
                ],
                [_FulfillmentLine.of(row) for row in fulfillment_lines],
            ),
        )

    def routing(self) -> dict[str, object]:
        """What the order's event says of the routing (as `allocation.Allocated.routing`)."""
        return {"routing_plan": self.plan_id, "fulfillment_orders": list(self.fulfillment_orders)}

    def record(
        self, order: SalesOrder, event: str, *, actor: Principal, data: dict[str, Any]
    ) -> None:
        """The order's event (`timeline.record`), written with the rest."""
        written = timeline.rows(order, event, actor=actor, data=data)
        self.rows[EVENTS].append(written.event)
        self.rows[AUDITS].append(written.audit)
        self.rows[OUTBOX].append({**written.outbox, "dispatched_at": None})

    def send(self, session: Session, order: SalesOrder, outcome: Mapping[str, Any] | None) -> None:
        """Write it all, with the order's status and the inbox message's `outcome`
        (`OUTCOME_COLUMNS` and its id) when there is one."""
        send(session, [(self, order, outcome)])


def send(
    session: Session, taken: Sequence[tuple[Taken, SalesOrder, Mapping[str, Any] | None]]
) -> None:
    """Write the orders the lane took, with their rows and inbox outcomes, in one batch,
    then take their units (nothing when there are none). `StaleRead` when one of the
    orders exists by now or the take falls short: the transaction is to be rolled back
    and run again."""
    if not taken:
        return
    rows: list[list[dict[str, Any]]] = [[] for _ in WRITE.parts]
    totals: dict[tuple[int, int], int] = {}
    for made, order, outcome in taken:
        rows[ORDERS].append({**made.values, "id": order.id, "status": order.status})
        for part, part_rows in zip(rows, made.rows, strict=True):
            part.extend(part_rows)
        if outcome is not None:
            rows[OUTCOMES].append({**outcome, "attempts": 1})
        for item_id, warehouse_id, units in made.wanted:
            totals[(item_id, warehouse_id)] = totals.get((item_id, warehouse_id), 0) + units
    try:
        WRITE.send(session, rows)
    except IntegrityError as exc:
        if repository.is_order_key_taken(exc):
            raise StaleRead("an order was made by a concurrent delivery of it") from exc
        raise
    wanted = [(i, w, units) for (i, w), units in sorted(totals.items())]
    if not take_all(session, wanted, now=clock.now()):
        raise StaleRead("units the plans counted on were taken by a concurrent order")


REASON = "intake"


@dataclass(frozen=True, slots=True)
class _Allocation:
    """An allocation row as the detail reads it (an ORM object costs more to make than
    the rest of the order's showing)."""

    line_id: int
    warehouse_id: int
    reservation_id: int
    quantity: int
    created_at: dt.datetime

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> _Allocation:
        return cls(
            row["line_id"],
            row["warehouse_id"],
            row["reservation_id"],
            row["quantity"],
            row["created_at"],
        )


@dataclass(frozen=True, slots=True)
class _Fulfillment:
    """A fulfillment order row as the detail reads it."""

    id: int
    number: str
    status: str
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> _Fulfillment:
        number = fulfillment_number(row["id"])
        return cls(row["id"], number, row["status"], row["created_at"], row["updated_at"])


@dataclass(frozen=True, slots=True)
class _FulfillmentLine:
    """A fulfillment order line row as the detail reads it."""

    fulfillment_order_id: int
    line_number: int
    sku: str
    quantity: int

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> _FulfillmentLine:
        return cls(row["fulfillment_order_id"], row["line_number"], row["sku"], row["quantity"])


def _line_row(line: OrderLine) -> dict[str, Any]:
    return {name: getattr(line, name) for name in LINE_COLUMNS}


def _fulfillment_row(
    fulfillment_order_id: int,
    order: SalesOrder,
    plan_id: int,
    warehouse_id: int,
    now: dt.datetime,
) -> dict[str, Any]:
    return {
        "id": fulfillment_order_id,
        "order_id": order.id,
        "order_number": order.number,
        "channel_id": order.channel_id,
        "plan_id": plan_id,
        "warehouse_id": warehouse_id,
        "status": FulfillmentStatus.PLANNED,
        "created_at": now,
        "updated_at": now,
        "version": 1,
        "released_at": None,
        "ship_by": None,
        "acknowledged_at": None,
        "shipped_at": None,
        "wms_reference": None,
        "reject_reason": None,
    }
