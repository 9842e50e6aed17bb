"""Tracking: `/api/v1/tracking`."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/tracking", tags=["tracking"])
