"""The simulated shop's orders: valid intake payloads of the demo's channels and items."""

from __future__ import annotations

from oms import demo
from oms.orders.schemas import OrderIn
from oms.simulate import shop


def test_every_new_order_is_a_valid_order_of_a_demo_channel() -> None:
    orders = [shop.new_order(n, seed=3, run="T1") for n in range(30)]

    for payload in orders:
        order = OrderIn.model_validate(payload)
        assert order.channel in {c["code"] for c in demo.CHANNELS}
        assert {line.sku for line in order.lines} <= set(shop.PLENTIFUL)
    assert {o["channel"] for o in orders} == {"web", "amazon", "b2b"}


def test_external_ids_differ_by_run_and_by_order() -> None:
    ids = {shop.new_order(n, seed=3, run=run)["external_id"] for n in range(5) for run in "AB"}

    assert len(ids) == 10


def test_the_same_seed_sends_the_same_order() -> None:
    assert shop.new_order(4, seed=9, run="R") == shop.new_order(4, seed=9, run="R")


def test_orders_ask_only_for_what_the_channel_can_spare() -> None:
    stock = {"WID-BLU": shop.STOCK_MARGIN + 2, "MUG-CER": shop.STOCK_MARGIN, "GAD-100": 0}

    for n in range(20):
        lines = shop.new_order(n, seed=1, run="R", stock=stock)["lines"]
        assert [(line["sku"], line["quantity"] <= 2) for line in lines] == [("WID-BLU", True)]


def test_b2b_orders_come_from_contoso_by_its_account() -> None:
    payload = shop.new_order(5, seed=1, run="R")

    assert payload["channel"] == "b2b"
    assert payload["customer"] == {"account_number": "CR-2002"}
    assert payload["ship_to"]["name"] == "Contoso Retail"
