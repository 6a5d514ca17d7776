"""An agency action retried with its Idempotency-Key is taken once (issue 11, item 2):
the retry answers the first attempt's event; the key is the caller's alone; the same
key with another request is refused. On the real emulators."""

from __future__ import annotations

from collections.abc import Iterator

import functions_framework
import pytest
from flask.testing import FlaskClient
from google.cloud import firestore
from werkzeug.test import TestResponse

from shared import wiring
from tests.functional.test_agency_files import auth, report_with_a_photo
from tools.api_keys import issue_key
from tools.stack import Emulators

SOURCE = "functions/agency/main.py"
KEY = "retry-7f3c9a1e"


@pytest.fixture
def app(clean_emulators: Emulators) -> Iterator[FlaskClient]:
    wiring.reset()
    client = functions_framework.create_app(target="agency", source=SOURCE).test_client()
    yield client
    wiring.reset()


def follow_up(
    app: FlaskClient, api_key: str, report_id: str, message: str, key: str
) -> TestResponse:
    return app.post(
        f"/api/v1/reports/{report_id}/follow-up",
        json={"message": message},
        headers={**auth(api_key), "Idempotency-Key": key},
    )


def events(db: firestore.Client, report_id: str) -> int:
    return len(db.collection("reports").document(report_id).collection("events").get())


def test_a_retried_follow_up_is_recorded_once_and_answers_the_first_event(
    app: FlaskClient, db: firestore.Client
) -> None:
    dpupr = issue_key(db, "dpupr-cianjur", "agency_admin", "t")
    report_id = report_with_a_photo()  # submitted and dispositioned: 2 events

    first = follow_up(app, dpupr, report_id, "Tim sudah ke lokasi.", KEY)
    again = follow_up(app, dpupr, report_id, "Tim sudah ke lokasi.", KEY)

    assert first.status_code == again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert first.get_json()["event"]["seq"] == again.get_json()["event"]["seq"] == 3
    assert events(db, report_id) == 3

    other_request = follow_up(app, dpupr, report_id, "Pesan lain.", KEY)
    assert other_request.status_code == 422
    assert other_request.get_json()["type"].endswith("idempotency_key_reused")
    assert events(db, report_id) == 3


def test_an_idempotency_key_is_the_callers_alone(app: FlaskClient, db: firestore.Client) -> None:
    admin = issue_key(db, "dpupr-cianjur", "agency_admin", "admin")
    national = issue_key(db, "nasional", "national_admin", "national")
    report_id = report_with_a_photo()

    assert follow_up(app, admin, report_id, "Dicek.", KEY).status_code == 200
    theirs = follow_up(app, national, report_id, "Dicek.", KEY)

    assert theirs.status_code == 200 and "Idempotent-Replayed" not in theirs.headers
    assert events(db, report_id) == 4


@pytest.mark.parametrize("key", ["short", "tab\tinside-the-key", "x" * 256])
def test_a_malformed_idempotency_key_is_400_and_changes_nothing(
    app: FlaskClient, db: firestore.Client, key: str
) -> None:
    dpupr = issue_key(db, "dpupr-cianjur", "agency_admin", "t")
    report_id = report_with_a_photo()

    answered = follow_up(app, dpupr, report_id, "Dicek.", key)

    assert answered.status_code == 400
    assert events(db, report_id) == 2
