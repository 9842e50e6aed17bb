"""The canonical sales order as clients send it, checked field by field.

Structure is checked here (types, required fields, ranges, address forms,
phone numbers, line numbers, totals to the currency's precision); what needs
the database (SKUs, the channel's currency, customers) is checked by intake.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Annotated, Any, Self

from babel.numbers import get_currency_precision
from pydantic import AfterValidator, Field, StringConstraints, model_validator

from oms.catalog.schemas import Address, Code, CurrencyCode, Sku, Strict
from oms.kit import standards
from oms.kit.clock import UtcDatetime
from oms.orders.models import ServiceLevel

Amount = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=4)]
Phone = Annotated[str, AfterValidator(standards.phone_e164)]
ExternalId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class OrderAddress(Address):
    """A ship-to or bill-to address; the phone, when given, is stored E.164."""

    phone: Phone | None = None
    email: Annotated[str, AfterValidator(standards.email_address)] | None = None


class CustomerRef(Strict):
    """The buyer: a link (`id` or `account_number`), or a snapshot matched or created by email."""

    id: int | None = None
    account_number: Annotated[str, StringConstraints(max_length=64)] | None = None
    name: Annotated[str, StringConstraints(max_length=200)] | None = None
    email: Annotated[str, AfterValidator(standards.email_address)] | None = None
    phone: Phone | None = None

    @model_validator(mode="after")
    def _names_someone(self) -> Self:
        if self.id is None and not self.account_number and not self.email and not self.name:
            raise ValueError("give the customer's id, account_number, email or name")
        return self


class LineIn(Strict):
    line_number: Annotated[int, Field(ge=1, le=9999)] | None = None
    sku: Sku
    quantity: Annotated[int, Field(gt=0, le=1_000_000)]
    unit_price: Amount
    discount: Amount = Decimal(0)
    tax: Amount = Decimal(0)
    attributes: dict[str, Any] = Field(default_factory=dict)


class TotalsIn(Strict):
    """Totals as the channel computed them; each given one must match ours."""

    subtotal: Amount | None = None
    discount_total: Amount | None = None
    tax_total: Amount | None = None
    total: Amount | None = None


class OrderIn(Strict):
    channel: Code
    external_id: ExternalId
    currency: CurrencyCode
    customer: CustomerRef
    ship_to: OrderAddress
    bill_to: OrderAddress | None = None
    lines: Annotated[list[LineIn], Field(min_length=1, max_length=500)]
    placed_at: UtcDatetime | None = None
    shipping_charge: Amount = Decimal(0)
    totals: TotalsIn | None = None
    service_level: ServiceLevel = ServiceLevel.STANDARD
    ship_by: UtcDatetime | None = None
    deliver_by: UtcDatetime | None = None
    priority: Annotated[int, Field(ge=0, le=9)] = 0
    notes: Annotated[str, StringConstraints(max_length=5000)] | None = None
    gift: bool = False
    attributes: dict[str, Any] = Field(default_factory=dict)
    cancelled: bool = False
    cancel_reason: Annotated[str, StringConstraints(max_length=500)] | None = None

    @model_validator(mode="after")
    def _numbered_lines(self) -> Self:
        seen: set[int] = set()
        for index, line in enumerate(self.lines):
            if line.line_number is None:
                line.line_number = index + 1
            if line.line_number in seen:
                raise ValueError(f"line number {line.line_number} appears twice")
            seen.add(line.line_number)
        if self.ship_by and self.deliver_by and self.deliver_by < self.ship_by:
            raise ValueError("deliver_by is before ship_by")
        return self


def precision(currency: str) -> int:
    """Digits after the decimal point for `currency` (USD 2, JPY 0, KWD 3)."""
    return int(get_currency_precision(currency))


def quantize(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(Decimal(1).scaleb(-precision(currency)))


def computed_totals(order: OrderIn) -> dict[str, Decimal]:
    """Subtotal, discounts, tax and total of the order, to the currency's precision."""
    subtotal = sum((line.unit_price * line.quantity for line in order.lines), Decimal(0))
    discount = sum((line.discount for line in order.lines), Decimal(0))
    tax = sum((line.tax for line in order.lines), Decimal(0))
    total = subtotal - discount + tax + order.shipping_charge
    return {
        "subtotal": quantize(subtotal, order.currency),
        "discount_total": quantize(discount, order.currency),
        "tax_total": quantize(tax, order.currency),
        "total": quantize(total, order.currency),
    }


def content_hash(order: OrderIn) -> str:
    """SHA-256 of the order's canonical JSON: equal for a re-delivery of the same content,
    whatever its key order or spacing; intake and change requests both store it."""
    canonical = json.dumps(
        order.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode()).hexdigest()
