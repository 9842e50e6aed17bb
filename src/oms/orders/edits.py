"""Edits of an order (PATCH) and a channel's change requests (a re-delivery whose content
differs from what is stored).

Both come down to one plan: lines' new quantities (a line removed is a line down to
zero), lines to add, a new ship-to, a new service level. The whole plan is checked
before anything is applied (SKUs known and active, no released unit reached), so a
refused edit changes nothing. Then: fewer units cancel the difference (open, then
backordered, then allocated, giving reservations back); more units and new lines
are allocated at once; the status is derived again, the version raised, and one
`order.changed` event records before and after.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Annotated, Any, Self

from pydantic import Field, StringConstraints, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError
from sqlalchemy.orm import Session

from oms.auth.principal import Principal
from oms.catalog import repository as catalog
from oms.catalog.models import Item
from oms.catalog.schemas import Strict
from oms.errors import Conflict, OmsError, Problem, ValidationFailed
from oms.kit import diff
from oms.kit.validation import refuse_nulls
from oms.orders import allocation, holds, lifecycle, repository, status, timeline
from oms.orders.models import HoldType, OrderLine, OrderStatus, SalesOrder, ServiceLevel
from oms.orders.schemas import LineIn, OrderAddress, OrderIn, content_hash, quantize
from oms.orders.status import Action

LineNumber = Annotated[int, Field(ge=1, le=9999)]


class LineQuantityIn(Strict):
    line_number: LineNumber
    quantity: Annotated[
        int,
        Field(
            gt=0,
            le=1_000_000,
            description="units the line should now have, cancelled ones not counted",
        ),
    ]


class OrderEdit(Strict):
    """`PATCH /api/v1/orders/{id}`: only what is sent changes."""

    ship_to: OrderAddress | None = None
    service_level: ServiceLevel | None = None
    lines: Annotated[list[LineQuantityIn], Field(max_length=500)] = Field(default_factory=list)
    add_lines: Annotated[list[LineIn], Field(max_length=500)] = Field(default_factory=list)
    remove_lines: Annotated[list[LineNumber], Field(max_length=500)] = Field(default_factory=list)
    note: Annotated[str, StringConstraints(max_length=500)] | None = None

    @model_validator(mode="after")
    def _each_line_once(self) -> Self:
        refuse_nulls(self, ("ship_to", "service_level"))
        named: list[tuple[tuple[str | int, ...], int | None]] = [
            *((("lines", i, "line_number"), c.line_number) for i, c in enumerate(self.lines)),
            *((("remove_lines", i), n) for i, n in enumerate(self.remove_lines)),
            *(
                (("add_lines", i, "line_number"), a.line_number)
                for i, a in enumerate(self.add_lines)
            ),
        ]
        seen: set[int] = set()
        twice: list[InitErrorDetails] = []
        for location, number in named:
            if number is None:
                continue
            if number in seen:
                message = f"line {number} is named twice"
                twice.append(
                    InitErrorDetails(
                        type=PydanticCustomError("value_error", message), loc=location, input=number
                    )
                )
            seen.add(number)
        if twice:
            raise ValidationError.from_exception_data("OrderEdit", twice)
        return self


class CannotEditReleasedUnits(Conflict):
    def __init__(self, order: SalesOrder, what: str) -> None:
        super().__init__(
            f"order {order.number} has units released to a warehouse; its {what} cannot change",
            code="order.cannot_edit_released_units",
            number=order.number,
            field=what,
        )


@dataclass(frozen=True)
class Target:
    """A line's new quantity (cancelled units not counted), and where it was asked for."""

    quantity: int
    path: str


@dataclass
class Plan:
    """What an edit or a change request would change; empty when nothing differs."""

    ship_to: dict[str, Any] | None = None
    service_level: ServiceLevel | None = None
    targets: dict[int, Target] = field(default_factory=dict)
    add: list[tuple[LineIn, str]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return (
            self.ship_to is None
            and self.service_level is None
            and not self.targets
            and not self.add
            and not self.problems
        )


@dataclass(frozen=True)
class ChangeOutcome:
    """What became of a channel's change request: applied (with what changed, maybe
    nothing), or refused with a stable code and the reason, nothing applied."""

    applied: bool
    changes: dict[str, Any] = field(default_factory=dict)
    code: str | None = None
    reason: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.changes)

    @classmethod
    def refused(cls, order: SalesOrder, exc: OmsError) -> ChangeOutcome:
        details: dict[str, Any] = {"number": order.number, "cause": exc.code, **exc.details}
        if isinstance(exc, ValidationFailed):
            details["problems"] = [p.as_dict() for p in exc.problems]
        return cls(
            applied=False,
            code="order.change_refused",
            reason=f"order {order.number}: {exc}",
            details=details,
        )


# -- entry points ---------------------------------------------------------------------------


def edit_order(
    session: Session,
    order_id: int,
    data: OrderEdit,
    *,
    actor: Principal,
    expected_version: int | None = None,
) -> SalesOrder:
    """Change what is sent (ship-to, service level, quantities, lines added or removed),
    only on units not yet released; with `expected_version`, only if nobody changed it since."""
    order = lifecycle.get_order(session, order_id, actor=actor, lock=True)
    lifecycle.check_version(order, expected_version)
    lines = repository.lines_of(session, order.id)
    plan = plan_of_edit(order, lines, data)
    if plan.empty:
        return order
    status.guard(Action.EDIT, OrderStatus(order.status), number=order.number)
    apply(session, order, lines, plan, actor=actor, source="edit", note=data.note)
    return order


def apply_change_request(
    session: Session, order: SalesOrder, incoming: OrderIn, *, actor: Principal
) -> ChangeOutcome:
    """Apply what a channel's re-delivery changes (ship-to, service level, quantities, lines,
    a cancellation) if still allowed; else refuse with the reason, applying nothing.

    Applied, the stored content hash becomes the re-delivery's.
    """
    order = repository.order_by_id(session, order.id, lock=True) or order
    lines = repository.lines_of(session, order.id)
    try:
        with session.begin_nested():
            changes = _change(session, order, lines, incoming, actor=actor)
            order.content_hash = content_hash(incoming)
            session.flush()
    except OmsError as exc:
        return ChangeOutcome.refused(order, exc)
    return ChangeOutcome(applied=True, changes=changes)


def _change(
    session: Session,
    order: SalesOrder,
    lines: list[OrderLine],
    incoming: OrderIn,
    *,
    actor: Principal,
) -> dict[str, Any]:
    if incoming.cancelled:
        if not any(lifecycle.live(line) for line in lines):
            return {}
        reason = incoming.cancel_reason or "cancelled by the channel"
        lifecycle.cancel(session, order, reason=reason, actor=actor)
        return {"cancelled": [False, True], "cancel_reason": [None, reason]}
    plan = plan_of_change(order, lines, incoming)
    if plan.empty:
        return {}
    status.guard(Action.EDIT, OrderStatus(order.status), number=order.number)
    return apply(session, order, lines, plan, actor=actor, source="channel")


# -- plans ------------------------------------------------------------------------------------


def plan_of_edit(order: SalesOrder, lines: Sequence[OrderLine], data: OrderEdit) -> Plan:
    """The plan a PATCH body describes; changes to what already is are left out."""
    plan = _plan_header(order, data.ship_to, data.service_level)
    by_number = {line.line_number: line for line in lines}
    asked = [
        *((c.line_number, c.quantity, f"lines[{i}]") for i, c in enumerate(data.lines)),
        *((n, 0, f"remove_lines[{i}]") for i, n in enumerate(data.remove_lines)),
    ]
    for number, quantity, path in asked:
        line = by_number.get(number)
        if line is None:
            where = path if path.startswith("remove") else f"{path}.line_number"
            plan.problems.append(
                Problem(where, f"order {order.number} has no line {number}", "order.line_not_found")
            )
        elif quantity != lifecycle.live(line):
            plan.targets[number] = Target(quantity, f"{path}.quantity" if quantity else path)
    plan.add = [(line, f"add_lines[{i}]") for i, line in enumerate(data.add_lines)]
    return plan


def plan_of_change(order: SalesOrder, lines: Sequence[OrderLine], incoming: OrderIn) -> Plan:
    """The plan a channel's re-delivery describes, against what is stored.

    A quantity above the one ordered adds the difference; below it, the line keeps at
    most that many units (units the OMS cancelled already count). A line missing from
    the re-delivery is removed; a line number whose SKU changed is refused.
    """
    plan = _plan_header(order, incoming.ship_to, incoming.service_level)
    by_number = {line.line_number: line for line in lines}
    sent: set[int] = set()
    for i, given in enumerate(incoming.lines):
        number = given.line_number or i + 1
        sent.add(number)
        line = by_number.get(number)
        if line is None:
            plan.add.append((given, f"lines[{i}]"))
            continue
        if given.sku != line.sku:
            plan.problems.append(
                Problem(
                    f"lines[{i}].sku",
                    f"line {number} was {line.sku}; a line cannot change its SKU "
                    "(remove it and add a new line)",
                    "order.line_sku_changed",
                )
            )
            continue
        now = lifecycle.live(line)
        if given.quantity > line.quantity:
            target = now + given.quantity - line.quantity
        else:
            target = min(now, given.quantity)
        if target != now:
            plan.targets[number] = Target(target, f"lines[{i}].quantity")
    for line in lines:
        if line.line_number not in sent and lifecycle.live(line):
            plan.targets[line.line_number] = Target(0, "lines")
    return plan


def _plan_header(
    order: SalesOrder, ship_to: OrderAddress | None, service_level: ServiceLevel | None
) -> Plan:
    plan = Plan()
    if ship_to is not None:
        wanted = ship_to.model_dump(mode="json", exclude_none=True)
        if wanted != _without_nulls(order.ship_to):
            plan.ship_to = wanted
    if service_level is not None and service_level != order.service_level:
        plan.service_level = ServiceLevel(service_level)
    return plan


def _without_nulls(values: dict[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (values or {}).items() if v is not None}


# -- checking and applying --------------------------------------------------------------------


def check(
    session: Session, order: SalesOrder, lines: Sequence[OrderLine], plan: Plan
) -> dict[str, Item]:
    """Refuse the plan, naming every problem, unless all of it may be applied; the items
    of the lines to add, by SKU."""
    problems = list(plan.problems)
    items = catalog.items_by_skus(session, [line.sku for line, _ in plan.add])
    numbers = {line.line_number for line in lines}
    for added, path in plan.add:
        item = items.get(added.sku)
        if item is None:
            problems.append(Problem(f"{path}.sku", f"unknown SKU {added.sku}", "order.unknown_sku"))
        elif not item.active:
            problems.append(
                Problem(f"{path}.sku", f"SKU {added.sku} is inactive", "order.inactive_sku")
            )
        if added.line_number in numbers:
            problems.append(
                Problem(
                    f"{path}.line_number",
                    f"order {order.number} has a line {added.line_number} already",
                    "order.line_exists",
                )
            )
    if problems:
        raise ValidationFailed(problems)
    if lifecycle.released_units(lines):
        if plan.ship_to is not None:
            raise CannotEditReleasedUnits(order, "ship_to")
        if plan.service_level is not None:
            raise CannotEditReleasedUnits(order, "service_level")
    by_number = {line.line_number: line for line in lines}
    for number, target in plan.targets.items():
        line = by_number[number]
        if target.quantity < lifecycle.live(line):
            lifecycle.check_cancellable(order, line, lifecycle.live(line) - target.quantity)
    return items


def apply(
    session: Session,
    order: SalesOrder,
    lines: list[OrderLine],
    plan: Plan,
    *,
    actor: Principal,
    source: str,
    note: str | None = None,
) -> dict[str, Any]:
    """Check, then apply the plan and record `order.changed`; what changed, as
    `{field: [old, new]}`."""
    items = check(session, order, lines, plan)
    before = content(order, lines)
    if plan.ship_to is not None:
        order.ship_to = plan.ship_to
    if plan.service_level is not None:
        order.service_level = plan.service_level
    by_number = {line.line_number: line for line in lines}
    grown: list[int] = []
    for number, target in plan.targets.items():
        line = by_number[number]
        now = lifecycle.live(line)
        if target.quantity < now:
            lifecycle.cancel_units(session, order, line, now - target.quantity, actor=actor)
        else:
            line.quantity += target.quantity - now
            grown.append(line.id)
    if plan.add:
        session.flush()
        grown += _insert_lines(session, order, lines, plan.add, items)
        lines = repository.lines_of(session, order.id)
    allocated = allocation.Allocated(0, 0)
    if grown and order.accepted:
        allocated = allocation.allocate(
            session, order, [line for line in lines if line.id in grown], actor=actor, reason="edit"
        )
    if grown:
        _retotal(order, lines)
    lifecycle.refresh(order, lines)
    session.flush()
    after = content(order, lines)
    changes = diff.changes(before, after)
    data: dict[str, Any] = {"source": source, "changes": changes}
    if note:
        data["note"] = note
    data.update(allocated.routing())
    timeline.record(session, order, "changed", actor=actor, data=data, before=before, after=after)
    if allocated.review and not any(
        h.reason == allocation.REVIEW_HOLD
        for h in repository.holds_of(session, order.id, active_only=True)
    ):
        holds.place_hold(
            session, order.id, type=HoldType.MANUAL, reason=allocation.REVIEW_HOLD, actor=actor
        )
    return changes


def _insert_lines(
    session: Session,
    order: SalesOrder,
    lines: Sequence[OrderLine],
    added: Sequence[tuple[LineIn, str]],
    items: dict[str, Item],
) -> list[int]:
    """Insert the added lines, numbering the unnumbered after the last; their ids."""
    taken = {line.line_number for line in lines} | {
        line.line_number for line, _ in added if line.line_number is not None
    }
    following = max(taken, default=0)
    rows = []
    for line, _ in added:
        number = line.line_number
        if number is None:
            following += 1
            number = following
        rows.append(
            {
                "order_id": order.id,
                "line_number": number,
                "item_id": items[line.sku].id,
                "sku": items[line.sku].sku,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "discount": line.discount,
                "tax": line.tax,
                "attributes": line.attributes,
            }
        )
    return repository.insert_lines(session, rows)


def _retotal(order: SalesOrder, lines: Sequence[OrderLine]) -> None:
    """Totals of what is ordered now, to the currency's precision (cancelled units stay
    counted as ordered, as they are on the lines)."""
    subtotal = sum((line.unit_price * line.quantity for line in lines), Decimal(0))
    discount = sum((line.discount for line in lines), Decimal(0))
    tax = sum((line.tax for line in lines), Decimal(0))
    order.subtotal = quantize(subtotal, order.currency)
    order.discount_total = quantize(discount, order.currency)
    order.tax_total = quantize(tax, order.currency)
    order.total = quantize(subtotal - discount + tax + order.shipping_charge, order.currency)


def content(order: SalesOrder, lines: Sequence[OrderLine]) -> dict[str, Any]:
    """What an edit may change, flat, for the timeline's before and after."""
    shown: dict[str, Any] = {
        "ship_to": _without_nulls(order.ship_to),
        "service_level": str(order.service_level),
    }
    for line in lines:
        shown[f"line {line.line_number}"] = {"sku": line.sku, "quantity": lifecycle.live(line)}
    return shown
