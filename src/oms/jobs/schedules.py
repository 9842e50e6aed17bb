"""Work the worker does on every tick besides relaying: publish availability, expire holds,
serve backorders, release fulfillment orders to their warehouses, and take in, as their
senders, order payloads stored but never taken in (their process stopped in between).

Each job runs in short transactions of its own, so that a long backlog never
holds locks for long, and one failing job neither rolls back nor stops the
other. The availability events they record leave through the outbox, so the
relay pass right after delivers them: a stock change reaches webhooks within
a tick or two.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import structlog
from sqlalchemy.exc import DBAPIError

from oms.auth.principal import SYSTEM
from oms.config import Settings
from oms.db import Database, StaleRead
from oms.errors import ValidationFailed
from oms.fulfillment import release
from oms.inventory import availability, reservations
from oms.orders import backorders, intake

log = structlog.get_logger("oms.schedules")

PUBLISH_BATCH = 1000
PUBLISH_ROUNDS = 20
EXPIRY_BATCH = 500
EXPIRY_ROUNDS = 10
BACKORDER_BATCH = 20_000
RELEASE_BATCH = 200
RELEASE_ROUNDS = 10
STRANDED_BATCH = 500
GIVEN_UP = frozenset({intake.INTERRUPTED, intake.SUPERSEDED})
"""Why the worker leaves a stranded payload to a person."""


@dataclass(frozen=True)
class ScheduleCounts:
    """What one tick's scheduled jobs did; `more_due` when a job stopped at its cap."""

    items_recounted: int = 0
    availability_events: int = 0
    reservations_expired: int = 0
    backorders_allocated: int = 0
    """Backordered units reserved as stock arrived."""
    fulfillment_released: int = 0
    """Fulfillment orders released to their warehouses."""
    intake_resumed: int = 0
    """Stored order payloads never taken in (their process stopped), taken in as their
    senders."""
    intake_interrupted: int = 0
    """Stored order payloads never taken in, left to a person (marked failed, to be
    replayed): their senders may no longer send orders, a later delivery of the same
    order came after them, or taking them in broke."""
    more_due: bool = False

    @property
    def did_work(self) -> bool:
        return bool(
            self.items_recounted
            or self.reservations_expired
            or self.backorders_allocated
            or self.fulfillment_released
            or self.intake_resumed
            or self.intake_interrupted
        )


def run_due(database: Database, settings: Settings) -> ScheduleCounts:
    """Publish channel availability for every marked item, expire due soft reservations, then
    serve backorders from the stock available."""
    items = events = expired = allocated = 0
    more_due = False
    try:
        items, events, more_due = _publish_availability(database)
    except Exception:
        log.exception("availability_publication_failed")
    try:
        expired, more_expiring = _expire_reservations(database)
        more_due = more_due or more_expiring
    except Exception:
        log.exception("reservation_expiry_failed")
    try:
        allocated, more_backorders = _reallocate_backorders(database)
        more_due = more_due or more_backorders
    except Exception:
        log.exception("backorder_reallocation_failed")
    released = 0
    try:
        released, more_releases = _release_due(database)
        more_due = more_due or more_releases
    except Exception:
        log.exception("fulfillment_release_failed")
    resumed = interrupted = 0
    try:
        resumed, interrupted, more_stranded = _resume_stranded(database)
        more_due = more_due or more_stranded
    except Exception:
        log.exception("stranded_intake_resumption_failed")
    return ScheduleCounts(
        items_recounted=items,
        availability_events=events,
        reservations_expired=expired,
        backorders_allocated=allocated,
        fulfillment_released=released,
        intake_resumed=resumed,
        intake_interrupted=interrupted,
        more_due=more_due,
    )


def _resume_stranded(database: Database) -> tuple[int, int, bool]:
    """Take in the order payloads stranded by a process that stopped between storing and
    taking them in, each in a transaction of its own, as their senders; how many were
    taken in (their outcome on their inbox messages), how many were marked failed for a
    person (their senders may no longer send orders, a later delivery of the same order
    came after them, or taking them in broke), and whether more are due."""
    with database.transaction() as session:
        found = intake.stranded(session, limit=STRANDED_BATCH)
    resumed = interrupted = 0
    for message_id in found:
        try:
            with database.transaction() as session:
                [number] = intake.draw_numbers(session, 1)
            outcome = database.run(partial(intake.resume, message_id=message_id, number=number))
        except (DBAPIError, StaleRead):
            # The database failed us (a lost connection, a lock held too long, stock
            # taken under it again and again): the payload stays stranded for the next
            # tick.
            log.exception("stranded_intake_resume_failed", inbox_id=message_id)
            continue
        except Exception as exc:
            # A payload that breaks its taking in must not hold up the others, nor be
            # tried on every tick: marked failed (if still stranded) for a person.
            log.exception("stranded_intake_resume_failed", inbox_id=message_id)
            try:
                with database.transaction() as session:
                    interrupted += intake.give_up(session, message_id, intake.not_resumed(exc))
            except Exception:
                log.exception("stranded_intake_marking_failed", inbox_id=message_id)
            continue
        if isinstance(outcome, ValidationFailed) and outcome.code in GIVEN_UP:
            interrupted += 1
        elif outcome is not None:
            resumed += 1
    return resumed, interrupted, len(found) >= STRANDED_BATCH


def _publish_availability(database: Database) -> tuple[int, int, bool]:
    # A batch smaller than asked for means no item was left marked when it was taken.
    items = events = 0
    with database.transaction() as session:
        availability.notice_channel_changes(session)
    for _ in range(PUBLISH_ROUNDS):
        with database.transaction() as session:
            published = availability.publish_changes(session, batch=PUBLISH_BATCH)
        items += published.items
        events += published.events
        if published.items < PUBLISH_BATCH:
            return items, events, False
    return items, events, True


def _expire_reservations(database: Database) -> tuple[int, bool]:
    expired = 0
    for _ in range(EXPIRY_ROUNDS):
        with database.transaction() as session:
            count = reservations.expire_due(session, limit=EXPIRY_BATCH)
        expired += count
        if count < EXPIRY_BATCH:
            return expired, False
    return expired, True


def _reallocate_backorders(database: Database) -> tuple[int, bool]:
    # One batch a tick: a backlog larger than that goes on at the next tick.
    with database.transaction() as session:
        done = backorders.reallocate_backorders(session, actor=SYSTEM, limit=BACKORDER_BATCH)
    return done.units, done.more_due


def _release_due(database: Database) -> tuple[int, bool]:
    """Release what the warehouses' rules make due, in batches of their own transaction."""
    total = 0
    for _ in range(RELEASE_ROUNDS):
        done = database.run(
            lambda session: release.release_due(session, actor=SYSTEM, limit=RELEASE_BATCH)
        )
        total += len(done)
        if len(done) < RELEASE_BATCH:
            return total, False
    return total, True
