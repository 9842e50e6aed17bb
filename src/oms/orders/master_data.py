"""What intake reads of the catalog and of routing's rules, kept in memory while it does
not change.

A new order names a channel and SKUs. Taking it in needs the channel (its currency
and settings, its warehouses in rank order), the items, every active warehouse with
its rank for the channel, and the channel's rule set: rows that change seldom, read
for every order. They are kept here, one copy per database (per engine), with the
value the `master_data` counter had when they were read. Triggers give that counter
a new value whenever one of those tables changes (migration 0006), and intake reads
it in the same statement as the order's stock (`express`): a copy read under another
value is dropped before it is used, and read again.

The rows are detached ORM objects, only ever read, read in a session of their own.
"""

from __future__ import annotations

import functools
import threading
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from oms.catalog.models import Channel, Item, Warehouse
from oms.orders import repository
from oms.routing import repository as routing
from oms.routing import rule_sets
from oms.routing.model import RuleSet
from oms.routing.models import RoutingRuleSet


@dataclass(frozen=True)
class ChannelData:
    """A channel as intake and routing use it."""

    channel: Channel
    warehouses: list[Warehouse]
    """The channel's active warehouses, in rank order."""
    candidates: list[tuple[Warehouse, int | None]]
    """Every active warehouse with its rank for the channel (None: it does not serve it)."""
    rules: RuleSet
    stored_rules: RoutingRuleSet | None

    @functools.cached_property
    def capacity_limited(self) -> bool:
        """Some warehouse has a daily capacity (planning then counts the day's work)."""
        return any(w.daily_capacity is not None for w, _ in self.candidates)


@dataclass
class Snapshot:
    """The rows read under one value of the counter."""

    generation: int | None
    channels: dict[str, ChannelData | None] = field(default_factory=dict)
    """code → the channel; None: no channel has that code."""
    items: dict[str, Item | None] = field(default_factory=dict)
    """SKU → the item; None: no item has that SKU."""


_snapshots: weakref.WeakKeyDictionary[Engine, Snapshot] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def snapshot(session: Session, channel: str, skus: Iterable[str]) -> Snapshot:
    """The rows kept for this database, with the channel and the SKUs read in if missing
    (a fresh copy when the counter moved since, read `generation`)."""
    engine = _engine(session)
    found = _snapshots.get(engine)
    wanted = sorted(set(skus))
    if found is not None and channel in found.channels and all(s in found.items for s in wanted):
        return found
    # The caller's transaction begins before the lock is taken (on SQLite that takes the
    # write lock, which a thread holding this lock must never wait for). The rows are
    # read in a session of their own on that connection and transaction: the caller's
    # may hold rows it loaded before a change committed since, which a query would give
    # back as they were then.
    connection = session.connection()
    with _lock, Session(bind=connection) as reader:
        found = _snapshots.get(engine)
        current = repository.master_data_generation(reader)
        if found is None or found.generation != current:
            found = Snapshot(current)
        if channel not in found.channels:
            found.channels[channel] = _channel(reader, channel)
        missing = [s for s in wanted if s not in found.items]
        if missing:
            items, _ = repository.intake_items(reader, missing, [])
            for sku in missing:
                found.items[sku] = items.get(sku)
        reader.expunge_all()
        _snapshots[engine] = found
        return found


def forget(session: Session, seen: int | None) -> None:
    """The counter reads `seen`: drop the copy if it was read under another value."""
    engine = _engine(session)
    with _lock:
        found = _snapshots.get(engine)
        if found is not None and found.generation != seen:
            del _snapshots[engine]


def items_of(snapshot: Snapshot, skus: Sequence[str]) -> dict[str, Item]:
    """The known items among these SKUs, by SKU."""
    return {sku: item for sku in skus if (item := snapshot.items.get(sku)) is not None}


def _channel(session: Session, code: str) -> ChannelData | None:
    channel, warehouses = repository.intake_channel(session, code)
    if channel is None:
        return None
    candidates = routing.candidate_warehouses(session, channel.id)
    rules, stored = rule_sets.rules_for(session, channel.id)
    return ChannelData(channel, warehouses, candidates, rules, stored)


def _engine(session: Session) -> Engine:
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine
