"""Channel orders as they arrive (JSON payloads), and intake run the way an entry point
runs it: stored raw in one transaction, received in a second."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from oms.auth.principal import SYSTEM, Principal
from oms.db import Database
from oms.orders import intake
from tests.integration.catalog import factories as catalog_data


def payload(
    external_id: str = "1001",
    *,
    channel: str = "web",
    lines: Sequence[tuple[str, int]] = (("ABC-1", 2),),
    **overrides: Any,
) -> dict[str, Any]:
    """The minimum a channel sends, `lines` as (SKU, quantity) at 19.99 each."""
    return {
        "channel": channel,
        "external_id": external_id,
        "currency": "USD",
        "customer": {"name": "Ada Lovelace", "email": "ada@example.com"},
        "ship_to": {"name": "Ada Lovelace", **catalog_data.address()},
        "lines": [
            {"sku": sku, "quantity": quantity, "unit_price": "19.99"} for sku, quantity in lines
        ],
        **overrides,
    }


def deliver(
    db: Database, body: dict[str, Any] | str, *, actor: Principal = SYSTEM
) -> intake.IntakeResult:
    """Store the payload raw (with the number its order would get), then receive it, each
    in its own transaction, as `POST /api/v1/orders` does."""
    text = body if isinstance(body, str) else json.dumps(body)
    with db.transaction() as session:
        inbox_id, number = intake.store_one(session, text, source="test", actor=actor)
    with db.transaction() as session:
        return intake.receive(session, inbox_id, text, actor=actor, number=number)
