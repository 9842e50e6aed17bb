"""WMS stock snapshots: `/api/v1/inventory/snapshots`, JSON or CSV, stored raw first.

A snapshot runs in three transactions: the raw document is stored and committed,
then processed; when processing finds bad lines, the stored snapshot is marked
failed with every problem, and the caller gets 422 naming them. The document
stays stored either way, to be looked at (`GET …/snapshots/{id}`) and sent again.
"""

from __future__ import annotations

import datetime as dt
from email.message import Message
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response, status

from oms.api.deps import SessionDep, database, require
from oms.auth.permissions import Permission
from oms.auth.principal import Principal
from oms.catalog.schemas import Code
from oms.config import Settings
from oms.db import Database
from oms.errors import Problem, ValidationFailed
from oms.inventory import snapshots, views
from oms.inventory.schemas import SnapshotOut

router = APIRouter(prefix="/api/v1/inventory/snapshots", tags=["inventory"])

Reader = Annotated[Principal, Depends(require(Permission.INVENTORY_READ))]
Counter = Annotated[Principal, Depends(require(Permission.INVENTORY_SNAPSHOT))]

FORMATS = {
    "application/json": "json",
    "text/csv": "csv",
    "application/csv": "csv",
}


async def raw_body(request: Request) -> bytes:
    return await request.body()


def _format_of(content_type: str | None) -> str:
    message = Message()
    message["content-type"] = content_type or ""
    media_type = message.get_content_type()
    fmt = FORMATS.get(media_type) or ("json" if media_type.endswith("+json") else None)
    if content_type is None or fmt is None:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            detail="send the snapshot as application/json or text/csv",
        )
    return fmt


def _document_schema() -> dict[str, Any]:
    """The JSON body's schema with its line schema inlined (OpenAPI cannot follow `$defs`)."""
    document = snapshots.SnapshotIn.model_json_schema()
    line = document.pop("$defs")["SnapshotLineIn"]
    document["properties"]["lines"]["items"] = line
    return {"anyOf": [document, {"type": "array", "items": line}]}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": _document_schema()},
                "text/csv": {
                    "schema": {"type": "string", "example": "sku,counted,in_flight\nABC-1,12,0\n"}
                },
            },
        }
    },
    responses={415: {"description": "Neither application/json nor text/csv"}},
)
def create_snapshot(
    request: Request,
    actor: Counter,
    tx: SessionDep,
    raw: Annotated[bytes, Depends(raw_body)],
    db: Annotated[Database, Depends(database)],
    response: Response,
    warehouse: Annotated[Code, Query(description="the counted warehouse's code")],
    as_of: Annotated[
        dt.datetime | None, Query(description="when the WMS counted; default: on receipt")
    ] = None,
    complete: Annotated[
        bool | None, Query(description="items not listed were counted as zero")
    ] = None,
    content_type: Annotated[str | None, Header()] = None,
) -> SnapshotOut:
    """Compare a WMS count with our stock: differences within the threshold are booked as
    count corrections, larger ones wait for approval; the report lists every line.
    422 names every bad line or field, and the raw snapshot stays stored as `failed`."""
    fmt = _format_of(content_type)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationFailed([Problem("body", "is not UTF-8 text")]) from exc
    # The request's own transaction only authenticated; each step below commits alone.
    tx.rollback()
    settings: Settings = request.app.state.settings
    with db.transaction() as session:
        snapshot_id = snapshots.store(
            session, warehouse=warehouse, raw=text, fmt=fmt, actor=actor
        ).id
    try:
        with db.transaction() as session:
            snapshots.process(
                session,
                snapshot_id,
                threshold=settings.snapshot_approval_threshold,
                as_of=as_of,
                complete=complete,
                actor=actor,
            )
    except ValidationFailed as exc:
        with db.transaction() as session:
            snapshots.mark_failed(session, snapshot_id, exc.problems)
        failed = ValidationFailed(
            exc.problems,
            message=f"snapshot {snapshot_id} is stored but was not applied",
            code="inventory.snapshot_invalid",
        )
        failed.details["snapshot_id"] = snapshot_id
        raise failed from exc
    with db.transaction() as session:
        shown = views.get_snapshot(session, snapshot_id, actor=actor)
    response.headers["Location"] = f"/api/v1/inventory/snapshots/{snapshot_id}"
    return shown


@router.get("/{snapshot_id}")
def get_snapshot(snapshot_id: int, tx: SessionDep, actor: Reader) -> SnapshotOut:
    """A snapshot's status, the problems that stopped it, and its difference report."""
    return views.get_snapshot(tx, snapshot_id, actor=actor)


@router.post("/{snapshot_id}/lines/{line_id}/approve")
def approve_line(snapshot_id: int, line_id: int, tx: SessionDep, actor: Counter) -> SnapshotOut:
    """Book a parked difference as a count correction. 409 `inventory.snapshot_line_decided`
    when the line is not waiting."""
    snapshots.decide(tx, snapshot_id, line_id, approve=True, actor=actor)
    return views.get_snapshot(tx, snapshot_id, actor=actor)


@router.post("/{snapshot_id}/lines/{line_id}/reject")
def reject_line(snapshot_id: int, line_id: int, tx: SessionDep, actor: Counter) -> SnapshotOut:
    """Leave stock as it is and close a parked difference."""
    snapshots.decide(tx, snapshot_id, line_id, approve=False, actor=actor)
    return views.get_snapshot(tx, snapshot_id, actor=actor)
