"""Returned goods arriving: the WMS's receipt and the inspection (see `returns` for the
lifecycle).

A receipt is kept raw in the inbox first, then once per warehouse and message id like
the WMS's fulfillment messages: a second delivery of an id answers `duplicate` and
changes nothing. Receipts add up per line until the inspection, never beyond what was
authorized.

The inspection says per received line how many units are resellable and how many
damaged. Resellable units go back on hand through a `return_restock` movement (the
worker then serves the item's backorders from them). Damaged units were shipped out
and are not stock: they are counted in with a `receipt` movement and written off at
once with a `write_off`, so the ledger shows what came back and what was scrapped while
on hand rises by the resellable units only. The order lines' `returned` counts the
received units, the refund is priced again on them, and `return.refund_due` tells the
channel or ERP what to pay back (no payment is made here).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from oms.auth.principal import Principal
from oms.catalog import repository as catalog
from oms.errors import Conflict, Problem, ValidationFailed
from oms.fulfillment import messages, refunds, returns, wms
from oms.fulfillment import repository as fulfillment
from oms.fulfillment import returns_repository as repository
from oms.fulfillment.models import MessageOutcome, Return, ReturnLine, ReturnStatus
from oms.fulfillment.returns import Action, check_version, guard, locked, price, record, touch
from oms.fulfillment.returns_schemas import InspectionIn, ReceiptIn, ReceiptOut
from oms.inventory import ledger
from oms.inventory.ledger import Reference
from oms.inventory.models import MovementKind
from oms.kit import clock
from oms.orders import lifecycle
from oms.orders.models import SalesOrder
from oms.orders.schemas import quantize
from oms.outbox import service as outbox

S = ReturnStatus
RECEIPT_KIND = "wms.return_receipt"


@dataclass(frozen=True)
class Received:
    message_id: str
    outcome: MessageOutcome
    note: str | None
    rma: Return


class MessageIdReused(Conflict):
    def __init__(self, message_id: str, number: str) -> None:
        super().__init__(
            f"message {message_id} was already sent by this warehouse about something other "
            f"than return {number}: give each message its own id",
            code="return.message_id_reused",
            message_id=message_id,
        )


# -- the WMS's receipt -----------------------------------------------------------------


def store_receipt(session: Session, key: str, body: str, *, actor: Principal) -> int:
    """Keep a receipt as the WMS sent it, before anything reads it; its inbox id."""
    return messages.store_raw(session, RECEIPT_KIND, key, body, actor=actor)


def process_receipt(
    session: Session, inbox_id: int, key: int | str, body: str, *, actor: Principal
) -> ReceiptOut:
    """Parse and apply a stored receipt; the answer the WMS gets."""
    data = messages.parsed(ReceiptIn, body)
    handled = receive(session, key, data, actor=actor, inbox_id=inbox_id)
    messages.note_outcome(
        session, inbox_id, handled.outcome, document=handled.rma.number, note=handled.note
    )
    return ReceiptOut(
        message_id=handled.message_id,
        outcome=handled.outcome,
        note=handled.note,
        rma=returns.view(session, [handled.rma])[0],
    )


def receive(
    session: Session, key: int | str, data: ReceiptIn, *, actor: Principal, inbox_id: int | None
) -> Received:
    """Count in what the warehouse received, once per message id; never more of a line
    than was authorized (422 naming the line)."""
    wms.check_sender(actor)
    rma, order, _ = locked(session, key, actor=actor)
    assert rma.warehouse_id is not None
    kept = fulfillment.insert_message_once(
        session,
        {
            "warehouse_id": rma.warehouse_id,
            "message_id": data.message_id,
            "kind": "return_receipt",
            "fulfillment_order_id": None,
            "return_id": rma.id,
            "inbox_id": inbox_id,
            "outcome": MessageOutcome.APPLIED,
            "note": None,
            "body": data.model_dump(mode="json"),
            "actor": actor.label,
            "received_at": clock.now(),
        },
    )
    if kept is None:
        first = fulfillment.message(session, rma.warehouse_id, data.message_id)
        assert first is not None
        if first.return_id != rma.id:
            raise MessageIdReused(data.message_id, rma.number)
        said = f"message {data.message_id} was received at {first.received_at.isoformat()}"
        return Received(data.message_id, MessageOutcome.DUPLICATE, f"{said}: {first.outcome}", rma)
    guard(Action.RECEIVE, rma)
    lines = repository.lines_of(session, [rma.id])
    counted = _received_lines(data, lines)
    for line, units in counted:
        line.received += units
    before = ReturnStatus(rma.status)
    rma.status = S.RECEIVED
    rma.received_at = rma.received_at or data.received_at or clock.now()
    touch(session, rma)
    record(
        session,
        rma,
        order,
        "received",
        actor=actor,
        before=before,
        data={
            "message_id": data.message_id,
            "lines": [
                {"line_number": line.line_number, "sku": line.sku, "quantity": units}
                for line, units in counted
            ],
        },
    )
    return Received(data.message_id, MessageOutcome.APPLIED, None, rma)


def _received_lines(data: ReceiptIn, lines: Sequence[ReturnLine]) -> list[tuple[ReturnLine, int]]:
    """The return lines a receipt names, with units; never beyond what was authorized."""
    by_number = {line.line_number: line for line in lines}
    by_sku: dict[str, list[ReturnLine]] = {}
    for line in lines:
        by_sku.setdefault(line.sku, []).append(line)
    problems: list[Problem] = []
    totals: dict[int, int] = {}
    named: dict[int, ReturnLine] = {}
    for index, counted in enumerate(data.lines):
        path = f"lines[{index}]"
        if counted.line_number is not None:
            found = by_number.get(counted.line_number)
            if found is None or (counted.sku is not None and counted.sku != found.sku):
                problems.append(
                    Problem(
                        f"{path}.line_number",
                        f"line {counted.line_number}"
                        + (f" ({counted.sku})" if counted.sku else "")
                        + " is not on this return",
                        "return.unknown_line",
                    )
                )
                continue
        else:
            candidates = by_sku.get(counted.sku or "", [])
            if len(candidates) != 1:
                problems.append(
                    Problem(
                        f"{path}.sku",
                        f"{counted.sku} is not on this return"
                        if not candidates
                        else f"{counted.sku} is on several lines: name the line_number",
                        "return.unknown_line" if not candidates else "return.ambiguous_sku",
                    )
                )
                continue
            found = candidates[0]
        totals[found.id] = totals.get(found.id, 0) + counted.quantity
        named[found.id] = found
        left = found.quantity - found.received
        if totals[found.id] > left:
            problems.append(
                Problem(
                    f"{path}.quantity",
                    f"line {found.line_number} ({found.sku}): {found.quantity} units authorized, "
                    f"{found.received} received already; at most {left} more, not "
                    f"{totals[found.id]}",
                    "return.too_many_units",
                )
            )
    if problems:
        raise ValidationFailed(problems)
    return [(named[line_id], units) for line_id, units in totals.items()]


# -- inspection ------------------------------------------------------------------------


def inspect(
    session: Session,
    key: int | str,
    data: InspectionIn,
    *,
    actor: Principal,
    expected_version: int | None = None,
) -> Return:
    """Decide per line how many received units are resellable (back on hand) and how many
    damaged (written off); count them returned on the order, price the refund again and
    announce it as due."""
    rma, order, order_lines = locked(session, key, actor=actor)
    guard(Action.INSPECT, rma)
    check_version(rma, expected_version)
    lines = repository.lines_of(session, [rma.id])
    decided = _inspected_lines(data, lines)
    for line in lines:
        line.resellable, line.damaged = decided.get(line.id, (0, 0))
    _post_movements(session, rma, lines, actor=actor)
    coming_back = {line.order_line_id: line.received for line in lines if line.received}
    price(rma, order, order_lines, lines, coming_back)
    for order_line in order_lines:
        order_line.returned += coming_back.get(order_line.id, 0)
    lifecycle.refresh(order, order_lines)
    rma.status = S.RESTOCKED if any(line.resellable for line in lines) else S.SCRAPPED
    rma.inspected_at = clock.now()
    touch(session, rma)
    shown = [
        {
            "line_number": line.line_number,
            "sku": line.sku,
            "received": line.received,
            "resellable": line.resellable,
            "damaged": line.damaged,
        }
        for line in lines
    ]
    record(session, rma, order, "inspected", actor=actor, before=S.RECEIVED, data={"lines": shown})
    _refund_due(session, rma, order, lines)
    return rma


def _inspected_lines(data: InspectionIn, lines: Sequence[ReturnLine]) -> dict[int, tuple[int, int]]:
    """Return line id → (resellable, damaged); each line inspected adds up to what it
    received, and every line that received units is inspected."""
    by_number = {line.line_number: line for line in lines}
    problems: list[Problem] = []
    decided: dict[int, tuple[int, int]] = {}
    for index, seen in enumerate(data.lines):
        path = f"lines[{index}]"
        line = by_number.get(seen.line_number)
        if line is None:
            problems.append(
                Problem(
                    f"{path}.line_number",
                    f"line {seen.line_number} is not on this return",
                    "return.unknown_line",
                )
            )
        elif line.id in decided:
            problems.append(
                Problem(
                    f"{path}.line_number",
                    f"line {line.line_number} is named twice",
                    "return.duplicate_line",
                )
            )
        elif seen.resellable + seen.damaged != line.received:
            problems.append(
                Problem(
                    path,
                    f"line {line.line_number} ({line.sku}) received {line.received} units: "
                    f"resellable ({seen.resellable}) and damaged ({seen.damaged}) must add up "
                    "to that",
                    "return.inspection_mismatch",
                )
            )
        else:
            decided[line.id] = (seen.resellable, seen.damaged)
    named = {seen.line_number for seen in data.lines}
    for line in lines:
        if line.received and line.line_number not in named:
            problems.append(
                Problem(
                    "lines",
                    f"line {line.line_number} ({line.sku}) received {line.received} units "
                    "and is not inspected",
                    "return.line_not_inspected",
                )
            )
    if problems:
        raise ValidationFailed(problems)
    return decided


def _post_movements(
    session: Session, rma: Return, lines: Sequence[ReturnLine], *, actor: Principal
) -> None:
    """Resellable units back on hand (`return_restock`); damaged ones counted in and
    written off at once (`receipt` then `write_off`) at the return's warehouse."""
    warehouse = catalog.warehouses_by_ids(session, [rma.warehouse_id or 0])[0]
    items = {item.id: item for item in catalog.items_by_ids(session, {x.item_id for x in lines})}
    reference = Reference("return", rma.number)
    for line in lines:
        item = items[line.item_id]
        moves: list[tuple[MovementKind, int, str]] = []
        if line.resellable:
            moves.append((MovementKind.RETURN_RESTOCK, line.resellable, "resellable"))
        if line.damaged:
            moves.append((MovementKind.RECEIPT, line.damaged, "return_damaged"))
            moves.append((MovementKind.WRITE_OFF, -line.damaged, "damaged"))
        for kind, units, reason in moves:
            ledger.post(
                session,
                item=item,
                warehouse=warehouse,
                kind=kind,
                on_hand=units,
                actor=actor,
                reason=reason,
                reference=reference,
            )


def _refund_due(
    session: Session, rma: Return, order: SalesOrder, lines: Sequence[ReturnLine]
) -> None:
    """`return.refund_due`: what the channel or ERP should pay back, line by line."""
    channel = catalog.channels_by_ids(session, [order.channel_id])
    currency = rma.currency
    merchandise = quantize(sum((line.refund_amount for line in lines), refunds.ZERO), currency)
    total = quantize(rma.refund_amount, currency)
    outbox.record(
        session,
        "return.refund_due",
        {
            "return": rma.number,
            "return_id": rma.id,
            "order_id": order.id,
            "order_number": order.number,
            "channel": channel[0].code if channel else None,
            "channel_order_id": order.external_id,
            "currency": rma.currency,
            "lines": [
                {
                    "line_number": line.line_number,
                    "sku": line.sku,
                    "quantity": line.received,
                    "resellable": line.resellable,
                    "damaged": line.damaged,
                    "amount": str(quantize(line.refund_amount, currency)),
                }
                for line in lines
                if line.received
            ],
            "merchandise_amount": str(merchandise),
            "shipping_refund": str(rma.shipping_refund),
            "shipping_amount": str(total - merchandise),
            "amount": str(total),
        },
        key=f"order:{order.number}",
    )
