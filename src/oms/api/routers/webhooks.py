"""Webhooks: `/api/v1/webhooks` subscriptions, the delivery log, redelivery (admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from oms.api.deps import IfMatchDep, PageDep, SessionDep, require, set_etag
from oms.api.schemas import ListOf
from oms.auth.permissions import Permission
from oms.auth.principal import Principal
from oms.outbox import deliveries, repository, subscriptions
from oms.outbox.models import DeliveryStatus
from oms.outbox.schemas import (
    DeliveryDetail,
    DeliveryOut,
    SubscriptionCreate,
    SubscriptionOut,
    SubscriptionUpdate,
    SubscriptionWithSecret,
)

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])

Manager = Annotated[Principal, Depends(require(Permission.WEBHOOKS_MANAGE))]


@router.post("/subscriptions", status_code=status.HTTP_201_CREATED)
def create_subscription(
    body: SubscriptionCreate, tx: SessionDep, actor: Manager, response: Response
) -> SubscriptionWithSecret:
    """Subscribe a URL to topics (`order.created`, `order.*`, `*`); the secret is shown once."""
    subscription, secret = subscriptions.create_subscription(tx, body, actor=actor.label)
    set_etag(response, subscription.version)
    response.headers["Location"] = f"/api/v1/webhooks/subscriptions/{subscription.id}"
    return SubscriptionWithSecret(**subscriptions.view(subscription), secret=secret)


@router.get("/subscriptions")
def list_subscriptions(
    tx: SessionDep, _: Manager, page: PageDep, active: bool | None = None
) -> ListOf[SubscriptionOut]:
    """Subscriptions; sort by `id` (default) or `name`."""
    found = subscriptions.search_subscriptions(tx, active=active, page=page)
    return ListOf(
        items=[SubscriptionOut.model_validate(s) for s in found.items],
        next_cursor=found.next_cursor,
    )


@router.get("/subscriptions/{subscription_id}")
def get_subscription(
    subscription_id: int, tx: SessionDep, _: Manager, response: Response
) -> SubscriptionOut:
    """One subscription (never its secret), with its version as the ETag."""
    subscription = subscriptions.get_subscription(tx, subscription_id)
    set_etag(response, subscription.version)
    return SubscriptionOut.model_validate(subscription)


@router.patch("/subscriptions/{subscription_id}")
def update_subscription(
    subscription_id: int,
    body: SubscriptionUpdate,
    tx: SessionDep,
    actor: Manager,
    version: IfMatchDep,
    response: Response,
) -> SubscriptionWithSecret | SubscriptionOut:
    """Change URL, topics, name or `active`; `{"rotate_secret": true}` answers the new secret."""
    subscription, secret = subscriptions.update_subscription(
        tx, subscription_id, body, actor=actor.label, expected_version=version
    )
    set_etag(response, subscription.version)
    if secret is not None:
        return SubscriptionWithSecret(**subscriptions.view(subscription), secret=secret)
    return SubscriptionOut.model_validate(subscription)


@router.get("/deliveries")
def list_deliveries(
    tx: SessionDep,
    _: Manager,
    page: PageDep,
    subscription_id: int | None = None,
    status: DeliveryStatus | None = None,
    event_topic: Annotated[str | None, Query(description="exact topic")] = None,
) -> ListOf[DeliveryOut]:
    """The delivery log, newest first: status, attempts, last answer and its latency."""
    filters = repository.DeliveryFilter(
        subscription_id=subscription_id, status=status, event_topic=event_topic
    )
    found = deliveries.search_deliveries(tx, filters, page)
    return ListOf(items=found.items, next_cursor=found.next_cursor)


@router.get("/deliveries/{delivery_id}")
def get_delivery(delivery_id: int, tx: SessionDep, _: Manager) -> DeliveryDetail:
    """One delivery with its event payload and every attempt."""
    return deliveries.get_delivery(tx, delivery_id)


@router.post("/deliveries/{delivery_id}/redeliver")
def redeliver(delivery_id: int, tx: SessionDep, actor: Manager) -> DeliveryDetail:
    """Send a dead or delivered delivery once more. 409 `webhooks.cannot_redeliver` otherwise."""
    return deliveries.redeliver(tx, delivery_id, actor=actor.label)
