"""Every route × every role against the permission matrix.

A route must declare its permission (`require(...)` or `public()`); a role
outside the permission's roles gets 403 `auth.forbidden`, a role inside it never
does, and a request without credentials gets 401.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from oms.api.app import create_app
from oms.api.deps import PermissionGuard, PublicRoute
from oms.api.routers import ROUTERS
from oms.auth.permissions import MATRIX, Permission, Role
from oms.config import Settings
from tests.conftest import AuthHeaders


def _ids(value: object) -> str:
    return value if isinstance(value, str) else ""


def declared_permission(route: APIRoute) -> Permission | str | None:
    """The permission a route declares through its dependencies, searched recursively."""
    pending = list(route.dependant.dependencies)
    while pending:
        dependant = pending.pop()
        if isinstance(dependant.call, PermissionGuard | PublicRoute):
            return dependant.call.permission
        pending.extend(dependant.dependencies)
    return None


def api_routes() -> Iterator[tuple[str, str, APIRoute]]:
    for router in ROUTERS:
        for route in router.routes:
            assert isinstance(route, APIRoute)
            for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
                yield method, route.path, route


def openapi_operations(app: FastAPI) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }


def concrete(path: str) -> str:
    """The path with each `{param}` filled with a value no record has."""
    return re.sub(r"\{[^}]+\}", "999999", path)


def call(client: TestClient, method: str, path: str, headers: dict[str, str]) -> Any:
    body = {} if method in ("POST", "PUT", "PATCH") else None
    return client.request(method, concrete(path), headers=headers, json=body)


ALL_ROUTES = list(api_routes())
PROTECTED_ROUTES = [r for r in ALL_ROUTES if declared_permission(r[2]) != "public"]


def test_the_routes_checked_here_are_every_route_the_app_serves() -> None:
    app = create_app(Settings(database_url="sqlite://"))
    documented = openapi_operations(app)
    hidden = {("GET", "/metrics")}

    assert {(m, p) for m, p, _ in ALL_ROUTES} == documented | hidden


@pytest.mark.parametrize(("method", "path", "route"), ALL_ROUTES, ids=_ids)
def test_every_route_declares_a_permission_from_the_matrix(
    method: str, path: str, route: APIRoute
) -> None:
    permission = declared_permission(route)

    assert permission is not None, f"{method} {path} declares no permission"
    assert permission == "public" or permission in MATRIX


@pytest.mark.parametrize(("method", "path", "route"), PROTECTED_ROUTES, ids=_ids)
def test_every_role_gets_exactly_what_the_matrix_grants(
    client: TestClient, auth_headers: AuthHeaders, method: str, path: str, route: APIRoute
) -> None:
    permission = declared_permission(route)
    assert isinstance(permission, Permission), f"{method} {path} declares no permission"

    outcomes = {role: call(client, method, path, auth_headers(role.value)) for role in Role}

    for role, response in outcomes.items():
        if role in MATRIX[permission]:
            assert response.status_code not in (401, 403), f"{role} refused {method} {path}"
        else:
            assert response.status_code == 403, f"{role} allowed {method} {path}"
            assert response.json()["code"] == "auth.forbidden"


@pytest.mark.parametrize(("method", "path", "route"), PROTECTED_ROUTES, ids=_ids)
def test_every_protected_route_refuses_a_request_without_credentials(
    client: TestClient, method: str, path: str, route: APIRoute
) -> None:
    response = call(client, method, path, {})

    assert response.status_code == 401
    assert response.json()["code"] == "auth.unauthenticated"
    assert response.headers["WWW-Authenticate"] == "Bearer"
