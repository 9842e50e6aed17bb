"""What makes a channel order unusable, each problem at its field's path.

Structure (types, quantities above zero, address forms, line numbers) is
checked by `schemas.OrderIn`; this module adds what needs the catalog: SKUs
that exist and are active, the channel's currency, totals that add up to the
currency's precision. Every problem is reported at once.

A channel may ask to keep an invalid order on hold rather than refuse it
(`{"intake": {"on_invalid": "hold"}}` in its settings): address problems then
become an address hold, every other problem a manual hold naming them. So
that a bad address can be held too, `parse` sets a badly formed ship-to or
bill-to apart instead of refusing the whole order.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from oms.catalog.models import Channel, Item
from oms.errors import Problem, ValidationFailed
from oms.kit.validation import problems_from
from oms.orders.models import HoldType
from oms.orders.schemas import OrderIn, computed_totals, quantize

ADDRESS_FIELDS = ("ship_to", "bill_to")
HOLD = "hold"
REJECT = "reject"

# Stands in for a malformed address while the rest of the order is checked.
_STAND_IN = {"line1": "-", "city": "-", "country": "US"}


@dataclass(frozen=True)
class Parsed:
    """An order as parsed from a payload; `addresses` keeps, as sent, each address that
    failed its checks (its problems are in `address_problems`)."""

    order: OrderIn
    address_problems: list[Problem] = field(default_factory=list)
    addresses: dict[str, dict[str, Any]] = field(default_factory=dict)


def parse(body: str | bytes) -> Parsed:
    """The order in a JSON payload; ValidationFailed naming every problem, except that a
    malformed ship-to or bill-to alone is set apart (a channel may hold the order)."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed([Problem("body", f"is not JSON: {exc}", "json_invalid")]) from exc
    try:
        return Parsed(order=OrderIn.model_validate(data))
    except ValidationError as exc:
        problems = problems_from(exc.errors())
    bad = {_top_field(p.path) for p in problems}
    if not isinstance(data, dict) or not bad <= set(ADDRESS_FIELDS):
        raise ValidationFailed(problems)
    addresses = {name: data[name] for name in sorted(bad)}
    if not all(isinstance(a, dict) for a in addresses.values()):
        raise ValidationFailed(problems)
    try:
        order = OrderIn.model_validate({**data, **dict.fromkeys(addresses, _STAND_IN)})
    except ValidationError as exc:
        raise ValidationFailed(problems + problems_from(exc.errors())) from exc
    return Parsed(order=order, address_problems=problems, addresses=addresses)


def _top_field(path: str) -> str:
    return path.split(".", 1)[0].split("[", 1)[0]


def is_address_problem(problem: Problem) -> bool:
    return _top_field(problem.path) in ADDRESS_FIELDS


def on_invalid(channel: Channel) -> str:
    """What the channel wants done with an invalid order: `reject` (default) or `hold`."""
    intake = (channel.settings or {}).get("intake")
    choice = intake.get("on_invalid") if isinstance(intake, dict) else None
    return HOLD if choice == HOLD else REJECT


def channel_problems(channel: Channel | None, code: str, *, visible: bool) -> list[Problem]:
    """The channel must exist, be visible to the sender and be active."""
    if channel is None or not visible:
        return [Problem("channel", f"no channel has the code {code!r}", "order.unknown_channel")]
    if not channel.active:
        return [Problem("channel", f"channel {code} is inactive", "order.inactive_channel")]
    return []


def catalog_problems(
    order: OrderIn, *, channel: Channel | None, items: Mapping[str, Item]
) -> list[Problem]:
    """Unknown or inactive SKUs, a currency the channel does not sell in, totals that do
    not add up; pure."""
    problems: list[Problem] = []
    for index, line in enumerate(order.lines):
        item = items.get(line.sku)
        if item is None:
            problems.append(
                Problem(
                    f"lines[{index}].sku", f"no item has the SKU {line.sku!r}", "order.unknown_sku"
                )
            )
        elif not item.active:
            problems.append(
                Problem(f"lines[{index}].sku", f"item {line.sku} is inactive", "order.inactive_sku")
            )
    if channel is not None and order.currency != channel.currency:
        problems.append(
            Problem(
                "currency",
                f"channel {channel.code} sells in {channel.currency}, not {order.currency}",
                "order.currency_mismatch",
            )
        )
    problems.extend(totals_problems(order))
    return problems


def totals_problems(order: OrderIn) -> list[Problem]:
    """Each total the channel sent that differs from the lines' sum, to the currency's
    precision (USD cents, JPY yen)."""
    if order.totals is None:
        return []
    ours = computed_totals(order)
    problems = []
    for name, ours_value in ours.items():
        given: Decimal | None = getattr(order.totals, name)
        if given is not None and quantize(given, order.currency) != ours_value:
            problems.append(
                Problem(
                    f"totals.{name}",
                    f"is {given}, but the lines add up to {ours_value}",
                    "order.totals_mismatch",
                )
            )
    return problems


def holds_for(problems: Sequence[Problem]) -> list[tuple[HoldType, str]]:
    """The holds that keep an invalid order from going further: an address hold for
    address problems, a manual hold listing every other problem."""
    address = [p for p in problems if is_address_problem(p)]
    other = [p for p in problems if not is_address_problem(p)]
    holds = []
    if address:
        holds.append((HoldType.ADDRESS, "invalid address: " + _listed(address)))
    if other:
        holds.append((HoldType.MANUAL, "invalid order: " + _listed(other)))
    return holds


def _listed(problems: Sequence[Problem]) -> str:
    return "; ".join(f"{p.path}: {p.message} ({p.code})" for p in problems)
