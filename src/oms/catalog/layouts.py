"""How each kind of master record sits in an import or export file.

A kind's layout follows its create schema: one CSV column per field, a nested
object spread over dotted columns (`address.city`), a list or mapping as JSON
text in one cell; JSON lines carry the same fields as one object per line.
A `KindSpec` tells the importer and the exporter the rest: the natural key,
the defaults of fields a file may leave empty, and how to read and write the
records in bulk.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePath
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel
from sqlalchemy.orm import Session

from oms.catalog import repository
from oms.catalog.schemas import ItemCreate
from oms.errors import OmsError
from oms.kit import clock


class Kind(StrEnum):
    ITEMS = "items"
    WAREHOUSES = "warehouses"
    SUPPLIERS = "suppliers"
    CUSTOMERS = "customers"
    CHANNELS = "channels"


class FileFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"


SUFFIXES = {".csv": FileFormat.CSV, ".jsonl": FileFormat.JSONL, ".ndjson": FileFormat.JSONL}


def format_of(path: str, given: FileFormat | None = None) -> FileFormat:
    """The format named by `given`, else guessed from the file name's suffix."""
    if given is not None:
        return given
    found = SUFFIXES.get(PurePath(path).suffix.lower())
    if found is None:
        raise OmsError(
            f"cannot tell the format of {path!r} from its name: use .csv or .jsonl, "
            "or say --format csv|jsonl",
            code="catalog.import_format_unknown",
        )
    return found


# -- the layout of a kind in a file ------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """How a create schema's fields sit in a file: plain, nested (dotted columns), or JSON."""

    fields: tuple[str, ...]
    nested: dict[str, tuple[str, ...]]
    json_fields: frozenset[str]

    @property
    def columns(self) -> list[str]:
        """The CSV header, in the order the export writes it."""
        columns: list[str] = []
        for name in self.fields:
            if name in self.nested:
                columns.extend(f"{name}.{sub}" for sub in self.nested[name])
            else:
                columns.append(name)
        return columns


def layout_of(schema: type[BaseModel], *, first: Sequence[str] = ()) -> Layout:
    """The file layout of `schema`, the fields in `first` leading (the natural key)."""
    names = [*first, *(n for n in schema.model_fields if n not in first)]
    nested: dict[str, tuple[str, ...]] = {}
    json_fields: set[str] = set()
    for name in names:
        shape = _shape(schema.model_fields[name].annotation)
        if isinstance(shape, type):
            nested[name] = tuple(shape.model_fields)
        elif shape == "json":
            json_fields.add(name)
    return Layout(tuple(names), nested, frozenset(json_fields))


def _shape(annotation: Any) -> type[BaseModel] | str:
    for member in _members(annotation):
        if isinstance(member, type) and issubclass(member, BaseModel):
            return member
        if member in (dict, list) or get_origin(member) in (dict, list):
            return "json"
    return "scalar"


def _members(annotation: Any) -> Iterator[Any]:
    origin = get_origin(annotation)
    if origin is Annotated:
        yield from _members(get_args(annotation)[0])
    elif origin in (Union, types.UnionType):
        for arg in get_args(annotation):
            yield from _members(arg)
    else:
        yield annotation


# -- the kinds ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Stored:
    """A record as the importer and the exporter see it.

    `fields` hold the create schema's fields as `model_dump()` shows a valid
    record, so a row that changes nothing compares equal to them.
    """

    id: int
    version: int
    key: str
    fields: dict[str, Any]


@dataclass(frozen=True)
class KindSpec:
    """What the generic importer needs to know about one kind of master record."""

    kind: Kind
    entity: str
    schema: type[BaseModel]
    key_fields: tuple[str, ...]
    defaults: dict[str, Any]
    key_of: Callable[[dict[str, Any]], str | None]
    load: Callable[[Session], list[Stored]]
    insert: Callable[[Session, Sequence[dict[str, Any]]], None]
    update: Callable[[Session, Sequence[tuple[Stored, dict[str, Any]]]], None]
    key_required: str | None = None

    @property
    def layout(self) -> Layout:
        return layout_of(self.schema, first=self.key_fields)

    @property
    def kept_when_blank(self) -> frozenset[str]:
        """Fields an empty cell cannot clear: required ones and those with a stored default."""
        required = {n for n, f in self.schema.model_fields.items() if f.is_required()}
        return frozenset(required | self.defaults.keys())


def _stripped(name: str) -> Callable[[dict[str, Any]], str | None]:
    def key_of(data: dict[str, Any]) -> str | None:
        value = data.get(name)
        return value.strip() or None if isinstance(value, str) else None

    return key_of


def _load_items(session: Session) -> list[Stored]:
    names = list(ItemCreate.model_fields)
    return [
        Stored(row["id"], row["version"], row["sku"], {n: row[n] for n in names})
        for row in repository.all_item_rows(session)
    ]


def _insert_items(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    now = clock.now()
    repository.insert_items(
        session, [{**r, "version": 1, "created_at": now, "updated_at": now} for r in rows]
    )


def _update_items(session: Session, rows: Sequence[tuple[Stored, dict[str, Any]]]) -> None:
    now = clock.now()
    repository.update_items(
        session,
        [
            {**values, "id": stored.id, "version": stored.version + 1, "updated_at": now}
            for stored, values in rows
        ],
    )


ITEMS = KindSpec(
    kind=Kind.ITEMS,
    entity="item",
    schema=ItemCreate,
    key_fields=("sku",),
    defaults={"uom": "EA", "hazmat": False, "active": True, "attributes": {}},
    key_of=_stripped("sku"),
    load=_load_items,
    insert=_insert_items,
    update=_update_items,
)

SPECS: dict[Kind, KindSpec] = {ITEMS.kind: ITEMS}


def spec_for(kind: Kind) -> KindSpec:
    """The import/export description of `kind`."""
    spec = SPECS.get(kind)
    if spec is None:
        raise OmsError(
            f"{kind.value} cannot be imported or exported yet",
            code="catalog.import_kind_unsupported",
        )
    return spec
