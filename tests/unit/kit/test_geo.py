"""Haversine distances agree with known great-circle distances."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oms.kit.geo import EARTH_RADIUS_KM, haversine_km

latitudes = st.floats(-90, 90)
longitudes = st.floats(-180, 180)


def test_a_point_is_zero_km_from_itself() -> None:
    assert haversine_km(52.52, 13.405, 52.52, 13.405) == 0.0


def test_paris_to_london_is_about_344_km() -> None:
    km = haversine_km(48.8566, 2.3522, 51.5074, -0.1278)

    assert km == pytest.approx(344, abs=2)


def test_new_york_to_los_angeles_is_about_3936_km() -> None:
    km = haversine_km(40.7128, -74.0060, 34.0522, -118.2437)

    assert km == pytest.approx(3936, abs=5)


def test_one_degree_of_latitude_is_about_111_km() -> None:
    assert haversine_km(0, 0, 1, 0) == pytest.approx(111.19, abs=0.01)


def test_antipodes_are_half_the_circumference_apart() -> None:
    assert haversine_km(0, 0, 0, 180) == pytest.approx(EARTH_RADIUS_KM * 3.141592653589793)


def test_crossing_the_date_line_takes_the_short_way() -> None:
    assert haversine_km(0, 179.5, 0, -179.5) == pytest.approx(111.19, abs=0.01)


@given(latitudes, longitudes, latitudes, longitudes)
def test_distance_is_symmetric_and_never_beyond_half_the_circumference(
    lat1: float, lon1: float, lat2: float, lon2: float
) -> None:
    there = haversine_km(lat1, lon1, lat2, lon2)

    assert there == pytest.approx(haversine_km(lat2, lon2, lat1, lon1), abs=1e-6)
    assert 0 <= there <= EARTH_RADIUS_KM * 3.141592653589793 + 1e-6
