"""ReportIn at the edge: bounds, reference checks, cross-field rules, and the OpenAPI
examples, each validated against the model it documents."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from shared.domain.report import GeoPoint, Region
from shared.domain.tracking import normalize_tracking_code
from shared.reference import Reference, load_reference
from shared.usecases.lost_link import Contact
from shared.web.catalog import catalog_of
from shared.web.citizen_pages import form_to_data
from shared.web.http import field_errors
from shared.web.openapi import document, lost_link_paths, reporter_paths
from shared.web.schemas import (
    REPORT_EXAMPLE,
    ApiReportIn,
    ReportIn,
    UploadIn,
    normalize_phone,
    parse_contact,
)

TODAY = dt.date(2025, 3, 4)
CATALOG = catalog_of(load_reference())


def codes(data: dict[str, Any], lang: str = "id") -> dict[str, str]:
    try:
        ReportIn.model_validate(data, context={"catalog": CATALOG, "today": TODAY})
    except ValidationError as invalid:
        return {e.field: e.code for e in field_errors(invalid, "id" if lang == "id" else "en")}
    return {}


def example(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(REPORT_EXAMPLE)
    data.update(changes)
    return data


def test_every_openapi_request_example_validates_against_its_model() -> None:
    checked = 0
    # The reporter's operations have their own models: tests/unit/test_reporter_usecase.py.
    reporter_ops = set(reporter_paths())
    lost_link_ops = set(lost_link_paths())  # checked below
    for path, item in document()["paths"].items():
        if path in reporter_ops or path in lost_link_ops:
            continue
        for method, operation in item.items():
            for media, content in operation.get("requestBody", {}).get("content", {}).items():
                assert "example" in content, f"{method.upper()} {path} {media} lacks an example"
                sample = content["example"]
                model: type[BaseModel] = ReportIn
                if path == "/":  # the hosted form: flat fields, urlencoded or multipart
                    sample = form_to_data(sample)
                elif media == "multipart/form-data":  # the report's JSON in its part
                    sample = json.loads(sample["report"])
                else:
                    model = _MODELS[content["schema"]["$ref"].rsplit("/", 1)[1]]
                model.model_validate(sample, context={"catalog": CATALOG})
                checked += 1
    # The form (urlencoded, multipart), the API's report (JSON, multipart), an upload.
    assert checked == 5


_MODELS: dict[str, type[BaseModel]] = {"ApiReportIn": ApiReportIn, "UploadIn": UploadIn}


def test_the_lost_link_form_example_is_a_code_and_a_contact_the_page_reads() -> None:
    operation = lost_link_paths()["/lupa-tautan"]["post"]
    sample = operation["requestBody"]["content"]["application/x-www-form-urlencoded"]["example"]
    assert normalize_tracking_code(sample["tracking_code"]) == sample["tracking_code"]
    assert parse_contact(sample["contact"]).channel == "email"
    assert sample["website"] == ""


def test_every_problem_response_uses_the_problem_schema() -> None:
    for item in document()["paths"].values():
        for operation in item.values():
            for status, response in operation["responses"].items():
                content = response.get("content", {})
                if int(status) >= 400 and "application/problem+json" in content:
                    schema = content["application/problem+json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Problem"}


def test_openapi_components_resolve() -> None:
    doc = document()
    schemas = doc["components"]["schemas"]
    refs: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "$ref" in node:
                refs.append(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)
    for ref in refs:
        assert ref.startswith("#/components/schemas/")
        assert ref.rsplit("/", 1)[1] in schemas, ref


def test_the_example_is_valid() -> None:
    assert codes(example()) == {}


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("title", "x" * 9, "too_short"),
        ("title", "x" * 151, "too_long"),
        ("title", "   ", "missing"),
        ("description", "x" * 29, "too_short"),
        ("description", "x" * 5001, "too_long"),
        ("title", "judul dengan \x00 nol", "invalid_text"),
        ("type", "pengaduan_pengawasan", "invalid_type"),
        ("category", "tidak-ada", "unknown_category"),
        ("province_code", "99", "unknown_province"),
        ("regency_code", "99.99", "unknown_regency"),
        ("regency_code", "31.71", "regency_not_in_province"),
        ("incident_date", "2025-03-05", "future_date"),
        ("incident_date", "1999-12-31", "date_too_old"),
        ("incident_date", "4 Maret", "invalid_date"),
        ("target_agency_id", "tidak-ada", "unknown_agency"),
        ("anonymous", "mungkin", "invalid_bool"),
        ("surprise", 1, "extra_forbidden"),
    ],
)
def test_each_bad_value_is_refused_on_its_field(field: str, value: Any, code: str) -> None:
    assert codes(example(**{field: value})) == {field: code}


def test_a_province_with_listed_regencies_needs_one() -> None:
    assert codes(example(regency_code=None)) == {"regency_code": "regency_required"}


def test_a_province_without_listed_regencies_needs_none() -> None:
    # The bundled data lists every province's regencies: take Aceh's away.
    full = load_reference()
    without_aceh = Reference.model_validate(
        {**dict(full), "regencies": [r for r in full.regencies if r.province_code != "11"]}
    )
    context = {"catalog": catalog_of(without_aceh), "today": TODAY}
    ReportIn.model_validate(example(province_code="11", regency_code=None), context=context)
    assert codes(example(province_code="11", regency_code=None)) == {
        "regency_code": "regency_required"
    }


def test_today_is_a_valid_incident_date() -> None:
    assert codes(example(incident_date=TODAY.isoformat())) == {}


@pytest.mark.parametrize(
    ("reporter", "expected"),
    [
        (None, {"reporter.name": "name_required", "reporter.email": "contact_required"}),
        ({"name": "Siti"}, {"reporter.email": "contact_required"}),
        ({"email": "siti@contoh.id"}, {"reporter.name": "name_required"}),
        ({"name": "Siti", "phone": "0812 3456 7890"}, {}),
        ({"name": "x" * 101, "email": "a@b.id"}, {"reporter.name": "too_long"}),
        ({"name": "Siti", "email": "siti@"}, {"reporter.email": "invalid_email"}),
        ({"name": "Siti", "phone": "+1 202 555 0101"}, {"reporter.phone": "invalid_phone"}),
        ({"name": "Siti", "phone": "0812", "age": 3}, {"reporter.phone": "invalid_phone",
                                                      "reporter.age": "extra_forbidden"}),
    ],
)  # fmt: skip
def test_contact_rules_unless_anonymous(reporter: Any, expected: dict[str, str]) -> None:
    assert codes(example(reporter=reporter)) == expected


def test_anonymous_needs_no_contact_but_bad_contact_is_still_refused() -> None:
    assert codes(example(anonymous=True, reporter=None)) == {}
    assert codes(example(anonymous=True, reporter={"email": "nope"})) == {
        "reporter.email": "invalid_email"
    }


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("0812-3456-7890", "+6281234567890"),
        ("+62 812 3456 7890", "+6281234567890"),
        ("6281234567890", "+6281234567890"),
        ("(021) 345-6789", "+62213456789"),
    ],
)
def test_indonesian_phone_numbers_are_normalized(typed: str, stored: str) -> None:
    assert normalize_phone(typed) == stored


def test_to_domain_keeps_identity_apart_from_the_draft() -> None:
    draft, identity = ReportIn.model_validate(example(), context={"catalog": CATALOG}).to_domain()
    assert draft.region.regency_code == "32.03"
    assert identity.name == "Siti Rahayu" and identity.phone == "+6281234567890"
    assert not hasattr(draft, "reporter")


def test_form_fields_map_to_the_nested_shape() -> None:
    data = form_to_data(
        {"title": "t", "anonymous": "1", "reporter.name": "A", "nonce": "n", "website": ""}
    )
    assert data == {
        "title": "t",
        "anonymous": True,
        "confidential": False,
        "show_attachments": False,
        "reporter": {"name": "A"},
    }


def test_a_lost_link_contact_is_an_email_as_typed_or_a_phone_as_stored() -> None:
    assert parse_contact(" Siti@Contoh.ID ") == Contact("email", "Siti@Contoh.ID")
    assert parse_contact("0812-3456-7890") == Contact("sms", "+6281234567890")
    assert parse_contact("+62 812 3456 7890") == Contact("sms", "+6281234567890")
    for typed in ("", "siti@", "12345", "0812 3456 7890 1234 5678", "bukan kontak"):
        with pytest.raises(ValueError):
            parse_contact(typed)


# --- the finer place ----------------------------------------------------------------

CUGENANG = {"district_code": "32.03.11", "village_code": "32.03.11.2001"}
CIANJUR_TOWN = {"latitude": -6.8222, "longitude": 107.1394}  # Cianjur, the regency seat
MONAS = {"latitude": -6.1754, "longitude": 106.8272}  # Jakarta


def test_a_district_village_address_and_point_reach_the_draft() -> None:
    data = example(
        **CUGENANG, **CIANJUR_TOWN, address="  Depan SDN Sukamanah 1  ", show_attachments=True
    )
    draft, _ = ReportIn.model_validate(data, context={"catalog": CATALOG}).to_domain()
    assert draft.region == Region("32", "32.03", "32.03.11", "32.03.11.2001")
    assert draft.address == "Depan SDN Sukamanah 1"
    assert draft.point == GeoPoint(-6.8222, 107.1394)
    assert draft.show_attachments is True


def test_the_place_fields_are_optional_and_blank_means_none() -> None:
    blank = {"district_code": "", "village_code": " ", "address": "", "latitude": ""}
    draft, _ = ReportIn.model_validate(
        example(**blank, longitude=""), context={"catalog": CATALOG}
    ).to_domain()
    assert draft.region == Region("32", "32.03")
    assert (draft.address, draft.point, draft.show_attachments) == (None, None, False)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"district_code": "32.03.99"}, {"district_code": "unknown_district"}),
        ({"district_code": "32.03"}, {"district_code": "unknown_district"}),
        ({"district_code": "32.04.05"}, {"district_code": "district_not_in_regency"}),
        (
            {"district_code": "32.03.11", "village_code": "32.03.11.9999"},
            {"village_code": "unknown_village"},
        ),
        (
            {"district_code": "32.03.11", "village_code": "32.03.10.2001"},
            {"village_code": "village_not_in_district"},
        ),
        ({"village_code": "32.03.11.2001"}, {"village_code": "district_required"}),
        # A wrong district is said once, not again on its village.
        (
            {"district_code": "32.04.05", "village_code": "32.03.11.2001"},
            {"district_code": "district_not_in_regency"},
        ),
        ({"address": "x" * 201}, {"address": "too_long"}),
        ({"address": "rumah \x07 pak RT"}, {"address": "invalid_text"}),
        ({"latitude": -6.8}, {"longitude": "point_incomplete"}),
        ({"longitude": 107.1}, {"longitude": "point_incomplete"}),
        ({"latitude": 91, "longitude": 107.1}, {"latitude": "invalid_coordinate"}),
        ({"latitude": -6.8, "longitude": 181}, {"longitude": "invalid_coordinate"}),
        ({"latitude": "nan", "longitude": 107.1}, {"latitude": "invalid_coordinate"}),
        ({"latitude": "utara", "longitude": 107.1}, {"latitude": "invalid"}),
        ({"latitude": 48.8584, "longitude": 2.2945}, {"longitude": "point_outside_indonesia"}),
        (MONAS, {"longitude": "point_outside_regency"}),
        ({"show_attachments": "mungkin"}, {"show_attachments": "invalid_bool"}),
    ],
)
def test_each_bad_place_is_refused_on_its_field(
    changes: dict[str, Any], expected: dict[str, str]
) -> None:
    assert codes(example(**changes)) == expected


def test_a_point_where_the_data_cannot_tell_is_accepted() -> None:
    # No bundled extent decides for Jakarta Selatan: any point in Indonesia passes.
    jakarta = example(province_code="31", regency_code="31.74", category="infrastruktur.jalan")
    assert codes({**jakarta, **MONAS}) == {}
    assert codes({**jakarta, "latitude": -6.8222, "longitude": 107.1394}) == {}


def test_the_place_errors_speak_both_languages() -> None:
    data = example(**MONAS)
    with pytest.raises(ValidationError) as caught:
        ReportIn.model_validate(data, context={"catalog": CATALOG, "today": TODAY})
    [indonesian] = field_errors(caught.value, "id")
    [english] = field_errors(caught.value, "en")
    assert indonesian.message == "Titik lokasi berada di luar kabupaten/kota yang dipilih."
    assert english.message == "The point lies outside the chosen regency or city."
