"""A principal's scope as ids: which warehouses and channels a list may show, and whether
one record (of a warehouse, for a channel) is visible. Outside the scope a record does not
exist: the callers answer 404, never 403, so a scoped key learns nothing of the rest."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from oms.auth.principal import Principal
from oms.catalog import repository as catalog


@dataclass(frozen=True)
class ScopeIds:
    warehouse_ids: frozenset[int] | None
    """The warehouses a list may show; None: every one."""
    channel_ids: frozenset[int] | None
    """The channels a list may show; None: every one."""


def scope_ids(session: Session, actor: Principal, *, warehouse: str | None = None) -> ScopeIds:
    """The ids a list filters by: the warehouse asked for (none when it is outside the
    scope or unknown) or the actor's warehouses, and the actor's channels."""
    warehouse_ids: frozenset[int] | None = None
    if warehouse is not None:
        code = warehouse.strip().upper()
        named = catalog.warehouses_by_codes(session, [code])
        visible = code in named and actor.sees_warehouse(code)
        warehouse_ids = frozenset({named[code].id}) if visible else frozenset()
    elif actor.warehouses is not None:
        scoped = catalog.warehouses_by_codes(session, actor.warehouses)
        warehouse_ids = frozenset(w.id for w in scoped.values())
    channel_ids: frozenset[int] | None = None
    if actor.channels is not None:
        channel_ids = frozenset(
            c.id for c in catalog.channels_by_codes(session, actor.channels).values()
        )
    return ScopeIds(warehouse_ids=warehouse_ids, channel_ids=channel_ids)


def sees(
    session: Session, actor: Principal, *, warehouse_id: int | None, channel_id: int | None
) -> bool:
    """Whether the actor's scope covers a record of `warehouse_id` for `channel_id`; a
    record without one of them is outside a scope that limits it."""
    if actor.warehouses is not None:
        found = catalog.warehouses_by_ids(session, [warehouse_id] if warehouse_id else [])
        if not found or not actor.sees_warehouse(found[0].code):
            return False
    if actor.channels is not None:
        channels = catalog.channels_by_ids(session, [channel_id] if channel_id else [])
        if not channels or not actor.sees_channel(channels[0].code):
            return False
    return True
