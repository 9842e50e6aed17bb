"""Holds: reasons that stop an order from being released (payment, fraud, address, credit,
manual). Several may be active at once; each is placed by someone for a reason and
released by someone with a note. Holds sit beside the status, they do not change it.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from oms.auth.principal import Principal
from oms.catalog.schemas import Strict
from oms.errors import Conflict, NotFound
from oms.kit import clock
from oms.orders import lifecycle, repository, status, timeline
from oms.orders.lifecycle import Reason
from oms.orders.models import HoldType, OrderHold, OrderStatus
from oms.orders.status import Action


class HoldIn(Strict):
    type: HoldType
    reason: Reason


class HoldReleaseIn(Strict):
    note: Reason


class HoldNotFound(NotFound):
    def __init__(self, number: str, hold_id: int) -> None:
        super().__init__("order hold", f"{number}/{hold_id}", code="order.hold_not_found")


class HoldAlreadyReleased(Conflict):
    def __init__(self, hold: OrderHold, number: str) -> None:
        super().__init__(
            f"hold {hold.id} of order {number} was released by {hold.released_by} already",
            code="order.hold_already_released",
            number=number,
            hold_id=hold.id,
        )


def place_hold(
    session: Session, order_id: int, *, type: HoldType, reason: str, actor: Principal
) -> OrderHold:
    """Hold the order for `reason`; refused once it is shipped, cancelled or closed."""
    order = lifecycle.get_order(session, order_id, actor=actor, lock=True)
    text = lifecycle.required_text(reason, path="reason")
    status.guard(Action.HOLD, OrderStatus(order.status), number=order.number)
    hold = OrderHold(
        order_id=order.id,
        type=HoldType(type),
        reason=text,
        placed_by=actor.label,
        placed_at=clock.now(),
    )
    repository.add_holds(session, [hold])
    lifecycle.refresh(order, repository.lines_of(session, order.id))
    session.flush()
    timeline.record(
        session,
        order,
        "held",
        actor=actor,
        data={"hold_id": hold.id, "type": hold.type, "reason": text},
    )
    return hold


def release_hold(
    session: Session, order_id: int, hold_id: int, *, note: str, actor: Principal
) -> OrderHold:
    """Release one active hold, saying why; the order's other holds stay."""
    order = lifecycle.get_order(session, order_id, actor=actor, lock=True)
    text = lifecycle.required_text(note, path="note")
    hold = repository.hold_by_id(session, order.id, hold_id)
    if hold is None:
        raise HoldNotFound(order.number, hold_id)
    if not hold.active:
        raise HoldAlreadyReleased(hold, order.number)
    status.guard(Action.RELEASE_HOLD, OrderStatus(order.status), number=order.number)
    hold.released_by = actor.label
    hold.released_at = clock.now()
    hold.release_note = text
    lifecycle.refresh(order, repository.lines_of(session, order.id))
    session.flush()
    active = repository.holds_of(session, order.id, active_only=True)
    timeline.record(
        session,
        order,
        "hold_released",
        actor=actor,
        data={
            "hold_id": hold.id,
            "type": hold.type,
            "note": text,
            "holds_left": [h.type for h in active],
        },
    )
    return hold
