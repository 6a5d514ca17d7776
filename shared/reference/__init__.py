"""Reference data: regions, complaint categories, the agency tree and routing rules.

The data lives beside this module as plain files an agency can edit and review:

- ``regions.json``: Kemendagri province and regency/city codes (``32``, ``32.03``);
- ``places/<province>.tsv``: that province's districts and villages (``32.03.11``,
  ``32.03.11.2001``), read only when one of them is asked for (see docs/places.md);
- ``categories.toml``: the categories a citizen chooses, hierarchical by id
  (``infrastruktur.jalan`` is a child of ``infrastruktur``);
- ``agencies.toml``: the agency tree (unit -> agency -> regency/city -> province ->
  national), each with its region, the categories it handles and where to notify it;
- ``routing_rules.toml``: category x region -> agency;
- ``place_extents.json``: each regency's known places as a box, for the check that a
  reported point can lie in the regency (:func:`load_place_extents`, docs/places.md).

``load_reference()`` reads and cross-checks all four and returns one frozen
``Reference``. Nothing is read at import time (import time is a Cloud Function's cold
start); the bundled data is read once per process on first use and cached.

No secret belongs in these files: webhook signing secrets and API keys are generated
when an environment is seeded, so a notification URL carrying credentials or a query
string is refused.
"""

from __future__ import annotations

import functools
import json
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal, Self
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    PrivateAttr,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from shared.domain.geo import Extent
from shared.domain.routing import covers

__all__ = [
    "DATA_DIR",
    "MAX_AGENCY_EMAILS",
    "PLACES_DIR",
    "Agency",
    "AgencyKind",
    "Category",
    "Notification",
    "Place",
    "Province",
    "Reference",
    "ReferenceDataError",
    "Regency",
    "RoutingRule",
    "category_parent",
    "is_email",
    "load_place_extents",
    "load_reference",
    "parse_places",
    "stored_emails",
]

DATA_DIR = Path(__file__).resolve().parent
REGIONS_FILE = "regions.json"
CATEGORIES_FILE = "categories.toml"
AGENCIES_FILE = "agencies.toml"
RULES_FILE = "routing_rules.toml"
REFERENCE_FILES = (REGIONS_FILE, CATEGORIES_FILE, AGENCIES_FILE, RULES_FILE)
PLACES_DIR = "places"  # one <province code>.tsv per province: its districts and villages
EXTENTS_FILE = "place_extents.json"  # built by tools/build_place_extents.py from GeoNames

_SLUG = r"[a-z0-9]+(?:-[a-z0-9]+)*"

ProvinceCode = Annotated[str, StringConstraints(pattern=r"^\d{2}$")]
RegencyCode = Annotated[str, StringConstraints(pattern=r"^\d{2}\.\d{2}$")]
RegionCode = Annotated[str, StringConstraints(pattern=r"^\d{2}(?:\.\d{2})?$")]
# A rule may also name a district: a kecamatan's own office (a UPTD) answers first there.
RuleRegionCode = Annotated[str, StringConstraints(pattern=r"^\d{2}(?:\.\d{2}(?:\.\d{2})?)?$")]
Slug = Annotated[str, StringConstraints(pattern=rf"^{_SLUG}$")]
CategoryId = Annotated[str, StringConstraints(pattern=rf"^{_SLUG}(?:\.{_SLUG})*$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Keyword = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1)]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ReferenceDataError(ValueError):
    """The reference files are missing, unreadable or inconsistent."""


# --- Pure helpers on codes and ids ---------------------------------------------------


def category_parent(category_id: str) -> str | None:
    """The parent id encoded in a category id (``infrastruktur`` for ``infrastruktur.jalan``)."""
    head, dot, _ = category_id.rpartition(".")
    return head if dot else None


# --- Models --------------------------------------------------------------------------


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Province(_Frozen):
    code: ProvinceCode
    name: Name


class Regency(_Frozen):
    """A kabupaten (regency) or kota (city); the name says which."""

    code: RegencyCode
    province_code: ProvinceCode
    name: Name

    @model_validator(mode="after")
    def _code_starts_with_province(self) -> Self:
        if not self.code.startswith(self.province_code + "."):
            raise ValueError(
                f"regency {self.code!r}: code does not start with its "
                f"province_code {self.province_code!r}"
            )
        return self

    @property
    def is_city(self) -> bool:
        return self.name.startswith("Kota ")


class Category(_Frozen):
    """A complaint category; ``parent`` is derived from the id when not given."""

    id: CategoryId
    name_id: Name
    name_en: Name
    parent: CategoryId | None = None
    keywords: tuple[Keyword, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _derive_parent(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "parent" not in data and isinstance(data.get("id"), str):
            return {**data, "parent": category_parent(data["id"])}
        return data

    @model_validator(mode="after")
    def _parent_matches_id(self) -> Self:
        expected = category_parent(self.id)
        if self.parent != expected:
            raise ValueError(
                f"category {self.id!r}: parent {self.parent!r} does not match its id "
                f"(expected {expected!r})"
            )
        duplicates = _duplicates(self.keywords)
        if duplicates:
            raise ValueError(f"category {self.id!r}: duplicate keywords {duplicates}")
        return self

    @property
    def depth(self) -> int:
        """0 for a top-level category, 1 for its children, and so on."""
        return self.id.count(".")


class AgencyKind(StrEnum):
    NATIONAL = "national"
    PROVINCE = "province"
    REGENCY = "regency"
    CITY = "city"
    AGENCY = "agency"
    UNIT = "unit"


# Which kinds may be the parent of each kind. A missing parent is allowed only for the
# national body and for a province (the root of a province-only deployment).
_PARENT_KINDS: dict[AgencyKind, frozenset[AgencyKind]] = {
    AgencyKind.NATIONAL: frozenset(),
    AgencyKind.PROVINCE: frozenset({AgencyKind.NATIONAL}),
    AgencyKind.REGENCY: frozenset({AgencyKind.PROVINCE}),
    AgencyKind.CITY: frozenset({AgencyKind.PROVINCE}),
    AgencyKind.AGENCY: frozenset(
        {AgencyKind.NATIONAL, AgencyKind.PROVINCE, AgencyKind.REGENCY, AgencyKind.CITY}
    ),
    AgencyKind.UNIT: frozenset({AgencyKind.AGENCY, AgencyKind.UNIT}),
}
_ROOT_KINDS = frozenset({AgencyKind.NATIONAL, AgencyKind.PROVINCE})


MAX_AGENCY_EMAILS = 5  # a dinas's general inbox, its head, its admin, and a little room


def stored_emails(notification: Mapping[str, Any]) -> list[Any]:
    """The addresses a stored or bundled ``notification`` names: its ``emails`` list, or
    the single ``email`` that agencies seeded (and reference files written) before an
    agency had several, read as a list of one. Nothing writes ``email`` any more."""
    if "emails" in notification and notification.get("email"):
        raise ValueError("name the addresses once: emails = [...], not emails and email")
    if "emails" in notification:
        return list(notification["emails"] or [])
    single = notification.get("email")
    return [single] if isinstance(single, str) and single.strip() else []


class Notification(_Frozen):
    """Where an agency is told what it must know: its signed webhook where it has one,
    else one e-mail to all of ``emails`` (up to :data:`MAX_AGENCY_EMAILS`), each at once
    or (``digest = "hourly"``) collected into one message an hour. All optional."""

    webhook_url: str | None = None
    emails: tuple[str, ...] = ()
    digest: Literal["hourly"] | None = None

    @model_validator(mode="before")
    @classmethod
    def _single_email_is_a_list(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "email" in data:
            rest = {name: value for name, value in data.items() if name != "email"}
            return {**rest, "emails": stored_emails(data)}
        return data

    @field_validator("webhook_url", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("webhook_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"webhook_url {value!r} is not an http(s) URL")
        if parts.username is not None or parts.password is not None or parts.query:
            raise ValueError(
                f"webhook_url {value!r} carries credentials or a query string; secrets "
                "are generated at seed time and never committed"
            )
        return value

    @field_validator("emails")
    @classmethod
    def _check_emails(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for address in value:
            if not is_email(address):
                raise ValueError(f"emails: {address!r} is not an e-mail address")
        duplicates = _duplicates(address.lower() for address in value)
        if duplicates:
            raise ValueError(f"emails: {duplicates} named twice")
        if len(value) > MAX_AGENCY_EMAILS:
            raise ValueError(f"emails: at most {MAX_AGENCY_EMAILS} addresses, not {len(value)}")
        return value

    @model_validator(mode="after")
    def _digest_is_of_email(self) -> Self:
        if self.digest is not None and not self.emails:
            raise ValueError("digest collects e-mail: it needs an e-mail address")
        return self


def is_email(value: str) -> bool:
    """The one syntax check of an agency's address (the reference files, the console)."""
    return bool(_EMAIL.match(value))


class Agency(_Frozen):
    id: Slug
    name: Name
    short_name: Name
    kind: AgencyKind
    parent: Slug | None = None
    region: RegionCode | None = None
    categories: tuple[CategoryId, ...] = ()
    notification: Notification = Notification()

    @model_validator(mode="after")
    def _check_shape(self) -> Self:
        where = f"agency {self.id!r}"
        if self.parent == self.id:
            raise ValueError(f"{where}: is its own parent")
        if self.kind is AgencyKind.NATIONAL:
            if self.parent is not None:
                raise ValueError(f"{where}: a national body has no parent")
        else:
            if self.region is None:
                raise ValueError(f"{where}: region is required for kind {self.kind.value!r}")
            if self.parent is None and self.kind not in _ROOT_KINDS:
                raise ValueError(f"{where}: parent is required for kind {self.kind.value!r}")
        if self.kind is AgencyKind.PROVINCE and self.region and "." in self.region:
            raise ValueError(f"{where}: a province needs a province code, not {self.region!r}")
        is_local_government = self.kind in (AgencyKind.REGENCY, AgencyKind.CITY)
        if is_local_government and self.region and "." not in self.region:
            raise ValueError(
                f"{where}: a {self.kind.value} needs a regency code, not {self.region!r}"
            )
        duplicates = _duplicates(self.categories)
        if duplicates:
            raise ValueError(f"{where}: duplicate categories {duplicates}")
        return self

    def handles(self, category_id: str) -> bool:
        """True if the agency lists this category or one of its ancestors."""
        return any(covers(mine, category_id) for mine in self.categories)


class RoutingRule(_Frozen):
    """Reports in ``category`` (or a child) from ``region`` (or inside it) go to ``agency``.

    ``region`` is a province, a regency or a district; ``agency`` may be a unit, and
    then the report goes to the unit's agency with the unit set."""

    id: Slug
    category: CategoryId
    region: RuleRegionCode
    agency: Slug


class Reference(_Frozen):
    """All reference data, checked for consistency across files."""

    source: str
    provinces: tuple[Province, ...]
    regencies: tuple[Regency, ...] = ()
    categories: tuple[Category, ...] = ()
    agencies: tuple[Agency, ...] = ()
    routing_rules: tuple[RoutingRule, ...] = ()

    _provinces: dict[str, Province] = PrivateAttr(default_factory=dict)
    _regencies: dict[str, Regency] = PrivateAttr(default_factory=dict)
    _categories: dict[str, Category] = PrivateAttr(default_factory=dict)
    _agencies: dict[str, Agency] = PrivateAttr(default_factory=dict)
    _children: dict[str, list[str]] = PrivateAttr(default_factory=dict)
    _places_dir: Path = PrivateAttr(default=DATA_DIR / PLACES_DIR)

    @model_validator(mode="after")
    def _check_consistency(self, info: ValidationInfo) -> Self:
        # Rules may name districts, which live in the places files beside the others.
        places_dir = (info.context or {}).get("places_dir")
        if places_dir is not None:
            self._places_dir = Path(places_dir)
        problems = _consistency_problems(self)
        if problems:
            raise ValueError("reference data is inconsistent:\n- " + "\n- ".join(problems))
        self._provinces = {p.code: p for p in self.provinces}
        self._regencies = {r.code: r for r in self.regencies}
        self._categories = {c.id: c for c in self.categories}
        self._agencies = {a.id: a for a in self.agencies}
        for agency in self.agencies:
            if agency.parent is not None:
                self._children.setdefault(agency.parent, []).append(agency.id)
        return self

    # Regions

    def province(self, code: str) -> Province:
        try:
            return self._provinces[code]
        except KeyError:
            raise KeyError(f"unknown province code {code!r}") from None

    def regency(self, code: str) -> Regency:
        try:
            return self._regencies[code]
        except KeyError:
            raise KeyError(f"unknown regency code {code!r}") from None

    def regencies_of(self, province_code: str) -> tuple[Regency, ...]:
        """The regencies and cities of a province, by code (empty if none are listed)."""
        self.province(province_code)
        return tuple(
            sorted(
                (r for r in self.regencies if r.province_code == province_code),
                key=lambda r: r.code,
            )
        )

    def has_region(self, code: str) -> bool:
        return code in self._provinces or code in self._regencies

    # Districts and villages: each province's file is read on first use, then cached

    def districts_of(self, regency_code: str) -> tuple[Place, ...]:
        """The kecamatan of a regency or city, by code (empty if its province has no
        places file)."""
        self.regency(regency_code)
        return self._places_of(regency_code).children.get(regency_code, ())

    def villages_of(self, district_code: str) -> tuple[Place, ...]:
        """The desa and kelurahan of a district, by code."""
        self.district(district_code)
        return self._places_of(district_code).children.get(district_code, ())

    def district(self, code: str) -> Place:
        return self._place(code, DISTRICT_CODE, "district")

    def village(self, code: str) -> Place:
        return self._place(code, VILLAGE_CODE, "village")

    def has_place(self, code: str) -> bool:
        """True for a known province, regency, district or village code."""
        if DISTRICT_CODE.match(code) or VILLAGE_CODE.match(code):
            return code in self._places_of(code).by_code
        return self.has_region(code)

    def place_name(self, code: str) -> str:
        """The name of a province, regency, district or village code."""
        if DISTRICT_CODE.match(code):
            return self.district(code).name
        if VILLAGE_CODE.match(code):
            return self.village(code).name
        return self.region_name(code)

    def is_within(self, code: str, parent_code: str) -> bool:
        """True if ``code`` is a known place and lies in ``parent_code`` (or is it):
        village ``32.03.11.2001`` is within district ``32.03.11``, regency ``32.03``
        and province ``32``; an unknown code is within nothing."""
        return self.has_place(code) and self.has_place(parent_code) and covers(parent_code, code)

    def _place(self, code: str, pattern: re.Pattern[str], what: str) -> Place:
        place = self._places_of(code).by_code.get(code) if pattern.match(code) else None
        if place is None:
            raise KeyError(f"unknown {what} code {code!r}")
        return place

    def _places_of(self, code: str) -> _ProvincePlaces:
        return _read_places(self._places_dir / f"{code[:2]}.tsv")

    def region_name(self, code: str) -> str:
        """The name of a province or regency code."""
        if code in self._regencies:
            return self._regencies[code].name
        return self.province(code).name

    # Categories

    def category(self, category_id: str) -> Category:
        try:
            return self._categories[category_id]
        except KeyError:
            raise KeyError(f"unknown category {category_id!r}") from None

    def has_category(self, category_id: str) -> bool:
        return category_id in self._categories

    def top_categories(self) -> tuple[Category, ...]:
        """Top-level categories in file order (the order the form shows them)."""
        return tuple(c for c in self.categories if c.parent is None)

    def children(self, category_id: str) -> tuple[Category, ...]:
        """Direct children of a category, in file order."""
        self.category(category_id)
        return tuple(c for c in self.categories if c.parent == category_id)

    # Agencies

    def agency(self, agency_id: str) -> Agency:
        try:
            return self._agencies[agency_id]
        except KeyError:
            raise KeyError(f"unknown agency {agency_id!r}") from None

    def has_agency(self, agency_id: str) -> bool:
        return agency_id in self._agencies

    def descendants(self, agency_id: str) -> frozenset[str]:
        """``agency_id`` and the ids of every agency and unit below it."""
        found: set[str] = set()
        todo = [agency_id]
        while todo:
            current = todo.pop()
            found.add(current)
            todo.extend(self._children.get(current, ()))
        return frozenset(found)

    def ancestors(self, agency_id: str) -> tuple[Agency, ...]:
        """The agencies above ``agency_id``, nearest first, ending at the root.

        For a unit: its agency (dinas), the regency, the province, the national body.
        The agency itself is not included; the root has no ancestors.
        """
        chain: list[Agency] = []
        current = self.agency(agency_id)
        while current.parent is not None:
            current = self._agencies[current.parent]
            chain.append(current)
        return tuple(chain)

    def rules_for_agency(self, agency_id: str) -> tuple[RoutingRule, ...]:
        self.agency(agency_id)
        return tuple(r for r in self.routing_rules if r.agency == agency_id)

    # Another set of agencies and rules (as stored in Firestore, or as an edit leaves them)

    def with_agencies_and_rules(
        self, agencies: Iterable[Agency], routing_rules: Iterable[RoutingRule]
    ) -> Reference:
        """These regions and categories with ``agencies`` and ``routing_rules``, checked
        as the files are (pydantic's ValidationError names the problems). Those this
        reference has keep its order; the others follow by id, so the same set always
        makes the same reference."""
        return Reference.model_validate(
            {
                "source": self.source,
                "provinces": self.provinces,
                "regencies": self.regencies,
                "categories": self.categories,
                "agencies": _in_order(agencies, [a.id for a in self.agencies]),
                "routing_rules": _in_order(routing_rules, [r.id for r in self.routing_rules]),
            },
            context={"places_dir": self._places_dir},
        )


def _in_order(items: Iterable[Any], known_order: Sequence[str]) -> list[Any]:
    position = {ident: index for index, ident in enumerate(known_order)}
    return sorted(items, key=lambda item: (position.get(item.id, len(position)), item.id))


# --- Cross-file validation -----------------------------------------------------------


def _duplicates(values: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    repeated: list[str] = []
    for value in values:
        if value in seen and value not in repeated:
            repeated.append(value)
        seen.add(value)
    return repeated


def _consistency_problems(ref: Reference) -> list[str]:
    problems: list[str] = []
    problems += _uniqueness_problems(ref)
    provinces = {p.code for p in ref.provinces}
    regencies = {r.code: r for r in ref.regencies}
    categories = {c.id for c in ref.categories}
    agencies = {a.id: a for a in ref.agencies}

    for regency in ref.regencies:
        if regency.province_code not in provinces:
            problems.append(
                f"{REGIONS_FILE}: regency {regency.code!r}: province_code "
                f"{regency.province_code!r} does not exist"
            )
    for category in ref.categories:
        if category.parent is not None and category.parent not in categories:
            problems.append(
                f"{CATEGORIES_FILE}: category {category.id!r}: parent "
                f"{category.parent!r} does not exist"
            )
    problems += _agency_problems(ref, provinces, regencies, categories, agencies)
    problems += _rule_problems(ref, provinces, regencies, categories, agencies)
    return problems


def _uniqueness_problems(ref: Reference) -> list[str]:
    checks: list[tuple[str, str, Iterable[str]]] = [
        (REGIONS_FILE, "province code", (p.code for p in ref.provinces)),
        (REGIONS_FILE, "regency code", (r.code for r in ref.regencies)),
        (CATEGORIES_FILE, "category id", (c.id for c in ref.categories)),
        (AGENCIES_FILE, "agency id", (a.id for a in ref.agencies)),
        (RULES_FILE, "rule id", (r.id for r in ref.routing_rules)),
    ]
    return [
        f"{file}: duplicate {what} {value!r}"
        for file, what, values in checks
        for value in _duplicates(values)
    ]


def _agency_problems(
    ref: Reference,
    provinces: set[str],
    regencies: Mapping[str, Regency],
    categories: set[str],
    agencies: Mapping[str, Agency],
) -> list[str]:
    problems: list[str] = []
    for agency in ref.agencies:
        where = f"{AGENCIES_FILE}: agency {agency.id!r}"
        if agency.region is not None:
            if agency.region not in provinces and agency.region not in regencies:
                problems.append(f"{where}: region {agency.region!r} does not exist")
            elif agency.kind in (AgencyKind.REGENCY, AgencyKind.CITY):
                is_city = regencies[agency.region].is_city
                if is_city != (agency.kind is AgencyKind.CITY):
                    problems.append(
                        f"{where}: kind {agency.kind.value!r} but region {agency.region!r} "
                        f"is {regencies[agency.region].name!r}"
                    )
        for category_id in agency.categories:
            if category_id not in categories:
                problems.append(f"{where}: category {category_id!r} does not exist")
        if agency.parent is None:
            continue
        parent = agencies.get(agency.parent)
        if parent is None:
            problems.append(f"{where}: parent {agency.parent!r} does not exist")
            continue
        if parent.kind not in _PARENT_KINDS[agency.kind]:
            allowed = ", ".join(sorted(k.value for k in _PARENT_KINDS[agency.kind]))
            problems.append(
                f"{where}: a {agency.kind.value!r} cannot sit under {parent.id!r} "
                f"(a {parent.kind.value!r}); allowed parent kinds: {allowed}"
            )
        if (
            agency.region is not None
            and parent.region is not None
            and not covers(parent.region, agency.region)
        ):
            problems.append(
                f"{where}: region {agency.region!r} is outside its parent "
                f"{parent.id!r}'s region {parent.region!r}"
            )
    problems += _cycle_problems(agencies)
    return problems


def _cycle_problems(agencies: Mapping[str, Agency]) -> list[str]:
    problems: list[str] = []
    reported: set[str] = set()
    for start in agencies:
        path: list[str] = []
        current: str | None = start
        while current is not None and current in agencies and current not in path:
            path.append(current)
            current = agencies[current].parent
        if current is not None and current in path:
            cycle = path[path.index(current) :]
            if not reported.intersection(cycle):
                reported.update(cycle)
                shown = " -> ".join([*cycle, current])
                problems.append(f"{AGENCIES_FILE}: the agency tree has a cycle: {shown}")
    return problems


def _rule_problems(
    ref: Reference,
    provinces: set[str],
    regencies: Mapping[str, Regency],
    categories: set[str],
    agencies: Mapping[str, Agency],
) -> list[str]:
    problems: list[str] = []
    seen: dict[tuple[str, str], str] = {}
    for rule in ref.routing_rules:
        where = f"{RULES_FILE}: rule {rule.id!r}"
        key = (rule.category, rule.region)
        if key in seen:
            problems.append(
                f"{where}: same category {rule.category!r} and region {rule.region!r} as "
                f"rule {seen[key]!r}; the match would be ambiguous"
            )
        seen.setdefault(key, rule.id)
        if rule.category not in categories:
            problems.append(f"{where}: category {rule.category!r} does not exist")
        if not _region_exists(ref, rule.region, provinces, regencies):
            problems.append(f"{where}: region {rule.region!r} does not exist")
        agency = agencies.get(rule.agency)
        if agency is None:
            problems.append(f"{where}: agency {rule.agency!r} does not exist")
            continue
        if rule.category in categories and not agency.handles(rule.category):
            problems.append(
                f"{where}: agency {agency.id!r} does not handle category {rule.category!r} "
                f"(it lists {list(agency.categories)})"
            )
        if agency.region is not None and not covers(agency.region, rule.region):
            problems.append(
                f"{where}: agency {agency.id!r} (region {agency.region!r}) does not cover "
                f"region {rule.region!r}"
            )
    return problems


def _region_exists(
    ref: Reference, code: str, provinces: set[str], regencies: Mapping[str, Regency]
) -> bool:
    if DISTRICT_CODE.match(code):
        return code[:5] in regencies and code in ref._places_of(code).by_code
    return code in provinces or code in regencies


# --- Districts and villages ----------------------------------------------------------

REGENCY_CODE = re.compile(r"^\d{2}\.\d{2}$")
DISTRICT_CODE = re.compile(r"^\d{2}\.\d{2}\.\d{2}$")
VILLAGE_CODE = re.compile(r"^\d{2}\.\d{2}\.\d{2}\.\d{4}$")


@dataclass(frozen=True)
class Place:
    """A kecamatan (``32.03.11``) or a desa/kelurahan (``32.03.11.2001``)."""

    code: str
    name: str

    @property
    def parent_code(self) -> str:
        return self.code.rpartition(".")[0]

    @property
    def is_village(self) -> bool:
        return self.code.count(".") == 3

    @property
    def is_kelurahan(self) -> bool:
        """Kemendagri numbers kelurahan 1xxx and desa 2xxx within a district."""
        return self.is_village and self.code[-4] == "1"


@dataclass(frozen=True)
class _ProvincePlaces:
    by_code: Mapping[str, Place]
    children: Mapping[str, tuple[Place, ...]]  # regency -> districts, district -> villages


_NO_PLACES = _ProvincePlaces(by_code={}, children={})


@functools.lru_cache(maxsize=64)
def _read_places(path: Path) -> _ProvincePlaces:
    if not path.is_file():
        return _NO_PLACES
    return parse_places(_read_text(path), path.stem, path)


def parse_places(text: str, province_code: str, origin: Path) -> _ProvincePlaces:
    """A province's districts and villages from ``code<TAB>name`` lines in code order,
    each district before its villages. Pure; ``origin`` only names the file in errors."""
    by_code: dict[str, Place] = {}
    children: dict[str, list[Place]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        code, tab, name = line.partition("\t")
        where = f"{origin}:{number}"
        if not tab or not name.strip():
            raise ReferenceDataError(f"{where}: expected 'code<TAB>name', got {line!r}")
        if not (DISTRICT_CODE.match(code) or VILLAGE_CODE.match(code)):
            raise ReferenceDataError(f"{where}: {code!r} is not a district or village code")
        if not code.startswith(province_code + "."):
            raise ReferenceDataError(f"{where}: {code!r} is outside province {province_code!r}")
        if code in by_code:
            raise ReferenceDataError(f"{where}: {code!r} is listed twice")
        place = Place(code=code, name=name.strip())
        if place.is_village and place.parent_code not in by_code:
            raise ReferenceDataError(f"{where}: village {code!r} before its district")
        by_code[code] = place
        children.setdefault(place.parent_code, []).append(place)
    return _ProvincePlaces(
        by_code=by_code, children={code: tuple(items) for code, items in children.items()}
    )


# --- Loading -------------------------------------------------------------------------

# Which file and which key inside it each Reference field comes from.
_SECTIONS: dict[str, tuple[str, str]] = {
    "provinces": (REGIONS_FILE, "provinces"),
    "regencies": (REGIONS_FILE, "regencies"),
    "categories": (CATEGORIES_FILE, "category"),
    "agencies": (AGENCIES_FILE, "agency"),
    "routing_rules": (RULES_FILE, "rule"),
}


def load_reference(directory: Path | None = None) -> Reference:
    """Read and validate the reference files in ``directory`` (default: the bundled ones).

    The bundled data is read once per process and cached; another directory is read
    afresh on every call. Raises ``ReferenceDataError`` naming the file and the problem.
    """
    if directory is None:
        return _load_bundled()
    return _load(Path(directory))


@functools.lru_cache(maxsize=1)
def _load_bundled() -> Reference:
    return _load(DATA_DIR)


def load_place_extents(directory: Path | None = None) -> Mapping[str, Extent]:
    """Regency code -> the box of its known places (the bundled file unless
    ``directory`` is given; bundled: read once per process). A regency it does not list
    has no extent, and the point check then does not decide."""
    if directory is None:
        return _bundled_extents()
    return _read_extents(Path(directory) / EXTENTS_FILE)


@functools.lru_cache(maxsize=1)
def _bundled_extents() -> Mapping[str, Extent]:
    return _read_extents(DATA_DIR / EXTENTS_FILE)


def _read_extents(path: Path) -> Mapping[str, Extent]:
    try:
        extents = {
            code: Extent(**extent)
            for code, extent in json.loads(_read_text(path))["extents"].items()
        }
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise ReferenceDataError(f"{path}: not an extents file: {exc}") from None
    odd = sorted(code for code in extents if not REGENCY_CODE.match(code))
    if odd:
        raise ReferenceDataError(f"{path}: {odd} are not regency codes")
    return extents


def _load(directory: Path) -> Reference:
    texts = {name: _read_text(directory / name) for name in REFERENCE_FILES}
    return parse_reference(texts, directory, places_dir=directory / PLACES_DIR)


def parse_reference(
    texts: Mapping[str, str], origin: Path, *, places_dir: Path | None = None
) -> Reference:
    """Validate reference data given as the text of each of ``REFERENCE_FILES``.

    Pure but for the places files, read only when a rule names a district (from
    ``places_dir``, by default the bundled ones), so every kind of bad data can be
    checked without a disk; ``origin`` only names where the texts came from in the
    messages.
    """
    regions = _parse_json(texts, origin, REGIONS_FILE)
    _only_keys(regions, {"source", "provinces", "regencies"}, REGIONS_FILE)
    raw: dict[str, Any] = {
        "source": regions.get("source", ""),
        "provinces": regions.get("provinces", []),
        "regencies": regions.get("regencies", []),
    }
    for field in ("categories", "agencies", "routing_rules"):
        file, key = _SECTIONS[field]
        data = _parse_toml(texts, origin, file)
        _only_keys(data, {key}, file)
        raw[field] = data.get(key, [])
    context = {"places_dir": places_dir} if places_dir is not None else None
    try:
        return Reference.model_validate(raw, context=context)
    except ValidationError as exc:
        details = "\n".join(_describe(error, raw) for error in exc.errors())
        raise ReferenceDataError(f"invalid reference data in {origin}:\n{details}") from None


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ReferenceDataError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _text(texts: Mapping[str, str], origin: Path, file: str) -> str:
    if file not in texts:
        raise ReferenceDataError(f"{origin / file}: missing")
    return texts[file]


def _parse_json(texts: Mapping[str, str], origin: Path, file: str) -> dict[str, Any]:
    try:
        data = json.loads(_text(texts, origin, file))
    except json.JSONDecodeError as exc:
        raise ReferenceDataError(f"{origin / file}: not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ReferenceDataError(f"{origin / file}: expected a JSON object at the top level")
    return data


def _parse_toml(texts: Mapping[str, str], origin: Path, file: str) -> dict[str, Any]:
    try:
        return tomllib.loads(_text(texts, origin, file))
    except tomllib.TOMLDecodeError as exc:
        raise ReferenceDataError(f"{origin / file}: not valid TOML: {exc}") from None


def _only_keys(data: Mapping[str, Any], allowed: set[str], file: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ReferenceDataError(
            f"{file}: unknown top-level keys {unknown}; expected {sorted(allowed)}"
        )


def _describe(error: Any, raw: Mapping[str, Any]) -> str:
    """One pydantic error as '<file>: <section>[i] (id ...): <field>: <message>'."""
    message = str(error.get("msg", "invalid"))
    message = message.removeprefix("Value error, ")
    loc: tuple[Any, ...] = tuple(error.get("loc", ()))
    if not loc or loc[0] not in _SECTIONS:
        return message
    file, key = _SECTIONS[loc[0]]
    where = f"{file}: {key}"
    rest: Iterator[Any] = iter(loc[1:])
    index = next(rest, None)
    if isinstance(index, int):
        where += f"[{index}]"
        items = raw.get(loc[0])
        if isinstance(items, list) and index < len(items) and isinstance(items[index], dict):
            ident = items[index].get("id", items[index].get("code"))
            if ident is not None:
                where += f" ({ident!r})"
    field = ".".join(str(part) for part in rest)
    return f"{where}: {field}: {message}" if field else f"{where}: {message}"
