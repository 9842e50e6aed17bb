"""The WMS simulator against a stub of Item OMS over real HTTP: signed webhooks in, ack,
statuses and shipments out, pull by polling, short picks, retries and registration."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest

from oms.outbox import signing
from oms.simulate import work
from oms.simulate.wms import WmsSimulator, WmsSimulatorConfig
from tests.integration.simulate.stub_oms import StubOms, wait_until

SECRET = signing.new_secret()
API_KEY = "oms_whsimul8_warehouse-key"


@pytest.fixture
def stub() -> Iterator[StubOms]:
    with StubOms.running() as running:
        yield running


def a_config(stub: StubOms, **changes: Any) -> WmsSimulatorConfig:
    fast = WmsSimulatorConfig(
        warehouse="DAL",
        api_key=API_KEY,
        oms_url=stub.url,
        port=0,
        secret=SECRET,
        ack_delay=0.01,
        pick_delay=0.01,
        pack_delay=0.01,
        ship_delay=0.01,
        short_rate=0.0,
        seed=1,
        poll_interval=0.05,
        retry_delay=0.01,
    )
    return replace(fast, **changes)


@pytest.fixture
def simulator(stub: StubOms) -> Iterator[WmsSimulator]:
    with WmsSimulator(a_config(stub)) as running:
        yield running


def a_fulfillment_order(
    fo_id: int = 12, *quantities: int, warehouse: str = "DAL"
) -> dict[str, Any]:
    return {
        "id": fo_id,
        "number": f"FO-{fo_id:06d}",
        "warehouse": warehouse,
        "status": "released",
        "order_number": "SO-000123",
        "channel": "web",
        "service_level": "standard",
        "ship_by": "2026-11-27T21:00:00Z",
        "released_at": "2026-11-27T12:00:00Z",
        "ship_to": {"name": "Ada Lovelace", "line1": "1 Main St", "city": "Dallas",
                    "region": "TX", "postal_code": "75201", "country": "US"},
        "lines": [
            {"line_number": n, "sku": f"ABC-{n}", "quantity": q}
            for n, q in enumerate(quantities or (2,), start=1)
        ],
    }  # fmt: skip


def push(
    simulator: WmsSimulator,
    order: dict[str, Any],
    *,
    secret: str = SECRET,
    event_type: str = "wms.dal.fulfillment_order.released",
    event_id: str | None = None,
) -> httpx.Response:
    """POST a release webhook as Item OMS's relay does: signed by the Standard Webhooks scheme."""
    event_id = event_id or f"evt_{uuid.uuid4().hex}"
    body = json.dumps(
        {
            "id": event_id,
            "type": event_type,
            "timestamp": "2026-11-27T12:00:00Z",
            "data": {"fulfillment_order": order},
        }
    ).encode()
    headers = signing.headers(secret, message_id=event_id, timestamp=int(time.time()), body=body)
    return httpx.post(
        simulator.url, content=body, headers={**headers, "content-type": "application/json"}
    )


def shipped(stub: StubOms, fo_id: int) -> bool:
    return any(c.kind == "shipments" for c in stub.messages(fo_id))


def test_a_signed_webhook_is_worked_through_ack_picking_packed_and_shipments_in_order(
    stub: StubOms, simulator: WmsSimulator
) -> None:
    answer = push(simulator, a_fulfillment_order(12, 2, 1))
    wait_until(lambda: shipped(stub, 12), "FO-000012 shipped")

    assert answer.status_code == 200
    assert answer.json() == {"outcome": "accepted"}
    messages = stub.messages()
    assert [c.kind for c in messages] == ["ack", "picking", "packed", "shipments"]
    assert {c.fulfillment_order_id for c in messages} == {12}
    assert messages[0].body == {
        "message_id": "sim-FO-000012-ack",
        "accepted": True,
        "reference": "SIM-DAL-12",
    }
    assert [c.body["message_id"] for c in messages[1:]] == [
        "sim-FO-000012-picking",
        "sim-FO-000012-packed",
        "sim-FO-000012-shipment",
    ]


def test_the_shipment_carries_every_unit_and_valid_ups_tracking_numbers(
    stub: StubOms, simulator: WmsSimulator
) -> None:
    push(simulator, a_fulfillment_order(12, 2, 3, 1))
    wait_until(lambda: shipped(stub, 12), "FO-000012 shipped")

    shipment = stub.messages(12)[-1].body
    assert shipment["carrier"] == "UPS"
    assert shipment["final"] is True
    assert [(line["sku"], line["quantity"]) for line in shipment["lines"]] == [
        ("ABC-1", 2),
        ("ABC-2", 3),
        ("ABC-3", 1),
    ]
    assert len(shipment["packages"]) == 2
    for package in shipment["packages"]:
        assert work.is_valid_ups_tracking_number(package["tracking_number"])
        assert float(package["weight"]) > 0
        assert package["weight_unit"] == "kg"


def test_every_message_carries_the_warehouse_api_key(
    stub: StubOms, simulator: WmsSimulator
) -> None:
    push(simulator, a_fulfillment_order(12))
    wait_until(lambda: shipped(stub, 12), "FO-000012 shipped")

    assert {c.headers["authorization"] for c in stub.messages()} == {f"Bearer {API_KEY}"}


def test_a_badly_signed_webhook_is_refused_with_401_and_not_worked(
    simulator: WmsSimulator,
) -> None:
    answer = push(simulator, a_fulfillment_order(12), secret=signing.new_secret())
    unsigned = httpx.post(simulator.url, json={"type": "wms.dal.fulfillment_order.released"})

    assert answer.status_code == 401
    assert unsigned.status_code == 401
    assert simulator.counters.received == 0


def test_a_webhook_of_another_type_or_warehouse_is_answered_and_ignored(
    simulator: WmsSimulator,
) -> None:
    other_type = push(
        simulator, a_fulfillment_order(12), event_type="wms.dal.fulfillment_order.cancelled"
    )
    other_warehouse = push(
        simulator,
        a_fulfillment_order(13, warehouse="SEA"),
        event_type="wms.SEA.fulfillment_order.released",
    )

    assert other_type.json() == {"outcome": "ignored"}
    assert other_warehouse.json() == {"outcome": "ignored"}
    assert simulator.counters.ignored == 2
    assert simulator.counters.received == 0


def test_a_redelivered_webhook_is_not_worked_twice(stub: StubOms, simulator: WmsSimulator) -> None:
    first = push(simulator, a_fulfillment_order(12), event_id="evt_1")
    again = push(simulator, a_fulfillment_order(12), event_id="evt_1")
    wait_until(lambda: shipped(stub, 12), "FO-000012 shipped")
    late = push(simulator, a_fulfillment_order(12), event_id="evt_1")
    push(simulator, a_fulfillment_order(13))
    wait_until(lambda: shipped(stub, 13), "FO-000013 shipped")

    assert first.json() == {"outcome": "accepted"}
    assert again.json() == late.json() == {"outcome": "duplicate"}
    assert [c.kind for c in stub.messages(12)] == ["ack", "picking", "packed", "shipments"]
    assert (simulator.counters.received, simulator.counters.duplicates) == (2, 2)


def test_pull_mode_finds_released_work_by_polling_every_page(stub: StubOms) -> None:
    for fo_id in (21, 22, 23):
        stub.release(a_fulfillment_order(fo_id, 1))
    stub.release(a_fulfillment_order(24, 1, warehouse="SEA"))

    with WmsSimulator(a_config(stub, secret=None)) as simulator:
        wait_until(lambda: all(shipped(stub, n) for n in (21, 22, 23)), "three shipped")
        assert simulator.pulling

    polls = stub.calls_of("GET")
    assert {(c.query["warehouse"], c.query["status"]) for c in polls} == {("DAL", "released")}
    assert any(c.query.get("cursor") for c in polls)
    assert not stub.messages(24)
    assert simulator.counters.received == 3


def test_pull_mode_polls_even_with_a_secret_when_asked_to(stub: StubOms) -> None:
    stub.release(a_fulfillment_order(31, 1))

    with WmsSimulator(a_config(stub, pull=True)):
        wait_until(lambda: shipped(stub, 31), "FO-000031 shipped")

    assert [c.kind for c in stub.messages(31)] == ["ack", "picking", "packed", "shipments"]


def test_a_short_pick_ships_fewer_units_than_ordered(stub: StubOms) -> None:
    with WmsSimulator(a_config(stub, short_rate=1.0)) as simulator:
        push(simulator, a_fulfillment_order(12, 2, 3))
        wait_until(lambda: simulator.counters.short == 1, "a short shipment counted")

    shipment = stub.messages(12)[-1]
    units = sum(line["quantity"] for line in shipment.body["lines"])
    assert shipment.kind == "shipments"
    assert 1 <= units < 5
    assert shipment.body["final"] is True
    assert simulator.counters.shipped == 1


def test_a_rejected_fulfillment_order_gets_a_reason_and_no_further_message(
    stub: StubOms,
) -> None:
    with WmsSimulator(a_config(stub, reject_rate=1.0)) as simulator:
        push(simulator, a_fulfillment_order(12))
        wait_until(lambda: simulator.counters.rejected == 1, "a rejection counted")

    [ack] = stub.messages(12)
    assert ack.kind == "ack"
    assert ack.body["accepted"] is False
    assert ack.body["reason"] in work.REJECT_REASONS
    assert simulator.counters.acked == 0


def test_a_message_answered_503_is_sent_again_under_the_same_message_id(
    stub: StubOms, simulator: WmsSimulator
) -> None:
    stub.failures["ack"] = 2

    push(simulator, a_fulfillment_order(12))
    wait_until(lambda: shipped(stub, 12), "FO-000012 shipped")

    kinds = [c.kind for c in stub.messages(12)]
    assert kinds == ["ack", "ack", "ack", "picking", "packed", "shipments"]
    assert {c.body["message_id"] for c in stub.messages(12)[:3]} == {"sim-FO-000012-ack"}


def test_a_message_refused_with_a_4xx_gives_the_fulfillment_order_up(stub: StubOms) -> None:
    with WmsSimulator(a_config(stub, oms_url=stub.url + "/nowhere")) as simulator:
        push(simulator, a_fulfillment_order(12))
        wait_until(lambda: simulator.counters.failed == 1, "the order given up")

    assert simulator.counters.acked == 0


def test_register_points_the_connection_at_the_simulator_and_keeps_the_secret(
    stub: StubOms,
) -> None:
    with WmsSimulator(a_config(stub, secret=None)) as simulator:
        answer = simulator.register("oms_adminkey_secret")
        accepted = push(simulator, a_fulfillment_order(12), secret=stub.secret)
        wait_until(lambda: shipped(stub, 12), "FO-000012 shipped")

        assert not simulator.pulling

    [put] = stub.calls_of("PUT")
    assert put.path == "/api/v1/warehouses/DAL/wms-connection"
    assert put.headers["authorization"] == "Bearer oms_adminkey_secret"
    assert put.body["url"] == simulator.url
    assert put.body["rotate_secret"] is True
    assert answer["secret"] == simulator.secret == stub.secret
    assert accepted.status_code == 200


def test_a_simulator_on_port_0_listens_on_a_free_port_and_stops(stub: StubOms) -> None:
    simulator = WmsSimulator(a_config(stub)).start()
    url = simulator.url

    simulator.stop()

    assert url.startswith("http://127.0.0.1:")
    assert url.endswith("/hooks/oms")
    assert not url.endswith(":0/hooks/oms")
    with pytest.raises(httpx.ConnectError):
        httpx.post(url, content=b"{}")


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"short_rate": 1.5}, "short_rate is a probability"),
        ({"reject_rate": -0.1}, "reject_rate is a probability"),
        ({"ack_delay": -1.0}, "ack_delay may not be negative"),
        ({"secret": "whsec_!!"}, "webhook secret is `whsec_`"),
    ],
)
def test_a_config_out_of_range_is_refused(
    stub: StubOms, change: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        a_config(stub, **change)
