"""Channel availability: what each channel may promise, and the events that tell it.

Every stock change marks its item (one row per item, however many changes).
The worker's `publish_changes` then recounts ATP for the marked items on every
channel and emits `inventory.availability_changed` only where the figure moved,
each under a sequence number that only grows. A burst of 1,000 movements on
one SKU between two worker ticks is one recount and at most one event per
channel.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from oms import outbox
from oms.auth.principal import Principal
from oms.catalog import repository as catalog
from oms.catalog.models import Channel
from oms.errors import NotFound
from oms.inventory import repository as stock
from oms.inventory.atp import AtpPolicy, channel_atp
from oms.kit import clock

SEQUENCE = "availability"
TOPIC = "inventory.availability_changed"


def mark_changed(session: Session, item_ids: Iterable[int]) -> None:
    """Note that these items' stock changed; cheap, and idempotent until the next publication."""
    stock.mark_items(session, item_ids)


@dataclass(frozen=True)
class Published:
    items: int
    events: int


def notice_channel_changes(session: Session) -> int:
    """Mark every stocked item for recount when a channel's warehouses or policy changed.

    Catalog changes cannot call inventory (it sits below), so the worker compares
    each active channel's configuration with the one its availability was
    computed from. Returns how many channels changed.
    """
    warehouses_of = stock.channel_warehouse_ids(session)
    known = stock.channel_fingerprints(session)
    changed = 0
    for channel in stock.active_channels(session):
        config = {
            "warehouses": sorted(warehouses_of.get(channel.id, [])),
            "policy": AtpPolicy.from_settings(channel.settings).__dict__,
        }
        fingerprint = hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()
        if known.get(channel.id) != fingerprint:
            stock.put_channel_fingerprint(session, channel.id, fingerprint)
            changed += 1
    if changed:
        stock.mark_items(session, stock.stocked_or_published_item_ids(session))
    return changed


def publish_changes(session: Session, *, batch: int = 1000) -> Published:
    """Recount ATP for marked items on every channel; emit an event where it changed."""
    item_ids = stock.take_marks(session, limit=batch)
    if not item_ids:
        return Published(items=0, events=0)
    warehouses_of = stock.channel_warehouse_ids(session)
    channels = {c.id: c for c in catalog.channels_by_ids(session, list(warehouses_of))}
    available = stock.available_by_item_warehouse(session, item_ids)
    before = stock.published(session, item_ids)
    skus = {i.id: i.sku for i in catalog.items_by_ids(session, item_ids)}
    changes: list[tuple[Channel, int, int]] = []
    for channel_id, warehouse_ids in sorted(warehouses_of.items()):
        channel = channels.get(channel_id)
        if channel is None:
            continue
        policy = AtpPolicy.from_settings(channel.settings)
        for item_id in item_ids:
            atp = channel_atp((available.get((item_id, w), 0) for w in warehouse_ids), policy)
            if before.get((channel_id, item_id)) != atp:
                changes.append((channel, item_id, atp))
    if not changes:
        return Published(items=len(item_ids), events=0)
    last = stock.next_sequence(session, SEQUENCE, count=len(changes))
    now = clock.now()
    rows = []
    for offset, (channel, item_id, atp) in enumerate(changes):
        seq = last - len(changes) + 1 + offset
        rows.append(
            {
                "channel_id": channel.id,
                "item_id": item_id,
                "atp": atp,
                "seq": seq,
                "updated_at": now,
            }
        )
        outbox.record(
            session,
            TOPIC,
            {
                "channel": channel.code,
                "sku": skus[item_id],
                "atp": atp,
                "seq": seq,
                "at": now.isoformat(),
            },
            key=f"availability:{channel.code}:{skus[item_id]}",
        )
    stock.upsert_published(session, rows)
    return Published(items=len(item_ids), events=len(changes))


@dataclass(frozen=True)
class FeedEntry:
    sku: str
    atp: int
    seq: int
    updated_at: dt.datetime


def feed(
    session: Session, channel: str, *, since: int | None = None, actor: Principal
) -> list[FeedEntry]:
    """What a channel may promise per item: everything, or only what changed after `since`."""
    found = _channel(session, channel, actor=actor)
    return [FeedEntry(*row) for row in stock.channel_feed(session, found.id, since=since)]


def feed_version(session: Session, channel: str, *, actor: Principal) -> int:
    """The newest sequence number published to the channel (its feed's ETag)."""
    return stock.channel_feed_version(session, _channel(session, channel, actor=actor).id)


def _channel(session: Session, code: str, *, actor: Principal) -> Channel:
    found = catalog.channel_by_code(session, code.strip())
    if found is None or not actor.sees_channel(found.code):
        raise NotFound("channel", code, code="catalog.channel_not_found")
    return found
