"""Shapes shared by every router."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel

T = TypeVar("T")


class ListOf(BaseModel, Generic[T]):
    """Every list answer: `{"items": [...], "next_cursor": "…" | null}`."""

    items: list[T]
    next_cursor: str | None
