"""What the simulated WMS decides for a fulfillment order, and the messages it builds."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oms.simulate import work
from oms.simulate.work import Step, WorkLine, WorkOrder


def an_order(*quantities: int, number: str = "FO-000012", level: str | None = None) -> WorkOrder:
    lines = tuple(WorkLine(n, f"SKU-{n}", q) for n, q in enumerate(quantities, start=1))
    return WorkOrder(id=12, number=number, lines=lines, service_level=level)


def plan(order: WorkOrder, *, short_rate: float = 0.0, reject_rate: float = 0.0) -> work.WorkPlan:
    return work.plan_work(
        order, seed=7, warehouse="DAL", short_rate=short_rate, reject_rate=reject_rate
    )


def test_ups_documents_1z999aa10123456784_as_a_valid_tracking_number() -> None:
    assert work.ups_check_digit("999AA1012345678") == 4
    assert work.is_valid_ups_tracking_number("1Z999AA10123456784")


def test_a_tracking_number_with_one_character_changed_is_invalid() -> None:
    assert not work.is_valid_ups_tracking_number("1Z999AA10123456785")
    assert not work.is_valid_ups_tracking_number("1Z999AB10123456784")
    assert not work.is_valid_ups_tracking_number("1Z999AA1012345678")


@given(
    shipper=st.text(alphabet=work.SHIPPER_ALPHABET, min_size=6, max_size=6),
    service=st.sampled_from(sorted(work.UPS_SERVICE_CODES)),
    reference=st.integers(min_value=0, max_value=10**7 - 1),
)
def test_every_generated_ups_tracking_number_is_18_characters_with_a_valid_check_digit(
    shipper: str, service: str, reference: int
) -> None:
    tracking = work.ups_tracking_number(shipper, service, reference)

    assert len(tracking) == 18
    assert tracking[8:10] == work.UPS_SERVICE_CODES[service]
    assert work.is_valid_ups_tracking_number(tracking)


def test_a_warehouse_ships_on_one_six_character_shipper_number() -> None:
    assert work.shipper_number("DAL") == work.shipper_number("dal")
    assert len(work.shipper_number("DAL")) == 6
    assert work.shipper_number("DAL") != work.shipper_number("SEA")


@given(
    quantities=st.lists(st.integers(min_value=1, max_value=9), min_size=1, max_size=5).filter(
        lambda q: sum(q) >= 2
    ),
    seed=st.integers(),
)
def test_a_short_pick_misses_at_least_one_unit_of_one_line_and_still_ships_one(
    quantities: list[int], seed: int
) -> None:
    lines = an_order(*quantities).lines

    shipped = work.short_pick(lines, random.Random(seed))

    ordered = {line.line_number: line.quantity for line in lines}
    picked = {line.line_number: line.quantity for line in shipped}
    missing = {n: q - picked.get(n, 0) for n, q in ordered.items() if picked.get(n, 0) != q}
    assert len(missing) == 1
    assert next(iter(missing.values())) >= 1
    assert sum(picked.values()) >= 1
    assert all(q > 0 for q in picked.values())


def test_a_single_unit_cannot_be_picked_short() -> None:
    with pytest.raises(ValueError, match="two units"):
        work.short_pick(an_order(1).lines, random.Random(1))


def test_a_single_unit_order_drawn_short_is_rejected_at_ack() -> None:
    decided = plan(an_order(1), short_rate=1.0)

    assert not decided.accepted
    assert decided.reason == work.NOTHING_TO_PICK


def test_a_short_plan_ships_fewer_units_than_the_order_holds() -> None:
    decided = plan(an_order(2, 3), short_rate=1.0)

    assert decided.accepted
    assert decided.short
    assert 1 <= sum(line.quantity for line in decided.shipped) < 5


def test_a_whole_plan_ships_every_line_in_boxes_of_four_units_at_most() -> None:
    decided = plan(an_order(2, 3, 4))

    assert decided.shipped == an_order(2, 3, 4).lines
    assert not decided.short
    assert len(decided.packages) == 3
    assert all(work.is_valid_ups_tracking_number(p.tracking_number) for p in decided.packages)
    assert all(p.weight > 0 for p in decided.packages)


def test_a_rejected_plan_gives_a_reason_and_ships_nothing() -> None:
    decided = plan(an_order(2), reject_rate=1.0)

    assert not decided.accepted
    assert decided.reason in work.REJECT_REASONS
    assert decided.shipped == ()


def test_the_same_seed_works_the_same_order_the_same_way() -> None:
    order = an_order(5, 1, 3)

    assert plan(order, short_rate=0.5) == plan(order, short_rate=0.5)


def test_overnight_orders_go_next_day_air_and_standard_ones_by_a_configured_choice() -> None:
    overnight = plan(an_order(1, level="overnight"))
    standard = plan(an_order(1, level="standard"))

    assert (overnight.carrier, overnight.service) == ("UPS", "NEXT_DAY_AIR")
    assert (standard.carrier, standard.service) in work.DEFAULT_CHOICES


def test_message_ids_are_stable_per_order_and_step() -> None:
    ids = [work.message_id("FO-000012", step) for step in Step]

    assert ids == [
        "sim-FO-000012-ack",
        "sim-FO-000012-picking",
        "sim-FO-000012-packed",
        "sim-FO-000012-shipment",
    ]
    assert work.message_id("FO-000012", Step.ACK) == ids[0]


def test_the_messages_follow_the_wms_contract() -> None:
    decided = plan(an_order(2, 1))

    ack = work.ack_body(decided, warehouse="DAL")
    status = work.status_body(decided, Step.PICKING)
    shipment = work.shipment_body(decided)

    assert ack == {"message_id": "sim-FO-000012-ack", "accepted": True, "reference": "SIM-DAL-12"}
    assert status == {"message_id": "sim-FO-000012-picking", "status": "picking"}
    assert shipment["final"] is True
    assert shipment["lines"] == [
        {"line_number": 1, "sku": "SKU-1", "quantity": 2},
        {"line_number": 2, "sku": "SKU-2", "quantity": 1},
    ]
    assert shipment["packages"][0]["weight_unit"] == "kg"


def test_a_rejection_ack_carries_its_reason() -> None:
    ack = work.ack_body(plan(an_order(2), reject_rate=1.0), warehouse="DAL")

    assert ack["accepted"] is False
    assert ack["reason"] in work.REJECT_REASONS
    assert "reference" not in ack


def test_a_fulfillment_order_is_read_from_a_webhook_or_a_list_answer() -> None:
    pushed = {
        "id": 12,
        "number": "FO-000012",
        "service_level": "standard",
        "lines": [{"line_number": 1, "sku": "ABC-1", "quantity": 2}],
    }
    pulled = {
        "id": 12,
        "number": "FO-000012",
        "lines": [
            {
                "line_number": 1,
                "order_line_id": 4,
                "sku": "ABC-1",
                "quantity": 2,
                "reservation_id": 9,
            }
        ],
    }

    assert WorkOrder.from_json(pushed).lines == WorkOrder.from_json(pulled).lines
    assert WorkOrder.from_json(pushed).service_level == "standard"


@pytest.mark.parametrize(
    "data",
    [
        {"id": 1, "number": "FO-000001", "lines": []},
        {"id": 1, "number": "FO-000001"},
        {
            "id": "x",
            "number": "FO-000001",
            "lines": [{"line_number": 1, "sku": "A", "quantity": 1}],
        },
        {"id": 1, "number": "FO-000001", "lines": [{"line_number": 1, "sku": "A", "quantity": 0}]},
    ],
)
def test_a_malformed_fulfillment_order_is_refused(data: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"not a fulfillment order|has no units to pick"):
        WorkOrder.from_json(data)


def test_lines_with_no_units_left_are_not_picked() -> None:
    order = WorkOrder.from_json(
        {
            "id": 32,
            "number": "FO-000032",
            "lines": [
                {"line_number": 1, "sku": "BRK-L", "quantity": 0},
                {"line_number": 2, "sku": "MUG-CER", "quantity": 8},
            ],
        }
    )

    assert [(line.line_number, line.quantity) for line in order.lines] == [(2, 8)]
