"""The refund arithmetic of returns: line shares, rounding, and the shipping policies."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from oms.fulfillment.models import ShippingRefund
from oms.fulfillment.refunds import ChargedLine, refund, value


def line(
    line_id: int = 1,
    *,
    price: str = "25.00",
    discount: str = "0",
    tax: str = "0",
    live: int = 4,
    shipped: int = 4,
    returned: int = 0,
) -> ChargedLine:
    return ChargedLine(
        line_id=line_id,
        unit_price=Decimal(price),
        discount=Decimal(discount),
        tax=Decimal(tax),
        live=live,
        shipped=shipped,
        returned=returned,
    )


def test_units_carry_their_share_of_the_lines_discount_and_tax() -> None:
    charged = line(discount="10.00", tax="7.00")

    assert value(charged, 1) == Decimal("24.25")
    assert value(charged, 4) == Decimal("97.00")


def test_shares_are_of_the_units_not_cancelled() -> None:
    charged = line(discount="10.00", live=2, shipped=2)

    assert value(charged, 1) == Decimal("20.00")


def test_each_lines_refund_is_rounded_to_the_currency() -> None:
    lines = [line(price="10.00", tax="1.00", live=3, shipped=3)]

    usd = refund(
        ShippingRefund.NONE,
        currency="USD",
        charge=Decimal(0),
        order_lines=lines,
        coming_back={1: 1},
    )
    jpy = refund(
        ShippingRefund.NONE,
        currency="JPY",
        charge=Decimal(0),
        order_lines=lines,
        coming_back={1: 1},
    )

    assert usd.lines == {1: Decimal("10.33")}
    assert jpy.lines == {1: Decimal("10")}


def test_full_shipping_comes_back_only_with_every_shipped_unit() -> None:
    lines = [line(1, shipped=4, returned=3), line(2, shipped=2)]

    partial = refund(
        ShippingRefund.FULL,
        currency="USD",
        charge=Decimal("9.99"),
        order_lines=lines,
        coming_back={2: 2},
    )
    complete = refund(
        ShippingRefund.FULL,
        currency="USD",
        charge=Decimal("9.99"),
        order_lines=lines,
        coming_back={1: 1, 2: 2},
    )

    assert partial.shipping == Decimal("0.00")
    assert complete.shipping == Decimal("9.99")


@given(
    prices=st.lists(st.integers(min_value=1, max_value=10_000), min_size=1, max_size=5),
    charge=st.integers(min_value=0, max_value=10_000),
)
def test_prorated_shipping_of_every_shipped_unit_is_the_whole_charge(
    prices: list[int], charge: int
) -> None:
    lines = [line(i, price=str(Decimal(p) / 100), live=3, shipped=3) for i, p in enumerate(prices)]
    shipping = Decimal(charge) / 100

    everything = refund(
        ShippingRefund.PRORATED,
        currency="USD",
        charge=shipping,
        order_lines=lines,
        coming_back=dict.fromkeys(range(len(prices)), 3),
    )

    assert everything.shipping == shipping
