"""Pydantic errors become problems with paths a person can read."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from oms.errors import ValidationFailed
from oms.kit.validation import field_path, parse


class Line(BaseModel):
    sku: str
    quantity: int


class Order(BaseModel):
    lines: list[Line]


def test_a_location_becomes_a_dotted_path_with_indexes() -> None:
    assert field_path(("lines", 2, "sku")) == "lines[2].sku"


def test_every_bad_line_is_named() -> None:
    with pytest.raises(ValidationFailed) as raised:
        parse(Order, {"lines": [{"sku": "A", "quantity": 1}, {"quantity": "x"}]})

    paths = [p.path for p in raised.value.problems]
    assert paths == ["lines[1].sku", "lines[1].quantity"]
