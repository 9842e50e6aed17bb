"""The WMS side of the API (docs/WMS.md) and warehouses' WMS connections.

- `POST /api/v1/fulfillment-orders/{id}/ack | status | shipments`: messages from a
  warehouse's WMS, each stored raw in the inbox first, then applied once per message id.
- `POST /api/v1/fulfillment-orders/{id}/release` and `…/release-due`: release by hand.
- `PUT | GET | DELETE /api/v1/warehouses/{code}/wms-connection`: where released work is
  pushed, and the release and short-ship rules.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response, status

from oms.api.deps import SessionDep, database, require, require_standalone
from oms.api.raw_first import take_stored
from oms.auth.permissions import Permission
from oms.auth.principal import Principal
from oms.db import Database
from oms.fulfillment import connections, messages, release
from oms.fulfillment.messages import Kind
from oms.fulfillment.schemas import (
    AckIn,
    ConnectionIn,
    ConnectionOut,
    MessageOut,
    ReleasedOut,
    ShipmentIn,
    StatusIn,
)
from oms.routing import service as routing
from oms.routing.schemas import FulfillmentOrderOut

router = APIRouter(prefix="/api/v1", tags=["wms"])

Reporter = Annotated[Principal, Depends(require_standalone(Permission.WMS_REPORT))]
Releaser = Annotated[Principal, Depends(require(Permission.FULFILLMENT_RELEASE))]
Configurer = Annotated[Principal, Depends(require(Permission.FULFILLMENT_CONFIGURE))]
DatabaseDep = Annotated[Database, Depends(database)]
FulfillmentKey = Annotated[str, Path(description="its id, or its number (FO-000123)")]


async def raw_body(request: Request) -> bytes:
    return await request.body()


RawBody = Annotated[bytes, Depends(raw_body)]


def _key(text: str) -> int | str:
    return int(text) if text.isdigit() else text


def _take(db: Database, kind: Kind, key: str, raw: bytes, actor: Principal) -> MessageOut:
    """Store the message raw, then apply it; a failure is noted on the stored message."""
    body = raw.decode("utf-8", errors="replace")
    return take_stored(
        db,
        lambda session: messages.store(session, kind, key, body, actor=actor),
        lambda session, inbox_id: messages.process(
            session, inbox_id, kind, _key(key), body, actor=actor
        ),
        messages.record_failure,
    )


def _body(model: Any) -> dict[str, Any]:
    schema = model.model_json_schema()
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


@router.post("/fulfillment-orders/{fulfillment_order}/ack", openapi_extra=_body(AckIn))
def acknowledge(
    fulfillment_order: FulfillmentKey, raw: RawBody, actor: Reporter, db: DatabaseDep
) -> MessageOut:
    """The WMS accepts the work (`accepted: true`), or rejects it with a reason: its units
    go back to routing without this warehouse."""
    return _take(db, Kind.ACK, fulfillment_order, raw, actor)


@router.post("/fulfillment-orders/{fulfillment_order}/status", openapi_extra=_body(StatusIn))
def report_status(
    fulfillment_order: FulfillmentKey, raw: RawBody, actor: Reporter, db: DatabaseDep
) -> MessageOut:
    """`picking` or `packed`; a status older than the fulfillment order's is ignored."""
    return _take(db, Kind.STATUS, fulfillment_order, raw, actor)


@router.post("/fulfillment-orders/{fulfillment_order}/shipments", openapi_extra=_body(ShipmentIn))
def ship(
    fulfillment_order: FulfillmentKey, raw: RawBody, actor: Reporter, db: DatabaseDep
) -> MessageOut:
    """What left the warehouse: packages and lines. Consumes the reservations; a final
    shipment short of units sends the rest to routing or backorder, by the warehouse's
    rule."""
    return _take(db, Kind.SHIPMENT, fulfillment_order, raw, actor)


@router.post("/fulfillment-orders/release-due")
def release_due(tx: SessionDep, actor: Releaser) -> ReleasedOut:
    """Release now what the warehouses' release rules make due, of the key's warehouses and
    channels (the worker does this on every tick)."""
    return ReleasedOut(released=release.release_due(tx, actor=actor))


@router.post("/fulfillment-orders/{fulfillment_order}/release")
def release_one(
    fulfillment_order: FulfillmentKey, tx: SessionDep, actor: Releaser
) -> FulfillmentOrderOut:
    """Release one planned fulfillment order now, whatever its warehouse's rule; 409 when
    its order is on hold."""
    fo = release.release_one(tx, _key(fulfillment_order), actor=actor)
    return routing.fulfillment_views(tx, [fo])[0]


@router.put("/warehouses/{code}/wms-connection")
def configure_connection(
    code: str, data: ConnectionIn, tx: SessionDep, actor: Configurer
) -> ConnectionOut:
    """Make or change the warehouse's WMS connection; the push secret is shown once."""
    return connections.configure(tx, code, data, actor=actor)


@router.get("/warehouses/{code}/wms-connection")
def get_connection(code: str, tx: SessionDep, actor: Configurer) -> ConnectionOut:
    return connections.get_connection(tx, code, actor=actor)


@router.delete("/warehouses/{code}/wms-connection", status_code=status.HTTP_204_NO_CONTENT)
def delete_connection(code: str, tx: SessionDep, actor: Configurer) -> Response:
    connections.remove(tx, code, actor=actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
