"""Customers: `/api/v1/customers`, each known by its id."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from oms.api.deps import IfMatchDep, PageDep, SessionDep, require, set_etag
from oms.api.schemas import ListOf
from oms.auth.permissions import Permission
from oms.auth.principal import Principal
from oms.catalog import customers, repository
from oms.catalog.models import CustomerType
from oms.catalog.schemas import CustomerCreate, CustomerOut, CustomerUpdate

router = APIRouter(prefix="/api/v1/customers", tags=["customers"])

Reader = Annotated[Principal, Depends(require(Permission.CATALOG_READ))]
Writer = Annotated[Principal, Depends(require(Permission.CUSTOMERS_WRITE))]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_customer(
    body: CustomerCreate, tx: SessionDep, actor: Writer, response: Response
) -> CustomerOut:
    """Add a customer. 409 `catalog.customer_exists` when the account number is taken."""
    customer = customers.create_customer(tx, body, actor=actor)
    set_etag(response, customer.version)
    response.headers["Location"] = f"/api/v1/customers/{customer.id}"
    return customers.shown(customer)


@router.get("")
def list_customers(
    tx: SessionDep,
    _: Reader,
    page: PageDep,
    q: Annotated[str | None, Query(description="part of the name or e-mail address")] = None,
    active: bool | None = None,
    type: CustomerType | None = None,
    email: Annotated[str | None, Query(description="the customer's first e-mail address")] = None,
    account_number: str | None = None,
) -> ListOf[CustomerOut]:
    """Customers, filtered; sort by `id` (default), `name` or `updated_at`."""
    filters = repository.CustomerFilter(
        q=q, active=active, type=type, email=email, account_number=account_number
    )
    found = customers.search_customers(tx, filters, page)
    return ListOf(items=[customers.shown(c) for c in found.items], next_cursor=found.next_cursor)


@router.get("/{customer_id}")
def get_customer(customer_id: int, tx: SessionDep, _: Reader, response: Response) -> CustomerOut:
    """One customer, with its version as the ETag."""
    customer = customers.get_customer(tx, customer_id)
    set_etag(response, customer.version)
    return customers.shown(customer)


@router.patch("/{customer_id}")
def update_customer(
    customer_id: int,
    body: CustomerUpdate,
    tx: SessionDep,
    actor: Writer,
    version: IfMatchDep,
    response: Response,
) -> CustomerOut:
    """Change the fields sent (`{"active": false}` deactivates); If-Match guards lost updates."""
    customer = customers.update_customer(
        tx, customer_id, body, actor=actor, expected_version=version
    )
    set_etag(response, customer.version)
    return customers.shown(customer)
