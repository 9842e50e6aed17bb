"""Suppliers: create, read, update, deactivate, search."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from oms.auth.principal import Principal
from oms.catalog import records, repository
from oms.catalog.models import Supplier
from oms.catalog.schemas import SupplierCreate, SupplierOut, SupplierUpdate
from oms.errors import Conflict, NotFound
from oms.kit.paging import Page, PageRequest


class SupplierNotFound(NotFound):
    def __init__(self, code: str) -> None:
        super().__init__("supplier", code, code="catalog.supplier_not_found")


class SupplierExists(Conflict):
    def __init__(self, code: str) -> None:
        super().__init__(
            f"supplier {code} already exists", code="catalog.supplier_exists", supplier=code
        )


def shown(supplier: Supplier) -> SupplierOut:
    """A supplier as the API shows it."""
    return records.shape(SupplierOut, supplier)


def view(supplier: Supplier) -> dict[str, Any]:
    """A supplier as the audit trail and events show it."""
    return shown(supplier).model_dump(mode="json")


def create_supplier(session: Session, data: SupplierCreate, *, actor: Principal) -> Supplier:
    """Add a supplier; its code must be new."""
    values = data.model_dump(exclude_none=True)
    supplier = Supplier(**values, country=data.address.country if data.address else None)
    records.add_new(session, supplier, exists=lambda: SupplierExists(data.code))
    records.record_created(
        session, entity="supplier", key=supplier.code, view=view(supplier), actor=actor
    )
    return supplier


def get_supplier(session: Session, code: str, *, lock: bool = False) -> Supplier:
    """The supplier with this code, active or not; `lock` holds it until the transaction ends."""
    supplier = repository.supplier_by_code(session, code.strip(), lock=lock)
    if supplier is None:
        raise SupplierNotFound(code)
    return supplier


def update_supplier(
    session: Session,
    code: str,
    data: SupplierUpdate,
    *,
    actor: Principal,
    expected_version: int | None = None,
) -> Supplier:
    """Change the fields sent; with `expected_version`, only if nobody changed it meanwhile."""
    supplier = get_supplier(session, code, lock=True)
    changes = data.model_dump(exclude_unset=True)
    merged, updates = records.merge(supplier, changes, schema=SupplierCreate)
    if "address" in changes:
        updates["country"] = merged.address.country if merged.address else None
    records.apply_update(
        session,
        supplier,
        updates,
        entity="supplier",
        key=supplier.code,
        view=lambda: view(supplier),
        actor=actor,
        expected_version=expected_version,
    )
    return supplier


def search_suppliers(
    session: Session, filters: repository.SupplierFilter, page: PageRequest
) -> Page[Supplier]:
    """Suppliers matching `filters`, one page at a time."""
    return repository.search_suppliers(session, filters, page)
