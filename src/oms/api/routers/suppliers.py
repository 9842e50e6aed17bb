"""Suppliers: `/api/v1/suppliers`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from oms.api.deps import IfMatchDep, PageDep, SessionDep, require, set_etag
from oms.api.schemas import ListOf
from oms.auth.permissions import Permission
from oms.auth.principal import Principal
from oms.catalog import repository, suppliers
from oms.catalog.schemas import (
    CountryCode,
    CurrencyCode,
    SupplierCreate,
    SupplierOut,
    SupplierUpdate,
)

router = APIRouter(prefix="/api/v1/suppliers", tags=["suppliers"])

Reader = Annotated[Principal, Depends(require(Permission.CATALOG_READ))]
Writer = Annotated[Principal, Depends(require(Permission.SUPPLIERS_WRITE))]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_supplier(
    body: SupplierCreate, tx: SessionDep, actor: Writer, response: Response
) -> SupplierOut:
    """Add a supplier. 409 `catalog.supplier_exists` when the code is taken."""
    supplier = suppliers.create_supplier(tx, body, actor=actor)
    set_etag(response, supplier.version)
    response.headers["Location"] = f"/api/v1/suppliers/{supplier.code}"
    return suppliers.shown(supplier)


@router.get("")
def list_suppliers(
    tx: SessionDep,
    _: Reader,
    page: PageDep,
    q: Annotated[str | None, Query(description="part of the code or name")] = None,
    active: bool | None = None,
    country: CountryCode | None = None,
    currency: CurrencyCode | None = None,
) -> ListOf[SupplierOut]:
    """Suppliers, filtered; sort by `code` (default), `name` or `updated_at`."""
    filters = repository.SupplierFilter(q=q, active=active, country=country, currency=currency)
    found = suppliers.search_suppliers(tx, filters, page)
    return ListOf(items=[suppliers.shown(s) for s in found.items], next_cursor=found.next_cursor)


@router.get("/{code}")
def get_supplier(code: str, tx: SessionDep, _: Reader, response: Response) -> SupplierOut:
    """One supplier, with its version as the ETag."""
    supplier = suppliers.get_supplier(tx, code)
    set_etag(response, supplier.version)
    return suppliers.shown(supplier)


@router.patch("/{code}")
def update_supplier(
    code: str,
    body: SupplierUpdate,
    tx: SessionDep,
    actor: Writer,
    version: IfMatchDep,
    response: Response,
) -> SupplierOut:
    """Change the fields sent (`{"active": false}` deactivates); If-Match guards lost updates."""
    supplier = suppliers.update_supplier(tx, code, body, actor=actor, expected_version=version)
    set_etag(response, supplier.version)
    return suppliers.shown(supplier)
