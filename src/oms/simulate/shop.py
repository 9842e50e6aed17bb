"""A simulated shop front: new orders for the demo's channels, sent at a steady rate.

The orders look like the demo dataset's (`oms.demo`): web and Amazon shoppers across the
United States, now and then a B2B order from Contoso, one to three lines of items the
channel has in stock by its availability feed (`GET /api/v1/channels/{code}/availability`),
or of the demo's plentiful items when the feed is empty. They go in by `POST
/api/v1/orders` with an API key that may send orders (integration, sales_ops or admin),
so the board keeps moving while the demo runs.

`new_order` is pure (the n-th order of a seed is always the same); `ShopSimulator` runs
one daemon thread that sends one every `60 / orders_per_minute` seconds.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import httpx
import structlog

from oms import demo

log = structlog.get_logger(__name__)

ORDERS = "/api/v1/orders"
CHANNEL_CYCLE = ("web", "amazon", "web", "web", "amazon", "b2b")
"""The channels in turn: mostly shoppers, one order in six from a business."""
B2B_ACCOUNT = "CR-2002"
"""Contoso Retail: its credit limit leaves room for the demo's B2B orders."""
STOCK_MARGIN = 5
"""Units an item keeps at its channel after an order, so orders rarely backorder."""
PLENTIFUL = tuple(sku for sku, *_ in demo.ITEMS if sku not in demo.LOW_STOCK)

SHOPPERS: tuple[tuple[str, str, str, str, str], ...] = (
    ("Jordan Lee", "1200 Pike St", "Seattle", "WA", "98101"),
    ("Priya Patel", "233 S Wacker Dr", "Chicago", "IL", "60606"),
    ("Chris Novak", "1701 Wynkoop St", "Denver", "CO", "80202"),
    ("Maria Santos", "191 Peachtree St NE", "Atlanta", "GA", "30303"),
    ("Ben Carter", "100 Cambridge St", "Boston", "MA", "02114"),
    ("Lucia Gomez", "1111 Brickell Ave", "Miami", "FL", "33131"),
    ("Tom Becker", "2 N Central Ave", "Phoenix", "AZ", "85004"),
    ("Aisha Khan", "80 S 8th St", "Minneapolis", "MN", "55402"),
    ("Sam Wood", "1120 NW Couch St", "Portland", "OR", "97209"),
    ("Grace Kim", "501 Broadway", "Nashville", "TN", "37203"),
    ("Noah Fischer", "1200 Main St", "Kansas City", "MO", "64105"),
    ("Emma Brooks", "600 Congress Ave", "Austin", "TX", "78701"),
    ("Diego Ruiz", "350 S Grand Ave", "Los Angeles", "CA", "90071"),
    ("Hannah Wells", "30 Rockefeller Plaza", "New York", "NY", "10112"),
    ("Omar Haddad", "400 N Capitol St NW", "Washington", "DC", "20001"),
    ("Lena Berg", "50 W Liberty St", "Reno", "NV", "89501"),
)
"""(name, street, city, state, ZIP) of the shoppers the demo ships to."""


def new_order(
    n: int, *, seed: int, run: str, stock: Mapping[str, int] | None = None
) -> dict[str, Any]:
    """The n-th new order of a run: its channel in turn, a shopper (or Contoso), and lines
    of items with stock to spare at the channel (`stock`: sku → units it may promise)."""
    rng = random.Random(f"{seed}:{n}")
    channel = CHANNEL_CYCLE[n % len(CHANNEL_CYCLE)]
    most = 12 if channel == "b2b" else 3
    lines = _lines(rng, most=most, stock=stock)
    payload: dict[str, Any] = {
        "channel": channel,
        "external_id": f"DEMO-{run}-{n:05d}",
        "currency": "USD",
        "lines": [
            {"sku": sku, "quantity": quantity, "unit_price": demo.PRICES[sku]}
            for sku, quantity in lines
        ],
        "service_level": rng.choices(("standard", "expedited", "overnight"), (85, 10, 5))[0],
        "priority": 5 if channel == "b2b" else 0,
    }
    if channel == "b2b":
        buyer = next(c for c in demo.CUSTOMERS if c.get("account_number") == B2B_ACCOUNT)
        address = dict(buyer["addresses"][0])
        address["name"] = address.pop("company")
        payload["customer"] = {"account_number": B2B_ACCOUNT}
        payload["ship_to"] = address
    else:
        name, line1, city, state, zip_code = rng.choice(SHOPPERS)
        email = f"{name.lower().replace(' ', '.')}@example.com"
        payload["customer"] = {"name": name, "email": email}
        payload["ship_to"] = {
            "name": name,
            "line1": line1,
            "city": city,
            "region": state,
            "postal_code": zip_code,
            "country": "US",
        }
    return payload


def _lines(
    rng: random.Random, *, most: int, stock: Mapping[str, int] | None
) -> list[tuple[str, int]]:
    """One to three lines of priced items; with a stock picture, only what it can spare."""
    spare = {
        sku: units - STOCK_MARGIN
        for sku, units in (stock or {}).items()
        if sku in demo.PRICES and units - STOCK_MARGIN >= 1
    }
    candidates: Sequence[str] = sorted(spare) if spare else PLENTIFUL
    lines = []
    for sku in rng.sample(list(candidates), min(len(candidates), rng.randint(1, 3))):
        quantity = rng.randint(1, most)
        if spare:
            quantity = min(quantity, spare[sku])
        lines.append((sku, quantity))
    return lines


@dataclass(frozen=True)
class ShopSimulatorConfig:
    """Where orders go, how many a minute, and with which key."""

    api_key: str
    """An API key that may send orders and read channels' availability (admin will do)."""
    oms_url: str = "http://127.0.0.1:8000"
    orders_per_minute: float = 6.0
    seed: int | None = None
    run: str | None = None
    """Part of every external id, so two runs never send the same order; None: the time."""
    timeout: float = 10.0

    def __post_init__(self) -> None:
        if self.orders_per_minute <= 0:
            raise ValueError("orders_per_minute must be positive")


@dataclass
class ShopCounters:
    sent: int = 0
    """Orders Item OMS took (201 or 200)."""
    refused: int = 0
    """Orders Item OMS refused (4xx)."""
    failed: int = 0
    """Orders that met a connection error or a 5xx (not sent again: the next one follows)."""


class ShopSimulator:
    """Sends new orders to Item OMS from a daemon thread until stopped."""

    def __init__(self, config: ShopSimulatorConfig) -> None:
        self.config = config
        self._seed = config.seed if config.seed is not None else random.randrange(2**32)
        self._run = config.run or time.strftime("%y%m%d%H%M%S")
        self._counts = ShopCounters()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def counters(self) -> ShopCounters:
        return replace(self._counts)

    def start(self) -> ShopSimulator:
        if self._thread is not None:
            raise RuntimeError("the shop simulator is already started")
        self._stop.clear()
        self._thread = threading.Thread(target=self._send_forever, name="shop-sim", daemon=True)
        self._thread.start()
        log.info("shop_sim_started", orders_per_minute=self.config.orders_per_minute)
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.config.timeout + 5)
            log.info("shop_sim_stopped", **vars(self._counts))
        self._thread = None

    def _send_forever(self) -> None:
        interval = 60.0 / self.config.orders_per_minute
        headers = {"Authorization": f"Bearer {self.config.api_key}"}
        with httpx.Client(
            base_url=self.config.oms_url, headers=headers, timeout=self.config.timeout
        ) as client:
            n = 0
            while not self._stop.wait(interval):
                try:
                    self.send(client, n)
                except Exception:
                    self._counts.failed += 1
                    log.exception("shop_sim_crashed")
                n += 1

    def send(self, client: httpx.Client, n: int) -> None:
        """Send the n-th order, with its channel's stock read first."""
        channel = CHANNEL_CYCLE[n % len(CHANNEL_CYCLE)]
        payload = new_order(n, seed=self._seed, run=self._run, stock=_stock(client, channel))
        try:
            answer = client.post(ORDERS, json=payload)
        except httpx.TransportError as exc:
            self._counts.failed += 1
            log.warning("shop_sim_order_failed", error=str(exc))
            return
        if answer.is_success:
            self._counts.sent += 1
            order = answer.json().get("order") or {}
            log.info(
                "shop_sim_order",
                channel=channel,
                number=order.get("number"),
                status=order.get("status"),
            )
        elif answer.status_code < 500:
            self._counts.refused += 1
            log.warning("shop_sim_order_refused", status=answer.status_code, body=answer.text[:500])
        else:
            self._counts.failed += 1
            log.warning("shop_sim_order_failed", status=answer.status_code)


def _stock(client: httpx.Client, channel: str) -> dict[str, int] | None:
    """What the channel may promise per SKU; None when the feed cannot be read."""
    try:
        answer = client.get(f"/api/v1/channels/{channel}/availability")
        if not answer.is_success:
            return None
        return {entry["sku"]: int(entry["atp"]) for entry in answer.json()["items"]}
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        return None
