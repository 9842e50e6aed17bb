"""Returns (RMA): `/api/v1/returns`.

- `POST /returns` asks for shipped units back; `…/{id}/authorize`, `…/reject`, `…/close`
  (returns.manage); `…/receipt` is the WMS counting the goods in (fulfillment.wms, an
  integration key only when scoped to its warehouses), stored raw in the inbox first and
  applied once per message id; `…/inspect` decides resellable and damaged units
  (returns.inspect).
- A return of an order outside the caller's channels, or at a warehouse outside its
  warehouses, does not exist (404). Each answer carries the return's version as its
  ETag; an action with an If-Match naming an older version is refused with 412.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from sqlalchemy.orm import Session

from oms.api.deps import (
    IfMatchDep,
    PageDep,
    SessionDep,
    database,
    require,
    require_standalone,
    set_etag,
)
from oms.api.raw_first import take_stored
from oms.api.schemas import ListOf
from oms.auth.permissions import Permission
from oms.auth.principal import Principal
from oms.db import Database
from oms.fulfillment import messages, returns, returns_receiving
from oms.fulfillment.models import Return, ReturnStatus
from oms.fulfillment.returns_schemas import (
    InspectionIn,
    ReceiptIn,
    ReceiptOut,
    RejectIn,
    ReturnIn,
    ReturnOut,
)

router = APIRouter(prefix="/api/v1/returns", tags=["returns"])

Reader = Annotated[Principal, Depends(require(Permission.FULFILLMENT_READ))]
Manager = Annotated[Principal, Depends(require(Permission.RETURNS_MANAGE))]
Inspector = Annotated[Principal, Depends(require(Permission.RETURNS_INSPECT))]
Reporter = Annotated[Principal, Depends(require_standalone(Permission.WMS_REPORT))]
DatabaseDep = Annotated[Database, Depends(database)]
ReturnKey = Annotated[str, Path(max_length=24, description="its id, or its number (RMA-000123)")]


def _key(text: str) -> int | str:
    return int(text) if text.isdigit() else text


def _shown(tx: Session, rma: Return, response: Response) -> ReturnOut:
    set_etag(response, rma.version)
    return returns.view(tx, [rma])[0]


async def raw_body(request: Request) -> bytes:
    return await request.body()


RawBody = Annotated[bytes, Depends(raw_body)]


def _body(model: Any) -> dict[str, Any]:
    """The request body a raw-body route documents."""
    schema = model.model_json_schema()
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


@router.post("", status_code=status.HTTP_201_CREATED)
def request_return(body: ReturnIn, tx: SessionDep, actor: Manager, response: Response) -> ReturnOut:
    """Ask for shipped units of an order's lines back (order by `order_id` or
    `order_number`); 422 naming `lines[i].quantity` with the units that may still come
    back. The goods return to `warehouse`, by default the one that shipped the lines."""
    return _shown(tx, returns.request_return(tx, body, actor=actor), response)


@router.get("")
def list_returns(
    tx: SessionDep,
    actor: Reader,
    page: PageDep,
    order_id: Annotated[int | None, Query(description="the sales order's id")] = None,
    status: ReturnStatus | None = None,
    warehouse: Annotated[str | None, Query(description="the warehouse's code")] = None,
) -> ListOf[ReturnOut]:
    """Returns with their lines, oldest first (`sort=-id` for newest first)."""
    found = returns.search_returns(
        tx, page, actor=actor, order_id=order_id, status=status, warehouse=warehouse
    )
    return ListOf(items=found.items, next_cursor=found.next_cursor)


@router.get("/{rma}")
def get_return(rma: ReturnKey, tx: SessionDep, actor: Reader, response: Response) -> ReturnOut:
    """One return with its lines and refund; its version is the ETag."""
    return _shown(tx, returns.get_return(tx, _key(rma), actor=actor), response)


@router.post("/{rma}/authorize")
def authorize_return(
    rma: ReturnKey, tx: SessionDep, actor: Manager, version: IfMatchDep, response: Response
) -> ReturnOut:
    """Authorize a requested return and price its refund; 409
    `return.cannot_authorize_<status>` otherwise."""
    found = returns.authorize(tx, _key(rma), actor=actor, expected_version=version)
    return _shown(tx, found, response)


@router.post("/{rma}/reject")
def reject_return(
    rma: ReturnKey,
    body: RejectIn,
    tx: SessionDep,
    actor: Manager,
    version: IfMatchDep,
    response: Response,
) -> ReturnOut:
    """Refuse a requested return, saying why."""
    found = returns.reject(tx, _key(rma), reason=body.reason, actor=actor, expected_version=version)
    return _shown(tx, found, response)


@router.post("/{rma}/receipt", openapi_extra=_body(ReceiptIn))
def receive_return(rma: ReturnKey, raw: RawBody, actor: Reporter, db: DatabaseDep) -> ReceiptOut:
    """The warehouse's WMS counts the goods in (`lines` by line_number or sku), once per
    `message_id`: a second delivery answers `duplicate` and changes nothing; 422 naming
    the line when more comes back than was authorized."""
    body = raw.decode("utf-8", errors="replace")
    return take_stored(
        db,
        lambda session: returns_receiving.store_receipt(session, rma, body, actor=actor),
        lambda session, inbox_id: returns_receiving.process_receipt(
            session, inbox_id, _key(rma), body, actor=actor
        ),
        messages.record_failure,
    )


@router.post("/{rma}/inspect")
def inspect_return(
    rma: ReturnKey,
    body: InspectionIn,
    tx: SessionDep,
    actor: Inspector,
    version: IfMatchDep,
    response: Response,
) -> ReturnOut:
    """Per line, the received units resellable (back on hand) and damaged (written off);
    the refund is priced on the received units and announced as `return.refund_due`."""
    found = returns_receiving.inspect(tx, _key(rma), body, actor=actor, expected_version=version)
    return _shown(tx, found, response)


@router.post("/{rma}/close")
def close_return(
    rma: ReturnKey, tx: SessionDep, actor: Manager, version: IfMatchDep, response: Response
) -> ReturnOut:
    """Close an inspected return, or an authorized one whose goods never came back."""
    found = returns.close(tx, _key(rma), actor=actor, expected_version=version)
    return _shown(tx, found, response)
