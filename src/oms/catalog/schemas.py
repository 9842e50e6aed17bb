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

from oms.catalog.models import ChannelType, CustomerType, WarehouseType
from oms.kit import standards
from oms.kit.validation import refuse, refuse_nulls

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
UOM_PATTERN = r"^[A-Za-z0-9]{1,8}$"  # checked before upper-casing


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
            try:
                self.postal_code = standards.postal_code(self.postal_code, self.country)
            except ValueError as exc:
                refuse("Address", [("postal_code", str(exc))])
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

    @model_validator(mode="after")
    def _required_stay_set(self) -> Self:
        refuse_nulls(self, ("name", "uom", "hazmat", "active", "attributes"))
        return self


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


# -- shared by warehouses, channels, suppliers, customers ------------------------------

Email = Annotated[str, AfterValidator(standards.email_address)]
Phone = Annotated[str, AfterValidator(standards.phone_e164)]
ClockTime = Annotated[str, AfterValidator(standards.clock_time)]
Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
Longitude = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]


def _payment_terms(value: str) -> str:
    terms = " ".join(value.upper().split())
    if not re.fullmatch(r"[A-Z0-9][A-Z0-9 ./%+-]{0,31}", terms):
        raise ValueError(
            f"{value!r} is not payment terms: up to 32 letters, digits, spaces or . / % + -, "
            "as NET30 or 2/10 NET 30"
        )
    return terms


PaymentTerms = Annotated[str, AfterValidator(_payment_terms)]
AccountNumber = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=SKU_PATTERN)
]
Amount = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=4)]


def _distinct(values: list[str]) -> list[str]:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"{value} is listed twice")
        seen.add(value)
    return values


CodeList = Annotated[list[Code], AfterValidator(_distinct)]


class AddressOut(BaseModel):
    name: str | None = None
    company: str | None = None
    line1: str
    line2: str | None = None
    city: str
    region: str | None = None
    postal_code: str | None = None
    country: str


# -- warehouses ------------------------------------------------------------------------


class WarehouseFields(Strict):
    """Warehouse fields that may be given on create and changed on update."""

    name: Name | None = None
    type: WarehouseType | None = None
    address: Address | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    timezone: TimeZone | None = None
    daily_capacity: Annotated[int, Field(ge=0)] | None = None
    cutoff_time: ClockTime | None = None
    active: bool | None = None
    attributes: dict[str, Any] | None = None
    channels: Annotated[
        CodeList | None, Field(description="codes of the channels it may serve")
    ] = None


class WarehouseCreate(WarehouseFields):
    code: Code
    name: Name
    type: WarehouseType
    address: Address

    @model_validator(mode="after")
    def _coordinates_come_in_pairs(self) -> Self:
        if (self.latitude is None) != (self.longitude is None):
            missing = "longitude" if self.longitude is None else "latitude"
            refuse("WarehouseCreate", [(missing, "latitude and longitude go together")])
        return self


class WarehouseUpdate(WarehouseFields):
    """Only the fields sent are changed; `channels` replaces the list it may serve."""

    @model_validator(mode="after")
    def _required_stay_set(self) -> Self:
        refuse_nulls(
            self, ("name", "type", "address", "timezone", "active", "attributes", "channels")
        )
        return self


class WarehouseOut(BaseModel):
    code: str
    name: str
    type: WarehouseType
    address: AddressOut
    country: str
    latitude: float | None
    longitude: float | None
    timezone: str
    daily_capacity: int | None
    cutoff_time: str | None
    channels: list[str]
    active: bool
    attributes: dict[str, Any]
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


# -- channels --------------------------------------------------------------------------


class ChannelFields(Strict):
    """Channel fields that may be given on create and changed on update."""

    name: Name | None = None
    type: ChannelType | None = None
    currency: CurrencyCode | None = None
    settings: dict[str, Any] | None = None
    active: bool | None = None
    warehouses: Annotated[
        CodeList | None, Field(description="codes of the warehouses that serve it, in rank order")
    ] = None


class ChannelCreate(ChannelFields):
    code: Code
    name: Name
    type: ChannelType
    currency: CurrencyCode


class ChannelUpdate(ChannelFields):
    """Only the fields sent are changed; `warehouses` replaces the list and its order."""

    @model_validator(mode="after")
    def _required_stay_set(self) -> Self:
        refuse_nulls(self, ("name", "type", "currency", "settings", "active", "warehouses"))
        return self


class ChannelOut(BaseModel):
    code: str
    name: str
    type: ChannelType
    currency: str
    settings: dict[str, Any]
    warehouses: list[str]
    active: bool
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


# -- suppliers -------------------------------------------------------------------------


class Contact(Strict):
    name: Name
    email: Email | None = None
    phone: Phone | None = None
    role: Annotated[str, Field(max_length=100)] | None = None

    @model_validator(mode="after")
    def _reachable(self) -> Self:
        if self.email is None and self.phone is None:
            refuse("Contact", [("email", "a contact needs an email or a phone")])
        return self


class ContactOut(BaseModel):
    name: str
    email: str | None = None
    phone: str | None = None
    role: str | None = None


class SupplierFields(Strict):
    """Supplier fields that may be given on create and changed on update."""

    name: Name | None = None
    currency: CurrencyCode | None = None
    payment_terms: Annotated[PaymentTerms | None, Field(examples=["NET30"])] = None
    lead_time_days: Annotated[int, Field(ge=0, le=3650)] | None = None
    contacts: list[Contact] | None = None
    address: Address | None = None
    active: bool | None = None
    attributes: dict[str, Any] | None = None


class SupplierCreate(SupplierFields):
    code: Code
    name: Name
    currency: CurrencyCode


class SupplierUpdate(SupplierFields):
    """Only the fields sent are changed; `contacts` replaces the list; `null` clears."""

    @model_validator(mode="after")
    def _required_stay_set(self) -> Self:
        refuse_nulls(self, ("name", "currency", "contacts", "active", "attributes"))
        return self


class SupplierOut(BaseModel):
    code: str
    name: str
    currency: str
    payment_terms: str | None
    lead_time_days: int | None
    contacts: list[ContactOut]
    address: AddressOut | None
    country: str | None
    active: bool
    attributes: dict[str, Any]
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


# -- customers -------------------------------------------------------------------------


class CustomerFields(Strict):
    """Customer fields that may be given on create and changed on update."""

    type: CustomerType | None = None
    name: Name | None = None
    emails: Annotated[list[Email], AfterValidator(_distinct)] | None = None
    phones: Annotated[list[Phone], AfterValidator(_distinct)] | None = None
    addresses: list[Address] | None = None
    account_number: AccountNumber | None = None
    credit_limit: Amount | None = None
    credit_currency: CurrencyCode | None = None
    active: bool | None = None
    attributes: dict[str, Any] | None = None


class CustomerCreate(CustomerFields):
    type: CustomerType
    name: Name

    @model_validator(mode="after")
    def _business_customers_have_accounts(self) -> Self:
        problems: list[tuple[str, str]] = []
        if self.type == CustomerType.B2B and self.account_number is None:
            problems.append(("account_number", "a b2b customer needs an account number"))
        if self.type == CustomerType.B2C and self.credit_limit is not None:
            problems.append(("credit_limit", "a b2c customer has no credit limit"))
        if self.credit_limit is not None and self.credit_currency is None:
            problems.append(("credit_currency", "a credit limit needs its currency"))
        refuse("CustomerCreate", problems)
        return self

    @property
    def email(self) -> str | None:
        """The address orders are matched by: the first one listed."""
        return self.emails[0] if self.emails else None


class CustomerUpdate(CustomerFields):
    """Only the fields sent are changed; lists are replaced whole; `null` clears."""

    @model_validator(mode="after")
    def _required_stay_set(self) -> Self:
        refuse_nulls(
            self, ("type", "name", "emails", "phones", "addresses", "active", "attributes")
        )
        return self


class CustomerOut(BaseModel):
    id: int
    type: CustomerType
    name: str
    email: str | None
    emails: list[str]
    phones: list[str]
    addresses: list[AddressOut]
    account_number: str | None
    credit_limit: Decimal | None
    credit_currency: str | None
    active: bool
    attributes: dict[str, Any]
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
