"""Stock snapshots from a WMS: the WMS's count, compared with ours, corrected or parked.

The raw document is stored first (`store`) in its own transaction, so that a
snapshot that fails to parse is kept with its errors and can be looked at.
`process` then compares each counted quantity with what we expect the WMS to
have counted at `as_of`:

    expected = on hand now − movements booked after as_of − in flight

where *in flight* is what the WMS shipped but we have not been told of yet.
A difference within the threshold is booked as a count correction; a larger
one waits for a person to approve or reject it. Every difference is reported.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.orm import Session

from oms import audit, outbox
from oms.auth.principal import Principal
from oms.catalog import repository as catalog
from oms.catalog import warehouses
from oms.catalog.models import Item, Warehouse
from oms.errors import InvalidTransition, NotFound, Problem, ValidationFailed
from oms.inventory import repository as stock
from oms.inventory.errors import NegativeStock
from oms.inventory.ledger import Reference, post
from oms.inventory.models import (
    MovementKind,
    SnapshotLine,
    SnapshotLineStatus,
    SnapshotStatus,
    StockSnapshot,
)
from oms.kit import clock
from oms.kit.validation import problems_from


class SnapshotLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    sku: str = Field(min_length=1, max_length=64)
    counted: int = Field(ge=0)
    in_flight: int = Field(default=0, ge=0)


class SnapshotIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    as_of: dt.datetime | None = None
    complete: bool = False
    lines: list[SnapshotLineIn]


class SnapshotNotFound(NotFound):
    def __init__(self, snapshot_id: int) -> None:
        super().__init__("snapshot", snapshot_id, code="inventory.snapshot_not_found")


def store(
    session: Session, *, warehouse: str, raw: str, fmt: str, actor: Principal
) -> StockSnapshot:
    """Keep the document as received, before anything reads it."""
    found = warehouses.get_warehouse(session, warehouse, actor=actor)
    if fmt not in ("json", "csv"):
        raise ValidationFailed([Problem("format", "use json or csv")])
    snapshot = StockSnapshot(
        warehouse_id=found.id, format=fmt, raw=raw, actor=actor.label, received_at=clock.now()
    )
    stock.add_snapshot(session, snapshot)
    return snapshot


def mark_failed(session: Session, snapshot_id: int, problems: list[Problem]) -> None:
    """Record why a stored snapshot could not be processed."""
    snapshot = _get(session, snapshot_id)
    snapshot.status = SnapshotStatus.FAILED
    snapshot.errors = [p.as_dict() for p in problems]
    session.flush()


def parse(raw: str, fmt: str, *, as_of: dt.datetime | None = None) -> SnapshotIn:
    """The snapshot's lines; every problem is named by line (CSV) or path (JSON)."""
    if fmt == "json":
        try:
            data: Any = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ValidationFailed(
                [Problem("body", f"not JSON: {exc.msg} at line {exc.lineno}")]
            ) from exc
        if isinstance(data, list):
            data = {"lines": data}
        if isinstance(data, dict) and as_of is not None and "as_of" not in data:
            data = {**data, "as_of": as_of.isoformat()}
        try:
            return SnapshotIn.model_validate(data)
        except ValidationError as exc:
            raise ValidationFailed(problems_from(exc.errors())) from exc
    reader = csv.DictReader(io.StringIO(raw))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = {"sku", "counted"} - set(header)
    if missing:
        raise ValidationFailed(
            [Problem("line 1", f"the header needs the columns {', '.join(sorted(missing))}")]
        )
    problems: list[Problem] = []
    lines: list[SnapshotLineIn] = []
    for number, row in enumerate(reader, start=2):
        values = {k.strip(): (v or "").strip() for k, v in row.items() if k}
        if not any(values.values()):
            continue
        if not values.get("in_flight"):
            values.pop("in_flight", None)
        try:
            lines.append(SnapshotLineIn.model_validate(values))
        except ValidationError as exc:
            for p in problems_from(exc.errors()):
                problems.append(Problem(f"line {number}.{p.path}", p.message, p.code))
    if problems:
        raise ValidationFailed(problems)
    return SnapshotIn(as_of=as_of, lines=lines)


@dataclass(frozen=True)
class LineReport:
    sku: str
    counted: int
    in_flight: int
    on_hand: int
    moved_since: int
    expected: int
    difference: int
    reserved: int
    status: str

    @property
    def short_of_reservations(self) -> bool:
        """The WMS has fewer units than we have promised."""
        return self.counted < self.reserved


def process(
    session: Session,
    snapshot_id: int,
    *,
    threshold: int,
    actor: Principal,
    as_of: dt.datetime | None = None,
    complete: bool | None = None,
) -> StockSnapshot:
    """Compare, book what is within the threshold, park the rest; raises on bad lines."""
    snapshot = _get(session, snapshot_id)
    parsed = parse(snapshot.raw, snapshot.format, as_of=as_of)
    is_complete = parsed.complete if complete is None else complete
    warehouse = stock.warehouse_of(session, snapshot.warehouse_id)
    known = catalog.items_by_skus(session, [line.sku for line in parsed.lines])
    problems = []
    seen: dict[str, int] = {}
    for n, line in enumerate(parsed.lines):
        path = f"lines[{n}].sku" if snapshot.format == "json" else f"line {n + 2}.sku"
        if line.sku not in known:
            problems.append(Problem(path, f"unknown SKU {line.sku}", "unknown_sku"))
        if line.sku in seen:
            problems.append(Problem(path, f"{line.sku} is counted twice", "duplicate"))
        seen[line.sku] = n
    if problems:
        raise ValidationFailed(problems)
    counts = [(known[line.sku], line.counted, line.in_flight) for line in parsed.lines]
    if is_complete:
        counted_ids = {i.id for i, _, _ in counts}
        for row in stock.balance_rows(session, warehouses=[warehouse.code]):
            if row.item_id not in counted_ids and row.on_hand:
                item = catalog.item_by_sku(session, row.sku)
                assert item is not None
                counts.append((item, 0, 0))
    snapshot.as_of = clock.as_utc(parsed.as_of) if parsed.as_of else snapshot.received_at
    moved = stock.on_hand_moved_since(
        session,
        warehouse_id=warehouse.id,
        item_ids=[i.id for i, _, _ in counts],
        since=snapshot.as_of,
    )
    parked = 0
    for item, counted, in_flight in sorted(counts, key=lambda c: c[0].id):
        parked += _compare(
            session,
            snapshot,
            warehouse,
            item,
            counted,
            in_flight,
            moved_since=moved.get(item.id, 0),
            threshold=threshold,
            actor=actor,
        )
    snapshot.status = SnapshotStatus.PENDING_APPROVAL if parked else SnapshotStatus.APPLIED
    session.flush()
    audit.record(
        session,
        actor=actor.label,
        action="inventory.snapshot_processed",
        entity_type="stock_snapshot",
        entity_id=str(snapshot.id),
        after={"warehouse": warehouse.code, "lines": len(counts), "parked": parked},
    )
    outbox.record(
        session,
        "inventory.snapshot_processed",
        {"snapshot_id": snapshot.id, "warehouse": warehouse.code, "status": snapshot.status},
        key=f"snapshot:{warehouse.code}",
    )
    return snapshot


def _compare(
    session: Session,
    snapshot: StockSnapshot,
    warehouse: Warehouse,
    item: Item,
    counted: int,
    in_flight: int,
    *,
    moved_since: int,
    threshold: int,
    actor: Principal,
) -> int:
    current = stock.balance(session, item.id, warehouse.id)
    on_hand = current.on_hand if current else 0
    reserved = current.reserved if current else 0
    expected = on_hand - moved_since - in_flight
    difference = counted - expected
    status = SnapshotLineStatus.MATCHED
    if difference and abs(difference) <= threshold:
        status = SnapshotLineStatus.APPLIED
    elif difference:
        status = SnapshotLineStatus.PENDING_APPROVAL
    line = SnapshotLine(
        snapshot_id=snapshot.id,
        item_id=item.id,
        counted=counted,
        in_flight=in_flight,
        on_hand=on_hand,
        moved_since=moved_since,
        expected=expected,
        difference=difference,
        reserved=reserved,
        status=status,
    )
    stock.add_snapshot_line(session, line)
    if status == SnapshotLineStatus.APPLIED:
        try:
            _correct(session, line, item, warehouse, actor=actor)
        except NegativeStock:
            line.status = SnapshotLineStatus.PENDING_APPROVAL
            session.flush()
    return 1 if line.status == SnapshotLineStatus.PENDING_APPROVAL else 0


def _correct(
    session: Session, line: SnapshotLine, item: Item, warehouse: Warehouse, *, actor: Principal
) -> None:
    with session.begin_nested():
        post(
            session,
            item=item,
            warehouse=warehouse,
            kind=MovementKind.COUNT_CORRECTION,
            on_hand=line.difference,
            actor=actor,
            reason="wms_snapshot",
            reference=Reference("snapshot", str(line.snapshot_id)),
        )


def decide(
    session: Session, snapshot_id: int, line_id: int, *, approve: bool, actor: Principal
) -> SnapshotLine:
    """Approve (book the correction) or reject a difference that waited for a person."""
    snapshot = _get(session, snapshot_id, actor=actor)
    line = stock.snapshot_line(session, snapshot_id, line_id)
    if line is None:
        raise NotFound("snapshot_line", line_id, code="inventory.snapshot_line_not_found")
    if line.status != SnapshotLineStatus.PENDING_APPROVAL:
        raise InvalidTransition(
            f"line {line_id} is {line.status}; only a pending difference can be decided",
            code="inventory.snapshot_line_decided",
        )
    warehouse = stock.warehouse_of(session, snapshot.warehouse_id)
    if approve:
        item = catalog.items_by_ids(session, [line.item_id])[0]
        _correct(session, line, item, warehouse, actor=actor)
    line.status = SnapshotLineStatus.APPROVED if approve else SnapshotLineStatus.REJECTED
    line.decided_by = actor.label
    line.decided_at = clock.now()
    session.flush()
    if stock.pending_snapshot_lines(session, snapshot_id) == 0:
        snapshot.status = SnapshotStatus.APPLIED
        session.flush()
    audit.record(
        session,
        actor=actor.label,
        action="inventory.snapshot_line_approved"
        if approve
        else "inventory.snapshot_line_rejected",
        entity_type="stock_snapshot",
        entity_id=str(snapshot_id),
        after={"line": line_id, "difference": line.difference},
    )
    return line


def report(session: Session, snapshot_id: int, *, actor: Principal) -> list[LineReport]:
    """Every line of a processed snapshot, differences or not."""
    _get(session, snapshot_id, actor=actor)
    return [
        LineReport(
            sku=sku,
            counted=line.counted,
            in_flight=line.in_flight,
            on_hand=line.on_hand,
            moved_since=line.moved_since,
            expected=line.expected,
            difference=line.difference,
            reserved=line.reserved,
            status=line.status,
        )
        for line, sku in stock.snapshot_lines(session, snapshot_id)
    ]


def get(session: Session, snapshot_id: int, *, actor: Principal) -> StockSnapshot:
    return _get(session, snapshot_id, actor=actor)


def _get(session: Session, snapshot_id: int, *, actor: Principal | None = None) -> StockSnapshot:
    snapshot = stock.snapshot_by_id(session, snapshot_id)
    if snapshot is None:
        raise SnapshotNotFound(snapshot_id)
    if actor is not None:
        warehouse = stock.warehouse_of(session, snapshot.warehouse_id)
        if not actor.sees_warehouse(warehouse.code):
            raise SnapshotNotFound(snapshot_id)
    return snapshot
