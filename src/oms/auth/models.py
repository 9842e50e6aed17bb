"""Users and API keys.

A user logs in with a password (argon2id hash); an API key authenticates a
request by `Authorization: Bearer oms_<prefix>_<secret>`. Only the key's
SHA-256 is kept; the prefix finds the row. A revoked key stays for the audit
trail and never authenticates again.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from oms.db import Base
from oms.kit import clock


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str | None] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(255))
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    channels: Mapped[list[str] | None] = mapped_column(JSON, default=None)
    warehouses: Mapped[list[str] | None] = mapped_column(JSON, default=None)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    channels: Mapped[list[str] | None] = mapped_column(JSON, default=None)
    warehouses: Mapped[list[str] | None] = mapped_column(JSON, default=None)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    last_used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
