"""Great-circle distance between two points on the Earth, in kilometres."""

from __future__ import annotations

import math

EARTH_RADIUS_KM = 6371.0088
"""The mean Earth radius (IUGG); good to about 0.5 % anywhere, plenty for routing."""


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Distance in km between two (latitude, longitude) points given in degrees."""
    phi1 = math.radians(lat1)
    phi2 = math.radians(lat2)
    half_dphi = (phi2 - phi1) / 2
    half_dlambda = math.radians(lon2 - lon1) / 2
    a = math.sin(half_dphi) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(half_dlambda) ** 2
    # min() guards against a rounding error pushing `a` just above 1 for antipodes.
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, a)))
