"""The links between channels and warehouses, edited from either side, within scope."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from oms.auth.permissions import Role
from oms.auth.principal import SYSTEM, Principal
from oms.catalog import channels, warehouses
from oms.catalog.schemas import ChannelCreate, ChannelUpdate, WarehouseCreate, WarehouseUpdate
from oms.db import Database
from oms.errors import ValidationFailed
from tests.integration.catalog import factories


@pytest.fixture
def session(db: Database) -> Iterator[Session]:
    with db.transaction() as tx:
        yield tx


def scoped(*, channels: set[str] | None = None, warehouses: set[str] | None = None) -> Principal:
    return Principal(
        kind="api_key",
        id=7,
        name="scoped",
        roles=frozenset({Role.ADMIN}),
        channels=frozenset(channels) if channels is not None else None,
        warehouses=frozenset(warehouses) if warehouses is not None else None,
    )


def add_warehouses(session: Session, *codes: str) -> None:
    for code in codes:
        warehouses.create_warehouse(
            session, WarehouseCreate.model_validate(factories.warehouse(code)), actor=SYSTEM
        )


def add_channel(session: Session, code: str = "web", *, serving: list[str]) -> None:
    data = ChannelCreate.model_validate(factories.channel(code, warehouses=serving))
    channels.create_channel(session, data, actor=SYSTEM)


def serving(session: Session, code: str = "web") -> list[str]:
    return channels.shown(
        session, channels.get_channel(session, code, actor=SYSTEM), actor=SYSTEM
    ).warehouses


def test_a_channel_lists_its_warehouses_in_the_order_given(session: Session) -> None:
    add_warehouses(session, "ATL", "DAL", "RNO")

    add_channel(session, serving=["RNO", "ATL", "DAL"])

    assert serving(session) == ["RNO", "ATL", "DAL"]


def test_a_warehouse_lists_the_channels_it_serves_by_code(session: Session) -> None:
    add_warehouses(session, "DAL")
    add_channel(session, "web", serving=["DAL"])
    add_channel(session, "amazon", serving=["DAL"])

    warehouse = warehouses.get_warehouse(session, "DAL", actor=SYSTEM)

    assert warehouses.shown(session, warehouse, actor=SYSTEM).channels == ["amazon", "web"]


def test_reordering_a_channels_warehouses_leaves_the_warehouses_untouched(
    session: Session,
) -> None:
    add_warehouses(session, "ATL", "DAL")
    add_channel(session, serving=["ATL", "DAL"])

    channels.update_channel(session, "web", ChannelUpdate(warehouses=["DAL", "ATL"]), actor=SYSTEM)

    assert serving(session) == ["DAL", "ATL"]
    assert warehouses.get_warehouse(session, "ATL", actor=SYSTEM).version == 2
    assert factories.audit_actions(session, "warehouse", "ATL") == [
        "warehouse.created",
        "warehouse.updated",
    ]


def test_dropping_a_channel_from_a_warehouse_raises_the_channels_version(
    session: Session,
) -> None:
    add_warehouses(session, "DAL")
    add_channel(session, serving=["DAL"])

    warehouses.update_warehouse(session, "DAL", WarehouseUpdate(channels=[]), actor=SYSTEM)

    channel = channels.get_channel(session, "web", actor=SYSTEM)
    assert channel.version == 2
    assert serving(session) == []
    assert factories.event_topics(session, "channel:web") == ["channel.created", "channel.updated"]


def test_sending_the_same_links_again_changes_nothing(session: Session) -> None:
    add_warehouses(session, "DAL")
    add_channel(session, serving=["DAL"])

    channels.update_channel(session, "web", ChannelUpdate(warehouses=["DAL"]), actor=SYSTEM)
    warehouses.update_warehouse(session, "DAL", WarehouseUpdate(channels=["web"]), actor=SYSTEM)

    assert channels.get_channel(session, "web", actor=SYSTEM).version == 1
    assert factories.audit_actions(session, "channel", "web") == ["channel.created"]


def test_a_scoped_principals_edit_keeps_the_links_beyond_its_scope(session: Session) -> None:
    add_warehouses(session, "ATL", "DAL")
    add_channel(session, "web", serving=["ATL", "DAL"])
    add_channel(session, "amazon", serving=["DAL"])
    actor = scoped(channels={"web"})

    warehouses.update_warehouse(session, "DAL", WarehouseUpdate(channels=[]), actor=actor)

    dal = warehouses.get_warehouse(session, "DAL", actor=SYSTEM)
    assert warehouses.shown(session, dal, actor=SYSTEM).channels == ["amazon"]
    assert warehouses.shown(session, dal, actor=actor).channels == []


def test_a_channel_beyond_the_scope_is_reported_as_unknown(session: Session) -> None:
    add_warehouses(session, "DAL")
    add_channel(session, "amazon", serving=[])

    with pytest.raises(ValidationFailed) as refused:
        warehouses.update_warehouse(
            session, "DAL", WarehouseUpdate(channels=["amazon"]), actor=scoped(channels={"web"})
        )

    assert [p.path for p in refused.value.problems] == ["channels[0]"]


def test_a_warehouse_naming_an_unknown_channel_is_not_created(session: Session) -> None:
    data = WarehouseCreate.model_validate(factories.warehouse("DAL", channels=["nope"]))

    with pytest.raises(ValidationFailed):
        warehouses.create_warehouse(session, data, actor=SYSTEM)

    assert factories.audit_actions(session, "warehouse", "DAL") == []
    with pytest.raises(warehouses.WarehouseNotFound):
        warehouses.get_warehouse(session, "DAL", actor=SYSTEM)
