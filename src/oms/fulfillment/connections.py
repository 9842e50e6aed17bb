"""A warehouse's WMS connection: where released work is pushed, and the release and
short-ship rules.

Pushing rides on the outbox: the connection owns a webhook subscription to the
warehouse's topics (`wms.<code>.*`), so a push is signed, retried with backoff,
dead-lettered and logged like every other webhook. Without a URL there is no
subscription and the WMS pulls released work.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from oms import audit
from oms.auth.principal import Principal
from oms.catalog import warehouses
from oms.catalog.models import Warehouse
from oms.errors import NotFound
from oms.fulfillment import repository
from oms.fulfillment.models import WmsConnection
from oms.fulfillment.schemas import ConnectionIn, ConnectionOut
from oms.kit import clock
from oms.outbox import subscriptions
from oms.outbox.schemas import SubscriptionCreate, SubscriptionUpdate

ENTITY = "wms_connection"


def topic_prefix(warehouse_code: str) -> str:
    """Topics a warehouse's WMS receives start with this (`wms.dal.`)."""
    return f"wms.{warehouse_code.lower()}."


class ConnectionNotFound(NotFound):
    def __init__(self, warehouse: str) -> None:
        super().__init__("wms connection", warehouse, code="fulfillment.connection_not_found")


def view(
    session: Session, connection: WmsConnection, warehouse: Warehouse, secret: str | None = None
) -> ConnectionOut:
    url = None
    if connection.subscription_id is not None:
        url = subscriptions.get_subscription(session, connection.subscription_id).url
    return ConnectionOut(
        warehouse=warehouse.code,
        url=url,
        release_mode=connection.release_mode,
        wave_times=list(connection.wave_times),
        short_ship=connection.short_ship,
        active=connection.active,
        topic=f"{topic_prefix(warehouse.code)}*",
        secret=secret,
        version=connection.version,
        updated_at=connection.updated_at,
    )


def get_connection(session: Session, warehouse_code: str, *, actor: Principal) -> ConnectionOut:
    warehouse = warehouses.get_warehouse(session, warehouse_code, actor=actor)
    connection = repository.connection_of(session, warehouse.id)
    if connection is None:
        raise ConnectionNotFound(warehouse.code)
    return view(session, connection, warehouse)


def configure(
    session: Session, warehouse_code: str, data: ConnectionIn, *, actor: Principal
) -> ConnectionOut:
    """Make or change a warehouse's connection; the answer carries the push secret when
    the push subscription was made or its secret rotated."""
    warehouse = warehouses.get_warehouse(session, warehouse_code, actor=actor)
    connection = repository.connection_of(session, warehouse.id, lock=True)
    now = clock.now()
    before = view(session, connection, warehouse).model_dump(mode="json") if connection else None
    if connection is None:
        connection = WmsConnection(
            warehouse_id=warehouse.id,
            subscription_id=None,
            release_mode=data.release_mode,
            wave_times=[],
            short_ship=data.short_ship,
            active=data.active,
            created_at=now,
            updated_at=now,
            version=0,
        )
        repository.add(session, connection)
    secret = _push(session, connection, warehouse, data, actor=actor)
    connection.release_mode = data.release_mode
    connection.wave_times = sorted(set(data.wave_times))
    connection.short_ship = data.short_ship
    connection.active = data.active
    connection.updated_at = now
    connection.version += 1
    session.flush()
    shown = view(session, connection, warehouse, secret)
    audit.record(
        session,
        actor=actor.label,
        action=f"{ENTITY}.{'created' if before is None else 'updated'}",
        entity_type=ENTITY,
        entity_id=warehouse.code,
        before=before,
        after=shown.model_dump(mode="json", exclude={"secret"}),
        note="secret rotated" if secret and before is not None else None,
    )
    return shown


def _push(
    session: Session,
    connection: WmsConnection,
    warehouse: Warehouse,
    data: ConnectionIn,
    *,
    actor: Principal,
) -> str | None:
    """Keep the push subscription in step with the URL; the new secret, if one was made."""
    topics = [f"{topic_prefix(warehouse.code)}*"]
    if data.url is None:
        if connection.subscription_id is not None:
            subscriptions.update_subscription(
                session,
                connection.subscription_id,
                SubscriptionUpdate(active=False),
                actor=actor.label,
            )
            connection.subscription_id = None
        return None
    if connection.subscription_id is None:
        subscription, secret = subscriptions.create_subscription(
            session,
            SubscriptionCreate(
                name=f"WMS {warehouse.code}", url=str(data.url), topics=topics, active=data.active
            ),
            actor=actor.label,
        )
        connection.subscription_id = subscription.id
        return secret
    _, rotated = subscriptions.update_subscription(
        session,
        connection.subscription_id,
        SubscriptionUpdate(
            url=str(data.url), topics=topics, active=data.active, rotate_secret=data.rotate_secret
        ),
        actor=actor.label,
    )
    return rotated


def remove(session: Session, warehouse_code: str, *, actor: Principal) -> None:
    """Drop a warehouse's connection (its push subscription is switched off, its
    deliveries kept); released work then waits to be pulled."""
    warehouse = warehouses.get_warehouse(session, warehouse_code, actor=actor)
    connection = repository.connection_of(session, warehouse.id, lock=True)
    if connection is None:
        raise ConnectionNotFound(warehouse.code)
    before = view(session, connection, warehouse).model_dump(mode="json")
    if connection.subscription_id is not None:
        subscriptions.update_subscription(
            session, connection.subscription_id, SubscriptionUpdate(active=False), actor=actor.label
        )
    repository.delete(session, connection)
    audit.record(
        session,
        actor=actor.label,
        action=f"{ENTITY}.deleted",
        entity_type=ENTITY,
        entity_id=warehouse.code,
        before=before,
    )
