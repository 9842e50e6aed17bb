"""Stock: `/api/v1/inventory` balances, adjustments, movements, transfers and settings;
`/api/v1/items/{sku}/availability`; `/api/v1/channels/{code}/availability` (the ATP feed).

Every read and write is limited to the caller's warehouses (and channels): outside
them, a warehouse, a transfer or a channel answers 404.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response, status

from oms.api.deps import PageDep, SessionDep, require
from oms.api.schemas import ListOf
from oms.auth.permissions import Permission
from oms.auth.principal import Principal
from oms.catalog.schemas import Code, Sku
from oms.errors import Problem, ValidationFailed
from oms.inventory import availability, balances, ledger, settings, transfers, views
from oms.inventory.models import MovementKind
from oms.inventory.schemas import (
    AdjustmentIn,
    ChannelFeedOut,
    FeedEntryOut,
    ItemAvailabilityOut,
    MovementOut,
    ReorderIn,
    ReorderOut,
    SafetyStockIn,
    SafetyStockOut,
    StockLineOut,
    TransferIn,
    TransferOut,
)
from oms.kit.paging import PageRequest, decode_cursor, encode_cursor

router = APIRouter(tags=["inventory"])

Reader = Annotated[Principal, Depends(require(Permission.INVENTORY_READ))]
Adjuster = Annotated[Principal, Depends(require(Permission.INVENTORY_ADJUST))]
Configurer = Annotated[Principal, Depends(require(Permission.INVENTORY_SETTINGS))]


@router.get("/api/v1/inventory")
def list_stock(
    tx: SessionDep,
    actor: Reader,
    page: PageDep,
    sku: Sku | None = None,
    warehouse: Code | None = None,
    below_reorder_point: Annotated[
        bool | None, Query(description="only lines at or below their reorder point (or min)")
    ] = None,
) -> ListOf[StockLineOut]:
    """Balances per item and warehouse in the caller's scope, by SKU then warehouse."""
    lines = balances.stock_lines(
        tx, sku=sku, warehouse=warehouse, below_reorder_point=below_reorder_point, actor=actor
    )
    shown, next_cursor = _page_of(lines, page)
    return ListOf(items=[views.stock_line(line) for line in shown], next_cursor=next_cursor)


def _page_of(
    lines: list[balances.StockLine], page: PageRequest
) -> tuple[list[balances.StockLine], str | None]:
    """One page of lines after the cursor's (sku, warehouse); stable while rows are added."""
    if page.sort not in (None, "sku"):
        raise ValidationFailed([Problem("sort", "stock lines sort by sku only")])
    ordered = sorted(lines, key=lambda line: (line.sku, line.warehouse))
    if page.cursor:
        last = decode_cursor(page.cursor)
        if not all(isinstance(part, str) for part in last):
            raise ValidationFailed([Problem("cursor", "is not a cursor this API gave out")])
        ordered = [line for line in ordered if [line.sku, line.warehouse] > last]
    taken = ordered[: page.limit]
    more = len(ordered) > page.limit
    return taken, encode_cursor([taken[-1].sku, taken[-1].warehouse]) if more else None


@router.get("/api/v1/items/{sku}/availability")
def item_availability(sku: str, tx: SessionDep, actor: Reader) -> ItemAvailabilityOut:
    """One item's stock per warehouse in the caller's scope, and the total."""
    return views.item_availability(balances.item_availability(tx, sku, actor=actor))


@router.post("/api/v1/inventory/adjustments", status_code=status.HTTP_201_CREATED)
def adjust_stock(body: AdjustmentIn, tx: SessionDep, actor: Adjuster) -> StockLineOut:
    """Correct on hand by a signed quantity with a reason code; answers the new balance.
    409 `inventory.negative_on_hand` when on hand would go below zero."""
    ledger.adjust(
        tx,
        sku=body.sku,
        warehouse=body.warehouse,
        quantity=body.quantity,
        reason=body.reason,
        note=body.note,
        actor=actor,
    )
    [line] = balances.stock_lines(tx, sku=body.sku, warehouse=body.warehouse, actor=actor)
    return views.stock_line(line)


@router.get("/api/v1/inventory/movements")
def list_movements(
    tx: SessionDep,
    actor: Reader,
    page: PageDep,
    sku: Sku | None = None,
    warehouse: Code | None = None,
    kind: MovementKind | None = None,
) -> ListOf[MovementOut]:
    """The movement ledger, newest first (`sort=id` for oldest first)."""
    found = views.search_movements(
        tx, sku=sku, warehouse=warehouse, kind=kind, page=page, actor=actor
    )
    return ListOf(items=found.items, next_cursor=found.next_cursor)


@router.post("/api/v1/inventory/transfers", status_code=status.HTTP_201_CREATED)
def create_transfer(
    body: TransferIn, tx: SessionDep, actor: Adjuster, response: Response
) -> TransferOut:
    """Ship stock between warehouses; it shows as inbound at the destination until received.
    409 `inventory.insufficient_stock` when the source has too little available."""
    transfer = transfers.create_transfer(
        tx,
        source=body.source,
        destination=body.destination,
        lines=[
            transfers.TransferLineInput(sku=line.sku, quantity=line.quantity) for line in body.lines
        ],
        expected_at=body.expected_at,
        note=body.note,
        actor=actor,
    )
    response.headers["Location"] = f"/api/v1/inventory/transfers/{transfer.id}"
    return views.transfer_out(tx, transfer)


@router.get("/api/v1/inventory/transfers/{transfer_id}")
def get_transfer(transfer_id: int, tx: SessionDep, actor: Reader) -> TransferOut:
    """One transfer, seen from either of its warehouses."""
    return views.get_transfer(tx, transfer_id, actor=actor)


@router.post("/api/v1/inventory/transfers/{transfer_id}/receive")
def receive_transfer(transfer_id: int, tx: SessionDep, actor: Adjuster) -> TransferOut:
    """Book a transfer in at its destination. 409 `inventory.transfer_not_in_transit` twice."""
    transfer = transfers.receive_transfer(tx, transfer_id, actor=actor)
    return views.transfer_out(tx, transfer)


@router.put("/api/v1/inventory/safety-stock")
def set_safety_stock(body: SafetyStockIn, tx: SessionDep, actor: Configurer) -> SafetyStockOut:
    """Safety stock for an item, a warehouse, or both (the most specific wins); null removes."""
    touched = settings.set_safety_stock(
        tx, quantity=body.quantity, sku=body.sku, warehouse=body.warehouse, actor=actor
    )
    return SafetyStockOut(
        sku=body.sku, warehouse=body.warehouse, quantity=body.quantity, balances_updated=touched
    )


@router.put("/api/v1/inventory/reorder-settings")
def set_reorder_settings(body: ReorderIn, tx: SessionDep, actor: Configurer) -> ReorderOut:
    """Reorder point and quantity, or min and max, for one item at one warehouse."""
    setting = settings.set_reorder(
        tx,
        sku=body.sku,
        warehouse=body.warehouse,
        values=settings.ReorderInput(
            reorder_point=body.reorder_point,
            reorder_quantity=body.reorder_quantity,
            min_quantity=body.min_quantity,
            max_quantity=body.max_quantity,
        ),
        actor=actor,
    )
    return ReorderOut(
        sku=body.sku,
        warehouse=body.warehouse,
        reorder_point=setting.reorder_point,
        reorder_quantity=setting.reorder_quantity,
        min_quantity=setting.min_quantity,
        max_quantity=setting.max_quantity,
    )


@router.get(
    "/api/v1/channels/{code}/availability",
    response_model=ChannelFeedOut,
    responses={304: {"description": "Nothing was published since the ETag in If-None-Match"}},
)
def channel_availability(
    code: str,
    tx: SessionDep,
    actor: Reader,
    response: Response,
    since: Annotated[
        int | None, Query(ge=0, description="only entries published after this seq")
    ] = None,
    if_none_match: Annotated[str | None, Header(alias="If-None-Match")] = None,
) -> ChannelFeedOut | Response:
    """What the channel may promise per item, with the newest seq as the ETag (304 when it
    is the one sent in If-None-Match); `since` answers only later changes, in seq order."""
    seq = availability.feed_version(tx, code, actor=actor)
    tag = f'"{seq}"'
    if if_none_match is not None and _matches(if_none_match, tag):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers={"ETag": tag})
    entries = availability.feed(tx, code, since=since, actor=actor)
    response.headers["ETag"] = tag
    return ChannelFeedOut(
        channel=code.strip(),
        seq=seq,
        items=[FeedEntryOut.model_validate(entry) for entry in entries],
    )


def _matches(if_none_match: str, tag: str) -> bool:
    given = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in given or tag in given
