"""A payload stored raw is never left looking as if it were still waiting."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from oms.db import Database
from oms.fulfillment import messages
from oms.inbox.models import InboxMessage
from tests.conftest import AuthHeaders


def test_an_unexpected_failure_is_noted_on_the_stored_payload(
    db: Database, client: TestClient, auth_headers: AuthHeaders, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(messages, "process", broken)

    with pytest.raises(RuntimeError):
        client.post(
            "/api/v1/fulfillment-orders/FO-000001/ack",
            json={"message_id": "a1", "accepted": True},
            headers=auth_headers("warehouse"),
        )

    with db.transaction() as session:
        [kept] = session.scalars(select(InboxMessage))
        assert kept.status == "failed"
        assert kept.errors[0]["code"] == "internal_error"
