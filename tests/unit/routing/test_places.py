"""Where a ship-to roughly is: its own coordinates, else its region's point, else its
country's, else nowhere (every warehouse then equally far)."""

from __future__ import annotations

from oms.kit.geo import haversine_km
from oms.routing.places import destination_of, point_of


def test_a_us_state_has_a_point_within_its_borders_roughly() -> None:
    texas = point_of("US", "TX")

    assert texas is not None
    assert haversine_km(*texas, 32.78, -96.80) < 300  # Dallas


def test_a_region_is_matched_whatever_its_case() -> None:
    assert point_of("us", " ny ") == point_of("US", "NY")


def test_an_unknown_region_falls_back_to_the_country() -> None:
    assert point_of("US", "Narnia") == point_of("US")


def test_an_unknown_country_has_no_point() -> None:
    assert point_of("ZZ") is None


def test_an_address_with_coordinates_keeps_them() -> None:
    found = destination_of({"country": "US", "region": "TX", "latitude": 40.0, "longitude": -75.0})

    assert (found.latitude, found.longitude) == (40.0, -75.0)


def test_an_address_without_coordinates_gets_its_region_s_point() -> None:
    found = destination_of({"country": "US", "region": "NV", "postal_code": "89502"})

    assert (found.latitude, found.longitude) == point_of("US", "NV")
    assert (found.country, found.region, found.postal_code) == ("US", "NV", "89502")


def test_an_address_nowhere_known_has_no_coordinates() -> None:
    found = destination_of({"country": "ZZ"})

    assert (found.latitude, found.longitude) == (None, None)
