"""Backorders served when stock arrives: in priority order, partially, from freed stock."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from oms.auth.principal import SYSTEM
from oms.config import Settings
from oms.db import Database
from oms.inventory import balances, ledger
from oms.jobs import schedules
from oms.orders import backorders, lifecycle, repository
from oms.orders.models import OrderStatus
from oms.outbox.models import OutboxEvent
from oms.routing import repository as routing
from oms.routing.models import FulfillmentStatus
from tests.integration.inventory import factories as stock
from tests.integration.orders import factories as orders


@pytest.fixture
def empty(db: Database) -> Database:
    """Master data with no ABC-1 in stock anywhere."""
    with db.transaction() as session:
        orders.master_data(session, on_hand={("XYZ-9", "DAL"): 3})
    return db


def backordered_order(db: Database, external_id: str, quantity: int, **overrides: Any) -> int:
    with db.transaction() as session:
        return orders.order(session, external_id, lines=[("ABC-1", quantity)], **overrides)


def line_buckets(session: Session, order_id: int) -> tuple[int, int]:
    """(allocated, backordered) of the order's first line."""
    _, [line] = orders.stored(session, order_id)
    return line.allocated, line.backordered


def reallocate(db: Database) -> backorders.Reallocated:
    with db.transaction() as session:
        return backorders.reallocate_backorders(session, actor=SYSTEM)


def test_stock_arriving_serves_the_earliest_order_first(empty: Database) -> None:
    base = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    later = backordered_order(empty, "2", 3, placed_at=base + dt.timedelta(hours=2))
    earlier = backordered_order(empty, "1", 3, placed_at=base)
    with empty.transaction() as session:
        stock.stock(session, "ABC-1", "DAL", 3)

    done = reallocate(empty)

    assert (done.orders, done.units) == (1, 3)
    with empty.transaction() as session:
        assert line_buckets(session, earlier) == (3, 0)
        assert line_buckets(session, later) == (0, 3)
        found, _ = orders.stored(session, earlier)
        assert found.status == OrderStatus.ALLOCATED


def test_a_higher_priority_order_is_served_before_an_earlier_one(empty: Database) -> None:
    earlier = backordered_order(empty, "1", 2)
    urgent = backordered_order(empty, "2", 2, priority=5)
    with empty.transaction() as session:
        stock.stock(session, "ABC-1", "NJ", 2)

    reallocate(empty)

    with empty.transaction() as session:
        assert line_buckets(session, urgent) == (2, 0)
        assert line_buckets(session, earlier) == (0, 2)


def test_an_earlier_ship_by_wins_and_no_ship_by_comes_last(empty: Database) -> None:
    soon = dt.datetime(2030, 1, 2, tzinfo=dt.UTC)
    none = backordered_order(empty, "1", 1)
    late = backordered_order(empty, "2", 1, ship_by=soon + dt.timedelta(days=3))
    early = backordered_order(empty, "3", 1, ship_by=soon)
    with empty.transaction() as session:
        stock.stock(session, "ABC-1", "DAL", 2)

    reallocate(empty)

    with empty.transaction() as session:
        assert [line_buckets(session, o)[0] for o in (early, late, none)] == [1, 1, 0]


def test_too_little_stock_fills_a_backorder_partially_across_warehouses(empty: Database) -> None:
    order_id = backordered_order(empty, "1", 5)
    with empty.transaction() as session:
        stock.stock(session, "ABC-1", "DAL", 2)
        stock.stock(session, "ABC-1", "NJ", 1)

    done = reallocate(empty)

    assert (done.lines, done.units) == (1, 3)
    with empty.transaction() as session:
        assert line_buckets(session, order_id) == (3, 2)
        found, _ = orders.stored(session, order_id)
        assert found.status == OrderStatus.PARTIALLY_ALLOCATED
        allocations = repository.allocations_of_order(session, order_id)
        assert sorted(a.quantity for a in allocations) == [1, 2]
        fos = routing.fulfillment_orders_of_order(session, order_id)
        assert len(fos) == 2
        assert {fo.status for fo in fos} == {FulfillmentStatus.PLANNED}
        assert [e.type for e in repository.events_of(session, order_id)][-1] == "allocated"
        published = session.scalars(
            select(OutboxEvent.payload).where(OutboxEvent.topic == "order.allocated")
        ).all()
        assert [(p["order_id"], p["status"]) for p in published] == [
            (order_id, OrderStatus.PARTIALLY_ALLOCATED)
        ]
        assert balances.verify(session).ok


def test_a_cancellation_freeing_stock_serves_a_backorder(empty: Database) -> None:
    with empty.transaction() as session:
        stock.stock(session, "ABC-1", "DAL", 4)
    holder = backordered_order(empty, "1", 4)
    waiting = backordered_order(empty, "2", 3)
    with empty.transaction() as session:
        assert line_buckets(session, waiting) == (0, 3)
        lifecycle.cancel_order(session, holder, reason="customer asked", actor=SYSTEM)

    reallocate(empty)

    with empty.transaction() as session:
        assert line_buckets(session, waiting) == (3, 0)
        assert balances.verify(session).ok


def test_nothing_is_done_while_no_stock_arrives(empty: Database) -> None:
    order_id = backordered_order(empty, "1", 2)

    done = reallocate(empty)

    assert done == backorders.Reallocated()
    with empty.transaction() as session:
        assert line_buckets(session, order_id) == (0, 2)


def test_a_receipt_reaches_a_backorder_through_the_worker_job(
    empty: Database, settings: Settings
) -> None:
    order_id = backordered_order(empty, "1", 2)
    with empty.transaction() as session:
        ledger.receive(session, sku="ABC-1", warehouse="NJ", quantity=5, actor=SYSTEM)

    counts = schedules.run_due(empty, settings)

    assert counts.backorders_allocated == 2
    # The same tick releases the new fulfillment order to its warehouse.
    assert counts.fulfillment_released == 1
    with empty.transaction() as session:
        _, [line] = orders.stored(session, order_id)
        assert (line.released, line.backordered) == (2, 0)


def test_a_pass_over_many_backorders_records_each_one_like_a_single_one(empty: Database) -> None:
    # Enough orders for the bulk writes to go straight to the driver, written behind the pass.
    ids = [backordered_order(empty, str(n), 2) for n in range(1, 121)]
    with empty.transaction() as session:
        stock.stock(session, "ABC-1", "DAL", 151)
        stock.stock(session, "ABC-1", "NJ", 59)

    done = reallocate(empty)

    # 210 units for 240 wanted: the first 105 orders, the 76th shared between DAL and NJ.
    assert (done.orders, done.lines, done.units) == (105, 105, 210)
    with empty.transaction() as session:
        for n, order_id in enumerate(ids, start=1):
            found, [line] = orders.stored(session, order_id)
            if n > 105:
                assert (line.allocated, line.backordered) == (0, 2)
                continue
            assert (found.status, line.allocated, line.backordered) == (
                OrderStatus.ALLOCATED,
                2,
                0,
            )
            allocations = repository.allocations_of_order(session, order_id)
            fos = routing.fulfillment_orders_of_order(session, order_id)
            fo_lines = routing.lines_of_fulfillment_orders(session, [fo.id for fo in fos])
            [plan] = [
                p for p in routing.plans_of_order(session, order_id) if p.reason == "backorder"
            ]
            assert sorted(a.quantity for a in allocations) == ([1, 1] if n == 76 else [2])
            assert sorted(fo.plan_id for fo in fos) == [plan.id] * len(allocations)
            assert sorted(fl.reservation_id for fl in fo_lines) == sorted(
                a.reservation_id for a in allocations
            )
            assert repository.events_of(session, order_id)[-1].type == "allocated"
        published = session.scalars(
            select(OutboxEvent.payload).where(OutboxEvent.topic == "order.allocated")
        ).all()
        assert sorted(p["order_id"] for p in published) == ids[:105]
        assert balances.verify(session).ok


def test_a_backorder_joins_the_order_s_planned_fulfillment_order_at_that_warehouse(
    empty: Database,
) -> None:
    with empty.transaction() as session:
        order_id = orders.order(session, "1", lines=[("XYZ-9", 1), ("ABC-1", 2)])
        [planned] = routing.fulfillment_orders_of_order(session, order_id)
        stock.stock(session, "ABC-1", "DAL", 2)

    reallocate(empty)

    with empty.transaction() as session:
        [extended] = routing.fulfillment_orders_of_order(session, order_id)
        assert (extended.id, extended.version) == (planned.id, planned.version + 1)
        lines = routing.lines_of_fulfillment_orders(session, [extended.id])
        assert sorted((line.sku, line.quantity) for line in lines) == [("ABC-1", 2), ("XYZ-9", 1)]
        found, _ = orders.stored(session, order_id)
        assert found.status == OrderStatus.ALLOCATED
        assert balances.verify(session).ok
