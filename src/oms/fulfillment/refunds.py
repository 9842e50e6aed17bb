"""What a return refunds: pure arithmetic over what the order charged, no session.

A line refunds, for the units coming back, their price less their share of the line's
discount plus their share of its tax; shares go in proportion to the line's units not
cancelled (the units the discount and tax were charged on). Each line's amount is
rounded to the currency's precision.

Shipping refunds by the return's policy:

- `none`: nothing;
- `full`: the order's whole shipping charge, but only when this return brings back
  every shipped unit still out (units returned earlier count as back), so one return
  of an order at most ever refunds it;
- `prorated`: the shipping charge × the value coming back / the value shipped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from oms.fulfillment.models import ShippingRefund
from oms.orders.schemas import quantize

ZERO = Decimal(0)


@dataclass(frozen=True)
class ChargedLine:
    """One order line as charged, and where its units are."""

    line_id: int
    unit_price: Decimal
    discount: Decimal
    tax: Decimal
    live: int
    """Units ordered and not cancelled: what the discount and tax were charged on."""
    shipped: int
    """Units shipped or delivered."""
    returned: int
    """Units already back through earlier returns."""


@dataclass(frozen=True)
class Refund:
    lines: dict[int, Decimal]
    """Order line id → its refund, rounded."""
    shipping: Decimal

    @property
    def total(self) -> Decimal:
        return sum(self.lines.values(), ZERO) + self.shipping


def value(line: ChargedLine, units: int) -> Decimal:
    """What `units` of a line charged, unrounded: price less discount share plus tax share."""
    if units <= 0:
        return ZERO
    share = Decimal(units) / Decimal(line.live) if line.live > 0 else ZERO
    return line.unit_price * units - line.discount * share + line.tax * share


def shipping(
    policy: ShippingRefund,
    charge: Decimal,
    order_lines: Sequence[ChargedLine],
    coming_back: Mapping[int, int],
) -> Decimal:
    """The shipping refund, unrounded, for `coming_back` (order line id → units)."""
    if policy == ShippingRefund.NONE or charge <= 0 or not any(coming_back.values()):
        return ZERO
    if policy == ShippingRefund.FULL:
        every_unit = all(
            line.returned + coming_back.get(line.line_id, 0) >= line.shipped for line in order_lines
        )
        return charge if every_unit else ZERO
    shipped = sum((value(line, line.shipped) for line in order_lines), ZERO)
    back = sum(
        (value(line, coming_back.get(line.line_id, 0)) for line in order_lines),
        ZERO,
    )
    return charge * back / shipped if shipped > 0 else ZERO


def refund(
    policy: ShippingRefund,
    *,
    currency: str,
    charge: Decimal,
    order_lines: Sequence[ChargedLine],
    coming_back: Mapping[int, int],
) -> Refund:
    """Each line's refund and the shipping refund, rounded to the currency's precision."""
    by_id = {line.line_id: line for line in order_lines}
    lines = {
        line_id: quantize(value(by_id[line_id], units), currency)
        for line_id, units in coming_back.items()
    }
    return Refund(
        lines=lines,
        shipping=quantize(shipping(policy, charge, order_lines, coming_back), currency),
    )
