"""The B2B credit check: a business customer's open orders, with this one, must stay
within its credit limit, or the order waits on a credit hold.

Open means neither cancelled nor closed. Orders are weighed in the limit's
currency only: an order in another currency cannot be compared, so it holds
too, saying why. A customer without a limit (every B2C one) is not checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from sqlalchemy.orm import Session

from oms.catalog import customers
from oms.catalog.models import Customer, CustomerType
from oms.orders import repository
from oms.orders.models import SalesOrder
from oms.orders.schemas import quantize


def is_checked(customer: Customer | None) -> bool:
    """Only a business customer with a credit limit is checked."""
    return (
        customer is not None
        and customer.type == CustomerType.B2B
        and customer.credit_limit is not None
    )


def shortfall(
    limit: Decimal, currency: str, open_value: Mapping[str, Decimal], order_value: Decimal
) -> str | None:
    """Why an order of `order_value` (in `currency`'s limit, added to the open orders'
    value per currency) must wait for credit approval; None when it fits. Pure."""
    foreign = sorted(c for c in open_value if c != currency)
    limit = quantize(limit, currency)
    if foreign:
        return (
            f"orders in {', '.join(foreign)} cannot be weighed against "
            f"the {currency} credit limit of {limit}"
        )
    exposure = quantize(open_value.get(currency, Decimal(0)) + order_value, currency)
    if exposure > limit:
        return (
            f"open orders and this one come to {exposure} {currency}, "
            f"over the credit limit of {limit}"
        )
    return None


def check(session: Session, customer: Customer, order: SalesOrder) -> str | None:
    """The credit hold's reason for `order` (already stored), or None.

    The customer's row is locked first, so two orders of the same customer are
    weighed one after the other, each seeing the other's value (PostgreSQL).
    """
    if not is_checked(customer):
        return None
    customers.get_customer(session, customer.id, lock=True)
    assert customer.credit_limit is not None
    currency = customer.credit_currency or order.currency
    open_value = dict(repository.open_order_value(session, customer.id, excluding=order.id))
    if order.currency != currency:
        open_value.setdefault(order.currency, Decimal(0))
    return shortfall(customer.credit_limit, currency, open_value, order.total)
