"""Checks against public standards: ISO 3166 countries, ISO 4217 currencies,
GTIN check digits, postcode forms, E.164 phone numbers, IANA time zones.

Each check returns the normalized value or raises ValueError with a sentence a
person can act on; pydantic turns that into a problem at the field's path.
"""

from __future__ import annotations

import re
import zoneinfo

import phonenumbers
import pycountry
from stdnum import ean
from stdnum.exceptions import ValidationError as StdnumError

# Postcode forms for the countries Item OMS ships to most; others are accepted as given.
POSTCODE_FORMS: dict[str, tuple[str, str]] = {
    "US": (r"^\d{5}(-\d{4})?$", "5 digits, or ZIP+4 (12345-6789)"),
    "CA": (r"^[A-Z]\d[A-Z] ?\d[A-Z]\d$", "A1A 1A1"),
    "GB": (r"^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$", "a UK postcode such as SW1A 1AA"),
    "DE": (r"^\d{5}$", "5 digits"),
    "FR": (r"^\d{5}$", "5 digits"),
    "ES": (r"^\d{5}$", "5 digits"),
    "IT": (r"^\d{5}$", "5 digits"),
    "NL": (r"^\d{4} ?[A-Z]{2}$", "1234 AB"),
    "BE": (r"^\d{4}$", "4 digits"),
    "AT": (r"^\d{4}$", "4 digits"),
    "CH": (r"^\d{4}$", "4 digits"),
    "AU": (r"^\d{4}$", "4 digits"),
    "JP": (r"^\d{3}-?\d{4}$", "123-4567"),
    "IN": (r"^\d{6}$", "6 digits"),
    "MX": (r"^\d{5}$", "5 digits"),
    "BR": (r"^\d{5}-?\d{3}$", "12345-678"),
    "PL": (r"^\d{2}-\d{3}$", "12-345"),
    "SE": (r"^\d{3} ?\d{2}$", "123 45"),
    "CN": (r"^\d{6}$", "6 digits"),
}


def country_code(value: str) -> str:
    """An ISO 3166-1 alpha-2 code, upper case."""
    code = value.strip().upper()
    if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code")
    return code


def currency_code(value: str) -> str:
    """An ISO 4217 currency code, upper case."""
    code = value.strip().upper()
    if len(code) != 3 or pycountry.currencies.get(alpha_3=code) is None:
        raise ValueError(f"{value!r} is not an ISO 4217 currency code")
    return code


def postal_code(value: str, country: str) -> str:
    """The postcode, upper-cased and checked against the country's form where known."""
    code = " ".join(value.strip().upper().split())
    form = POSTCODE_FORMS.get(country)
    if form is not None and not re.match(form[0], code):
        raise ValueError(f"{value!r} is not a {country} postcode; expected {form[1]}")
    return code


def gtin(value: str) -> str:
    """A GTIN-8/12/13/14 (EAN/UPC) with a valid check digit, digits only."""
    digits = re.sub(r"[\s-]", "", value)
    try:
        return str(ean.validate(digits))
    except StdnumError as exc:
        raise ValueError(f"{value!r} is not a valid GTIN/UPC/EAN: {exc}") from exc


def phone_e164(value: str, default_region: str | None = None) -> str:
    """A phone number in E.164 form (+14155550123)."""
    try:
        number = phonenumbers.parse(value, default_region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"{value!r} is not a phone number: {exc}") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError(f"{value!r} is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def time_zone(value: str) -> str:
    """An IANA time zone name (America/Chicago)."""
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"{value!r} is not an IANA time zone") from exc
    return value
