"""Cursor pagination: opaque cursors over a (sort value, id) keyset.

A cursor is the URL-safe base64 of the last row's sort key, so a page never
skips or repeats a row however many rows are inserted meanwhile.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, and_, or_
from sqlalchemy.orm import InstrumentedAttribute, Session

from oms.errors import Problem, ValidationFailed

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


@dataclass(frozen=True)
class PageRequest:
    """What a client asked for: how many, after which cursor, in which order."""

    limit: int = DEFAULT_LIMIT
    cursor: str | None = None
    sort: str | None = None


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps(values, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed([Problem("cursor", "is not a cursor this API gave out")]) from exc
    if not isinstance(values, list) or len(values) != 2:
        raise ValidationFailed([Problem("cursor", "is not a cursor this API gave out")])
    return values


def paginate(
    session: Session,
    stmt: Select[Any],
    *,
    request: PageRequest,
    sortable: dict[str, InstrumentedAttribute[Any]],
    default_sort: str,
    id_column: InstrumentedAttribute[Any],
) -> Page[T]:
    """Run `stmt` for one page, ordered by `request.sort` (`name` or `-name`) then id."""
    sort = request.sort or default_sort
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    if key not in sortable:
        allowed = ", ".join(sorted(sortable))
        raise ValidationFailed([Problem("sort", f"unknown sort key {key!r}; use one of {allowed}")])
    if not 1 <= request.limit <= MAX_LIMIT:
        raise ValidationFailed([Problem("limit", f"must be between 1 and {MAX_LIMIT}")])
    column = sortable[key]
    if request.cursor:
        last_value, last_id = decode_cursor(request.cursor)
        stmt = stmt.where(_after(column, id_column, last_value, last_id, descending=descending))
    if descending:
        stmt = stmt.order_by(column.desc(), id_column.desc())
    else:
        stmt = stmt.order_by(column.asc(), id_column.asc())
    rows: list[T] = list(session.scalars(stmt.limit(request.limit + 1)))
    items = rows[: request.limit]
    next_cursor = None
    if len(rows) > request.limit:
        last = items[-1]
        next_cursor = encode_cursor(
            [_json_value(getattr(last, column.key)), getattr(last, id_column.key)]
        )
    return Page(items=items, next_cursor=next_cursor)


def _json_value(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _after(
    column: InstrumentedAttribute[Any],
    id_column: InstrumentedAttribute[Any],
    value: Any,
    last_id: Any,
    *,
    descending: bool,
) -> ColumnElement[bool]:
    # A TypeDecorator (UtcDateTime) answers `object`; its implementation knows the type.
    python_type = getattr(column.type, "impl_instance", column.type).python_type
    if value is not None and not isinstance(value, python_type):
        value = _coerce(python_type, value)
    if descending:
        return or_(column < value, and_(column == value, id_column < last_id))
    return or_(column > value, and_(column == value, id_column > last_id))


def _coerce(python_type: type, value: Any) -> Any:
    import datetime as dt

    if python_type is dt.datetime:
        return dt.datetime.fromisoformat(value)
    return python_type(value)
