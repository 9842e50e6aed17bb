"""Inventory failures, each with a stable code."""

from __future__ import annotations

from oms.errors import Conflict, NotFound


class InsufficientStock(Conflict):
    """Available stock does not cover a reservation or an outgoing movement."""

    def __init__(self, *, sku: str, warehouse: str, requested: int, available: int) -> None:
        super().__init__(
            f"only {available} of {sku} available at {warehouse}; {requested} requested",
            code="inventory.insufficient_stock",
            sku=sku,
            warehouse=warehouse,
            requested=requested,
            available=available,
        )


class NegativeStock(Conflict):
    """A movement would take on hand below zero."""

    def __init__(self, *, sku: str, warehouse: str, on_hand: int, change: int) -> None:
        super().__init__(
            f"{sku} at {warehouse} has {on_hand} on hand; a change of {change} would go below zero",
            code="inventory.negative_on_hand",
            sku=sku,
            warehouse=warehouse,
            on_hand=on_hand,
            change=change,
        )


class ReservationNotFound(NotFound):
    def __init__(self, reservation_id: int) -> None:
        super().__init__("reservation", reservation_id, code="inventory.reservation_not_found")


class ReservationNotActive(Conflict):
    def __init__(self, reservation_id: int, status: str) -> None:
        super().__init__(
            f"reservation {reservation_id} is {status}, not active",
            code="inventory.reservation_not_active",
            reservation_id=reservation_id,
            status=status,
        )


class TransferNotFound(NotFound):
    def __init__(self, transfer_id: int) -> None:
        super().__init__("transfer", transfer_id, code="inventory.transfer_not_found")
