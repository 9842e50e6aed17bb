"""Small factories for order tests: master data with stock, an order taken in through
intake (stored, allocated from the channel's warehouses, `order.created` on the
timeline), and stand-ins for fulfillment that move units along their buckets."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from oms.auth.permissions import Role
from oms.auth.principal import SYSTEM, Principal
from oms.inventory import balances
from oms.orders import intake, lifecycle, repository
from oms.orders.models import OrderLine, SalesOrder
from oms.orders.schemas import OrderIn
from oms.routing import rule_sets
from oms.routing.model import SplitPolicy
from oms.routing.rules import RuleSetIn
from tests.integration.catalog import factories as catalog_data
from tests.integration.inventory import factories as stock

STOCK = {("ABC-1", "DAL"): 10, ("ABC-1", "NJ"): 5, ("XYZ-9", "DAL"): 3}


def master_data(
    session: Session,
    *,
    channels: Sequence[str] = ("web",),
    on_hand: dict[tuple[str, str], int] | None = None,
    split_within_line: bool = False,
) -> None:
    """Items ABC-1, XYZ-9 and OLD-1 (inactive); warehouses DAL then NJ serving each channel;
    stock as `on_hand` (by default ABC-1: 10 at DAL, 5 at NJ; XYZ-9: 3 at DAL).

    Both warehouses stand at the same place, so the channel's rank decides between them.
    Under the default rule set a line goes whole to one warehouse or is backordered;
    `split_within_line` gives each channel a rule set that shares a line between warehouses
    in rank order and reserves what there is (for tests of orders split across warehouses)."""
    for sku in ("ABC-1", "XYZ-9"):
        stock.item(session, sku)
    stock.item(session, "OLD-1", active=False)
    for code in ("DAL", "NJ"):
        stock.warehouse(session, code)
    for code in channels:
        stock.channel(session, code, warehouses=["DAL", "NJ"])
    for (sku, warehouse), quantity in (STOCK if on_hand is None else on_hand).items():
        stock.stock(session, sku, warehouse, quantity)
    if split_within_line:
        for code in channels:
            rule_set(session, code, split=SplitPolicy.SPLIT_WITHIN_LINE)


def rule_set(session: Session, channel: str | None, **rules: Any) -> int:
    """A new active rule set version for `channel` (None: the default one); its id."""
    made = rule_sets.create_rule_set(
        session, RuleSetIn.model_validate({"channel": channel, **rules}), actor=SYSTEM
    )
    return made.id


def order_in(
    external_id: str = "1001",
    *,
    channel: str = "web",
    lines: Sequence[tuple[str, int]] = (("ABC-1", 2),),
    **overrides: Any,
) -> OrderIn:
    """The canonical order a channel would send, `lines` as (SKU, quantity)."""
    return OrderIn.model_validate(
        {
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
    )


def order(
    session: Session,
    external_id: str = "1001",
    *,
    channel: str = "web",
    lines: Sequence[tuple[str, int]] = (("ABC-1", 2),),
    **overrides: Any,
) -> int:
    """An order taken in through intake (stored, allocated, `order.created`); its id."""
    given = order_in(external_id, channel=channel, lines=lines, **overrides)
    made = intake.accept(session, given, inbox_id=None, actor=SYSTEM)
    assert made.outcome == intake.Outcome.CREATED, made
    return made.order.id


def stored(session: Session, order_id: int) -> tuple[SalesOrder, list[OrderLine]]:
    """The order as stored now, with its lines."""
    found = repository.order_by_id(session, order_id)
    assert found is not None
    return found, repository.lines_of(session, order_id)


def release_units(session: Session, order_id: int, line_number: int, quantity: int) -> None:
    """Stand in for fulfillment: move `quantity` allocated units of a line to released."""
    found, lines = stored(session, order_id)
    [line] = [line for line in lines if line.line_number == line_number]
    line.allocated -= quantity
    line.released += quantity
    lifecycle.refresh(found, lines)
    session.flush()


def ship_everything(session: Session, order_id: int) -> None:
    """Stand in for fulfillment: every live unit shipped."""
    found, lines = stored(session, order_id)
    for line in lines:
        line.shipped += line.allocated + line.backordered + line.released + line.open
        line.allocated = line.backordered = line.released = 0
    lifecycle.refresh(found, lines)
    session.flush()


def ledger_holds(session: Session) -> bool:
    """Balances equal the ledger, and reserved equals the active reservations."""
    return balances.verify(session).ok


def scoped(*channels: str, role: Role = Role.ADMIN) -> Principal:
    """A principal that sees only `channels`."""
    return Principal(
        kind="api_key", id=99, name="scoped", roles=frozenset({role}), channels=frozenset(channels)
    )
