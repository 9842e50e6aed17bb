"""Intake batching: concurrent single-order deliveries share their transactions.

Each `POST /api/v1/orders` is queued here; per process, one thread stores every
delivery that waits while a second takes in those stored before, as bulk intake
runs its chunks:

1. one transaction authenticates each caller (each distinct key once) and stores
   every payload raw, with the numbers the orders would get (one statement on
   PostgreSQL) — committed before anything parses them;
2. one transaction takes them in, in the order they came (`intake.receive_each`:
   a run of orders the express lane may take is read, written and its units taken
   together; any other order runs alone in a savepoint, and a bad one is noted
   failed on its inbox message without touching the rest), and shows each order.

Every caller still gets its own answer: 201 or 200 with its order, 422 with its
problems, 409 with the reason a change was refused, 401/403 for its key. Step 2
that meets a lock conflict (a deadlock between two processes' batches, or a stale
read: units the lane planned with taken meanwhile) is rolled back and run again;
when it fails as a whole otherwise, or again and again, each delivery is taken in on
its own, as an unbatched request would be; the payloads stay stored either way.

A delivery waits for the batch ahead of it, never for a timer: one alone is taken at
once. The batcher is an entry point: it owns its transactions (ARCHITECTURE.md rule 2).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field

import structlog
from sqlalchemy.orm import Session

from oms.api.deps import Check
from oms.auth.principal import Principal
from oms.db import Database
from oms.errors import OmsError, ValidationFailed
from oms.kit.queues import drain
from oms.orders import intake, views
from oms.orders.intake import IntakeResult
from oms.orders.views import OrderOut

log = structlog.get_logger("oms.intake")


@dataclass(frozen=True)
class Taken:
    """One delivery taken in: who sent it, its inbox message, what became of it, the order."""

    actor: Principal
    inbox_id: int
    result: IntakeResult
    shown: OrderOut


Answer = Taken | OmsError
Settle = Callable[[int, str, str, Principal], Taken]
"""Takes one stored delivery in on its own (inbox id, body, number, actor), or raises."""


class Reply(Future[Taken]):
    """What became of a delivery, or the error its caller is answered with; `sender`: who
    sent it, once the batcher authenticated them (for the access log, errors included)."""

    sender: Principal | None = None


@dataclass
class _Delivery:
    body: str
    authorization: str | None
    check: Check
    request_id: str | None = None
    """The request it came with, for its audit rows and events."""
    future: Reply = field(default_factory=Reply)
    inbox_id: int = 0
    number: str = ""

    @property
    def actor(self) -> Principal | None:
        return self.future.sender

    @actor.setter
    def actor(self, principal: Principal) -> None:
        self.future.sender = principal


class IntakeBatcher:
    """Takes queued single-order deliveries in: stores at most `max_batch` together, and
    takes in stored batches together until they hold `max_batch` or more.

    Two threads make a pipeline: one stores what waits (step 1) while the other takes in
    what was stored before (step 2); what was stored while step 2 ran is taken in
    together next, so a busy process takes in larger batches than it stores. With
    `pipelined` off, one thread does both steps in turn (SQLite: both wait for the same
    write lock, and handing it between two threads only adds waits)."""

    def __init__(
        self,
        database: Database,
        settle: Settle,
        *,
        max_batch: int = 100,
        observe: Callable[[int], None] | None = None,
        autostart: bool = True,
        pipelined: bool = True,
    ) -> None:
        self.database = database
        self.settle = settle
        self.max_batch = max_batch
        self.observe = observe
        self.autostart = autostart
        self.pipelined = pipelined
        self.batches = 0
        """Batches taken in (step 2)."""
        self.largest = 0
        self._queue: queue.SimpleQueue[_Delivery | None] = queue.SimpleQueue()
        self._stored: queue.SimpleQueue[list[_Delivery] | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def submit(self, body: str, authorization: str | None, check: Check) -> Reply:
        """Queue a delivery; the future resolves to what became of it, or to the error its
        caller is answered with."""
        if self.autostart:
            self.start()
        request_id = structlog.contextvars.get_contextvars().get("request_id")
        delivery = _Delivery(body, authorization, check, request_id)
        self._queue.put(delivery)
        return delivery.future

    def stop(self) -> None:
        """Finish what was submitted, then stop both threads."""
        with self._lock:
            threads, self._threads = self._threads, []
        if threads:
            self._queue.put(None)
            for thread in threads:
                thread.join(timeout=10)

    def start(self) -> None:
        """Start taking deliveries in (the first `submit` does, unless `autostart` is off:
        then what was submitted before waits, to be taken in as one batch)."""
        with self._lock:
            if not self._threads:
                self._threads = [
                    threading.Thread(target=self._run_store, name="oms-intake-store", daemon=True)
                ]
                if self.pipelined:
                    self._threads.append(
                        threading.Thread(target=self._run_take, name="oms-intake", daemon=True)
                    )
                for thread in self._threads:
                    thread.start()

    def _run_store(self) -> None:
        while True:
            waiting = drain(self._queue, self.max_batch)
            if waiting is None:
                self._stored.put(None)
                return
            # A caller gone (its request cancelled) is dropped; the rest can no longer be
            # cancelled, so each will be answered exactly once.
            batch = [d for d in waiting if d.future.set_running_or_notify_cancel()]
            stored = self._stored_each(batch)
            if stored and self.pipelined:
                self._stored.put(stored)
            elif stored:
                self._take_in_guarded(stored)

    def _run_take(self) -> None:
        while True:
            # What was stored meanwhile, stored batches together.
            stored = drain(self._stored, self.max_batch, size=len)
            if stored is None:
                return
            self._take_in_guarded([delivery for group in stored for delivery in group])

    def _take_in_guarded(self, batch: list[_Delivery]) -> None:
        try:
            self._take_in(batch)
        except Exception as exc:  # every waiting caller must hear of it
            log.exception("intake_batch_failed", size=len(batch))
            _fail(batch, exc)

    def _take_in(self, stored: list[_Delivery]) -> None:
        """Step 2 for deliveries stored (step 1); each caller answered."""
        self.batches += 1
        self.largest = max(self.largest, len(stored))
        if self.observe is not None:
            self.observe(len(stored))
        try:
            answers = self.database.run(lambda session: _received(session, stored))
        except Exception:
            log.warning("intake_batch_retried_alone", size=len(stored), exc_info=True)
            for delivery in stored:
                self._settle_alone(delivery)
            return
        for delivery, answer in zip(stored, answers, strict=True):
            if isinstance(answer, OmsError):
                delivery.future.set_exception(answer)
            elif isinstance(answer, Taken):
                delivery.future.set_result(answer)
            else:  # taken by the express lane: shown from its rows, after the commit
                assert delivery.actor is not None
                assert answer.pending is not None
                shown = answer.pending.shown(answer.order, answer.lines)
                delivery.future.set_result(Taken(delivery.actor, delivery.inbox_id, answer, shown))

    def _stored_each(self, batch: list[_Delivery]) -> list[_Delivery]:
        """`_store` for the batch; when that fails whole (a payload the database refuses,
        a dropped connection), each delivery is stored on its own, so that only a
        delivery that cannot be stored fails."""
        if not batch:
            return []
        try:
            return self._store(batch)
        except Exception:
            log.warning("intake_store_retried_alone", size=len(batch), exc_info=True)
        stored = []
        for delivery in batch:
            if delivery.future.done():
                continue
            try:
                stored += self._store([delivery])
            except Exception as exc:
                log.exception("intake_store_failed")
                delivery.future.set_exception(exc)
        return stored

    def _store(self, batch: list[_Delivery]) -> list[_Delivery]:
        """Authenticate each caller and store the payloads of those who may send orders,
        with their numbers, in one transaction; those are returned, the rest answered."""
        with self.database.transaction() as session:
            checked: dict[str | None, Principal | OmsError] = {}
            refused: list[tuple[_Delivery, OmsError]] = []
            stored: list[_Delivery] = []
            for delivery in batch:
                if delivery.authorization not in checked:
                    try:
                        checked[delivery.authorization] = delivery.check(
                            session, delivery.authorization
                        )
                    except OmsError as exc:
                        checked[delivery.authorization] = exc
                found = checked[delivery.authorization]
                if isinstance(found, OmsError):
                    refused.append((delivery, found))
                else:
                    delivery.actor = found
                    stored.append(delivery)
            for actor, run in _runs(stored):
                kept = intake.store_numbered(
                    session, [d.body for d in run], source="api", actor=actor
                )
                for delivery, (inbox_id, number) in zip(run, kept, strict=True):
                    delivery.inbox_id, delivery.number = inbox_id, number
        for delivery, error in refused:  # once nothing of the batch can fail any more
            delivery.future.set_exception(error)
        return stored

    def _settle_alone(self, delivery: _Delivery) -> None:
        assert delivery.actor is not None
        try:
            with structlog.contextvars.bound_contextvars(request_id=delivery.request_id):
                taken = self.settle(
                    delivery.inbox_id, delivery.body, delivery.number, delivery.actor
                )
        except Exception as exc:
            delivery.future.set_exception(exc)
        else:
            delivery.future.set_result(taken)


def _fail(batch: Sequence[_Delivery], error: Exception) -> None:
    for delivery in batch:
        if not delivery.future.done():
            delivery.future.set_exception(error)


def _runs(deliveries: Sequence[_Delivery]) -> list[tuple[Principal, list[_Delivery]]]:
    """The deliveries in the order they came, in runs of one sender each."""
    runs: list[tuple[Principal, list[_Delivery]]] = []
    for delivery in deliveries:
        assert delivery.actor is not None
        if runs and runs[-1][0].label == delivery.actor.label:
            runs[-1][1].append(delivery)
        else:
            runs.append((delivery.actor, [delivery]))
    return runs


def _received(session: Session, stored: list[_Delivery]) -> list[Answer | IntakeResult]:
    """Take the stored deliveries in, in the order they came; each one's answer, in the
    order given. An order that went the general way is shown as soon as it is done
    (a later delivery in the batch may change it); one the express lane took is left to
    be shown once the transaction is committed, from the rows the lane wrote (the sooner
    the commit, the sooner its locks — balance rows, SQLite's write lock — go)."""
    answers: list[Answer | IntakeResult | None] = [None] * len(stored)
    start = 0
    for actor, run in _runs(stored):

        def answered(
            index: int,
            outcome: IntakeResult | ValidationFailed,
            first: int = start,
            run: list[_Delivery] = run,
            actor: Principal = actor,
        ) -> None:
            answers[first + index] = _answer(session, run[index], actor, outcome)

        outcomes = intake.receive_each(
            session,
            [(d.inbox_id, d.body) for d in run],
            actor=actor,
            numbers=[d.number for d in run],
            request_ids=[d.request_id for d in run],
            after=answered,
        )
        for index, outcome in enumerate(outcomes):
            if answers[start + index] is None:
                answered(index, outcome)
        start += len(run)
    return [answer for answer in answers if answer is not None]


def _answer(
    session: Session,
    delivery: _Delivery,
    actor: Principal,
    outcome: IntakeResult | ValidationFailed,
) -> Answer | IntakeResult:
    if isinstance(outcome, ValidationFailed):
        return intake.kept_but_refused(delivery.inbox_id, outcome)
    refused = intake.refusal(delivery.inbox_id, outcome)
    if refused is not None:
        return refused
    if outcome.pending is not None:
        return outcome
    return Taken(actor, delivery.inbox_id, outcome, views.order_out(session, outcome.order))
