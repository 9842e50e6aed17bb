"""Carriers, services and tracking numbers as partners spell them, made canonical."""

from __future__ import annotations

import pytest

from oms.errors import ValidationFailed
from oms.fulfillment import carriers
from oms.fulfillment.carriers import (
    CARRIERS,
    OTHER,
    SERVICES,
    UnknownCarrier,
    carrier_or_other,
    normalize_carrier,
    normalize_service,
    service_level_of,
    sscc_is_valid,
    tracking_number_looks_valid,
)

# -- carriers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("ups", "UPS"),
        ("UPSN", "UPS"),
        ("United Parcel Service", "UPS"),
        ("FedEx", "FEDEX"),
        ("fedex_ground", "FEDEX"),
        ("FDXG", "FEDEX"),
        ("FDEG", "FEDEX"),
        ("FDXE", "FEDEX"),
        ("Federal Express", "FEDEX"),
        ("usps", "USPS"),
        ("U.S. Postal Service", "USPS"),
        ("United States Postal Service", "USPS"),
        ("DHL Express", "DHL_EXPRESS"),
        ("dhl-express", "DHL_EXPRESS"),
        ("DHLExpress", "DHL_EXPRESS"),
        ("dhl", "DHL_EXPRESS"),
        ("DHLC", "DHL_EXPRESS"),
        ("dhl-global-mail", "DHL_ECOMMERCE"),
        ("DHL eCommerce", "DHL_ECOMMERCE"),
        ("ontrac", "ONTRAC"),
        ("canada-post", "CANADA_POST"),
        ("royal-mail", "ROYAL_MAIL"),
        ("australia-post", "AUSTRALIA_POST"),
        ("LaserShip", "LASERSHIP"),
        ("XPOL", "XPO"),
        ("CNWY", "XPO"),
        ("Con-way", "XPO"),
        ("odfl", "ODFL"),
        ("Old Dominion Freight Line", "ODFL"),
        ("EXLA", "ESTES"),
        ("Estes", "ESTES"),
        ("saia", "SAIA"),
        ("RDWY", "YRC"),
        ("R+L Carriers", "RL_CARRIERS"),
        ("R&L Carriers", "RL_CARRIERS"),
        ("FedEx Freight", "FEDEX_FREIGHT"),
        ("UPS Freight", "TFORCE_FREIGHT"),
        ("  ups  ", "UPS"),
    ],
)
def test_a_carrier_is_found_by_scac_name_or_slug_whatever_its_case_and_punctuation(
    text: str, code: str
) -> None:
    assert normalize_carrier(text).code == code


@pytest.mark.parametrize(
    ("code", "scac"),
    [
        ("UPS", "UPSN"),
        ("FEDEX", "FDXE"),
        ("USPS", "USPS"),
        ("DHL_EXPRESS", "DHLC"),
        ("XPO", "XPOL"),
        ("ODFL", "ODFL"),
        ("ESTES", "EXLA"),
        ("SAIA", "SAIA"),
        ("YRC", "RDWY"),
        ("ONTRAC", None),
    ],
)
def test_a_carrier_carries_one_scac_or_none(code: str, scac: str | None) -> None:
    assert CARRIERS[code].scac == scac


@pytest.mark.parametrize("carrier", list(CARRIERS.values()), ids=lambda c: c.code)
def test_every_carrier_answers_to_its_code_its_name_and_its_scac(
    carrier: carriers.Carrier,
) -> None:
    spellings = [carrier.code, carrier.name, *([carrier.scac] if carrier.scac else [])]

    assert {normalize_carrier(s) for s in spellings} == {carrier}


def test_carriers_cover_parcel_post_and_ltl() -> None:
    assert len(CARRIERS) >= 25
    assert {"UPS", "FEDEX", "USPS", "DHL_EXPRESS", "CANADA_POST", "ODFL", "SAIA"} <= set(CARRIERS)


def test_an_unknown_carrier_is_refused_at_the_field_that_named_it() -> None:
    with pytest.raises(UnknownCarrier) as raised:
        normalize_carrier("Pony Express", path="packages[1].carrier")

    assert isinstance(raised.value, ValidationFailed)
    assert raised.value.code == "shipment.unknown_carrier"
    assert raised.value.text == "Pony Express"
    [problem] = raised.value.problems
    assert problem.path == "packages[1].carrier"
    assert problem.code == "shipment.unknown_carrier"
    assert "Pony Express" in problem.message


def test_an_unknown_carrier_is_refused_at_carrier_by_default() -> None:
    with pytest.raises(UnknownCarrier) as raised:
        normalize_carrier("")

    assert raised.value.problems[0].path == "carrier"


def test_carrier_or_other_gives_a_known_carrier_as_itself() -> None:
    assert carrier_or_other("fedex") == CARRIERS["FEDEX"]


def test_carrier_or_other_keeps_an_unknown_carrier_by_its_name() -> None:
    carrier = carrier_or_other(" Pony Express ")

    assert (carrier.code, carrier.scac, carrier.name) == (OTHER, None, "Pony Express")


# -- services --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("carrier", "text", "service"),
    [
        ("UPS", "Ground", "GROUND"),
        ("UPS", "UPS Ground", "GROUND"),
        ("UPS", "03", "GROUND"),
        ("UPS", "GND", "GROUND"),
        ("UPS", "Next Day Air", "NEXT_DAY_AIR"),
        ("UPS", "NDA", "NEXT_DAY_AIR"),
        ("UPS", "01", "NEXT_DAY_AIR"),
        ("UPS", "NextDayAirSaver", "NEXT_DAY_AIR_SAVER"),
        ("UPS", "2ndDayAir", "2ND_DAY_AIR"),
        ("UPS", "3 Day Select", "3_DAY_SELECT"),
        ("UPS", "UPSSaver", "WORLDWIDE_SAVER"),
        ("UPS", "Express", "WORLDWIDE_EXPRESS"),
        ("UPSN", "ground", "GROUND"),
        ("FEDEX", "FEDEX_GROUND", "GROUND"),
        ("FEDEX", "FedEx Ground", "GROUND"),
        ("FEDEX", "GROUND_HOME_DELIVERY", "HOME_DELIVERY"),
        ("FEDEX", "FEDEX_2_DAY", "2DAY"),
        ("FEDEX", "FedEx 2Day", "2DAY"),
        ("FEDEX", "FEDEX_EXPRESS_SAVER", "EXPRESS_SAVER"),
        ("FEDEX", "PRIORITY_OVERNIGHT", "PRIORITY_OVERNIGHT"),
        ("FEDEX", "Standard Overnight", "STANDARD_OVERNIGHT"),
        ("FEDEX", "first_overnight", "FIRST_OVERNIGHT"),
        ("FEDEX", "SMART_POST", "GROUND_ECONOMY"),
        ("USPS", "GroundAdvantage", "GROUND_ADVANTAGE"),
        ("USPS", "USPS Ground Advantage", "GROUND_ADVANTAGE"),
        ("USPS", "Priority Mail", "PRIORITY"),
        ("USPS", "Priority", "PRIORITY"),
        ("USPS", "Priority Mail Express", "PRIORITY_EXPRESS"),
        ("USPS", "Express", "PRIORITY_EXPRESS"),
        ("USPS", "First-Class Package Service", "FIRST_CLASS"),
        ("USPS", "MediaMail", "MEDIA_MAIL"),
        ("DHL_EXPRESS", "ExpressWorldwide", "EXPRESS_WORLDWIDE"),
        ("DHL_EXPRESS", "P", "EXPRESS_WORLDWIDE"),
        ("DHL_EXPRESS", "Express 12:00", "EXPRESS_1200"),
        ("DHL_EXPRESS", "DHL Express 9:00", "EXPRESS_0900"),
    ],
)
def test_a_service_is_normalized_from_its_usual_spellings(
    carrier: str, text: str, service: str
) -> None:
    assert normalize_service(carrier, text) == service


@pytest.mark.parametrize(
    ("carrier", "text", "service"),
    [
        ("UPS", "UPS Worldwide Economy DDU", "WORLDWIDE_ECONOMY_DDU"),
        ("USPS", "ParcelSelectLightweight", "PARCEL_SELECT_LIGHTWEIGHT"),
        ("FEDEX", "FedEx Custom Critical", "CUSTOM_CRITICAL"),
        ("ODFL", "guaranteed-by-noon", "GUARANTEED_BY_NOON"),
        ("OTHER", "Same Day", "SAME_DAY"),
    ],
)
def test_an_unknown_service_is_kept_upper_snake_cased_without_the_carriers_name(
    carrier: str, text: str, service: str
) -> None:
    assert normalize_service(carrier, text) == service


def test_a_blank_service_stays_blank() -> None:
    assert normalize_service("UPS", "  ") == ""


@pytest.mark.parametrize(
    ("carrier", "service", "level"),
    [
        ("UPS", "GROUND", "standard"),
        ("UPS", "3_DAY_SELECT", "expedited"),
        ("UPS", "2ND_DAY_AIR", "expedited"),
        ("UPS", "NEXT_DAY_AIR", "overnight"),
        ("UPS", "NEXT_DAY_AIR_SAVER", "overnight"),
        ("FEDEX", "HOME_DELIVERY", "standard"),
        ("FEDEX", "EXPRESS_SAVER", "expedited"),
        ("FEDEX", "STANDARD_OVERNIGHT", "overnight"),
        ("USPS", "GROUND_ADVANTAGE", "standard"),
        ("USPS", "MEDIA_MAIL", "standard"),
        ("USPS", "PRIORITY", "expedited"),
        ("USPS", "PRIORITY_EXPRESS", "overnight"),
        ("DHL_EXPRESS", "EXPRESS_WORLDWIDE", "expedited"),
        ("DHL_EXPRESS", "ECONOMY_SELECT", "standard"),
        ("UPS", "Next Day Air", "overnight"),
    ],
)
def test_a_known_service_has_its_service_level(carrier: str, service: str, level: str) -> None:
    assert service_level_of(carrier, service) == level


@pytest.mark.parametrize(
    ("service", "level"),
    [
        ("SAME_DAY", "overnight"),
        ("NEXT_DAY_FREIGHT", "overnight"),
        ("2_DAY_GUARANTEED", "expedited"),
        ("PRIORITY_FREIGHT", "expedited"),
        ("STANDARD_LTL", "standard"),
        ("PARCEL", "standard"),
    ],
)
def test_an_unknown_service_is_judged_by_its_words(service: str, level: str) -> None:
    assert service_level_of("OTHER", service) == level


def test_every_known_service_has_a_carrier_service_level_and_none_is_pickup() -> None:
    levels = {
        service_level_of(carrier, service)
        for carrier, services in SERVICES.items()
        for service in services
    }

    assert levels == {"standard", "expedited", "overnight"}


# -- tracking numbers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        # 1Z + 999AA1012345678 + 4: values 9,9,9,2,2,1,0,1,2,3,4,5,6,7,8 (A=2);
        # odd places 40, even places 28 × 2 = 56; 96 → check 4.
        "1Z999AA10123456784",
        "1z 999 aa1 0123 4567 84",
        # 12345E660527223 + 4: odd places 22, even 32 × 2 = 64; 86 → check 4.
        "1Z12345E6605272234",
    ],
)
def test_a_ups_1z_number_with_its_check_digit_is_valid(number: str) -> None:
    assert tracking_number_looks_valid("UPS", number)


@pytest.mark.parametrize(
    "number",
    ["1Z999AA10123456785", "1Z999AA1012345678", "1Z999AA101234567844", "1Z999AA1012345678X"],
)
def test_a_ups_1z_number_with_a_wrong_check_digit_or_length_is_not(number: str) -> None:
    assert not tracking_number_looks_valid("UPS", number)


@pytest.mark.parametrize(
    "number",
    [
        "9461200106068143633117",  # the EasyPost sample's USPS tracker
        "9461 2001 0606 8143 6331 17",
        # 20 digits: 0307179000052348374 weighted 3,1,… from the right sums to 109 → check 1
        "03071790000523483741",
        "42029401" + "9461200106068143633117",  # with its 420 + ZIP routing prefix
        "EA123456785US",  # S10: 1..8 × 8,6,4,2,3,5,9,7 = 204; 204 mod 11 = 6; 11 − 6 = 5
    ],
)
def test_a_usps_number_with_its_check_digit_is_valid(number: str) -> None:
    assert tracking_number_looks_valid("USPS", number)


@pytest.mark.parametrize(
    "number", ["9461200106068143633118", "03071790000523483742", "EA123456784US", "123456"]
)
def test_a_usps_number_with_a_wrong_check_digit_or_form_is_not(number: str) -> None:
    assert not tracking_number_looks_valid("USPS", number)


@pytest.mark.parametrize(
    "number",
    [
        # 12345678901 × 3,1,7,3,1,7,3,1,7,3,1 = 178; 178 mod 11 = 2
        "123456789012",
        # 7 × 3 = 21; 21 mod 11 = 10, written 0
        "700000000000",
        # 15 digits, GS1: 12345678901234 weighted 3,1,… from the right = 107 → check 3
        "123456789012343",
    ],
)
def test_a_fedex_number_with_its_check_digit_is_valid(number: str) -> None:
    assert tracking_number_looks_valid("FEDEX", number)


@pytest.mark.parametrize(
    "number", ["123456789013", "700000000001", "123456789012344", "12345678901", "1234567890AB"]
)
def test_a_fedex_number_with_a_wrong_check_digit_or_form_is_not(number: str) -> None:
    assert not tracking_number_looks_valid("FEDEX", number)


@pytest.mark.parametrize(
    ("carrier", "number", "valid"),
    [
        ("ONTRAC", "C11422000000000", True),
        ("DHL_EXPRESS", "1234567890", True),
        ("OTHER", "ab12cd", True),
        ("UPS", "T1234567890", True),
        ("ONTRAC", "AB12", False),
        ("ONTRAC", "A" * 41, False),
        ("DPD", "ABC-123456", False),
    ],
)
def test_other_numbers_need_six_to_forty_letters_and_digits(
    carrier: str, number: str, valid: bool
) -> None:
    assert tracking_number_looks_valid(carrier, number) is valid


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("106141411234567897", True),  # GS1's example SSCC
        ("(00) 1 0614141 123456789 7", True),
        ("106141411234567890", False),
        ("10614141123456789", False),
        ("10614141123456789A", False),
    ],
)
def test_an_sscc_needs_eighteen_digits_and_its_gs1_check_digit(text: str, valid: bool) -> None:
    assert sscc_is_valid(text) is valid
