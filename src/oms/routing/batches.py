"""Synthetic batches of demand over a US warehouse network, for comparing strategies.

`generate_batch(orders=1000, warehouses=12, skus=200, seed=7)` gives the same
batch for the same arguments (one seeded `random.Random`, no clock): demands
shipping to US cities weighted by population (a few to Canada), each with 1-4
lines, a service level, a priority, a placed-at time over three days and
usually a ship-by date; warehouses at real distribution-centre towns, each
with a handling cost, a fixed rank, some hazmat capable, some with little
capacity left today, some shipping to Canada as well; and stock spread over a
few warehouses per SKU: most SKUs at 110-220 % of the batch's demand, one in
five short at 30-90 %.

Stock and capacity belong to the batch (shared by every demand); each demand
sees the warehouses as `Candidate`s with `serves_channel` set for its channel.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from oms.routing import planner
from oms.routing.model import (
    DEFAULT_RULE_SET,
    Candidate,
    CostModel,
    Demand,
    DemandLine,
    Destination,
    DistanceBand,
    Plan,
    RuleSet,
)
from oms.routing.optimizer import in_fairness_order

BATCH_COSTS = CostModel(
    bands=(
        DistanceBand(300.0, {"standard": 6.0, "expedited": 11.0, "overnight": 24.0}),
        DistanceBand(800.0, {"standard": 8.5, "expedited": 15.0, "overnight": 32.0}),
        DistanceBand(1500.0, {"standard": 11.0, "expedited": 20.0, "overnight": 42.0}),
        DistanceBand(2500.0, {"standard": 14.0, "expedited": 26.0, "overnight": 55.0}),
        DistanceBand(5000.0, {"standard": 18.0, "expedited": 33.0, "overnight": 70.0}),
    ),
    split_penalty=5.0,
)
"""Ground parcel prices by zone (about UPS/FedEx list prices for a 2 kg box)."""

CHANNELS = ("web", "amazon", "b2b")
SERVICE_LEVELS = ("standard", "expedited", "overnight")
BATCH_PLACED_BY = dt.datetime(2025, 3, 3, 12, 0, tzinfo=dt.UTC)
"""Every generated demand was placed within the three days before this instant."""

# (code, latitude, longitude, state) of towns where US distribution centres cluster.
DC_TOWNS: tuple[tuple[str, float, float], ...] = (
    ("DAL", 32.78, -96.80),
    ("MEM", 35.15, -90.05),
    ("ONT", 34.06, -117.65),
    ("ABE", 40.60, -75.49),
    ("CMH", 39.96, -83.00),
    ("ATL", 33.75, -84.39),
    ("CHI", 41.88, -87.63),
    ("RNO", 39.53, -119.81),
    ("SEA", 47.61, -122.33),
    ("DEN", 39.74, -104.99),
    ("PHX", 33.45, -112.07),
    ("IND", 39.77, -86.16),
    ("SDF", 38.25, -85.76),
    ("MCI", 39.10, -94.58),
    ("JAX", 30.33, -81.66),
    ("SLC", 40.76, -111.89),
    ("EWR", 40.74, -74.17),
    ("HOU", 29.76, -95.37),
    ("CLT", 35.23, -80.84),
    ("MSP", 44.98, -93.27),
)

# (latitude, longitude, population in thousands): ship-to cities in the US.
US_CITIES: tuple[tuple[float, float, int], ...] = (
    (40.71, -74.01, 8336),  # New York
    (34.05, -118.24, 3822),  # Los Angeles
    (41.88, -87.63, 2665),  # Chicago
    (29.76, -95.37, 2303),  # Houston
    (33.45, -112.07, 1644),  # Phoenix
    (39.95, -75.17, 1567),  # Philadelphia
    (29.42, -98.49, 1472),  # San Antonio
    (32.72, -117.16, 1381),  # San Diego
    (32.78, -96.80, 1300),  # Dallas
    (37.34, -121.89, 971),  # San Jose
    (30.27, -97.74, 974),  # Austin
    (30.33, -81.66, 971),  # Jacksonville
    (39.96, -83.00, 907),  # Columbus
    (35.23, -80.84, 897),  # Charlotte
    (39.77, -86.16, 880),  # Indianapolis
    (37.77, -122.42, 808),  # San Francisco
    (47.61, -122.33, 749),  # Seattle
    (39.74, -104.99, 713),  # Denver
    (38.91, -77.04, 671),  # Washington
    (36.16, -86.78, 683),  # Nashville
    (35.47, -97.52, 694),  # Oklahoma City
    (42.36, -71.06, 650),  # Boston
    (36.17, -115.14, 656),  # Las Vegas
    (45.52, -122.68, 635),  # Portland
    (35.15, -90.05, 621),  # Memphis
    (42.33, -83.05, 620),  # Detroit
    (39.29, -76.61, 569),  # Baltimore
    (43.04, -87.91, 563),  # Milwaukee
    (35.08, -106.65, 561),  # Albuquerque
    (32.22, -110.97, 546),  # Tucson
    (38.58, -121.49, 528),  # Sacramento
    (39.10, -94.58, 510),  # Kansas City
    (33.75, -84.39, 499),  # Atlanta
    (25.76, -80.19, 449),  # Miami
    (44.98, -93.27, 425),  # Minneapolis
    (29.95, -90.07, 376),  # New Orleans
    (27.95, -82.46, 398),  # Tampa
    (40.76, -111.89, 200),  # Salt Lake City
    (61.22, -149.90, 291),  # Anchorage
    (21.31, -157.86, 345),  # Honolulu
)

CA_CITIES: tuple[tuple[float, float, int], ...] = (
    (43.65, -79.38, 2794),  # Toronto
    (45.50, -73.57, 1762),  # Montreal
    (49.28, -123.12, 662),  # Vancouver
)


@dataclass(frozen=True)
class Batch:
    """Demands and the warehouses that share their stock and capacity among them."""

    demands: tuple[Demand, ...]
    warehouses: tuple[Candidate, ...]
    """Stock and capacity for the whole batch; `serves_channel` is per demand (see below)."""
    channels: Mapping[str, frozenset[int]]
    """channel → the warehouse ids that may serve it."""
    costs: CostModel = BATCH_COSTS

    def candidates_for(self, demand: Demand) -> tuple[Candidate, ...]:
        """The warehouses as `demand` sees them: serving its channel or not."""
        serving = self.channels.get(demand.channel, frozenset())
        return tuple(replace(w, serves_channel=w.warehouse_id in serving) for w in self.warehouses)

    def candidates_by_demand(self) -> dict[str, tuple[Candidate, ...]]:
        """Every demand's view of the warehouses, by demand key."""
        return {d.key: self.candidates_for(d) for d in self.demands}


def generate_batch(orders: int, *, warehouses: int = 12, skus: int = 200, seed: int = 7) -> Batch:
    """A reproducible batch of `orders` demands over `warehouses` and `skus` (see module doc)."""
    if orders < 0 or warehouses < 1 or skus < 1:
        raise ValueError("a batch needs orders >= 0, warehouses >= 1 and skus >= 1")
    rng = random.Random(seed)
    hazmat = {item_id for item_id in range(1, skus + 1) if rng.random() < 0.03}
    popularity = [1.0 / rank**0.8 for rank in range(1, skus + 1)]
    demands = tuple(
        _demand(rng, n, skus=skus, hazmat=hazmat, popularity=popularity)
        for n in range(1, orders + 1)
    )
    nodes = _warehouses(rng, warehouses, orders)
    nodes = _with_stock(rng, nodes, demands)
    ids = [w.warehouse_id for w in nodes]
    channels = {
        "web": frozenset(ids),
        "amazon": frozenset(i for i in ids if i <= ids[1 % len(ids)] or rng.random() < 0.8),
        "b2b": frozenset(i for i in ids if i <= ids[1 % len(ids)] or rng.random() < 0.6),
    }
    return Batch(demands=demands, warehouses=nodes, channels=channels)


def plan_greedily(
    demands: Sequence[Demand],
    candidates_by_demand: Mapping[str, Sequence[Candidate]],
    *,
    rules: RuleSet = DEFAULT_RULE_SET,
    costs: CostModel,
) -> list[Plan]:
    """The greedy strategy over a batch: one demand at a time, most deserving first (the
    optimizer's fairness order), each seeing the stock and capacity the ones before it left.

    The pools are the optimizer's: per (warehouse, item) the largest `available` any demand
    sees, per warehouse the smallest `capacity_left`. Plans come back in `demands` order.
    """
    stock: dict[tuple[int, int], int] = {}
    capacity: dict[int, int] = {}
    for candidates in candidates_by_demand.values():
        for c in candidates:
            for item_id, units in c.available.items():
                stock[(c.warehouse_id, item_id)] = max(
                    stock.get((c.warehouse_id, item_id), 0), units
                )
            if c.capacity_left is not None:
                capacity[c.warehouse_id] = min(
                    capacity.get(c.warehouse_id, c.capacity_left), c.capacity_left
                )
    plans: dict[str, Plan] = {}
    for demand in in_fairness_order(demands):
        items = {line.item_id for line in demand.lines}
        seen = [
            replace(
                c,
                available={
                    i: min(c.available.get(i, 0), stock.get((c.warehouse_id, i), 0)) for i in items
                },
                capacity_left=capacity.get(c.warehouse_id, c.capacity_left),
            )
            for c in candidates_by_demand.get(demand.key, ())
        ]
        plan = planner.plan(demand, seen, rules=rules, costs=costs)
        items_of = {line.key: line.item_id for line in demand.lines}
        for a in plan.assignments:
            stock[(a.warehouse_id, items_of[a.line_key])] -= a.quantity
        for warehouse_id in {a.warehouse_id for a in plan.assignments if a.quantity}:
            if warehouse_id in capacity:
                capacity[warehouse_id] -= 1
        plans[demand.key] = plan
    return [plans[d.key] for d in demands]


def _demand(
    rng: random.Random, n: int, *, skus: int, hazmat: set[int], popularity: list[float]
) -> Demand:
    abroad = rng.random() < 0.05
    cities = CA_CITIES if abroad else US_CITIES
    lat, lon, _ = rng.choices(cities, weights=[c[2] for c in cities])[0]
    items = set(
        rng.choices(
            range(1, skus + 1), weights=popularity, k=rng.choices((1, 2, 3, 4), (5, 3, 2, 1))[0]
        )
    )
    lines = tuple(
        DemandLine(
            key=n * 10 + i,
            item_id=item_id,
            sku=f"SKU-{item_id:05d}",
            quantity=rng.choices((1, 2, 3, 5, 10), (50, 25, 12, 8, 5))[0],
            hazmat=item_id in hazmat,
        )
        for i, item_id in enumerate(sorted(items), 1)
    )
    placed_at = BATCH_PLACED_BY - dt.timedelta(minutes=rng.randrange(3 * 24 * 60))
    ship_by = (
        None
        if rng.random() < 0.1
        else (placed_at + dt.timedelta(days=rng.randint(1, 4))).replace(
            hour=23, minute=59, second=0
        )
    )
    return Demand(
        key=f"B-{n:06d}",
        channel=rng.choices(CHANNELS, (6, 3, 1))[0],
        destination=Destination(
            country="CA" if abroad else "US",
            latitude=round(lat + rng.uniform(-0.3, 0.3), 4),
            longitude=round(lon + rng.uniform(-0.3, 0.3), 4),
        ),
        lines=lines,
        service_level=rng.choices(SERVICE_LEVELS, (75, 20, 5))[0],
        priority=rng.choices((0, 1, 2), (80, 15, 5))[0],
        ship_by=ship_by,
        placed_at=placed_at,
    )


def _warehouses(rng: random.Random, count: int, orders: int) -> tuple[Candidate, ...]:
    nodes = []
    for n in range(count):
        code, lat, lon = DC_TOWNS[n % len(DC_TOWNS)]
        if n >= len(DC_TOWNS):  # a second site in the same region
            code, lat, lon = f"{code}{n // len(DC_TOWNS) + 1}", lat + 0.4, lon - 0.4
        fair_share = max(1, orders // count)
        nodes.append(
            Candidate(
                warehouse_id=n + 1,
                code=code,
                country="US",
                latitude=lat,
                longitude=lon,
                available={},
                ships_to=frozenset({"US", "CA"}) if rng.random() < 0.4 else frozenset({"US"}),
                hazmat_capable=n == 0 or rng.random() < 0.4,
                capacity_left=None
                if rng.random() < 0.7
                else int(fair_share * rng.uniform(0.8, 2.0)),
                priority=n,
                handling_cost=round(rng.uniform(1.5, 4.5), 2),
            )
        )
    return tuple(nodes)


def _with_stock(
    rng: random.Random, nodes: tuple[Candidate, ...], demands: tuple[Demand, ...]
) -> tuple[Candidate, ...]:
    wanted: dict[int, int] = defaultdict(int)
    for demand in demands:
        for line in demand.lines:
            wanted[line.item_id] += line.quantity
    stock: dict[int, dict[int, int]] = {w.warehouse_id: {} for w in nodes}
    ids = [w.warehouse_id for w in nodes]
    for item_id in sorted(wanted):
        holders = rng.sample(ids, k=rng.randint(min(len(ids), 2), min(len(ids), 5)))
        cover = rng.uniform(0.3, 0.9) if rng.random() < 0.2 else rng.uniform(1.1, 2.2)
        total = round(wanted[item_id] * cover)
        shares = [rng.random() + 0.2 for _ in holders]
        for warehouse_id, share in zip(holders, shares, strict=True):
            units = round(total * share / sum(shares))
            if units > 0:
                stock[warehouse_id][item_id] = units
    return tuple(replace(w, available=stock[w.warehouse_id]) for w in nodes)
