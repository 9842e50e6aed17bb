"""The order lifecycle: find an order in the caller's scope, cancel it (whole or one line),
close it. Holds are in `holds.py`; edits and channel change requests in `edits.py`.

Every action reads like the same short script: load and lock the order, ask the
transition table (`status.guard`) and the units it reaches, change the buckets,
derive the status again, raise the version (the order's ETag), and record one
timeline event (event row, audit row and outbox event, in the caller's transaction).

A cancellation reaches only units not yet released: it takes them from open, then
backordered, then allocated (giving their reservations back); released, shipped and
delivered units are never cancelled here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Annotated

from pydantic import Field, StringConstraints
from sqlalchemy.orm import Session

from oms.auth.principal import Principal
from oms.catalog import repository as catalog
from oms.catalog.schemas import Strict
from oms.errors import Conflict, NotFound, PreconditionFailed, Problem, ValidationFailed
from oms.kit import clock
from oms.orders import allocation, repository, status, timeline
from oms.orders.models import OrderLine, OrderStatus, SalesOrder
from oms.orders.status import Action, Buckets

MAX_REASON = 500

Reason = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_REASON)
]


class CancelIn(Strict):
    reason: Reason


class LineCancelIn(Strict):
    reason: Reason
    quantity: (
        Annotated[int, Field(gt=0, description="units to cancel; the whole line if absent")] | None
    ) = None


class OrderNotFound(NotFound):
    def __init__(self, order_id: object) -> None:
        super().__init__("order", order_id, code="order.not_found")


class OrderLineNotFound(NotFound):
    def __init__(self, number: str, line_number: int) -> None:
        super().__init__("order line", f"{number}/{line_number}", code="order.line_not_found")


class CannotCancelReleasedUnits(Conflict):
    """More units asked for than are still open, backordered or allocated."""

    def __init__(self, number: str, line_number: int, *, requested: int, cancellable: int) -> None:
        super().__init__(
            f"order {number} line {line_number}: {requested} units to cancel, but only "
            f"{cancellable} are not yet released to a warehouse",
            code="order.cannot_cancel_released_units",
            number=number,
            line_number=line_number,
            requested=requested,
            cancellable=cancellable,
        )


class LineAlreadyCancelled(Conflict):
    def __init__(self, number: str, line_number: int) -> None:
        super().__init__(
            f"order {number} line {line_number} is cancelled already",
            code="order.line_already_cancelled",
            number=number,
            line_number=line_number,
        )


@dataclass(frozen=True)
class Cancelled:
    """Units one cancellation took from each bucket of a line."""

    line_number: int
    open: int
    backordered: int
    allocated: int

    @property
    def total(self) -> int:
        return self.open + self.backordered + self.allocated

    def as_dict(self) -> dict[str, int]:
        return {
            "line_number": self.line_number,
            "quantity": self.total,
            "from_open": self.open,
            "from_backordered": self.backordered,
            "from_allocated": self.allocated,
        }


# -- reading ---------------------------------------------------------------------------


def get_order(
    session: Session, order_id: int, *, actor: Principal, lock: bool = False
) -> SalesOrder:
    """The order with this id; an order of a channel outside the actor's scope does not exist."""
    order = repository.order_by_id(session, order_id, lock=lock)
    if order is None or not _in_scope(session, order, actor):
        raise OrderNotFound(order_id)
    return order


def _in_scope(session: Session, order: SalesOrder, actor: Principal) -> bool:
    if actor.channels is None:
        return True
    found = catalog.channels_by_ids(session, [order.channel_id])
    return bool(found) and actor.sees_channel(found[0].code)


def line_of(order: SalesOrder, lines: Sequence[OrderLine], line_number: int) -> OrderLine:
    """The line numbered `line_number` among the order's lines."""
    for line in lines:
        if line.line_number == line_number:
            return line
    raise OrderLineNotFound(order.number, line_number)


# -- unit rules (pure) -------------------------------------------------------------------


def live(line: OrderLine) -> int:
    """Units ordered and not cancelled."""
    return line.quantity - line.cancelled


def cancellable(line: OrderLine) -> int:
    """Units a cancellation may still take: open, backordered or allocated."""
    return line.open + line.backordered + line.allocated


def released_units(lines: Sequence[OrderLine]) -> int:
    """Units already handed to a warehouse or beyond (released, shipped, delivered)."""
    return sum(line.released + line.shipped + line.delivered for line in lines)


def check_cancellable(order: SalesOrder, line: OrderLine, quantity: int) -> None:
    """Refuse cancelling more of a line than is open, backordered or allocated."""
    if quantity > cancellable(line):
        raise CannotCancelReleasedUnits(
            order.number, line.line_number, requested=quantity, cancellable=cancellable(line)
        )


def required_text(value: str, *, path: str) -> str:
    """A reason or note, stripped; blank is refused at `path`."""
    text = value.strip()
    if not text:
        raise ValidationFailed([Problem(path, "is required", "missing")])
    if len(text) > MAX_REASON:
        raise ValidationFailed([Problem(path, f"at most {MAX_REASON} characters", "too_long")])
    return text


# -- shared steps --------------------------------------------------------------------------


def cancel_units(
    session: Session, order: SalesOrder, line: OrderLine, quantity: int, *, actor: Principal
) -> Cancelled:
    """Cancel `quantity` units of a line: open first, then backordered, then allocated,
    giving the allocated units' reservations back (`allocation.release`)."""
    check_cancellable(order, line, quantity)
    from_open = min(quantity, line.open)
    from_backordered = min(quantity - from_open, line.backordered)
    from_allocated = quantity - from_open - from_backordered
    line.backordered -= from_backordered
    if from_allocated:
        # The order's channel scope authorised the action; its reservations go back at
        # whichever warehouses hold them, even outside a warehouse-scoped actor's.
        for_order = replace(actor, warehouses=None)
        given_back = allocation.release(session, line, from_allocated, actor=for_order)
        # Units counted as allocated without a reservation behind them: nothing to give back.
        line.allocated -= from_allocated - given_back
    line.cancelled += quantity
    return Cancelled(line.line_number, from_open, from_backordered, from_allocated)


def refresh(order: SalesOrder, lines: Sequence[OrderLine]) -> None:
    """Derive the status from the lines again and raise the version (the ETag)."""
    order.status = status.derive(
        [buckets(line) for line in lines],
        accepted=order.accepted,
        closed=order.closed_at is not None,
    )
    order.version += 1
    order.updated_at = clock.now()


def buckets(line: OrderLine) -> Buckets:
    return Buckets(
        ordered=line.quantity,
        allocated=line.allocated,
        backordered=line.backordered,
        released=line.released,
        shipped=line.shipped,
        delivered=line.delivered,
        cancelled=line.cancelled,
    )


def check_version(order: SalesOrder, expected: int | None) -> None:
    """Refuse a change made against an older version of the order (If-Match)."""
    if expected is not None and expected != order.version:
        raise PreconditionFailed(
            f"order {order.number} has changed since version {expected}; it is now at "
            f"version {order.version}: read it again and retry",
            code="order.version_mismatch",
            expected=expected,
            current=order.version,
        )


# -- actions -------------------------------------------------------------------------------


def cancel_order(session: Session, order_id: int, *, reason: str, actor: Principal) -> SalesOrder:
    """Cancel every unit of the order, giving back every reservation; refused once any unit
    has been released to a warehouse (cancel the lines' unreleased units instead)."""
    order = get_order(session, order_id, actor=actor, lock=True)
    return cancel(session, order, reason=reason, actor=actor)


def cancel(session: Session, order: SalesOrder, *, reason: str, actor: Principal) -> SalesOrder:
    """`cancel_order` for an order already loaded and locked (a channel's cancellation)."""
    text = required_text(reason, path="reason")
    status.guard(Action.CANCEL, OrderStatus(order.status), number=order.number)
    lines = repository.lines_of(session, order.id)
    for line in lines:
        check_cancellable(order, line, live(line))
    taken = [
        cancel_units(session, order, line, live(line), actor=actor) for line in lines if live(line)
    ]
    order.cancel_reason = text
    refresh(order, lines)
    session.flush()
    timeline.record(
        session,
        order,
        "cancelled",
        actor=actor,
        data={"reason": text, "lines": [t.as_dict() for t in taken]},
    )
    return order


def cancel_line(
    session: Session,
    order_id: int,
    line_number: int,
    *,
    reason: str,
    quantity: int | None = None,
    actor: Principal,
) -> SalesOrder:
    """Cancel `quantity` units of one line (the whole line when None), from open, then
    backordered, then allocated; never released units."""
    order = get_order(session, order_id, actor=actor, lock=True)
    text = required_text(reason, path="reason")
    status.guard(Action.CANCEL_LINE, OrderStatus(order.status), number=order.number)
    lines = repository.lines_of(session, order.id)
    line = line_of(order, lines, line_number)
    if live(line) == 0:
        raise LineAlreadyCancelled(order.number, line_number)
    wanted = live(line) if quantity is None else quantity
    if not 0 < wanted <= live(line):
        raise ValidationFailed(
            [Problem("quantity", f"must be between 1 and {live(line)}", "out_of_range")]
        )
    taken = cancel_units(session, order, line, wanted, actor=actor)
    refresh(order, lines)
    session.flush()
    timeline.record(
        session, order, "line_cancelled", actor=actor, data={"reason": text, **taken.as_dict()}
    )
    return order


def close_order(session: Session, order_id: int, *, actor: Principal) -> SalesOrder:
    """Close a shipped, delivered or cancelled order; nothing happens to it afterwards."""
    order = get_order(session, order_id, actor=actor, lock=True)
    status.guard(Action.CLOSE, OrderStatus(order.status), number=order.number)
    before = OrderStatus(order.status)
    order.closed_at = clock.now()
    refresh(order, repository.lines_of(session, order.id))
    session.flush()
    timeline.record(session, order, "closed", actor=actor, data={"from_status": before.value})
    return order
