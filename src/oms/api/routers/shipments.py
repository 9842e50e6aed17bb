"""Shipments: `/api/v1/shipments`."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/shipments", tags=["shipments"])
