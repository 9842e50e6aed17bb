"""Every query of the auth package."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from oms.auth.models import ApiKey, User
from oms.kit import clock


def user_by_username(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))


def user_by_id(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def list_users(session: Session) -> Sequence[User]:
    return session.scalars(select(User).order_by(User.username)).all()


def count_users(session: Session) -> int:
    return session.scalar(select(func.count(User.id))) or 0


def api_key_by_prefix(session: Session, prefix: str) -> ApiKey | None:
    return session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))


def api_key_by_id(session: Session, key_id: int) -> ApiKey | None:
    return session.get(ApiKey, key_id)


def list_api_keys(session: Session) -> Sequence[ApiKey]:
    return session.scalars(select(ApiKey).order_by(ApiKey.id)).all()


def touch_api_key(session: Session, key_id: int) -> None:
    session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=clock.now()))


def add(session: Session, row: User | ApiKey) -> None:
    session.add(row)
    session.flush()
