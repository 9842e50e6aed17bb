"""The audit trail: `/api/v1/audit` (admin)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict

from oms import audit
from oms.api.deps import PageDep, SessionDep, require
from oms.api.schemas import ListOf
from oms.auth.permissions import Permission
from oms.auth.principal import Principal
from oms.kit import clock

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: dt.datetime
    actor: str
    action: str
    entity_type: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    diff: dict[str, Any]
    request_id: str | None
    note: str | None


@router.get("")
def list_audit_entries(
    tx: SessionDep,
    _: Annotated[Principal, Depends(require(Permission.AUDIT_READ))],
    page: PageDep,
    actor: str | None = None,
    action: str | None = None,
    entity_type: str | None = None,
    entity_id: str | None = None,
    request_id: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> ListOf[AuditEntryOut]:
    """Who changed what and when, newest first; sort by `id` or `at` (`-` for descending)."""
    filters = audit.AuditFilter(
        actor=actor,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        request_id=request_id,
        since=clock.as_utc(since) if since else None,
        until=clock.as_utc(until) if until else None,
    )
    found = audit.search(tx, filters, page)
    return ListOf(
        items=[AuditEntryOut.model_validate(e) for e in found.items],
        next_cursor=found.next_cursor,
    )
