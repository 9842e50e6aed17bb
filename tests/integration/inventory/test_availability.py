"""Channel availability: ATP per channel, events only on change, bursts coalesced."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from oms.auth.principal import SYSTEM
from oms.catalog import channels
from oms.catalog.schemas import ChannelUpdate
from oms.db import Database
from oms.inventory import availability, ledger, reservations
from oms.outbox.models import OutboxEvent
from tests.integration.inventory import factories


@pytest.fixture
def stocked(db: Database) -> Database:
    with db.transaction() as session:
        factories.item(session, "A")
        factories.warehouse(session, "DAL")
        factories.warehouse(session, "NJ")
        factories.channel(session, "web", warehouses=["DAL", "NJ"])
        factories.channel(
            session,
            "amazon",
            warehouses=["DAL"],
            settings={"availability": {"buffer_units": 2, "buffer_percent": 10, "cap": 50}},
        )
        factories.stock(session, "A", "DAL", 40)
        factories.stock(session, "A", "NJ", 30)
        availability.publish_changes(session)
    return db


def events(db: Database) -> list[dict[str, object]]:
    with db.transaction() as session:
        rows = session.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.topic == availability.TOPIC)
            .order_by(OutboxEvent.id)
        )
        return [r.payload for r in rows]


def feed(db: Database, channel: str) -> dict[str, int]:
    with db.transaction() as session:
        return {e.sku: e.atp for e in availability.feed(session, channel, actor=SYSTEM)}


def test_each_channel_sees_its_warehouses_less_its_buffer(stocked: Database) -> None:
    assert feed(stocked, "web") == {"A": 70}
    assert feed(stocked, "amazon") == {"A": 34}


def test_a_change_emits_an_event_per_channel_whose_atp_moved(stocked: Database) -> None:
    before = len(events(stocked))
    with stocked.transaction() as session:
        reservations.reserve(
            session, sku="A", warehouse="NJ", quantity=5, reference="x", actor=SYSTEM
        )
        availability.publish_changes(session)

    new = events(stocked)[before:]
    assert [(e["channel"], e["atp"]) for e in new] == [("web", 65)]


def test_sequence_numbers_only_grow(stocked: Database) -> None:
    for _ in range(3):
        with stocked.transaction() as session:
            ledger.adjust(
                session, sku="A", warehouse="DAL", quantity=1, reason="found", actor=SYSTEM
            )
            availability.publish_changes(session)

    seqs = [int(e["seq"]) for e in events(stocked)]  # type: ignore[call-overload]
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == len(seqs)


def test_a_burst_of_a_thousand_movements_emits_a_handful_of_events(stocked: Database) -> None:
    before = len(events(stocked))

    for _tick in range(4):
        with stocked.transaction() as session:
            for _ in range(250):
                ledger.adjust(
                    session, sku="A", warehouse="DAL", quantity=1, reason="found", actor=SYSTEM
                )
        with stocked.transaction() as session:
            availability.publish_changes(session)

    emitted = len(events(stocked)) - before
    assert emitted <= 2 * 4  # at most one per channel per worker tick
    assert feed(stocked, "web") == {"A": 1070}


def test_changes_since_a_sequence_are_only_the_newer_ones(stocked: Database) -> None:
    with stocked.transaction() as session:
        last = availability.feed_version(session, "web", actor=SYSTEM)
        ledger.adjust(session, sku="A", warehouse="NJ", quantity=-10, reason="lost", actor=SYSTEM)
        availability.publish_changes(session)

    with stocked.transaction() as session:
        changed = availability.feed(session, "web", since=last, actor=SYSTEM)

    assert [(e.sku, e.atp) for e in changed] == [("A", 60)]


def test_a_channel_gaining_a_warehouse_is_recounted_and_told(stocked: Database) -> None:
    with stocked.transaction() as session:
        availability.notice_channel_changes(session)
        availability.publish_changes(session)
    before = len(events(stocked))
    with stocked.transaction() as session:
        channels.update_channel(
            session, "amazon", ChannelUpdate(warehouses=["DAL", "NJ"]), actor=SYSTEM
        )

    with stocked.transaction() as session:
        changed = availability.notice_channel_changes(session)
        availability.publish_changes(session)

    assert changed == 1
    assert [(e["channel"], e["atp"]) for e in events(stocked)[before:]] == [("amazon", 50)]
