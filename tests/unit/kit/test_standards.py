"""Checks against public standards: each gives back the normalized value or a sentence."""

from __future__ import annotations

import pytest

from oms.kit import standards


def test_a_country_code_is_upper_cased() -> None:
    assert standards.country_code(" us ") == "US"


@pytest.mark.parametrize("value", ["USA", "XX", "", "U"])
def test_a_country_code_that_iso_3166_does_not_know_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="ISO 3166-1 alpha-2"):
        standards.country_code(value)


def test_a_currency_code_is_upper_cased() -> None:
    assert standards.currency_code("eur") == "EUR"


@pytest.mark.parametrize("value", ["EURO", "XYZ", "", "US"])
def test_a_currency_code_that_iso_4217_does_not_know_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="ISO 4217"):
        standards.currency_code(value)


@pytest.mark.parametrize(
    ("value", "country", "expected"),
    [
        ("75201", "US", "75201"),
        ("75201-1234", "US", "75201-1234"),
        ("sw1a  1aa", "GB", "SW1A 1AA"),
        ("k1a 0b1", "CA", "K1A 0B1"),
        ("1012 ab", "NL", "1012 AB"),
    ],
)
def test_a_postcode_is_normalized_to_its_countrys_form(
    value: str, country: str, expected: str
) -> None:
    assert standards.postal_code(value, country) == expected


@pytest.mark.parametrize(("value", "country"), [("7520", "US"), ("ABCDE", "DE"), ("12345", "GB")])
def test_a_postcode_of_the_wrong_form_is_refused_with_the_form_expected(
    value: str, country: str
) -> None:
    with pytest.raises(ValueError, match="expected"):
        standards.postal_code(value, country)


def test_a_postcode_of_a_country_without_a_known_form_is_taken_as_given() -> None:
    assert standards.postal_code(" 00-abc ", "NZ") == "00-ABC"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("00012345678905", "00012345678905"),
        ("4006381333931", "4006381333931"),
        ("0-12345-67890-5", "012345678905"),
    ],
)
def test_a_gtin_with_a_good_check_digit_is_kept_as_digits(value: str, expected: str) -> None:
    assert standards.gtin(value) == expected


@pytest.mark.parametrize("value", ["00012345678901", "abc", "123"])
def test_a_gtin_with_a_bad_check_digit_or_length_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="GTIN"):
        standards.gtin(value)


def test_an_international_phone_number_is_stored_in_e164() -> None:
    assert standards.phone_e164("+1 (415) 555-0123") == "+14155550123"


def test_a_national_phone_number_is_read_in_the_default_region() -> None:
    assert standards.phone_e164("020 7946 0958", "GB") == "+442079460958"


def test_a_phone_number_without_a_country_code_is_refused_saying_how_to_write_it() -> None:
    with pytest.raises(ValueError, match=r"\+<country code>"):
        standards.phone_e164("415 555 0123")


@pytest.mark.parametrize("value", ["call me", "+1 555", "+999 1234"])
def test_a_string_that_is_no_valid_phone_number_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="phone number"):
        standards.phone_e164(value)


def test_an_iana_time_zone_is_accepted() -> None:
    assert standards.time_zone("America/Chicago") == "America/Chicago"


@pytest.mark.parametrize("value", ["Mars/Olympus", "", "../etc/passwd", "America/"])
def test_an_unknown_time_zone_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="IANA time zone"):
        standards.time_zone(value)


def test_an_email_address_is_trimmed_and_lower_cased() -> None:
    assert (
        standards.email_address("  Ana.Lopez+orders@Example.COM ") == "ana.lopez+orders@example.com"
    )


@pytest.mark.parametrize(
    "value",
    [
        "no-at-sign.example.com",
        "ana@localhost",
        "@example.com",
        "ana..lopez@example.com",
        "ana@-example.com",
        "ana@example.123",
        "ana lopez@example.com",
        f"{'a' * 65}@example.com",
        f"ana@{'b' * 250}.com",
    ],
)
def test_a_malformed_email_address_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="e-mail address"):
        standards.email_address(value)


@pytest.mark.parametrize(
    ("value", "expected"), [("9:30", "09:30"), ("00:00", "00:00"), (" 23:59 ", "23:59")]
)
def test_a_clock_time_is_written_as_hh_mm(value: str, expected: str) -> None:
    assert standards.clock_time(value) == expected


@pytest.mark.parametrize("value", ["24:00", "12:60", "1230", "noon", "12:5", ""])
def test_a_clock_time_outside_the_24_hour_day_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="HH:MM"):
        standards.clock_time(value)
