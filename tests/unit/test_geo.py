"""Points: rounding for the public, Indonesia's box, and whether a point can lie in a
regency, on hand-made extents and on the bundled ones built from GeoNames."""

from __future__ import annotations

import math

import pytest

from shared.domain.geo import (
    KM_PER_DEGREE,
    MIN_PLACES,
    PADDING_KM,
    Extent,
    in_indonesia,
    is_valid,
    plausibly_in,
    round_point,
)
from shared.domain.report import GeoPoint
from shared.reference import load_place_extents, load_reference

pytestmark = pytest.mark.unit

BOX = Extent(south=-7.0, west=107.0, north=-6.8, east=107.2, places=MIN_PLACES)
EXTENTS = {"32.03": BOX, "32.99": Extent(-7.0, 107.0, -6.8, 107.2, places=MIN_PLACES - 1)}
CIANJUR_TOWN = GeoPoint(-6.8222, 107.1394)
CUGENANG = GeoPoint(-6.7803, 107.0497)
MONAS = GeoPoint(-6.1754, 106.8272)
TUNJUNGAN_SURABAYA = GeoPoint(-7.2621, 112.7397)


def test_rounding_keeps_three_decimals_about_110_m() -> None:
    assert round_point(GeoPoint(-6.822249, 107.139449)) == GeoPoint(-6.822, 107.139)
    assert round_point(GeoPoint(-6.8225, 107.1), decimals=1) == GeoPoint(-6.8, 107.1)


def test_wgs84_ranges_and_finite_numbers_only() -> None:
    assert is_valid(GeoPoint(-90, 180)) and is_valid(GeoPoint(0, -180))
    for bad in (GeoPoint(90.1, 0), GeoPoint(0, 180.5), GeoPoint(math.nan, 0)):
        assert not is_valid(bad)
    assert not is_valid(GeoPoint(0, math.inf))


def test_indonesias_box_holds_sabang_to_merauke_and_not_paris() -> None:
    for inside in (GeoPoint(5.89, 95.32), GeoPoint(-8.49, 140.40), GeoPoint(5.56, 126.58)):
        assert in_indonesia(inside)
    for outside in (GeoPoint(48.86, 2.29), GeoPoint(-12.46, 130.84), GeoPoint(14.6, 121.0)):
        assert not in_indonesia(outside)


def test_the_box_is_padded_by_the_padding_on_every_side() -> None:
    just = (PADDING_KM - 1) / KM_PER_DEGREE
    beyond = (PADDING_KM + 1) / KM_PER_DEGREE
    assert plausibly_in(GeoPoint(-6.9, 107.1), "32.03", EXTENTS) is True
    assert plausibly_in(GeoPoint(-6.8 + just, 107.1), "32.03", EXTENTS) is True
    assert plausibly_in(GeoPoint(-6.8 + beyond, 107.1), "32.03", EXTENTS) is False
    assert plausibly_in(GeoPoint(-7.0 - beyond, 107.1), "32.03", EXTENTS) is False
    # East and west: a degree of longitude is a little shorter than one of latitude here.
    assert plausibly_in(GeoPoint(-6.9, 107.2 + just), "32.03", EXTENTS) is True
    assert plausibly_in(GeoPoint(-6.9, 107.0 - beyond * 1.01), "32.03", EXTENTS) is False


def test_no_extent_or_too_few_places_cannot_tell() -> None:
    assert plausibly_in(MONAS, "31.74", EXTENTS) is None
    assert plausibly_in(MONAS, "32.99", EXTENTS) is None


# --- the bundled extents --------------------------------------------------------------


def test_the_bundled_extents_name_known_regencies_and_lie_in_indonesia() -> None:
    extents = load_place_extents()
    reference = load_reference()
    assert len(extents) > 200
    for code, extent in extents.items():
        assert reference.has_region(code) and code.count(".") == 1, code
        assert extent.south <= extent.north and extent.west <= extent.east, code
        for corner in (GeoPoint(extent.south, extent.west), GeoPoint(extent.north, extent.east)):
            assert in_indonesia(corner), code
            assert plausibly_in(corner, code, extents) is not False, code


def test_cianjur_accepts_its_own_places_and_refuses_jakarta_and_surabaya() -> None:
    extents = load_place_extents()
    assert extents["32.03"].places >= MIN_PLACES
    assert plausibly_in(CIANJUR_TOWN, "32.03", extents) is True
    assert plausibly_in(CUGENANG, "32.03", extents) is True
    assert plausibly_in(GeoPoint(-7.4667, 107.3667), "32.03", extents) is True  # Cidaun
    assert plausibly_in(MONAS, "32.03", extents) is False
    assert plausibly_in(TUNJUNGAN_SURABAYA, "32.03", extents) is False


def test_enough_regencies_decide_to_be_worth_checking() -> None:
    deciding = [c for c, e in load_place_extents().items() if e.places >= MIN_PLACES]
    assert len(deciding) == 60  # docs/places.md: which, and why so few
