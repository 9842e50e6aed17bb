"""The WMS side of the API and WMS connections: `/api/v1/fulfillment-orders/{id}/…`
messages from a warehouse's WMS, and `/api/v1/warehouses/{code}/wms-connection`."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["wms"])
