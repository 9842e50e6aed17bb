"""Users, API keys and authentication."""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from oms import audit
from oms.auth import repository
from oms.auth.models import ApiKey, User
from oms.auth.permissions import Role
from oms.auth.principal import CLI_OPERATOR, Principal
from oms.errors import Conflict, NotFound, Problem, Unauthenticated, ValidationFailed
from oms.kit import clock
from oms.kit.tokens import sha256_hex

_hasher = PasswordHasher()  # argon2id with the library's current recommended cost
API_KEY_PATTERN = re.compile(r"^oms_([a-z0-9]{8})_([A-Za-z0-9_-]{20,})$")
USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


@dataclass(frozen=True)
class IssuedKey:
    """A new API key; `secret` is shown once and never stored."""

    key: ApiKey
    secret: str


def parse_roles(values: Iterable[str], *, path: str = "roles") -> frozenset[Role]:
    """Roles from their names; an unknown name is a validation problem."""
    roles: set[Role] = set()
    problems: list[Problem] = []
    for i, value in enumerate(values):
        try:
            roles.add(Role(value))
        except ValueError:
            allowed = ", ".join(r.value for r in Role)
            problems.append(Problem(f"{path}[{i}]", f"unknown role {value!r}; use {allowed}"))
    if problems:
        raise ValidationFailed(problems)
    if not roles:
        raise ValidationFailed([Problem(path, "at least one role is required")])
    return frozenset(roles)


def _scope(values: Iterable[str] | None) -> list[str] | None:
    if values is None:
        return None
    codes = sorted({v.strip() for v in values if v.strip()})
    return codes or None


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    roles: Iterable[str],
    email: str | None = None,
    channels: Iterable[str] | None = None,
    warehouses: Iterable[str] | None = None,
    actor: Principal,
) -> User:
    """Add a user with an argon2id password hash."""
    username = username.strip().lower()
    problems: list[Problem] = []
    if not USERNAME_PATTERN.match(username):
        problems.append(Problem("username", "use 2-64 lowercase letters, digits, '.', '_' or '-'"))
    if len(password) < 12:
        problems.append(Problem("password", "must be at least 12 characters long"))
    parsed: frozenset[Role] = frozenset()
    try:
        parsed = parse_roles(roles)
    except ValidationFailed as exc:
        problems.extend(exc.problems)
    if problems:
        raise ValidationFailed(problems)
    if repository.user_by_username(session, username) is not None:
        raise Conflict(f"user {username} already exists", code="auth.user_exists")
    user = User(
        username=username,
        email=email,
        password_hash=_hasher.hash(password),
        roles=sorted(r.value for r in parsed),
        channels=_scope(channels),
        warehouses=_scope(warehouses),
    )
    try:
        with session.begin_nested():
            repository.add(session, user)
    except IntegrityError as exc:  # created meanwhile by someone else
        raise Conflict(f"user {username} already exists", code="auth.user_exists") from exc
    audit.record(
        session,
        actor=actor.label,
        action="user.created",
        entity_type="user",
        entity_id=str(user.id),
        after=user_view(user),
    )
    return user


def user_view(user: User) -> dict[str, object]:
    """What the audit trail and the CLI show of a user (never the hash)."""
    return {
        "username": user.username,
        "email": user.email,
        "roles": user.roles,
        "channels": user.channels,
        "warehouses": user.warehouses,
        "active": user.active,
    }


def set_user_roles(
    session: Session, *, username: str, roles: Iterable[str], actor: Principal
) -> User:
    """Replace a user's roles."""
    user = repository.user_by_username(session, username.strip().lower())
    if user is None:
        raise NotFound("user", username, code="auth.user_not_found")
    before = user_view(user)
    user.roles = sorted(r.value for r in parse_roles(roles))
    session.flush()
    audit.record(
        session,
        actor=actor.label,
        action="user.roles_changed",
        entity_type="user",
        entity_id=str(user.id),
        before=before,
        after=user_view(user),
    )
    return user


def verify_password(session: Session, *, username: str, password: str) -> Principal:
    """The user's principal when the password matches; else Unauthenticated."""
    user = repository.user_by_username(session, username.strip().lower())
    if user is None or not user.active:
        raise Unauthenticated("unknown user or wrong password")
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError) as exc:
        raise Unauthenticated("unknown user or wrong password") from exc
    return user_principal(user)


def principal_named(session: Session, label: str) -> Principal | None:
    """The principal a label (`Principal.label`, as the audit trail and the inbox keep it)
    names, as it stands now, if it may still act: an API key not revoked, an active user,
    the CLI's operator; None for any other (a revoked key, a removed user, the system)."""
    if label == CLI_OPERATOR.label:
        return CLI_OPERATOR
    kind, _, name = label.partition(":")
    if kind == "api_key":
        key = repository.api_key_by_prefix(session, name.partition(":")[0])
        if key is None or key.revoked_at is not None:
            return None
        found = key_principal(key)
    elif kind == "user":
        user = repository.user_by_username(session, name)
        if user is None or not user.active:
            return None
        found = user_principal(user)
    else:
        return None
    return found if found.label == label else None


def user_principal(user: User) -> Principal:
    """The principal a user acts as: its roles and scope."""
    return _principal(user, kind="user", name=user.username)


def key_principal(key: ApiKey) -> Principal:
    """The principal an API key acts as, named by its prefix and name."""
    return _principal(key, kind="api_key", name=f"{key.prefix}:{key.name}")


def _principal(holder: User | ApiKey, *, kind: str, name: str) -> Principal:
    return Principal(
        kind=kind,
        id=holder.id,
        name=name,
        roles=frozenset(Role(r) for r in holder.roles),
        channels=frozenset(holder.channels) if holder.channels is not None else None,
        warehouses=frozenset(holder.warehouses) if holder.warehouses is not None else None,
    )


def create_api_key(
    session: Session,
    *,
    name: str,
    roles: Iterable[str],
    channels: Iterable[str] | None = None,
    warehouses: Iterable[str] | None = None,
    actor: Principal,
) -> IssuedKey:
    """Issue an API key; the secret is returned once and only its hash is kept."""
    name = name.strip()
    if not name:
        raise ValidationFailed([Problem("name", "is required")])
    parsed = parse_roles(roles, path="role")
    prefix = "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(8))
    secret = f"oms_{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(
        name=name,
        prefix=prefix,
        secret_hash=sha256_hex(secret),
        roles=sorted(r.value for r in parsed),
        channels=_scope(channels),
        warehouses=_scope(warehouses),
    )
    repository.add(session, key)
    audit.record(
        session,
        actor=actor.label,
        action="api_key.created",
        entity_type="api_key",
        entity_id=str(key.id),
        after=api_key_view(key),
    )
    return IssuedKey(key=key, secret=secret)


def api_key_view(key: ApiKey) -> dict[str, object]:
    """What the audit trail and the CLI show of a key (never the secret or its hash)."""
    return {
        "name": key.name,
        "prefix": key.prefix,
        "roles": key.roles,
        "channels": key.channels,
        "warehouses": key.warehouses,
        "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
    }


def revoke_api_key(session: Session, *, key_id: int, actor: Principal) -> ApiKey:
    """Revoke a key for good; revoking twice is harmless."""
    key = repository.api_key_by_id(session, key_id)
    if key is None:
        raise NotFound("api_key", key_id, code="auth.api_key_not_found")
    if key.revoked_at is None:
        before = api_key_view(key)
        key.revoked_at = clock.now()
        session.flush()
        audit.record(
            session,
            actor=actor.label,
            action="api_key.revoked",
            entity_type="api_key",
            entity_id=str(key.id),
            before=before,
            after=api_key_view(key),
        )
    return key


def authenticate_api_key(session: Session, token: str) -> Principal:
    """The principal behind a bearer token; Unauthenticated for anything else."""
    match = API_KEY_PATTERN.match(token)
    if match is None:
        raise Unauthenticated("the bearer token is not an Item OMS API key")
    key = repository.api_key_by_prefix(session, match.group(1))
    if key is None or not hmac.compare_digest(key.secret_hash, sha256_hex(token)):
        raise Unauthenticated("unknown API key")
    if key.revoked_at is not None:
        raise Unauthenticated("this API key was revoked", code="auth.api_key_revoked")
    return key_principal(key)


def ensure_admin(session: Session, *, password: str | None) -> str | None:
    """Make the `admin` user when no user exists; returns a generated password to print once."""
    if repository.count_users(session) > 0:
        return None
    generated = None
    if not password:
        generated = password = secrets.token_urlsafe(18)
    create_user(
        session,
        username="admin",
        password=password,
        roles=[Role.ADMIN.value],
        actor=Principal(kind="system", id=0, name="bootstrap", roles=frozenset({Role.ADMIN})),
    )
    return generated
