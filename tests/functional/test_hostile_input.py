"""Hostile input answered with a 4xx, never a 500 (issue 11, item 1): each class a
fuzzing run found, on the submit and agency functions against the real emulators."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import functions_framework
import pytest
from flask.testing import FlaskClient
from google.cloud import firestore

from shared import wiring
from shared.domain.tracking import new_tracking_code
from tests.functional.test_reporter_actions import bearer, submitted
from tools.api_keys import issue_key
from tools.stack import Emulators

PROBLEM_JSON = "application/problem+json"
MOMENT = "2026-01-05T03:00:00+00:00"


@pytest.fixture
def agency_app(clean_emulators: Emulators) -> Iterator[FlaskClient]:
    wiring.reset()
    client = functions_framework.create_app(
        target="agency", source="functions/agency/main.py"
    ).test_client()
    yield client
    wiring.reset()


@pytest.fixture
def national_key(db: firestore.Client) -> str:
    return issue_key(db, "nasional", "national_admin", "t")


def _cursor(position: str, after_id: str) -> str:
    raw = json.dumps([position, after_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# --- reporter tokens ------------------------------------------------------------------

NOT_ASCII_TOKENS = ["tökén", "é" * 32, "\u202e" + "a" * 31]


@pytest.mark.parametrize("token", NOT_ASCII_TOKENS)
def test_a_token_with_characters_outside_ascii_is_a_wrong_token(
    app: FlaskClient, token: str
) -> None:
    _, code, _ = submitted(app)
    header = {"X-Reporter-Token": token}
    shown = app.get(f"/api/v1/reports/{code}", headers=header)
    assert shown.status_code == 200
    assert shown.get_json()["audience"] == "public"
    acted = app.post(f"/api/v1/reports/{code}/confirm", headers=header)
    assert acted.status_code == 403
    assert acted.content_type == PROBLEM_JSON


def _without_instance(body: dict[str, object]) -> dict[str, object]:
    return {name: value for name, value in body.items() if name != "instance"}


@pytest.mark.parametrize("token", ["tökén", "wrong-but-ascii"])
def test_a_confidential_report_with_a_bad_token_looks_like_a_missing_one(
    app: FlaskClient, token: str
) -> None:
    _, code, _ = submitted(app, confidential=True)
    missing = new_tracking_code()  # well formed, held by no report
    header = {"X-Reporter-Token": token}
    for path in ("", "/confirm"):
        method = app.get if not path else app.post
        hidden = method(f"/api/v1/reports/{code}{path}", headers=header)
        absent = method(f"/api/v1/reports/{missing}{path}", headers=header)
        assert hidden.status_code == absent.status_code == 404
        assert _without_instance(hidden.get_json()) == _without_instance(absent.get_json())


def test_a_short_link_with_characters_outside_ascii_is_a_wrong_link(app: FlaskClient) -> None:
    _, code, _ = submitted(app)
    answer = app.get(f"/l/{code}-ŝŝŝŝŝŝŝŝŝŝ")
    assert answer.status_code < 500


# --- ids Firestore refuses ------------------------------------------------------------

REFUSED_IDS = ["__x__", "__name__", ".", "..", "x" * 65, "a.b", "a%2Fb", "ab%20cd"]


@pytest.mark.parametrize("report_id", REFUSED_IDS)
def test_an_id_firestore_refuses_is_not_found(
    agency_app: FlaskClient, national_key: str, report_id: str
) -> None:
    key = bearer(national_key)
    for answer in (
        agency_app.get(f"/api/v1/reports/{report_id}", headers=key),
        agency_app.get(f"/api/v1/reports/{report_id}/dossier", headers=key),
        agency_app.post(f"/api/v1/reports/{report_id}/verify", headers=key, json={}),
    ):
        assert answer.status_code == 404, answer.get_json()
        assert answer.content_type == PROBLEM_JSON
        assert answer.headers["X-Content-Type-Options"] == "nosniff"


# --- cursors --------------------------------------------------------------------------

FORGED_CURSORS = [
    _cursor("not a moment", "abc"),
    _cursor(MOMENT, "__x__"),
    _cursor(MOMENT, ".."),
    _cursor("9999-12-31T23:59:59", "abc"),  # no offset
    _cursor("9999-12-31T23:59:59-01:00", "abc"),  # past the calendar's end in UTC
    _cursor("2026-01-05", "abc"),  # a day where a moment belongs
    "%%%",
    base64.urlsafe_b64encode(b"\xff\xfe").decode(),
]


@pytest.mark.parametrize("cursor", FORGED_CURSORS)
def test_a_forged_inbox_cursor_is_refused(
    agency_app: FlaskClient, national_key: str, cursor: str
) -> None:
    answer = agency_app.get(
        "/api/v1/inbox", query_string={"cursor": cursor}, headers=bearer(national_key)
    )
    assert answer.status_code == 400, answer.get_json()
    assert answer.get_json()["type"] == "urn:lapor:problem:invalid-cursor"


@pytest.mark.parametrize(
    "cursor", [_cursor(MOMENT, "abc"), _cursor("not a day", "abc"), _cursor("2026-01-05", "..")]
)
def test_a_forged_overdue_inbox_cursor_is_refused(
    agency_app: FlaskClient, national_key: str, cursor: str
) -> None:
    answer = agency_app.get(
        "/api/v1/inbox",
        query_string={"cursor": cursor, "overdue": "1"},
        headers=bearer(national_key),
    )
    assert answer.status_code == 400, answer.get_json()


@pytest.mark.parametrize(
    "cursor", [_cursor("not a moment", "n1"), _cursor("9999-12-31T23:59:59-01:00", "n1")]
)
def test_a_forged_deliveries_cursor_is_refused(
    agency_app: FlaskClient, national_key: str, cursor: str
) -> None:
    answer = agency_app.get(
        "/api/v1/deliveries",
        query_string={"status": "failed", "cursor": cursor},
        headers=bearer(national_key),
    )
    assert answer.status_code == 400, answer.get_json()


def test_well_formed_cursors_still_page(agency_app: FlaskClient, national_key: str) -> None:
    key = bearer(national_key)
    for query in (
        {"cursor": _cursor(MOMENT, "abc")},
        {"cursor": _cursor("2026-01-05", "abc"), "overdue": "1"},
    ):
        answer = agency_app.get("/api/v1/inbox", query_string=query, headers=key)
        assert answer.status_code == 200, answer.get_json()
    answer = agency_app.get(
        "/api/v1/deliveries",
        query_string={"status": "failed", "cursor": _cursor(MOMENT, "a.b.c")},
        headers=key,
    )
    assert answer.status_code == 200, answer.get_json()


# --- JSON nested too deeply -----------------------------------------------------------

DEEP_ARRAY = "[" * 5000 + "]" * 5000
DEEP_OBJECT = '{"a":' * 2000 + "1" + "}" * 2000


@pytest.mark.parametrize("body", [DEEP_ARRAY, DEEP_OBJECT])
def test_json_nested_too_deeply_is_malformed(
    app: FlaskClient, agency_app: FlaskClient, national_key: str, body: str
) -> None:
    _, code, token = submitted(app)
    json_type = "application/json"
    for answer in (
        app.post("/api/v1/reports", data=body, content_type=json_type),
        app.post(
            f"/api/v1/reports/{code}/reply",
            data=body,
            content_type=json_type,
            headers=bearer(token),
        ),
        agency_app.post(
            "/api/v1/reports/abc/verify",
            data=body,
            content_type=json_type,
            headers=bearer(national_key),
        ),
    ):
        assert answer.status_code == 400, answer.get_json()
        assert answer.get_json()["type"] == "urn:lapor:problem:malformed-json"


# --- paths the framework would answer itself ------------------------------------------

UNROUTED = ["/robots.txt", "/favicon.ico", "/api/v1/reports/a%0Ab", "/x%0A"]


@pytest.mark.parametrize("path", UNROUTED)
def test_a_path_the_framework_would_answer_gets_the_apis_problem_and_headers(
    agency_app: FlaskClient, path: str
) -> None:
    answer = agency_app.get(path)
    assert answer.status_code in (401, 404)
    assert answer.content_type == PROBLEM_JSON
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", UNROUTED)
def test_a_path_the_framework_would_answer_gets_the_sites_page_and_headers(
    app: FlaskClient, path: str
) -> None:
    answer = app.get(path)
    assert 400 <= answer.status_code < 500
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Referrer-Policy"] == "no-referrer"
    assert "The requested URL was not found on the server" not in answer.get_data(as_text=True)
