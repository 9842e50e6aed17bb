"""Pydantic validation errors as field problems (`lines[2].sku`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError

from oms.errors import Problem, ValidationFailed

M = TypeVar("M", bound=BaseModel)


def field_path(location: Sequence[int | str]) -> str:
    """`("lines", 2, "sku")` → `lines[2].sku`."""
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "body"


def problems_from(
    errors: Sequence[ErrorDetails], *, prefix: Sequence[int | str] = ()
) -> list[Problem]:
    """One Problem per pydantic error, with a readable path and message."""
    problems = []
    for error in errors:
        location = [*prefix, *(p for p in error["loc"] if not _is_union_tag(p))]
        message = error["msg"]
        if message.startswith("Value error, "):
            message = message.removeprefix("Value error, ")
        problems.append(Problem(field_path(location), message, error["type"]))
    return problems


def _is_union_tag(part: int | str) -> bool:
    # pydantic names union members and function validators in the location; people don't.
    return isinstance(part, str) and ("[" in part or part.startswith("function-"))


def refuse(model: str, problems: list[tuple[str, str]]) -> None:
    """Inside a model validator: raise each problem at its own field's path, not the body's."""
    if problems:
        raise PydanticValidationError.from_exception_data(
            model,
            [
                InitErrorDetails(
                    type=PydanticCustomError("value_error", message), loc=(field,), input=None
                )
                for field, message in problems
            ],
        )


def refuse_nulls(update: BaseModel, names: tuple[str, ...]) -> None:
    """Inside an update's validator: `null` clears an optional field, never one of `names`."""
    refuse(
        type(update).__name__,
        [
            (name, "may not be null; leave it out to keep its value")
            for name in names
            if name in update.model_fields_set and getattr(update, name) is None
        ],
    )


def parse(model: type[M], data: Any, *, prefix: Sequence[int | str] = ()) -> M:
    """Validate `data` as `model`, or raise ValidationFailed naming every bad field."""
    try:
        return model.model_validate(data)
    except PydanticValidationError as exc:
        raise ValidationFailed(problems_from(exc.errors(), prefix=prefix)) from exc
