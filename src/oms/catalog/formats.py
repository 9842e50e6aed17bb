"""What an import or export file holds and how it is written: the kinds and the formats.

Kept apart from `layouts` (which needs the schemas and the services) so that the
command line can name them without loading the rest of the catalog.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import PurePath

from oms.errors import OmsError


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
