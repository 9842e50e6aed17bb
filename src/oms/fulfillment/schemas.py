"""What the WMS side of the API takes and gives (docs/WMS.md), and connection settings."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, BaseModel, Field, HttpUrl, model_validator

from oms.catalog.schemas import Sku, Strict
from oms.fulfillment.models import MessageOutcome, ReleaseMode, ShortShipPolicy, TrackingStatus
from oms.kit.clock import UtcDatetime
from oms.kit.validation import refuse
from oms.routing.schemas import FulfillmentOrderOut

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _wave_time(value: str) -> str:
    if not _HHMM.match(value):
        raise ValueError("a wave time reads HH:MM (00:00 to 23:59)")
    return value


MessageId = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^\S(.*\S)?$")]


class ConnectionIn(Strict):
    url: HttpUrl | None = None
    """Where released fulfillment orders are pushed; none: the WMS pulls."""
    release_mode: ReleaseMode = ReleaseMode.IMMEDIATE
    wave_times: list[Annotated[str, AfterValidator(_wave_time)]] = Field(
        default_factory=list, max_length=48
    )
    short_ship: ShortShipPolicy = ShortShipPolicy.REROUTE
    active: bool = True
    rotate_secret: bool = False

    @model_validator(mode="after")
    def _waves_have_times(self) -> Self:
        if self.release_mode == ReleaseMode.WAVES and not self.wave_times:
            refuse(
                "ConnectionIn", [("wave_times", "release_mode waves needs at least one wave time")]
            )
        return self


class ConnectionOut(BaseModel):
    warehouse: str
    url: str | None
    release_mode: ReleaseMode
    wave_times: list[str]
    short_ship: ShortShipPolicy
    active: bool
    topic: str
    """The outbox topic released work is pushed on."""
    secret: str | None = None
    """`whsec_…`: shown only when the push connection is made or its secret rotated."""
    version: int
    updated_at: dt.datetime


class AckIn(Strict):
    message_id: MessageId
    accepted: bool
    reason: Annotated[str | None, Field(max_length=500)] = None
    reference: Annotated[str | None, Field(max_length=100)] = None
    """The WMS's own id of the work."""

    @model_validator(mode="after")
    def _rejection_has_reason(self) -> Self:
        if not self.accepted and not (self.reason and self.reason.strip()):
            refuse("AckIn", [("reason", "a rejection needs a reason")])
        return self


class StatusIn(Strict):
    message_id: MessageId
    status: Literal["picking", "packed"]
    at: UtcDatetime | None = None


class PackageIn(Strict):
    tracking_number: Annotated[str, Field(min_length=4, max_length=64)]
    weight: Annotated[Decimal | None, Field(gt=0, max_digits=12, decimal_places=3)] = None
    weight_unit: Literal["kg", "lb", "g", "oz"] | None = None
    sscc: Annotated[str | None, Field(pattern=r"^\d{18}$")] = None


class ShippedLineIn(Strict):
    line_number: Annotated[int | None, Field(ge=1)] = None
    sku: Sku | None = None
    quantity: Annotated[int, Field(ge=1, le=1_000_000)]

    @model_validator(mode="after")
    def _names_a_line(self) -> Self:
        if self.line_number is None and self.sku is None:
            raise ValueError("name the order line by line_number or sku")
        return self


class ShipmentIn(Strict):
    message_id: MessageId
    carrier: Annotated[str, Field(min_length=1, max_length=100)]
    service: Annotated[str, Field(min_length=1, max_length=100)]
    shipped_at: UtcDatetime | None = None
    packages: Annotated[list[PackageIn], Field(min_length=1, max_length=500)]
    lines: Annotated[list[ShippedLineIn], Field(min_length=1, max_length=1000)]
    final: bool = True
    """The last shipment of the fulfillment order: units it does not ship are short."""


class PackageOut(BaseModel):
    tracking_number: str
    carrier: str
    weight: Decimal | None
    weight_unit: str | None
    sscc: str | None
    status: TrackingStatus
    status_at: dt.datetime | None
    estimated_delivery: dt.datetime | None
    delivered_at: dt.datetime | None


class ShipmentLineOut(BaseModel):
    line_number: int
    sku: str
    quantity: int


class ShipmentOut(BaseModel):
    id: int
    number: str
    fulfillment_order: str
    order_id: int
    order_number: str
    warehouse: str
    carrier: str
    carrier_name: str
    scac: str | None
    service: str
    status: TrackingStatus
    shipped_at: dt.datetime
    delivered_at: dt.datetime | None
    packages: list[PackageOut]
    lines: list[ShipmentLineOut]


class MessageOut(BaseModel):
    message_id: str
    outcome: MessageOutcome
    note: str | None
    fulfillment_order: FulfillmentOrderOut
    shipment: ShipmentOut | None = None


class ReleasedOut(BaseModel):
    released: list[str]
    """Numbers of the fulfillment orders released."""


# -- shipments and tracking (tracking.py, shipments.py) ---------------------------------


class TrackingEventOut(BaseModel):
    status: TrackingStatus
    raw_status: str
    description: str | None
    location: str | None
    occurred_at: dt.datetime
    provider: str
    received_at: dt.datetime


class PackageDetailOut(PackageOut):
    events: list[TrackingEventOut]
    """Newest first."""


class ShipmentDetailOut(ShipmentOut):
    """`GET /api/v1/shipments/{id}`: the shipment with each package's tracking history."""

    packages: list[PackageDetailOut]  # type: ignore[assignment]


TrackingOutcome = Literal["applied", "duplicate", "unmatched", "ignored"]


class TrackingWebhookOut(BaseModel):
    """What a tracking provider's webhook got: `applied` (something new kept), `duplicate`
    (nothing new), `unmatched` (no package has the tracking number), `ignored` (not a
    tracking event)."""

    outcome: TrackingOutcome
    tracking_number: str | None
    status: TrackingStatus | None
    inbox_id: int


class TrackingProviderIn(Strict):
    secret: Annotated[str | None, Field(min_length=8, max_length=200)]
    """The provider's webhook signing secret; null: accept unsigned webhooks."""


class TrackingProviderOut(BaseModel):
    provider: str
    signed: bool
    """Whether webhooks must carry a valid signature (a secret is set); the secret is never
    shown."""
    updated_by: str | None
    updated_at: dt.datetime | None
