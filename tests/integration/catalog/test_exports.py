"""Bulk export: the importer's own layout, so exporting and importing again changes nothing."""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import func, select

from oms import demo
from oms.audit import AuditEntry
from oms.auth.principal import SYSTEM
from oms.catalog import exports, imports
from oms.catalog.formats import FileFormat, Kind
from oms.db import Database
from oms.outbox.models import OutboxEvent


def export_text(db: Database, kind: Kind, fmt: FileFormat) -> str:
    sink = io.StringIO()
    with db.transaction() as session:
        exports.export_records(session, kind, sink, fmt=fmt)
    return sink.getvalue()


def audit_rows(db: Database) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(AuditEntry)) or 0


@pytest.fixture
def demo_data(demo_db: Database) -> Database:
    return demo_db


@pytest.mark.parametrize("fmt", list(FileFormat))
@pytest.mark.parametrize("kind", list(Kind))
def test_exporting_then_importing_changes_nothing(
    demo_data: Database, kind: Kind, fmt: FileFormat
) -> None:
    text = export_text(demo_data, kind, fmt)
    audited = audit_rows(demo_data)

    with demo_data.transaction() as session:
        summary = imports.import_file(
            session, kind, io.StringIO(text), fmt=fmt, actor=SYSTEM, name="export"
        )

    assert (summary.created, summary.updated, summary.problems) == (0, 0, [])
    assert summary.unchanged > 0
    assert audit_rows(demo_data) == audited
    assert export_text(demo_data, kind, fmt) == text


def test_a_csv_export_spreads_the_address_over_dotted_columns(demo_data: Database) -> None:
    rows = list(
        csv.DictReader(io.StringIO(export_text(demo_data, Kind.WAREHOUSES, FileFormat.CSV)))
    )

    assert [r["code"] for r in rows] == ["DAL", "EDI", "RNO"]
    assert (rows[0]["address.city"], rows[0]["address.country"]) == ("Dallas", "US")
    assert json.loads(rows[0]["channels"]) == ["amazon", "b2b", "web"]


def test_a_json_lines_export_writes_one_object_per_record(demo_data: Database) -> None:
    lines = export_text(demo_data, Kind.ITEMS, FileFormat.JSONL).splitlines()

    first = json.loads(lines[0])
    assert len(lines) == len(demo.ITEMS)
    assert first["sku"] == "BAT-LI20"
    assert first["hazmat"] is True


def test_an_export_writes_no_event_and_no_audit_row(demo_data: Database) -> None:
    audited = audit_rows(demo_data)
    with demo_data.transaction() as session:
        events = session.scalar(select(func.count()).select_from(OutboxEvent))

    export_text(demo_data, Kind.CUSTOMERS, FileFormat.CSV)

    with demo_data.transaction() as session:
        assert session.scalar(select(func.count()).select_from(OutboxEvent)) == events
    assert audit_rows(demo_data) == audited
