"""RFC 9457 problem+json for every error, mapped from the error tree by branch."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from oms import errors
from oms.kit.validation import problems_from

PROBLEM_JSON = "application/problem+json"

STATUS_BY_ERROR: list[tuple[type[errors.OmsError], int]] = [
    (errors.NotFound, 404),
    (errors.Conflict, 409),
    (errors.PreconditionFailed, 412),
    (errors.ValidationFailed, 422),
    (errors.Unauthenticated, 401),
    (errors.PermissionDenied, 403),
]


def status_for(exc: errors.OmsError) -> int:
    for kind, status in STATUS_BY_ERROR:
        if isinstance(exc, kind):
            return status
    return 400


def problem_response(
    request: Request,
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """A problem+json response carrying `code`, the request id and any extra members."""
    body: dict[str, Any] = {
        "type": f"https://item-oms.org/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "code": code,
        "request_id": structlog.contextvars.get_contextvars().get("request_id"),
    }
    if extra:
        body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


async def _oms_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.OmsError)
    status = status_for(exc)
    extra: dict[str, Any] = {}
    if isinstance(exc, errors.ValidationFailed):
        extra["errors"] = [p.as_dict() for p in exc.problems]
    if exc.details:
        extra["details"] = exc.details
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return problem_response(
        request,
        status=status,
        code=exc.code,
        title=exc.title,
        detail=str(exc),
        extra=extra,
        headers=headers,
    )


async def _request_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = []
    for error in exc.errors():
        location = list(error.get("loc", ()))
        if location and location[0] in ("body", "query", "path", "header"):
            where = location.pop(0)
            if where != "body":
                location.insert(0, where)
        problems.extend(problems_from([{**error, "loc": tuple(location)}]))  # type: ignore[typeddict-item]
    listed = "; ".join(f"{p.path}: {p.message}" for p in problems)
    return problem_response(
        request,
        status=422,
        code="validation.failed",
        title="Validation failed",
        detail=f"The request is not valid: {listed}",
        extra={"errors": [p.as_dict() for p in problems]},
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    phrase = HTTPStatus(exc.status_code).phrase
    code = {404: "http.not_found", 405: "http.method_not_allowed"}.get(
        exc.status_code, f"http.{phrase.lower().replace(' ', '_')}"
    )
    return problem_response(
        request,
        status=exc.status_code,
        code=code,
        title=phrase,
        detail=str(exc.detail),
        headers=dict(exc.headers) if exc.headers else None,
    )


def server_error(request: Request) -> JSONResponse:
    """The 500 problem for an unexpected failure."""
    return problem_response(
        request,
        status=500,
        code="server.error",
        title="Internal Server Error",
        detail="Something went wrong on our side; quote the request id when you report it.",
    )


RETRY_AFTER_SECONDS = 1


def contended(request: Request) -> JSONResponse:
    """The 503 problem for work that met a lock conflict on every attempt: nothing of it
    was kept, and the same request may be sent again."""
    return problem_response(
        request,
        status=503,
        code="server.contended",
        title="Service Unavailable",
        detail="Concurrent requests changed what this one read, on every attempt; nothing "
        "was kept. Send it again.",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # `RequestContext` has logged the failure and answered it already, with its request id;
    # Starlette still asks this handler, whose answer then goes unsent.
    return server_error(request)


def install(app: FastAPI) -> None:
    """Register the handlers that turn every failure into problem+json."""
    app.add_exception_handler(errors.OmsError, _oms_error)
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
