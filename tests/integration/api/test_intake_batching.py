"""The intake batcher: deliveries that wait together are stored in one transaction and
taken in in another, and each caller still hears of its own order."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from oms.api.deps import require_batched
from oms.api.intake_batching import IntakeBatcher, Taken
from oms.api.routers import order_intake
from oms.auth.permissions import Permission
from oms.db import Database
from oms.errors import Conflict, PermissionDenied, Unauthenticated, ValidationFailed
from oms.inbox.models import InboxMessage
from oms.inventory import balances
from oms.orders import intake
from oms.orders.intake import Outcome
from oms.orders.models import SalesOrder
from tests.conftest import AuthHeaders
from tests.integration.orders import factories
from tests.integration.orders.deliveries import payload

CHECK = require_batched(Permission.ORDERS_WRITE).principal


@pytest.fixture
def master(db: Database) -> Database:
    with db.transaction() as session:
        factories.master_data(session)
    return db


@pytest.fixture(params=[True, False], ids=["pipelined", "one thread"])
def paused(master: Database, request: pytest.FixtureRequest) -> Iterator[IntakeBatcher]:
    """A batcher that takes in nothing until started: what is submitted before waits, to
    be taken in as one batch (storing and taking in on two threads, or on one)."""
    batcher = IntakeBatcher(
        master,
        partial(order_intake.settle, master),
        autostart=False,
        pipelined=request.param,
    )
    yield batcher
    batcher.stop()


def send(batcher: IntakeBatcher, body: dict[str, Any], headers: dict[str, str]) -> Future[Taken]:
    return batcher.submit(json.dumps(body), headers.get("Authorization"), CHECK)


def error_of(future: Future[Taken]) -> BaseException | None:
    return future.exception(timeout=30)


def test_deliveries_waiting_together_are_taken_in_as_one_batch_each_with_its_own_answer(
    paused: IntakeBatcher, master: Database, auth_headers: AuthHeaders
) -> None:
    writer, viewer = auth_headers("integration"), auth_headers("viewer")
    stranger = {"Authorization": "Bearer nothing-we-issued"}
    first = send(paused, payload("B-1"), writer)
    invalid = send(paused, payload("B-2", lines=[("NOPE-9", 1)]), writer)
    again = send(paused, payload("B-1"), writer)
    unknown_key = send(paused, payload("B-3"), stranger)
    not_allowed = send(paused, payload("B-4"), viewer)
    second = send(paused, payload("B-5", lines=[("ABC-1", 1)]), writer)

    paused.start()

    created, duplicate, other = first.result(30), again.result(30), second.result(30)
    assert paused.batches == 1
    assert (created.result.outcome, other.result.outcome) == (Outcome.CREATED, Outcome.CREATED)
    assert duplicate.result.outcome == Outcome.DUPLICATE
    assert duplicate.result.order.id == created.result.order.id
    assert created.shown.number != other.shown.number
    failed = error_of(invalid)
    assert isinstance(failed, ValidationFailed)
    assert [p.path for p in failed.problems] == ["lines[0].sku"]
    assert isinstance(error_of(unknown_key), Unauthenticated)
    assert isinstance(error_of(not_allowed), PermissionDenied)
    with master.transaction() as session:
        kept = session.scalars(select(InboxMessage).order_by(InboxMessage.id)).all()
        orders = session.scalars(select(SalesOrder)).all()
        assert balances.verify(session).ok
    # The callers whose keys failed stored nothing; everyone else's payload is kept.
    assert [m.external_id for m in kept] == ["B-1", "B-2", "B-1", "B-5"]
    assert [str(m.status) for m in kept] == ["accepted", "failed", "duplicate", "accepted"]
    assert failed.details["inbox_id"] == kept[1].id
    assert sorted(o.external_id for o in orders) == ["B-1", "B-5"]


def test_a_refused_change_in_a_batch_is_a_409_for_its_caller_alone(
    master: Database, auth_headers: AuthHeaders
) -> None:
    writer = auth_headers("integration")
    first = IntakeBatcher(master, partial(order_intake.settle, master))
    try:
        made = send(first, payload("C-1", lines=[("ABC-1", 2)]), writer).result(30)
    finally:
        first.stop()
    with master.transaction() as session:
        factories.release_units(session, made.result.order.id, 1, 2)
    batcher = IntakeBatcher(master, partial(order_intake.settle, master), autostart=False)
    try:
        change = send(batcher, payload("C-1", lines=[("ABC-1", 1)]), writer)
        fresh = send(batcher, payload("C-2"), writer)
        batcher.start()
        refused = error_of(change)
        assert fresh.result(30).result.outcome == Outcome.CREATED
    finally:
        batcher.stop()
    assert batcher.batches == 1
    assert isinstance(refused, Conflict)
    assert refused.code == "order.change_refused"
    assert refused.details["order_id"] == made.result.order.id


def test_when_a_batch_fails_whole_each_delivery_is_taken_in_on_its_own(
    paused: IntakeBatcher,
    master: Database,
    auth_headers: AuthHeaders,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    writer = auth_headers("integration")
    taken_together = intake.receive_each

    def deadlocked(*args: Any, **kwargs: Any) -> Any:
        taken_together(*args, **kwargs)  # its writes are rolled back with the batch
        raise OperationalError("the batch", {}, Exception("deadlock detected"))

    monkeypatch.setattr(intake, "receive_each", deadlocked)
    futures = [send(paused, payload(f"D-{n}"), writer) for n in range(4)]
    futures.append(send(paused, payload("D-9", lines=[("NOPE-9", 1)]), writer))

    paused.start()

    outcomes = [f.result(30).result.outcome for f in futures[:4]]
    assert outcomes == [Outcome.CREATED] * 4
    assert isinstance(error_of(futures[4]), ValidationFailed)
    with master.transaction() as session:
        orders = session.scalars(select(SalesOrder)).all()
        statuses = session.scalars(select(InboxMessage.status).order_by(InboxMessage.id)).all()
        assert balances.verify(session).ok
    assert sorted(o.external_id for o in orders) == [f"D-{n}" for n in range(4)]
    assert [str(s) for s in statuses] == ["accepted"] * 4 + ["failed"]


def test_many_concurrent_callers_share_batches_and_each_order_is_made_once(
    master: Database, auth_headers: AuthHeaders
) -> None:
    writer = auth_headers("integration")
    batcher = IntakeBatcher(master, partial(order_intake.settle, master))
    bodies = [payload(f"E-{n % 30}", lines=[("ABC-1", 1)]) for n in range(90)]
    try:
        with ThreadPoolExecutor(30) as pool:
            taken = list(pool.map(lambda b: send(batcher, b, writer).result(60), bodies))
    finally:
        batcher.stop()

    outcomes = [t.result.outcome for t in taken]
    assert outcomes.count(Outcome.CREATED) == 30
    assert outcomes.count(Outcome.DUPLICATE) == 60
    assert len({t.result.order.id for t in taken}) == 30
    assert batcher.batches < 90  # some waited together
    with master.transaction() as session:
        assert len(session.scalars(select(SalesOrder)).all()) == 30
        assert balances.verify(session).ok


def test_a_caller_gone_before_its_batch_is_dropped_and_the_others_are_answered(
    paused: IntakeBatcher, master: Database, auth_headers: AuthHeaders
) -> None:
    writer = auth_headers("integration")
    futures = [send(paused, payload(f"G-{n}"), writer) for n in range(3)]
    assert futures[1].cancel()

    paused.start()

    assert futures[0].result(30).result.outcome == Outcome.CREATED
    assert futures[2].result(30).result.outcome == Outcome.CREATED
    with master.transaction() as session:
        kept = session.scalars(select(InboxMessage.external_id).order_by(InboxMessage.id)).all()
    assert kept == ["G-0", "G-2"]


def test_a_payload_the_database_cannot_keep_fails_alone(
    paused: IntakeBatcher, master: Database, auth_headers: AuthHeaders
) -> None:
    writer = auth_headers("integration")
    good = send(paused, payload("H-1"), writer)
    broken = paused.submit(json.dumps(payload("H-2")) + "\ud800", writer["Authorization"], CHECK)

    paused.start()

    assert good.result(30).result.outcome == Outcome.CREATED
    assert error_of(broken) is not None
    with master.transaction() as session:
        kept = session.scalars(select(InboxMessage.external_id)).all()
    assert kept == ["H-1"]


def test_deliveries_of_two_senders_are_numbered_and_taken_in_as_they_came(
    paused: IntakeBatcher, master: Database, auth_headers: AuthHeaders
) -> None:
    first, second = auth_headers("integration"), auth_headers("sales_ops")
    futures = [
        send(paused, payload("K-1"), first),
        send(paused, payload("K-2"), second),
        send(paused, payload("K-3"), first),
    ]

    paused.start()

    taken = [f.result(30) for f in futures]
    numbers = [t.shown.number for t in taken]
    assert numbers == sorted(numbers)
    assert taken[0].actor.label == taken[2].actor.label != taken[1].actor.label


def test_a_created_order_is_answered_as_made_though_a_later_delivery_changes_it(
    paused: IntakeBatcher, master: Database, auth_headers: AuthHeaders
) -> None:
    writer = auth_headers("integration")
    # A new buyer goes the general way; the second delivery changes the first's quantity.
    new_buyer = {"name": "Grace Hopper", "email": "grace@example.com"}
    made = send(paused, payload("L-1", lines=[("ABC-1", 2)], customer=new_buyer), writer)
    changed = send(paused, payload("L-1", lines=[("ABC-1", 1)], customer=new_buyer), writer)

    paused.start()

    created, change = made.result(30), changed.result(30)
    assert created.result.outcome == Outcome.CREATED
    assert (created.shown.version, created.shown.lines[0].cancelled) == (1, 0)
    assert change.result.outcome == Outcome.CHANGED
    assert change.shown.lines[0].cancelled == 1


def test_an_order_with_an_integer_beyond_64_bits_in_its_attributes_is_taken_in(
    paused: IntakeBatcher, master: Database, auth_headers: AuthHeaders
) -> None:
    writer = auth_headers("integration")
    body = payload("M-1", attributes={"loyalty_id": 10**20})

    paused.start()
    taken = send(paused, body, writer).result(30)

    assert taken.result.outcome == Outcome.CREATED
    assert taken.shown.attributes == {"loyalty_id": 10**20}
