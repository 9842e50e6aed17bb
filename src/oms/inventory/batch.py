"""Many reservations at once, in the caller's transaction.

Requests for the same item at the same warehouse are granted together for their
total, every group's total at once (`reserve_where_available`: one conditional
UPDATE for all of them on PostgreSQL). When a total does not fit, the longest
run of requests (in arrival order) that fits is granted by one conditional
UPDATE, and the rest are refused with the figures. Groups are locked in (item
id, warehouse id) order, so concurrent batches cannot deadlock.

This is what lets many concurrent callers share a hot SKU: the row lock is
taken once per batch instead of once per unit (see `oms.api.batching`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from sqlalchemy.orm import Session

from oms.auth.principal import Principal
from oms.inventory import availability
from oms.inventory import repository as stock
from oms.inventory.errors import InsufficientStock
from oms.inventory.models import MovementKind, ReservationKind, ReservationStatus
from oms.kit import clock

RETRIES = 5


@dataclass(frozen=True)
class ReservationRequest:
    """One reservation wanted; the item and warehouse are already resolved and in scope."""

    item_id: int
    sku: str
    warehouse_id: int
    warehouse: str
    quantity: int
    reference: str
    expires_in_seconds: int | None = None
    actor: Principal | None = None
    """Who asked, when requests of several principals share a batch; else `reserve_many`'s."""


@dataclass(frozen=True)
class Granted:
    """A reservation made by `reserve_many`."""

    id: int
    request: ReservationRequest
    kind: ReservationKind
    status: ReservationStatus
    expires_at: dt.datetime | None
    created_at: dt.datetime


Outcome = Granted | InsufficientStock


def reserve_many(
    session: Session, requests: Sequence[ReservationRequest], *, actor: Principal
) -> list[Outcome]:
    """Grant what stock allows; one outcome per request, in the order given."""
    return record_granted(session, requests, grant_many(session, requests), actor=actor)


def grant_many(
    session: Session, requests: Sequence[ReservationRequest]
) -> list[InsufficientStock | None]:
    """The first half of `reserve_many`: what stock allows taken on the balances; per
    request, None when granted (its reservation is for `record_granted` to write), else
    why not."""
    refusals: list[InsufficientStock | None] = [None] * len(requests)
    groups = _groups(requests)
    whole = stock.reserve_where_available(
        session,
        [(i, w, sum(requests[m].quantity for m in members)) for (i, w), members in groups],
    )
    for (item_id, warehouse_id), indexes in groups:
        fitting = (
            len(indexes)
            if (item_id, warehouse_id) in whole
            else _grant_part(
                session, item_id, warehouse_id, [requests[i].quantity for i in indexes]
            )
        )
        refused = indexes[fitting:]
        if refused:
            current = stock.balance(session, item_id, warehouse_id)
            left = current.available if current else 0
            for i in refused:
                r = requests[i]
                refusals[i] = InsufficientStock(
                    sku=r.sku, warehouse=r.warehouse, requested=r.quantity, available=left
                )
    return refusals


def take_all(session: Session, wanted: Sequence[tuple[int, int, int]], *, now: dt.datetime) -> bool:
    """Take `wanted` ((item id, warehouse id, units), as `group_totals` gives them) on the
    balances, each pair's whole total where available, and mark the items taken; whether
    every pair's units were taken. When not, some were: the caller's transaction is to
    be rolled back (the express lane, which writes its reservations as granted first)."""
    return len(stock.take_and_mark(session, wanted, now=now)) == len(wanted)


def group_totals(requests: Sequence[ReservationRequest]) -> list[tuple[int, int, int]]:
    """(item id, warehouse id, units) for each group of requests `grant_many` takes at once,
    in (item id, warehouse id) order."""
    return [
        (item_id, warehouse_id, sum(requests[m].quantity for m in members))
        for (item_id, warehouse_id), members in _groups(requests)
    ]


def _groups(
    requests: Sequence[ReservationRequest],
) -> list[tuple[tuple[int, int], list[int]]]:
    order = sorted(
        range(len(requests)), key=lambda i: (requests[i].item_id, requests[i].warehouse_id)
    )
    return [
        (key, list(members))
        for key, members in groupby(
            order, key=lambda i: (requests[i].item_id, requests[i].warehouse_id)
        )
    ]


def record_granted(
    session: Session,
    requests: Sequence[ReservationRequest],
    refusals: Sequence[InsufficientStock | None],
    *,
    actor: Principal,
    ids: Sequence[int] | None = None,
) -> list[Outcome]:
    """The second half of `reserve_many`: the reservations and ledger rows of the requests
    `grant_many` granted (by item and warehouse, then in arrival order; `ids` for them in
    that order when drawn beforehand, `new_reservation_ids`); one outcome per request, in
    the order given."""
    outcomes: list[Outcome] = [r for r in refusals if r is not None]
    granted = sorted(
        (i for i, refusal in enumerate(refusals) if refusal is None),
        key=lambda i: (requests[i].item_id, requests[i].warehouse_id, i),
    )
    if not granted:
        return outcomes
    found: list[Outcome | None] = list(refusals)
    made = _record(session, [requests[i] for i in granted], actor=actor, ids=ids)
    for i, reservation in zip(granted, made, strict=True):
        found[i] = reservation
    availability.mark_changed(session, {requests[i].item_id for i in granted})
    return [o for o in found if o is not None]


def new_reservation_ids(session: Session, count: int) -> Callable[[], list[int]]:
    """Ids for `count` reservations to record in this transaction (`record_granted`); what
    it returns gives them (queued inside `bulk.writing_behind`)."""
    return stock.new_reservation_ids(session, count)


def _grant_part(session: Session, item_id: int, warehouse_id: int, quantities: list[int]) -> int:
    """Their total did not fit: how many of `quantities`, from the first, were reserved
    (one conditional UPDATE for what is available now, again if a concurrent
    reservation took some meanwhile)."""
    for _ in range(RETRIES):
        current = stock.balance(session, item_id, warehouse_id)
        left = current.available if current else 0
        count, total = 0, 0
        while count < len(quantities) and total + quantities[count] <= left:
            total += quantities[count]
            count += 1
        if count == 0:
            return 0
        if stock.try_reserve(session, item_id=item_id, warehouse_id=warehouse_id, quantity=total):
            return count
    return 0


@dataclass(frozen=True)
class GrantedRows:
    """What granted requests write: their reservations (with the ids given) and ledger rows;
    and the outcomes, one per request in the order given."""

    outcomes: list[Outcome]
    reservations: list[dict[str, Any]]
    movements: list[dict[str, Any]]
    items: set[int]
    """Items whose availability changed (`availability.mark_changed`)."""


def granted_rows(
    requests: Sequence[ReservationRequest],
    refusals: Sequence[InsufficientStock | None],
    ids: Sequence[int],
    *,
    actor: Principal,
    now: dt.datetime,
) -> GrantedRows:
    """`record_granted` without the writing: the rows for a caller that writes them with
    others (`ids`: one per granted request, in the order `record_granted` takes them)."""
    granted = sorted(
        (i for i, refusal in enumerate(refusals) if refusal is None),
        key=lambda i: (requests[i].item_id, requests[i].warehouse_id, i),
    )
    rows = _reservation_rows([requests[i] for i in granted], actor=actor, now=now)
    reservations = [{"id": i, **row} for i, row in zip(ids, rows, strict=True)]
    found: list[Outcome | None] = list(refusals)
    for i, reservation_id, row in zip(granted, ids, rows, strict=True):
        found[i] = _granted(reservation_id, requests[i], row, now)
    return GrantedRows(
        outcomes=[o for o in found if o is not None],
        reservations=reservations,
        movements=_movement_rows(ids, rows, now),
        items={requests[i].item_id for i in granted},
    )


def _reservation_rows(
    granted: Sequence[ReservationRequest], *, actor: Principal, now: dt.datetime
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for r in granted:
        expires = now + dt.timedelta(seconds=r.expires_in_seconds) if r.expires_in_seconds else None
        rows.append(
            {
                "item_id": r.item_id,
                "warehouse_id": r.warehouse_id,
                "quantity": r.quantity,
                "consumed": 0,
                "reference": r.reference,
                "kind": ReservationKind.SOFT if expires else ReservationKind.HARD,
                "status": ReservationStatus.ACTIVE,
                "expires_at": expires,
                "created_at": now,
                "actor": (r.actor or actor).label,
            }
        )
    return rows


def _movement_rows(
    ids: Sequence[int], rows: Sequence[dict[str, Any]], now: dt.datetime
) -> list[dict[str, Any]]:
    return [
        {
            "item_id": row["item_id"],
            "warehouse_id": row["warehouse_id"],
            "kind": MovementKind.RESERVE,
            "on_hand_delta": 0,
            "reserved_delta": row["quantity"],
            "reference_type": "reservation",
            "reference_id": str(reservation_id),
            "note": row["reference"],
            "actor": row["actor"],
            "at": now,
        }
        for reservation_id, row in zip(ids, rows, strict=True)
    ]


def _granted(
    reservation_id: int, request: ReservationRequest, row: dict[str, Any], now: dt.datetime
) -> Granted:
    return Granted(
        id=reservation_id,
        request=request,
        kind=row["kind"],
        status=ReservationStatus.ACTIVE,
        expires_at=row["expires_at"],
        created_at=now,
    )


def _record(
    session: Session,
    granted: Sequence[ReservationRequest],
    *,
    actor: Principal,
    ids: Sequence[int] | None = None,
) -> list[Granted]:
    now = clock.now()
    rows = _reservation_rows(granted, actor=actor, now=now)
    if ids is None:
        ids = stock.insert_reservations(session, rows)
    else:
        stock.insert_reservation_rows(
            session, [{"id": i, **row} for i, row in zip(ids, rows, strict=True)]
        )
    stock.add_movements(session, _movement_rows(ids, rows, now))
    return [
        _granted(reservation_id, r, row, now)
        for reservation_id, r, row in zip(ids, granted, rows, strict=True)
    ]
