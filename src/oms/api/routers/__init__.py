"""Every router of the API, in the order the OpenAPI document lists them."""

from fastapi import APIRouter

from oms.api.routers import audit, health, items

ROUTERS: list[APIRouter] = [health.router, items.router, audit.router]
