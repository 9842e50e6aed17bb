"""The demo dataset: every kind of master record, through the services, loaded once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from stdnum import ean

from oms import demo
from oms.audit import AuditEntry
from oms.auth.principal import SYSTEM
from oms.catalog import repository
from oms.catalog.models import Channel, Customer, CustomerType, Item, Supplier, Warehouse
from oms.db import Database
from oms.inventory import balances
from oms.outbox.models import OutboxEvent


def count(session: Session, model: type[Any]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_the_demo_holds_items_warehouses_channels_suppliers_and_customers(
    demo_db: Database,
) -> None:

    with demo_db.transaction() as session:
        counts = [count(session, m) for m in (Item, Warehouse, Channel, Supplier, Customer)]
        kinds = sorted(session.scalars(select(Customer.type)))
    assert counts == [20, 3, 3, 3, 4]
    assert kinds == [CustomerType.B2B, CustomerType.B2B, CustomerType.B2C, CustomerType.B2C]


def test_loading_the_demo_twice_changes_nothing(demo_db: Database) -> None:
    with demo_db.transaction() as session:
        before = [count(session, m) for m in (Item, Customer, AuditEntry, OutboxEvent)]

    with demo_db.transaction() as session:
        summary = demo.load(session)

    with demo_db.transaction() as session:
        assert [count(session, m) for m in (Item, Customer, AuditEntry, OutboxEvent)] == before
    assert "items 0 new of 20" in summary


def test_the_demo_is_written_through_the_services_with_audit_rows_and_events(
    demo_db: Database,
) -> None:

    with demo_db.transaction() as session:
        actions = set(session.scalars(select(AuditEntry.action)))
        topics = set(session.scalars(select(OutboxEvent.topic)))
    expected = {"item.created", "warehouse.created", "channel.created", "customer.created"}
    assert expected <= actions
    assert {"supplier.created", *expected} <= topics


def test_every_demo_gtin_has_a_valid_check_digit(demo_db: Database) -> None:

    with demo_db.transaction() as session:
        gtins = list(session.scalars(select(Item.gtin)))
    assert len(set(gtins)) == 20
    assert all(gtin is not None and ean.is_valid(gtin) for gtin in gtins)


def test_the_demo_channels_are_served_by_the_demo_warehouses(demo_db: Database) -> None:

    with demo_db.transaction() as session:
        channels = repository.channels_by_codes(session, ["web", "amazon", "b2b"])
        served = repository.warehouse_codes_by_channel(session, [c.id for c in channels.values()])
        ranked = {code: served[channel.id] for code, channel in channels.items()}
    assert ranked == {"web": ["DAL", "EDI", "RNO"], "amazon": ["RNO", "DAL"], "b2b": ["EDI", "DAL"]}


def test_the_demo_stocks_every_warehouse_and_leaves_some_items_to_reorder(
    demo_db: Database,
) -> None:

    with demo_db.transaction() as session:
        lines = balances.stock_lines(session, actor=SYSTEM)
        low = balances.stock_lines(session, below_reorder_point=True, actor=SYSTEM)
        ok = balances.verify(session).ok

    assert {line.warehouse for line in lines if line.on_hand > 0} == {"DAL", "EDI", "RNO"}
    assert {line.sku for line in low} == demo.LOW_STOCK
    assert ok
