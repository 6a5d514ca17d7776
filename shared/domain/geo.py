"""Points on the map: rounding for the public, and whether a point can be in a regency.

No package on the registries ships Indonesia's regency boundaries, so the check is
made from what one does ship: GeoNames places matched by name to our districts and
villages give each regency a cloud of known points (see docs/places.md and
tools/build_place_extents.py). Their bounding box, padded generously, says where the
regency can plausibly be. The check is there to catch a phone's location in Jakarta on
a report about Cianjur, not to draw borders: refusing a citizen's true location is
worse than accepting a slightly wrong one, so where the data is thin it does not
decide. Pure: the extents come in as arguments.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from shared.domain.report import GeoPoint

# Indonesia from Sabang (Pulau Weh, 95.0 E, 6.1 N) to Merauke (141.0 E, 11.0 S), with
# the outer islands (Miangas 5.6 N, Pulau Rote 11.0 S) and a margin of sea.
INDONESIA_SOUTH, INDONESIA_NORTH = -11.5, 6.5
INDONESIA_WEST, INDONESIA_EAST = 94.5, 141.5

PADDING_KM = 30.0  # beyond the outermost known place of the regency
MIN_PLACES = 10  # fewer known places: their box says too little of the regency
KM_PER_DEGREE = 111.32  # of latitude; of longitude at the equator


@dataclass(frozen=True)
class Extent:
    """The bounding box of a regency's known places (degrees), and how many there are."""

    south: float
    west: float
    north: float
    east: float
    places: int


def round_point(point: GeoPoint, decimals: int = 3) -> GeoPoint:
    """The point as the public may see it (shared.domain.privacy): 3 decimals are
    about 110 m."""
    return GeoPoint(round(point.latitude, decimals), round(point.longitude, decimals))


def is_valid(point: GeoPoint) -> bool:
    """WGS84 degrees: finite, latitude within ±90, longitude within ±180."""
    lat, lon = point.latitude, point.longitude
    return math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180


def in_indonesia(point: GeoPoint) -> bool:
    """Inside the box around Indonesia (which also holds parts of its neighbours)."""
    return (
        INDONESIA_SOUTH <= point.latitude <= INDONESIA_NORTH
        and INDONESIA_WEST <= point.longitude <= INDONESIA_EAST
    )


def plausibly_in(
    point: GeoPoint,
    regency_code: str,
    extents: Mapping[str, Extent],
    *,
    padding_km: float = PADDING_KM,
) -> bool | None:
    """Whether ``point`` can lie in the regency: inside its known places' box widened by
    ``padding_km`` on every side. None when the data cannot tell (no extent, or fewer
    than :data:`MIN_PLACES` places): the caller then accepts the point."""
    extent = extents.get(regency_code)
    if extent is None or extent.places < MIN_PLACES:
        return None
    pad_lat = padding_km / KM_PER_DEGREE
    # A degree of longitude shrinks away from the equator: measured at the box's edge
    # furthest from it, the padding is at least padding_km everywhere in the box.
    widest = max(abs(extent.south), abs(extent.north)) + pad_lat
    pad_lon = padding_km / (KM_PER_DEGREE * math.cos(math.radians(widest)))
    return (
        extent.south - pad_lat <= point.latitude <= extent.north + pad_lat
        and extent.west - pad_lon <= point.longitude <= extent.east + pad_lon
    )
