"""Property: whatever sequence of stock operations runs, balances equal the ledger and
reserved equals the open quantity of active reservations."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from oms.auth.principal import SYSTEM
from oms.db import Database
from oms.errors import OmsError
from oms.inventory import balances, ledger, reservations, transfers
from oms.inventory.ledger import Reference
from oms.inventory.transfers import TransferLineInput
from tests.integration.inventory import factories


@dataclass(frozen=True)
class Op:
    kind: str
    warehouse: int
    quantity: int
    pick: int


operations = st.lists(
    st.builds(
        Op,
        kind=st.sampled_from(
            [
                "adjust",
                "receive",
                "write_off",
                "reserve",
                "release",
                "consume",
                "move",
                "transfer",
                "receive_transfer",
            ]
        ),
        warehouse=st.integers(0, 1),
        quantity=st.integers(-5, 12),
        pick=st.integers(0, 50),
    ),
    max_size=25,
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations)
def test_balances_equal_the_ledger_after_any_sequence_of_operations(
    db: Database, ops: list[Op]
) -> None:
    tag = uuid.uuid4().hex[:6]
    sku, codes = f"P-{tag}", [f"A{tag}", f"B{tag}"]
    with db.transaction() as session:
        factories.item(session, sku)
        for code in codes:
            factories.warehouse(session, code)
    made: list[int] = []
    shipped: list[int] = []

    for op in ops:
        warehouse, other = codes[op.warehouse], codes[1 - op.warehouse]
        try:
            with db.transaction() as session:
                run(session, op, sku, warehouse, other, made, shipped)
        except OmsError:
            pass  # refused operations must leave nothing behind; the check below proves it

    with db.transaction() as session:
        report = balances.verify(session)
        lines = balances.stock_lines(session, sku=sku, actor=SYSTEM)
    assert report.ok, report
    assert all(line.on_hand >= 0 and line.reserved >= 0 for line in lines)


def run(
    session: Session,
    op: Op,
    sku: str,
    warehouse: str,
    other: str,
    made: list[int],
    shipped: list[int],
) -> None:
    """Apply one operation; a refusal raises and rolls its transaction back."""
    pick = made[op.pick % len(made)] if made else 0
    quantity = abs(op.quantity) or 1
    if op.kind == "adjust":
        ledger.adjust(
            session,
            sku=sku,
            warehouse=warehouse,
            quantity=op.quantity or 1,
            reason="correction",
            actor=SYSTEM,
        )
    elif op.kind == "receive":
        ledger.receive(session, sku=sku, warehouse=warehouse, quantity=quantity, actor=SYSTEM)
    elif op.kind == "write_off":
        ledger.write_off(
            session, sku=sku, warehouse=warehouse, quantity=quantity, reason="damaged", actor=SYSTEM
        )
    elif op.kind == "reserve":
        made.append(
            reservations.reserve(
                session,
                sku=sku,
                warehouse=warehouse,
                quantity=quantity,
                reference="p",
                actor=SYSTEM,
            ).id
        )
    elif op.kind == "release" and made:
        reservations.release(session, pick, actor=SYSTEM)
    elif op.kind == "consume" and made:
        reservations.consume(
            session, pick, quantity=quantity, reference=Reference("shipment", "p"), actor=SYSTEM
        )
    elif op.kind == "move" and made:
        made.append(reservations.move(session, pick, warehouse=other, actor=SYSTEM).id)
    elif op.kind == "transfer":
        shipped.append(
            transfers.create_transfer(
                session,
                source=warehouse,
                destination=other,
                lines=[TransferLineInput(sku=sku, quantity=quantity)],
                actor=SYSTEM,
            ).id
        )
    elif op.kind == "receive_transfer" and shipped:
        transfers.receive_transfer(session, shipped[op.pick % len(shipped)], actor=SYSTEM)
