"""Districts and villages: the bundled Kemendagri data is complete and right where we
can check it, each province's file is read only when asked, and codes that do not
exist or lie elsewhere are refused.

The counts are those of Kepmendagri No. 300.2.2-2138 Tahun 2025 as the bundled files
carry them (see docs/places.md); a new decree changes them on purpose.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.domain.routing import covers
from shared.reference import (
    DATA_DIR,
    PLACES_DIR,
    Reference,
    ReferenceDataError,
    load_reference,
    parse_places,
)


@pytest.fixture(scope="module")
def ref() -> Reference:
    return load_reference()


def test_every_regency_and_city_of_indonesia_is_listed(ref: Reference) -> None:
    assert len(ref.provinces) == 38
    assert len(ref.regencies) == 514
    assert sum(r.is_city for r in ref.regencies) == 98
    assert all(r.is_city or r.name.startswith("Kabupaten ") for r in ref.regencies)
    assert len(ref.regencies_of("94")) == 8  # Papua Tengah, a 2022 province


def test_jakarta_uses_the_kemendagri_codes_not_the_bps_ones(ref: Reference) -> None:
    assert ref.regency("31.71").name == "Kota Administrasi Jakarta Pusat"
    assert ref.regency("31.74").name == "Kota Administrasi Jakarta Selatan"
    assert ref.district("31.71.01").name == "Gambir"


def test_cianjur_has_32_districts_and_cugenang_is_32_03_11(ref: Reference) -> None:
    districts = ref.districts_of("32.03")
    assert len(districts) == 32
    assert [d.code for d in districts] == [f"32.03.{n:02d}" for n in range(1, 33)]
    assert {d.name: d.code for d in districts}["Cugenang"] == "32.03.11"
    assert ref.district("32.03.14").name == "Sukanagara"
    assert ref.place_name("32.03.11") == "Cugenang"


def test_the_districts_of_each_regency_of_jawa_barat_are_counted_as_decreed(
    ref: Reference,
) -> None:
    counts = {r.code: len(ref.districts_of(r.code)) for r in ref.regencies_of("32")}
    assert counts["32.01"] == 40  # Kabupaten Bogor
    assert counts["32.04"] == 31  # Kabupaten Bandung
    assert counts["32.18"] == 10  # Kabupaten Pangandaran
    assert counts["32.73"] == 30  # Kota Bandung
    assert counts["32.77"] == 3  # Kota Cimahi
    assert all(counts.values())
    assert sum(counts.values()) == 627


def test_every_village_of_jawa_barat_is_listed_under_its_district(ref: Reference) -> None:
    villages = [
        village
        for regency in ref.regencies_of("32")
        for district in ref.districts_of(regency.code)
        for village in ref.villages_of(district.code)
    ]
    assert len(villages) == 5957
    assert sum(v.is_kelurahan for v in villages) == 646
    assert all(ref.is_within(v.code, v.parent_code) for v in villages)


def test_a_village_is_found_by_its_code_with_its_district(ref: Reference) -> None:
    village = ref.village("32.03.11.2001")
    assert village.name == "Sukamanah"
    assert village.parent_code == "32.03.11"
    assert village.is_village and not village.is_kelurahan
    assert village in ref.villages_of("32.03.11")
    assert len(ref.villages_of("32.03.11")) == 16
    assert ref.village("32.03.01.1006").is_kelurahan  # Pamoyanan, in the town of Cianjur


@pytest.mark.parametrize(
    ("ask", "code"),
    [
        ("district", "32.03.99"),
        ("district", "32.03"),
        ("district", "32.03.11.2001"),
        ("district", "../32"),
        ("village", "32.03.11.9999"),
        ("village", "32.03.11"),
        ("villages_of", "32.03.99"),
        ("districts_of", "32.99"),
        ("place_name", "32.03.11.9999"),
    ],
)
def test_an_unknown_code_is_refused_naming_it(ref: Reference, ask: str, code: str) -> None:
    with pytest.raises(KeyError, match=code.replace(".", r"\.")):
        getattr(ref, ask)(code)


def test_has_place_knows_every_level_and_nothing_else(ref: Reference) -> None:
    assert all(ref.has_place(code) for code in ("32", "32.03", "32.03.11", "32.03.11.2001"))
    assert not any(
        ref.has_place(code) for code in ("99", "32.99", "32.03.99", "32.03.11.9999", "../32")
    )


def test_a_code_belongs_only_to_the_places_above_it(ref: Reference) -> None:
    for parent in ("32", "32.03", "32.03.11", "32.03.11.2001"):
        assert ref.is_within("32.03.11.2001", parent)
    assert not ref.is_within("32.03.11.2001", "32.03.14")  # Sukanagara
    assert not ref.is_within("32.03.11.2001", "32.04")
    assert not ref.is_within("32.03.11", "32.03.11.2001")  # a district is not in its village
    assert not ref.is_within("32.03.11.9999", "32.03.11")  # unknown
    assert not ref.is_within("32.03.11", "32.03.1")  # not a place, and not a prefix of it


def test_district_codes_work_with_the_prefix_rule_of_routing() -> None:
    assert covers("32", "32.03.11") and covers("32.03", "32.03.11")
    assert covers("32.03.11", "32.03.11") and covers("32.03.11", "32.03.11.2001")
    assert not covers("32.03.1", "32.03.11")  # a code is matched by its parts, not its text
    assert not covers("32.03.11", "32.03.14") and not covers("32.03.11", "32.03")


def test_the_places_survive_a_change_of_agencies(ref: Reference) -> None:
    edited = ref.with_agencies_and_rules(ref.agencies, ref.routing_rules)
    assert len(edited.districts_of("32.03")) == 32


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("32.03.11 Cugenang\n", "expected 'code<TAB>name'"),
        ("32.03.11\t \n", "expected 'code<TAB>name'"),
        ("32.03.1\tCugenang\n", "not a district or village code"),
        ("33.03.11\tCugenang\n", "outside province '32'"),
        ("32.03.11\tCugenang\n32.03.11\tCugenang\n", "listed twice"),
        ("32.03.11.2001\tSukamanah\n32.03.11\tCugenang\n", "before its district"),
    ],
)
def test_a_bad_places_file_is_refused_naming_the_line(text: str, problem: str) -> None:
    with pytest.raises(ReferenceDataError, match=problem) as refused:
        parse_places(text, "32", Path("places/32.tsv"))
    assert "places/32.tsv:" in str(refused.value)


def test_every_bundled_places_file_parses_and_lies_in_a_listed_regency(ref: Reference) -> None:
    files = sorted((DATA_DIR / PLACES_DIR).glob("*.tsv"))
    assert [f.stem for f in files] == [p.code for p in ref.provinces]
    districts = villages = 0
    regencies = {r.code for r in ref.regencies}
    for path in files:
        places = parse_places(path.read_text("utf-8"), path.stem, path)
        for place in places.by_code.values():
            if place.is_village:
                villages += 1
            else:
                districts += 1
                assert place.parent_code in regencies, place
    assert (districts, villages) == (7285, 83762)
