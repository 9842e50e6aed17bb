"""Pydantic shapes of master data, in and out. Every field is checked here."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from oms.kit import standards

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
SKU_PATTERN = r"^[^\s]+$"

Code = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32, pattern=CODE_PATTERN)
]
Sku = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=SKU_PATTERN)
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
CountryCode = Annotated[str, AfterValidator(standards.country_code)]
CurrencyCode = Annotated[str, AfterValidator(standards.currency_code)]
Gtin = Annotated[str, AfterValidator(standards.gtin)]
TimeZone = Annotated[str, AfterValidator(standards.time_zone)]
Measure = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=4)]

WEIGHT_UNITS = ("g", "kg", "oz", "lb")
DIMENSION_UNITS = ("mm", "cm", "m", "in", "ft")
UOM_PATTERN = r"^[A-Z0-9]{1,8}$"


class Strict(BaseModel):
    """Inputs refuse unknown fields, so a typo is an error, not a silent no-op."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Address(Strict):
    name: Annotated[str, Field(max_length=200)] | None = None
    company: Annotated[str, Field(max_length=200)] | None = None
    line1: Annotated[str, Field(min_length=1, max_length=200)]
    line2: Annotated[str, Field(max_length=200)] | None = None
    city: Annotated[str, Field(min_length=1, max_length=100)]
    region: Annotated[str, Field(max_length=100)] | None = None
    postal_code: Annotated[str, Field(max_length=20)] | None = None
    country: CountryCode

    @model_validator(mode="after")
    def _postcode_fits_country(self) -> Self:
        if self.postal_code:
            self.postal_code = standards.postal_code(self.postal_code, self.country)
        return self


class ItemFields(Strict):
    """Item fields that may be given on create and changed on update."""

    name: Name | None = None
    description: Annotated[str, Field(max_length=5000)] | None = None
    gtin: Gtin | None = None
    uom: Annotated[str, StringConstraints(to_upper=True, pattern=UOM_PATTERN)] | None = None
    weight: Measure | None = None
    weight_unit: Annotated[str, StringConstraints(to_lower=True)] | None = None
    length: Measure | None = None
    width: Measure | None = None
    height: Measure | None = None
    dimension_unit: Annotated[str, StringConstraints(to_lower=True)] | None = None
    hazmat: bool | None = None
    active: bool | None = None
    attributes: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _units_go_with_measures(self) -> Self:
        if self.weight_unit is not None and self.weight_unit not in WEIGHT_UNITS:
            raise ValueError(f"weight_unit must be one of {', '.join(WEIGHT_UNITS)}")
        if self.dimension_unit is not None and self.dimension_unit not in DIMENSION_UNITS:
            raise ValueError(f"dimension_unit must be one of {', '.join(DIMENSION_UNITS)}")
        if self.weight is not None and self.weight_unit is None:
            raise ValueError("weight needs a weight_unit")
        has_dimension = any(v is not None for v in (self.length, self.width, self.height))
        if has_dimension and self.dimension_unit is None:
            raise ValueError("length, width and height need a dimension_unit")
        return self


class ItemCreate(ItemFields):
    sku: Sku
    name: Name


class ItemUpdate(ItemFields):
    """Only the fields sent are changed; `null` clears an optional field."""


class ItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    sku: str
    name: str
    description: str | None
    gtin: str | None
    uom: str
    weight: Decimal | None
    weight_unit: str | None
    length: Decimal | None
    width: Decimal | None
    height: Decimal | None
    dimension_unit: str | None
    hazmat: bool
    active: bool
    attributes: dict[str, Any]
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


def normalize_sku(value: str) -> str:
    """A SKU as stored: trimmed; inner whitespace is not allowed."""
    sku = value.strip()
    if not sku or re.search(r"\s", sku):
        raise ValueError(f"{value!r} is not a SKU: no blanks inside, 1-64 characters")
    return sku
