"""Pydantic shapes of webhook subscriptions and deliveries, in and out."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Self
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from oms.kit.validation import refuse_nulls
from oms.outbox.models import DeliveryStatus

TOPIC_PATTERN = re.compile(r"^(\*|[a-z0-9_-]+(\.[a-z0-9_-]+)*(\.\*)?)$")


def webhook_url(value: str) -> str:
    """An absolute http(s) URL with a host."""
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https"):
        raise ValueError("must be an http:// or https:// URL")
    if not parts.hostname:
        raise ValueError("must name a host, as https://example.com/hooks")
    if parts.username or parts.password:
        raise ValueError("must not carry credentials; the signature authenticates Item OMS")
    return value


def topic_list(values: list[str]) -> list[str]:
    """Topics, each exact (`order.created`), a prefix wildcard (`order.*`) or `*`; no repeats."""
    topics: list[str] = []
    for raw in values:
        topic = raw.strip().lower()
        if not TOPIC_PATTERN.match(topic):
            raise ValueError(
                f"{raw!r} is not a topic: use `order.created`, `order.*` or `*` "
                "(lowercase words joined by dots)"
            )
        if topic not in topics:
            topics.append(topic)
    return topics


WebhookUrl = Annotated[str, Field(max_length=2000), AfterValidator(webhook_url)]
Topics = Annotated[list[str], Field(min_length=1, max_length=100), AfterValidator(topic_list)]
SubscriptionName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
]


class Strict(BaseModel):
    """Inputs refuse unknown fields, so a typo is an error, not a silent no-op."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SubscriptionCreate(Strict):
    url: WebhookUrl
    topics: Topics
    name: SubscriptionName | None = Field(default=None, description="defaults to the URL's host")
    active: bool = True


class SubscriptionUpdate(Strict):
    """Only the fields sent are changed; `rotate_secret: true` issues a new secret."""

    url: WebhookUrl | None = None
    topics: Topics | None = None
    name: SubscriptionName | None = None
    active: bool | None = None
    rotate_secret: bool = False

    @model_validator(mode="after")
    def _required_stay_set(self) -> Self:
        refuse_nulls(self, ("url", "topics", "name", "active"))
        return self


class SubscriptionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    url: str
    topics: list[str]
    active: bool
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class SubscriptionWithSecret(SubscriptionOut):
    """A subscription just made or rotated: the only answer that shows its secret."""

    secret: str = Field(description="`whsec_…`; shown once, store it now")


class DeliveryOut(BaseModel):
    """One line of the delivery log."""

    id: int
    subscription_id: int
    event_id: str
    event_topic: str
    key: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: dt.datetime | None
    last_status_code: int | None
    last_error: str | None
    last_latency_ms: float | None
    last_attempt_at: dt.datetime | None
    created_at: dt.datetime
    delivered_at: dt.datetime | None


class AttemptOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    attempt: int
    at: dt.datetime
    status_code: int | None
    latency_ms: float | None
    error: str | None
    relay: str | None


class DeliveryDetail(DeliveryOut):
    """A delivery with the event it carries and every attempt made."""

    payload: dict[str, Any]
    attempt_log: list[AttemptOut]
