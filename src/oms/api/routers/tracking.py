"""Tracking: `/api/v1/tracking`.

- `POST /api/v1/tracking/webhooks/{provider}` (public: providers do not send our API
  keys): an EasyPost- or AfterShip-shaped tracking webhook, kept raw in the inbox first,
  then checked against the provider's signature when an admin set a secret, and applied
  to the packages with its tracking number. Answered 200 whatever became of it
  (`applied`, `duplicate`, `unmatched`, `ignored`), since providers send again whatever
  is not answered 2xx; 401 on a bad signature, 422 on a payload that cannot be read,
  404 for a provider this API does not know.
- `GET /api/v1/tracking/providers` and `PUT …/providers/{provider}`: the providers'
  webhook secrets (admins); a secret is never shown back.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from oms.api.deps import SessionDep, database, public, require
from oms.api.raw_first import take_stored
from oms.auth.permissions import Permission
from oms.auth.principal import Principal
from oms.db import Database
from oms.fulfillment import tracking
from oms.fulfillment.schemas import TrackingProviderIn, TrackingProviderOut, TrackingWebhookOut

router = APIRouter(prefix="/api/v1/tracking", tags=["tracking"])

Configurer = Annotated[Principal, Depends(require(Permission.TRACKING_CONFIGURE))]
DatabaseDep = Annotated[Database, Depends(database)]

_ANY_JSON = {"requestBody": {"required": True, "content": {"application/json": {"schema": {}}}}}


async def raw_body(request: Request) -> bytes:
    return await request.body()


RawBody = Annotated[bytes, Depends(raw_body)]


@router.post("/webhooks/{provider}", dependencies=[Depends(public())], openapi_extra=_ANY_JSON)
def receive_webhook(
    provider: str, raw: RawBody, request: Request, db: DatabaseDep
) -> TrackingWebhookOut:
    """A provider's tracking webhook (`easypost` or `aftership`), stored raw, then applied:
    `applied`, `duplicate`, `unmatched` or `ignored`."""
    return _take(db, provider, raw, dict(request.headers))


def _take(db: Database, provider: str, raw: bytes, headers: dict[str, str]) -> TrackingWebhookOut:
    """Store the webhook raw, then apply it; a failure is noted on the stored payload."""
    body = raw.decode("utf-8", errors="replace")
    return take_stored(
        db,
        lambda session: tracking.store(session, provider, body),
        lambda session, inbox_id: tracking.receive_webhook(
            session, provider, raw, headers, inbox_id
        ),
        tracking.record_failure,
    )


@router.get("/providers")
def list_providers(tx: SessionDep, actor: Configurer) -> list[TrackingProviderOut]:
    """Every tracking provider, with whether its webhooks must be signed."""
    return tracking.providers(tx)


@router.put("/providers/{provider}")
def configure_provider(
    provider: str, data: TrackingProviderIn, tx: SessionDep, actor: Configurer
) -> TrackingProviderOut:
    """Set a provider's webhook secret (null: accept unsigned webhooks, logged as such)."""
    return tracking.configure_provider(tx, provider, data, actor=actor)
