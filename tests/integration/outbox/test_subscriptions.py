"""Webhook subscriptions: made with a secret, changed with audit rows, secrets rotated."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from oms.audit import AuditEntry
from oms.db import Database
from oms.errors import PreconditionFailed
from oms.outbox import subscriptions
from oms.outbox.schemas import SubscriptionCreate, SubscriptionUpdate

HOOK = SubscriptionCreate(url="https://hooks.example.com/oms", topics=["order.*"])


def audit_rows(db: Database) -> list[tuple[str, str | None]]:
    with db.transaction() as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        return [(r.action, r.note) for r in rows]


def test_a_new_subscription_gets_a_standard_webhooks_secret_and_an_audit_row(
    db: Database,
) -> None:
    with db.transaction() as session:
        subscription, secret = subscriptions.create_subscription(session, HOOK, actor="user:a")

    assert secret.startswith("whsec_")
    assert subscription.name == "hooks.example.com"
    assert audit_rows(db) == [("webhook_subscription.created", None)]


def test_the_audit_trail_never_holds_the_secret(db: Database) -> None:
    with db.transaction() as session:
        _, secret = subscriptions.create_subscription(session, HOOK, actor="user:a")

    with db.transaction() as session:
        [entry] = session.scalars(select(AuditEntry))
        assert secret not in repr(entry.after)
        assert "secret" not in (entry.after or {})


def test_rotating_the_secret_replaces_it_and_raises_the_version(db: Database) -> None:
    with db.transaction() as session:
        subscription, old = subscriptions.create_subscription(session, HOOK, actor="user:a")

    with db.transaction() as session:
        rotated, new = subscriptions.update_subscription(
            session, subscription.id, SubscriptionUpdate(rotate_secret=True), actor="user:a"
        )

    assert new is not None
    assert new != old
    assert (rotated.secret, rotated.version) == (new, 2)
    assert audit_rows(db)[-1] == ("webhook_subscription.updated", "secret rotated")


def test_an_update_that_changes_nothing_writes_nothing(db: Database) -> None:
    with db.transaction() as session:
        subscription, _ = subscriptions.create_subscription(session, HOOK, actor="user:a")

    with db.transaction() as session:
        same, secret = subscriptions.update_subscription(
            session, subscription.id, SubscriptionUpdate(topics=["order.*"]), actor="user:a"
        )

    assert (same.version, secret) == (1, None)
    assert len(audit_rows(db)) == 1


def test_an_update_against_an_old_version_is_refused(db: Database) -> None:
    with db.transaction() as session:
        subscription, _ = subscriptions.create_subscription(session, HOOK, actor="user:a")
    with db.transaction() as session:
        subscriptions.update_subscription(
            session, subscription.id, SubscriptionUpdate(active=False), actor="user:a"
        )

    with pytest.raises(PreconditionFailed) as refused, db.transaction() as session:
        subscriptions.update_subscription(
            session,
            subscription.id,
            SubscriptionUpdate(active=True),
            actor="user:a",
            expected_version=1,
        )

    assert refused.value.code == "webhooks.version_mismatch"
