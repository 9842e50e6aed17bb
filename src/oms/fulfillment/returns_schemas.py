"""What the returns API takes and gives: a return request, a rejection, the WMS's receipt,
the inspection, and a return as shown."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Self

from pydantic import BaseModel, Field, StringConstraints, model_validator

from oms.catalog.schemas import Code, Sku, Strict
from oms.fulfillment.models import MessageOutcome, ReturnStatus, ShippingRefund
from oms.fulfillment.schemas import MessageId
from oms.kit.clock import UtcDatetime

Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
LineNumber = Annotated[int, Field(ge=1, le=9999)]
Units = Annotated[int, Field(ge=1, le=1_000_000)]
Count = Annotated[int, Field(ge=0, le=1_000_000)]
MAX_LINES = 500


class ReturnLineIn(Strict):
    line_number: LineNumber
    quantity: Units
    reason: Reason | None = None


class ReturnIn(Strict):
    """A request to return shipped units of one order's lines."""

    order_id: Annotated[int, Field(ge=1)] | None = None
    order_number: Annotated[str, StringConstraints(min_length=1, max_length=40)] | None = None
    lines: Annotated[list[ReturnLineIn], Field(min_length=1, max_length=MAX_LINES)]
    reason: Reason | None = None
    warehouse: Code | None = None
    """Where the goods come back; by default the warehouse that shipped the lines."""
    shipping_refund: ShippingRefund = ShippingRefund.NONE

    @model_validator(mode="after")
    def _names_one_order(self) -> Self:
        if (self.order_id is None) == (self.order_number is None):
            raise ValueError("name the order by order_id or by order_number (one of them)")
        return self


class RejectIn(Strict):
    reason: Reason


class ReceivedLineIn(Strict):
    line_number: LineNumber | None = None
    sku: Sku | None = None
    quantity: Units

    @model_validator(mode="after")
    def _names_a_line(self) -> Self:
        if self.line_number is None and self.sku is None:
            raise ValueError("name the return line by line_number or sku")
        return self


class ReceiptIn(Strict):
    """What a warehouse counted in against a return, once per message id."""

    message_id: MessageId
    lines: Annotated[list[ReceivedLineIn], Field(min_length=1, max_length=MAX_LINES)]
    received_at: UtcDatetime | None = None


class InspectedLineIn(Strict):
    line_number: LineNumber
    resellable: Count
    damaged: Count


class InspectionIn(Strict):
    """Per line, how many received units go back to stock and how many are damaged."""

    lines: Annotated[list[InspectedLineIn], Field(min_length=1, max_length=MAX_LINES)]


class ReturnLineOut(BaseModel):
    line_number: int
    sku: str
    quantity: int
    """Units authorized to come back."""
    reason: str | None
    received: int
    resellable: int
    damaged: int
    refund_amount: Decimal


class ReturnOut(BaseModel):
    id: int
    number: str
    order_id: int
    order_number: str
    status: ReturnStatus
    warehouse: str | None
    reason: str | None
    rejection_reason: str | None
    shipping_refund: ShippingRefund
    currency: str
    refund_amount: Decimal
    """The lines' refunds plus the shipping refund."""
    shipping_refund_amount: Decimal
    requested_by: str
    created_at: dt.datetime
    updated_at: dt.datetime
    authorized_at: dt.datetime | None
    received_at: dt.datetime | None
    inspected_at: dt.datetime | None
    closed_at: dt.datetime | None
    version: int
    lines: list[ReturnLineOut]


class ReceiptOut(BaseModel):
    message_id: str
    outcome: MessageOutcome
    note: str | None
    rma: ReturnOut
