"""The demo dataset, loaded by `make run` on first start and by `oms demo load`.

Everything goes through the normal services, so the demo leaves the same audit
rows and events as a person would. Loading is idempotent: a record whose key
is already taken is left as it is (even if someone changed it since), so a
second load changes nothing.

Each part of the dataset is one step in `STEPS`, run in order; a later issue
adds its own (stock balances at the demo warehouses come after items and
warehouses) by appending a step there.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session
from stdnum import ean

from oms.auth.principal import SYSTEM
from oms.catalog import channels, customers, items, repository, suppliers, warehouses
from oms.catalog.models import ChannelType, CustomerType, WarehouseType
from oms.catalog.schemas import (
    ChannelCreate,
    CustomerCreate,
    ItemCreate,
    SupplierCreate,
    WarehouseCreate,
)
from oms.inventory import balances, ledger
from oms.inventory import settings as inventory_settings
from oms.kit import clock
from oms.orders import holds, intake, lifecycle
from oms.orders import repository as order_repository
from oms.orders.models import HoldType

GS1_DEMO_PREFIX = "0614141"
"""The company prefix GS1 uses in its own examples; no real product carries it."""


def demo_gtin(item_reference: int) -> str:
    """A GTIN-13 under the demo company prefix, with its check digit computed."""
    body = f"{GS1_DEMO_PREFIX}{item_reference:05d}"
    return body + ean.calc_check_digit(body)


# (sku, name, kg, length x width x height cm, hazmat, attributes)
ITEMS: list[tuple[str, str, str, tuple[int, int, int], bool, dict[str, Any]]] = [
    ("WID-BLU", "Blue widget", "0.25", (10, 8, 4), False, {"colour": "blue"}),
    ("WID-RED", "Red widget", "0.25", (10, 8, 4), False, {"colour": "red"}),
    ("WID-GRN", "Green widget", "0.25", (10, 8, 4), False, {"colour": "green"}),
    ("GAD-100", "Gadget 100", "0.80", (20, 15, 6), False, {"series": "100"}),
    ("GAD-200", "Gadget 200", "1.10", (24, 18, 7), False, {"series": "200"}),
    ("BRK-S", "Steel bracket, small", "0.40", (12, 4, 4), False, {"material": "steel"}),
    ("BRK-L", "Steel bracket, large", "0.95", (25, 6, 6), False, {"material": "steel"}),
    ("HNG-BRS", "Brass hinge", "0.15", (8, 5, 1), False, {"material": "brass"}),
    ("VLV-050", "Ball valve 1/2 in", "0.60", (9, 6, 6), False, {"size": "1/2 in"}),
    ("VLV-100", "Ball valve 1 in", "1.20", (12, 8, 8), False, {"size": "1 in"}),
    ("SPR-32T", "Sprocket 32 teeth", "0.70", (16, 16, 2), False, {"teeth": 32}),
    ("GSK-KIT", "Gasket kit", "0.30", (15, 10, 3), False, {"pieces": 24}),
    ("FIT-ELB", "Elbow fitting", "0.12", (5, 5, 3), False, {"angle": 90}),
    ("LAMP-DSK", "Desk lamp", "1.40", (40, 18, 18), False, {"colour": "black"}),
    ("CHR-OFF", "Office chair", "14.50", (70, 65, 60), False, {"colour": "grey"}),
    ("BAT-LI20", "Lithium battery pack 20 Ah", "0.45", (14, 7, 3), True, {"un": "UN3480"}),
    ("CLN-SPR", "Cleaning spray 500 ml", "0.55", (7, 7, 22), True, {"un": "UN1950"}),
    ("TAPE-PKG", "Packing tape", "0.20", (10, 10, 5), False, {"length_m": 66}),
    ("GLV-NIT", "Nitrile gloves, box of 100", "0.50", (24, 12, 6), False, {"size": "L"}),
    ("MUG-CER", "Ceramic mug", "0.35", (12, 9, 10), False, {"colour": "white"}),
]

WAREHOUSES: list[dict[str, Any]] = [
    {
        "code": "DAL",
        "name": "Dallas DC",
        "type": WarehouseType.OWN,
        "address": {
            "line1": "2500 Irving Blvd",
            "city": "Dallas",
            "region": "TX",
            "postal_code": "75207",
            "country": "US",
        },
        "latitude": 32.7767,
        "longitude": -96.7970,
        "timezone": "America/Chicago",
        "daily_capacity": 5000,
        "cutoff_time": "15:00",
        "attributes": {"hazmat_capable": True},
    },
    {
        "code": "EDI",
        "name": "Edison DC",
        "type": WarehouseType.THIRD_PARTY,
        "address": {
            "line1": "100 Raritan Center Pkwy",
            "city": "Edison",
            "region": "NJ",
            "postal_code": "08837",
            "country": "US",
        },
        "latitude": 40.5187,
        "longitude": -74.4121,
        "timezone": "America/New_York",
        "daily_capacity": 8000,
        "cutoff_time": "16:00",
    },
    {
        "code": "RNO",
        "name": "Reno DC",
        "type": WarehouseType.OWN,
        "address": {
            "line1": "4855 Longley Ln",
            "city": "Reno",
            "region": "NV",
            "postal_code": "89502",
            "country": "US",
        },
        "latitude": 39.5296,
        "longitude": -119.8138,
        "timezone": "America/Los_Angeles",
        "daily_capacity": 3000,
        "cutoff_time": "14:00",
        "attributes": {"hazmat_capable": True},
    },
]

CHANNELS: list[dict[str, Any]] = [
    {
        "code": "web",
        "name": "Web shop",
        "type": ChannelType.WEB_SHOP,
        "currency": "USD",
        "warehouses": ["DAL", "EDI", "RNO"],
    },
    {
        "code": "amazon",
        "name": "Amazon US",
        "type": ChannelType.MARKETPLACE,
        "currency": "USD",
        "warehouses": ["RNO", "DAL"],
        "settings": {"marketplace_id": "ATVPDKIKX0DER"},
    },
    {
        "code": "b2b",
        "name": "B2B by EDI",
        "type": ChannelType.B2B_EDI,
        "currency": "USD",
        "warehouses": ["EDI", "DAL"],
    },
]

SUPPLIERS: list[dict[str, Any]] = [
    {
        "code": "ACME",
        "name": "Acme Components Inc.",
        "currency": "USD",
        "payment_terms": "NET30",
        "lead_time_days": 14,
        "contacts": [
            {"name": "Dana Ortiz", "email": "dana.ortiz@acme.example", "role": "sales"},
            {"name": "Lee Park", "phone": "+12145550123", "role": "logistics"},
        ],
        "address": {
            "line1": "12 Industrial Way",
            "city": "Fort Worth",
            "region": "TX",
            "postal_code": "76102",
            "country": "US",
        },
    },
    {
        "code": "SZMFG",
        "name": "Shenzhen Precision Manufacturing Co.",
        "currency": "CNY",
        "payment_terms": "TT30",
        "lead_time_days": 45,
        "contacts": [
            {"name": "Wei Chen", "email": "wei.chen@szmfg.example", "phone": "+862087654321"}
        ],
        "address": {
            "line1": "88 Keji Road",
            "city": "Shenzhen",
            "postal_code": "518057",
            "country": "CN",
        },
    },
    {
        "code": "RHEIN",
        "name": "Rheinmetallwaren GmbH",
        "currency": "EUR",
        "payment_terms": "NET45",
        "lead_time_days": 30,
        "contacts": [{"name": "Jana Weber", "email": "j.weber@rhein.example", "role": "sales"}],
        "address": {
            "line1": "Hafenstrasse 5",
            "city": "Duisburg",
            "postal_code": "47119",
            "country": "DE",
        },
    },
]

CUSTOMERS: list[dict[str, Any]] = [
    {
        "type": CustomerType.B2C,
        "name": "Alex Morgan",
        "emails": ["alex.morgan@example.com"],
        "phones": ["+12125550100"],
        "addresses": [
            {
                "name": "Alex Morgan",
                "line1": "350 Fifth Ave",
                "city": "New York",
                "region": "NY",
                "postal_code": "10118",
                "country": "US",
            }
        ],
    },
    {
        "type": CustomerType.B2C,
        "name": "Sam Rivera",
        "emails": ["sam.rivera@example.com"],
        "phones": ["+14155550199"],
        "addresses": [
            {
                "name": "Sam Rivera",
                "line1": "1 Ferry Building",
                "city": "San Francisco",
                "region": "CA",
                "postal_code": "94111",
                "country": "US",
            }
        ],
    },
    {
        "type": CustomerType.B2B,
        "name": "Northwind Traders",
        "account_number": "NW-1001",
        "credit_limit": Decimal("50000"),
        "credit_currency": "USD",
        "emails": ["purchasing@northwind.example"],
        "addresses": [
            {
                "company": "Northwind Traders",
                "line1": "2000 Commerce St",
                "city": "Houston",
                "region": "TX",
                "postal_code": "77002",
                "country": "US",
            }
        ],
    },
    {
        "type": CustomerType.B2B,
        "name": "Contoso Retail",
        "account_number": "CR-2002",
        "credit_limit": Decimal("125000"),
        "credit_currency": "USD",
        "emails": ["edi@contoso.example"],
        "addresses": [
            {
                "company": "Contoso Retail",
                "line1": "500 Market St",
                "city": "Philadelphia",
                "region": "PA",
                "postal_code": "19106",
                "country": "US",
            }
        ],
    },
]


def _load_items(session: Session) -> int:
    known = repository.items_by_skus(session, [sku for sku, *_ in ITEMS])
    created = 0
    for number, (sku, name, kg, (length, width, height), hazmat, attributes) in enumerate(
        ITEMS, start=1
    ):
        if sku in known:
            continue
        data = ItemCreate(
            sku=sku,
            name=name,
            gtin=demo_gtin(number),
            uom="EA",
            weight=Decimal(kg),
            weight_unit="kg",
            length=Decimal(length),
            width=Decimal(width),
            height=Decimal(height),
            dimension_unit="cm",
            hazmat=hazmat,
            attributes=attributes,
        )
        items.create_item(session, data, actor=SYSTEM)
        created += 1
    return created


def _load_warehouses(session: Session) -> int:
    known = repository.warehouses_by_codes(session, [w["code"] for w in WAREHOUSES])
    new = [w for w in WAREHOUSES if w["code"] not in known]
    for values in new:
        warehouses.create_warehouse(session, WarehouseCreate.model_validate(values), actor=SYSTEM)
    return len(new)


def _load_channels(session: Session) -> int:
    known = repository.channels_by_codes(session, [c["code"] for c in CHANNELS])
    new = [c for c in CHANNELS if c["code"] not in known]
    for values in new:
        channels.create_channel(session, ChannelCreate.model_validate(values), actor=SYSTEM)
    return len(new)


def _load_suppliers(session: Session) -> int:
    new = [s for s in SUPPLIERS if repository.supplier_by_code(session, s["code"]) is None]
    for values in new:
        suppliers.create_supplier(session, SupplierCreate.model_validate(values), actor=SYSTEM)
    return len(new)


def _load_customers(session: Session) -> int:
    known = {key for c in repository.all_customers(session) for key in (c.account_number, c.email)}
    new = [
        c
        for c in CUSTOMERS
        if c.get("account_number", c["emails"][0]) not in known and c["emails"][0] not in known
    ]
    for values in new:
        customers.create_customer(session, CustomerCreate.model_validate(values), actor=SYSTEM)
    return len(new)


LOW_STOCK = {"GAD-200", "VLV-100", "BAT-LI20", "CHR-OFF"}
"""Items the demo leaves at or below their reorder point, so purchasing has work."""


def _stock_levels() -> list[tuple[str, str, int, int, int]]:
    """(sku, warehouse, on hand, reorder point, reorder quantity) for every item everywhere."""
    levels = []
    for n, (sku, *_) in enumerate(ITEMS):
        for w, warehouse in enumerate(WAREHOUSES):
            reorder_point = 20 + 5 * ((n + w) % 4)
            on_hand = 3 + (n + w) % 5 if sku in LOW_STOCK else 60 + 37 * ((n * 3 + w) % 7)
            levels.append((sku, warehouse["code"], on_hand, reorder_point, 4 * reorder_point))
    return levels


def _load_stock(session: Session) -> int:
    stocked = {(line.sku, line.warehouse) for line in balances.stock_lines(session, actor=SYSTEM)}
    created = 0
    for sku, code, on_hand, reorder_point, reorder_quantity in _stock_levels():
        if (sku, code) in stocked:
            continue
        ledger.adjust(
            session,
            sku=sku,
            warehouse=code,
            quantity=on_hand,
            reason="initial_load",
            note="demo dataset",
            actor=SYSTEM,
        )
        inventory_settings.set_reorder(
            session,
            sku=sku,
            warehouse=code,
            actor=SYSTEM,
            values=inventory_settings.ReorderInput(
                reorder_point=reorder_point, reorder_quantity=reorder_quantity
            ),
        )
        created += 1
    return created


# -- a month of sales orders ------------------------------------------------------------

ORDER_DAYS = 30
PRICES = {
    "WID-BLU": "12.50",
    "WID-RED": "12.50",
    "WID-GRN": "12.50",
    "GAD-100": "89.00",
    "GAD-200": "129.00",
    "BRK-S": "4.20",
    "BRK-L": "7.90",
    "HNG-BRS": "3.10",
    "VLV-050": "18.40",
    "VLV-100": "27.60",
    "SPR-32T": "22.00",
    "GSK-KIT": "15.75",
    "FIT-ELB": "2.35",
    "LAMP-DSK": "49.99",
    "CHR-OFF": "1349.00",
    "BAT-LI20": "139.00",
    "CLN-SPR": "6.80",
    "TAPE-PKG": "3.99",
    "GLV-NIT": "11.25",
    "MUG-CER": "8.50",
}
FIRST_WAREHOUSE = {c["code"]: c["warehouses"][0] for c in CHANNELS}


@dataclass(frozen=True)
class DemoOrder:
    """One demo order as its channel sends it, and what happens to it after intake."""

    payload: dict[str, Any]
    days_ago: float
    hold: tuple[HoldType, str] | None = None
    cancel: str | None = None
    cancel_line: tuple[int, str] | None = None
    close: bool = False


def demo_orders() -> list[DemoOrder]:
    """A month of orders (three a day over web, Amazon and B2B), the same on every call.

    Ordinary lines stay well inside the first warehouse's stock above its reorder
    point, so the demo's reorder picture is the stock step's; orders for the four
    low-stock items ask for more than there is, and are partly or wholly backordered.
    """
    rng = random.Random(4)
    margin = {
        (sku, code): on_hand - reorder_point - 8
        for sku, code, on_hand, reorder_point, _ in _stock_levels()
    }
    plentiful = [sku for sku, *_ in ITEMS if sku not in LOW_STOCK]
    orders = []
    for n in range(ORDER_DAYS * 3):
        channel = ("web", "amazon", "web", "b2b", "amazon", "web")[n % 6]
        warehouse = FIRST_WAREHOUSE[channel]
        most = 12 if channel == "b2b" else 3
        lines: list[tuple[str, int]] = []
        for sku in rng.sample(plentiful, rng.randint(1, 3)):
            quantity = rng.randint(1, most)
            if margin[(sku, warehouse)] >= quantity:
                margin[(sku, warehouse)] -= quantity
                lines.append((sku, quantity))
        if n % 9 == 4:
            lines.append((sorted(LOW_STOCK)[n % 4], 12 + n % 5))
        if n % 18 == 13:
            lines = [(sorted(LOW_STOCK)[n % 4], 25)]
        if not lines:
            lines.append(("FIT-ELB", 1))
        orders.append(_demo_order(n, channel, lines, days_ago=ORDER_DAYS - (n + rng.random()) / 3))
    # What people did with some of them.
    for n, hold in (
        (7, (HoldType.MANUAL, "customer asked to wait for a second parcel")),
        (20, (HoldType.FRAUD, "billing and shipping countries differ")),
        (44, (HoldType.MANUAL, "gift message to confirm")),
        (61, (HoldType.FRAUD, "three orders in an hour from a new account")),
        (80, (HoldType.MANUAL, "address to check with the customer")),
    ):
        orders[n] = replace(orders[n], hold=hold)
    for n in (11, 26, 38, 53, 70):
        orders[n] = replace(orders[n], cancel="customer cancelled")
    for n in (11, 26):
        orders[n] = replace(orders[n], close=True)
    orders[33] = replace(orders[33], cancel_line=(1, "item no longer wanted"))
    # Northwind's big order takes its open orders over the credit limit: a credit hold.
    orders.append(
        _demo_order(
            len(orders), "b2b", [("CHR-OFF", 36), ("LAMP-DSK", 40)], days_ago=0.5, account="NW-1001"
        )
    )
    return orders


def _demo_order(
    n: int, channel: str, lines: list[tuple[str, int]], *, days_ago: float, account: str = ""
) -> DemoOrder:
    buyer = CUSTOMERS[(2 + n % 2) if channel == "b2b" else n % 2]
    reference = {"web": f"W{100100 + n}", "amazon": f"113-{4411000 + n * 37:07d}"}
    customer: dict[str, Any] = (
        {"account_number": account or buyer["account_number"]}
        if channel == "b2b"
        else {"name": buyer["name"], "email": buyer["emails"][0]}
    )
    address = dict(buyer["addresses"][0])
    address.setdefault("name", address.pop("company", buyer["name"]))
    payload = {
        "channel": channel,
        "external_id": reference.get(channel, f"PO-{7000 + n}"),
        "currency": "USD",
        "customer": customer,
        "ship_to": address,
        "lines": [
            {"sku": sku, "quantity": quantity, "unit_price": PRICES[sku]} for sku, quantity in lines
        ],
        "service_level": "expedited" if n % 10 == 3 else "standard",
        "priority": 5 if channel == "b2b" else 0,
    }
    return DemoOrder(payload=payload, days_ago=days_ago)


def _load_orders(session: Session) -> int:
    """Send the demo's orders through intake (raw first into the inbox, as the API does),
    then hold, cancel and close some as a person would. Orders already there are left
    alone, so loading again changes nothing, whenever it runs."""
    wanted = demo_orders()
    channel_ids = {
        c.code: c.id for c in repository.channels_by_codes(session, FIRST_WAREHOUSE).values()
    }
    known = order_repository.external_ids_of(
        session, [(channel_ids[o.payload["channel"]], o.payload["external_id"]) for o in wanted]
    )
    now = clock.now()
    created = 0
    for demo_order in wanted:
        payload = demo_order.payload
        if (channel_ids[payload["channel"]], payload["external_id"]) in known:
            continue
        placed_at = now - dt.timedelta(days=demo_order.days_ago)
        body = json.dumps({**payload, "placed_at": placed_at.isoformat(timespec="seconds")})
        [inbox_id] = intake.store(session, [body], source="demo", actor=SYSTEM)
        result = intake.receive(session, inbox_id, body, actor=SYSTEM)
        order_id = result.order.id
        if demo_order.hold:
            kind, reason = demo_order.hold
            holds.place_hold(session, order_id, type=kind, reason=reason, actor=SYSTEM)
        if demo_order.cancel_line:
            line, reason = demo_order.cancel_line
            lifecycle.cancel_line(session, order_id, line, reason=reason, actor=SYSTEM)
        if demo_order.cancel:
            lifecycle.cancel_order(session, order_id, reason=demo_order.cancel, actor=SYSTEM)
        if demo_order.close:
            lifecycle.close_order(session, order_id, actor=SYSTEM)
        created += 1
    return created


STEPS: list[tuple[str, int, Callable[[Session], int]]] = [
    ("items", len(ITEMS), _load_items),
    ("warehouses", len(WAREHOUSES), _load_warehouses),
    ("channels", len(CHANNELS), _load_channels),
    ("suppliers", len(SUPPLIERS), _load_suppliers),
    ("customers", len(CUSTOMERS), _load_customers),
    ("stock balances", len(ITEMS) * len(WAREHOUSES), _load_stock),
    ("sales orders", ORDER_DAYS * 3 + 1, _load_orders),
]
"""(name, records in the dataset, loader returning how many it created), in load order."""


def load(session: Session) -> str:
    """Load the demo master data; returns a one-line summary of what was new."""
    parts = []
    for name, total, step in STEPS:
        created = step(session)
        parts.append(f"{name} {created} new of {total}")
    return ", ".join(parts)
