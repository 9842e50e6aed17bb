"""Checks against public standards: ISO 3166 countries, ISO 4217 currencies,
GTIN check digits, postcode forms, E.164 phone numbers, IANA time zones,
e-mail addresses (RFC 5321 limits) and 24-hour clock times (ISO 8601 hh:mm).

Each check returns the normalized value or raises ValueError with a sentence a
person can act on; pydantic turns that into a problem at the field's path.
"""

from __future__ import annotations

import functools
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


@functools.lru_cache(maxsize=1024)
def country_code(value: str) -> str:
    """An ISO 3166-1 alpha-2 code, upper case."""
    code = value.strip().upper()
    if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code")
    return code


@functools.lru_cache(maxsize=1024)
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
    """A phone number in E.164 form (+14155550123).

    Without `default_region` the number must be international: `+`, country code, number.
    """
    try:
        number = phonenumbers.parse(value, default_region)
    except phonenumbers.NumberParseException as exc:
        if exc.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE:
            if value.strip().startswith("+"):
                raise ValueError(f"{value!r} is not a phone number: unknown country code") from exc
            raise ValueError(
                f"{value!r} has no country code; write it as +<country code><number>, "
                "as +14155550123"
            ) from exc
        raise ValueError(f"{value!r} is not a phone number") from exc
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


# Dot-atoms only (no quoted local parts, no IP literals): what shops and EDI partners send.
_EMAIL_LOCAL = re.compile(r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_DOMAIN_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


def email_address(value: str) -> str:
    """An e-mail address, trimmed and lower-cased, with a dotted domain (RFC 5321 limits)."""
    address = value.strip().lower()
    local, at, domain = address.rpartition("@")
    labels = domain.split(".")
    if (
        not at
        or len(address) > 254
        or not 1 <= len(local) <= 64
        or not _EMAIL_LOCAL.match(local)
        or len(labels) < 2
        or not all(_DOMAIN_LABEL.match(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise ValueError(f"{value!r} is not an e-mail address such as name@example.com")
    return address


def clock_time(value: str) -> str:
    """A time of day on the 24-hour clock, as HH:MM (`9:30` becomes `09:30`)."""
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", value.strip())
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        raise ValueError(f"{value!r} is not a time of day; expected HH:MM from 00:00 to 23:59")
    return f"{int(match[1]):02d}:{match[2]}"
