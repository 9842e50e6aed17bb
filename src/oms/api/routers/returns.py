"""Returns: `/api/v1/returns`."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/returns", tags=["returns"])
