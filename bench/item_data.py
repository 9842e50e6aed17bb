"""Generates item files for the import benchmark: N items as CSV, every field in use."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

from stdnum import ean

COLUMNS = [
    "sku",
    "name",
    "description",
    "gtin",
    "uom",
    "weight",
    "weight_unit",
    "length",
    "width",
    "height",
    "dimension_unit",
    "hazmat",
    "active",
    "attributes",
]
COLOURS = ["red", "blue", "green", "black", "white", "teal", "orange"]
PRODUCTS = ["widget", "gadget", "bracket", "hinge", "valve", "sprocket", "gasket", "fitting"]


def gtin_for(number: int) -> str:
    """A GTIN-13 with a valid check digit, unique per `number`."""
    body = f"20{number:010d}"
    return body + ean.calc_check_digit(body)


def write_items_csv(path: Path, count: int, *, edition: int = 1, seed: int = 7) -> Path:
    """Write `count` items; a higher `edition` changes every item's name and weight."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        for number in range(1, count + 1):
            colour = rng.choice(COLOURS)
            product = rng.choice(PRODUCTS)
            writer.writerow(
                [
                    f"BENCH-{number:07d}",
                    f"{colour.title()} {product} {number} (edition {edition})",
                    f"A {colour} {product} for the import benchmark",
                    gtin_for(number),
                    "EA",
                    f"{rng.randint(1, 50_000) / 1000 + edition:.3f}",
                    "kg",
                    str(rng.randint(1, 200)),
                    str(rng.randint(1, 200)),
                    str(rng.randint(1, 200)),
                    "cm",
                    "true" if number % 50 == 0 else "false",
                    "true",
                    json.dumps({"colour": colour, "family": product}),
                ]
            )
    return path
