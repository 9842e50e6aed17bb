"""The express lane writes what the general path writes: the same orders, taken in by
each into a database of its own, leave every table the same (timestamps, random event
ids and the rows' own ids aside)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import select, text

from oms.auth.principal import SYSTEM
from oms.catalog import customers, items
from oms.catalog.models import Item
from oms.catalog.schemas import CustomerCreate, ItemUpdate
from oms.db import Database, StaleRead
from oms.inbox.models import InboxMessage
from oms.inventory import repository as stock_repository
from oms.orders import express, intake, master_data, repository, views
from oms.orders.models import SalesOrder
from tests.integration.catalog import factories as catalog_data
from tests.integration.inventory import factories as stock
from tests.integration.orders import factories
from tests.integration.orders.deliveries import deliver, payload

COMPARED = (
    "sales_orders",
    "sales_order_lines",
    "sales_order_allocations",
    "sales_order_holds",
    "sales_order_events",
    "reservations",
    "inventory_balances",
    "inventory_movements",
    "availability_marks",
    "routing_plans",
    "fulfillment_orders",
    "fulfillment_order_lines",
    "audit_log",
    "outbox_events",
    "inbox_messages",
    "customers",
)
SET_ASIDE = {
    "id",
    "at",
    "created_at",
    "updated_at",
    "marked_at",
    "received_at",
    "processed_at",
    "placed_at",
    "event_id",
    "request_id",
}


def _prepared(db: Database) -> None:
    with db.transaction() as session:
        factories.master_data(
            session,
            channels=("web", "b2b"),
            on_hand={("ABC-1", "DAL"): 6, ("ABC-1", "NJ"): 4, ("XYZ-9", "DAL"): 3},
        )
        factories.rule_set(session, "b2b", split="split_within_line")
        stock.item(session, "LMN-3", hazmat=True)
        stock.stock(session, "LMN-3", "NJ", 5)
        customers.create_customer(
            session,
            CustomerCreate.model_validate(catalog_data.b2c_customer(emails=["ada@example.com"])),
            actor=SYSTEM,
        )


def _orders() -> Iterator[dict[str, Any]]:
    """New orders that allocate, split, backorder in part and in whole, on two channels
    with their own rule sets; then a re-delivery and a change request."""
    lines_of = [
        [("ABC-1", 2), ("XYZ-9", 1)],
        [("ABC-1", 5)],
        [("ABC-1", 1), ("ABC-1", 2), ("LMN-3", 1)],
        [("XYZ-9", 4)],
        [("LMN-3", 2), ("ABC-1", 3)],
        [("ABC-1", 9)],
        [("XYZ-9", 1), ("LMN-3", 7)],
    ]
    for n, lines in enumerate(lines_of):
        yield payload(
            f"x-{n}",
            channel=("web", "b2b")[n % 2],
            lines=lines,
            placed_at="2026-11-20T10:00:00Z",
            shipping_charge="4.50",
            priority=n % 3,
        )
    yield payload(
        "x-0", lines=lines_of[0], placed_at="2026-11-20T10:00:00Z", shipping_charge="4.50"
    )
    changed = payload("x-2", channel="web", lines=lines_of[2], placed_at="2026-11-20T10:00:00Z")
    changed["ship_to"]["line1"] = "2 Elm St"
    yield changed


def _tables(db: Database) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    with db.transaction() as session:
        for table in COMPARED:
            rows = session.execute(text(f"SELECT * FROM {table} ORDER BY 1")).mappings()
            found[table] = [
                {k: _plain(v) for k, v in row.items() if k not in SET_ASIDE} for row in rows
            ]
    return found


def _plain(value: Any) -> Any:
    """JSON as SQLite keeps it (text) read as PostgreSQL gives it (a document), times and
    event ids inside it set aside too."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            value = json.loads(value)
        except ValueError:
            return value
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if k not in SET_ASIDE}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def test_the_express_lane_writes_every_row_the_general_path_writes(
    new_database: Callable[[], Database], monkeypatch: pytest.MonkeyPatch
) -> None:
    db, other_database = new_database(), new_database()
    _prepared(db)
    _prepared(other_database)
    with _counting_the_lane() as taken:
        express_outcomes = [deliver(db, body).outcome for body in _orders()]
    assert taken == [1] * 7, "every new order took the lane"
    monkeypatch.setattr(express, "eligible", lambda *_: False)
    general_outcomes = [deliver(other_database, body).outcome for body in _orders()]

    assert express_outcomes == general_outcomes
    assert express_outcomes[-2:] == [intake.Outcome.DUPLICATE, intake.Outcome.CHANGED]
    written, made = _tables(db), _tables(other_database)
    for table in COMPARED:
        assert written[table] == made[table], table


@contextmanager
def _counting_the_lane() -> Iterator[list[int]]:
    """A list that gets, for each write of the express lane, how many orders it wrote."""
    taken: list[int] = []
    sending = express.send

    def noted(session: Any, orders: Any) -> None:
        taken.append(len(orders))
        sending(session, orders)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(express, "send", noted)
        yield taken


def test_the_express_lane_takes_the_common_order_after_a_change_of_master_data(
    db: Database,
) -> None:
    _prepared(db)
    with _counting_the_lane() as taken:
        result = deliver(db, payload("common", lines=[("ABC-1", 2)]))

    assert taken == [1]
    with db.transaction() as session:
        stored = session.scalar(select(SalesOrder).where(SalesOrder.id == result.order.id))
        assert stored is not None
        assert stored.status == "allocated"


def test_a_change_of_master_data_is_seen_by_the_next_order(db: Database) -> None:
    _prepared(db)
    deliver(db, payload("before", lines=[("ABC-1", 1)]))
    with db.transaction() as session:
        stock.item(session, "NEW-1")
        stock.stock(session, "NEW-1", "DAL", 2)

    result = deliver(db, payload("after", lines=[("NEW-1", 2)]))

    assert result.outcome == intake.Outcome.CREATED
    assert [line.allocated for line in result.lines] == [2]


def test_the_order_the_lane_shows_is_the_order_as_stored(db: Database) -> None:
    _prepared(db)
    with db.transaction() as session:
        factories.rule_set(session, "web", split="split_within_line")
    deliver(db, payload("warm-up", lines=[("XYZ-9", 1)]))
    body = payload("shown", lines=[("ABC-1", 8), ("XYZ-9", 1), ("LMN-3", 1)])

    with db.transaction() as session:
        [inbox_id] = intake.store(session, [json.dumps(body)], source="test", actor=SYSTEM)
        result = intake.receive(session, inbox_id, json.dumps(body), actor=SYSTEM)
        assert result.pending is not None
        shown = result.pending.shown(result.order, result.lines)
    with db.transaction() as session:
        stored = views.order_out(session, result.order)

    assert [(f.warehouse, len(f.lines)) for f in shown.fulfillment_orders] == [
        ("DAL", 2),
        ("NJ", 1),
    ]
    assert shown == stored


def _deliver_together(db: Database, bodies: list[dict[str, Any]]) -> list[str]:
    """Store the payloads, then receive them in one transaction, as the bulk endpoint does
    with each chunk; what became of each."""
    texts = [json.dumps(body) for body in bodies]
    with db.transaction() as session:
        ids = intake.store(session, texts, source="test", actor=SYSTEM)
        numbers = intake.draw_numbers(session, len(ids))
    with db.transaction() as session:
        found = intake.receive_each(
            session, list(zip(ids, texts, strict=True)), actor=SYSTEM, numbers=numbers
        )
    return [f.outcome.value if isinstance(f, intake.IntakeResult) else "failed" for f in found]


def _chunk() -> list[dict[str, Any]]:
    """New orders (the lane's), one with an unknown SKU (refused), one twice, a
    re-delivery of an order taken before with other content (a change)."""
    bodies = list(_orders())[:7]
    bodies.insert(2, payload("bad", lines=[("NOPE-1", 1)], placed_at="2026-11-20T10:00:00Z"))
    bodies.append(bodies[0])
    changed = payload("early", lines=[("ABC-1", 1)], placed_at="2026-11-20T10:00:00Z")
    changed["ship_to"]["line1"] = "2 Elm St"
    bodies.append(changed)
    return bodies


def test_orders_taken_together_are_written_as_the_general_path_writes_them(
    new_database: Callable[[], Database], monkeypatch: pytest.MonkeyPatch
) -> None:
    db, other_database = new_database(), new_database()
    for each in (db, other_database):
        _prepared(each)
        deliver(each, payload("early", lines=[("ABC-1", 1)], placed_at="2026-11-20T10:00:00Z"))
    with _counting_the_lane() as taken:
        together = _deliver_together(db, _chunk())
    monkeypatch.setattr(express, "eligible", lambda *_: False)
    alone = _deliver_together(other_database, _chunk())

    assert taken == [2, 5], "a write for each run of the lane's orders, in the order given"
    assert together == alone
    assert together.count("created") == 7
    assert together[2] == "failed"
    assert together[-2:] == ["duplicate", "changed"]
    made, written = _tables(other_database), _tables(db)
    for table in COMPARED:
        assert written[table] == made[table], table


@pytest.mark.postgres_only
def test_json_columns_hold_the_same_kind_of_null_both_ways(
    new_database: Callable[[], Database], monkeypatch: pytest.MonkeyPatch
) -> None:
    def nulls(db: Database) -> dict[str, tuple[int, int]]:
        found = {}
        with db.transaction() as session:
            for table, column in (
                ("sales_orders", "bill_to"),
                ("audit_log", "before"),
                ("inbox_messages", "errors"),
            ):
                sql_null, json_null = session.execute(
                    text(
                        f"SELECT count(*) FILTER (WHERE {column} IS NULL), "
                        f"count(*) FILTER (WHERE jsonb_typeof({column}) = 'null') FROM {table}"
                    )
                ).one()
                found[f"{table}.{column}"] = (int(sql_null), int(json_null))
        return found

    db, other = new_database(), new_database()
    for each in (db, other):
        _prepared(each)
    for body in list(_orders())[:7]:
        deliver(db, body)
    monkeypatch.setattr(express, "eligible", lambda *_: False)
    for body in list(_orders())[:7]:
        deliver(other, body)

    assert nulls(db) == nulls(other)


def test_an_order_the_lane_hands_on_keeps_the_number_it_drew(
    new_database: Callable[[], Database], monkeypatch: pytest.MonkeyPatch
) -> None:
    def numbers(db: Database) -> list[str]:
        with db.transaction() as session:
            factories.master_data(session)
            factories.rule_set(session, "web", fallback="hold_for_review")
        made = []
        for n, quantity in enumerate([1, 20, 1]):  # 20: more than there is, held for review
            with db.transaction() as session:
                given = factories.order_in(f"r-{n}", lines=[("ABC-1", quantity)])
                made.append(intake.accept(session, given, inbox_id=None, actor=SYSTEM).order.number)
        return made

    taken = numbers(new_database())
    monkeypatch.setattr(express, "eligible", lambda *_: False)

    assert taken == numbers(new_database()) == ["SO-000001", "SO-000002", "SO-000003"]


@pytest.mark.postgres_only
def test_master_data_is_read_afresh_though_the_session_holds_it_from_before(
    db: Database,
) -> None:
    _prepared(db)
    deliver(db, payload("warm-up", lines=[("XYZ-9", 1)]))
    with db.transaction() as session:
        held = session.scalar(select(Item).where(Item.sku == "ABC-1"))
        assert held is not None
        assert held.active
        with db.transaction() as other:
            items.update_item(other, "ABC-1", ItemUpdate(active=False), actor=SYSTEM)
        kept = master_data.snapshot(session, "web", ["ABC-1"])

        assert kept.items["ABC-1"] is not None
        assert not kept.items["ABC-1"].active


def _allocated_in_a_chunk(db: Database) -> list[tuple[str, str, str]]:
    _prepared(db)
    first = payload("first", lines=[("XYZ-9", 3)])
    first["customer"] = {"name": "Grace Hopper", "email": "grace@example.com"}  # new: general
    second = payload("second", lines=[("XYZ-9", 3)])  # a known buyer: the lane's
    texts = [json.dumps(first), json.dumps(second)]
    with db.transaction() as session:
        ids = intake.store(session, texts, source="test", actor=SYSTEM)
        numbers = intake.draw_numbers(session, 2)
    with db.transaction() as session:
        found = intake.receive_each(
            session, list(zip(ids, texts, strict=True)), actor=SYSTEM, numbers=numbers
        )
    return [
        (r.order.external_id, r.order.number, str(r.order.status))
        for r in found
        if isinstance(r, intake.IntakeResult)
    ]


def test_a_chunk_allocates_in_the_order_given_whichever_way_each_order_goes(
    new_database: Callable[[], Database], monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = _allocated_in_a_chunk(new_database())
    monkeypatch.setattr(express, "eligible", lambda *_: False)

    assert taken == _allocated_in_a_chunk(new_database())
    assert taken[0] == ("first", "SO-000001", "allocated")


def test_the_lane_finds_an_existing_order_by_its_channel_and_external_id_together(
    db: Database,
) -> None:
    _prepared(db)
    deliver(db, payload("k-1", channel="web", lines=[("XYZ-9", 1)]))
    deliver(db, payload("k-1", channel="b2b", lines=[("XYZ-9", 1)]))
    deliver(db, payload("k-2", channel="b2b", lines=[("XYZ-9", 1)]))
    with db.transaction() as session:
        ids = dict(session.execute(text("SELECT code, id FROM channels")).all())
        web, b2b = ids["web"], ids["b2b"]
        # (b2b, k-1) exists and pairs a channel asked about with an external id asked
        # about, but was not asked about itself.
        asked = [(web, "k-1"), (b2b, "k-2"), (web, "k-2")]

        found = repository.read_for_intake(session, [], [], asked, orders=0, lines=0)

    assert found.existing == {(web, "k-1"), (b2b, "k-2")}


@pytest.fixture
def taken_before_the_take(db: Database, monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Once called: the next time the lane takes units, every unit in stock is taken
    just before, by a concurrent order that commits (PostgreSQL: another connection) or,
    on SQLite, where nothing else writes while a transaction holds the write lock, in
    the lane's own transaction."""
    take = stock_repository.take_and_mark

    def taken_first(session: Any, wanted: Any, *, now: Any) -> Any:
        monkeypatch.setattr(stock_repository, "take_and_mark", take)
        drain = text("UPDATE inventory_balances SET reserved = on_hand")
        if db.dialect == "postgresql":
            with db.transaction() as other:
                other.execute(drain)
        else:
            session.execute(drain)
        return take(session, wanted, now=now)

    return lambda: monkeypatch.setattr(stock_repository, "take_and_mark", taken_first)


def test_a_take_that_falls_short_is_a_stale_read_and_leaves_nothing_written(
    db: Database, taken_before_the_take: Callable[[], None]
) -> None:
    _prepared(db)
    deliver(db, payload("warm-up", lines=[("XYZ-9", 1)]))
    with db.transaction() as session:
        [inbox_id] = intake.store(
            session, [json.dumps(payload("late"))], source="test", actor=SYSTEM
        )
    taken_before_the_take()

    with pytest.raises(StaleRead), db.transaction() as session:
        intake.receive(session, inbox_id, json.dumps(payload("late")), actor=SYSTEM)

    with db.transaction() as session:
        assert session.scalar(select(SalesOrder).where(SalesOrder.external_id == "late")) is None
        message = session.get(InboxMessage, inbox_id)
        assert message is not None
        assert message.status == "received"


@pytest.mark.postgres_only
def test_an_order_whose_units_another_took_before_the_take_is_stored_backordered_when_run_again(
    db: Database, taken_before_the_take: Callable[[], None]
) -> None:
    _prepared(db)
    deliver(db, payload("warm-up", lines=[("XYZ-9", 1)]))
    body = json.dumps(payload("late", lines=[("XYZ-9", 2)]))
    with db.transaction() as session:
        [inbox_id] = intake.store(session, [body], source="test", actor=SYSTEM)
    taken_before_the_take()
    with _counting_the_lane() as taken:
        result = db.run(lambda session: intake.receive(session, inbox_id, body, actor=SYSTEM))

    assert taken == [1, 1], "the lane's first send fell short; the second took the order"
    assert [(line.allocated, line.backordered) for line in result.lines] == [(0, 2)]
    with db.transaction() as session:
        stored = session.scalar(select(SalesOrder).where(SalesOrder.id == result.order.id))
        assert stored is not None
        assert stored.status == result.order.status == "backordered"


@pytest.mark.postgres_only
def test_orders_taken_together_whose_units_another_took_are_each_stored_with_their_status(
    db: Database, taken_before_the_take: Callable[[], None]
) -> None:
    _prepared(db)
    deliver(db, payload("warm-up", lines=[("ABC-1", 1)]))
    bodies = [
        json.dumps(payload("short", lines=[("XYZ-9", 3)])),
        json.dumps(payload("never", lines=[("XYZ-9", 1)])),
    ]
    with db.transaction() as session:
        ids = intake.store(session, bodies, source="test", actor=SYSTEM)
    taken_before_the_take()
    with _counting_the_lane() as taken:
        results = db.run(
            lambda session: intake.receive_each(
                session, list(zip(ids, bodies, strict=True)), actor=SYSTEM
            )
        )

    assert taken == [2, 2]
    shown = [
        (r.order.external_id, str(r.order.status)) for r in results if not isinstance(r, Exception)
    ]
    with db.transaction() as session:
        stored = session.execute(
            select(SalesOrder.external_id, SalesOrder.status)
            .where(SalesOrder.external_id.in_(["short", "never"]))
            .order_by(SalesOrder.id)
        ).all()
    assert shown == [("short", "backordered"), ("never", "backordered")]
    assert [(e, str(s)) for e, s in stored] == shown


@pytest.mark.postgres_only
def test_an_order_a_concurrent_delivery_made_before_the_write_is_a_stale_read_then_a_duplicate(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    _prepared(db)
    deliver(db, payload("warm-up", lines=[("XYZ-9", 1)]))
    body = json.dumps(payload("twice", lines=[("XYZ-9", 1)]))
    with db.transaction() as session:
        first, second = intake.store_numbered(session, [body, body], source="test", actor=SYSTEM)
    send = express.send

    def made_meanwhile(session: Any, orders: Any) -> None:
        monkeypatch.setattr(express, "send", send)
        with db.transaction() as other:
            intake.receive(other, first[0], body, actor=SYSTEM, number=first[1])
        send(session, orders)

    monkeypatch.setattr(express, "send", made_meanwhile)
    with pytest.raises(StaleRead), db.transaction() as session:
        intake.receive(session, second[0], body, actor=SYSTEM, number=second[1])
    with db.transaction() as session:
        again = intake.receive(session, second[0], body, actor=SYSTEM, number=second[1])

    assert again.outcome == intake.Outcome.DUPLICATE


@pytest.mark.postgres_only
def test_the_lane_marks_an_item_after_taking_its_units_as_a_reservation_does(
    db: Database,
) -> None:
    """A reservation locks the balance row, then marks the item; were the lane to mark it
    before taking the units, each would wait for the other (a deadlock)."""
    _prepared(db)
    deliver(db, payload("warm-up", lines=[("XYZ-9", 1)]))
    with db.transaction() as session:
        session.execute(text("DELETE FROM availability_marks"))  # published meanwhile
    body = json.dumps(payload("lane", lines=[("ABC-1", 1)]))
    with db.transaction() as session:
        [(inbox_id, number)] = intake.store_numbered(session, [body], source="test", actor=SYSTEM)
    balance_locked, lane_started = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def reservation() -> None:
        try:
            with db.transaction() as session:
                session.execute(
                    text(
                        "SELECT b.id FROM inventory_balances AS b JOIN items AS i "
                        "ON i.id = b.item_id WHERE i.sku = 'ABC-1' FOR UPDATE OF b"
                    )
                )
                balance_locked.set()
                lane_started.wait(10)
                time.sleep(0.3)  # the lane, meanwhile, writes its order and waits
                session.execute(
                    text(
                        "INSERT INTO availability_marks (item_id, marked_at) "
                        "SELECT id, now() FROM items WHERE sku = 'ABC-1' ON CONFLICT DO NOTHING"
                    )
                )
        except BaseException as exc:
            errors.append(exc)

    def lane() -> None:
        try:
            with db.transaction() as session:
                lane_started.set()
                intake.receive(session, inbox_id, body, actor=SYSTEM, number=number)
        except BaseException as exc:
            errors.append(exc)

    first = threading.Thread(target=reservation)
    first.start()
    assert balance_locked.wait(10)
    second = threading.Thread(target=lane)
    second.start()
    first.join(15)
    second.join(15)

    assert errors == []
    with db.transaction() as session:
        made = session.scalar(select(SalesOrder).where(SalesOrder.external_id == "lane"))
        assert made is not None
        assert made.status == "allocated"


@pytest.mark.postgres_only
def test_an_order_whose_concurrent_delivery_is_being_written_waits_for_it_then_is_a_duplicate(
    db: Database,
) -> None:
    _prepared(db)
    deliver(db, payload("warm-up", lines=[("XYZ-9", 1)]))
    body = json.dumps(payload("twice", lines=[("ABC-1", 1)]))
    with db.transaction() as session:
        first, second = intake.store_numbered(session, [body, body], source="test", actor=SYSTEM)
    written, release = threading.Event(), threading.Event()
    outcomes: list[object] = []

    def other() -> None:
        with db.transaction() as session:
            intake.receive(session, first[0], body, actor=SYSTEM, number=first[1])
            written.set()
            release.wait(10)

    def ours() -> None:
        try:
            outcomes.append(
                db.run(
                    lambda session: (
                        intake.receive(
                            session, second[0], body, actor=SYSTEM, number=second[1]
                        ).outcome
                    )
                )
            )
        except BaseException as exc:
            outcomes.append(exc)

    writer = threading.Thread(target=other)
    writer.start()
    assert written.wait(10)
    waiting = threading.Thread(target=ours)
    waiting.start()
    time.sleep(0.3)
    assert waiting.is_alive(), "its write waits for the other's order, not yet committed"
    release.set()
    writer.join(10)
    waiting.join(10)

    assert outcomes == [intake.Outcome.DUPLICATE]
