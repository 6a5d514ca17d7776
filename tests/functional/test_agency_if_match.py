"""The agency API's conditional actions: ``If-Match: "<seq>"`` (the report's ``seq``
as the inbox or the report showed it) acts only on that version, else 412 and nothing
changes; the same stale-action check the console's forms use."""

from __future__ import annotations

from flask.testing import FlaskClient
from google.cloud import firestore

from tests.functional import test_agency_function as agency_api
from tests.functional.test_agency_function import auth, events, new_report, state

app, keys = agency_api.app, agency_api.keys  # the agency function and its API keys


def test_the_inbox_and_the_report_show_the_version_to_act_on(
    app: FlaskClient, keys: dict[str, str]
) -> None:
    report_id = new_report()
    detail = app.get(f"/api/v1/reports/{report_id}", headers=auth(keys["dpupr"])).get_json()
    inbox = app.get("/api/v1/inbox", headers=auth(keys["dpupr"])).get_json()
    [line] = [item for item in inbox["items"] if item["id"] == report_id]
    assert detail["seq"] == line["seq"] == len(detail["timeline"]) == 2


def test_an_action_on_the_version_read_is_taken(
    app: FlaskClient, keys: dict[str, str], db: firestore.Client
) -> None:
    report_id = new_report()
    answer = app.post(
        f"/api/v1/reports/{report_id}/follow-up",
        json={"message": "Ditinjau."},
        headers={**auth(keys["dpupr"]), "If-Match": '"2"'},
    )
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["report"]["seq"] == 3 and state(db, report_id) == "in_progress"


def test_an_action_on_a_version_no_longer_current_is_412_and_changes_nothing(
    app: FlaskClient, keys: dict[str, str], db: firestore.Client
) -> None:
    report_id = new_report()
    first = app.post(
        f"/api/v1/reports/{report_id}/follow-up",
        json={"message": "Ditinjau."},
        headers={**auth(keys["dpupr"]), "If-Match": '"2"'},
    )
    assert first.status_code == 200
    before = events(db, report_id)

    stale = app.post(
        f"/api/v1/reports/{report_id}/resolve",
        json={"message": "Selesai."},
        headers={**auth(keys["dpupr"]), "If-Match": '"2"'},
    )

    assert stale.status_code == 412
    body = stale.get_json()
    assert body["type"].endswith("report_changed") and body["title"] == "The report has changed"
    assert events(db, report_id) == before and state(db, report_id) == "in_progress"


def test_a_malformed_if_match_is_400_and_a_star_or_none_acts_on_any_version(
    app: FlaskClient, keys: dict[str, str], db: firestore.Client
) -> None:
    report_id = new_report()
    for bad in ("2", 'W/"2"', '"two"', '"2", "3"'):
        refused = app.post(
            f"/api/v1/reports/{report_id}/follow-up",
            json={"message": "x"},
            headers={**auth(keys["dpupr"]), "If-Match": bad},
        )
        assert refused.status_code == 400, bad
    assert len(events(db, report_id)) == 2
    anyway = app.post(
        f"/api/v1/reports/{report_id}/follow-up",
        json={"message": "Ditinjau."},
        headers={**auth(keys["dpupr"]), "If-Match": "*"},
    )
    assert anyway.status_code == 200
    again = app.post(
        f"/api/v1/reports/{report_id}/follow-up",
        json={"message": "Lagi."},
        headers=auth(keys["dpupr"]),
    )
    assert again.status_code == 200 and len(events(db, report_id)) == 4
