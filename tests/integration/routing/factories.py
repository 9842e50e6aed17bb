"""A small network for routing tests: warehouses at real places, a channel ranking them
against geography, stock, and orders shipped to New York taken in through intake."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from tests.integration.catalog.factories import address
from tests.integration.inventory import factories as stock
from tests.integration.orders import factories as orders

PLACES = {
    "EDI": (40.52, -74.41),  # Edison, NJ: about 110 km from a New York ship-to
    "MEM": (35.15, -90.05),  # Memphis: 1,500 km; not linked to the web channel
    "DAL": (32.78, -96.80),  # Dallas: 2,200 km
    "RNO": (39.53, -119.81),  # Reno: 3,800 km
}

NEW_YORK = {"name": "Ada Lovelace", **address(city="New York", region="NY", postal_code="10001")}


def network(
    session: Session,
    *,
    on_hand: dict[tuple[str, str], int] | None = None,
    warehouse_settings: dict[str, dict[str, Any]] | None = None,
) -> None:
    """Items ABC-1, XYZ-9 and BAT-1 (hazmat); warehouses EDI, MEM, DAL, RNO; channel web
    served by RNO, DAL, EDI in that rank order (the nearest to New York last); stock as
    `on_hand` (by default ABC-1: EDI 2, MEM 9, DAL 5, RNO 9; XYZ-9: DAL 4)."""
    for sku in ("ABC-1", "XYZ-9"):
        stock.item(session, sku)
    stock.item(session, "BAT-1", hazmat=True)
    for code, (latitude, longitude) in PLACES.items():
        stock.warehouse(
            session,
            code,
            latitude=latitude,
            longitude=longitude,
            **(warehouse_settings or {}).get(code, {}),
        )
    stock.channel(session, "web", warehouses=["RNO", "DAL", "EDI"])
    given = on_hand or {
        ("ABC-1", "EDI"): 2,
        ("ABC-1", "MEM"): 9,
        ("ABC-1", "DAL"): 5,
        ("ABC-1", "RNO"): 9,
        ("XYZ-9", "DAL"): 4,
    }
    for (sku, code), quantity in given.items():
        stock.stock(session, sku, code, quantity)


def order(
    session: Session,
    external_id: str = "1001",
    *,
    lines: Sequence[tuple[str, int]] = (("ABC-1", 3),),
    **overrides: Any,
) -> int:
    """An order of channel web shipped to New York, taken in through intake; its id."""
    return orders.order(session, external_id, lines=lines, **{"ship_to": NEW_YORK, **overrides})
