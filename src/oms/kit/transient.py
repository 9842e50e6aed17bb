"""Transient ORM objects made without the instrumented constructor.

A mapped class's constructor sets each attribute through SQLAlchemy's instrumentation,
an event per attribute: for a row the caller writes itself (a batched write) and only
reads back as an object, that costs more than the rest of the work on it. `transient`
makes the same object — a new instance with its state, its attributes in place — the
way SQLAlchemy fills an object it loads. The object is not in a session and carries
no history: it is to be read (and may be changed as usual), never added to a session.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from sqlalchemy import inspect
from sqlalchemy.orm import Mapper, configure_mappers

T = TypeVar("T")


def transient(cls: type[T], values: Mapping[str, Any]) -> T:
    """An instance of the mapped `cls` with `values` as its attributes."""
    mapper: Mapper[T] = inspect(cls)
    if not mapper.configured:  # as the first constructor call would
        configure_mappers()
    instance: T = mapper.class_manager.new_instance()
    vars(instance).update(values)
    return instance
