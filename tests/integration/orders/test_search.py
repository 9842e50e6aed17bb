"""Finding orders: each filter, text search, sorting, cursor pages, channel scope, and a
page that costs the same few queries however many orders it shows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from oms.auth.permissions import Role
from oms.auth.principal import SYSTEM, Principal
from oms.catalog import customers
from oms.catalog import repository as catalog
from oms.catalog.schemas import CustomerCreate
from oms.db import Database
from oms.errors import NotFound, ValidationFailed
from oms.kit.paging import PageRequest
from oms.orders import repository, search
from oms.orders.models import HoldType, OrderHold, OrderStatus
from oms.orders.search import OrderQuery
from oms.orders.status import Buckets, derive
from tests.integration.catalog import factories as catalog_data
from tests.integration.inventory import factories as stock

NOON = dt.datetime(2026, 11, 2, 12, 0, tzinfo=dt.UTC)


def stored_order(
    session: Session,
    external_id: str,
    *,
    channel: str = "web",
    lines: list[dict[str, Any]] | None = None,
    holds: Sequence[tuple[HoldType, bool]] = (),
    accepted: bool = True,
    **values: Any,
) -> int:
    """An order written straight through the repository (intake's own tests cover intake);
    its status derived from its lines. `holds` are (type, still active)."""
    found = catalog.channel_by_code(session, channel)
    assert found is not None
    rows = [
        {"line_number": n, "sku": "WID-1", "quantity": 1, "unit_price": Decimal("10"), **line}
        for n, line in enumerate(lines or [{}], start=1)
    ]
    buckets = [
        Buckets(
            ordered=r["quantity"],
            allocated=r.get("allocated", 0),
            backordered=r.get("backordered", 0),
            cancelled=r.get("cancelled", 0),
        )
        for r in rows
    ]
    total = sum((r["unit_price"] * r["quantity"] for r in rows), Decimal(0))
    order = {
        "number": f"SO-{external_id.upper()}",
        "channel_id": found.id,
        "external_id": external_id,
        "customer_name": "Ada Lovelace",
        "customer_email": "ada@example.com",
        "ship_to": catalog_data.address(),
        "currency": "USD",
        "subtotal": total,
        "total": total,
        "status": derive(buckets, accepted=accepted, closed=False),
        "accepted": accepted,
        "content_hash": external_id,
        "placed_at": NOON,
        **values,
    }
    order_id = repository.insert_order_once(session, order)
    assert order_id is not None
    repository.insert_lines(session, [{"order_id": order_id, **r} for r in rows])
    repository.add_holds(
        session,
        [
            OrderHold(
                order_id=order_id,
                type=hold_type,
                reason="test",
                placed_by="test",
                released_at=None if active else NOON,
                released_by=None if active else "test",
            )
            for hold_type, active in holds
        ],
    )
    return order_id


@pytest.fixture
def session(db: Database) -> Iterator[Session]:
    with db.transaction() as tx:
        stock.channel(tx, "web")
        stock.channel(tx, "amazon", type="marketplace")
        yield tx


def found(
    session: Session, actor: Principal = SYSTEM, page: PageRequest | None = None, **query: Any
) -> list[str]:
    """External ids of the first page of orders matching `query`."""
    result = search.search_orders(session, OrderQuery(**query), page or PageRequest(), actor=actor)
    return [o.external_id for o in result.items]


def test_orders_are_found_by_any_of_several_statuses(session: Session) -> None:
    stored_order(session, "a", lines=[{"allocated": 1}])
    stored_order(session, "b", lines=[{"backordered": 1}])
    stored_order(session, "c", lines=[{"cancelled": 1}])

    statuses = [OrderStatus.ALLOCATED, OrderStatus.CANCELLED]

    assert sorted(found(session, statuses=statuses)) == ["a", "c"]


def test_orders_are_found_by_channel(session: Session) -> None:
    stored_order(session, "a", channel="web")
    stored_order(session, "b", channel="amazon")

    assert found(session, channel="amazon") == ["b"]


def test_orders_are_found_by_customer(session: Session) -> None:
    customer = customers.create_customer(
        session, CustomerCreate.model_validate(catalog_data.b2c_customer()), actor=SYSTEM
    )
    stored_order(session, "a", customer_id=customer.id)
    stored_order(session, "b")

    assert found(session, customer_id=customer.id) == ["a"]


def test_orders_are_found_by_a_sku_on_any_of_their_lines(session: Session) -> None:
    stored_order(session, "a", lines=[{"sku": "WID-1"}, {"sku": "GAD-2"}])
    stored_order(session, "b", lines=[{"sku": "WID-1"}])

    assert found(session, sku="GAD-2") == ["a"]


def test_placed_dates_include_both_days_whole(session: Session) -> None:
    stored_order(session, "before", placed_at=dt.datetime(2026, 10, 31, 23, 59, tzinfo=dt.UTC))
    stored_order(session, "first", placed_at=dt.datetime(2026, 11, 1, 0, 0, tzinfo=dt.UTC))
    stored_order(session, "last", placed_at=dt.datetime(2026, 11, 2, 23, 59, tzinfo=dt.UTC))
    stored_order(session, "after", placed_at=dt.datetime(2026, 11, 3, 0, 0, tzinfo=dt.UTC))

    days = {"placed_from": dt.date(2026, 11, 1), "placed_to": dt.date(2026, 11, 2)}

    assert sorted(found(session, **days)) == ["first", "last"]


def test_a_date_range_that_ends_before_it_starts_is_refused_at_placed_to(
    session: Session,
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        found(session, placed_from=dt.date(2026, 11, 2), placed_to=dt.date(2026, 11, 1))

    assert [p.path for p in refused.value.problems] == ["placed_to"]


def test_a_hold_type_finds_only_orders_where_that_hold_is_still_active(
    session: Session,
) -> None:
    stored_order(session, "held", holds=[(HoldType.FRAUD, True)])
    stored_order(session, "released", holds=[(HoldType.FRAUD, False)])
    stored_order(session, "other", holds=[(HoldType.MANUAL, True)])

    assert found(session, hold_type=HoldType.FRAUD) == ["held"]


@pytest.mark.parametrize("text", ["so-ext-7", "EXT-7", "grace", "HOPPER@NAVY"])
def test_text_finds_orders_by_number_external_id_name_or_email_ignoring_case(
    session: Session, text: str
) -> None:
    stored_order(session, "ext-7", customer_name="Grace Hopper", customer_email="hopper@navy.mil")
    stored_order(session, "ext-8")

    assert found(session, q=text) == ["ext-7"]


def test_text_with_a_wildcard_character_matches_it_literally(session: Session) -> None:
    stored_order(session, "50%off")
    stored_order(session, "500")

    assert found(session, q="50%") == ["50%off"]


def test_the_newest_order_comes_first_by_default(session: Session) -> None:
    stored_order(session, "old", placed_at=NOON - dt.timedelta(days=2))
    stored_order(session, "new", placed_at=NOON)
    stored_order(session, "mid", placed_at=NOON - dt.timedelta(days=1))

    assert found(session) == ["new", "mid", "old"]


def test_orders_sort_by_total_number_or_priority(session: Session) -> None:
    stored_order(session, "b", lines=[{"unit_price": Decimal("30")}], priority=1)
    stored_order(session, "a", lines=[{"unit_price": Decimal("5")}], priority=5)
    stored_order(session, "c", lines=[{"unit_price": Decimal("12.5")}], priority=3)

    by_total = found(session, page=PageRequest(sort="total"))
    by_number = found(session, page=PageRequest(sort="-number"))
    by_priority = found(session, page=PageRequest(sort="-priority"))

    assert (by_total, by_number, by_priority) == (["a", "c", "b"], ["c", "b", "a"], ["a", "c", "b"])


@pytest.mark.parametrize("sort", ["-placed_at", "total", "-total", "number", "priority"])
def test_cursor_pages_show_every_order_once(session: Session, sort: str) -> None:
    for n in range(7):
        stored_order(
            session,
            f"o{n}",
            lines=[{"unit_price": Decimal(n % 3)}],
            priority=n % 2,
            placed_at=NOON - dt.timedelta(hours=n % 4),
        )

    seen: list[str] = []
    cursor = None
    while True:
        page = search.search_orders(
            session, OrderQuery(), PageRequest(limit=3, cursor=cursor, sort=sort), actor=SYSTEM
        )
        seen += [o.external_id for o in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break

    assert sorted(seen) == [f"o{n}" for n in range(7)]
    assert len(seen) == 7


def test_a_summary_shows_channel_active_hold_types_line_count_and_total(
    session: Session,
) -> None:
    stored_order(
        session,
        "a",
        channel="amazon",
        lines=[{"unit_price": Decimal("19.99"), "quantity": 2}, {"sku": "GAD-2"}],
        holds=[(HoldType.MANUAL, True), (HoldType.FRAUD, True), (HoldType.CREDIT, False)],
    )

    [summary] = search.search_orders(session, OrderQuery(), PageRequest(), actor=SYSTEM).items

    assert summary.channel == "amazon"
    assert summary.holds == [HoldType.FRAUD, HoldType.MANUAL]
    assert summary.line_count == 2
    assert str(summary.total) == "49.98"
    assert summary.number == "SO-A"


def test_a_principal_scoped_to_a_channel_finds_only_its_orders(session: Session) -> None:
    stored_order(session, "a", channel="web")
    stored_order(session, "b", channel="amazon")
    scoped = Principal(
        kind="api_key",
        id=9,
        name="web",
        roles=frozenset({Role.VIEWER}),
        channels=frozenset({"web"}),
    )

    assert found(session, actor=scoped) == ["a"]


def test_a_channel_outside_the_principals_scope_does_not_exist(session: Session) -> None:
    scoped = Principal(
        kind="api_key",
        id=9,
        name="web",
        roles=frozenset({Role.VIEWER}),
        channels=frozenset({"web"}),
    )

    with pytest.raises(NotFound) as missing:
        found(session, actor=scoped, channel="amazon")

    assert missing.value.code == "catalog.channel_not_found"


def count_queries(session: Session, run: Any) -> int:
    statements: list[str] = []

    def seen(*args: Any) -> None:
        statements.append(args[2])

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", seen)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    return len(statements)


def test_a_page_costs_the_same_queries_for_two_orders_as_for_twenty(session: Session) -> None:
    for n in range(20):
        stored_order(
            session, f"o{n}", lines=[{}, {"sku": "GAD-2"}], holds=[(HoldType.MANUAL, True)]
        )
    session.flush()

    def page_of(limit: int) -> Any:
        return lambda: search.search_orders(
            session, OrderQuery(), PageRequest(limit=limit), actor=SYSTEM
        )

    small, large = count_queries(session, page_of(2)), count_queries(session, page_of(20))

    assert small == large
    assert large <= 4
