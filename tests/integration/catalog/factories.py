"""Small master-data payloads with keyword defaults, shared by the catalog and API tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from oms.audit import AuditEntry
from oms.outbox.models import OutboxEvent


def address(**overrides: Any) -> dict[str, Any]:
    return {
        "line1": "1 Commerce St",
        "city": "Dallas",
        "region": "TX",
        "postal_code": "75201",
        "country": "US",
        **overrides,
    }


def warehouse(code: str = "DAL", **overrides: Any) -> dict[str, Any]:
    return {
        "code": code,
        "name": f"{code} DC",
        "type": "own",
        "address": address(),
        "latitude": 32.78,
        "longitude": -96.80,
        **overrides,
    }


def channel(code: str = "web", **overrides: Any) -> dict[str, Any]:
    return {
        "code": code,
        "name": f"{code} shop",
        "type": "web_shop",
        "currency": "USD",
        **overrides,
    }


def supplier(code: str = "ACME", **overrides: Any) -> dict[str, Any]:
    return {
        "code": code,
        "name": f"{code} Supply Co",
        "currency": "USD",
        "payment_terms": "NET30",
        "lead_time_days": 14,
        "contacts": [{"name": "Ana Lopez", "email": "ana@acme.example", "role": "sales"}],
        "address": address(
            line1="9 Mill Rd", city="Shenzhen", region=None, postal_code="518000", country="CN"
        ),
        **overrides,
    }


def b2c_customer(**overrides: Any) -> dict[str, Any]:
    return {
        "type": "b2c",
        "name": "Jane Doe",
        "emails": ["Jane.Doe@Example.com"],
        "phones": ["+1 415 555 0123"],
        "addresses": [address()],
        **overrides,
    }


def b2b_customer(account_number: str = "C-1001", **overrides: Any) -> dict[str, Any]:
    return {
        "type": "b2b",
        "name": "Initech Inc",
        "emails": ["orders@initech.example"],
        "account_number": account_number,
        "credit_limit": "50000.00",
        "credit_currency": "USD",
        **overrides,
    }


def audit_actions(session: Session, entity_type: str, entity_id: str) -> list[str]:
    """The audit actions recorded for one entity, oldest first."""
    stmt = (
        select(AuditEntry.action)
        .where(AuditEntry.entity_type == entity_type, AuditEntry.entity_id == entity_id)
        .order_by(AuditEntry.id)
    )
    return list(session.scalars(stmt))


def event_topics(session: Session, key: str) -> list[str]:
    """The outbox topics recorded under one key, oldest first."""
    stmt = select(OutboxEvent.topic).where(OutboxEvent.key == key).order_by(OutboxEvent.id)
    return list(session.scalars(stmt))
