"""The buyer of an order: the customer it links by id or account number (which must
exist), else the active one with its e-mail address, else a new B2C customer made from
the order's snapshot of its buyer (through the catalog's customer service), one for
all the orders of a new buyer that arrive at once."""

from __future__ import annotations

from sqlalchemy.orm import Session

from oms.auth.principal import Principal
from oms.catalog import customers
from oms.catalog import repository as catalog
from oms.catalog.models import Customer, CustomerType
from oms.catalog.schemas import CustomerCreate
from oms.errors import Problem
from oms.kit.paging import PageRequest
from oms.orders.schemas import CustomerRef, OrderIn


def linked(session: Session, ref: CustomerRef) -> tuple[Customer | None, list[Problem]]:
    """The customer an order names by id or account number (which must exist), else the
    one with its e-mail address; None when a new one is to be made."""
    if ref.id is not None:
        found = catalog.customer_by_id(session, ref.id)
        if found is None:
            return None, [
                Problem("customer.id", f"no customer has the id {ref.id}", "order.unknown_customer")
            ]
        return found, []
    if ref.account_number:
        found = catalog.customer_by_account_number(session, ref.account_number)
        if found is None:
            message = f"no customer has the account number {ref.account_number!r}"
            return None, [Problem("customer.account_number", message, "order.unknown_customer")]
        return found, []
    if ref.email:
        page = customers.search_customers(
            session,
            catalog.CustomerFilter(email=ref.email, active=True),
            PageRequest(limit=1, sort="id"),
        )
        return (page.items[0] if page.items else None), []
    return None, []


def made_for(session: Session, payload: OrderIn, *, actor: Principal) -> Customer:
    """A B2C customer made from the order's snapshot of its buyer (for an order whose
    buyer `linked` found no customer). Orders of one new buyer taken in at once make one
    customer: with an e-mail address, the making holds a lock on it and looks again, so
    that the second finds the customer the first made."""
    ref = payload.customer
    if ref.email:
        catalog.lock_customer_email(session, ref.email)
        found, _ = linked(session, ref)
        if found is not None:
            return found
    name = ref.name or payload.ship_to.name or ref.email or "unnamed customer"
    data = CustomerCreate(
        type=CustomerType.B2C,
        name=name,
        emails=[ref.email] if ref.email else None,
        phones=[ref.phone] if ref.phone else None,
    )
    return customers.create_customer(session, data, actor=actor)
