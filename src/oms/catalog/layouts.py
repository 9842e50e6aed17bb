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
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from oms.auth.principal import Principal
from oms.catalog import channels, customers, repository, suppliers, warehouses
from oms.catalog.formats import Kind
from oms.catalog.schemas import (
    ChannelCreate,
    ChannelUpdate,
    CustomerCreate,
    CustomerUpdate,
    ItemCreate,
    SupplierCreate,
    SupplierUpdate,
    WarehouseCreate,
    WarehouseUpdate,
)
from oms.kit import clock, standards

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


# -- what the importer and the exporter know of each kind ------------------------------


@dataclass(frozen=True)
class Stored:
    """A record as the importer and the exporter see it.

    `fields` hold the create schema's fields as `model_dump()` shows a valid
    record, so a row that changes nothing compares equal to them. `aliases`
    are other keys a file may name it by (a customer's e-mail address).
    """

    id: int
    version: int
    key: str
    fields: dict[str, Any]
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Change:
    """A record an import creates (`stored` is None) or changes, from line `line`."""

    line: int
    key: str
    model: BaseModel
    values: dict[str, Any]
    stored: Stored | None = None

    @property
    def changed(self) -> dict[str, Any]:
        """The fields whose value differs from the stored one."""
        before = self.stored.fields if self.stored is not None else {}
        return {k: v for k, v in self.values.items() if k not in before or before[k] != v}


KeyOf = Callable[[dict[str, Any]], tuple[str, str] | None]
Save = Callable[[Session, Change, Principal], None]


@dataclass(frozen=True)
class KindSpec:
    """What the generic importer and exporter need to know about one kind of master record.

    A kind is written either in bulk (`insert`/`update`, executemany; the
    importer writes the audit rows) or record by record through its service
    (`save`, which audits and emits its events like any other change).
    """

    kind: Kind
    entity: str
    schema: type[BaseModel]
    first: tuple[str, ...]
    defaults: dict[str, Any]
    key_of: KeyOf
    load: Callable[[Session], list[Stored]]
    insert: Callable[[Session, Sequence[Change]], None] | None = None
    update: Callable[[Session, Sequence[Change]], None] | None = None
    save: Save | None = None
    key_missing: str | None = None
    normalize: Callable[[dict[str, Any]], None] | None = None

    @property
    def layout(self) -> Layout:
        return layout_of(self.schema, first=self.first)

    @property
    def kept_when_blank(self) -> frozenset[str]:
        """Fields an empty cell cannot clear: required ones and those with a stored default."""
        required = {n for n, f in self.schema.model_fields.items() if f.is_required()}
        return frozenset(required | self.defaults.keys())

    def complete(self, model: BaseModel) -> dict[str, Any]:
        """A valid record's fields, with the defaults the database would give it."""
        values = model.model_dump()
        for name, default in self.defaults.items():
            if values.get(name) is None:
                values[name] = default
        if self.normalize is not None:
            self.normalize(values)
        return values

    def canonical(self, fields: dict[str, Any]) -> dict[str, Any]:
        """Stored fields as a freshly validated row shows them (as they are, if now invalid)."""
        try:
            return self.complete(self.schema.model_validate(fields))
        except ValidationError:
            return fields


def _stripped(name: str) -> KeyOf:
    def key_of(data: dict[str, Any]) -> tuple[str, str] | None:
        value = data.get(name)
        key = value.strip() if isinstance(value, str) else None
        return (name, key) if key else None

    return key_of


def _fields_of(record: object, schema: type[BaseModel], *, but: str = "") -> dict[str, Any]:
    return {name: getattr(record, name) for name in schema.model_fields if name != but}


# -- items: in bulk ------------------------------------------------------------------------


def _load_items(session: Session) -> list[Stored]:
    names = list(ItemCreate.model_fields)
    return [
        Stored(row["id"], row["version"], row["sku"], {n: row[n] for n in names})
        for row in repository.all_item_rows(session)
    ]


def _insert_items(session: Session, changes: Sequence[Change]) -> None:
    now = clock.now()
    repository.insert_items(
        session,
        [{**c.values, "version": 1, "created_at": now, "updated_at": now} for c in changes],
    )


def _update_items(session: Session, changes: Sequence[Change]) -> None:
    now = clock.now()
    rows = []
    for change in changes:
        assert change.stored is not None
        version = change.stored.version + 1
        rows.append(
            {**change.values, "id": change.stored.id, "version": version, "updated_at": now}
        )
    repository.update_items(session, rows)


ITEMS = KindSpec(
    kind=Kind.ITEMS,
    entity="item",
    schema=ItemCreate,
    first=("sku", "name"),
    defaults={"uom": "EA", "hazmat": False, "active": True, "attributes": {}},
    key_of=_stripped("sku"),
    load=_load_items,
    insert=_insert_items,
    update=_update_items,
)


# -- warehouses and channels: through their services, which keep both sides' links ----------


def _load_warehouses(session: Session) -> list[Stored]:
    found = repository.all_warehouses(session)
    channels = repository.channel_codes_by_warehouse(session, [w.id for w in found])
    return [
        Stored(
            w.id,
            w.version,
            w.code,
            {**_fields_of(w, WarehouseCreate, but="channels"), "channels": channels[w.id]},
        )
        for w in found
    ]


def _save_warehouse(session: Session, change: Change, actor: Principal) -> None:
    if change.stored is None:
        data = WarehouseCreate.model_validate(change.values)
        warehouses.create_warehouse(session, data, actor=actor)
        return
    update = WarehouseUpdate.model_validate(change.changed)
    warehouses.update_warehouse(session, change.stored.key, update, actor=actor)


def _sort_channels(values: dict[str, Any]) -> None:
    # A warehouse's channels are a set; they read back by code.
    values["channels"] = sorted(values["channels"])


def _load_channels(session: Session) -> list[Stored]:
    found = repository.all_channels(session)
    served_by = repository.warehouse_codes_by_channel(session, [c.id for c in found])
    return [
        Stored(
            c.id,
            c.version,
            c.code,
            {**_fields_of(c, ChannelCreate, but="warehouses"), "warehouses": served_by[c.id]},
        )
        for c in found
    ]


def _save_channel(session: Session, change: Change, actor: Principal) -> None:
    if change.stored is None:
        channels.create_channel(session, ChannelCreate.model_validate(change.values), actor=actor)
        return
    update = ChannelUpdate.model_validate(change.changed)
    channels.update_channel(session, change.stored.key, update, actor=actor)


WAREHOUSES = KindSpec(
    kind=Kind.WAREHOUSES,
    entity="warehouse",
    schema=WarehouseCreate,
    first=("code", "name", "type"),
    defaults={"timezone": "UTC", "active": True, "attributes": {}, "channels": []},
    key_of=_stripped("code"),
    load=_load_warehouses,
    save=_save_warehouse,
    normalize=_sort_channels,
)

CHANNELS = KindSpec(
    kind=Kind.CHANNELS,
    entity="channel",
    schema=ChannelCreate,
    first=("code", "name", "type"),
    defaults={"settings": {}, "active": True, "warehouses": []},
    key_of=_stripped("code"),
    load=_load_channels,
    save=_save_channel,
)


# -- suppliers and customers: through their services ----------------------------------------


def _load_suppliers(session: Session) -> list[Stored]:
    return [
        Stored(s.id, s.version, s.code, _fields_of(s, SupplierCreate))
        for s in repository.all_suppliers(session)
    ]


def _save_supplier(session: Session, change: Change, actor: Principal) -> None:
    if change.stored is None:
        data = SupplierCreate.model_validate(change.values)
        suppliers.create_supplier(session, data, actor=actor)
        return
    update = SupplierUpdate.model_validate(change.changed)
    suppliers.update_supplier(session, change.stored.key, update, actor=actor)


def _customer_key(data: dict[str, Any]) -> tuple[str, str] | None:
    """A customer is matched by its account number, else by its first e-mail address."""
    account = data.get("account_number")
    if isinstance(account, str) and account.strip():
        return ("account_number", account.strip())
    emails = data.get("emails")
    if isinstance(emails, list) and emails and isinstance(emails[0], str):
        try:
            return ("emails", standards.email_address(emails[0]))
        except ValueError:
            return None
    return None


def _load_customers(session: Session) -> list[Stored]:
    found = []
    for c in repository.all_customers(session):
        # One with neither key still exports; no file row can name `#id`, so none matches it.
        keys = [k for k in (c.account_number, c.email) if k] or [f"#{c.id}"]
        fields = _fields_of(c, CustomerCreate)
        found.append(Stored(c.id, c.version, keys[0], fields, tuple(keys[1:])))
    return found


def _save_customer(session: Session, change: Change, actor: Principal) -> None:
    if change.stored is None:
        data = CustomerCreate.model_validate(change.values)
        customers.create_customer(session, data, actor=actor)
        return
    update = CustomerUpdate.model_validate(change.changed)
    customers.update_customer(session, change.stored.id, update, actor=actor)


SUPPLIERS = KindSpec(
    kind=Kind.SUPPLIERS,
    entity="supplier",
    schema=SupplierCreate,
    first=("code", "name"),
    defaults={"contacts": [], "active": True, "attributes": {}},
    key_of=_stripped("code"),
    load=_load_suppliers,
    save=_save_supplier,
)

CUSTOMERS = KindSpec(
    kind=Kind.CUSTOMERS,
    entity="customer",
    schema=CustomerCreate,
    first=("account_number", "type", "name"),
    defaults={"emails": [], "phones": [], "addresses": [], "active": True, "attributes": {}},
    key_of=_customer_key,
    load=_load_customers,
    save=_save_customer,
    key_missing="a customer needs an account_number or an e-mail address to be matched by",
)

SPECS: dict[Kind, KindSpec] = {
    spec.kind: spec for spec in (ITEMS, WAREHOUSES, CHANNELS, SUPPLIERS, CUSTOMERS)
}


def spec_for(kind: Kind) -> KindSpec:
    """The import/export description of `kind`."""
    return SPECS[kind]
