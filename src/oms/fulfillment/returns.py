"""Returns (RMA): request, authorize or reject, close; reading and the shared steps.
The goods' arrival (the WMS's receipt, the inspection) is in `returns_receiving`.

    requested ─authorize─► authorized ─receipt─► received ─inspect─► restocked | scrapped
        └─reject─► rejected      └─close─► closed (nothing came back)        └─close─► closed

(`inspected` is passed through on the way to restocked or scrapped.)

- A request names shipped lines of one order; a line may come back up to its units
  shipped or delivered, less those already returned and those on open returns
  (requested, authorized, received). The goods come back to the warehouse named, by
  default the one that shipped most of the lines. An order of a channel outside the
  caller's scope does not exist.
- Authorizing prices the authorized units (`refunds`); the inspection prices the
  received units again.

Every action locks the order, then the return; raises the return's version (its ETag);
and writes an audit row, an outbox event `return.<event>` (the return as shown, with
the channel's order id) and an event on the order's timeline (`order.return_<event>`).
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from oms import audit
from oms.auth.principal import Principal
from oms.catalog import repository as catalog
from oms.catalog.scope import scope_ids, sees
from oms.errors import (
    InvalidTransition,
    NotFound,
    PreconditionFailed,
    Problem,
    ValidationFailed,
)
from oms.fulfillment import refunds
from oms.fulfillment import returns_repository as repository
from oms.fulfillment.models import (
    Return,
    ReturnLine,
    ReturnStatus,
    ShippingRefund,
    number_id,
    return_number,
)
from oms.fulfillment.refunds import ChargedLine
from oms.fulfillment.returns_repository import ReturnFilter
from oms.fulfillment.returns_schemas import (
    ReturnIn,
    ReturnLineOut,
    ReturnOut,
)
from oms.kit import clock
from oms.kit.paging import Page, PageRequest
from oms.orders import lifecycle, timeline
from oms.orders import repository as orders
from oms.orders.lifecycle import OrderNotFound
from oms.orders.models import OrderLine, SalesOrder
from oms.orders.schemas import quantize
from oms.outbox import service as outbox

S = ReturnStatus


class Action(StrEnum):
    AUTHORIZE = "authorize"
    REJECT = "reject"
    RECEIVE = "receive"
    INSPECT = "inspect"
    CLOSE = "close"


ALLOWED: dict[Action, frozenset[ReturnStatus]] = {
    Action.AUTHORIZE: frozenset({S.REQUESTED}),
    Action.REJECT: frozenset({S.REQUESTED}),
    # Several receipts may add up until the goods are inspected.
    Action.RECEIVE: frozenset({S.AUTHORIZED, S.RECEIVED}),
    Action.INSPECT: frozenset({S.RECEIVED}),
    # An authorized return whose goods never came is closed as it is.
    Action.CLOSE: frozenset({S.AUTHORIZED, S.INSPECTED, S.RESTOCKED, S.SCRAPPED}),
}
"""The transition table: which return statuses each action may start from."""

PAST = {
    Action.AUTHORIZE: "authorized",
    Action.REJECT: "rejected",
    Action.RECEIVE: "received",
    Action.INSPECT: "inspected",
    Action.CLOSE: "closed",
}


def guard(action: Action, rma: Return) -> None:
    """Refuse `action` on a return in its status, saying why, with a stable code."""
    current = ReturnStatus(rma.status)
    if current not in ALLOWED[action]:
        raise InvalidTransition(
            f"return {rma.number} is {current}; it cannot be {PAST[action]}",
            code=f"return.cannot_{action.value}_{current.value}",
            action=action.value,
            status=current.value,
        )


class ReturnNotFound(NotFound):
    def __init__(self, key: object) -> None:
        super().__init__("return", key, code="return.not_found")


# -- reading ---------------------------------------------------------------------------


def get_return(session: Session, key: int | str, *, actor: Principal) -> Return:
    """A return by id or number (`RMA-000123`); outside the actor's channel or warehouse
    scope it does not exist."""
    wanted = key if isinstance(key, int) else number_id(key, "RMA")
    rma = repository.return_by_id(session, wanted) if wanted is not None else None
    if rma is None or not _in_scope(session, rma, actor):
        raise ReturnNotFound(key if isinstance(key, str) else return_number(key))
    return rma


def _in_scope(session: Session, rma: Return, actor: Principal) -> bool:
    order = orders.order_by_id(session, rma.order_id) if actor.channels is not None else None
    channel_id = order.channel_id if order is not None else None
    return sees(session, actor, warehouse_id=rma.warehouse_id, channel_id=channel_id)


def search_returns(
    session: Session,
    page: PageRequest,
    *,
    actor: Principal,
    order_id: int | None = None,
    status: ReturnStatus | None = None,
    warehouse: str | None = None,
) -> Page[ReturnOut]:
    """Returns, oldest first, filtered; only those of the actor's channels and warehouses
    (a warehouse outside its scope lists nothing)."""
    scope = scope_ids(session, actor, warehouse=warehouse)
    warehouse_ids, channel_ids = scope.warehouse_ids, scope.channel_ids
    filters = ReturnFilter(
        order_id=order_id, status=status, warehouse_ids=warehouse_ids, channel_ids=channel_ids
    )
    found = repository.search_returns(session, filters, page)
    return Page(items=view(session, found.items), next_cursor=found.next_cursor)


def view(session: Session, found: Sequence[Return]) -> list[ReturnOut]:
    """Returns as the API shows them, with their lines and warehouse (two more queries)."""
    if not found:
        return []
    lines: dict[int, list[ReturnLine]] = {}
    for line in repository.lines_of(session, [r.id for r in found]):
        lines.setdefault(line.return_id, []).append(line)
    warehouses = {
        w.id: w.code
        for w in catalog.warehouses_by_ids(session, {r.warehouse_id or 0 for r in found})
    }
    shown = []
    for rma in found:
        own = lines.get(rma.id, [])
        for_lines = sum((line.refund_amount for line in own), refunds.ZERO)
        currency = rma.currency
        shown.append(
            ReturnOut(
                id=rma.id,
                number=rma.number,
                order_id=rma.order_id,
                order_number=rma.order_number,
                status=rma.status,
                warehouse=warehouses.get(rma.warehouse_id or 0),
                reason=rma.reason,
                rejection_reason=rma.rejection_reason,
                shipping_refund=rma.shipping_refund,
                currency=rma.currency,
                refund_amount=quantize(rma.refund_amount, currency),
                shipping_refund_amount=quantize(rma.refund_amount - for_lines, currency),
                requested_by=rma.requested_by,
                created_at=rma.created_at,
                updated_at=rma.updated_at,
                authorized_at=rma.authorized_at,
                received_at=rma.received_at,
                inspected_at=rma.inspected_at,
                closed_at=rma.closed_at,
                version=rma.version,
                lines=[
                    ReturnLineOut(
                        line_number=line.line_number,
                        sku=line.sku,
                        quantity=line.quantity,
                        reason=line.reason,
                        received=line.received,
                        resellable=line.resellable,
                        damaged=line.damaged,
                        refund_amount=quantize(line.refund_amount, currency),
                    )
                    for line in own
                ],
            )
        )
    return shown


# -- request ---------------------------------------------------------------------------


def returnable(line: OrderLine, on_open_returns: int) -> int:
    """Units of a line that may still be asked back: shipped or delivered, less those
    returned and those on open returns."""
    return max(0, line.shipped + line.delivered - line.returned - on_open_returns)


def request_return(session: Session, data: ReturnIn, *, actor: Principal) -> Return:
    """Ask for shipped units of an order's lines back; 422 naming each line asked beyond
    what may still come back."""
    order = _order_of(session, data, actor=actor)
    order_lines = orders.lines_of(session, order.id)
    by_number = {line.line_number: line for line in order_lines}
    on_open = repository.open_units(session, [line.id for line in order_lines])
    problems: list[Problem] = []
    wanted: list[tuple[OrderLine, int, str | None]] = []
    for index, asked in enumerate(data.lines):
        path = f"lines[{index}]"
        line = by_number.get(asked.line_number)
        if line is None or line.item_id is None:
            problems.append(
                Problem(
                    f"{path}.line_number",
                    f"order {order.number} has no line {asked.line_number}",
                    "return.unknown_line",
                )
            )
            continue
        if any(w[0].id == line.id for w in wanted):
            problems.append(
                Problem(
                    f"{path}.line_number",
                    f"line {line.line_number} is named twice",
                    "return.duplicate_line",
                )
            )
            continue
        allowed = returnable(line, on_open.get(line.id, 0))
        if asked.quantity > allowed:
            problems.append(
                Problem(
                    f"{path}.quantity",
                    f"line {line.line_number} ({line.sku}): at most {allowed} units may come "
                    f"back ({line.shipped + line.delivered} shipped, {line.returned} returned, "
                    f"{on_open.get(line.id, 0)} on open returns), not {asked.quantity}",
                    "return.too_many_units",
                )
            )
            continue
        wanted.append((line, asked.quantity, asked.reason))
    if problems:
        raise ValidationFailed(problems)
    warehouse_id = _warehouse_for(session, data.warehouse, [w[0].id for w in wanted], actor)
    now = clock.now()
    rma = Return(
        order_id=order.id,
        order_number=order.number,
        status=S.REQUESTED,
        warehouse_id=warehouse_id,
        reason=data.reason,
        shipping_refund=data.shipping_refund,
        currency=order.currency,
        refund_amount=refunds.ZERO,
        requested_by=actor.label,
        created_at=now,
        updated_at=now,
        version=1,
    )
    lines = [
        ReturnLine(
            order_line_id=line.id,
            line_number=line.line_number,
            item_id=line.item_id,
            sku=line.sku,
            quantity=quantity,
            reason=reason,
            received=0,
            resellable=0,
            damaged=0,
            refund_amount=refunds.ZERO,
        )
        for line, quantity, reason in wanted
    ]
    repository.add(session, rma, lines)
    record(
        session,
        rma,
        order,
        "requested",
        actor=actor,
        before=None,
        data={
            "shipping_refund": str(data.shipping_refund),
            "lines": [
                {"line_number": line.line_number, "sku": line.sku, "quantity": line.quantity}
                for line in lines
            ],
        },
    )
    return rma


def _order_of(session: Session, data: ReturnIn, *, actor: Principal) -> SalesOrder:
    """The order the request names, locked; outside the actor's scope it does not exist."""
    if data.order_id is not None:
        return lifecycle.get_order(session, data.order_id, actor=actor, lock=True)
    number = (data.order_number or "").strip().upper()
    found = orders.order_by_number(session, number)
    if found is None:
        raise OrderNotFound(number)
    try:
        return lifecycle.get_order(session, found.id, actor=actor, lock=True)
    except OrderNotFound:
        raise OrderNotFound(number) from None


def _warehouse_for(
    session: Session, code: str | None, order_line_ids: list[int], actor: Principal
) -> int:
    """The warehouse named, else the one that shipped most of these lines."""
    if code is not None:
        found = catalog.warehouse_by_code(session, code.strip().upper())
        if found is None or not actor.sees_warehouse(found.code):
            raise ValidationFailed(
                [Problem("warehouse", f"no warehouse {code}", "return.unknown_warehouse")]
            )
        return found.id
    shipped = repository.shipped_from(session, order_line_ids)
    if not shipped:
        raise ValidationFailed(
            [
                Problem(
                    "warehouse",
                    "no shipment of these lines says where they left from: name the "
                    "warehouse the goods come back to",
                    "return.warehouse_required",
                )
            ]
        )
    warehouse = catalog.warehouses_by_ids(session, [shipped[0].warehouse_id])[0]
    if not actor.sees_warehouse(warehouse.code):
        raise ValidationFailed(
            [
                Problem(
                    "warehouse",
                    f"the lines left from {warehouse.code}, outside this key's warehouses: "
                    "name the warehouse the goods come back to",
                    "return.unknown_warehouse",
                )
            ]
        )
    return warehouse.id


# -- authorize, reject, close ----------------------------------------------------------


def authorize(
    session: Session, key: int | str, *, actor: Principal, expected_version: int | None = None
) -> Return:
    """Authorize the units asked for and price their refund."""
    rma, order, order_lines = locked(session, key, actor=actor)
    guard(Action.AUTHORIZE, rma)
    check_version(rma, expected_version)
    lines = repository.lines_of(session, [rma.id])
    price(rma, order, order_lines, lines, {line.order_line_id: line.quantity for line in lines})
    rma.status = S.AUTHORIZED
    rma.authorized_at = clock.now()
    touch(session, rma)
    record(
        session,
        rma,
        order,
        "authorized",
        actor=actor,
        before=S.REQUESTED,
        data={
            "refund_amount": str(quantize(rma.refund_amount, rma.currency)),
            "currency": rma.currency,
        },
    )
    return rma


def reject(
    session: Session,
    key: int | str,
    *,
    reason: str,
    actor: Principal,
    expected_version: int | None = None,
) -> Return:
    """Refuse the request, saying why; its units may be asked for again."""
    rma, order, _ = locked(session, key, actor=actor)
    guard(Action.REJECT, rma)
    check_version(rma, expected_version)
    rma.status = S.REJECTED
    rma.rejection_reason = lifecycle.required_text(reason, path="reason")
    touch(session, rma)
    record(
        session,
        rma,
        order,
        "rejected",
        actor=actor,
        before=S.REQUESTED,
        data={"reason": rma.rejection_reason},
    )
    return rma


def close(
    session: Session, key: int | str, *, actor: Principal, expected_version: int | None = None
) -> Return:
    """Close an inspected return, or an authorized one whose goods never came back."""
    rma, order, _ = locked(session, key, actor=actor)
    guard(Action.CLOSE, rma)
    check_version(rma, expected_version)
    before = ReturnStatus(rma.status)
    rma.status = S.CLOSED
    rma.closed_at = clock.now()
    touch(session, rma)
    record(session, rma, order, "closed", actor=actor, before=before, data={})
    return rma


# -- shared steps ----------------------------------------------------------------------


def locked(
    session: Session, key: int | str, *, actor: Principal
) -> tuple[Return, SalesOrder, list[OrderLine]]:
    """The return in the actor's scope, with its order and lines; the order locked, then
    the return (always in that order)."""
    shown = get_return(session, key, actor=actor)
    order = orders.order_by_id(session, shown.order_id, lock=True)
    rma = repository.return_by_id(session, shown.id, lock=True)
    assert order is not None
    assert rma is not None
    return rma, order, orders.lines_of(session, order.id)


def check_version(rma: Return, expected: int | None) -> None:
    """Refuse a change made against an older version of the return (If-Match)."""
    if expected is not None and expected != rma.version:
        raise PreconditionFailed(
            f"return {rma.number} has changed since version {expected}; it is now at "
            f"version {rma.version}: read it again and retry",
            code="return.version_mismatch",
            expected=expected,
            current=rma.version,
        )


def price(
    rma: Return,
    order: SalesOrder,
    order_lines: Sequence[OrderLine],
    lines: Sequence[ReturnLine],
    coming_back: dict[int, int],
) -> None:
    """Set each line's refund and the return's total for the units `coming_back`."""
    priced = refunds.refund(
        ShippingRefund(rma.shipping_refund),
        currency=rma.currency,
        charge=order.shipping_charge,
        order_lines=[
            ChargedLine(
                line_id=line.id,
                unit_price=line.unit_price,
                discount=line.discount,
                tax=line.tax,
                live=line.quantity - line.cancelled,
                shipped=line.shipped + line.delivered,
                returned=line.returned,
            )
            for line in order_lines
        ],
        coming_back=coming_back,
    )
    for line in lines:
        line.refund_amount = priced.lines.get(line.order_line_id, refunds.ZERO)
    rma.refund_amount = priced.total


def touch(session: Session, rma: Return) -> None:
    """Raise the return's version (its ETag) after a change."""
    rma.version += 1
    rma.updated_at = clock.now()
    session.flush()


def record(
    session: Session,
    rma: Return,
    order: SalesOrder,
    event: str,
    *,
    actor: Principal,
    before: ReturnStatus | None,
    data: dict[str, Any],
) -> None:
    """The action on the order's timeline, in the audit trail, and out as `return.<event>`."""
    timeline.record(
        session, order, f"return_{event}", actor=actor, data={"return": rma.number, **data}
    )
    audit.record(
        session,
        actor=actor.label,
        action=f"return.{event}",
        entity_type="return",
        entity_id=rma.number,
        before={"status": str(before)} if before else None,
        after={"status": str(rma.status), **data},
    )
    outbox.record(
        session,
        f"return.{event}",
        {
            **view(session, [rma])[0].model_dump(mode="json"),
            "channel_order_id": order.external_id,
        },
        key=f"order:{order.number}",
    )
