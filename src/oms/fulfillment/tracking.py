"""Tracking webhooks from payload to packages, shipments and orders.

The router keeps the payload in the inbox first (its own transaction); then
`receive_webhook`, in one transaction:

1. checks the signature when an admin set a secret for the provider (a missing or bad
   one: `tracking.bad_signature`, nothing applied); without a secret the webhook is
   taken and logged as unsigned;
2. reads the update (`tracking_formats`); a webhook about something else is `ignored`;
3. finds the packages by tracking number; none: `unmatched` (answered 200 all the same,
   since providers send again whatever is not answered 2xx);
4. keeps the events not yet kept for each package (a re-sent webhook adds nothing:
   `duplicate`), and moves the package to the update's status only when the update's
   newest event is newer than what the package already shows (events arrive out of
   order, and an old one never moves a package back);
5. derives each shipment's status from its packages, and when every package of a
   shipment is delivered, moves its lines' units from shipped to delivered on the order
   (`order.delivered` with the tracking numbers and carrier per line);
6. raises `shipment.exception` (and the order's `delivery_exception`) when a package
   goes into exception, and `shipment.returned_to_sender` when it is returned; returns
   themselves move the order's units, not tracking.

The outcome is noted on the inbox message, with whether the webhook was signed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy.orm import Session

from oms import audit
from oms.auth.principal import Principal
from oms.errors import OmsError, Problem, Unauthenticated, ValidationFailed
from oms.fulfillment import repository as shipments_repository
from oms.fulfillment import tracking_formats as formats
from oms.fulfillment import tracking_repository as repository
from oms.fulfillment.models import Shipment, ShipmentPackage, TrackingProvider, TrackingStatus
from oms.fulfillment.schemas import (
    TrackingOutcome,
    TrackingProviderIn,
    TrackingProviderOut,
    TrackingWebhookOut,
)
from oms.inbox import service as inbox
from oms.inbox.models import InboxStatus
from oms.kit import clock
from oms.orders import lifecycle, timeline
from oms.orders import repository as orders
from oms.orders.models import SalesOrder
from oms.outbox import service as outbox

log = structlog.get_logger(__name__)

S = TrackingStatus

SHIPMENT_ORDER: tuple[TrackingStatus, ...] = (
    S.RETURNED_TO_SENDER,
    S.EXCEPTION,
    S.PRE_TRANSIT,
    S.IN_TRANSIT,
    S.OUT_FOR_DELIVERY,
    S.AVAILABLE_FOR_PICKUP,
    S.DELIVERED,
)
"""Package statuses from least to most advanced, for a shipment's status (the least
advanced of its packages'): a package in trouble shows on its shipment, and a shipment
is delivered only when every package is."""


class BadSignature(Unauthenticated):
    def __init__(self, provider: str) -> None:
        super().__init__(
            f"the {provider} webhook's signature is missing or does not match the secret set "
            "for the provider",
            code="tracking.bad_signature",
        )


def actor_of(provider: formats.TrackingProvider) -> Principal:
    """Who the timeline and the audit trail name for a provider's webhook."""
    return Principal(kind="tracking", id=0, name=provider.value, roles=frozenset())


def store(session: Session, provider: str, body: str) -> int:
    """Keep a webhook's payload as received; its inbox id. Refuses an unknown provider
    (404) before keeping anything."""
    which = formats.provider_of(provider)
    return inbox.store(
        session,
        inbox.Inbound(kind=f"tracking.{which.value}", source=f"tracking:{which.value}", body=body),
        actor=actor_of(which).label,
    )


def receive_webhook(
    session: Session, provider: str, body: bytes, headers: Mapping[str, str], inbox_id: int
) -> TrackingWebhookOut:
    """Check, read and apply a stored tracking webhook; what the provider is answered."""
    which = formats.provider_of(provider)
    signed = _check_signature(session, which, body, headers, inbox_id)
    try:
        update = formats.parse(which.value, body)
    except formats.NotATrackingEvent as exc:
        return _finish(session, inbox_id, "ignored", signed=signed, note=str(exc))
    status = TrackingStatus(update.status.value)
    package_ids = repository.package_ids_by_tracking_number(session, update.tracking_number)
    if not package_ids:
        return _finish(
            session,
            inbox_id,
            "unmatched",
            signed=signed,
            tracking_number=update.tracking_number,
            status=status,
        )
    applied = apply(session, update, package_ids, inbox_id=inbox_id, actor=actor_of(which))
    return _finish(
        session,
        inbox_id,
        "applied" if applied.changed else "duplicate",
        signed=signed,
        tracking_number=update.tracking_number,
        status=status,
        document_id=",".join(applied.shipments)[:100] or None,
        extra={"events_added": applied.events_added},
    )


def record_failure(session: Session, inbox_id: int, error: OmsError) -> None:
    """Note on the stored payload why it was not applied."""
    problems = (
        error.problems
        if isinstance(error, ValidationFailed)
        else [Problem("body", error.message, error.code)]
    )
    inbox.record_outcome(session, inbox_id, status=InboxStatus.FAILED, problems=problems)


def _check_signature(
    session: Session,
    provider: formats.TrackingProvider,
    body: bytes,
    headers: Mapping[str, str],
    inbox_id: int,
) -> bool:
    """Whether the webhook was signed; BadSignature when a secret is set and the signature
    is missing or wrong."""
    configured = repository.provider(session, provider.value)
    if configured is None or not configured.secret:
        log.warning("tracking_webhook_unsigned", provider=provider.value, inbox_id=inbox_id)
        return False
    if not formats.verify_signature(provider.value, body, headers, configured.secret):
        raise BadSignature(provider.value)
    return True


def _finish(
    session: Session,
    inbox_id: int,
    outcome: TrackingOutcome,
    *,
    signed: bool,
    tracking_number: str | None = None,
    status: TrackingStatus | None = None,
    document_id: str | None = None,
    note: str | None = None,
    extra: dict[str, Any] | None = None,
) -> TrackingWebhookOut:
    inbox.record_outcome(
        session,
        inbox_id,
        status=InboxStatus.DUPLICATE if outcome == "duplicate" else InboxStatus.ACCEPTED,
        document_id=document_id,
        outcome={
            "outcome": outcome,
            "signed": signed,
            "tracking_number": tracking_number,
            "status": status.value if status is not None else None,
            "note": note,
            **(extra or {}),
        },
    )
    return TrackingWebhookOut(
        outcome=outcome, tracking_number=tracking_number, status=status, inbox_id=inbox_id
    )


# -- applying an update ----------------------------------------------------------------


@dataclass(frozen=True)
class Applied:
    changed: bool
    """Whether anything new was kept: an event, or a package's status."""
    events_added: int
    shipments: list[str]
    """Numbers of the shipments the tracking number belongs to."""


def apply(
    session: Session,
    update: formats.TrackingUpdate,
    package_ids: Sequence[int],
    *,
    inbox_id: int | None,
    actor: Principal,
) -> Applied:
    """Apply a tracking update to the packages it names (their shipments locked first)."""
    shipments = repository.lock_shipments_of_packages(session, package_ids)
    every_package = repository.lock_packages_of_shipments(session, [s.id for s in shipments])
    named = set(package_ids)
    tracked = [p for p in every_package if p.id in named]
    events_added = repository.insert_events_once(
        session, _event_rows(update, tracked, inbox_id=inbox_id)
    )
    moved: list[tuple[ShipmentPackage, TrackingStatus]] = []
    for package in tracked:
        before = package.status
        if _move(package, update):
            moved.append((package, before))
    session.flush()

    by_shipment: dict[int, list[ShipmentPackage]] = {}
    for package in every_package:
        by_shipment.setdefault(package.shipment_id, []).append(package)
    for shipment in shipments:
        mine = [(p, before) for p, before in moved if p.shipment_id == shipment.id]
        _settle(session, shipment, by_shipment.get(shipment.id, []), mine, update, actor=actor)
    return Applied(
        changed=events_added > 0 or bool(moved),
        events_added=events_added,
        shipments=[s.number for s in shipments],
    )


def fingerprint(event: formats.TrackingEventData) -> str:
    """What makes two events the same event: status, time, description and location."""
    text = "|".join(
        (
            event.status.value,
            clock.as_utc(event.occurred_at).isoformat(),
            event.description or "",
            event.location or "",
        )
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _event_rows(
    update: formats.TrackingUpdate, packages: Sequence[ShipmentPackage], *, inbox_id: int | None
) -> list[dict[str, Any]]:
    now = clock.now()
    rows: dict[tuple[int, str], dict[str, Any]] = {}
    for package in packages:
        for event in update.events:
            key = (package.id, fingerprint(event))
            rows.setdefault(
                key,
                {
                    "package_id": package.id,
                    "provider": update.provider.value,
                    "status": event.status.value,
                    "raw_status": event.raw_status[:60],
                    "description": event.description,
                    "location": event.location[:200] if event.location else None,
                    "occurred_at": event.occurred_at,
                    "fingerprint": key[1],
                    "inbox_id": inbox_id,
                    "received_at": now,
                },
            )
    return list(rows.values())


def _move(package: ShipmentPackage, update: formats.TrackingUpdate) -> bool:
    """Bring the package to the update when the update is newer than what it shows;
    whether anything changed. An update without events carries no time: it only sets
    the status of a package that has none dated yet."""
    status = TrackingStatus(update.status.value)
    newest = update.events[-1] if update.events else None
    estimated = _estimated(update.estimated_delivery)
    if newest is None:
        if package.status_at is not None or package.status == status:
            return False
        at = None
    else:
        at = newest.occurred_at
        if package.status_at is not None and at <= package.status_at:
            if package.estimated_delivery is None and estimated is not None:
                package.estimated_delivery = estimated
            return False
    package.status = status
    if at is not None:
        package.status_at = at
    if estimated is not None:
        package.estimated_delivery = estimated
    if status == S.DELIVERED and package.delivered_at is None:
        delivered = [e for e in update.events if e.status.value == S.DELIVERED.value]
        package.delivered_at = delivered[-1].occurred_at if delivered else at or clock.now()
    return True


def _estimated(day: dt.date | None) -> dt.datetime | None:
    return dt.datetime.combine(day, dt.time(0), tzinfo=dt.UTC) if day is not None else None


def shipment_status(statuses: Sequence[TrackingStatus]) -> TrackingStatus:
    """The least advanced of its packages' statuses (pre_transit without packages)."""
    if not statuses:
        return S.PRE_TRANSIT
    return min((TrackingStatus(s) for s in statuses), key=SHIPMENT_ORDER.index)


def _settle(
    session: Session,
    shipment: Shipment,
    packages: Sequence[ShipmentPackage],
    moved: Sequence[tuple[ShipmentPackage, TrackingStatus]],
    update: formats.TrackingUpdate,
    *,
    actor: Principal,
) -> None:
    """The shipment after its packages moved: alerts, its status, and its delivery."""
    order: SalesOrder | None = None
    for package, before in moved:
        if package.status != before:
            audit.record(
                session,
                actor=actor.label,
                action="shipment.tracking_updated",
                entity_type="shipment",
                entity_id=shipment.number,
                before={"tracking_number": package.tracking_number, "status": str(before)},
                after={"tracking_number": package.tracking_number, "status": str(package.status)},
            )
        if package.status == S.EXCEPTION:
            order = order or orders.order_by_id(session, shipment.order_id)
            assert order is not None
            _exception(session, order, shipment, package, update, actor=actor)
        elif package.status == S.RETURNED_TO_SENDER and before != S.RETURNED_TO_SENDER:
            order = order or orders.order_by_id(session, shipment.order_id)
            assert order is not None
            _returned(session, order, shipment, package, update)
    shipment.status = shipment_status([p.status for p in packages])
    if shipment.status == S.DELIVERED and shipment.delivered_at is None:
        _deliver(session, shipment, packages, actor=actor)
    session.flush()


def _newest(update: formats.TrackingUpdate) -> dict[str, Any]:
    newest = update.events[-1] if update.events else None
    return {
        "description": newest.description if newest else None,
        "location": newest.location if newest else None,
        "occurred_at": newest.occurred_at.isoformat() if newest else None,
        "raw_status": newest.raw_status if newest else update.raw_status,
    }


def _exception(
    session: Session,
    order: SalesOrder,
    shipment: Shipment,
    package: ShipmentPackage,
    update: formats.TrackingUpdate,
    *,
    actor: Principal,
) -> None:
    """An alert: the package is in trouble (a failed attempt, a damaged parcel, …)."""
    details = {
        "shipment": shipment.number,
        "tracking_number": package.tracking_number,
        "carrier": shipment.carrier,
        **_newest(update),
    }
    outbox.record(
        session,
        "shipment.exception",
        {
            "channel_order_id": order.external_id,
            "order_id": order.id,
            "order_number": order.number,
            **details,
        },
        key=f"order:{order.number}",
    )
    timeline.record(session, order, "delivery_exception", actor=actor, data=details)


def _returned(
    session: Session,
    order: SalesOrder,
    shipment: Shipment,
    package: ShipmentPackage,
    update: formats.TrackingUpdate,
) -> None:
    """The carrier sends the package back; the return itself moves the order's units."""
    outbox.record(
        session,
        "shipment.returned_to_sender",
        {
            "channel_order_id": order.external_id,
            "order_id": order.id,
            "order_number": order.number,
            "shipment": shipment.number,
            "tracking_number": package.tracking_number,
            "carrier": shipment.carrier,
            **_newest(update),
        },
        key=f"order:{order.number}",
    )


def _deliver(
    session: Session, shipment: Shipment, packages: Sequence[ShipmentPackage], *, actor: Principal
) -> None:
    """Every package is delivered: the shipment's units move from shipped to delivered on
    the order's lines, the order's status is derived again, and `order.delivered` tells
    the channel, with the carrier and tracking numbers per line."""
    times = [p.delivered_at for p in packages if p.delivered_at is not None]
    shipment.delivered_at = max(times) if times else clock.now()
    order = orders.order_by_id(session, shipment.order_id, lock=True)
    assert order is not None
    order_lines = orders.lines_of(session, order.id)
    by_id = {line.id: line for line in order_lines}
    tracking = [p.tracking_number for p in packages]
    delivered = []
    for shipped in shipments_repository.lines_of_shipments(session, [shipment.id]):
        line = by_id[shipped.order_line_id]
        units = min(shipped.quantity, line.shipped)
        line.shipped -= units
        line.delivered += units
        delivered.append(
            {
                "line_number": line.line_number,
                "sku": line.sku,
                "quantity": units,
                "carrier": shipment.carrier,
                "tracking_numbers": tracking,
            }
        )
    session.flush()
    lifecycle.refresh(order, order_lines)
    timeline.record(
        session,
        order,
        "delivered",
        actor=actor,
        data={
            "shipment": shipment.number,
            "carrier": shipment.carrier,
            "scac": shipment.scac,
            "service": shipment.service,
            "tracking_numbers": tracking,
            "delivered_at": shipment.delivered_at.isoformat(),
            "lines": delivered,
        },
    )


# -- providers' secrets ----------------------------------------------------------------


def providers(session: Session) -> list[TrackingProviderOut]:
    """Every provider the webhook takes, with whether it must sign (the secret unshown)."""
    stored = {p.provider: p for p in repository.providers(session)}
    return [_provider_out(name.value, stored.get(name.value)) for name in formats.TrackingProvider]


def configure_provider(
    session: Session, provider: str, data: TrackingProviderIn, *, actor: Principal
) -> TrackingProviderOut:
    """Set (or, with null, clear) a provider's webhook secret; audited without the secret."""
    which = formats.provider_of(provider)
    found = repository.provider(session, which.value, lock=True)
    before = {"signed": bool(found and found.secret)}
    if found is None:
        found = TrackingProvider(provider=which.value, updated_by=actor.label)
    found.secret = data.secret
    found.updated_by = actor.label
    found.updated_at = clock.now()
    repository.add(session, found)
    audit.record(
        session,
        actor=actor.label,
        action="tracking.provider_configured",
        entity_type="tracking_provider",
        entity_id=which.value,
        before=before,
        after={"signed": data.secret is not None},
    )
    return _provider_out(which.value, found)


def _provider_out(name: str, found: TrackingProvider | None) -> TrackingProviderOut:
    return TrackingProviderOut(
        provider=name,
        signed=bool(found and found.secret),
        updated_by=found.updated_by if found else None,
        updated_at=found.updated_at if found else None,
    )
