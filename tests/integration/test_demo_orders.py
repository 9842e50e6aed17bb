"""The demo's month of sales orders: through intake, across channels, in every status
intake and the lifecycle can reach, and loaded once."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from oms import demo
from oms.db import Database
from oms.inbox.models import InboxMessage
from oms.kit import clock
from oms.orders.models import HoldType, OrderHold, OrderStatus, SalesOrder


def test_the_demo_orders_come_from_every_channel_over_the_last_month(demo_db: Database) -> None:

    with demo_db.transaction() as session:
        oldest, newest = session.execute(
            select(func.min(SalesOrder.placed_at), func.max(SalesOrder.placed_at))
        ).one()
        channels = set(session.scalars(select(SalesOrder.channel_id)))
    assert clock.now() - oldest <= dt.timedelta(days=30)
    assert newest <= clock.now()
    assert len(channels) == 3


def test_the_demo_orders_reach_every_status_before_release(demo_db: Database) -> None:

    with demo_db.transaction() as session:
        statuses = set(session.scalars(select(SalesOrder.status)))
    assert statuses == {
        OrderStatus.ALLOCATED,
        OrderStatus.PARTIALLY_ALLOCATED,
        OrderStatus.BACKORDERED,
        OrderStatus.CANCELLED,
        OrderStatus.CLOSED,
    }


def test_some_demo_orders_are_held_for_manual_fraud_and_credit_reasons(demo_db: Database) -> None:

    with demo_db.transaction() as session:
        held = set(session.scalars(select(OrderHold.type).where(OrderHold.released_at.is_(None))))
    assert held == {HoldType.MANUAL, HoldType.FRAUD, HoldType.CREDIT}


def test_every_demo_order_was_kept_raw_in_the_inbox_first(demo_db: Database) -> None:

    with demo_db.transaction() as session:
        orders = session.scalar(select(func.count()).select_from(SalesOrder))
        kept = session.scalar(select(func.count()).select_from(InboxMessage))
    assert orders == kept == len(demo.demo_orders())


def test_loading_the_demo_again_sends_no_order_twice(demo_db: Database) -> None:

    with demo_db.transaction() as session:
        summary = demo.load(session)

    with demo_db.transaction() as session:
        kept = session.scalar(select(func.count()).select_from(InboxMessage))
    assert f"sales orders 0 new of {len(demo.demo_orders())}" in summary
    assert kept == len(demo.demo_orders())
