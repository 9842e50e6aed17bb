"""Channel services against the real database: scope and search."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from oms.auth.permissions import Role
from oms.auth.principal import SYSTEM, Principal
from oms.catalog import channels, repository
from oms.catalog.schemas import ChannelCreate, ChannelUpdate
from oms.db import Database
from oms.errors import PermissionDenied
from oms.kit.paging import PageRequest
from tests.integration.catalog import factories

WEB_ONLY = Principal(
    kind="api_key", id=5, name="web", roles=frozenset({Role.ADMIN}), channels=frozenset({"web"})
)


@pytest.fixture
def session(db: Database) -> Iterator[Session]:
    with db.transaction() as tx:
        yield tx


def add(session: Session, code: str, **overrides: object) -> None:
    channels.create_channel(
        session, ChannelCreate.model_validate(factories.channel(code, **overrides)), actor=SYSTEM
    )


def test_a_new_channel_is_audited_and_announced(session: Session) -> None:
    add(session, "web")

    assert factories.audit_actions(session, "channel", "web") == ["channel.created"]
    assert factories.event_topics(session, "channel:web") == ["channel.created"]


def test_a_search_shows_only_the_channels_in_scope(session: Session) -> None:
    add(session, "amazon")
    add(session, "web")

    found = channels.search_channels(
        session, repository.ChannelFilter(), PageRequest(), actor=WEB_ONLY
    )

    assert [c.code for c in found.items] == ["web"]


def test_a_search_by_currency_finds_the_channels_selling_in_it(session: Session) -> None:
    add(session, "web")
    add(session, "web-eu", currency="EUR")

    found = channels.search_channels(
        session, repository.ChannelFilter(currency="EUR"), PageRequest(), actor=SYSTEM
    )

    assert [c.code for c in found.items] == ["web-eu"]


def test_reactivating_a_channel_is_audited_as_such(session: Session) -> None:
    add(session, "web")
    channels.update_channel(session, "web", ChannelUpdate(active=False), actor=SYSTEM)

    channels.update_channel(session, "web", ChannelUpdate(active=True), actor=SYSTEM)

    assert factories.audit_actions(session, "channel", "web") == [
        "channel.created",
        "channel.deactivated",
        "channel.reactivated",
    ]


def test_a_scoped_principal_may_not_add_a_channel_beyond_its_scope(session: Session) -> None:
    data = ChannelCreate.model_validate(factories.channel("amazon"))

    with pytest.raises(PermissionDenied):
        channels.create_channel(session, data, actor=WEB_ONLY)
