"""ASGI middleware: request ids, access logs and metrics, and Idempotency-Key replays."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import os
import re
import time
import uuid
from typing import Any

import structlog
from anyio.to_thread import run_sync
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from oms import idempotency
from oms.api.metrics import Metrics
from oms.api.problems import contended, problem_response, server_error
from oms.db import Database, is_lock_conflict

log = structlog.get_logger("oms.api")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")


class _RequestIds:
    """Request ids as unique as uuid4's, for less: 16 random hex digits drawn once per
    process, then a counter (reading the kernel's randomness for every request cost
    more than the rest of the request's context)."""

    def __init__(self) -> None:
        self._pid = 0
        self._prefix = ""
        self._counter = itertools.count()

    def __call__(self) -> str:
        if self._pid != os.getpid():  # a forked worker draws its own prefix
            self._pid, self._prefix = os.getpid(), uuid.uuid4().hex[:16]
            self._counter = itertools.count()
        return f"{self._prefix}{next(self._counter):016x}"


new_request_id = _RequestIds()


def route_template(scope: Scope) -> str:
    """The matched route's path template (`/api/v1/items/{sku}`), so metrics stay
    low-cardinality; the router leaves the route in the scope once it has matched."""
    route = scope.get("route")
    return str(getattr(route, "path", "unmatched"))


class RequestContext:
    """Accepts or makes `X-Request-ID`, echoes it, logs and measures every request.

    An unexpected failure is answered here, inside the request's context, so its
    500 problem and its log line carry the request id like every other answer.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = Headers(scope=scope).get("x-request-id")
        request_id = given if given and REQUEST_ID.match(given) else new_request_id()
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500
        started_response = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started_response
            if message["type"] == "http.response.start":
                status = message["status"]
                started_response = True
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            if is_lock_conflict(exc):
                # Contention outlasted every retry (a deadlock each time, stock taken
                # under it each time): nothing of the attempt was kept; try again shortly.
                log.warning("request_contended", path=scope["path"], error=str(exc)[:200])
                if not started_response:
                    await contended(Request(scope))(scope, receive, send_with_id)
                    return
                raise
            log.exception("unhandled_error", path=scope["path"])
            if not started_response:
                await server_error(Request(scope))(scope, receive, send_with_id)
            raise
        finally:
            elapsed = time.perf_counter() - started
            route = route_template(scope)
            # The permission check ran in a worker thread: its context binding stays there,
            # but the principal it found is kept in the request's state.
            principal = scope.get("state", {}).get("principal")
            if principal is not None:
                structlog.contextvars.bind_contextvars(principal=principal.label)
            self.metrics.requests.labels(scope["method"], route, str(status)).inc()
            self.metrics.latency.labels(scope["method"], route).observe(elapsed)
            if route not in ("/metrics", "/healthz"):
                log.info(
                    "request",
                    method=scope["method"],
                    path=scope["path"],
                    status=status,
                    ms=round(elapsed * 1000, 2),
                )
            structlog.contextvars.clear_contextvars()


class Idempotency:
    """Replays the stored answer to a POST retried with the same `Idempotency-Key`.

    The key is scoped by the caller's credentials. Same key and same body: the
    first answer again, marked `Idempotent-Replayed: true`. Same key, another
    body: 409. Same key while the first request still runs: 409 as well.
    Answers of 5xx are not kept, so a retry after a failure runs again.
    """

    def __init__(self, app: ASGIApp, database: Database) -> None:
        self.app = app
        self.database = database

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        key = headers.get("idempotency-key")
        if not key:
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        if len(key) > 255:
            await problem_response(
                request,
                status=422,
                code="idempotency.key_invalid",
                title="Invalid header",
                detail="Idempotency-Key must be at most 255 characters",
                extra={
                    "errors": [
                        {"path": "Idempotency-Key", "message": "too long", "code": "too_long"}
                    ]
                },
            )(scope, receive, send)
            return
        body = await request.body()
        scope_id = hashlib.sha256(headers.get("authorization", "").encode()).hexdigest()
        request_hash = hashlib.sha256(
            scope["method"].encode()
            + b" "
            + scope["path"].encode()
            + b"?"
            + scope.get("query_string", b"")
            + b"\n"
            + body
        ).hexdigest()

        stored = await run_sync(self._claim_or_find, scope_id, key, request_hash)
        if stored is not None:
            await self._answer_from(stored, request_hash, request, scope, receive, send)
            return

        captured: dict[str, Any] = {"status": 500, "headers": [], "body": b""}

        async def replay_body() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                captured["headers"] = message.get("headers", [])
            elif message["type"] == "http.response.body":
                captured["body"] += message.get("body", b"")
            await send(message)

        try:
            await self.app(scope, replay_body, capture)
        finally:
            await run_sync(self._finish, scope_id, key, captured)

    def _claim_or_find(
        self, scope_id: str, key: str, request_hash: str
    ) -> idempotency.IdempotencyRecord | None:
        """None when this request claimed the key; else the record of whoever holds it."""
        with self.database.transaction() as session:
            if idempotency.claim(session, scope=scope_id, key=key, request_hash=request_hash):
                return None
            return idempotency.find(session, scope=scope_id, key=key)

    def _finish(self, scope_id: str, key: str, captured: dict[str, Any]) -> None:
        with self.database.transaction() as session:
            if captured["status"] >= 500:
                idempotency.release(session, scope=scope_id, key=key)
                return
            content_type = Headers(raw=captured["headers"]).get("content-type", "application/json")
            idempotency.complete(
                session,
                scope=scope_id,
                key=key,
                status_code=captured["status"],
                content_type=content_type,
                body=captured["body"],
            )

    async def _answer_from(
        self,
        stored: idempotency.IdempotencyRecord,
        request_hash: str,
        request: Request,
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> None:
        if stored.request_hash != request_hash:
            response: Response = problem_response(
                request,
                status=409,
                code="idempotency.key_reused",
                title="Idempotency-Key reused with a different request",
                detail="This Idempotency-Key was used for another request; use a new key",
            )
        elif stored.status_code is None:
            response = problem_response(
                request,
                status=409,
                code="idempotency.in_progress",
                title="Request still in progress",
                detail="A request with this Idempotency-Key is still running; retry shortly",
                headers={"Retry-After": "1"},
            )
        else:
            response = Response(
                content=stored.body or b"",
                status_code=stored.status_code,
                media_type=stored.content_type,
                headers={"Idempotent-Replayed": "true"},
            )
        await response(scope, receive, send)


class RequestGate:
    """At most `limit` requests at work at once; the rest wait here, in the event loop.

    A request's transaction is opened by a dependency on one worker thread and used by the
    endpoint on another. Were every worker thread taken by requests waiting for a database
    connection (PostgreSQL: the pool) or for the write lock (SQLite), the request that
    holds it could never get a thread to finish on, and all would wait out their timeouts.
    Keeping the requests at work below the threads, and below the pool, rules that out.
    Health and metrics pass freely, so a busy instance still says it is alive."""

    FREE = ("/healthz", "/metrics")
    BATCHED = (("POST", "/api/v1/orders"),)
    """Routes that hand their work to a batcher: they wait in its queue in the event loop,
    holding no worker thread and no connection (and the more of them wait, the larger
    the batch)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        self._gate: asyncio.Semaphore | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] in self.FREE
            or (scope["method"], scope["path"].rstrip("/")) in self.BATCHED
        ):
            await self.app(scope, receive, send)
            return
        if self._gate is None:
            self._gate = asyncio.Semaphore(self.limit)
        async with self._gate:
            await self.app(scope, receive, send)
