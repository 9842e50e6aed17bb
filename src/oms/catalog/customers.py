"""Customers, B2C and B2B: create, read, update, deactivate, search.

A customer is known by its id. Its first e-mail address is also kept in the
`email` column, the one orders are matched by; a B2B customer's account number
is unique.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from oms.auth.principal import Principal
from oms.catalog import records, repository
from oms.catalog.models import Customer
from oms.catalog.schemas import CustomerCreate, CustomerOut, CustomerUpdate
from oms.errors import Conflict, NotFound
from oms.kit.paging import Page, PageRequest


class CustomerNotFound(NotFound):
    def __init__(self, customer_id: int) -> None:
        super().__init__("customer", customer_id, code="catalog.customer_not_found")


class CustomerExists(Conflict):
    def __init__(self, account_number: str | None) -> None:
        super().__init__(
            f"a customer with account number {account_number} already exists",
            code="catalog.customer_exists",
            account_number=account_number,
        )


def shown(customer: Customer) -> CustomerOut:
    """A customer as the API shows it."""
    return records.shape(CustomerOut, customer)


def view(customer: Customer) -> dict[str, Any]:
    """A customer as the audit trail and events show it."""
    return shown(customer).model_dump(mode="json")


def create_customer(session: Session, data: CustomerCreate, *, actor: Principal) -> Customer:
    """Add a customer; a B2B account number must be new."""
    customer = Customer(**data.model_dump(exclude_none=True), email=data.email)
    records.add_new(session, customer, exists=lambda: CustomerExists(data.account_number))
    records.record_created(
        session, entity="customer", key=str(customer.id), view=view(customer), actor=actor
    )
    return customer


def get_customer(session: Session, customer_id: int, *, lock: bool = False) -> Customer:
    """The customer with this id, active or not; `lock` holds it until the transaction ends."""
    customer = repository.customer_by_id(session, customer_id, lock=lock)
    if customer is None:
        raise CustomerNotFound(customer_id)
    return customer


def update_customer(
    session: Session,
    customer_id: int,
    data: CustomerUpdate,
    *,
    actor: Principal,
    expected_version: int | None = None,
) -> Customer:
    """Change the fields sent; with `expected_version`, only if nobody changed it meanwhile."""
    customer = get_customer(session, customer_id, lock=True)
    changes = data.model_dump(exclude_unset=True)
    merged, updates = records.merge(customer, changes, schema=CustomerCreate)
    if "emails" in changes:
        updates["email"] = merged.email
    try:
        with session.begin_nested():
            records.apply_update(
                session,
                customer,
                updates,
                entity="customer",
                key=str(customer.id),
                view=lambda: view(customer),
                actor=actor,
                expected_version=expected_version,
            )
    except IntegrityError as exc:
        raise CustomerExists(merged.account_number) from exc
    return customer


def search_customers(
    session: Session, filters: repository.CustomerFilter, page: PageRequest
) -> Page[Customer]:
    """Customers matching `filters`, one page at a time; e-mail matches ignore case."""
    if filters.email:
        filters = replace(filters, email=filters.email.strip().lower())
    return repository.search_customers(session, filters, page)
