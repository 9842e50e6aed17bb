"""Stored answers to POST requests that carried an `Idempotency-Key`.

The first request with a key claims it (a unique row); when it finishes, its
status and body are stored. A retry with the same key and the same body gets
the stored answer; the same key with another body is refused. Keys are
scoped by the caller's credentials and expire after a day.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, LargeBinary, String, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from oms.db import Base
from oms.kit import clock

RETENTION = dt.timedelta(hours=24)


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_keys"
    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None]
    content_type: Mapped[str | None] = mapped_column(String(100))
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)

    __table_args__ = (
        Index("ix_idempotency_keys_created_at", "created_at"),
        Index("uq_idempotency_keys_scope_key", "scope", "key", unique=True),
    )


def find(session: Session, *, scope: str, key: str) -> IdempotencyRecord | None:
    return session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.scope == scope, IdempotencyRecord.key == key
        )
    )


def claim(session: Session, *, scope: str, key: str, request_hash: str) -> bool:
    """Claim a key for a request now starting; False when someone holds it already."""
    try:
        with session.begin_nested():
            session.add(IdempotencyRecord(scope=scope, key=key, request_hash=request_hash))
            session.flush()
    except IntegrityError:
        return False
    return True


def complete(
    session: Session, *, scope: str, key: str, status_code: int, content_type: str, body: bytes
) -> None:
    session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.scope == scope, IdempotencyRecord.key == key)
        .values(status_code=status_code, content_type=content_type, body=body)
    )


def release(session: Session, *, scope: str, key: str) -> None:
    """Forget a claim whose request failed on our side, so that a retry runs again."""
    session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.scope == scope, IdempotencyRecord.key == key
        )
    )


def purge_expired(session: Session) -> int:
    result = session.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.created_at < clock.now() - RETENTION)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
