"""Synthetic batches: reproducible, realistic enough to compare strategies, and greedy over them."""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest

from oms.routing import batches
from oms.routing.batches import BATCH_PLACED_BY, Batch, generate_batch, plan_greedily
from oms.routing.model import Candidate, Demand, DemandLine, Destination


def test_the_same_seed_gives_the_same_batch() -> None:
    assert generate_batch(50, seed=4) == generate_batch(50, seed=4)


def test_another_seed_gives_another_batch() -> None:
    assert generate_batch(50, seed=4).demands != generate_batch(50, seed=5).demands


def test_a_batch_has_the_demands_warehouses_and_skus_asked_for() -> None:
    batch = generate_batch(300, warehouses=25, skus=40)

    assert len(batch.demands) == 300
    assert len({w.warehouse_id for w in batch.warehouses}) == 25
    assert len({w.code for w in batch.warehouses}) == 25
    assert {ln.item_id for d in batch.demands for ln in d.lines} <= set(range(1, 41))


def test_demands_ship_to_the_us_and_a_few_to_canada() -> None:
    countries = Counter(d.destination.country for d in generate_batch(1000).demands)

    assert set(countries) == {"US", "CA"}
    assert countries["CA"] < countries["US"] / 10


def test_coordinates_lie_in_north_america() -> None:
    batch = generate_batch(500)

    points = [(d.destination.latitude, d.destination.longitude) for d in batch.demands]
    points += [(w.latitude, w.longitude) for w in batch.warehouses]
    for lat, lon in points:
        assert lat is not None
        assert lon is not None
        assert 18 < lat < 65
        assert -160 < lon < -65


def test_some_skus_run_short_and_others_have_plenty() -> None:
    batch = generate_batch(1000)
    wanted: dict[int, int] = defaultdict(int)
    for d in batch.demands:
        for ln in d.lines:
            wanted[ln.item_id] += ln.quantity
    held: dict[int, int] = defaultdict(int)
    for w in batch.warehouses:
        for item_id, units in w.available.items():
            held[item_id] += units

    short = [i for i in wanted if held[i] < wanted[i]]
    assert 0.1 * len(wanted) < len(short) < 0.4 * len(wanted)


def test_priorities_ship_by_dates_and_placing_times_vary() -> None:
    demands = generate_batch(500).demands

    assert {d.priority for d in demands} == {0, 1, 2}
    assert any(d.ship_by is None for d in demands)
    assert len({d.placed_at for d in demands}) > 400
    for d in demands:
        assert d.placed_at is not None
        assert d.placed_at <= BATCH_PLACED_BY
        assert d.ship_by is None or d.ship_by > d.placed_at


def test_some_warehouses_are_limited_hazmat_capable_or_ship_abroad() -> None:
    warehouses = generate_batch(500, warehouses=20).warehouses

    assert any(w.capacity_left is not None for w in warehouses)
    assert any(w.capacity_left is None for w in warehouses)
    assert any(w.hazmat_capable for w in warehouses)
    assert any(w.ships_to is not None and "CA" in w.ships_to for w in warehouses)


def test_each_demand_sees_whether_a_warehouse_serves_its_channel() -> None:
    batch = generate_batch(200, warehouses=12)
    b2b = next(d for d in batch.demands if d.channel == "b2b")

    seen = batch.candidates_for(b2b)

    assert {c.warehouse_id for c in seen if c.serves_channel} == batch.channels["b2b"]
    assert batch.channels["b2b"] < batch.channels["web"]


def test_a_batch_needs_a_warehouse_and_a_sku() -> None:
    with pytest.raises(ValueError, match="warehouses >= 1"):
        generate_batch(10, warehouses=0)


def _one_item_batch(*demands: Demand, units: int) -> Batch:
    dallas = Candidate(
        warehouse_id=1,
        code="DAL",
        country="US",
        latitude=32.78,
        longitude=-96.80,
        available={7: units},
        capacity_left=None,
    )
    return Batch(demands=demands, warehouses=(dallas,), channels={"web": frozenset({1})})


def _demand(key: str, quantity: int, *, priority: int = 0) -> Demand:
    return Demand(
        key=key,
        channel="web",
        destination=Destination(country="US", latitude=32.9, longitude=-96.9),
        lines=(DemandLine(key=int(key[1:]), item_id=7, sku="SKU-7", quantity=quantity),),
        priority=priority,
        placed_at=BATCH_PLACED_BY,
    )


def test_greedy_over_a_batch_serves_the_most_deserving_first_from_shared_stock() -> None:
    batch = _one_item_batch(_demand("D1", 2), _demand("D2", 2, priority=1), units=3)

    plans = plan_greedily(batch.demands, batch.candidates_by_demand(), costs=batch.costs)

    assert [p.demand_key for p in plans] == ["D1", "D2"]
    assert plans[0].backordered == {1: 2}
    assert [(a.warehouse_id, a.quantity) for a in plans[1].assignments] == [(1, 2)]


def test_greedy_over_a_batch_spends_capacity_one_demand_at_a_time() -> None:
    batch = generate_batch(400, warehouses=8, seed=2)

    plans = plan_greedily(batch.demands, batch.candidates_by_demand(), costs=batch.costs)

    shipped = Counter(w for p in plans for w in {a.warehouse_id for a in p.assignments})
    for w in batch.warehouses:
        if w.capacity_left is not None:
            assert shipped[w.warehouse_id] <= w.capacity_left


def test_batch_costs_price_every_service_level_in_every_band() -> None:
    for band in batches.BATCH_COSTS.bands:
        assert set(band.cost) == set(batches.SERVICE_LEVELS)
