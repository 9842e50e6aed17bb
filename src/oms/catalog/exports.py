"""Bulk export of master data as CSV or JSON lines, in the layout the importer reads.

Exporting a kind and importing the file again changes nothing: the columns are
the create schema's fields (nested objects as dotted columns, lists and
mappings as JSON text), records come ordered by their natural key.
"""

from __future__ import annotations

import csv
import json
from typing import Any, TextIO

from pydantic_core import to_jsonable_python
from sqlalchemy.orm import Session

from oms.catalog.formats import FileFormat, Kind
from oms.catalog.imports import CHUNK, SILENT, Progress
from oms.catalog.layouts import Layout, spec_for


def export_records(
    session: Session,
    kind: Kind,
    sink: TextIO,
    *,
    fmt: FileFormat,
    progress: Progress = SILENT,
) -> int:
    """Write every record of `kind` to `sink`; returns how many were written."""
    spec = spec_for(kind)
    layout = spec.layout
    records = spec.load(session)
    progress.begin("exporting", len(records))
    writer = csv.writer(sink, lineterminator="\n") if fmt is FileFormat.CSV else None
    if writer is not None:
        writer.writerow(layout.columns)
    for count, record in enumerate(records, start=1):
        values = to_jsonable_python(record.fields)
        if writer is not None:
            writer.writerow(_cells(layout, values))
        else:
            row = {name: values.get(name) for name in layout.fields}
            sink.write(json.dumps(row, ensure_ascii=False) + "\n")
        if count % CHUNK == 0:
            progress.advance(CHUNK)
    progress.advance(len(records) % CHUNK)
    return len(records)


def _cells(layout: Layout, values: dict[str, Any]) -> list[str]:
    cells: list[str] = []
    for name in layout.fields:
        value = values.get(name)
        if name in layout.nested:
            part = value if isinstance(value, dict) else {}
            cells.extend(_cell(part.get(sub)) for sub in layout.nested[name])
        elif name in layout.json_fields:
            cells.append("" if value is None else json.dumps(value, ensure_ascii=False))
        else:
            cells.append(_cell(value))
    return cells


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
