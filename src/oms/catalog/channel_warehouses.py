"""Which warehouses serve which channels: one set of links, edited from either side.

A channel lists its warehouses in rank order (`warehouses: ["DAL", "ATL"]`); a
warehouse lists the channels it serves by code. Changing the links from one
side changes how the other side reads, so the other side's version rises too
and it gets its own audit row and `<entity>.updated` event.

A scoped principal sees only the links within its scope and changes only
those: links to warehouses or channels it cannot see are kept as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

from sqlalchemy.orm import Session

from oms.auth.principal import Principal
from oms.catalog import records, repository
from oms.catalog.models import Channel, Warehouse
from oms.catalog.schemas import ChannelOut, WarehouseOut
from oms.errors import Problem, ValidationFailed

# -- how each side reads ---------------------------------------------------------------


def warehouse_out(warehouse: Warehouse, channels: list[str]) -> WarehouseOut:
    """The warehouse's API shape, listing `channels` as the channels it serves."""
    return records.shape(WarehouseOut, warehouse, channels=channels)


def channel_out(channel: Channel, warehouses: list[str]) -> ChannelOut:
    """The channel's API shape, listing `warehouses` as the warehouses serving it."""
    return records.shape(ChannelOut, channel, warehouses=warehouses)


def warehouse_view(session: Session, warehouse: Warehouse) -> dict[str, Any]:
    """A warehouse with every channel it serves, as the audit trail and events show it."""
    channels = repository.channel_codes_by_warehouse(session, [warehouse.id])[warehouse.id]
    return warehouse_out(warehouse, channels).model_dump(mode="json")


def channel_view(session: Session, channel: Channel) -> dict[str, Any]:
    """A channel with every warehouse serving it, as the audit trail and events show it."""
    warehouses = repository.warehouse_codes_by_channel(session, [channel.id])[channel.id]
    return channel_out(channel, warehouses).model_dump(mode="json")


def warehouses_as_seen(
    session: Session, found: Sequence[Warehouse], *, actor: Principal
) -> list[WarehouseOut]:
    """Warehouses as `actor` may see them: only the channels in its scope are listed."""
    codes = repository.channel_codes_by_warehouse(
        session, [w.id for w in found], scope=actor.channels
    )
    return [warehouse_out(w, codes[w.id]) for w in found]


def channels_as_seen(
    session: Session, found: Sequence[Channel], *, actor: Principal
) -> list[ChannelOut]:
    """Channels as `actor` may see them: only the warehouses in its scope are listed."""
    codes = repository.warehouse_codes_by_channel(
        session, [c.id for c in found], scope=actor.warehouses
    )
    return [channel_out(c, codes[c.id]) for c in found]


# -- changing the links ----------------------------------------------------------------


def set_warehouses_of_channel(
    session: Session, channel: Channel, codes: list[str], *, actor: Principal
) -> None:
    """Make `codes`, in this order, the warehouses serving `channel` (within `actor`'s scope).

    Warehouses outside the scope keep their links and go after the listed ones.
    """
    known = check_warehouses(session, codes, actor=actor)
    current = repository.links_of_channel(session, channel.id)
    kept = [link.warehouse_id for link, code in current if not actor.sees_warehouse(code)]
    order = [known[code].id for code in codes] + kept
    before_order = [link.warehouse_id for link, _ in current]
    if order == before_order:
        return
    touched = repository.warehouses_by_ids(session, set(order) ^ set(before_order))
    befores = {w.id: warehouse_view(session, w) for w in touched}
    repository.replace_links_of_channel(session, channel.id, order)
    session.flush()
    for warehouse in touched:
        records.record_change(
            session,
            warehouse,
            befores[warehouse.id],
            entity="warehouse",
            key=warehouse.code,
            view=partial(warehouse_view, session, warehouse),
            actor=actor,
        )


def set_channels_of_warehouse(
    session: Session, warehouse: Warehouse, codes: list[str], *, actor: Principal
) -> None:
    """Make `codes` the channels `warehouse` serves (within `actor`'s scope).

    A channel newly served puts the warehouse last in its rank order; channels
    outside the scope keep their links.
    """
    known = check_channels(session, codes, actor=actor)
    current = [
        code
        for _, code in repository.links_of_warehouse(session, warehouse.id)
        if actor.sees_channel(code)
    ]
    added = [known[code] for code in codes if code not in current]
    removed = list(repository.channels_by_codes(session, set(current) - set(codes)).values())
    if not added and not removed:
        return
    touched = sorted([*added, *removed], key=lambda c: c.code)
    befores = {c.id: channel_view(session, c) for c in touched}
    for channel in removed:
        repository.unlink(session, channel_id=channel.id, warehouse_id=warehouse.id)
    for channel in added:
        rank = repository.last_rank(session, channel.id) + 1
        repository.link(session, channel_id=channel.id, warehouse_id=warehouse.id, rank=rank)
    session.flush()
    for channel in touched:
        records.record_change(
            session,
            channel,
            befores[channel.id],
            entity="channel",
            key=channel.code,
            view=partial(channel_view, session, channel),
            actor=actor,
        )


def check_warehouses(
    session: Session, codes: list[str], *, actor: Principal
) -> dict[str, Warehouse]:
    """The warehouses these codes name, or a problem at `warehouses[i]` for each unknown one.

    A warehouse outside `actor`'s scope counts as unknown.
    """
    known = repository.warehouses_by_codes(session, codes)
    _refuse_unknown(
        codes, known, field="warehouses", kind="warehouse", visible=actor.sees_warehouse
    )
    return known


def check_channels(session: Session, codes: list[str], *, actor: Principal) -> dict[str, Channel]:
    """The channels these codes name, or a problem at `channels[i]` for each unknown one.

    A channel outside `actor`'s scope counts as unknown.
    """
    known = repository.channels_by_codes(session, codes)
    _refuse_unknown(codes, known, field="channels", kind="channel", visible=actor.sees_channel)
    return known


def _refuse_unknown(
    codes: list[str],
    known: Mapping[str, object],
    *,
    field: str,
    kind: str,
    visible: Callable[[str], bool],
) -> None:
    """A problem at `field[i]` for each code that names nothing the actor may see."""
    problems = [
        Problem(f"{field}[{i}]", f"no {kind} has the code {code!r}", "unknown_code")
        for i, code in enumerate(codes)
        if code not in known or not visible(code)
    ]
    if problems:
        raise ValidationFailed(problems)
