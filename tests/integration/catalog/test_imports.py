"""Bulk import of master data: all or nothing, every bad row named, upsert by natural key."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from oms.audit import AuditEntry
from oms.auth.principal import SYSTEM
from oms.catalog import imports, repository
from oms.catalog.formats import FileFormat, Kind
from oms.catalog.models import Channel, Customer, Item, Warehouse
from oms.db import Database
from oms.outbox.models import OutboxEvent

ITEMS_HEADER = "sku,name,gtin,uom,weight,weight_unit,attributes"


def csv_file(*lines: str) -> io.StringIO:
    return io.StringIO("\n".join(lines) + "\n")


def jsonl_file(*rows: dict[str, Any]) -> io.StringIO:
    return io.StringIO("".join(json.dumps(row) + "\n" for row in rows))


def run_import(
    db: Database,
    kind: Kind,
    source: io.StringIO,
    *,
    fmt: FileFormat = FileFormat.CSV,
    skip_invalid: bool = False,
    dry_run: bool = False,
) -> imports.ImportSummary:
    with db.transaction() as session:
        return imports.import_file(
            session,
            kind,
            source,
            fmt=fmt,
            actor=SYSTEM,
            name="test.csv",
            skip_invalid=skip_invalid,
            dry_run=dry_run,
        )


def rejected(db: Database, kind: Kind, source: io.StringIO, **options: Any) -> list[tuple]:
    with pytest.raises(imports.ImportRejected) as caught:
        run_import(db, kind, source, **options)
    return [(p.line, p.field, p.reason) for p in caught.value.rows]


def count(session: Session, model: type[Any]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def item(session: Session, sku: str) -> Item:
    found = repository.item_by_sku(session, sku)
    assert found is not None
    return found


def test_a_csv_of_new_items_creates_each_one(db: Database) -> None:
    source = csv_file(
        ITEMS_HEADER,
        'ABC-1,Blue widget,00012345678905,EA,1.5,kg,"{""colour"": ""blue""}"',
        "ABC-2,Red widget,,,,,",
    )

    summary = run_import(db, Kind.ITEMS, source)

    assert (summary.created, summary.updated, summary.skipped) == (2, 0, 0)
    with db.transaction() as session:
        blue = item(session, "ABC-1")
        assert (blue.gtin, blue.weight, blue.attributes) == (
            "00012345678905",
            Decimal("1.5"),
            {"colour": "blue"},
        )
        assert (item(session, "ABC-2").uom, item(session, "ABC-2").hazmat) == ("EA", False)


def test_a_file_with_bad_rows_names_every_problem_by_line_and_field_and_imports_nothing(
    db: Database,
) -> None:
    source = csv_file(
        ITEMS_HEADER,
        "OK-1,Fine widget,,,,,",
        "BAD-1,Bad check digit,00012345678901,,,,",
        "BAD-2,,,,,,",
        "BAD 3,Blank inside,,,,,",
        "BAD-4,Heavy,,,2,,",
    )

    problems = rejected(db, Kind.ITEMS, source)

    assert [(line, field) for line, field, _ in problems] == [
        (3, "gtin"),
        (4, "name"),
        (5, "sku"),
        (6, ""),
    ]
    assert "check digit" in problems[0][2]
    assert problems[3][2] == "weight needs a weight_unit"
    with db.transaction() as session:
        assert count(session, Item) == 0


def test_skip_invalid_imports_the_good_rows_and_reports_the_bad(db: Database) -> None:
    source = csv_file(ITEMS_HEADER, "OK-1,Fine widget,,,,,", "BAD-1,Bad,00012345678901,,,,")

    summary = run_import(db, Kind.ITEMS, source, skip_invalid=True)

    assert (summary.created, summary.skipped) == (1, 1)
    assert [(p.line, p.field) for p in summary.problems] == [(3, "gtin")]
    with db.transaction() as session:
        assert repository.existing_skus(session) == {"OK-1"}


def test_a_sku_given_twice_in_one_file_is_a_problem_on_its_second_line(db: Database) -> None:
    source = csv_file(ITEMS_HEADER, "ABC-1,One,,,,,", "ABC-2,Two,,,,,", " ABC-1 ,Again,,,,,")

    problems = rejected(db, Kind.ITEMS, source)

    assert problems == [(4, "sku", "ABC-1 is also on line 2")]


def test_a_cell_that_is_not_json_is_reported_with_the_rows_other_problems(db: Database) -> None:
    source = csv_file(ITEMS_HEADER, "ABC-1,,,,,,{not json")

    problems = rejected(db, Kind.ITEMS, source)

    assert [(line, field) for line, field, _ in problems] == [(2, "attributes"), (2, "name")]


def test_an_unknown_column_rejects_the_file_even_when_skipping_invalid_rows(db: Database) -> None:
    source = csv_file("sku,name,colour", "ABC-1,Blue widget,blue")

    problems = rejected(db, Kind.ITEMS, source, skip_invalid=True)

    assert [(line, field) for line, field, _ in problems] == [(1, "colour")]


def test_a_row_with_too_many_cells_is_a_problem_of_the_whole_row(db: Database) -> None:
    source = csv_file("sku,name", "ABC-1,Blue widget,extra")

    problems = rejected(db, Kind.ITEMS, source)

    assert problems == [(2, "", "has 3 cells; the header has 2")]


def test_a_known_sku_changes_only_the_columns_the_file_gives(db: Database) -> None:
    run_import(db, Kind.ITEMS, csv_file(ITEMS_HEADER, "ABC-1,Blue widget,00012345678905,,1,kg,"))

    summary = run_import(db, Kind.ITEMS, csv_file("sku,name", "ABC-1,Teal widget"))

    assert (summary.created, summary.updated) == (0, 1)
    with db.transaction() as session:
        stored = item(session, "ABC-1")
        assert (stored.name, stored.gtin, stored.weight, stored.version) == (
            "Teal widget",
            "00012345678905",
            Decimal("1"),
            2,
        )


def test_an_empty_cell_clears_an_optional_field_and_keeps_a_required_one(db: Database) -> None:
    run_import(db, Kind.ITEMS, csv_file("sku,name,gtin", "ABC-1,Blue widget,00012345678905"))

    run_import(db, Kind.ITEMS, csv_file("sku,name,gtin", "ABC-1,,"))

    with db.transaction() as session:
        stored = item(session, "ABC-1")
        assert (stored.name, stored.gtin) == ("Blue widget", None)


def test_rows_that_change_nothing_are_counted_unchanged_and_not_audited(db: Database) -> None:
    run_import(db, Kind.ITEMS, csv_file("sku,name", "ABC-1,Blue widget"))

    summary = run_import(db, Kind.ITEMS, csv_file("sku,name", "ABC-1,Blue widget"))

    assert (summary.updated, summary.unchanged) == (0, 1)
    with db.transaction() as session:
        assert count(session, AuditEntry) == 1
        assert item(session, "ABC-1").version == 1


def test_an_import_audits_each_changed_item_and_emits_one_event(db: Database) -> None:
    run_import(db, Kind.ITEMS, csv_file("sku,name", "ABC-1,Blue widget"))

    run_import(db, Kind.ITEMS, csv_file("sku,name", "ABC-1,Teal widget", "ABC-2,Red widget"))

    with db.transaction() as session:
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        events = session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)).all()
    assert [(e.action, e.entity_id) for e in entries] == [
        ("item.imported", "ABC-1"),
        ("item.imported", "ABC-2"),
        ("item.imported", "ABC-1"),
    ]
    assert entries[2].diff["name"] == ["Blue widget", "Teal widget"]
    assert [e.topic for e in events] == ["catalog.imported", "catalog.imported"]
    assert events[1].payload["created"] == 1
    assert events[1].payload["updated"] == 1


def test_a_dry_run_counts_what_would_change_and_writes_nothing(db: Database) -> None:
    summary = run_import(db, Kind.ITEMS, csv_file("sku,name", "ABC-1,Blue widget"), dry_run=True)

    assert summary.created == 1
    with db.transaction() as session:
        assert count(session, Item) == 0
        assert count(session, OutboxEvent) == 0


def test_json_lines_are_read_one_object_per_line(db: Database) -> None:
    source = jsonl_file(
        {"sku": "ABC-1", "name": "Blue widget", "attributes": {"colour": "blue"}},
        {"sku": "ABC-2", "name": "Red widget", "hazmat": True},
    )

    summary = run_import(db, Kind.ITEMS, source, fmt=FileFormat.JSONL)

    assert summary.created == 2
    with db.transaction() as session:
        assert item(session, "ABC-2").hazmat is True


def test_a_json_line_that_is_not_an_object_is_a_problem_on_its_line(db: Database) -> None:
    source = io.StringIO('{"sku": "ABC-1", "name": "Blue widget"}\n\n[1, 2]\n{"sku": \n')

    problems = rejected(db, Kind.ITEMS, source, fmt=FileFormat.JSONL)

    assert [(line, field) for line, field, _ in problems] == [(3, ""), (4, "")]


def test_a_warehouse_address_is_read_from_dotted_columns(db: Database) -> None:
    source = csv_file(
        "code,name,type,address.line1,address.city,address.region,address.postal_code,"
        "address.country,latitude,longitude,timezone",
        "DAL,Dallas DC,own,1 Commerce St,Dallas,TX,75201,us,32.78,-96.80,America/Chicago",
    )

    run_import(db, Kind.WAREHOUSES, source)

    with db.transaction() as session:
        stored = repository.warehouse_by_code(session, "DAL")
        assert stored is not None
        assert (stored.address["city"], stored.country, stored.timezone) == (
            "Dallas",
            "US",
            "America/Chicago",
        )


def test_a_bad_postcode_is_named_by_its_dotted_column(db: Database) -> None:
    source = csv_file(
        "code,name,type,address.line1,address.city,address.postal_code,address.country",
        "DAL,Dallas DC,own,1 Commerce St,Dallas,ABC,US",
    )

    problems = rejected(db, Kind.WAREHOUSES, source)

    assert [(line, field) for line, field, _ in problems] == [(2, "address.postal_code")]


def test_a_warehouse_naming_an_unknown_channel_rejects_the_file_at_its_line(
    db: Database,
) -> None:
    source = csv_file(
        "code,name,type,address.line1,address.city,address.country,channels",
        "DAL,Dallas DC,own,1 Commerce St,Dallas,US,",
        'RNO,Reno DC,own,1 Main St,Reno,US,"[""web""]"',
    )

    problems = rejected(db, Kind.WAREHOUSES, source)

    assert problems == [(3, "channels[0]", "no channel has the code 'web'")]
    with db.transaction() as session:
        assert count(session, Warehouse) == 0


def test_a_channel_lists_its_warehouses_in_rank_order_as_json_text(db: Database) -> None:
    run_import(
        db,
        Kind.WAREHOUSES,
        csv_file(
            "code,name,type,address.line1,address.city,address.country",
            "DAL,Dallas DC,own,1 Commerce St,Dallas,US",
            "RNO,Reno DC,own,1 Main St,Reno,US",
        ),
    )

    run_import(
        db,
        Kind.CHANNELS,
        csv_file("code,name,type,currency,warehouses", 'web,Web,web_shop,usd,"[""RNO"",""DAL""]"'),
    )

    with db.transaction() as session:
        web = session.scalars(select(Channel)).one()
        assert web.currency == "USD"
        assert repository.warehouse_codes_by_channel(session, [web.id])[web.id] == ["RNO", "DAL"]


def test_customers_are_matched_by_account_number_else_by_email(db: Database) -> None:
    header = "type,name,account_number,emails,credit_limit,credit_currency"
    run_import(
        db,
        Kind.CUSTOMERS,
        csv_file(
            header,
            'b2b,Northwind,NW-1,"[""buy@nw.example""]",1000,USD',
            'b2c,Alex Morgan,,"[""alex@example.com""]",,',
        ),
    )

    summary = run_import(
        db,
        Kind.CUSTOMERS,
        csv_file(
            header,
            'b2b,Northwind Traders,NW-1,"[""buy@nw.example""]",2000,USD',
            'b2c,Alex J. Morgan,,"[""Alex@Example.com""]",,',
        ),
    )

    assert (summary.created, summary.updated) == (0, 2)
    with db.transaction() as session:
        names = sorted(session.scalars(select(Customer.name)))
        assert names == ["Alex J. Morgan", "Northwind Traders"]


def test_a_customer_with_neither_account_number_nor_email_cannot_be_matched(
    db: Database,
) -> None:
    problems = rejected(db, Kind.CUSTOMERS, csv_file("type,name", "b2c,Alex Morgan"))

    assert [(line, field) for line, field, _ in problems] == [(2, "account_number")]


def test_a_supplier_takes_its_contacts_as_json_text(db: Database) -> None:
    source = csv_file(
        "code,name,currency,contacts",
        'ACME,Acme,USD,"[{""name"": ""Ana"", ""email"": ""ana@acme.example""}]"',
    )

    summary = run_import(db, Kind.SUPPLIERS, source)

    assert summary.created == 1
    with db.transaction() as session:
        acme = repository.supplier_by_code(session, "ACME")
        assert acme is not None
        assert acme.contacts[0]["email"] == "ana@acme.example"


def test_a_supplier_refused_by_its_service_is_skipped_with_its_line(db: Database) -> None:
    run_import(
        db,
        Kind.WAREHOUSES,
        csv_file(
            "code,name,type,address.line1,address.city,address.country",
            "DAL,Dallas DC,own,1 Commerce St,Dallas,US",
        ),
    )

    summary = run_import(
        db,
        Kind.CHANNELS,
        csv_file(
            "code,name,type,currency,warehouses",
            'web,Web,web_shop,USD,"[""DAL""]"',
            'b2b,B2B,b2b_edi,USD,"[""NOPE""]"',
        ),
        skip_invalid=True,
    )

    assert (summary.created, summary.skipped) == (1, 1)
    assert [(p.line, p.field) for p in summary.problems] == [(3, "warehouses[0]")]


def test_a_line_number_is_where_the_row_starts_even_after_a_cell_spanning_lines(
    db: Database,
) -> None:
    source = csv_file("sku,name,description", 'ABC-1,Blue widget,"two\nlines"', "ABC-2,,")

    problems = rejected(db, Kind.ITEMS, source)

    assert [(line, field) for line, field, _ in problems] == [(4, "name")]
