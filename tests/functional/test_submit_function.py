"""The submit function's JSON API, tracking and guards, through functions-framework,
against the real Firestore and Pub/Sub emulators.

Every refusal is checked to write nothing: the documents in every collection the
submit path writes are counted before and after.
"""

from __future__ import annotations

import copy
import io
import json
import os
from typing import Any

from flask.testing import FlaskClient
from google.cloud import firestore

from shared import wiring
from shared.domain.tracking import new_tracking_code
from shared.web.schemas import REPORT_EXAMPLE
from tests.functional.support import counts


def body(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(REPORT_EXAMPLE)
    data.update(changes)
    return data


def post(app: FlaskClient, data: Any, **headers: str) -> Any:
    return app.post("/api/v1/reports", json=data, headers=headers)


def assert_nothing_written(db: firestore.Client, before: dict[str, int]) -> None:
    assert counts(db) == before


# --- success --------------------------------------------------------------------------


def test_api_submit_creates_report_with_private_link(
    app: FlaskClient, db: firestore.Client
) -> None:
    response = post(app, body())
    assert response.status_code == 201
    out = response.get_json()
    assert set(out) >= {"tracking_code", "reporter_token", "tracking_url", "status"}
    assert out["status"] == "submitted"
    assert response.headers["Location"] == f"/api/v1/reports/{out['tracking_code']}"
    assert out["tracking_url"].endswith(
        f"/lacak/{out['tracking_code']}?token={out['reporter_token']}"
    )
    assert response.headers["Cache-Control"] == "no-store"
    found = counts(db)
    # report.submitted and the reporter's notice, each waiting for its consumer.
    assert found["reports"] == 1 and found["identities"] == 1 and found["outbox"] == 2
    assert found["events"] == 1


def test_identity_is_stored_apart_and_not_in_the_report(
    app: FlaskClient, db: firestore.Client
) -> None:
    post(app, body())
    report = next(iter(db.collection("reports").stream())).to_dict()
    flat = json.dumps(report, default=str)
    assert "Siti Rahayu" not in flat and "siti@contoh.id" not in flat
    stored = next(iter(db.collection("identities").stream()))
    assert "Siti" not in json.dumps(stored.to_dict(), default=str)  # sealed at rest
    identity = wiring.report_store().identity(stored.id)
    assert identity is not None and identity.phone == "+6281234567890"  # normalized


def test_replay_with_same_idempotency_key_returns_same_report(
    app: FlaskClient, db: firestore.Client
) -> None:
    first = post(app, body(), **{"Idempotency-Key": "retry-key-0001"})
    second = post(app, body(), **{"Idempotency-Key": "retry-key-0001"})
    assert first.status_code == 201
    assert second.status_code == 200
    assert second.get_json() == first.get_json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert counts(db)["reports"] == 1


def test_same_idempotency_key_with_other_body_is_refused(
    app: FlaskClient, db: firestore.Client
) -> None:
    post(app, body(), **{"Idempotency-Key": "retry-key-0002"})
    before = counts(db)
    response = post(
        app, body(title="Judul yang lain sekali"), **{"Idempotency-Key": "retry-key-0002"}
    )
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["type"].endswith("idempotency-key-reused")
    assert_nothing_written(db, before)


# --- bad input, none of which writes -----------------------------------------------------


def test_malformed_json_is_400_problem(app: FlaskClient, db: firestore.Client) -> None:
    before = counts(db)
    response = app.post("/api/v1/reports", data=b'{"title": "x",', content_type="application/json")
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == 400 and problem["title"] and problem["type"]
    assert_nothing_written(db, before)


def test_json_array_is_400_problem(app: FlaskClient, db: firestore.Client) -> None:
    before = counts(db)
    response = post(app, [body()])
    assert response.status_code == 400
    assert_nothing_written(db, before)


def test_validation_errors_are_422_with_one_entry_per_field(
    app: FlaskClient, db: firestore.Client
) -> None:
    before = counts(db)
    bad = body(
        title="short",
        description="too short",
        category="no-such-category",
        province_code="99",
        incident_date="2999-01-01",
        target_agency_id="no-such-agency",
        reporter={"name": "x" * 101, "email": "not-an-email", "phone": "12345"},
    )
    response = post(app, bad)
    assert response.status_code == 422
    problem = response.get_json()
    by_field = {e["field"]: e for e in problem["errors"]}
    assert by_field["title"]["code"] == "too_short"
    assert by_field["description"]["code"] == "too_short"
    assert by_field["category"]["code"] == "unknown_category"
    assert by_field["province_code"]["code"] == "unknown_province"
    assert by_field["incident_date"]["code"] == "future_date"
    assert by_field["target_agency_id"]["code"] == "unknown_agency"
    assert by_field["reporter.name"]["code"] == "too_long"
    assert by_field["reporter.email"]["code"] == "invalid_email"
    assert by_field["reporter.phone"]["code"] == "invalid_phone"
    assert len(problem["errors"]) == len(by_field)
    assert by_field["title"]["message"] == "Minimal 10 karakter."
    assert_nothing_written(db, before)


def test_regency_outside_the_province_is_refused(app: FlaskClient, db: firestore.Client) -> None:
    before = counts(db)
    response = post(app, body(province_code="32", regency_code="31.71"))
    assert response.status_code == 422
    assert response.get_json()["errors"][0] == {
        "field": "regency_code",
        "code": "regency_not_in_province",
        "message": "Kabupaten/kota ini tidak berada di provinsi yang dipilih.",
    }
    assert_nothing_written(db, before)


def test_unknown_json_field_is_refused(app: FlaskClient, db: firestore.Client) -> None:
    before = counts(db)
    response = post(app, body(state="closed"))
    assert response.status_code == 422
    assert response.get_json()["errors"] == [
        {"field": "state", "code": "extra_forbidden", "message": "Isian ini tidak dikenal."}
    ]
    assert_nothing_written(db, before)


def test_contact_is_required_unless_anonymous(app: FlaskClient, db: firestore.Client) -> None:
    before = counts(db)
    response = post(app, body(reporter=None))
    assert response.status_code == 422
    fields = {e["field"]: e["code"] for e in response.get_json()["errors"]}
    assert fields == {"reporter.name": "name_required", "reporter.email": "contact_required"}
    assert_nothing_written(db, before)
    assert post(app, body(reporter=None, anonymous=True)).status_code == 201


def test_validation_messages_follow_the_language(app: FlaskClient) -> None:
    english = app.post("/api/v1/reports?lang=en", json=body(title="short"))
    assert english.get_json()["errors"][0]["message"] == "At least 10 characters."
    negotiated = app.post(
        "/api/v1/reports", json=body(title="short"), headers={"Accept-Language": "en-US,en;q=0.9"}
    )
    assert negotiated.get_json()["errors"][0]["message"] == "At least 10 characters."


def test_oversized_body_is_413_by_content_length(app: FlaskClient, db: firestore.Client) -> None:
    before = counts(db)
    huge = json.dumps(body(description="x" * 70_000))
    response = app.post("/api/v1/reports", data=huge, content_type="application/json")
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"
    assert_nothing_written(db, before)


def test_oversized_body_is_413_without_content_length(
    app: FlaskClient, db: firestore.Client
) -> None:
    before = counts(db)
    huge = json.dumps(body(description="x" * 70_000)).encode()
    # Chunked: no Content-Length to check, so the read itself must stop at the limit.
    response = app.post(
        "/api/v1/reports",
        input_stream=io.BytesIO(huge),
        content_type="application/json",
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413
    assert_nothing_written(db, before)


def test_wrong_content_type_is_415(app: FlaskClient, db: firestore.Client) -> None:
    before = counts(db)
    response = app.post("/api/v1/reports", data=json.dumps(body()), content_type="text/plain")
    assert response.status_code == 415
    assert response.mimetype == "application/problem+json"
    assert_nothing_written(db, before)


def test_invalid_idempotency_key_is_400(app: FlaskClient, db: firestore.Client) -> None:
    before = counts(db)
    assert post(app, body(), **{"Idempotency-Key": "short"}).status_code == 400
    assert_nothing_written(db, before)


def test_rate_limit_answers_429_with_retry_after(app: FlaskClient, db: firestore.Client) -> None:
    os.environ["LAPOR_RATE_LIMIT_SUBMITS"] = "2"
    from shared.config import settings

    settings.cache_clear()
    assert post(app, body()).status_code == 201
    assert post(app, body()).status_code == 201
    before = counts(db)
    response = post(app, body())
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1
    assert response.mimetype == "application/problem+json"
    assert_nothing_written(db, before)


def test_rate_limit_counts_the_client_behind_the_trusted_proxy(app: FlaskClient) -> None:
    os.environ["LAPOR_RATE_LIMIT_SUBMITS"] = "1"
    os.environ["LAPOR_TRUSTED_PROXY_HOPS"] = "1"
    from shared.config import settings

    settings.cache_clear()
    first = post(app, body(), **{"X-Forwarded-For": "198.51.100.7"})
    other_client = post(app, body(), **{"X-Forwarded-For": "198.51.100.8"})
    # A forged left-most entry does not make the same client look new.
    forged = post(app, body(), **{"X-Forwarded-For": "203.0.113.1, 198.51.100.7"})
    assert (first.status_code, other_client.status_code, forged.status_code) == (201, 201, 429)


# --- tracking ---------------------------------------------------------------------------


def submitted(app: FlaskClient, **changes: Any) -> dict[str, Any]:
    response = post(app, body(**changes))
    assert response.status_code == 201, response.get_json()
    return dict(response.get_json())


def test_public_tracking_shows_status_deadlines_and_timeline_but_no_identity(
    app: FlaskClient,
) -> None:
    out = submitted(app)
    response = app.get(f"/api/v1/reports/{out['tracking_code']}")
    assert response.status_code == 200
    shown = response.get_json()
    assert shown["audience"] == "public"
    assert shown["status_label"] == "Belum Terverifikasi"
    assert shown["verify_due"] and shown["resolve_due"] is None  # no disposition yet
    assert [e["action"] for e in shown["timeline"]] == ["submit"]
    assert "reporter" not in shown
    assert "Siti" not in response.get_data(as_text=True)


def test_reporter_token_shows_private_details(app: FlaskClient) -> None:
    out = submitted(app)
    code, token = out["tracking_code"], out["reporter_token"]
    for headers in ({"Authorization": f"Bearer {token}"}, {"X-Reporter-Token": token}):
        shown = app.get(f"/api/v1/reports/{code}", headers=headers).get_json()
        assert shown["audience"] == "reporter"
        assert shown["reporter"]["name"] == "S. R."  # masked: submit cannot open it


def test_anonymous_identity_is_never_returned_without_the_token(app: FlaskClient) -> None:
    out = submitted(app, anonymous=True)
    code, token = out["tracking_code"], out["reporter_token"]
    public = app.get(f"/api/v1/reports/{code}")
    assert "reporter" not in public.get_json()
    assert "Siti" not in public.get_data(as_text=True)
    page = app.get(f"/lacak/{code}")
    assert "Siti" not in page.get_data(as_text=True)
    wrong = app.get(f"/api/v1/reports/{code}", headers={"X-Reporter-Token": "x" * 32})
    assert "Siti" not in wrong.get_data(as_text=True)
    private = app.get(f"/api/v1/reports/{code}", headers={"X-Reporter-Token": token})
    assert private.get_json()["reporter"]["name"] == "S. R."


def test_confidential_report_is_404_without_the_token(app: FlaskClient) -> None:
    out = submitted(app, confidential=True)
    code, token = out["tracking_code"], out["reporter_token"]
    unknown = app.get(f"/api/v1/reports/{new_tracking_code()}")
    hidden = app.get(f"/api/v1/reports/{code}")
    assert hidden.status_code == unknown.status_code == 404
    assert hidden.get_json() | {"instance": None} == unknown.get_json() | {"instance": None}
    assert app.get(f"/lacak/{code}").status_code == 404
    assert app.get(f"/lacak/{code}?token=wrong-token-000").status_code == 404
    assert (
        app.get(f"/api/v1/reports/{code}", headers={"X-Reporter-Token": token}).status_code == 200
    )
    assert app.get(f"/lacak/{code}?token={token}").status_code == 200


def test_malformed_tracking_code_is_400_with_a_clear_message(app: FlaskClient) -> None:
    code = new_tracking_code()
    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")  # check symbol no longer fits
    response = app.get(f"/api/v1/reports/{wrong}")
    assert response.status_code == 400
    assert response.get_json()["title"] == "Kode pelacakan tidak valid — periksa kembali"
    page = app.get(f"/lacak/{wrong}")
    assert page.status_code == 400
    assert "Kode pelacakan tidak valid — periksa kembali" in page.get_data(as_text=True)


def test_tracking_page_with_token_is_private_and_not_cached(app: FlaskClient) -> None:
    out = submitted(app)
    page = app.get(f"/lacak/{out['tracking_code']}?token={out['reporter_token']}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "S. R." in text and "Siti Rahayu" not in text and "Belum Terverifikasi" in text
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"


def test_tracking_page_formats_deadlines_as_indonesian_dates(app: FlaskClient) -> None:
    out = submitted(app)
    shown = app.get(f"/api/v1/reports/{out['tracking_code']}").get_json()
    from shared.web.i18n import format_date

    text = app.get(f"/lacak/{out['tracking_code']}").get_data(as_text=True)
    assert format_date(shown["verify_due"], "id") in text
    # No resolution deadline before the report is dispositioned.
    assert shown["resolve_due"] is None
    assert "<dt>Batas penyelesaian</dt><dd>Belum ditentukan</dd>" in text


def test_lookup_form_redirects_to_the_tracking_page(app: FlaskClient) -> None:
    out = submitted(app)
    typed = out["tracking_code"].replace("-", "").lower()
    response = app.get(f"/lacak?code={typed}")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/lacak/{out['tracking_code']}"
    assert app.get("/lacak?code=nonsense").status_code == 400
    assert app.get("/lacak").status_code == 200


# --- documents and headers -------------------------------------------------------------


def test_openapi_document_is_served(app: FlaskClient) -> None:
    response = app.get("/openapi.json")
    assert response.status_code == 200
    doc = response.get_json()
    assert doc["openapi"].startswith("3.1")
    assert {"/api/v1/reports", "/api/v1/reports/{code}", "/", "/lacak/{code}"} <= set(doc["paths"])


def test_unknown_api_path_is_problem_json(app: FlaskClient) -> None:
    response = app.get("/api/v1/nothing")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert app.delete("/api/v1/reports").status_code == 405
