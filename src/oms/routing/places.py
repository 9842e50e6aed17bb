"""Where a ship-to roughly is, when the order does not say: a point per region or country.

Routing ranks warehouses by their distance to the ship-to. Orders arrive with
postal addresses, not coordinates, so the planner is given a representative
point: the ship-to's own coordinates when the address carries them, else its
region's (US states, Canadian provinces; a point near where people live, not the
geometric centre), else its country's. Good to a few hundred kilometres: enough
to tell a Dallas warehouse from an Edison one for a Texan customer, which is what
the ranking needs. A place not listed has no point; the cost model's
`unknown_distance_km` then applies to every warehouse alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from oms.routing.model import Destination

Point = tuple[float, float]

REGIONS: dict[str, dict[str, Point]] = {
    "US": {
        "AL": (33.0, -86.8),
        "AK": (61.2, -149.9),
        "AZ": (33.6, -111.9),
        "AR": (35.0, -92.4),
        "CA": (35.5, -119.3),
        "CO": (39.6, -105.0),
        "CT": (41.6, -72.8),
        "DE": (39.4, -75.6),
        "DC": (38.9, -77.0),
        "FL": (27.8, -81.6),
        "GA": (33.3, -84.0),
        "HI": (21.3, -157.8),
        "ID": (43.8, -115.5),
        "IL": (41.3, -88.4),
        "IN": (39.9, -86.3),
        "IA": (41.9, -93.0),
        "KS": (38.5, -97.4),
        "KY": (37.8, -85.5),
        "LA": (30.7, -91.5),
        "ME": (44.3, -69.8),
        "MD": (39.1, -76.8),
        "MA": (42.3, -71.4),
        "MI": (42.9, -84.2),
        "MN": (45.2, -93.6),
        "MS": (32.6, -89.6),
        "MO": (38.4, -92.2),
        "MT": (46.6, -110.0),
        "NE": (41.0, -97.3),
        "NV": (36.6, -115.6),
        "NH": (43.1, -71.5),
        "NJ": (40.4, -74.4),
        "NM": (34.6, -106.4),
        "NY": (41.5, -74.6),
        "NC": (35.5, -79.8),
        "ND": (47.4, -99.3),
        "OH": (40.5, -82.7),
        "OK": (35.6, -97.0),
        "OR": (44.7, -122.6),
        "PA": (40.5, -77.0),
        "RI": (41.8, -71.4),
        "SC": (34.0, -81.0),
        "SD": (44.0, -98.5),
        "TN": (35.8, -86.4),
        "TX": (30.9, -97.4),
        "UT": (40.4, -111.9),
        "VT": (44.2, -72.8),
        "VA": (37.9, -77.8),
        "WA": (47.3, -121.6),
        "WV": (38.7, -80.8),
        "WI": (43.7, -89.0),
        "WY": (42.4, -106.9),
        "PR": (18.3, -66.4),
    },
    "CA": {
        "AB": (52.3, -114.0),
        "BC": (49.5, -123.0),
        "MB": (49.9, -97.1),
        "NB": (46.0, -66.0),
        "NL": (47.6, -52.8),
        "NS": (44.8, -63.6),
        "NT": (62.5, -114.4),
        "NU": (63.7, -68.5),
        "ON": (43.9, -79.6),
        "PE": (46.3, -63.1),
        "QC": (46.0, -73.2),
        "SK": (51.3, -105.8),
        "YT": (60.7, -135.1),
    },
}

COUNTRIES: dict[str, Point] = {
    "US": (37.8, -91.8),
    "CA": (45.6, -77.0),
    "MX": (20.6, -100.4),
    "GB": (52.5, -1.5),
    "IE": (53.3, -7.3),
    "FR": (47.0, 2.4),
    "DE": (50.9, 9.6),
    "NL": (52.2, 5.3),
    "BE": (50.8, 4.4),
    "LU": (49.6, 6.1),
    "ES": (40.2, -3.6),
    "PT": (39.6, -8.5),
    "IT": (43.0, 12.0),
    "CH": (47.0, 8.0),
    "AT": (47.8, 14.6),
    "DK": (55.8, 10.6),
    "SE": (59.0, 15.5),
    "NO": (60.2, 10.0),
    "FI": (61.5, 24.5),
    "PL": (52.0, 19.4),
    "CZ": (49.9, 15.3),
    "JP": (35.6, 137.0),
    "CN": (32.0, 114.0),
    "KR": (36.9, 127.6),
    "IN": (22.8, 79.0),
    "SG": (1.35, 103.8),
    "AU": (-33.0, 147.0),
    "NZ": (-38.5, 175.5),
    "BR": (-20.0, -46.0),
}


def point_of(country: str, region: str | None = None) -> Point | None:
    """The representative point of `region` in `country`, else of `country`; None if unknown."""
    country = country.upper()
    if region:
        found = REGIONS.get(country, {}).get(region.strip().upper())
        if found is not None:
            return found
    return COUNTRIES.get(country)


def destination_of(address: Mapping[str, Any]) -> Destination:
    """The planner's destination for a stored ship-to address (a dict as orders keep it)."""
    country = str(address.get("country") or "").upper()
    region = address.get("region")
    postal_code = address.get("postal_code")
    latitude, longitude = address.get("latitude"), address.get("longitude")
    if not isinstance(latitude, int | float) or not isinstance(longitude, int | float):
        point = point_of(country, region if isinstance(region, str) else None)
        latitude, longitude = point if point is not None else (None, None)
    return Destination(
        country=country,
        latitude=float(latitude) if latitude is not None else None,
        longitude=float(longitude) if longitude is not None else None,
        postal_code=str(postal_code) if postal_code else None,
        region=region if isinstance(region, str) else None,
    )
