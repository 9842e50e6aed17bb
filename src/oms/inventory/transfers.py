"""Transfers between warehouses: one document, two legs, in transit between them.

Creating a transfer ships it: on hand falls at the source (transfer_out) and
the quantity shows as in transit (inbound) at the destination. Receiving it
adds on hand at the destination (transfer_in) and clears the in-transit figure.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from oms import audit, outbox
from oms.auth.principal import Principal
from oms.catalog.models import Item, Warehouse
from oms.errors import InvalidTransition, Problem, ValidationFailed
from oms.inventory import repository as stock
from oms.inventory.errors import InsufficientStock, NegativeStock, TransferNotFound
from oms.inventory.ledger import Reference, post, resolve
from oms.inventory.models import MovementKind, Transfer, TransferLine, TransferStatus
from oms.kit import clock


@dataclass(frozen=True)
class TransferLineInput:
    sku: str
    quantity: int


def create_transfer(
    session: Session,
    *,
    source: str,
    destination: str,
    lines: Sequence[TransferLineInput],
    expected_at: dt.datetime | None = None,
    note: str | None = None,
    actor: Principal,
) -> Transfer:
    """Ship stock from `source` toward `destination`; only available stock may leave."""
    problems = []
    if source.strip() == destination.strip():
        problems.append(Problem("destination", "must differ from the source"))
    if not lines:
        problems.append(Problem("lines", "at least one line is required"))
    seen: set[str] = set()
    for n, line in enumerate(lines):
        if line.quantity <= 0:
            problems.append(Problem(f"lines[{n}].quantity", "must be greater than zero"))
        if line.sku in seen:
            problems.append(Problem(f"lines[{n}].sku", f"{line.sku} appears twice"))
        seen.add(line.sku)
    if problems:
        raise ValidationFailed(problems)
    resolved: list[tuple[Item, Warehouse, Warehouse, int]] = []
    for line in lines:
        item, src = resolve(session, sku=line.sku, warehouse=source, actor=actor)
        _, dst = resolve(session, sku=line.sku, warehouse=destination, actor=actor)
        resolved.append((item, src, dst, line.quantity))
    transfer = Transfer(
        source_warehouse_id=resolved[0][1].id,
        destination_warehouse_id=resolved[0][2].id,
        expected_at=expected_at,
        note=note,
        actor=actor.label,
        created_at=clock.now(),
    )
    stock.add_transfer(
        session, transfer, [TransferLine(item_id=i.id, quantity=q) for i, _, _, q in resolved]
    )
    reference = Reference("transfer", str(transfer.id))
    # Rows are touched in one fixed order, (item id, warehouse id), so that two
    # transfers between the same warehouses in opposite directions cannot deadlock.
    # The savepoint keeps a refused transfer from leaving half its legs behind.
    legs = []
    for item, src, dst, quantity in resolved:
        legs.append((item.id, src.id, item, src, MovementKind.TRANSFER_OUT, quantity))
        legs.append((item.id, dst.id, item, dst, MovementKind.TRANSFER_IN, quantity))
    with session.begin_nested():
        for _, _, item, warehouse, kind, quantity in sorted(legs, key=lambda leg: leg[:2]):
            if kind == MovementKind.TRANSFER_IN:
                post(
                    session,
                    item=item,
                    warehouse=warehouse,
                    kind=kind,
                    in_transit=quantity,
                    actor=actor,
                    reference=reference,
                )
                continue
            try:
                post(
                    session,
                    item=item,
                    warehouse=warehouse,
                    kind=kind,
                    on_hand=-quantity,
                    actor=actor,
                    reference=reference,
                    within_available=True,
                )
            except NegativeStock as exc:
                current = stock.balance(session, item.id, warehouse.id)
                raise InsufficientStock(
                    sku=item.sku,
                    warehouse=warehouse.code,
                    requested=quantity,
                    available=current.available if current else 0,
                ) from exc
    audit.record(
        session,
        actor=actor.label,
        action="transfer.shipped",
        entity_type="transfer",
        entity_id=str(transfer.id),
        after={
            "source": source,
            "destination": destination,
            "lines": [{"sku": i.sku, "quantity": q} for i, _, _, q in resolved],
        },
    )
    outbox.record(
        session, "transfer.shipped", {"transfer_id": transfer.id}, key=f"transfer:{transfer.id}"
    )
    return transfer


def receive_transfer(session: Session, transfer_id: int, *, actor: Principal) -> Transfer:
    """Book a transfer in at its destination."""
    transfer = stock.transfer_by_id(session, transfer_id)
    if transfer is None:
        raise TransferNotFound(transfer_id)
    destination = stock.warehouse_of(session, transfer.destination_warehouse_id)
    if not actor.sees_warehouse(destination.code):
        raise TransferNotFound(transfer_id)
    if transfer.status != TransferStatus.IN_TRANSIT:
        raise InvalidTransition(
            f"transfer {transfer_id} is {transfer.status}; only a transfer in transit is received",
            code="inventory.transfer_not_in_transit",
        )
    reference = Reference("transfer", str(transfer.id))
    for line, item in sorted(stock.transfer_lines(session, transfer.id), key=lambda r: r[1].id):
        post(
            session,
            item=item,
            warehouse=destination,
            kind=MovementKind.TRANSFER_IN,
            on_hand=line.quantity,
            in_transit=-line.quantity,
            actor=actor,
            reference=reference,
        )
    transfer.status = TransferStatus.RECEIVED
    transfer.received_at = clock.now()
    session.flush()
    audit.record(
        session,
        actor=actor.label,
        action="transfer.received",
        entity_type="transfer",
        entity_id=str(transfer.id),
        before={"status": "in_transit"},
        after={"status": "received"},
    )
    outbox.record(
        session, "transfer.received", {"transfer_id": transfer.id}, key=f"transfer:{transfer.id}"
    )
    return transfer
