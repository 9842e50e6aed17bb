"""Transient objects made without the instrumented constructor read and change like
constructed ones, and belong to no session."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import inspect

from oms.kit.transient import transient
from oms.orders.models import OrderLine

VALUES = {
    "id": 7,
    "order_id": 3,
    "line_number": 1,
    "item_id": 11,
    "sku": "ABC-1",
    "quantity": 5,
    "unit_price": Decimal("19.9900"),
    "discount": Decimal("0.0000"),
    "tax": Decimal("0.0000"),
    "allocated": 0,
    "backordered": 0,
    "released": 0,
    "shipped": 0,
    "delivered": 0,
    "cancelled": 0,
    "returned": 0,
    "attributes": {},
}


def test_a_transient_object_reads_as_one_built_by_its_constructor() -> None:
    made, built = transient(OrderLine, VALUES), OrderLine(**VALUES)

    assert {name: getattr(made, name) for name in VALUES} == VALUES
    assert made.open == built.open == 5
    assert inspect(made).transient


def test_a_transient_object_takes_changes_as_usual() -> None:
    made = transient(OrderLine, VALUES)

    made.allocated = 3

    assert (made.allocated, made.open) == (3, 2)
