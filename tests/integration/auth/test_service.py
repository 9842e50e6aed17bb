"""Users, API keys and authentication against the real database."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from oms.audit import AuditEntry
from oms.auth import repository, service
from oms.auth.permissions import Role
from oms.auth.principal import CLI_OPERATOR, SYSTEM
from oms.db import Database
from oms.errors import Conflict, Unauthenticated, ValidationFailed

PASSWORD = "correct horse battery"


def test_a_user_password_is_stored_as_an_argon2id_hash(db: Database) -> None:
    with db.transaction() as session:
        user = service.create_user(
            session, username="Ada", password=PASSWORD, roles=["sales_ops"], actor=SYSTEM
        )

    assert user.username == "ada"
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def test_the_right_password_gives_the_users_principal(db: Database) -> None:
    with db.transaction() as session:
        service.create_user(
            session,
            username="ada",
            password=PASSWORD,
            roles=["purchasing"],
            warehouses=["DAL"],
            actor=SYSTEM,
        )

    with db.transaction() as session:
        principal = service.verify_password(session, username="ada", password=PASSWORD)

    assert principal.roles == frozenset({Role.PURCHASING})
    assert principal.warehouses == frozenset({"DAL"})


def test_a_wrong_password_is_refused(db: Database) -> None:
    with db.transaction() as session:
        service.create_user(
            session, username="ada", password=PASSWORD, roles=["viewer"], actor=SYSTEM
        )

    with db.transaction() as session, pytest.raises(Unauthenticated):
        service.verify_password(session, username="ada", password="wrong password!!")


def test_a_short_password_and_an_unknown_role_are_both_reported(db: Database) -> None:
    with db.transaction() as session, pytest.raises(ValidationFailed) as raised:
        service.create_user(session, username="ada", password="short", roles=["boss"], actor=SYSTEM)

    assert [p.path for p in raised.value.problems] == ["password", "roles[0]"]


def test_an_unknown_role_is_named(db: Database) -> None:
    with db.transaction() as session, pytest.raises(ValidationFailed) as raised:
        service.create_user(
            session, username="ada", password=PASSWORD, roles=["viewer", "boss"], actor=SYSTEM
        )

    assert [p.path for p in raised.value.problems] == ["roles[1]"]


def test_a_username_is_taken_once(db: Database) -> None:
    with db.transaction() as session:
        service.create_user(
            session, username="ada", password=PASSWORD, roles=["viewer"], actor=SYSTEM
        )

    with db.transaction() as session, pytest.raises(Conflict):
        service.create_user(
            session, username="ADA", password=PASSWORD, roles=["viewer"], actor=SYSTEM
        )


def test_an_api_key_keeps_only_a_hash_of_its_secret(db: Database) -> None:
    with db.transaction() as session:
        issued = service.create_api_key(session, name="shop", roles=["integration"], actor=SYSTEM)

    with db.transaction() as session:
        stored = repository.api_key_by_id(session, issued.key.id)
        assert stored is not None
        assert issued.secret.startswith(f"oms_{stored.prefix}_")
        assert issued.secret not in (stored.secret_hash, stored.name)


def test_an_api_key_authenticates_with_its_roles_and_scope(db: Database) -> None:
    with db.transaction() as session:
        issued = service.create_api_key(
            session, name="shop", roles=["integration"], channels=["web"], actor=SYSTEM
        )

    with db.transaction() as session:
        principal = service.authenticate_api_key(session, issued.secret)

    assert principal.roles == frozenset({Role.INTEGRATION})
    assert principal.channels == frozenset({"web"})
    assert principal.sees_channel("web")
    assert not principal.sees_channel("amazon")


def test_a_tampered_api_key_is_refused(db: Database) -> None:
    with db.transaction() as session:
        issued = service.create_api_key(session, name="shop", roles=["viewer"], actor=SYSTEM)

    with db.transaction() as session, pytest.raises(Unauthenticated):
        service.authenticate_api_key(session, issued.secret[:-2] + "xx")


def test_a_revoked_api_key_no_longer_authenticates(db: Database) -> None:
    with db.transaction() as session:
        issued = service.create_api_key(session, name="shop", roles=["viewer"], actor=SYSTEM)
    with db.transaction() as session:
        service.revoke_api_key(session, key_id=issued.key.id, actor=SYSTEM)

    with db.transaction() as session, pytest.raises(Unauthenticated) as raised:
        service.authenticate_api_key(session, issued.secret)

    assert raised.value.code == "auth.api_key_revoked"


def test_the_first_start_makes_an_admin_with_a_generated_password(db: Database) -> None:
    with db.transaction() as session:
        generated = service.ensure_admin(session, password=None)

    with db.transaction() as session:
        principal = service.verify_password(session, username="admin", password=generated or "")
        again = service.ensure_admin(session, password=None)

    assert principal.roles == frozenset({Role.ADMIN})
    assert again is None


def test_creating_a_key_is_audited_without_its_secret(db: Database) -> None:
    with db.transaction() as session:
        issued = service.create_api_key(session, name="shop", roles=["viewer"], actor=SYSTEM)

    with db.transaction() as session:
        entry = session.scalars(select(AuditEntry)).one()

    assert entry.action == "api_key.created"
    assert entry.actor == "system:system"
    assert issued.secret not in str(entry.after)


def test_a_label_names_the_api_key_or_user_as_it_stands_now(db: Database) -> None:
    with db.transaction() as session:
        issued = service.create_api_key(
            session, name="shop", roles=["integration"], channels=["web"], actor=SYSTEM
        )
        user = service.create_user(
            session, username="ada", password=PASSWORD, roles=["sales_ops"], actor=SYSTEM
        )
        key_label = service.key_principal(issued.key).label
        user_label = service.user_principal(user).label

    with db.transaction() as session:
        key = service.principal_named(session, key_label)
        person = service.principal_named(session, user_label)

    assert key is not None
    assert (key.id, key.channels) == (issued.key.id, frozenset({"web"}))
    assert person is not None
    assert person.roles == frozenset({Role.SALES_OPS})


def test_a_label_of_a_revoked_key_an_inactive_user_or_no_one_names_nobody(db: Database) -> None:
    with db.transaction() as session:
        issued = service.create_api_key(session, name="shop", roles=["viewer"], actor=SYSTEM)
        user = service.create_user(
            session, username="ada", password=PASSWORD, roles=["viewer"], actor=SYSTEM
        )
        labels = [service.key_principal(issued.key).label, service.user_principal(user).label]
    with db.transaction() as session:
        service.revoke_api_key(session, key_id=issued.key.id, actor=SYSTEM)
        repository.user_by_username(session, "ada").active = False  # type: ignore[union-attr]

    with db.transaction() as session:
        named = [service.principal_named(session, label) for label in labels]
        others = [
            service.principal_named(session, label)
            for label in [SYSTEM.label, "cli:someone", f"api_key:{issued.key.prefix}:renamed"]
        ]

    assert named == [None, None]
    assert others == [None, None, None]


def test_the_cli_operators_label_names_the_cli_operator(db: Database) -> None:
    with db.transaction() as session:
        assert service.principal_named(session, CLI_OPERATOR.label) == CLI_OPERATOR
