"""Order intake: one channel order in, one sales order out, exactly once.

    payload ─► parse ─► check channel, SKUs, currency, totals, customer
                          │ problems: refuse them all (ValidationFailed), or, when
                          │ the channel says so, go on and hold the order
                          ▼
    INSERT … ON CONFLICT (channel, external id) DO NOTHING
        inserted  ─► lines, allocation, credit check, holds, status, timeline  → created
        existed, same content hash                                            → duplicate
        existed, other content ─► change request (lifecycle)        → changed | refused

The unique constraint, not a read before the write, decides which of several
concurrent deliveries creates the order. An entry point stores the raw payload
in the inbox first, in a transaction of its own (`store`), then calls `receive`
in a second one, which also records the outcome; when that fails, it records
the failure in a third (`record_failure`), so the payload can be replayed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, NamedTuple

import structlog
from sqlalchemy.orm import Session

from oms import sequences
from oms.auth import service as auth
from oms.auth.permissions import Permission
from oms.auth.principal import Principal
from oms.catalog.models import Channel, Customer, Item
from oms.errors import Conflict, OmsError, Problem, ValidationFailed
from oms.inbox import service as inbox
from oms.inbox.models import InboxMessage, InboxStatus
from oms.kit import clock
from oms.kit.transient import transient
from oms.orders import (
    allocation,
    buyers,
    credit,
    edits,
    express,
    master_data,
    repository,
    status,
    timeline,
    validation,
)
from oms.orders.models import HoldType, OrderHold, OrderLine, OrderStatus, SalesOrder
from oms.orders.schemas import OrderIn, computed_totals, content_hash
from oms.orders.validation import Parsed

KIND = "sales_order"
SEQUENCE = "sales_order"


class Outcome(StrEnum):
    CREATED = "created"
    DUPLICATE = "duplicate"
    CHANGED = "changed"
    REFUSED = "refused"


INBOX_STATUS = {
    Outcome.CREATED: InboxStatus.ACCEPTED,
    Outcome.DUPLICATE: InboxStatus.DUPLICATE,
    Outcome.CHANGED: InboxStatus.CHANGED,
    Outcome.REFUSED: InboxStatus.REFUSED,
}


@dataclass(frozen=True)
class IntakeResult:
    """What became of one delivery: the order made, found or changed, with its lines and
    active holds; `problems` are those the order was held for (or why a change was refused)."""

    outcome: Outcome
    order: SalesOrder
    lines: list[OrderLine]
    holds: list[OrderHold]
    problems: list[Problem] = field(default_factory=list)
    reason: str | None = None
    """Why a change request was refused."""
    details: dict[str, Any] = field(default_factory=dict)
    """What a change request changed, or the particulars of its refusal."""
    pending: express.Taken | None = None
    """Taken by the express lane: its writes, still to send with the inbox outcome."""


# -- entry points' steps ---------------------------------------------------------------


def inbound(body: str, *, source: str) -> inbox.Inbound:
    """A payload as the inbox keeps it, with its channel and external id when readable."""
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    fields = data if isinstance(data, dict) else {}
    return inbox.Inbound(
        kind=KIND,
        source=source,
        body=body,
        channel=_short_text(fields.get("channel"), 32),
        external_id=_short_text(fields.get("external_id"), 100),
    )


def _short_text(value: Any, limit: int) -> str | None:
    """A short text a database column keeps (no NUL, no lone surrogate), else None."""
    if not isinstance(value, str) or not 0 < len(value.strip()) <= limit or "\x00" in value:
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return value.strip()


def store(session: Session, bodies: Sequence[str], *, source: str, actor: Principal) -> list[int]:
    """Keep payloads raw, before anything reads them (one statement); their inbox ids."""
    return inbox.store_many(session, [inbound(b, source=source) for b in bodies], actor=actor.label)


def store_one(session: Session, body: str, *, source: str, actor: Principal) -> tuple[int, str]:
    """Keep one payload raw and draw the number its order would get (`store` and
    `draw_numbers` in one statement); its inbox id and that number."""
    [(inbox_id, number)] = store_numbered(session, [body], source=source, actor=actor)
    return inbox_id, number


def store_numbered(
    session: Session, bodies: Sequence[str], *, source: str, actor: Principal
) -> list[tuple[int, str]]:
    """Keep payloads raw and draw the numbers their orders would get, in one statement
    (PostgreSQL); each one's inbox id and number, in the order given."""
    now = clock.now()
    rows = [inbox.row(inbound(b, source=source), actor=actor.label, now=now) for b in bodies]
    ids, last = repository.store_numbered(session, rows, SEQUENCE)
    first = last - len(ids) + 1
    return [(inbox_id, _number(first + n)) for n, inbox_id in enumerate(ids)]


def draw_numbers(session: Session, count: int) -> list[str]:
    """`count` new order numbers in one statement. Drawn with the raw payloads, in their
    short transaction, the counter's row is not locked for a whole intake (PostgreSQL);
    a number whose payload turns out a duplicate or fails is skipped, like a sequence's."""
    last = sequences.next_value(session, SEQUENCE, count=count)
    return [_number(n) for n in range(last - count + 1, last + 1)]


def _number(value: int) -> str:
    return f"SO-{value:06d}"


def receive(
    session: Session,
    inbox_id: int,
    body: str,
    *,
    actor: Principal,
    number: str | None = None,
    lane: bool = True,
) -> IntakeResult:
    """Parse and accept a stored payload, and note the outcome on its inbox message;
    `number` (from `draw_numbers`) names the order if one is made; `lane=False` keeps it
    off the express lane."""
    parsed = validation.parse(body)
    result = _accept(session, parsed, inbox_id=inbox_id, actor=actor, number=number, lane=lane)
    outcome = _outcome(inbox_id, result)
    if result.pending is not None:
        result.pending.send(session, result.order, outcome)
    else:
        inbox.write_outcome(session, outcome)
    return result


def _outcome(inbox_id: int, result: IntakeResult) -> dict[str, Any]:
    """What the inbox message notes of the result."""
    refusal = [Problem("body", result.reason, "order.change_refused")] if result.reason else []
    return inbox.outcome_values(
        inbox_id,
        status=INBOX_STATUS[result.outcome],
        document_id=result.order.number,
        outcome=summary(result),
        problems=result.problems or refusal,
    )


def receive_each(
    session: Session,
    messages: Sequence[tuple[int, str]],
    *,
    actor: Principal,
    numbers: Sequence[str] | None = None,
    request_ids: Sequence[str | None] | None = None,
    after: Callable[[int, IntakeResult | ValidationFailed], None] | None = None,
) -> list[IntakeResult | ValidationFailed]:
    """`receive` for many stored payloads, in the order given; one bad order leaves the
    others alone, a failure noted on its message and returned. A run of orders the
    express lane may take goes together (one read, one write, one take for the run);
    every other one runs alone, in a savepoint of its own.

    `request_ids`: the request each message came with, for its audit rows and events
    (else the caller's own). `after(index, outcome)` is called as soon as a message that
    went the general way is done, before any later message can change its order."""
    outcomes: list[IntakeResult | ValidationFailed | None] = [None] * len(messages)

    def alone(position: int) -> IntakeResult | ValidationFailed:
        with _sent_with(request_ids[position] if request_ids else None):
            outcome = _received_alone(session, messages[position], numbers, position, actor)
        if after is not None:
            after(position, outcome)
        return outcome

    index = 0
    while index < len(messages):
        run: list[_Arrival] = []
        while index + len(run) < len(messages):
            arrival = _lane_arrival(
                session, messages, index + len(run), numbers, request_ids, actor
            )
            if arrival is None:
                break
            run.append(arrival)
        taken = _express(session, run, actor=actor).results
        written = []
        for position, (arrival, result) in enumerate(zip(run, taken, strict=True)):
            if result is not None and result.pending is not None:
                outcomes[index + position] = result
                outcome = _outcome(arrival.inbox_id, result) if arrival.inbox_id else None
                written.append((result.pending, result.order, outcome))
        if written:
            express.send(session, written)
        # After the lane's writes, the general way: each of the run the lane did not take
        # up to the last it took (one a concurrent delivery made meanwhile), then the
        # message the run stopped at.
        last = max((p for p, result in enumerate(taken) if result is not None), default=-1)
        for position in range(last + 1):
            if outcomes[index + position] is None:
                outcomes[index + position] = alone(index + position)
        index += last + 1
        if index < len(messages):
            outcomes[index] = alone(index)
            index += 1
    return [outcome for outcome in outcomes if outcome is not None]


def receive_numbered(
    session: Session, stored: Sequence[tuple[int, str, str]], *, actor: Principal
) -> list[IntakeResult | ValidationFailed]:
    """`receive_each` for payloads `store_numbered` kept, given as (inbox id, body, the
    number drawn with it)."""
    return receive_each(
        session,
        [(inbox_id, body) for inbox_id, body, _ in stored],
        actor=actor,
        numbers=[number for _, _, number in stored],
    )


def _lane_arrival(
    session: Session,
    messages: Sequence[tuple[int, str]],
    index: int,
    numbers: Sequence[str] | None,
    request_ids: Sequence[str | None] | None,
    actor: Principal,
) -> _Arrival | None:
    """The message as the express lane takes it, if it may: it parses, shows no problem
    and is eligible."""
    inbox_id, body = messages[index]
    try:
        parsed = validation.parse(body)
    except OmsError:
        return None  # the general way records the failure
    known = _known(session, parsed, actor)
    if known.problems or not express.eligible(parsed.order, known.data):
        return None
    return _Arrival(
        parsed,
        known,
        inbox_id,
        numbers[index] if numbers else None,
        request_ids[index] if request_ids else None,
    )


def _received_alone(
    session: Session,
    message: tuple[int, str],
    numbers: Sequence[str] | None,
    index: int,
    actor: Principal,
) -> IntakeResult | ValidationFailed:
    """One message the general way, in a savepoint; a failure noted on it and returned."""
    inbox_id, body = message
    number = numbers[index] if numbers else None
    try:
        with session.begin_nested():
            return receive(session, inbox_id, body, actor=actor, number=number, lane=False)
    except OmsError as exc:
        failed = as_validation_failure(exc)
        record_failure(session, inbox_id, failed.problems)
        return failed


def _sent_with(request_id: str | None) -> AbstractContextManager[object]:
    """The request a message came with, as the audit trail and outbox read it."""
    if request_id is None:
        return nullcontext()
    return structlog.contextvars.bound_contextvars(request_id=request_id)


def record_failure(session: Session, inbox_id: int, problems: Sequence[Problem]) -> None:
    """Mark a stored payload failed, with every problem, for a replay after the fix."""
    inbox.record_outcome(session, inbox_id, status=InboxStatus.FAILED, problems=problems)


def as_validation_failure(error: OmsError) -> ValidationFailed:
    """Any business failure of an intake as field problems (an inbox message keeps those)."""
    if isinstance(error, ValidationFailed):
        return error
    return ValidationFailed([Problem("body", error.message, error.code)], code=error.code)


def kept_but_refused(inbox_id: int, failed: ValidationFailed) -> ValidationFailed:
    """The 422 a caller gets for a stored payload that was not accepted: every problem,
    and the inbox message that keeps it for a replay."""
    refused = ValidationFailed(
        failed.problems,
        message=f"the order is kept as inbox message {inbox_id} but was not accepted",
    )
    refused.details["inbox_id"] = inbox_id
    return refused


def refusal(inbox_id: int, result: IntakeResult) -> Conflict | None:
    """The 409 a caller gets for a change request the order no longer allows, if refused."""
    if result.outcome != Outcome.REFUSED:
        return None
    return Conflict(
        result.reason or "the change was refused",
        code="order.change_refused",
        inbox_id=inbox_id,
        order_id=result.order.id,
        number=result.order.number,
        **{k: v for k, v in result.details.items() if k not in ("number", "code")},
    )


STRANDED_AFTER = dt.timedelta(minutes=5)
"""How long a stored order payload may wait to be taken in before it counts as stranded
(a batch takes milliseconds)."""


INTERRUPTED = "inbox.interrupted"
SUPERSEDED = "inbox.superseded"


def cut_off(why: str, *, code: str = INTERRUPTED) -> Problem:
    """Why a payload whose processing was cut off (the process taking it in stopped) was
    not taken in, for a person to replay it."""
    return Problem("body", f"the order was stored but its processing was cut off: {why}", code)


def interrupted(sender: str) -> Problem:
    """A stranded payload whose sender may no longer send orders."""
    return cut_off(f"its sender ({sender}) may no longer send orders; replay it to take it in")


def not_resumed(error: Exception) -> Problem:
    """A stranded payload whose taking in again failed unexpectedly."""
    return cut_off(
        f"taking it in again failed ({type(error).__name__}); replay it once the cause is fixed"
    )


def superseded(later: int) -> Problem:
    """A stranded payload a later delivery of the same order came after."""
    return cut_off(
        f"a later delivery of the same order came after it (inbox message {later}), which "
        "taking it in now would undo; replay it if it should still apply",
        code=SUPERSEDED,
    )


def stranded(session: Session, *, limit: int) -> list[int]:
    """Order payloads stored over `STRANDED_AFTER` ago and never taken in (the process
    that stored them stopped first), oldest first, at most `limit`."""
    return inbox.stranded(session, kind=KIND, before=clock.now() - STRANDED_AFTER, limit=limit)


def resume(
    session: Session, message_id: int, *, number: str
) -> IntakeResult | ValidationFailed | None:
    """Take in a stranded payload as its sender's delivery would have been: as that
    sender stands now (an API key not revoked, an active user, with their scope; the
    CLI's operator), its order numbered `number` (drawn before, in a short transaction,
    as every intake's is) if one is made. Failed instead, to be replayed by a person,
    when that sender may no longer send orders (`inbox.interrupted`) or when a later
    delivery of the same order came after it (`inbox.superseded`: taken in now, as a
    change, it would undo that one). None when it is not stranded any more (taken in
    meanwhile, or being taken in by another worker)."""
    message = inbox.received_locked(session, message_id)
    if message is None:
        return None
    sender = auth.principal_named(session, message.actor)
    later = inbox.later_delivery(session, message)
    if later is not None:
        failed = ValidationFailed([superseded(later)], code=SUPERSEDED)
    elif sender is None or not sender.can(Permission.ORDERS_WRITE):
        failed = ValidationFailed([interrupted(message.actor)], code=INTERRUPTED)
    else:
        [outcome] = receive_each(
            session, [(message_id, message.body)], actor=sender, numbers=[number]
        )
        return outcome
    record_failure(session, message_id, failed.problems)
    return failed


def give_up(session: Session, message_id: int, problem: Problem) -> bool:
    """Mark a stranded payload failed with `problem`, if it is still stranded (nobody
    took it in meanwhile, nobody holds it now); whether it was."""
    if inbox.received_locked(session, message_id) is None:
        return False
    record_failure(session, message_id, [problem])
    return True


def replayable(session: Session, message_id: int, *, actor: Principal) -> InboxMessage:
    """A stored order payload that failed, to be run again after a fix; a message of a
    channel outside `actor`'s scope does not exist."""
    message = inbox.get(session, message_id, channels=actor.channels)
    if message.kind != KIND or message.status != InboxStatus.FAILED:
        raise Conflict(
            f"inbox message {message_id} is a {message.kind} payload that is {message.status}; "
            f"only a failed {KIND} payload can be replayed",
            code="inbox.not_replayable",
            kind=message.kind,
            status=str(message.status),
        )
    return message


def summary(result: IntakeResult) -> dict[str, Any]:
    """The outcome an inbox message keeps."""
    return {
        "outcome": result.outcome.value,
        "order_id": result.order.id,
        "number": result.order.number,
        "status": str(result.order.status),
        "holds": [str(h.type) for h in result.holds],
    }


# -- the service -----------------------------------------------------------------------


def accept(
    session: Session,
    payload: OrderIn,
    *,
    inbox_id: int | None,
    actor: Principal,
    number: str | None = None,
) -> IntakeResult:
    """Create the order, or recognise a re-delivery of it (duplicate or change request)."""
    result = _accept(session, Parsed(order=payload), inbox_id=inbox_id, actor=actor, number=number)
    if result.pending is not None:
        result.pending.send(session, result.order, None)
    return result


def _accept(
    session: Session,
    parsed: Parsed,
    *,
    inbox_id: int | None,
    actor: Principal,
    number: str | None,
    lane: bool = True,
) -> IntakeResult:
    payload = parsed.order
    known = _known(session, parsed, actor)
    for _ in range(2):
        if lane and not known.problems and express.eligible(payload, known.data):
            arrival = _Arrival(parsed, known, inbox_id, number)
            lane_taken = _express(session, [arrival], actor=actor)
            if lane_taken.results[0] is not None:
                return lane_taken.results[0]
            number = number or lane_taken.drawn.get(0)
            if lane_taken.current:
                break  # its read found what is kept current: no need to ask again
        current = repository.master_data_generation(session)
        if current == known.generation:
            break
        # What was kept is no longer current: read it again (and try the lane again).
        master_data.forget(session, current)
        known = _known(session, parsed, actor)
    channel, items, unusable, problems = known.channel, known.items, known.unusable, known.problems
    customer, customer_problems = buyers.linked(session, payload.customer)
    problems += customer_problems
    if unusable:
        raise ValidationFailed(problems)
    assert channel is not None
    if problems and validation.on_invalid(channel) != validation.HOLD:
        raise ValidationFailed(problems)
    if customer is None and not customer_problems:
        customer = buyers.made_for(session, payload, actor=actor)

    values = _order_values(
        parsed,
        channel=channel,
        customer=customer,
        number=number or _number(sequences.next_value(session, SEQUENCE)),
        inbox_id=inbox_id,
    )
    order_id = repository.insert_order_once(session, values)
    if order_id is None:
        return _redelivery(session, channel, parsed, values["content_hash"], problems, actor=actor)

    order = SalesOrder(id=order_id, **values)
    repository.attach(session, order)
    lines = _lines(payload, order_id=order_id, items=items)
    repository.add_lines(session, lines)
    allocated = allocation.allocate(
        session,
        order,
        [line for line in lines if _allocatable(line, items)],
        actor=actor,
        channel=channel.code,
        hazmat={item.id: item.hazmat for item in items.values()},
        new_order=True,
    )

    held = validation.holds_for(problems)
    if allocated.review:
        held.append((HoldType.MANUAL, allocation.REVIEW_HOLD))
    if customer is not None and (reason := credit.check(session, customer, order)):
        held.append((HoldType.CREDIT, reason))
    holds = _place_holds(session, order, held, actor=actor)
    order.status = _derived(lines)
    timeline.record(
        session,
        order,
        "created",
        actor=actor,
        data=_created(order, channel, inbox_id, allocated.routing(), lines=len(lines)),
    )
    for hold in holds:
        timeline.record(
            session,
            order,
            "held",
            actor=actor,
            data={"hold_id": hold.id, "type": str(hold.type), "reason": hold.reason},
        )
    return IntakeResult(Outcome.CREATED, order, lines, holds, problems)


def _created(
    order: SalesOrder,
    channel: Channel,
    inbox_id: int | None,
    routed: dict[str, object],
    *,
    lines: int,
) -> dict[str, Any]:
    """What the order's `created` event says."""
    return {
        "channel": channel.code,
        "inbox_id": inbox_id,
        "lines": lines,
        "total": str(order.total),
        "currency": order.currency,
        **routed,
    }


@dataclass(frozen=True)
class _Known:
    """The channel and items of a payload, from the master data kept, with the problems
    they show (the buyer's are for later)."""

    generation: int | None
    data: master_data.ChannelData | None
    items: dict[str, Item]
    unusable: list[Problem]
    problems: list[Problem]

    @property
    def channel(self) -> Channel | None:
        return self.data.channel if self.data is not None else None


def _known(session: Session, parsed: Parsed, actor: Principal) -> _Known:
    payload = parsed.order
    skus = [line.sku for line in payload.lines]
    kept = master_data.snapshot(session, payload.channel, skus)
    data = kept.channels.get(payload.channel)
    channel = data.channel if data is not None else None
    items = master_data.items_of(kept, skus)
    unusable = validation.channel_problems(
        channel, payload.channel, visible=actor.sees_channel(payload.channel)
    )
    problems = [
        *parsed.address_problems,
        *unusable,
        *validation.catalog_problems(payload, channel=None if unusable else channel, items=items),
    ]
    return _Known(kept.generation, data, items, unusable, problems)


def _key(arrival: _Arrival) -> tuple[int, str]:
    """The (channel id, external id) an arrival's order is known by."""
    assert arrival.known.data is not None  # the lane takes no order of an unknown channel
    return arrival.known.data.channel.id, arrival.parsed.order.external_id


class _Arrival(NamedTuple):
    """A payload the express lane may take."""

    parsed: Parsed
    known: _Known
    inbox_id: int | None
    number: str | None
    request_id: str | None = None
    """The request it came with, when not the caller's own."""


class _Lane(NamedTuple):
    """What the express lane made of some arrivals (`_express`)."""

    results: list[IntakeResult | None]
    drawn: dict[int, str]
    current: bool
    """The lane read the master-data counter and found the copy kept current."""


def _express(session: Session, arrivals: Sequence[_Arrival], *, actor: Principal) -> _Lane:
    """The orders the express lane takes, in one read, one draw of ids and (when their
    results are sent: `express.send`) one write and one take for all, their writes pending
    (`IntakeResult.pending`); None for each that goes the general way, nothing written
    for it: a new or credit-checked buyer, a plan asking for review, an order that exists
    already or comes twice in `arrivals`. (One a concurrent delivery makes between the
    read and the write, or units a concurrent order takes meanwhile, make the send raise
    `StaleRead`, and the transaction is run again.)

    The orders are planned one after the other, each on the stock the ones before left;
    the lane stops at the first it cannot take (None for it and every one after), so
    that no order takes stock ahead of one that arrived before it.
    Also returned: the numbers drawn for arrivals that came without one, by index (an
    order that goes the general way keeps it: no number is skipped)."""
    results: list[IntakeResult | None] = [None] * len(arrivals)
    drawn: dict[int, str] = {}
    if not arrivals:
        return _Lane(results, drawn, current=False)
    generation = arrivals[0].known.generation
    reading = express.read(
        session,
        [item for a in arrivals for item in a.known.items.values()],
        [a.parsed.order.customer.email or "" for a in arrivals],
        [_key(a) for a in arrivals],
        orders=len(arrivals),
        lines=sum(len(a.parsed.order.lines) for a in arrivals),
        generation=generation,
    )
    if reading is None:
        return _Lane(results, drawn, current=False)
    order_ids, line_ids = iter(reading.ids[SalesOrder]), iter(reading.ids[OrderLine])
    available = dict(reading.available)
    seen = set(reading.existing)
    staged: list[tuple[int, SalesOrder, list[OrderLine], dict[str, Any], express.Planned]] = []
    for index, arrival in enumerate(arrivals):
        payload, data, items = arrival.parsed.order, arrival.known.data, arrival.known.items
        assert data is not None
        order_id, ids = next(order_ids), [next(line_ids) for _ in payload.lines]
        key = (data.channel.id, payload.external_id)
        customer = express.buyer(reading, payload.customer.email or "")
        if customer is None or key in seen or arrival.known.generation != generation:
            break
        seen.add(key)
        number = arrival.number
        if number is None:
            number = drawn[index] = _number(sequences.next_value(session, SEQUENCE))
        values = _order_values(
            arrival.parsed,
            channel=data.channel,
            customer=customer,
            number=number,
            inbox_id=arrival.inbox_id,
        )
        # Written by the lane's own statements: objects to read, never in the session.
        order = transient(SalesOrder, {"id": order_id, **values})
        lines = [
            transient(OrderLine, {"id": line_id, **line})
            for line_id, line in zip(ids, _line_values(payload, order_id, items), strict=True)
        ]
        hazmat = {item.id: item.hazmat for item in items.values()}
        planned = express.plan(
            data,
            allocation.order_to_route(order, data.channel.code),
            allocation.lines_to_route(lines, hazmat),
            hazmat,
            available,
        )
        if planned is None:
            break
        staged.append((index, order, lines, values, planned))
    if not staged:
        return _Lane(results, drawn, current=True)
    given = express.ids_for(session, [planned for *_, planned in staged])
    for (index, order, lines, values, planned), its in zip(staged, given, strict=True):
        taken = express.Taken(its, order, values, lines, planned, actor=actor)
        order.status = _derived(lines)
        channel = planned.rules.channel
        with _sent_with(arrivals[index].request_id):
            taken.record(
                order,
                "created",
                actor=actor,
                data=_created(
                    order, channel, arrivals[index].inbox_id, taken.routing(), lines=len(lines)
                ),
            )
        results[index] = IntakeResult(Outcome.CREATED, order, lines, [], [], pending=taken)
    return _Lane(results, drawn, current=True)


def _redelivery(
    session: Session,
    channel: Channel,
    parsed: Parsed,
    digest: str,
    problems: list[Problem],
    *,
    actor: Principal,
) -> IntakeResult:
    """The order exists: the same content is a duplicate, other content a change request."""
    existing = repository.order_by_external_id(session, channel.id, parsed.order.external_id)
    assert existing is not None, "the insert found the order, so it exists"
    if existing.content_hash == digest:
        return IntakeResult(
            Outcome.DUPLICATE,
            existing,
            repository.lines_of(session, existing.id),
            repository.holds_of(session, existing.id, active_only=True),
        )
    # A change reaches a live order only when it is valid as a whole: no holds for it.
    if problems:
        raise ValidationFailed(problems)
    return _change_request(session, existing, parsed.order, actor=actor)


def _change_request(
    session: Session, order: SalesOrder, incoming: OrderIn, *, actor: Principal
) -> IntakeResult:
    """Hand a re-delivery with other content to the lifecycle, which applies it if the
    order still allows it, else refuses it with the reason and changes nothing."""
    change = edits.apply_change_request(session, order, incoming, actor=actor)
    return IntakeResult(
        Outcome.CHANGED if change.applied else Outcome.REFUSED,
        order,
        repository.lines_of(session, order.id),
        repository.holds_of(session, order.id, active_only=True),
        reason=change.reason,
        details=change.details if not change.applied else change.changes,
    )


# -- parts -----------------------------------------------------------------------------


def _digest(parsed: Parsed) -> str:
    """The content hash; addresses set apart as malformed count as sent."""
    if not parsed.addresses:
        return content_hash(parsed.order)
    canonical = json.dumps(
        {"order": content_hash(parsed.order), "addresses": parsed.addresses},
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _order_values(
    parsed: Parsed,
    *,
    channel: Channel,
    customer: Customer | None,
    number: str,
    inbox_id: int | None,
) -> dict[str, Any]:
    """Every column of the new order (it is not read back after the insert)."""
    payload = parsed.order
    totals = computed_totals(payload)
    now = clock.now()
    addresses = {
        name: parsed.addresses.get(name)
        or (address.model_dump(mode="json", exclude_none=True) if address else None)
        for name, address in (("ship_to", payload.ship_to), ("bill_to", payload.bill_to))
    }
    cancelled = payload.cancelled
    return {
        "number": number,
        "channel_id": channel.id,
        "external_id": payload.external_id,
        "customer_id": customer.id if customer else None,
        "customer_name": payload.customer.name or (customer.name if customer else None),
        "customer_email": payload.customer.email or (customer.email if customer else None),
        "bill_to": addresses["bill_to"],
        "ship_to": addresses["ship_to"],
        "currency": payload.currency,
        "subtotal": _money(totals["subtotal"]),
        "discount_total": _money(totals["discount_total"]),
        "tax_total": _money(totals["tax_total"]),
        "shipping_charge": _money(payload.shipping_charge),
        "total": _money(totals["total"]),
        "service_level": payload.service_level,
        "ship_by": payload.ship_by,
        "deliver_by": payload.deliver_by,
        "priority": payload.priority,
        "notes": payload.notes,
        "gift": payload.gift,
        "attributes": payload.attributes,
        "status": status.derive(
            [
                status.Buckets(ordered=line.quantity, cancelled=line.quantity if cancelled else 0)
                for line in payload.lines
            ],
            accepted=True,
            closed=False,
        ),
        "accepted": True,
        "content_hash": _digest(parsed),
        "inbox_id": inbox_id,
        "placed_at": payload.placed_at or now,
        "created_at": now,
        "updated_at": now,
        "closed_at": None,
        "cancel_reason": payload.cancel_reason if cancelled else None,
        "version": 1,
    }


def _lines(payload: OrderIn, *, order_id: int, items: dict[str, Item]) -> list[OrderLine]:
    """The order's lines, to be added to the session."""
    return [OrderLine(**values) for values in _line_values(payload, order_id, items)]


def _line_values(payload: OrderIn, order_id: int, items: dict[str, Item]) -> list[dict[str, Any]]:
    """The columns of the order's lines but their ids; an unknown SKU (on a held order) has
    no item."""
    return [
        {
            "order_id": order_id,
            "line_number": line.line_number,
            "item_id": items[line.sku].id if line.sku in items else None,
            "sku": line.sku,
            "quantity": line.quantity,
            "unit_price": _money(line.unit_price),
            "discount": _money(line.discount),
            "tax": _money(line.tax),
            "allocated": 0,
            "backordered": 0,
            "released": 0,
            "shipped": 0,
            "delivered": 0,
            "cancelled": line.quantity if payload.cancelled else 0,
            "returned": 0,
            "attributes": line.attributes,
        }
        for line in payload.lines
    ]


MONEY_PLACES = Decimal("0.0001")


def _money(value: Decimal) -> Decimal:
    """An amount as the database keeps it (four places), so that an order shown from
    memory reads as one read back."""
    return value.quantize(MONEY_PLACES)


def _allocatable(line: OrderLine, items: dict[str, Item]) -> bool:
    """Only a line of a known, active item is reserved."""
    item = items.get(line.sku)
    return item is not None and item.active and line.cancelled < line.quantity


def _place_holds(
    session: Session, order: SalesOrder, held: list[tuple[HoldType, str]], *, actor: Principal
) -> list[OrderHold]:
    now = clock.now()
    holds = [
        OrderHold(
            order_id=order.id,
            type=kind,
            reason=reason,
            placed_by=actor.label,
            placed_at=now,
            released_by=None,
            released_at=None,
            release_note=None,
        )
        for kind, reason in held
    ]
    if holds:
        repository.add_holds(session, holds)
    return holds


def _derived(lines: Sequence[OrderLine]) -> OrderStatus:
    return status.derive(
        [
            status.Buckets(
                ordered=line.quantity,
                allocated=line.allocated,
                backordered=line.backordered,
                released=line.released,
                shipped=line.shipped,
                delivered=line.delivered,
                cancelled=line.cancelled,
            )
            for line in lines
        ],
        accepted=True,
        closed=False,
    )
