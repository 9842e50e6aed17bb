"""Inbox messages.

    received ──processed──► accepted | duplicate | changed | refused
        │
        └──failed──► failed ──replay──► (processed again; attempts + 1)

`accepted`: a new document was made; `duplicate`: the same document again,
nothing changed; `changed`: a re-delivery applied as a change request;
`refused`: a change request that was no longer allowed; `failed`: the
payload could not be used (its errors say why).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from oms.db import Base
from oms.kit import clock


class InboxStatus(StrEnum):
    RECEIVED = "received"
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    CHANGED = "changed"
    REFUSED = "refused"
    FAILED = "failed"


class InboxMessage(Base):
    __tablename__ = "inbox_messages"
    __table_args__ = (
        Index("ix_inbox_messages_status", "status", "id"),
        Index("ix_inbox_messages_document", "kind", "channel", "external_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    source: Mapped[str] = mapped_column(String(30))
    channel: Mapped[str | None] = mapped_column(String(32))
    external_id: Mapped[str | None] = mapped_column(String(100))
    content_type: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[InboxStatus] = mapped_column(String(12), default=InboxStatus.RECEIVED)
    errors: Mapped[list[dict[str, Any]] | None]
    outcome: Mapped[dict[str, Any] | None]
    document_id: Mapped[str | None] = mapped_column(String(100))
    attempts: Mapped[int] = mapped_column(default=0)
    actor: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    processed_at: Mapped[dt.datetime | None]
