"""Dependencies every router uses: the transaction, the principal, paging, ETags."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated

import structlog
from fastapi import Depends, Header, Query, Request, Response
from sqlalchemy.orm import Session

from oms.auth import service as auth
from oms.auth.permissions import Permission
from oms.auth.principal import Principal
from oms.db import Database
from oms.errors import PermissionDenied, Problem, Unauthenticated, ValidationFailed
from oms.kit.paging import DEFAULT_LIMIT, MAX_LIMIT, PageRequest

PUBLIC = "public"


def database(request: Request) -> Database:
    db = request.app.state.database
    assert isinstance(db, Database)
    return db


def session(db: Annotated[Database, Depends(database)]) -> Iterator[Session]:
    """The request's one transaction: committed when the endpoint returns, else rolled back."""
    with db.transaction() as tx:
        yield tx


SessionDep = Annotated[Session, Depends(session, scope="function")]


@dataclass(frozen=True)
class PermissionGuard:
    """A route's declared permission; the route × role test finds it on every route."""

    permission: Permission | str

    def __call__(
        self,
        request: Request,
        tx: SessionDep,
        authorization: Annotated[str | None, Header()] = None,
    ) -> Principal:
        return self.check(request, tx, authorization)

    def check(self, request: Request, tx: Session, authorization: str | None) -> Principal:
        """Authenticate the bearer key and check the permission; the principal, or an error."""
        principal = self.principal(tx, authorization)
        request.state.principal = principal
        structlog.contextvars.bind_contextvars(principal=principal.label)
        return principal

    def principal(self, tx: Session, authorization: str | None) -> Principal:
        """Who an `Authorization` header names, if they hold the permission; else an error."""
        if self.permission == PUBLIC:
            raise RuntimeError("public routes use `public()`, not require()")
        if not authorization or not authorization.lower().startswith("bearer "):
            raise Unauthenticated("send `Authorization: Bearer <api key>`")
        token = authorization[7:].strip()
        principal = auth.authenticate_api_key(tx, token)
        assert isinstance(self.permission, Permission)
        if not principal.can(self.permission):
            raise PermissionDenied(
                f"{principal.label} lacks the permission {self.permission.value}",
                code="auth.forbidden",
                permission=self.permission.value,
            )
        return principal


@dataclass(frozen=True)
class StandaloneGuard(PermissionGuard):
    """A permission guard that authenticates in a short transaction of its own, for
    routes that must not hold the request's transaction open (they hand work to a
    batcher that owns its own transactions)."""

    def __call__(  # type: ignore[override]
        self,
        request: Request,
        db: Annotated[Database, Depends(database)],
        authorization: Annotated[str | None, Header()] = None,
    ) -> Principal:
        with db.transaction() as tx:
            return self.check(request, tx, authorization)


Check = Callable[[Session, str | None], Principal]


class BatchedGuard(PermissionGuard):
    """A permission guard whose check runs where the route's work runs: the route hands
    it, with the `Authorization` header, to a batcher that checks each caller inside the
    transaction that stores their payloads (the principal lands in the request's state
    once the batcher answers)."""

    async def __call__(self) -> Check:  # type: ignore[override]
        return self.principal


def require_batched(permission: Permission) -> BatchedGuard:
    """Like `require`, the check run by a batcher inside its first transaction."""
    return BatchedGuard(permission)


@dataclass(frozen=True)
class PublicRoute:
    """Marks a route as open to anyone (health, metrics); declared like a permission."""

    permission: str = PUBLIC

    def __call__(self) -> None:
        return None


def require_standalone(permission: Permission) -> StandaloneGuard:
    """Like `require`, without holding a transaction open for the rest of the request."""
    return StandaloneGuard(permission)


def require(permission: Permission) -> PermissionGuard:
    """The dependency that declares and checks a route's permission."""
    return PermissionGuard(permission)


def public() -> PublicRoute:
    return PublicRoute()


def page_request(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query()] = None,
    sort: Annotated[str | None, Query(description="field, or -field for descending")] = None,
) -> PageRequest:
    return PageRequest(limit=limit, cursor=cursor, sort=sort)


PageDep = Annotated[PageRequest, Depends(page_request)]


def expected_version(
    if_match: Annotated[str | None, Header(alias="If-Match")] = None,
) -> int | None:
    """The version an If-Match header names (`"3"` or `W/"3"`), or None when absent."""
    if if_match is None or if_match.strip() == "*":
        return None
    tag = if_match.strip().removeprefix("W/").strip('"')
    if not tag.isdigit():
        raise ValidationFailed([Problem("If-Match", 'must be an ETag this API gave out, as "3"')])
    return int(tag)


IfMatchDep = Annotated[int | None, Depends(expected_version)]


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = f'"{version}"'
