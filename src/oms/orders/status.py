"""The order's status, derived from its lines, and which actions each status allows.

Pure: plain numbers in, a status out; no session, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from oms.errors import InvalidTransition
from oms.orders.models import OrderStatus

S = OrderStatus


@dataclass(frozen=True)
class Buckets:
    """Where one line's units are; the buckets besides `open` never exceed `ordered`."""

    ordered: int
    allocated: int = 0
    backordered: int = 0
    released: int = 0
    shipped: int = 0
    delivered: int = 0
    cancelled: int = 0

    @property
    def open(self) -> int:
        return self.ordered - (
            self.allocated
            + self.backordered
            + self.released
            + self.shipped
            + self.delivered
            + self.cancelled
        )


def derive(lines: Iterable[Buckets], *, accepted: bool, closed: bool) -> OrderStatus:
    """The one status that the lines' buckets, acceptance and closure describe.

    The most advanced stage that covers every live unit wins; a stage that covers
    only some of them makes the order `partially_` that stage.
    """
    total = Buckets(0)
    for line in lines:
        total = Buckets(
            ordered=total.ordered + line.ordered,
            allocated=total.allocated + line.allocated,
            backordered=total.backordered + line.backordered,
            released=total.released + line.released,
            shipped=total.shipped + line.shipped,
            delivered=total.delivered + line.delivered,
            cancelled=total.cancelled + line.cancelled,
        )
    live = total.ordered - total.cancelled
    if closed:
        return S.CLOSED
    if live <= 0:
        return S.CANCELLED
    if not accepted:
        return S.RECEIVED
    delivered = total.delivered
    shipped = total.shipped + delivered
    released = total.released + shipped
    allocated = total.allocated + released
    if delivered == live:
        return S.DELIVERED
    if shipped == live:
        return S.SHIPPED
    if shipped:
        return S.PARTIALLY_SHIPPED
    if released == live:
        return S.RELEASED
    if released:
        return S.PARTIALLY_RELEASED
    if allocated == live:
        return S.ALLOCATED
    if allocated:
        return S.PARTIALLY_ALLOCATED
    if total.backordered:
        return S.BACKORDERED
    return S.OPEN


class Action(StrEnum):
    HOLD = "hold"
    RELEASE_HOLD = "release_hold"
    EDIT = "edit"
    CANCEL = "cancel"
    CANCEL_LINE = "cancel_line"
    CLOSE = "close"


_NOT_STARTED = {S.RECEIVED, S.OPEN, S.BACKORDERED, S.PARTIALLY_ALLOCATED, S.ALLOCATED}
_UNDER_WAY = {S.PARTIALLY_RELEASED, S.RELEASED, S.PARTIALLY_SHIPPED}
_FINISHED = {S.SHIPPED, S.DELIVERED}

ALLOWED: dict[Action, frozenset[OrderStatus]] = {
    Action.HOLD: frozenset(_NOT_STARTED | _UNDER_WAY),
    Action.RELEASE_HOLD: frozenset(_NOT_STARTED | _UNDER_WAY),
    # Edits and cancellations reach only what is not yet released; the services
    # check the units, this table the order as a whole.
    Action.EDIT: frozenset(_NOT_STARTED | _UNDER_WAY),
    Action.CANCEL: frozenset(_NOT_STARTED | _UNDER_WAY),
    Action.CANCEL_LINE: frozenset(_NOT_STARTED | _UNDER_WAY),
    Action.CLOSE: frozenset(_FINISHED | {S.CANCELLED}),
}
"""The transition table: which order statuses each action may start from."""


def guard(action: Action, status: OrderStatus, *, number: str) -> None:
    """Refuse `action` on an order in `status`, saying why, with a stable code."""
    if status not in ALLOWED[action]:
        raise InvalidTransition(
            f"order {number} is {status}; {action.value.replace('_', ' ')} is not allowed",
            code=f"order.cannot_{action.value}_{status.value}",
            action=action.value,
            status=status.value,
        )
