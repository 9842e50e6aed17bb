"""Webhook subscriptions: create, read, change, pause, rotate the secret.

The secret signs every delivery; Item OMS must keep it readable to sign, so
it is stored as given and shown only once: in the answer that made it.
`actor` is the acting principal's label (the outbox sits below `auth`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from oms import audit
from oms.errors import NotFound, PreconditionFailed
from oms.kit import clock
from oms.kit.paging import Page, PageRequest
from oms.outbox import repository, signing
from oms.outbox.models import WebhookSubscription
from oms.outbox.schemas import SubscriptionCreate, SubscriptionOut, SubscriptionUpdate

ENTITY = "webhook_subscription"


class SubscriptionNotFound(NotFound):
    def __init__(self, subscription_id: int) -> None:
        super().__init__(
            "webhook subscription", subscription_id, code="webhooks.subscription_not_found"
        )


def view(subscription: WebhookSubscription) -> dict[str, Any]:
    """A subscription as the API and the audit trail show it (never its secret)."""
    return SubscriptionOut.model_validate(subscription).model_dump(mode="json")


def create_subscription(
    session: Session, data: SubscriptionCreate, *, actor: str
) -> tuple[WebhookSubscription, str]:
    """Add a subscription with a fresh secret; returns it and the secret (shown once)."""
    secret = signing.new_secret()
    now = clock.now()
    subscription = WebhookSubscription(
        name=data.name or (urlsplit(data.url).hostname or data.url),
        url=data.url,
        topics=data.topics,
        secret=secret,
        active=data.active,
        created_at=now,
        updated_at=now,
        version=1,
    )
    repository.add(session, subscription)
    audit.record(
        session,
        actor=actor,
        action=f"{ENTITY}.created",
        entity_type=ENTITY,
        entity_id=str(subscription.id),
        after=view(subscription),
    )
    return subscription, secret


def get_subscription(session: Session, subscription_id: int) -> WebhookSubscription:
    """The subscription with this id."""
    subscription = repository.subscription_by_id(session, subscription_id)
    if subscription is None:
        raise SubscriptionNotFound(subscription_id)
    return subscription


def update_subscription(
    session: Session,
    subscription_id: int,
    data: SubscriptionUpdate,
    *,
    actor: str,
    expected_version: int | None = None,
) -> tuple[WebhookSubscription, str | None]:
    """Change the fields sent, maybe rotate the secret; returns the new secret if rotated."""
    subscription = repository.subscription_by_id(session, subscription_id, lock=True)
    if subscription is None:
        raise SubscriptionNotFound(subscription_id)
    if expected_version is not None and expected_version != subscription.version:
        raise PreconditionFailed(
            f"webhook subscription {subscription_id} has changed since version "
            f"{expected_version}; it is now at version {subscription.version}: read it again "
            "and retry",
            code="webhooks.version_mismatch",
            expected=expected_version,
            current=subscription.version,
        )
    before = view(subscription)
    changes = data.model_dump(exclude_unset=True, exclude={"rotate_secret"})
    for name, value in changes.items():
        setattr(subscription, name, value)
    new_secret = signing.new_secret() if data.rotate_secret else None
    if new_secret is not None:
        subscription.secret = new_secret
    if view(subscription) == before and new_secret is None:
        return subscription, None
    subscription.version += 1
    subscription.updated_at = clock.now()
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=f"{ENTITY}.updated",
        entity_type=ENTITY,
        entity_id=str(subscription.id),
        before=before,
        after=view(subscription),
        note="secret rotated" if new_secret else None,
    )
    return subscription, new_secret


def search_subscriptions(
    session: Session, *, active: bool | None, page: PageRequest
) -> Page[WebhookSubscription]:
    """Subscriptions, by id, optionally only the active (or paused) ones."""
    return repository.search_subscriptions(session, active=active, page=page)
