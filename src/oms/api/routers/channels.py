"""Channels: `/api/v1/channels`, within the caller's channel scope."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from oms.api.deps import IfMatchDep, PageDep, SessionDep, require, set_etag
from oms.api.schemas import ListOf
from oms.auth.permissions import Permission
from oms.auth.principal import Principal
from oms.catalog import channel_warehouses, channels, repository
from oms.catalog.models import ChannelType
from oms.catalog.schemas import ChannelCreate, ChannelOut, ChannelUpdate, CurrencyCode

router = APIRouter(prefix="/api/v1/channels", tags=["channels"])

Reader = Annotated[Principal, Depends(require(Permission.CATALOG_READ))]
Writer = Annotated[Principal, Depends(require(Permission.CHANNELS_WRITE))]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_channel(
    body: ChannelCreate, tx: SessionDep, actor: Writer, response: Response
) -> ChannelOut:
    """Add a channel. 409 `catalog.channel_exists` when the code is taken."""
    channel = channels.create_channel(tx, body, actor=actor)
    set_etag(response, channel.version)
    response.headers["Location"] = f"/api/v1/channels/{channel.code}"
    return channels.shown(tx, channel, actor=actor)


@router.get("")
def list_channels(
    tx: SessionDep,
    actor: Reader,
    page: PageDep,
    q: Annotated[str | None, Query(description="part of the code or name")] = None,
    active: bool | None = None,
    type: ChannelType | None = None,
    currency: CurrencyCode | None = None,
) -> ListOf[ChannelOut]:
    """Channels in the caller's scope, filtered; sort by `code` (default), `name`, `updated_at`."""
    filters = repository.ChannelFilter(q=q, active=active, type=type, currency=currency)
    found = channels.search_channels(tx, filters, page, actor=actor)
    shown = channel_warehouses.channels_as_seen(tx, found.items, actor=actor)
    return ListOf(items=shown, next_cursor=found.next_cursor)


@router.get("/{code}")
def get_channel(code: str, tx: SessionDep, actor: Reader, response: Response) -> ChannelOut:
    """One channel, with its version as the ETag."""
    channel = channels.get_channel(tx, code, actor=actor)
    set_etag(response, channel.version)
    return channels.shown(tx, channel, actor=actor)


@router.patch("/{code}")
def update_channel(
    code: str,
    body: ChannelUpdate,
    tx: SessionDep,
    actor: Writer,
    version: IfMatchDep,
    response: Response,
) -> ChannelOut:
    """Change the fields sent (`{"active": false}` deactivates); If-Match guards lost updates."""
    channel = channels.update_channel(tx, code, body, actor=actor, expected_version=version)
    set_etag(response, channel.version)
    return channels.shown(tx, channel, actor=actor)
