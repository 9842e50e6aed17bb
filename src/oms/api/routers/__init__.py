"""Every router of the API, in the order the OpenAPI document lists them."""

from fastapi import APIRouter

from oms.api.routers import (
    audit,
    channels,
    customers,
    fulfillment_orders,
    health,
    inbox,
    inventory,
    items,
    order_intake,
    order_search,
    orders,
    reservations,
    routing,
    routing_simulation,
    snapshots,
    suppliers,
    warehouses,
    webhooks,
)

ROUTERS: list[APIRouter] = [
    health.router,
    items.router,
    warehouses.router,
    channels.router,
    suppliers.router,
    customers.router,
    inventory.router,
    order_intake.router,
    order_search.router,
    orders.router,
    routing.router,
    routing_simulation.router,
    fulfillment_orders.router,
    reservations.router,
    snapshots.router,
    inbox.router,
    audit.router,
    webhooks.router,
]
