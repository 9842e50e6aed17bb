"""The audit trail: append-only, written in the same transaction as the change.

Each row says who (principal label), did what (`item.updated`), to which
entity, what changed (before, after and their diff), under which request id,
and when. Nothing updates or deletes a row here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import Index, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from oms.db import Base
from oms.kit import bulk, clock
from oms.kit.diff import changes
from oms.kit.paging import Page, PageRequest, paginate


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_entity", "entity_type", "entity_id"),
        Index("ix_audit_log_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    entity_type: Mapped[str] = mapped_column(String(50))
    entity_id: Mapped[str] = mapped_column(String(100))
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]
    diff: Mapped[dict[str, Any]]
    request_id: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)


def current_request_id() -> str | None:
    """The request id bound to this context by the API or the worker, if any."""
    value = structlog.contextvars.get_contextvars().get("request_id")
    return str(value) if value is not None else None


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    note: str | None = None,
) -> AuditEntry:
    """Append one audit row in the caller's transaction."""
    entry = AuditEntry(
        **row(
            actor=actor,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            before=before,
            after=after,
            note=note,
        )
    )
    session.add(entry)
    return entry


def row(
    *,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    note: str | None = None,
    at: dt.datetime | None = None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """An audit row's values (every column but the id), for a caller that writes it with
    others; `request_id` defaults to the current one."""
    return {
        "at": at or clock.now(),
        "actor": actor,
        "action": action,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "before": before,
        "after": after,
        "diff": changes(before, after),
        "request_id": request_id or current_request_id(),
        "note": note,
    }


def record_many(session: Session, entries: Sequence[dict[str, Any]]) -> None:
    """Append many audit rows at once (bulk imports); each dict holds `record`'s arguments."""
    request_id = current_request_id()
    now = clock.now()
    bulk.insert_rows(
        session, AuditEntry, [row(**e, at=now, request_id=request_id) for e in entries]
    )


@dataclass(frozen=True)
class AuditFilter:
    actor: str | None = None
    action: str | None = None
    entity_type: str | None = None
    entity_id: str | None = None
    request_id: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None


def search(session: Session, filters: AuditFilter, page: PageRequest) -> Page[AuditEntry]:
    """Audit rows matching `filters`, newest first by default."""
    stmt = select(AuditEntry)
    if filters.actor:
        stmt = stmt.where(AuditEntry.actor == filters.actor)
    if filters.action:
        stmt = stmt.where(AuditEntry.action == filters.action)
    if filters.entity_type:
        stmt = stmt.where(AuditEntry.entity_type == filters.entity_type)
    if filters.entity_id:
        stmt = stmt.where(AuditEntry.entity_id == filters.entity_id)
    if filters.request_id:
        stmt = stmt.where(AuditEntry.request_id == filters.request_id)
    if filters.since:
        stmt = stmt.where(AuditEntry.at >= filters.since)
    if filters.until:
        stmt = stmt.where(AuditEntry.at < filters.until)
    return paginate(
        session,
        stmt,
        request=page,
        sortable={"id": AuditEntry.id, "at": AuditEntry.at},
        default_sort="-id",
        id_column=AuditEntry.id,
    )
