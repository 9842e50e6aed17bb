"""What the simulated warehouse decides for one fulfillment order, and the messages it sends.

Pure: every choice (reject or accept, a short pick, carrier and service, packages, weights,
tracking numbers) comes from a `random.Random` seeded by the run's seed, the warehouse and
the fulfillment order's number, so one order is worked the same way whenever and in
whatever order it arrives. Message ids are stable per order and step, so a message sent
again after a lost answer is a duplicate to Item OMS, never a second change.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum
from typing import Any

UNITS_PER_PACKAGE = 4
WEIGHT_UNIT = "kg"
BOX_WEIGHT_KG = 0.15
UNIT_WEIGHT_KG = (0.2, 2.5)
SHIPPER_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

UPS = "UPS"
UPS_SERVICE_CODES = {
    "NEXT_DAY_AIR": "01",
    "2ND_DAY_AIR": "02",
    "GROUND": "03",
    "3_DAY_SELECT": "12",
    "NEXT_DAY_AIR_SAVER": "13",
}
DEFAULT_CHOICES: tuple[tuple[str, str], ...] = ((UPS, "GROUND"), (UPS, "3_DAY_SELECT"))
"""Carrier and service drawn for standard (or unknown) service levels."""
FAST_SERVICES = {"expedited": (UPS, "2ND_DAY_AIR"), "overnight": (UPS, "NEXT_DAY_AIR")}
"""A faster service level always gets its service: nobody ships overnight by ground."""

REJECT_REASONS = (
    "site closed for inventory count",
    "carrier cut-off missed, dock closed",
    "address not serviceable from this site",
)
NOTHING_TO_PICK = "short pick: the only unit was not found at its bin"


class Step(StrEnum):
    """The messages a fulfillment order gets from the WMS, in the order they are sent."""

    ACK = "ack"
    PICKING = "picking"
    PACKED = "packed"
    SHIPMENT = "shipment"


@dataclass(frozen=True)
class WorkLine:
    """Units of one order line, as the fulfillment order holds them or as they shipped."""

    line_number: int
    sku: str
    quantity: int


@dataclass(frozen=True)
class WorkOrder:
    """A released fulfillment order as the WMS keeps it: what to pick, and for whom."""

    id: int
    number: str
    lines: tuple[WorkLine, ...]
    service_level: str | None = None

    @property
    def units(self) -> int:
        return sum(line.quantity for line in self.lines)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> WorkOrder:
        """Read a fulfillment order from a webhook or a list answer; ValueError if malformed."""
        try:
            # A line whose units all went elsewhere (cancelled, re-routed) has none to pick.
            lines = tuple(
                WorkLine(int(line["line_number"]), str(line["sku"]), int(line["quantity"]))
                for line in data["lines"]
                if int(line["quantity"]) > 0
            )
            order = cls(
                id=int(data["id"]),
                number=str(data["number"]),
                lines=lines,
                service_level=data.get("service_level"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a fulfillment order: {exc!r}") from exc
        if not lines:
            raise ValueError(f"{order.number} has no units to pick")
        return order


@dataclass(frozen=True)
class Package:
    tracking_number: str
    weight: Decimal

    def as_json(self) -> dict[str, Any]:
        return {
            "tracking_number": self.tracking_number,
            "weight": str(self.weight),
            "weight_unit": WEIGHT_UNIT,
            "sscc": None,
        }


@dataclass(frozen=True)
class WorkPlan:
    """How the warehouse will work one fulfillment order, decided when it arrives."""

    order: WorkOrder
    accepted: bool
    reason: str | None
    carrier: str
    service: str
    shipped: tuple[WorkLine, ...]
    packages: tuple[Package, ...]

    @property
    def short(self) -> bool:
        """Fewer units ship than the fulfillment order holds."""
        return self.accepted and sum(line.quantity for line in self.shipped) < self.order.units


def message_id(number: str, step: Step) -> str:
    """The message id of one step of one fulfillment order: the same every time it is sent."""
    return f"sim-{number}-{step.value}"


def ups_check_digit(body: str) -> int:
    """UPS's check digit over the 15 characters after `1Z`: letters count as
    `(ord(c) - 63) % 10`, odd positions are summed, even ones doubled and summed."""
    if len(body) != 15 or not body.isalnum():
        raise ValueError(f"a UPS tracking body is 15 letters or digits, not {body!r}")
    total = 0
    for position, char in enumerate(body.upper(), start=1):
        value = int(char) if char.isdigit() else (ord(char) - 63) % 10
        total += value if position % 2 else 2 * value
    return (10 - total % 10) % 10


def ups_tracking_number(shipper: str, service: str, reference: int) -> str:
    """`1Z` + 6-character shipper + 2-digit service + 7-digit reference + check digit."""
    code = UPS_SERVICE_CODES.get(service, UPS_SERVICE_CODES["GROUND"])
    body = f"{shipper.upper()}{code}{reference:07d}"
    return f"1Z{body}{ups_check_digit(body)}"


def is_valid_ups_tracking_number(tracking_number: str) -> bool:
    """True when it has UPS's shape and its check digit is right."""
    text = tracking_number.upper()
    if len(text) != 18 or not text.startswith("1Z") or not text[-1].isdigit():
        return False
    try:
        return ups_check_digit(text[2:17]) == int(text[-1])
    except ValueError:
        return False


def shipper_number(warehouse: str) -> str:
    """The 6-character UPS account a warehouse ships on, stable per warehouse code."""
    digest = hashlib.sha256(warehouse.upper().encode()).digest()
    return "".join(SHIPPER_ALPHABET[b % len(SHIPPER_ALPHABET)] for b in digest[:6])


def short_pick(lines: Sequence[WorkLine], rng: random.Random) -> tuple[WorkLine, ...]:
    """The lines as shipped when one line is picked short: at least one unit missing on it,
    at least one unit left to ship overall; a line left with no unit is dropped."""
    total = sum(line.quantity for line in lines)
    if total < 2:
        raise ValueError("a short pick needs two units at least: one missing, one shipped")
    chosen = rng.randrange(len(lines))
    missing = rng.randint(1, min(lines[chosen].quantity, total - 1))
    picked = [
        replace(line, quantity=line.quantity - missing) if n == chosen else line
        for n, line in enumerate(lines)
    ]
    return tuple(line for line in picked if line.quantity > 0)


def pack(
    shipped: Sequence[WorkLine], rng: random.Random, *, carrier: str, service: str, shipper: str
) -> tuple[Package, ...]:
    """Boxes of up to UNITS_PER_PACKAGE units, each weighed and given a tracking number."""
    units = sum(line.quantity for line in shipped)
    boxes = max(1, math.ceil(units / UNITS_PER_PACKAGE))
    references = rng.sample(range(10**7), boxes)
    packages = []
    for box, reference in enumerate(references):
        in_box = min(UNITS_PER_PACKAGE, units - box * UNITS_PER_PACKAGE)
        kg = BOX_WEIGHT_KG + sum(rng.uniform(*UNIT_WEIGHT_KG) for _ in range(in_box))
        if carrier == UPS:
            tracking = ups_tracking_number(shipper, service, reference)
        else:
            tracking = f"{carrier[:3].upper()}{reference:07d}{rng.randrange(10**5):05d}"
        packages.append(Package(tracking, Decimal(f"{kg:.1f}")))
    return tuple(packages)


def plan_work(
    order: WorkOrder,
    *,
    seed: int,
    warehouse: str,
    short_rate: float,
    reject_rate: float,
    choices: Sequence[tuple[str, str]] = DEFAULT_CHOICES,
) -> WorkPlan:
    """Decide how one fulfillment order is worked: rejected, shipped whole, or picked short."""
    rng = random.Random(f"{seed}:{warehouse}:{order.number}")
    rejected = rng.random() < reject_rate
    picked_short = rng.random() < short_rate
    carrier, service = FAST_SERVICES.get(order.service_level or "") or rng.choice(choices)
    reason = rng.choice(REJECT_REASONS) if rejected else None
    shipped = order.lines
    if not rejected and picked_short:
        if order.units < 2:
            reason = NOTHING_TO_PICK
        else:
            shipped = short_pick(order.lines, rng)
    if reason is not None:
        return WorkPlan(order, False, reason, carrier, service, (), ())
    packages = pack(
        shipped, rng, carrier=carrier, service=service, shipper=shipper_number(warehouse)
    )
    return WorkPlan(order, True, None, carrier, service, shipped, packages)


def ack_body(plan: WorkPlan, *, warehouse: str) -> dict[str, Any]:
    """The ack message: accepted with the WMS's own reference, or rejected with a reason."""
    body: dict[str, Any] = {
        "message_id": message_id(plan.order.number, Step.ACK),
        "accepted": plan.accepted,
    }
    if plan.accepted:
        body["reference"] = f"SIM-{warehouse.upper()}-{plan.order.id}"
    else:
        body["reason"] = plan.reason
    return body


def status_body(plan: WorkPlan, step: Step) -> dict[str, Any]:
    """A status message: `picking` or `packed`."""
    if step not in (Step.PICKING, Step.PACKED):
        raise ValueError(f"{step} is not a status")
    return {"message_id": message_id(plan.order.number, step), "status": step.value}


def shipment_body(plan: WorkPlan) -> dict[str, Any]:
    """The final shipment: packages and the lines shipped (fewer units when picked short)."""
    return {
        "message_id": message_id(plan.order.number, Step.SHIPMENT),
        "carrier": plan.carrier,
        "service": plan.service,
        "packages": [package.as_json() for package in plan.packages],
        "lines": [
            {"line_number": line.line_number, "sku": line.sku, "quantity": line.quantity}
            for line in plan.shipped
        ],
        "final": True,
    }
