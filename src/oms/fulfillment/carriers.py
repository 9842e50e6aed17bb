"""Carriers, their services and their tracking numbers, as partners spell them.

A WMS writes "UPSN", a tracking provider "ups", a person "United Parcel
Service": all are the carrier `UPS`. Names are compared upper-cased with every
character that is not a letter or a digit removed, so "U.S. Postal Service",
"us-postal-service" and "USPOSTALSERVICE" are one key.

Services are normalized per carrier ("UPS Ground", "03" and "GND" are UPS
`GROUND`); a service this module does not know is kept, upper-snake-cased,
never refused. Each service maps to the OMS service level (standard,
expedited, overnight) that SLAs and reports use; pickup is never a carrier
service.

Tracking numbers are checked with the carriers' published check digits where
they are well known (UPS 1Z, USPS IMpb and S10, FedEx); other carriers' numbers
only need to look like one (6 to 40 letters and digits).

Pure: no database, no clock, no network.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from stdnum import ean

from oms.errors import Problem, ValidationFailed

OTHER = "OTHER"
"""The code of a carrier this module does not know (see `carrier_or_other`)."""


@dataclass(frozen=True)
class Carrier:
    """A carrier: canonical `code` (UPS), its SCAC when it has one, and a display name."""

    code: str
    scac: str | None
    name: str


class UnknownCarrier(ValidationFailed):
    """A carrier name, SCAC or slug that no known carrier answers to."""

    code = "shipment.unknown_carrier"

    def __init__(self, text: str, *, path: str = "carrier") -> None:
        super().__init__(
            [
                Problem(
                    path,
                    f"{text!r} is not a carrier Item OMS knows; send a SCAC (UPSN) "
                    "or a carrier name (UPS, FedEx, USPS)",
                    self.code,
                )
            ],
            message=f"unknown carrier {text!r}",
        )
        self.text = text


# code, SCAC, display name, then every other spelling (other SCACs, names, EasyPost
# carrier names, AfterShip slugs). The code and the name are spellings too.
_CARRIERS: tuple[tuple[str, str | None, str, tuple[str, ...]], ...] = (
    # parcel and post
    ("UPS", "UPSN", "UPS", ("United Parcel Service", "UPS Ground", "UPS Mail Innovations")),
    (
        "FEDEX",
        "FDXE",
        "FedEx",
        (
            "FDEG",
            "FDXG",
            "Federal Express",
            "FedEx Express",
            "FedEx Ground",
            "FedEx Home Delivery",
            "FedEx SmartPost",
        ),
    ),
    (
        "USPS",
        "USPS",
        "USPS",
        ("U.S. Postal Service", "United States Postal Service", "Postal Service", "US Mail"),
    ),
    ("DHL_EXPRESS", "DHLC", "DHL Express", ("DHL", "DHL Worldwide Express")),
    (
        "DHL_ECOMMERCE",
        None,
        "DHL eCommerce",
        ("DHL eCommerce Solutions", "DHL Global Mail", "dhl-global-mail"),
    ),
    ("ONTRAC", None, "OnTrac", ()),
    ("LASERSHIP", None, "LaserShip", ()),
    ("AMAZON", None, "Amazon Shipping", ("Amazon", "Amazon Logistics", "AMZL")),
    ("CANADA_POST", None, "Canada Post", ("Postes Canada",)),
    ("PUROLATOR", None, "Purolator", ()),
    ("ROYAL_MAIL", None, "Royal Mail", ()),
    ("AUSTRALIA_POST", None, "Australia Post", ("AusPost",)),
    ("DEUTSCHE_POST", None, "Deutsche Post", ("deutsch-post",)),
    ("DPD", None, "DPD", ("DPD UK", "dpd-uk")),
    ("GLS", None, "GLS", ("General Logistics Systems",)),
    ("POSTNL", None, "PostNL", ()),
    # LTL
    ("FEDEX_FREIGHT", "FXFE", "FedEx Freight", ("FXNL", "FedEx Freight Priority")),
    ("TFORCE_FREIGHT", "UPGF", "TForce Freight", ("UPS Freight",)),
    ("XPO", "XPOL", "XPO", ("CNWY", "XPO Logistics", "XPO LTL", "Con-way", "Con-way Freight")),
    ("ODFL", "ODFL", "Old Dominion Freight Line", ("Old Dominion",)),
    ("ESTES", "EXLA", "Estes Express Lines", ("Estes Express",)),
    ("SAIA", "SAIA", "Saia", ("Saia LTL Freight", "Saia Motor Freight")),
    ("YRC", "RDWY", "YRC Freight", ("Yellow", "Yellow Freight", "Roadway", "Roadway Express")),
    ("ABF", "ABFS", "ABF Freight", ("ArcBest", "Arkansas Best Freight")),
    ("RL_CARRIERS", "RLCA", "R+L Carriers", ("R&L Carriers", "R and L Carriers")),
    ("SOUTHEASTERN", "SEFL", "Southeastern Freight Lines", ("Southeastern",)),
    ("AAA_COOPER", "AACT", "AAA Cooper Transportation", ("AAA Cooper",)),
    ("AVERITT", "AVRT", "Averitt Express", ("Averitt",)),
)


def _key(text: str) -> str:
    """The comparison key of a spelling: upper case, letters and digits only."""
    return re.sub(r"[^0-9A-Z]", "", text.upper())


CARRIERS: Mapping[str, Carrier] = {
    code: Carrier(code, scac, name) for code, scac, name, _ in _CARRIERS
}
"""Every known carrier by its canonical code."""

_BY_KEY: dict[str, Carrier] = {}
for _code, _scac, _name, _spellings in _CARRIERS:
    for _spelling in (_code, _name, *((_scac,) if _scac else ()), *_spellings):
        _BY_KEY.setdefault(_key(_spelling), CARRIERS[_code])


def find_carrier(text: str) -> Carrier | None:
    """The carrier `text` names (SCAC, name, code, EasyPost name or AfterShip slug), if known."""
    return _BY_KEY.get(_key(text))


def normalize_carrier(text: str, *, path: str = "carrier") -> Carrier:
    """The carrier `text` names; UnknownCarrier (at `path`) when none does."""
    carrier = find_carrier(text)
    if carrier is None:
        raise UnknownCarrier(text, path=path)
    return carrier


def carrier_or_other(text: str) -> Carrier:
    """The carrier `text` names, or an `OTHER` carrier named `text` (tracking takes any carrier)."""
    return find_carrier(text) or Carrier(OTHER, None, text.strip() or "unknown")


# -- services --------------------------------------------------------------------------------

# carrier code → canonical service → its spellings (keys are compared like carrier names).
# A spelling may start with the carrier's name ("UPS Ground", "FEDEX_GROUND"): it is tried
# as given, then without that prefix.
_SERVICES: dict[str, dict[str, tuple[str, ...]]] = {
    "UPS": {
        # UPS's numeric service codes and its rate chart abbreviations (GND, 1DA, …)
        "GROUND": ("03", "GND", "UPS Ground"),
        "NEXT_DAY_AIR": ("01", "1DA", "NDA", "Next Day", "Next Day Air"),
        "NEXT_DAY_AIR_SAVER": ("13", "1DP", "NDAS", "Next Day Air Saver"),
        "NEXT_DAY_AIR_EARLY": ("14", "1DM", "Next Day Air Early", "NextDayAirEarlyAM"),
        "2ND_DAY_AIR": ("02", "2DA", "2nd Day Air", "Second Day Air"),
        "2ND_DAY_AIR_AM": ("59", "2DM", "2nd Day Air AM", "2ndDayAirAM"),
        "3_DAY_SELECT": ("12", "3DS", "3 Day Select", "Three Day Select"),
        "STANDARD": ("11", "UPS Standard"),
        "WORLDWIDE_EXPRESS": ("07", "Express", "Worldwide Express"),
        "WORLDWIDE_EXPRESS_PLUS": ("54", "Express Plus", "Worldwide Express Plus"),
        "WORLDWIDE_EXPEDITED": ("08", "Expedited", "Worldwide Expedited"),
        "WORLDWIDE_SAVER": ("65", "Saver", "UPS Saver", "Worldwide Saver", "Express Saver"),
        "GROUND_SAVER": ("Ground Saver",),
        "SUREPOST": ("Sure Post",),
    },
    "FEDEX": {
        # FedEx's service types as its API and EasyPost write them (FEDEX_GROUND, …)
        "GROUND": ("FEDEX_GROUND",),
        "HOME_DELIVERY": ("GROUND_HOME_DELIVERY", "Home Delivery"),
        "GROUND_ECONOMY": ("SMART_POST", "SmartPost", "Ground Economy"),
        "2DAY": ("FEDEX_2_DAY", "2 Day", "Two Day"),
        "2DAY_AM": ("FEDEX_2_DAY_AM", "2 Day AM"),
        "EXPRESS_SAVER": ("FEDEX_EXPRESS_SAVER", "Express Saver"),
        "STANDARD_OVERNIGHT": ("Standard Overnight",),
        "PRIORITY_OVERNIGHT": ("Priority Overnight",),
        "FIRST_OVERNIGHT": ("First Overnight",),
        "INTERNATIONAL_ECONOMY": ("International Economy",),
        "INTERNATIONAL_PRIORITY": ("International Priority", "FEDEX_INTERNATIONAL_PRIORITY"),
        "INTERNATIONAL_FIRST": ("International First",),
        "INTERNATIONAL_GROUND": ("International Ground",),
    },
    "USPS": {
        "GROUND_ADVANTAGE": ("Ground Advantage", "USPS Ground Advantage"),
        "PRIORITY": ("Priority", "Priority Mail"),
        "PRIORITY_EXPRESS": (
            "Priority Mail Express",
            "Priority Express",
            "Express",
            "Express Mail",
        ),
        "FIRST_CLASS": (
            "First",
            "First Class",
            "First-Class Mail",
            "First-Class Package",
            "First-Class Package Service",
        ),
        "MEDIA_MAIL": ("Media", "Media Mail"),
        "LIBRARY_MAIL": ("Library", "Library Mail"),
        "PARCEL_SELECT": ("Parcel Select", "Parcel Select Ground"),
        "PRIORITY_INTERNATIONAL": ("Priority Mail International",),
        "PRIORITY_EXPRESS_INTERNATIONAL": (
            "Priority Mail Express International",
            "Express Mail International",
        ),
        "FIRST_CLASS_INTERNATIONAL": (
            "First-Class Mail International",
            "First-Class Package International",
            "First-Class Package International Service",
        ),
    },
    "DHL_EXPRESS": {
        # and DHL's product codes (P, D, U: Express Worldwide; K, E: 9:00; T, Y: 12:00; …)
        "EXPRESS_WORLDWIDE": (
            "P",
            "D",
            "U",
            "Express Worldwide",
            "Express Worldwide Doc",
            "Express Worldwide NonDoc",
            "Worldwide",
        ),
        "EXPRESS_0900": ("K", "E", "Express 9:00", "Express 0900", "Express 9"),
        "EXPRESS_1030": ("Express 10:30",),
        "EXPRESS_1200": ("T", "Y", "Express 12:00", "Express 12"),
        "ECONOMY_SELECT": ("H", "W", "Economy Select"),
        "DOMESTIC_EXPRESS": ("N", "Domestic Express"),
        "EXPRESS_EASY": ("Express Easy",),
    },
}

SERVICES: Mapping[str, tuple[str, ...]] = {
    carrier: tuple(services) for carrier, services in _SERVICES.items()
}
"""Canonical service codes per carrier code; other carriers' services are kept as sent."""

# The carrier's name as a service spelling may start with it ("UPS Ground", "FedEx 2Day").
_SERVICE_PREFIXES: dict[str, tuple[str, ...]] = {
    "UPS": ("UPS",),
    "FEDEX": ("FEDEX",),
    "USPS": ("USPS",),
    "DHL_EXPRESS": ("DHLEXPRESS", "DHL"),
}

_SERVICE_BY_KEY: dict[str, dict[str, str]] = {
    carrier: {
        _key(spelling): service
        for service, spellings in services.items()
        for spelling in (service, *spellings)
    }
    for carrier, services in _SERVICES.items()
}

_LEVELS: dict[str, dict[str, str]] = {
    "UPS": {
        "GROUND": "standard",
        "STANDARD": "standard",
        "GROUND_SAVER": "standard",
        "SUREPOST": "standard",
        "3_DAY_SELECT": "expedited",
        "2ND_DAY_AIR": "expedited",
        "2ND_DAY_AIR_AM": "expedited",
        "NEXT_DAY_AIR": "overnight",
        "NEXT_DAY_AIR_SAVER": "overnight",
        "NEXT_DAY_AIR_EARLY": "overnight",
        "WORLDWIDE_EXPRESS": "expedited",
        "WORLDWIDE_EXPRESS_PLUS": "expedited",
        "WORLDWIDE_EXPEDITED": "expedited",
        "WORLDWIDE_SAVER": "expedited",
    },
    "FEDEX": {
        "GROUND": "standard",
        "HOME_DELIVERY": "standard",
        "GROUND_ECONOMY": "standard",
        "INTERNATIONAL_GROUND": "standard",
        "2DAY": "expedited",
        "2DAY_AM": "expedited",
        "EXPRESS_SAVER": "expedited",
        "INTERNATIONAL_ECONOMY": "expedited",
        "INTERNATIONAL_PRIORITY": "expedited",
        "INTERNATIONAL_FIRST": "expedited",
        "STANDARD_OVERNIGHT": "overnight",
        "PRIORITY_OVERNIGHT": "overnight",
        "FIRST_OVERNIGHT": "overnight",
    },
    "USPS": {
        "GROUND_ADVANTAGE": "standard",
        "FIRST_CLASS": "standard",
        "MEDIA_MAIL": "standard",
        "LIBRARY_MAIL": "standard",
        "PARCEL_SELECT": "standard",
        "FIRST_CLASS_INTERNATIONAL": "standard",
        "PRIORITY": "expedited",
        "PRIORITY_INTERNATIONAL": "expedited",
        "PRIORITY_EXPRESS_INTERNATIONAL": "expedited",
        "PRIORITY_EXPRESS": "overnight",
    },
    "DHL_EXPRESS": {
        "ECONOMY_SELECT": "standard",
        "EXPRESS_WORLDWIDE": "expedited",
        "EXPRESS_EASY": "expedited",
        "EXPRESS_0900": "overnight",
        "EXPRESS_1030": "overnight",
        "EXPRESS_1200": "overnight",
        "DOMESTIC_EXPRESS": "overnight",
    },
}

# For services no table names: words that say how fast, fastest first.
_LEVEL_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("overnight", ("OVERNIGHT", "NEXT_DAY", "SAME_DAY", "1_DAY", "1DAY")),
    (
        "expedited",
        ("2ND_DAY", "2_DAY", "2DAY", "3_DAY", "3DAY", "EXPRESS", "PRIORITY", "EXPEDITED", "AIR"),
    ),
)


def _carrier_code(carrier: str) -> str:
    found = find_carrier(carrier)
    return found.code if found is not None else carrier.strip().upper()


def _upper_snake(text: str) -> str:
    """`GroundAdvantage`, `ground advantage`, `ground-advantage` → `GROUND_ADVANTAGE`."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", text.strip())
    return re.sub(r"[^0-9A-Z]+", "_", spaced.upper()).strip("_")


def normalize_service(carrier_code: str, text: str) -> str:
    """The canonical service code of `text` for the carrier; unknown text upper-snake-cased.

    "UPS Ground", "03" and "GND" are UPS `GROUND`; "Priority Mail" is USPS `PRIORITY`.
    A service no table names is kept ("UPS Worldwide Economy DDU" → `WORLDWIDE_ECONOMY_DDU`,
    the carrier's name in front taken off); blank text gives "".
    """
    code = _carrier_code(carrier_code)
    known = _SERVICE_BY_KEY.get(code, {})
    prefixes = _SERVICE_PREFIXES.get(code, ())
    key = _key(text)
    for candidate in (key, *(key.removeprefix(p) for p in prefixes if key.startswith(p))):
        if candidate in known:
            return known[candidate]
    for prefix in prefixes:
        rest = _without_leading(text, prefix)
        if rest:
            return _upper_snake(rest)
    return _upper_snake(text)


def _without_leading(text: str, prefix_key: str) -> str | None:
    """`text` after a leading spelling of `prefix_key` ("Fed-Ex 2 Day", "FEDEX") → " 2 Day"."""
    at = 0
    for wanted in prefix_key:
        while at < len(text) and not text[at].isalnum():
            at += 1
        if at == len(text) or text[at].upper() != wanted:
            return None
        at += 1
    rest = text[at:]
    return rest if re.search(r"[0-9A-Za-z]", rest) else None


def service_level_of(carrier_code: str, service_code: str) -> str:
    """The OMS service level of a carrier service: "standard", "expedited" or "overnight".

    Known services come from the carrier's table; others are judged by their words
    (OVERNIGHT, NEXT_DAY → overnight; 2ND_DAY, EXPRESS, PRIORITY → expedited), else standard.
    """
    code = _carrier_code(carrier_code)
    service = normalize_service(code, service_code)
    level = _LEVELS.get(code, {}).get(service)
    if level is not None:
        return level
    padded = f"_{service}_"
    for level, words in _LEVEL_WORDS:
        if any(f"_{word}_" in padded for word in words):
            return level
    return "standard"


# -- tracking numbers ------------------------------------------------------------------------


def normalize_tracking_number(number: str) -> str:
    """`number` without spaces, upper-cased (labels print it in groups: "1Z 999 AA1 …")."""
    return re.sub(r"\s+", "", number).upper()


def _gs1_check_digit(digits: str) -> str:
    """The GS1 mod-10 check digit: weights 3, 1, 3, … from the rightmost digit leftwards."""
    return str(ean.calc_check_digit(digits))


def _gs1_valid(digits: str) -> bool:
    return digits.isdigit() and len(digits) > 1 and _gs1_check_digit(digits[:-1]) == digits[-1]


def ups_1z_is_valid(number: str) -> bool:
    """A UPS `1Z` number: 1Z, 15 letters/digits, a check digit.

    Each of the 15 characters after `1Z` is a value (digits as they are, a letter as
    (its place in the alphabet + 1) mod 10: A=2, B=3, … I=0, … Z=7); the check digit is
    (10 − (sum of the 1st, 3rd, … values + 2 × sum of the 2nd, 4th, … values) mod 10) mod 10.
    1Z999AA10123456784 is valid.
    """
    if not re.fullmatch(r"1Z[0-9A-Z]{15}[0-9]", number):
        return False
    values = [int(c) if c.isdigit() else (ord(c) - ord("A") + 2) % 10 for c in number[2:17]]
    total = sum(values[0::2]) + 2 * sum(values[1::2])
    return (10 - total % 10) % 10 == int(number[17])


def usps_impb_is_valid(number: str) -> bool:
    """A USPS IMpb (or older 20-digit) number: digits, GS1 mod-10 check digit last.

    20, 22 or 26 digits; with the routing prefix (420 + ZIP, 30 or 34 digits) the part
    after 420+ZIP5 or 420+ZIP9 is checked. The check digit is GS1's: the digits before it
    weighted 3, 1, 3, … from the right, check = (10 − sum mod 10) mod 10.
    """
    if not number.isdigit():
        return False
    if len(number) in (20, 22, 26):
        return _gs1_valid(number)
    if len(number) in (30, 34) and number.startswith("420"):
        return _gs1_valid(number[8:]) or (len(number) == 34 and _gs1_valid(number[12:]))
    return False


def s10_is_valid(number: str) -> bool:
    """A UPU S10 international item number (EA123456785US): 2 letters, 8 digits, check, 2 letters.

    The 8 serial digits are weighted 8, 6, 4, 2, 3, 5, 9, 7; check = 11 − sum mod 11,
    where 10 becomes 0 and 11 becomes 5.
    """
    if not re.fullmatch(r"[A-Z]{2}[0-9]{9}[A-Z]{2}", number):
        return False
    total = sum(int(d) * w for d, w in zip(number[2:10], (8, 6, 4, 2, 3, 5, 9, 7), strict=True))
    check = 11 - total % 11
    return {10: 0, 11: 5}.get(check, check) == int(number[10])


def fedex_is_valid(number: str) -> bool:
    """A FedEx number with its check digit.

    12 digits: the first 11 weighted 3, 1, 7, 3, 1, 7, … from the left (1, 3, 7, … read
    from the right); check = sum mod 11, with 10 becoming 0.
    15 digits (Ground) and 22 digits (Ground 96…, SmartPost 92…): GS1 mod 10.
    20 digits (SmartPost without its 92): GS1 mod 10 over 92 + the number.
    34-digit label barcodes are taken unchecked.
    """
    if not number.isdigit():
        return False
    if len(number) == 12:
        weights = (3, 1, 7) * 4
        total = sum(int(d) * w for d, w in zip(number[:11], weights, strict=False))
        return total % 11 % 10 == int(number[11])
    if len(number) in (15, 22):
        return _gs1_valid(number)
    if len(number) == 20:
        return _gs1_valid("92" + number)
    return len(number) == 34


def tracking_number_looks_valid(carrier_code: str, number: str) -> bool:
    """Whether `number` can be a tracking number of the carrier (spaces and case ignored).

    UPS 1Z numbers, USPS IMpb/S10 numbers and FedEx numbers must pass their check digits
    (see the functions above); any other number (other carriers, UPS's non-1Z forms) only
    needs 6 to 40 letters and digits.
    """
    code = _carrier_code(carrier_code)
    number = normalize_tracking_number(number)
    if code == "UPS" and number.startswith("1Z"):
        return ups_1z_is_valid(number)
    if code == "USPS":
        return usps_impb_is_valid(number) or s10_is_valid(number)
    if code == "FEDEX":
        return fedex_is_valid(number)
    return re.fullmatch(r"[0-9A-Z]{6,40}", number) is not None


def sscc_is_valid(text: str) -> bool:
    """An SSCC-18 (GS1 serial shipping container code) with a valid GS1 mod-10 check digit.

    Spaces and a leading "(00)" application identifier are allowed.
    """
    digits = re.sub(r"\s+", "", text).removeprefix("(00)")
    return len(digits) == 18 and _gs1_valid(digits)
