"""The worker's scheduled jobs: availability publication, soft reservation expiry, and
order payloads stranded between their storing and their taking in, taken in as their
senders."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from oms.audit import AuditEntry
from oms.auth import repository as auth_repository
from oms.auth import service as auth
from oms.auth.principal import CLI_OPERATOR, SYSTEM, Principal
from oms.config import Settings
from oms.db import Database, StaleRead
from oms.inbox import service as inbox
from oms.inventory import balances, ledger, reservations
from oms.inventory.models import ReservationStatus
from oms.jobs import relay, schedules
from oms.jobs.worker import WorkerLoop
from oms.orders import intake
from oms.orders.models import OrderLine, SalesOrder
from oms.outbox.models import OutboxEvent
from tests.integration.inventory import factories
from tests.integration.jobs.receiver import Receiver
from tests.integration.orders.deliveries import deliver, payload
from tests.integration.outbox.clocks import ManualClock
from tests.integration.outbox.factories import a_subscription

TOPIC = "inventory.availability_changed"


@pytest.fixture
def stocked(db: Database, settings: Settings) -> Database:
    with db.transaction() as session:
        factories.item(session, "A")
        factories.warehouse(session, "DAL")
        factories.channel(session, "web", warehouses=["DAL"])
        factories.stock(session, "A", "DAL", 10)
    schedules.run_due(db, settings)
    return db


def availability_events(db: Database) -> list[dict[str, object]]:
    with db.transaction() as session:
        rows = session.scalars(
            select(OutboxEvent).where(OutboxEvent.topic == TOPIC).order_by(OutboxEvent.id)
        )
        return [row.payload for row in rows]


def soft_reservation(db: Database, seconds: int) -> int:
    with db.transaction() as session:
        made = reservations.reserve(
            session,
            sku="A",
            warehouse="DAL",
            quantity=4,
            reference="CART-1",
            expires_in_seconds=seconds,
            actor=SYSTEM,
        )
    return made.id


def status_of(db: Database, reservation_id: int) -> str:
    with db.transaction() as session:
        return reservations.get(session, reservation_id, actor=SYSTEM).status


def test_a_stock_change_produces_an_availability_event(
    stocked: Database, settings: Settings
) -> None:
    before = len(availability_events(stocked))
    with stocked.transaction() as session:
        ledger.adjust(
            session, sku="A", warehouse="DAL", quantity=-3, reason="damaged", actor=SYSTEM
        )

    counts = schedules.run_due(stocked, settings)

    new = availability_events(stocked)[before:]
    assert [(e["channel"], e["sku"], e["atp"]) for e in new] == [("web", "A", 7)]
    assert (counts.items_recounted, counts.availability_events) == (1, 1)


def test_a_burst_of_changes_between_two_ticks_is_one_event(
    stocked: Database, settings: Settings
) -> None:
    before = len(availability_events(stocked))
    for _ in range(20):
        with stocked.transaction() as session:
            ledger.adjust(
                session, sku="A", warehouse="DAL", quantity=1, reason="found", actor=SYSTEM
            )

    schedules.run_due(stocked, settings)

    new = availability_events(stocked)[before:]
    assert [e["atp"] for e in new] == [30]


def test_a_tick_with_nothing_marked_or_due_does_nothing(
    stocked: Database, settings: Settings
) -> None:
    counts = schedules.run_due(stocked, settings)

    assert not counts.did_work
    assert not counts.more_due


def test_publication_goes_on_batch_after_batch_until_nothing_is_marked(
    db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(schedules, "PUBLISH_BATCH", 2)
    with db.transaction() as session:
        factories.warehouse(session, "DAL")
        factories.channel(session, "web", warehouses=["DAL"])
        for sku in ("A", "B", "C", "D", "E"):
            factories.item(session, sku)
            factories.stock(session, sku, "DAL", 1)

    counts = schedules.run_due(db, settings)

    assert counts.items_recounted == 5
    assert {e["sku"] for e in availability_events(db)} == {"A", "B", "C", "D", "E"}
    assert not counts.more_due


def test_publication_stops_at_its_cap_and_says_more_is_due(
    db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(schedules, "PUBLISH_BATCH", 2)
    monkeypatch.setattr(schedules, "PUBLISH_ROUNDS", 1)
    with db.transaction() as session:
        factories.warehouse(session, "DAL")
        for sku in ("A", "B", "C"):
            factories.item(session, sku)
            factories.stock(session, sku, "DAL", 1)

    first = schedules.run_due(db, settings)
    second = schedules.run_due(db, settings)

    assert (first.items_recounted, first.more_due) == (2, True)
    assert (second.items_recounted, second.more_due) == (1, False)


def test_a_soft_reservation_past_its_expiry_is_released(
    stocked: Database, settings: Settings, manual_clock: ManualClock
) -> None:
    due = soft_reservation(stocked, 60)
    later = soft_reservation(stocked, 600)
    manual_clock.advance(61)

    counts = schedules.run_due(stocked, settings)

    assert counts.reservations_expired == 1
    assert status_of(stocked, due) == ReservationStatus.EXPIRED
    assert status_of(stocked, later) == ReservationStatus.ACTIVE


def test_a_soft_reservation_expires_through_a_worker_tick(
    stocked: Database, settings: Settings, manual_clock: ManualClock
) -> None:
    reservation_id = soft_reservation(stocked, 30)
    manual_clock.advance(31)

    with httpx.Client() as client:
        WorkerLoop(stocked, settings, relay_name="test").turn(client)

    assert status_of(stocked, reservation_id) == ReservationStatus.EXPIRED
    with stocked.transaction() as session:
        [line] = balances.stock_lines(session, sku="A", actor=SYSTEM)
    assert line.reserved == 0


def test_an_availability_change_reaches_a_webhook_within_one_worker_tick(
    stocked: Database, settings: Settings, receiver: Receiver
) -> None:
    relay.relay_once(stocked, settings, relay_name="test")  # the earlier events go nowhere
    a_subscription(stocked, url=receiver.url, topics=[TOPIC])
    with stocked.transaction() as session:
        reservations.reserve(
            session, sku="A", warehouse="DAL", quantity=6, reference="SO-1", actor=SYSTEM
        )

    with httpx.Client() as client:
        WorkerLoop(stocked, settings, relay_name="test").turn(client)
    deadline = time.monotonic() + 5
    while not receiver.hits and time.monotonic() < deadline:
        time.sleep(0.02)

    [hit] = receiver.hits
    payload = json.loads(hit.body)
    assert payload["type"] == TOPIC
    assert (payload["data"]["sku"], payload["data"]["atp"]) == ("A", 4)


def sender(db: Database, *, channels: list[str] | None = None) -> Principal:
    """An integration client's API key, as the principal it acts as."""
    with db.transaction() as session:
        made = auth.create_api_key(
            session, name="shop", roles=["integration"], channels=channels, actor=SYSTEM
        )
        key = auth_repository.api_key_by_id(session, made.key.id)
        assert key is not None
        return auth.key_principal(key)


def stored_order_payload(
    db: Database, external_id: str, *, actor: Principal = SYSTEM, sku: str = "A"
) -> int:
    """An order payload stored raw, its inbox id; nothing takes it in."""
    body = json.dumps(payload(external_id, lines=[(sku, 2)]))
    with db.transaction() as session:
        [(inbox_id, _)] = intake.store_numbered(session, [body], source="api", actor=actor)
    return inbox_id


def left_to_a_person(db: Database, message_id: int) -> dict[str, str]:
    """The problem a stranded payload the worker gave up on was marked failed with."""
    with db.transaction() as session:
        marked = inbox.get(session, message_id)
        assert str(marked.status) == "failed"
        assert marked.errors is not None
        return dict(marked.errors[0])


def test_an_order_payload_stranded_by_a_stopped_process_is_taken_in_as_its_sender(
    stocked: Database, settings: Settings, manual_clock: ManualClock
) -> None:
    shop = sender(stocked)
    stranded = stored_order_payload(stocked, "S-1", actor=shop)
    manual_clock.advance(4 * 60)
    recent = stored_order_payload(stocked, "S-2", actor=shop)
    manual_clock.advance(2 * 60)

    counts = schedules.run_due(stocked, settings)

    assert (counts.intake_resumed, counts.intake_interrupted) == (1, 0)
    with stocked.transaction() as session:
        taken, waiting = inbox.get(session, stranded), inbox.get(session, recent)
        assert (str(taken.status), str(waiting.status)) == ("accepted", "received")
        order = session.scalars(select(SalesOrder).where(SalesOrder.inbox_id == stranded)).one()
        assert (order.external_id, str(order.status)) == ("S-1", "allocated")
        actors = session.scalars(
            select(AuditEntry.actor).where(
                AuditEntry.entity_type == "sales_order", AuditEntry.entity_id == order.number
            )
        ).all()
        assert set(actors) == {shop.label}


def test_an_order_payload_an_import_stranded_is_taken_in_as_the_cli_operator(
    stocked: Database, settings: Settings, manual_clock: ManualClock
) -> None:
    stranded = stored_order_payload(stocked, "S-1", actor=CLI_OPERATOR)
    manual_clock.advance(6 * 60)

    counts = schedules.run_due(stocked, settings)

    assert (counts.intake_resumed, counts.intake_interrupted) == (1, 0)
    with stocked.transaction() as session:
        assert str(inbox.get(session, stranded).status) == "accepted"


def test_a_stranded_payload_is_taken_in_under_its_senders_scope_as_it_stands_now(
    stocked: Database, settings: Settings, manual_clock: ManualClock
) -> None:
    shop = sender(stocked, channels=["b2b"])
    stranded = stored_order_payload(stocked, "S-1", actor=shop)
    manual_clock.advance(6 * 60)

    counts = schedules.run_due(stocked, settings)

    assert counts.intake_resumed == 1
    with stocked.transaction() as session:
        failed = inbox.get(session, stranded)
        assert str(failed.status) == "failed"
        assert failed.errors is not None
        assert [e["code"] for e in failed.errors] == ["order.unknown_channel"]


@pytest.mark.parametrize("who", ["revoked key", "the system"])
def test_a_stranded_payload_whose_sender_may_no_longer_send_is_marked_failed_to_be_replayed(
    stocked: Database, settings: Settings, manual_clock: ManualClock, who: str
) -> None:
    actor = SYSTEM
    if who == "revoked key":
        actor = sender(stocked)
        with stocked.transaction() as session:
            auth.revoke_api_key(session, key_id=actor.id, actor=SYSTEM)
    stranded = stored_order_payload(stocked, "S-1", actor=actor)
    manual_clock.advance(6 * 60)

    counts = schedules.run_due(stocked, settings)

    assert (counts.intake_resumed, counts.intake_interrupted) == (0, 1)
    problem = left_to_a_person(stocked, stranded)
    assert problem["code"] == "inbox.interrupted"
    assert actor.label in problem["message"]
    with stocked.transaction() as session:
        assert intake.replayable(session, stranded, actor=SYSTEM).id == stranded


def test_a_stranded_payload_that_cannot_be_taken_in_is_marked_failed_and_the_rest_go_on(
    stocked: Database,
    settings: Settings,
    manual_clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shop = sender(stocked)
    broken = stored_order_payload(stocked, "S-1", actor=shop)
    fine = stored_order_payload(stocked, "S-2", actor=shop)
    manual_clock.advance(6 * 60)
    resume = intake.resume

    def breaking_on_the_first(session: Session, message_id: int, *, number: str) -> object:
        if message_id == broken:
            raise RuntimeError("a bug")
        return resume(session, message_id, number=number)

    monkeypatch.setattr(intake, "resume", breaking_on_the_first)

    counts = schedules.run_due(stocked, settings)

    assert (counts.intake_resumed, counts.intake_interrupted) == (1, 1)
    assert "RuntimeError" in left_to_a_person(stocked, broken)["message"]
    with stocked.transaction() as session:
        assert str(inbox.get(session, fine).status) == "accepted"


def test_a_stranded_payload_whose_stock_is_taken_under_it_again_and_again_waits_for_the_next_tick(
    stocked: Database,
    settings: Settings,
    manual_clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shop = sender(stocked)
    contended = stored_order_payload(stocked, "S-1", actor=shop)
    manual_clock.advance(6 * 60)

    def always_stale(session: Session, message_id: int, *, number: str) -> object:
        raise StaleRead("units taken by a concurrent order")

    monkeypatch.setattr(intake, "resume", always_stale)
    monkeypatch.setattr("oms.db.time.sleep", lambda _seconds: None)

    counts = schedules.run_due(stocked, settings)

    assert (counts.intake_resumed, counts.intake_interrupted) == (0, 0)
    with stocked.transaction() as session:
        assert str(inbox.get(session, contended).status) == "received"


def test_a_stranded_payload_a_later_delivery_of_its_order_came_after_is_left_to_a_person(
    stocked: Database, settings: Settings, manual_clock: ManualClock
) -> None:
    shop = sender(stocked)
    first = json.dumps(payload("S-1", lines=[("A", 2)]))
    with stocked.transaction() as session:
        [(stale, _)] = intake.store_numbered(session, [first], source="api", actor=shop)
    newer = deliver(stocked, payload("S-1", lines=[("A", 1)]), actor=shop)
    manual_clock.advance(6 * 60)

    counts = schedules.run_due(stocked, settings)

    assert (counts.intake_resumed, counts.intake_interrupted) == (0, 1)
    assert left_to_a_person(stocked, stale)["code"] == "inbox.superseded"
    with stocked.transaction() as session:
        quantities = session.scalars(
            select(OrderLine.quantity).where(OrderLine.order_id == newer.order.id)
        ).all()
        assert list(quantities) == [1]


def test_giving_a_stranded_payload_up_leaves_one_taken_in_meanwhile_alone(
    stocked: Database,
) -> None:
    taken = deliver(stocked, payload("S-1", lines=[("A", 1)]), actor=sender(stocked))
    inbox_id = taken.order.inbox_id
    assert inbox_id is not None

    with stocked.transaction() as session:
        given_up = intake.give_up(session, inbox_id, intake.not_resumed(RuntimeError()))

    assert given_up is False
    with stocked.transaction() as session:
        assert str(inbox.get(session, inbox_id).status) == "accepted"
