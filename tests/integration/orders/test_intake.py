"""Intake: an order made once per (channel, external id), numbered, linked to its customer,
allocated at once; re-deliveries found by the unique key, concurrent ones included; and the
statements one intake costs."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from decimal import Decimal

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.engine import Connection

from oms.auth.principal import SYSTEM
from oms.catalog import customers
from oms.catalog import repository as catalog
from oms.catalog.schemas import CustomerCreate
from oms.db import Database
from oms.errors import ValidationFailed
from oms.inbox import service as inbox
from oms.inbox.models import InboxStatus
from oms.inventory.models import Reservation
from oms.kit.paging import PageRequest
from oms.orders import intake, repository
from oms.orders.models import OrderStatus, SalesOrder
from tests.integration.catalog import factories as catalog_data
from tests.integration.inventory import factories as stock
from tests.integration.orders import factories
from tests.integration.orders.deliveries import deliver, payload


@pytest.fixture
def master(db: Database) -> Database:
    with db.transaction() as session:
        factories.master_data(session)
    return db


def reservations(db: Database) -> list[tuple[int, int]]:
    with db.transaction() as session:
        rows = session.execute(
            select(Reservation.warehouse_id, Reservation.quantity).order_by(Reservation.id)
        )
        return [(int(w), int(q)) for w, q in rows]


def order_count(db: Database) -> int:
    with db.transaction() as session:
        return int(session.scalar(select(func.count(SalesOrder.id))) or 0)


def test_a_new_order_is_numbered_accepted_and_allocated(master: Database) -> None:
    result = deliver(master, payload(lines=[("ABC-1", 2), ("XYZ-9", 1)]))

    assert result.outcome == intake.Outcome.CREATED
    with master.transaction() as session:
        order, lines = factories.stored(session, result.order.id)
        assert order.number.startswith("SO-")
        assert order.accepted
        assert order.status == OrderStatus.ALLOCATED
        assert [(line.sku, line.allocated, line.backordered) for line in lines] == [
            ("ABC-1", 2, 0),
            ("XYZ-9", 1, 0),
        ]
        assert factories.ledger_holds(session)


def test_the_order_keeps_the_totals_its_lines_add_up_to(master: Database) -> None:
    body = payload(lines=[("ABC-1", 3)], shipping_charge="5.00")
    body["lines"][0] |= {"discount": "2.00", "tax": "4.50"}

    result = deliver(master, body)

    with master.transaction() as session:
        order, _ = factories.stored(session, result.order.id)
        assert (order.subtotal, order.discount_total, order.tax_total, order.total) == (
            Decimal("59.97"),
            Decimal("2.00"),
            Decimal("4.50"),
            Decimal("67.47"),
        )


def test_an_order_is_linked_to_the_customer_with_its_email(master: Database) -> None:
    with master.transaction() as session:
        known = customers.create_customer(
            session,
            CustomerCreate.model_validate(catalog_data.b2c_customer(emails=["Ada@Example.com"])),
            actor=SYSTEM,
        )

    result = deliver(master, payload())

    assert result.order.customer_id == known.id


def test_a_buyer_nobody_knows_becomes_a_new_b2c_customer(master: Database) -> None:
    result = deliver(master, payload())

    with master.transaction() as session:
        assert result.order.customer_id is not None
        made = customers.get_customer(session, result.order.customer_id)
        assert (made.type, made.name, made.email) == ("b2c", "Ada Lovelace", "ada@example.com")


def test_the_second_order_of_a_new_buyer_finds_the_customer_the_first_made(
    master: Database,
) -> None:
    first = deliver(master, payload("1001"))

    second = deliver(master, payload("1002"))

    assert second.order.customer_id == first.order.customer_id


def test_a_customer_named_by_account_number_is_linked(master: Database) -> None:
    with master.transaction() as session:
        account = customers.create_customer(
            session, CustomerCreate.model_validate(catalog_data.b2b_customer("C-7")), actor=SYSTEM
        )

    result = deliver(master, payload(customer={"account_number": "C-7"}))

    assert result.order.customer_id == account.id
    assert result.order.customer_name == "Initech Inc"


def test_a_redelivery_of_the_same_content_returns_the_same_order_and_reserves_nothing_more(
    master: Database,
) -> None:
    first = deliver(master, payload())
    reserved = reservations(master)

    again = deliver(master, json.dumps(payload(), indent=2, sort_keys=True))

    assert again.outcome == intake.Outcome.DUPLICATE
    assert again.order.id == first.order.id
    assert reservations(master) == reserved
    assert order_count(master) == 1


def test_a_line_no_warehouse_holds_whole_is_backordered_by_the_default_rule_set(
    master: Database,
) -> None:
    result = deliver(master, payload(lines=[("XYZ-9", 5)]))

    with master.transaction() as session:
        order, [line] = factories.stored(session, result.order.id)
        assert (line.allocated, line.backordered) == (0, 5)
        assert order.status == OrderStatus.BACKORDERED
    assert reservations(master) == []


def test_a_line_is_split_across_warehouses_in_rank_order_when_the_channel_splits_lines(
    master: Database,
) -> None:
    with master.transaction() as session:
        factories.rule_set(session, "web", split="split_within_line")

    deliver(master, payload(lines=[("ABC-1", 12)]))

    with master.transaction() as session:
        ids = catalog.warehouses_by_codes(session, ["DAL", "NJ"])
    assert reservations(master) == [(ids["DAL"].id, 10), (ids["NJ"].id, 2)]


def test_the_creation_is_on_the_timeline_in_the_audit_trail_and_in_the_outbox(
    master: Database,
) -> None:
    result = deliver(master, payload())

    number = result.order.number
    with master.transaction() as session:
        assert [e.type for e in repository.events_of(session, result.order.id)] == ["created"]
        assert catalog_data.audit_actions(session, "sales_order", number) == ["order.created"]
        assert catalog_data.event_topics(session, f"order:{number}") == ["order.created"]


def test_the_inbox_message_keeps_the_outcome(master: Database) -> None:
    result = deliver(master, payload())

    with master.transaction() as session:
        [message] = inbox.search(session, inbox.InboxFilter(), PageRequest()).items
        assert message.status == InboxStatus.ACCEPTED
        assert message.document_id == result.order.number
        assert message.attempts == 1
        assert (message.channel, message.external_id) == ("web", "1001")
        assert result.order.inbox_id == message.id


def test_a_redelivery_with_another_ship_to_is_applied_as_a_change(master: Database) -> None:
    first = deliver(master, payload())
    moved = payload(ship_to={"name": "Ada Lovelace", **catalog_data.address(line1="2 Elm St")})

    again = deliver(master, moved)

    assert again.outcome == intake.Outcome.CHANGED
    assert again.order.id == first.order.id
    with master.transaction() as session:
        order, _ = factories.stored(session, first.order.id)
        assert order.ship_to["line1"] == "2 Elm St"


def test_a_change_to_units_already_released_is_refused_with_the_reason(
    master: Database,
) -> None:
    first = deliver(master, payload(lines=[("ABC-1", 2)]))
    with master.transaction() as session:
        factories.release_units(session, first.order.id, 1, 2)

    again = deliver(master, payload(lines=[("ABC-1", 1)]))

    assert again.outcome == intake.Outcome.REFUSED
    assert again.reason is not None
    assert first.order.number in again.reason
    with master.transaction() as session:
        _, [line] = factories.stored(session, first.order.id)
        assert (line.quantity, line.released) == (2, 2)


def test_a_channel_outside_the_senders_scope_is_as_unknown(master: Database) -> None:
    with pytest.raises(ValidationFailed) as refused:
        deliver(master, payload(), actor=factories.scoped("b2b"))

    assert [(p.path, p.code) for p in refused.value.problems] == [
        ("channel", "order.unknown_channel")
    ]


def test_an_order_sent_cancelled_is_kept_cancelled_and_reserves_nothing(
    master: Database,
) -> None:
    result = deliver(master, payload(cancelled=True, cancel_reason="fraud"))

    assert result.order.status == OrderStatus.CANCELLED
    assert reservations(master) == []


def test_one_bad_order_among_three_leaves_the_other_two_made(master: Database) -> None:
    bodies = [
        json.dumps(payload("1")),
        json.dumps(payload("2", lines=[("NOPE-1", 1)])),
        json.dumps(payload("3")),
    ]
    with master.transaction() as session:
        ids = intake.store(session, bodies, source="test", actor=SYSTEM)

    with master.transaction() as session:
        outcomes = intake.receive_each(session, list(zip(ids, bodies, strict=True)), actor=SYSTEM)

    assert [type(o).__name__ for o in outcomes] == [
        "IntakeResult",
        "ValidationFailed",
        "IntakeResult",
    ]
    assert order_count(master) == 2
    with master.transaction() as session:
        failed = inbox.get(session, ids[1])
        assert failed.status == InboxStatus.FAILED
        assert failed.errors == [
            {
                "path": "lines[0].sku",
                "message": "no item has the SKU 'NOPE-1'",
                "code": "order.unknown_sku",
            }
        ]


@pytest.mark.postgres_only
def test_the_same_order_delivered_five_times_at_once_makes_one_order(master: Database) -> None:
    text = json.dumps(payload())
    with master.transaction() as session:
        ids = intake.store(session, [text] * 5, source="test", actor=SYSTEM)
    start = threading.Barrier(5)
    outcomes: list[intake.Outcome] = []
    failures: list[BaseException] = []

    def deliver_once(inbox_id: int) -> None:
        try:
            with master.transaction() as session:
                start.wait(timeout=10)
                outcomes.append(intake.receive(session, inbox_id, text, actor=SYSTEM).outcome)
        except BaseException as exc:  # the assertion below names it
            failures.append(exc)

    threads = [threading.Thread(target=deliver_once, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert failures == []
    assert sorted(outcomes) == sorted([intake.Outcome.CREATED] + [intake.Outcome.DUPLICATE] * 4)
    assert order_count(master) == 1
    assert [q for _, q in reservations(master)] == [2]


@pytest.mark.postgres_only
def test_five_orders_of_one_new_buyer_taken_in_at_once_make_one_customer(
    master: Database,
) -> None:
    texts = [json.dumps(payload(f"new-buyer-{n}", lines=[("ABC-1", 1)])) for n in range(5)]
    with master.transaction() as session:
        ids = intake.store(session, texts, source="test", actor=SYSTEM)
    start = threading.Barrier(5)
    buyers: list[int | None] = []
    failures: list[BaseException] = []

    def deliver_once(inbox_id: int, text: str) -> None:
        try:
            start.wait(timeout=10)
            result = master.run(
                lambda session: intake.receive(session, inbox_id, text, actor=SYSTEM, lane=False)
            )
            buyers.append(result.order.customer_id)
        except BaseException as exc:  # the assertion below names it
            failures.append(exc)

    threads = [
        threading.Thread(target=deliver_once, args=pair) for pair in zip(ids, texts, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert failures == []
    assert order_count(master) == 5
    assert len(set(buyers)) == 1
    with master.transaction() as session:
        found = catalog.search_customers(
            session, catalog.CustomerFilter(email="ada@example.com"), PageRequest(limit=10)
        )
        assert [c.id for c in found.items] == buyers[:1]


@pytest.fixture
def statements(master: Database) -> Iterator[list[str]]:
    """Every statement the database is sent while the test body runs."""
    sent: list[str] = []

    def count(conn: Connection, cursor: object, statement: str, *args: object) -> None:
        sent.append(statement)

    event.listen(master.engine, "before_cursor_execute", count)
    yield sent
    event.remove(master.engine, "before_cursor_execute", count)


STATEMENT_BUDGET = {"postgresql": 5, "sqlite": 21}
"""Statements for a 3-line order, three items each stocked at one warehouse, once the
channel, warehouses, rules and items are kept in memory (an earlier order read them):
store raw with its number drawn (1); the master-data counter, the stock, the buyer,
whether the order exists, ids for the order and its lines (1); ids for its
reservations, plan and fulfillment order, once planned (1); the order and every other
row — lines, reservations, ledger, plan, fulfillment order and lines, allocations,
timeline, audit, outbox, inbox outcome — (1); its units taken on the balances, last,
and its items marked for availability (1). On PostgreSQL each is a round trip; SQLite,
in the process, takes the store in 2, the read in 4 and the take in 2, and writes the
12 kinds of row one executemany each."""


def test_intake_of_a_three_line_order_costs_a_fixed_number_of_statements(
    master: Database, statements: list[str]
) -> None:
    with master.transaction() as session:
        stock.item(session, "LMN-3")
        stock.stock(session, "LMN-3", "DAL", 4)
        customers.create_customer(
            session,
            CustomerCreate.model_validate(catalog_data.b2c_customer(emails=["ada@example.com"])),
            actor=SYSTEM,
        )
    lines = [("ABC-1", 2), ("XYZ-9", 1), ("LMN-3", 1)]
    deliver(master, payload(external_id="warm-up", lines=lines))
    statements.clear()

    result = deliver(master, payload(lines=lines))

    sent = [s for s in statements if not s.startswith("BEGIN")]
    assert result.order.status == OrderStatus.ALLOCATED
    assert len(sent) == STATEMENT_BUDGET[master.dialect], "\n".join(sent)
    if master.dialect == "postgresql":
        assert len(sent) <= 8, "the issue's budget of round trips"


def test_times_without_a_zone_are_taken_as_utc(master: Database) -> None:
    body = payload(placed_at="2026-11-01T09:30:00", ship_by="2026-11-03T17:00:00")

    result = deliver(master, body)

    assert result.order.placed_at == dt.datetime(2026, 11, 1, 9, 30, tzinfo=dt.UTC)
    assert result.order.ship_by == dt.datetime(2026, 11, 3, 17, 0, tzinfo=dt.UTC)


def test_payloads_stored_together_keep_their_order_and_get_consecutive_numbers(
    master: Database,
) -> None:
    bodies = [json.dumps(payload(f"N-{n}")) for n in range(5)]
    with master.transaction() as session:
        [(_, before)] = intake.store_numbered(session, ["{}"], source="test", actor=SYSTEM)
        kept = intake.store_numbered(session, bodies, source="test", actor=SYSTEM)

    first = int(before.removeprefix("SO-")) + 1
    assert [number for _, number in kept] == [f"SO-{first + n:06d}" for n in range(5)]
    with master.transaction() as session:
        stored = [inbox.get(session, inbox_id, channels=None) for inbox_id, _ in kept]
    assert [m.external_id for m in stored] == [f"N-{n}" for n in range(5)]
    assert [m.body for m in stored] == bodies
