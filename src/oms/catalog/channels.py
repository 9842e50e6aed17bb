"""Channels: create, read, update, deactivate, search, within the actor's scope.

A principal scoped to some channels sees and changes only those; any other
channel answers as if it did not exist.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import Any

from sqlalchemy.orm import Session

from oms.auth.principal import Principal
from oms.catalog import channel_warehouses, records, repository
from oms.catalog.models import Channel
from oms.catalog.schemas import ChannelCreate, ChannelOut, ChannelUpdate
from oms.errors import Conflict, NotFound, PermissionDenied
from oms.kit.paging import Page, PageRequest


class ChannelNotFound(NotFound):
    def __init__(self, code: str) -> None:
        super().__init__("channel", code, code="catalog.channel_not_found")


class ChannelExists(Conflict):
    def __init__(self, code: str) -> None:
        super().__init__(
            f"channel {code} already exists", code="catalog.channel_exists", channel=code
        )


def view(session: Session, channel: Channel) -> dict[str, Any]:
    """A channel as the audit trail and events show it: every warehouse serving it."""
    return channel_warehouses.channel_view(session, channel)


def shown(session: Session, channel: Channel, *, actor: Principal) -> ChannelOut:
    """A channel as `actor` sees it: only the warehouses in its scope."""
    return channel_warehouses.channels_as_seen(session, [channel], actor=actor)[0]


def create_channel(session: Session, data: ChannelCreate, *, actor: Principal) -> Channel:
    """Add a channel and the warehouses serving it, in rank order; its code must be new."""
    if not actor.sees_channel(data.code):
        raise PermissionDenied(
            f"{actor.label} is scoped to other channels and may not add {data.code}",
            code="catalog.out_of_scope",
            channel=data.code,
        )
    if data.warehouses:
        channel_warehouses.check_warehouses(session, data.warehouses, actor=actor)
    channel = Channel(**data.model_dump(exclude_none=True, exclude={"warehouses"}))
    records.add_new(session, channel, exists=lambda: ChannelExists(data.code))
    if data.warehouses:
        channel_warehouses.set_warehouses_of_channel(session, channel, data.warehouses, actor=actor)
    records.record_created(
        session, entity="channel", key=channel.code, view=view(session, channel), actor=actor
    )
    return channel


def get_channel(session: Session, code: str, *, actor: Principal, lock: bool = False) -> Channel:
    """The channel with this code, active or not, if `actor` may see it; `lock` holds it."""
    code = code.strip()
    visible = actor.sees_channel(code)
    channel = repository.channel_by_code(session, code, lock=lock) if visible else None
    if channel is None:
        raise ChannelNotFound(code)
    return channel


def update_channel(
    session: Session,
    code: str,
    data: ChannelUpdate,
    *,
    actor: Principal,
    expected_version: int | None = None,
) -> Channel:
    """Change the fields sent; `warehouses` replaces the serving warehouses and their order."""
    channel = get_channel(session, code, actor=actor, lock=True)
    changes = data.model_dump(exclude_unset=True)
    warehouses = changes.pop("warehouses", None)
    _, updates = records.merge(channel, changes, schema=ChannelCreate, exclude={"warehouses"})
    if warehouses is not None:
        channel_warehouses.check_warehouses(session, warehouses, actor=actor)
    records.check_version(channel, expected_version, entity=f"channel {channel.code}")
    before = view(session, channel)
    for name, value in updates.items():
        setattr(channel, name, value)
    if warehouses is not None:
        channel_warehouses.set_warehouses_of_channel(session, channel, warehouses, actor=actor)
    records.record_change(
        session,
        channel,
        before,
        entity="channel",
        key=channel.code,
        view=partial(view, session, channel),
        actor=actor,
    )
    return channel


def search_channels(
    session: Session, filters: repository.ChannelFilter, page: PageRequest, *, actor: Principal
) -> Page[Channel]:
    """Channels matching `filters` that `actor` may see, one page at a time."""
    return repository.search_channels(session, replace(filters, codes=actor.channels), page)
