"""Order intake: `POST /api/v1/orders` (one) and `POST /api/v1/orders/bulk` (up to 1,000).

Each payload runs in three transactions: it is stored raw in the inbox (with the
number its order would get) and committed before anything reads it; then it is
processed, its outcome noted in the same transaction; when processing fails, the
stored payload is marked failed with every problem, and stays there to be
replayed after a fix (`POST /api/v1/inbox/{id}/replay`).
"""

from __future__ import annotations

import asyncio
import json
from functools import partial
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request, Response, status
from pydantic import BaseModel
from sqlalchemy.orm import Session

from oms.api.deps import Check, database, require_batched, require_standalone
from oms.api.intake_batching import IntakeBatcher, Taken
from oms.auth.permissions import Permission
from oms.auth.principal import Principal
from oms.db import Database
from oms.errors import OmsError, Problem, ValidationFailed
from oms.orders import intake, views
from oms.orders.intake import IntakeResult, Outcome
from oms.orders.schemas import OrderIn
from oms.orders.views import OrderOut

router = APIRouter(prefix="/api/v1/orders", tags=["orders"])

Writer = Annotated[Principal, Depends(require_standalone(Permission.ORDERS_WRITE))]
BatchedWriter = Annotated[Check, Depends(require_batched(Permission.ORDERS_WRITE))]
DatabaseDep = Annotated[Database, Depends(database)]

MAX_BULK = 1000
CHUNK = 100
"""Bulk orders processed per transaction (each in a savepoint of its own)."""


class ProblemOut(BaseModel):
    path: str
    message: str
    code: str


class IntakeOut(BaseModel):
    """What became of a delivered order: `created` (201), `duplicate` or `changed` (200)."""

    outcome: Outcome
    inbox_id: int
    problems: list[ProblemOut]
    """What the order is held for, when its channel holds invalid orders."""
    order: OrderOut


class BulkResultOut(BaseModel):
    index: int
    """The order's place in the request, from 0."""
    inbox_id: int
    status: Literal["created", "duplicate", "changed", "refused", "failed"]
    order_id: int | None
    number: str | None
    problems: list[ProblemOut]
    """Why it failed or was refused, or what it is held for."""


class BulkOut(BaseModel):
    results: list[BulkResultOut]
    counts: dict[str, int]


async def raw_body(request: Request) -> bytes:
    return await request.body()


RawBody = Annotated[bytes, Depends(raw_body)]


def _text(raw: bytes) -> str:
    """The body as text; bytes that are not UTF-8 are kept, replaced, and fail parsing.
    A NUL character no database column keeps is refused at once (422)."""
    if b"\x00" in raw:
        raise ValidationFailed(
            [Problem("body", "contains a NUL character, which no order may hold", "body_invalid")]
        )
    return raw.decode("utf-8", errors="replace")


def _problems(problems: list[Problem]) -> list[ProblemOut]:
    return [ProblemOut(**p.as_dict()) for p in problems]


def _inlined(schema: dict[str, Any]) -> dict[str, Any]:
    """A JSON schema with its `$defs` written in where named (OpenAPI cannot follow them)."""
    definitions = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(value) for value in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            named = walk(definitions[ref.removeprefix("#/$defs/")])
            return {**named, **{k: walk(v) for k, v in node.items() if k != "$ref"}}
        return {key: walk(value) for key, value in node.items()}

    result: dict[str, Any] = walk(schema)
    return result


ORDER_SCHEMA = _inlined(OrderIn.model_json_schema())


def run_stored(
    db: Database, inbox_id: int, body: str, *, number: str, actor: Principal
) -> tuple[IntakeResult, OrderOut]:
    """Process a stored payload and show the order; on failure mark the payload failed,
    in a transaction of its own, and answer 422 naming every problem."""

    def take_in(session: Session) -> tuple[IntakeResult, OrderOut]:
        result = intake.receive(session, inbox_id, body, actor=actor, number=number)
        if result.pending is not None:
            return result, result.pending.shown(result.order, result.lines)
        return result, views.order_out(session, result.order)

    try:
        result, shown = db.run(take_in)
    except OmsError as exc:
        failed = intake.as_validation_failure(exc)
        with db.transaction() as session:
            intake.record_failure(session, inbox_id, failed.problems)
        raise intake.kept_but_refused(inbox_id, failed) from exc
    refused = intake.refusal(inbox_id, result)
    if refused is not None:
        raise refused
    return result, shown


def settle(db: Database, inbox_id: int, body: str, number: str, actor: Principal) -> Taken:
    """One stored delivery taken in on its own (the intake batcher's way back)."""
    result, shown = run_stored(db, inbox_id, body, number=number, actor=actor)
    return Taken(actor, inbox_id, result, shown)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=IntakeOut,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": ORDER_SCHEMA}},
        }
    },
    responses={
        200: {"description": "A re-delivery: the same order (`duplicate`) or changed by it"},
        409: {"description": "`order.change_refused`: a change the order no longer allows"},
        422: {"description": "Every problem at its path; the payload stays in the inbox"},
    },
)
async def create_order(request: Request, raw: RawBody, check: BatchedWriter) -> Response:
    """Take in one order, idempotent by (channel, external id): 201 with the new order; 200
    with the same order for a re-delivery, changed by it if its content differs and the
    order still allows it (409 `order.change_refused` with the reason if not). 422 names
    every problem (`lines[1].sku`, `ship_to.postal_code`), unless the channel holds invalid
    orders; the raw payload is kept in the inbox either way.

    Concurrent deliveries are taken in together by the intake batcher (a transaction to
    store them, one to take them in); each gets its own answer."""
    batcher: IntakeBatcher = request.app.state.intake_batcher
    authorization = request.headers.get("authorization")
    reply = batcher.submit(_text(raw), authorization, check)
    try:
        taken = await asyncio.wrap_future(reply)
    finally:
        # Who sent it, for the access log, whatever the answer (a 422 or 409 too).
        request.state.principal = reply.sender
    result = taken.result
    answer = IntakeOut(
        outcome=result.outcome,
        inbox_id=taken.inbox_id,
        problems=_problems(result.problems),
        order=taken.shown,
    )
    # Serialized here, once (FastAPI would validate the model again before serializing).
    created = result.outcome == Outcome.CREATED
    return Response(
        answer.model_dump_json(),
        status_code=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        headers={"Location": f"/api/v1/orders/{result.order.id}"} if created else None,
        media_type="application/json",
    )


def _bulk_orders(raw: bytes) -> list[str]:
    """Each order of a bulk body (`{"orders": [...]}` or a bare list) as its own JSON text."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed([Problem("body", f"is not JSON: {exc}", "json_invalid")]) from exc
    orders = data.get("orders") if isinstance(data, dict) else data
    if not isinstance(orders, list):
        raise ValidationFailed(
            [Problem("orders", 'send {"orders": [...]} or a list of orders', "list_type")]
        )
    if not 1 <= len(orders) <= MAX_BULK:
        raise ValidationFailed(
            [
                Problem(
                    "orders",
                    f"send between 1 and {MAX_BULK} orders at once, not {len(orders)}",
                    "too_long" if orders else "too_short",
                )
            ]
        )
    return [json.dumps(order, ensure_ascii=False) for order in orders]


def _bulk_result(
    index: int, inbox_id: int, outcome: IntakeResult | ValidationFailed
) -> BulkResultOut:
    if isinstance(outcome, ValidationFailed):
        return BulkResultOut(
            index=index,
            inbox_id=inbox_id,
            status="failed",
            order_id=None,
            number=None,
            problems=_problems(outcome.problems),
        )
    problems = outcome.problems
    if outcome.outcome == Outcome.REFUSED:
        problems = [Problem("body", outcome.reason or "refused", "order.change_refused")]
    return BulkResultOut(
        index=index,
        inbox_id=inbox_id,
        status=outcome.outcome.value,
        order_id=outcome.order.id,
        number=outcome.order.number,
        problems=_problems(problems),
    )


@router.post(
    "/bulk",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "orders": {
                                "type": "array",
                                "maxItems": MAX_BULK,
                                "items": ORDER_SCHEMA,
                            }
                        },
                        "required": ["orders"],
                    }
                }
            },
        }
    },
)
def create_orders(raw: RawBody, actor: Writer, db: DatabaseDep) -> BulkOut:
    """Take in up to 1,000 orders: each is stored raw, then processed on its own, so one
    bad order does not reject the others; 200 with one result per order, in the order
    sent (`created`, `duplicate`, `changed`, `refused` or `failed`, with its problems).
    A body that is not a list of 1 to 1,000 orders is refused whole (422)."""
    bodies = _bulk_orders(raw)
    with db.transaction() as session:
        kept = intake.store_numbered(session, bodies, source="api", actor=actor)
    ids = [inbox_id for inbox_id, _ in kept]
    stored = [
        (inbox_id, body, number) for (inbox_id, number), body in zip(kept, bodies, strict=True)
    ]
    # Orders of a chunk that go the general way lock balance rows order by order, so two
    # concurrent bulk requests can deadlock, and the lane's take can find units another
    # took: such a chunk is run again, then taken in an order at a time.
    outcomes = db.in_chunks(stored, CHUNK, partial(intake.receive_numbered, actor=actor))
    results = [
        _bulk_result(index, inbox_id, outcome)
        for index, (inbox_id, outcome) in enumerate(zip(ids, outcomes, strict=True))
    ]
    counts: dict[str, int] = {}
    for result in results:
        counts[result.status] = counts.get(result.status, 0) + 1
    return BulkOut(results=results, counts=counts)
