"""Reference data: the bundled files load and are right; every bad file is refused.

Bad-data tests take a small, valid data set (the text of each file, never written to
disk), break one thing, and check that parsing fails with a message naming the file and
the problem.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TypedDict, Unpack

import pytest
from pydantic import ValidationError

from shared.domain.routing import covers
from shared.reference import (
    DATA_DIR,
    MAX_AGENCY_EMAILS,
    Agency,
    AgencyKind,
    Category,
    Notification,
    Reference,
    ReferenceDataError,
    RoutingRule,
    category_parent,
    load_reference,
    parse_reference,
    stored_emails,
)

pytestmark = pytest.mark.unit

# --- The bundled data ----------------------------------------------------------------

EXPECTED_PROVINCES = {
    "11": "Aceh",
    "12": "Sumatera Utara",
    "13": "Sumatera Barat",
    "14": "Riau",
    "15": "Jambi",
    "16": "Sumatera Selatan",
    "17": "Bengkulu",
    "18": "Lampung",
    "19": "Kepulauan Bangka Belitung",
    "21": "Kepulauan Riau",
    "31": "DKI Jakarta",
    "32": "Jawa Barat",
    "33": "Jawa Tengah",
    "34": "DI Yogyakarta",
    "35": "Jawa Timur",
    "36": "Banten",
    "51": "Bali",
    "52": "Nusa Tenggara Barat",
    "53": "Nusa Tenggara Timur",
    "61": "Kalimantan Barat",
    "62": "Kalimantan Tengah",
    "63": "Kalimantan Selatan",
    "64": "Kalimantan Timur",
    "65": "Kalimantan Utara",
    "71": "Sulawesi Utara",
    "72": "Sulawesi Tengah",
    "73": "Sulawesi Selatan",
    "74": "Sulawesi Tenggara",
    "75": "Gorontalo",
    "76": "Sulawesi Barat",
    "81": "Maluku",
    "82": "Maluku Utara",
    "91": "Papua",
    "92": "Papua Barat",
    "93": "Papua Selatan",
    "94": "Papua Tengah",
    "95": "Papua Pegunungan",
    "96": "Papua Barat Daya",
}

JABAR_REGENCY_CODES = [f"32.{n:02d}" for n in range(1, 19)] + [f"32.{n}" for n in range(71, 80)]


@pytest.fixture(scope="module")
def ref() -> Reference:
    return load_reference()


def test_bundled_data_loads_once_and_is_cached(ref: Reference) -> None:
    assert load_reference() is ref
    assert load_reference(DATA_DIR) is not ref  # an explicit directory is read afresh


def test_all_38_provinces_have_their_kemendagri_codes(ref: Reference) -> None:
    assert {p.code: p.name for p in ref.provinces} == EXPECTED_PROVINCES
    assert ref.province("32").name == "Jawa Barat"


def test_all_27_regencies_and_cities_of_jawa_barat_are_present(ref: Reference) -> None:
    jabar = ref.regencies_of("32")
    assert [r.code for r in jabar] == JABAR_REGENCY_CODES
    assert len(jabar) == 27
    assert sum(r.is_city for r in jabar) == 9
    assert ref.regency("32.03").name == "Kabupaten Cianjur"
    assert ref.regency("32.18").name == "Kabupaten Pangandaran"
    assert ref.regency("32.17").name == "Kabupaten Bandung Barat"
    assert ref.regency("32.73").name == "Kota Bandung"
    assert ref.regency("32.79").name == "Kota Banjar"


def test_the_regions_file_says_where_its_codes_come_from(ref: Reference) -> None:
    assert "Kemendagri" in ref.source
    assert "BPS" in ref.source  # the Papua code difference is spelled out


def test_unknown_codes_raise_key_error_naming_the_code(ref: Reference) -> None:
    with pytest.raises(KeyError, match="99"):
        ref.province("99")
    with pytest.raises(KeyError, match=r"32\.99"):
        ref.regency("32.99")
    with pytest.raises(KeyError, match="nope"):
        ref.agency("nope")
    with pytest.raises(KeyError, match="nope"):
        ref.category("nope")


def test_region_name_covers_provinces_and_regencies(ref: Reference) -> None:
    assert ref.region_name("32") == "Jawa Barat"
    assert ref.region_name("32.03") == "Kabupaten Cianjur"
    assert ref.has_region("31.71") and not ref.has_region("32.80")


def test_categories_form_a_two_level_tree_with_both_languages(ref: Reference) -> None:
    tops = ref.top_categories()
    assert 10 <= len(tops) <= 12
    assert tops[0].id == "infrastruktur"
    for top in tops:
        children = ref.children(top.id)
        assert 2 <= len(children) <= 5, top.id
        assert all(child.parent == top.id and child.depth == 1 for child in children)
    for category in ref.categories:
        assert category.name_id and category.name_en
        assert all(keyword == keyword.lower() for keyword in category.keywords)
    assert ref.category("infrastruktur.jalan").name_id == "Jalan dan Jembatan"


def test_a_unit_climbs_the_tree_to_the_national_body(ref: Reference) -> None:
    chain = [a.id for a in ref.ancestors("puskesmas-cipanas")]
    assert chain == ["dinkes-cianjur", "pemkab-cianjur", "pemprov-jabar", "nasional"]
    assert ref.ancestors("nasional") == ()
    assert ref.agency("nasional").kind is AgencyKind.NATIONAL
    assert ref.agency("pemkab-cianjur").region == "32.03"


def test_the_seed_story_office_is_in_the_tree(ref: Reference) -> None:
    diskominfo = ref.agency("diskominfo-cianjur")
    assert diskominfo.parent == "pemkab-cianjur"
    assert diskominfo.handles("pelayanan-publik-lainnya.informasi-publik")


def test_every_category_has_a_rule_for_cianjur(ref: Reference) -> None:
    for category in ref.categories:
        matching = [
            rule
            for rule in ref.routing_rules
            if covers(rule.category, category.id) and covers(rule.region, "32.03")
        ]
        assert matching, f"no rule routes {category.id!r} in Cianjur"


def test_provincial_roads_fall_back_to_the_province(ref: Reference) -> None:
    rules = {(r.category, r.region): r.agency for r in ref.routing_rules}
    assert rules[("infrastruktur.jalan", "32")] == "dbmpr-jabar"
    assert rules[("infrastruktur.jalan", "32.03")] == "dpupr-cianjur"
    assert [r.id for r in ref.rules_for_agency("dbmpr-jabar")] == ["jabar-jalan"]


def test_bundled_files_hold_no_secrets() -> None:
    text = (DATA_DIR / "agencies.toml").read_text(encoding="utf-8").lower()
    for word in ("secret =", "api_key", "token", "password"):
        assert word not in text


def test_helpers_on_codes_and_ids() -> None:
    assert covers("32", "32.03") and covers("32.03", "32.03")
    assert not covers("3", "32.03") and not covers("32.03", "32")
    assert category_parent("infrastruktur.jalan") == "infrastruktur"
    assert category_parent("infrastruktur") is None
    assert covers("infrastruktur", "infrastruktur.jalan")
    assert not covers("infra", "infrastruktur.jalan")


# --- Models on their own -------------------------------------------------------------


def test_category_parent_is_derived_from_its_id() -> None:
    category = Category(id="sosial.bantuan-sosial", name_id="Bansos", name_en="Aid")
    assert category.parent == "sosial"


def test_category_with_a_parent_that_contradicts_its_id_is_refused() -> None:
    with pytest.raises(ValidationError, match="does not match its id"):
        Category(id="sosial.bansos", name_id="B", name_en="A", parent="kesehatan")


@pytest.mark.parametrize(
    "url",
    ["https://user:pw@hooks.example/x", "https://hooks.example/x?token=abc", "ftp://x.example/"],
)
def test_webhook_urls_with_secrets_or_odd_schemes_are_refused(url: str) -> None:
    with pytest.raises(ValidationError, match="webhook_url"):
        Notification(webhook_url=url)


def test_an_agency_has_up_to_five_addresses_each_checked_and_none_twice() -> None:
    five = tuple(f"staf{n}@dinas.example" for n in range(MAX_AGENCY_EMAILS))
    assert Notification(emails=five, digest="hourly").emails == five
    with pytest.raises(ValidationError, match="at most 5"):
        Notification(emails=(*five, "lagi@dinas.example"))
    with pytest.raises(ValidationError, match="not an e-mail address"):
        Notification(emails=("a@dinas.example", "bukan-alamat"))
    with pytest.raises(ValidationError, match="named twice"):
        Notification(emails=("a@dinas.example", "A@Dinas.example"))
    with pytest.raises(ValidationError, match="needs an e-mail address"):
        Notification(emails=(), digest="hourly")


def test_a_single_email_as_agencies_were_seeded_reads_as_a_list_of_one() -> None:
    assert Notification.model_validate({"email": "a@dinas.example"}).emails == ("a@dinas.example",)
    assert stored_emails({"email": None}) == [] and stored_emails({"emails": None}) == []
    with pytest.raises(ValidationError, match="name the addresses once"):
        Notification.model_validate({"email": "a@dinas.example", "emails": ["b@dinas.example"]})


def test_the_bundled_agencies_name_their_addresses_as_a_list() -> None:
    text = (DATA_DIR / "agencies.toml").read_text(encoding="utf-8")
    assert "\nemails = [" in text and "\nemail = " not in text  # one way to write it


def test_empty_notification_fields_mean_none() -> None:
    assert Notification.model_validate({"webhook_url": "", "email": " "}) == Notification()


def test_models_are_frozen_and_forbid_unknown_fields() -> None:
    agency = Agency(id="a", name="A", short_name="A", kind=AgencyKind.NATIONAL)
    with pytest.raises(ValidationError):
        agency.name = "B"
    with pytest.raises(ValidationError, match="Extra inputs"):
        Agency.model_validate(
            {"id": "a", "name": "A", "short_name": "A", "kind": "national", "webhook": "x"}
        )


# --- Bad files -----------------------------------------------------------------------

SMALL = Path("small")  # where the small data set "comes from", in messages
PROVINCES = [{"code": "31", "name": "DKI Jakarta"}, {"code": "32", "name": "Jawa Barat"}]
REGENCIES = [
    {"code": "32.03", "province_code": "32", "name": "Kabupaten Cianjur"},
    {"code": "32.73", "province_code": "32", "name": "Kota Bandung"},
]
REGIONS: dict[str, object] = {"source": "test", "provinces": PROVINCES, "regencies": REGENCIES}

CATEGORIES = """
[[category]]
id = "infrastruktur"
name_id = "Infrastruktur"
name_en = "Infrastructure"

[[category]]
id = "infrastruktur.jalan"
name_id = "Jalan"
name_en = "Roads"
keywords = ["jalan", "berlubang"]

[[category]]
id = "kesehatan"
name_id = "Kesehatan"
name_en = "Health"
"""

AGENCIES = """
[[agency]]
id = "nasional"
name = "KemenPAN-RB"
short_name = "KemenPAN-RB"
kind = "national"

[[agency]]
id = "pemprov"
name = "Pemprov Jawa Barat"
short_name = "Pemprov"
kind = "province"
parent = "nasional"
region = "32"

[[agency]]
id = "pemkab"
name = "Pemkab Cianjur"
short_name = "Pemkab"
kind = "regency"
parent = "pemprov"
region = "32.03"

[[agency]]
id = "dinas"
name = "Dinas PUPR"
short_name = "PUPR"
kind = "agency"
parent = "pemkab"
region = "32.03"
categories = ["infrastruktur"]
[agency.notification]
webhook_url = "http://127.0.0.1:9000/hook"
email = "pupr@cianjur.example"

[[agency]]
id = "unit"
name = "UPTD Jalan"
short_name = "UPTD"
kind = "unit"
parent = "dinas"
region = "32.03"
categories = ["infrastruktur.jalan"]
"""

RULES = """
[[rule]]
id = "r1"
category = "infrastruktur"
region = "32.03"
agency = "dinas"
"""


class Files(TypedDict, total=False):
    """Replacement contents for some of the four files (a dict is encoded as JSON)."""

    regions: dict[str, object] | str
    categories: str
    agencies: str
    rules: str


def texts(**files: Unpack[Files]) -> dict[str, str]:
    """The small data set as the text of each file, with ``files`` replacing some."""
    regions = files.get("regions", REGIONS)
    found = {"regions.json": regions if isinstance(regions, str) else json.dumps(regions)}
    for name, key, default in (
        ("categories.toml", "categories", CATEGORIES),
        ("agencies.toml", "agencies", AGENCIES),
        ("routing_rules.toml", "rules", RULES),
    ):
        text = files.get(key, default)
        assert isinstance(text, str)
        found[name] = text
    return found


def parse(**files: Unpack[Files]) -> Reference:
    return parse_reference(texts(**files), SMALL)


def agency_block(**fields: object) -> str:
    lines = ["[[agency]]"]
    for key, value in fields.items():
        lines.append(f"{key} = {json.dumps(value)}")
    return "\n" + "\n".join(lines) + "\n"


def rule_block(rule_id: str, category: str, region: str, agency: str) -> str:
    return (
        f'\n[[rule]]\nid = "{rule_id}"\ncategory = "{category}"\n'
        f'region = "{region}"\nagency = "{agency}"\n'
    )


def regions_with(**changes: object) -> dict[str, object]:
    return {**REGIONS, **changes}


def test_the_small_fixture_is_valid() -> None:
    ref = parse()
    assert [a.id for a in ref.ancestors("unit")] == ["dinas", "pemkab", "pemprov", "nasional"]
    assert ref.agency("dinas").notification.webhook_url == "http://127.0.0.1:9000/hook"


BAD_CASES: dict[str, tuple[Files, str]] = {
    "duplicate province code": (
        {"regions": regions_with(provinces=[*PROVINCES, {"code": "32", "name": "Jabar lagi"}])},
        r"regions.json: duplicate province code '32'",
    ),
    "regency of an unknown province": (
        {
            "regions": regions_with(
                regencies=[{"code": "33.01", "province_code": "33", "name": "Kabupaten Cilacap"}]
            )
        },
        r"regency '33.01': province_code '33' does not exist",
    ),
    "regency code outside its province": (
        {
            "regions": regions_with(
                regencies=[{"code": "31.71", "province_code": "32", "name": "Kota Jakarta Selatan"}]
            )
        },
        r"regions.json: regencies\[0\] \('31.71'\): regency '31.71': code does not start with",
    ),
    "malformed province code": (
        {"regions": regions_with(provinces=[{"code": "3", "name": "X"}])},
        r"regions.json: provinces\[0\] \('3'\): code: String should match pattern",
    ),
    "duplicate category id": (
        {
            "categories": CATEGORIES + '\n[[category]]\nid = "kesehatan"\nname_id = "K"\n'
            'name_en = "H"\n'
        },
        r"categories.toml: duplicate category id 'kesehatan'",
    ),
    "category whose parent is missing": (
        {
            "categories": CATEGORIES + '\n[[category]]\nid = "sosial.bansos"\nname_id = "B"\n'
            'name_en = "A"\n'
        },
        r"category 'sosial.bansos': parent 'sosial' does not exist",
    ),
    "category missing its English name": (
        {"categories": CATEGORIES + '\n[[category]]\nid = "sosial"\nname_id = "Sosial"\n'},
        r"categories.toml: category\[3\] \('sosial'\): name_en: Field required",
    ),
    "duplicate agency id": (
        {
            "agencies": AGENCIES
            + agency_block(
                id="dinas",
                name="Lagi",
                short_name="L",
                kind="agency",
                parent="pemkab",
                region="32.03",
            )
        },
        r"agencies.toml: duplicate agency id 'dinas'",
    ),
    "agency whose parent is missing": (
        {
            "agencies": AGENCIES
            + agency_block(
                id="dinkes",
                name="Dinkes",
                short_name="D",
                kind="agency",
                parent="pemkab-x",
                region="32.03",
            )
        },
        r"agency 'dinkes': parent 'pemkab-x' does not exist",
    ),
    "cycle in the agency tree": (
        {
            "agencies": AGENCIES
            + agency_block(
                id="u1", name="U1", short_name="U1", kind="unit", parent="u2", region="32.03"
            )
            + agency_block(
                id="u2", name="U2", short_name="U2", kind="unit", parent="u1", region="32.03"
            )
        },
        r"the agency tree has a cycle: u1 -> u2 -> u1",
    ),
    "agency in an unknown region": (
        {
            "agencies": AGENCIES
            + agency_block(
                id="dinkes",
                name="Dinkes",
                short_name="D",
                kind="agency",
                parent="pemkab",
                region="32.99",
            )
        },
        r"agency 'dinkes': region '32.99' does not exist",
    ),
    "agency outside its parent's region": (
        {
            "agencies": AGENCIES
            + agency_block(
                id="dinkes",
                name="Dinkes",
                short_name="D",
                kind="agency",
                parent="pemkab",
                region="32.73",
            )
        },
        r"agency 'dinkes': region '32.73' is outside its parent 'pemkab'",
    ),
    "agency handling an unknown category": (
        {
            "agencies": AGENCIES
            + agency_block(
                id="dinkes",
                name="Dinkes",
                short_name="D",
                kind="agency",
                parent="pemkab",
                region="32.03",
                categories=["kesehatan.rs"],
            )
        },
        r"agency 'dinkes': category 'kesehatan.rs' does not exist",
    ),
    "agency under the wrong kind of parent": (
        {
            "agencies": AGENCIES
            + agency_block(
                id="pemkot",
                name="Pemkot",
                short_name="P",
                kind="city",
                parent="nasional",
                region="32.73",
            )
        },
        r"agency 'pemkot': a 'city' cannot sit under 'nasional'",
    ),
    "regency government in a city's region": (
        {
            "agencies": AGENCIES
            + agency_block(
                id="pemkot",
                name="Pemkot",
                short_name="P",
                kind="regency",
                parent="pemprov",
                region="32.73",
            )
        },
        r"agency 'pemkot': kind 'regency' but region '32.73' is 'Kota Bandung'",
    ),
    "agency of an unknown kind": (
        {
            "agencies": AGENCIES
            + agency_block(id="x", name="X", short_name="X", kind="ministry", parent="nasional")
        },
        r"agencies.toml: agency\[5\] \('x'\): kind: Input should be 'national'",
    ),
    "agency without a region": (
        {
            "agencies": AGENCIES
            + agency_block(id="x", name="X", short_name="X", kind="agency", parent="pemkab")
        },
        r"agency 'x': region is required for kind 'agency'",
    ),
    "agency field with a typo": (
        {
            "agencies": AGENCIES
            + agency_block(
                id="x",
                name="X",
                short_name="X",
                kind="agency",
                parent="pemkab",
                region="32.03",
                categori=[],
            )
        },
        r"agencies.toml: agency\[5\] \('x'\): categori: Extra inputs are not permitted",
    ),
    "webhook url carrying a secret": (
        {
            "agencies": AGENCIES.replace(
                "http://127.0.0.1:9000/hook", "https://hooks.example/x?secret=abc"
            )
        },
        r"agencies.toml: agency\[3\] \('dinas'\): notification.webhook_url: .*never committed",
    ),
    "duplicate rule id": (
        {"rules": RULES + rule_block("r1", "infrastruktur.jalan", "32.03", "unit")},
        r"routing_rules.toml: duplicate rule id 'r1'",
    ),
    "rule for an unknown category": (
        {"rules": RULES + rule_block("r2", "pendidikan", "32.03", "dinas")},
        r"rule 'r2': category 'pendidikan' does not exist",
    ),
    "rule for an unknown region": (
        {"rules": RULES + rule_block("r2", "infrastruktur", "35", "dinas")},
        r"rule 'r2': region '35' does not exist",
    ),
    "rule for an unknown district": (
        {"rules": RULES + rule_block("r2", "infrastruktur.jalan", "32.03.99", "unit")},
        r"rule 'r2': region '32.03.99' does not exist",
    ),
    "rule for a district of an unknown regency": (
        {"rules": RULES + rule_block("r2", "infrastruktur.jalan", "32.04.01", "unit")},
        r"rule 'r2': region '32.04.01' does not exist",
    ),
    "rule for a village": (
        {"rules": RULES + rule_block("r2", "infrastruktur.jalan", "32.03.11.2001", "unit")},
        r"routing_rules.toml: rule\[1\] \('r2'\): region: String should match pattern",
    ),
    "rule to a unit that does not handle the category": (
        {"rules": RULES + rule_block("r2", "infrastruktur", "32.03.11", "unit")},
        r"rule 'r2': agency 'unit' does not handle category 'infrastruktur'",
    ),
    "rule to a unit for a district outside its region": (
        {"rules": RULES + rule_block("r2", "infrastruktur.jalan", "32.73.01", "unit")},
        r"rule 'r2': agency 'unit' \(region '32.03'\) does not cover region '32.73.01'",
    ),
    "rule to an unknown agency": (
        {"rules": RULES + rule_block("r2", "kesehatan", "32.03", "dinkes")},
        r"rule 'r2': agency 'dinkes' does not exist",
    ),
    "rule to an agency that does not handle the category": (
        {"rules": RULES + rule_block("r2", "kesehatan", "32.03", "dinas")},
        r"rule 'r2': agency 'dinas' does not handle category 'kesehatan'",
    ),
    "rule for a region the agency does not cover": (
        {"rules": RULES + rule_block("r2", "infrastruktur.jalan", "32.73", "dinas")},
        r"rule 'r2': agency 'dinas' \(region '32.03'\) does not cover region '32.73'",
    ),
    "two rules for the same category and region": (
        {"rules": RULES + rule_block("r2", "infrastruktur", "32.03", "dinas")},
        r"rule 'r2': same category 'infrastruktur' and region '32.03' as rule 'r1'",
    ),
    "unknown top-level key": (
        {"rules": RULES + '\n[[rules]]\nid = "typo"\n'},
        r"routing_rules.toml: unknown top-level keys \['rules'\]",
    ),
    "invalid TOML": (
        {"agencies": AGENCIES + "\n[[agency]\n"},
        r"agencies.toml: not valid TOML",
    ),
    "invalid JSON": (
        {"regions": "{not json"},
        r"regions.json: not valid JSON",
    ),
}


def test_a_rule_may_name_a_district_and_a_unit() -> None:
    ref = parse(rules=RULES + rule_block("r2", "infrastruktur.jalan", "32.03.11", "unit"))
    [rule] = [r for r in ref.routing_rules if r.id == "r2"]
    assert (rule.region, rule.agency) == ("32.03.11", "unit")
    again = ref.with_agencies_and_rules(ref.agencies, ref.routing_rules)
    assert again.routing_rules == ref.routing_rules


def test_district_rules_are_checked_against_the_places_the_reference_reads() -> None:
    rules = RULES + rule_block("r2", "infrastruktur.jalan", "32.03.11", "unit")
    nowhere = SMALL / "no-places"  # a directory without places files
    with pytest.raises(ReferenceDataError, match=r"region '32.03.11' does not exist"):
        parse_reference(texts(rules=rules), SMALL, places_dir=nowhere)
    without = parse_reference(texts(), SMALL, places_dir=nowhere)
    district_rule = RoutingRule(
        id="r2", category="infrastruktur.jalan", region="32.03.11", agency="unit"
    )
    # An edit is checked against the same places as the reference it edits.
    with pytest.raises(ValidationError, match=r"region '32.03.11' does not exist"):
        without.with_agencies_and_rules(without.agencies, [*without.routing_rules, district_rule])
    bundled = parse(rules=rules)
    assert bundled.with_agencies_and_rules(bundled.agencies, [district_rule]).routing_rules == (
        district_rule,
    )


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_a_bad_file_is_refused_with_a_message_naming_the_problem(case: str) -> None:
    changes, message = BAD_CASES[case]
    with pytest.raises(ReferenceDataError, match=message):
        parse(**changes)


def test_a_missing_file_is_named() -> None:
    incomplete = texts()
    del incomplete["routing_rules.toml"]
    with pytest.raises(ReferenceDataError, match=r"small/routing_rules.toml: missing"):
        parse_reference(incomplete, SMALL)


def test_every_problem_is_reported_at_once() -> None:
    rules = RULES + rule_block("r2", "pendidikan", "32.03", "dinkes")
    with pytest.raises(ReferenceDataError) as caught:
        parse(rules=rules)
    text = str(caught.value)
    assert "category 'pendidikan' does not exist" in text
    assert "agency 'dinkes' does not exist" in text


def test_descendants_are_the_agency_and_everything_below_it() -> None:
    reference = load_reference()
    below_cianjur = reference.descendants("pemkab-cianjur")
    assert {"pemkab-cianjur", "dinkes-cianjur", "puskesmas-cipanas"} <= below_cianjur
    assert "pemprov-jabar" not in below_cianjur and "dbmpr-jabar" not in below_cianjur
    assert reference.descendants("puskesmas-cipanas") == {"puskesmas-cipanas"}
    assert reference.descendants("nasional") == {a.id for a in reference.agencies}
