"""The reference data as the web edge needs it: choices for the form, lookups for validation.

:func:`catalog_of` builds it from the running reference (the agencies the national
admin maintains in the console over the bundled regions and categories) once per
reference, so validating a submission costs no read and an agency added in the
console can be chosen on the form once the reference is re-checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypedDict

from shared.domain.geo import Extent, plausibly_in
from shared.domain.report import GeoPoint
from shared.reference import load_place_extents
from shared.web.i18n import Lang

if TYPE_CHECKING:
    from shared.reference import Reference


class PlaceOptions(TypedDict):
    """A regency's kecamatan and, per kecamatan, its desa/kelurahan, as (code, name)."""

    districts: list[tuple[str, str]]
    villages: dict[str, list[tuple[str, str]]]


@dataclass(frozen=True)
class Option:
    value: str
    label_id: str
    label_en: str

    def label(self, lang: Lang) -> str:
        return self.label_id if lang == "id" else self.label_en


@dataclass(frozen=True)
class OptionGroup:
    label_id: str
    label_en: str
    options: tuple[Option, ...]

    def label(self, lang: Lang) -> str:
        return self.label_id if lang == "id" else self.label_en


@dataclass(frozen=True)
class Catalog:
    provinces: tuple[Option, ...]
    # province code -> its regencies/cities (empty where the data lists none)
    regencies: dict[str, tuple[Option, ...]]
    category_groups: tuple[OptionGroup, ...]
    agencies: tuple[Option, ...]
    province_names: dict[str, str] = field(default_factory=dict)
    regency_names: dict[str, str] = field(default_factory=dict)
    regency_province: dict[str, str] = field(default_factory=dict)
    category_names: dict[str, tuple[str, str]] = field(default_factory=dict)
    agency_names: dict[str, str] = field(default_factory=dict)
    # Districts and villages, asked of the reference (it reads a province's file on
    # first use); None: this catalog knows none.
    places: Reference | None = None
    extents: Mapping[str, Extent] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        provinces: list[tuple[str, str]],
        regencies: dict[str, list[tuple[str, str]]],
        categories: list[tuple[str, str, str, str | None]],  # id, name_id, name_en, parent
        agencies: list[tuple[str, str]],  # id, display name
        *,
        places: Reference | None = None,
        extents: Mapping[str, Extent] | None = None,
    ) -> Catalog:
        province_opts = tuple(Option(code, name, name) for code, name in provinces)
        regency_opts = {
            province: tuple(Option(code, name, name) for code, name in items)
            for province, items in regencies.items()
        }
        names = {cid: (name_id, name_en) for cid, name_id, name_en, _ in categories}
        groups: list[OptionGroup] = []
        for cid, name_id, name_en, parent in categories:
            if parent is not None:
                continue
            children = [c for c in categories if c[3] == cid]
            # The parent itself stays choosable ("Kesehatan (umum)"): a reporter who
            # cannot tell the sub-category should not have to guess one.
            opts = [
                Option(
                    cid,
                    f"{name_id} (umum)",
                    f"{name_en} (general)",
                )
            ]
            opts += [Option(c[0], c[1], c[2]) for c in children]
            groups.append(OptionGroup(name_id, name_en, tuple(opts)))
        return cls(
            provinces=province_opts,
            regencies=regency_opts,
            category_groups=tuple(groups),
            agencies=tuple(Option(aid, label, label) for aid, label in agencies),
            province_names=dict(provinces),
            regency_names={code: name for items in regencies.values() for code, name in items},
            regency_province={
                code: province for province, items in regencies.items() for code, _ in items
            },
            category_names=names,
            agency_names=dict(agencies),
            places=places,
            extents=extents if extents is not None else {},
        )

    def category_label(self, category_id: str, lang: Lang) -> str:
        names = self.category_names.get(category_id)
        if names is None:
            return category_id
        return names[0] if lang == "id" else names[1]

    def agency_name(self, agency_id: str) -> str:
        """The name to show for an agency (its id when the catalog does not list it)."""
        return self.agency_names.get(agency_id, agency_id)

    def has_place(self, code: str) -> bool:
        """A known district (``32.03.11``) or village (``32.03.11.2001``), or region."""
        return self.places is not None and self.places.has_place(code)

    def is_within(self, code: str, parent_code: str) -> bool:
        return self.places is not None and self.places.is_within(code, parent_code)

    def place_options(self, regency_code: str) -> PlaceOptions:
        """The district and village choices of a regency (empty for an unknown one)."""
        if self.places is None or regency_code not in self.regency_names:
            return {"districts": [], "villages": {}}
        districts = self.places.districts_of(regency_code)
        return {
            "districts": [(d.code, d.name) for d in districts],
            "villages": {
                d.code: [(v.code, v.name) for v in self.places.villages_of(d.code)]
                for d in districts
            },
        }

    def place_label(self, code: str) -> str:
        """The name of a province, regency, district or village (the code if unknown)."""
        if self.places is None or not self.places.has_place(code):
            return code
        return self.places.place_name(code)

    def point_plausible(self, point: GeoPoint, regency_code: str) -> bool | None:
        """Whether ``point`` can lie in the regency; None when the data cannot tell."""
        return plausibly_in(point, regency_code, self.extents)

    def region_label(self, province_code: str, regency_code: str | None) -> str:
        province = self.province_names.get(province_code, province_code)
        if regency_code:
            return f"{self.regency_names.get(regency_code, regency_code)}, {province}"
        return province


_built: tuple[Reference, Catalog] | None = None


def catalog_of(reference: Reference) -> Catalog:
    """The catalog of ``reference``, built once per reference: kept by the reference's
    identity (the source hands out the same object until it reloads; hashing the
    model would walk every region on each request)."""
    global _built
    built = _built
    # Two threads may build at once after a reload; either catalog is as good.
    if built is None or built[0] is not reference:
        built = _built = (reference, _build(reference))
    return built[1]


def _build(ref: Reference) -> Catalog:
    provinces = [(p.code, p.name) for p in ref.provinces]
    regencies = {
        p.code: [(r.code, r.name) for r in ref.regencies_of(p.code)] for p in ref.provinces
    }
    categories = [(c.id, c.name_id, c.name_en, c.parent) for c in ref.categories]
    # Units are internal to an agency: a citizen names the agency, the agency forwards.
    agencies = [
        (a.id, f"{a.short_name}: {a.name}" if a.short_name != a.name else a.name)
        for a in ref.agencies
        if a.kind != "unit"
    ]
    return Catalog.build(
        provinces, regencies, categories, agencies, places=ref, extents=load_place_extents()
    )
