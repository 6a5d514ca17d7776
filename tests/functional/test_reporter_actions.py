"""The reporter's actions on the submit function (API and tracking-page forms), through
functions-framework against the real emulators. Without the token nothing is written."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from google.cloud import firestore

from shared import wiring
from shared.config import Settings
from shared.domain.report import Action, Actor, Command, Role
from shared.ports import SystemClock
from shared.usecases.act import act
from shared.web.schemas import REPORT_EXAMPLE

ADMIN = Actor(Role.NATIONAL_ADMIN, "nasional")
AGENCY = Actor(Role.AGENCY_ADMIN, "dpupr-cianjur")


def submitted(app: FlaskClient, **changes: Any) -> tuple[str, str, str]:
    """(report id, tracking code, reporter token) of a new report."""
    body = copy.deepcopy(REPORT_EXAMPLE)
    body.update(changes)
    out = app.post("/api/v1/reports", json=body).get_json()
    report = wiring.report_store().find_by_tracking_code(out["tracking_code"])
    assert report is not None
    return report.id, out["tracking_code"], out["reporter_token"]


def drive(report_id: str, *steps: Command) -> None:
    for command in steps:
        act(
            report_id,
            command,
            store=wiring.report_store(),
            clock=SystemClock(),
            settings=Settings.from_env(),
        )


DISPOSITION = Command(Action.DISPOSITION, ADMIN, agency_id="dpupr-cianjur")
FOLLOW_UP = Command(Action.FOLLOW_UP, AGENCY, message="Sedang ditinjau.")
RESOLVE = Command(Action.RESOLVE, AGENCY, message="Sudah ditambal.")
HOLD = Command(Action.HOLD, ADMIN, reason="Di mana tepatnya?")


def doc(db: firestore.Client, report_id: str) -> dict[str, Any]:
    return db.collection("reports").document(report_id).get().to_dict() or {}


def actions(db: firestore.Client, report_id: str) -> list[str]:
    ref = db.collection("reports").document(report_id).collection("events")
    return [str((d.to_dict() or {})["action"]) for d in ref.order_by("seq").stream()]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- API ------------------------------------------------------------------------------


def test_reply_to_a_follow_up(app: FlaskClient, db: firestore.Client) -> None:
    report_id, code, token = submitted(app)
    drive(report_id, DISPOSITION, FOLLOW_UP)
    response = app.post(
        f"/api/v1/reports/{code}/reply", json={"message": "Terima kasih."}, headers=bearer(token)
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["event"]["action"] == "reporter_reply"
    assert actions(db, report_id)[-1] == "reporter_reply"
    assert doc(db, report_id)["state"] == "in_progress"


def test_answering_a_hold_returns_to_verification_and_asks_for_routing_again(
    app: FlaskClient, db: firestore.Client
) -> None:
    report_id, code, token = submitted(app)
    drive(report_id, HOLD)
    response = app.post(
        f"/api/v1/reports/{code}/answer",
        json={"message": "Depan Pasar Cipanas."},
        headers={"X-Reporter-Token": token},
    )
    assert response.status_code == 200, response.get_json()
    assert doc(db, report_id)["state"] == "submitted"
    outbox = db.collection("outbox").document(f"{report_id}.3").get()
    assert outbox.exists
    assert (outbox.to_dict() or {})["data"]["report_id"] == report_id


def test_confirm_then_rate_and_rating_only_once(app: FlaskClient, db: firestore.Client) -> None:
    report_id, code, token = submitted(app)
    drive(report_id, DISPOSITION, FOLLOW_UP, RESOLVE)
    assert app.post(f"/api/v1/reports/{code}/confirm", headers=bearer(token)).status_code == 200
    assert doc(db, report_id)["state"] == "closed"
    rated = app.post(f"/api/v1/reports/{code}/rating", json={"rating": 4}, headers=bearer(token))
    assert rated.status_code == 200
    assert doc(db, report_id)["rating"] == 4
    again = app.post(f"/api/v1/reports/{code}/rating", json={"rating": 5}, headers=bearer(token))
    assert again.status_code == 422
    assert doc(db, report_id)["rating"] == 4


def test_reopen_with_a_reason(app: FlaskClient, db: firestore.Client) -> None:
    report_id, code, token = submitted(app)
    drive(report_id, DISPOSITION, FOLLOW_UP, RESOLVE)
    missing = app.post(f"/api/v1/reports/{code}/reopen", json={}, headers=bearer(token))
    assert missing.status_code == 422
    assert [e["field"] for e in missing.get_json()["errors"]] == ["reason"]
    response = app.post(
        f"/api/v1/reports/{code}/reopen", json={"reason": "Berlubang lagi."}, headers=bearer(token)
    )
    assert response.status_code == 200
    assert doc(db, report_id)["state"] == "in_progress"
    assert doc(db, report_id)["reopen_count"] == 1


@pytest.mark.parametrize("rating", [0, 6, "lima", None])
def test_rating_outside_one_to_five_is_422(app: FlaskClient, rating: Any) -> None:
    report_id, code, token = submitted(app)
    drive(report_id, DISPOSITION, FOLLOW_UP, RESOLVE)
    app.post(f"/api/v1/reports/{code}/confirm", headers=bearer(token))
    response = app.post(
        f"/api/v1/reports/{code}/rating", json={"rating": rating}, headers=bearer(token)
    )
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "rating"


def test_illegal_action_is_409_and_changes_nothing(app: FlaskClient, db: firestore.Client) -> None:
    report_id, code, token = submitted(app)
    before = doc(db, report_id)
    response = app.post(f"/api/v1/reports/{code}/confirm", headers=bearer(token))
    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    assert doc(db, report_id) == before


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong-token"}])
def test_without_the_token_403_and_nothing_written(
    app: FlaskClient, db: firestore.Client, headers: dict[str, str]
) -> None:
    report_id, code, _ = submitted(app)
    drive(report_id, DISPOSITION, FOLLOW_UP, RESOLVE)
    before = doc(db, report_id)
    # Even an invalid body answers 403: a stranger learns nothing from validation.
    for body in ({}, {"x": 1}):
        response = app.post(f"/api/v1/reports/{code}/confirm", json=body, headers=headers)
        assert response.status_code == 403
    assert doc(db, report_id) == before


def test_confidential_report_without_the_token_is_404(
    app: FlaskClient, db: firestore.Client
) -> None:
    report_id, code, _ = submitted(app, confidential=True)
    before = doc(db, report_id)
    response = app.post(f"/api/v1/reports/{code}/answer", json={"message": "x"})
    assert response.status_code == 404
    assert doc(db, report_id) == before


def test_openapi_lists_the_reporter_operations_with_examples(app: FlaskClient) -> None:
    paths = app.get("/openapi.json").get_json()["paths"]
    for name in ("reply", "answer", "confirm", "reopen", "rating"):
        operation = paths[f"/api/v1/reports/{{code}}/{name}"]["post"]
        assert "example" in operation["requestBody"]["content"]["application/json"]


# --- the tracking page ----------------------------------------------------------------


def page(app: FlaskClient, code: str, token: str = "", lang: str = "id") -> str:
    query = f"?token={token}&lang={lang}" if token else f"?lang={lang}"
    response = app.get(f"/lacak/{code}{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_page_shows_only_the_forms_that_fit_the_state(app: FlaskClient) -> None:
    report_id, code, token = submitted(app)
    drive(report_id, DISPOSITION, FOLLOW_UP, RESOLVE)
    html = page(app, code, token)
    assert f'action="/lacak/{code}/confirm"' in html
    assert f'action="/lacak/{code}/reopen"' in html
    assert "/reply" not in html and "/rating" not in html
    assert "Ya, sudah selesai" in html
    assert "Yes, it is solved" in page(app, code, token, lang="en")
    # Without the token: no forms at all.
    assert "<form" not in page(app, code)


def test_page_form_reopen_error_beside_the_field_then_prg(
    app: FlaskClient, db: firestore.Client
) -> None:
    report_id, code, token = submitted(app)
    drive(report_id, DISPOSITION, FOLLOW_UP, RESOLVE)
    refused = app.post(f"/lacak/{code}/reopen", data={"token": token, "reason": "  "})
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert 'id="f-reopen-reason-error"' in html
    assert 'aria-invalid="true"' in html
    assert doc(db, report_id)["state"] == "resolved"
    done = app.post(f"/lacak/{code}/reopen", data={"token": token, "reason": "Belum beres."})
    assert done.status_code == 303
    location = done.headers["Location"]
    assert location.startswith(f"/lacak/{code}?") and f"token={token}" in location
    assert doc(db, report_id)["state"] == "in_progress"
    after = app.get(location).get_data(as_text=True)
    assert "tanggapan Anda sudah tercatat" in after
    assert f'action="/lacak/{code}/reply"' in after


def test_page_form_confirm_and_rate(app: FlaskClient, db: firestore.Client) -> None:
    report_id, code, token = submitted(app)
    drive(report_id, DISPOSITION, FOLLOW_UP, RESOLVE)
    assert app.post(f"/lacak/{code}/confirm", data={"token": token}).status_code == 303
    html = page(app, code, token)
    assert len(re.findall(r'type="radio" [^>]*name="rating"', html)) == 5
    assert app.post(f"/lacak/{code}/rating", data={"token": token}).status_code == 422
    assert (
        app.post(f"/lacak/{code}/rating", data={"token": token, "rating": "5"}).status_code == 303
    )
    assert doc(db, report_id)["rating"] == 5
    assert f"/lacak/{code}/rating" not in page(app, code, token)


def test_page_form_without_token_is_403_and_writes_nothing(
    app: FlaskClient, db: firestore.Client
) -> None:
    report_id, code, _ = submitted(app)
    drive(report_id, DISPOSITION, FOLLOW_UP, RESOLVE)
    before = doc(db, report_id)
    response = app.post(f"/lacak/{code}/confirm", data={"token": "nope"})
    assert response.status_code == 403
    assert doc(db, report_id) == before


def test_page_form_illegal_now_is_409_with_a_warning(app: FlaskClient) -> None:
    _, code, token = submitted(app)
    response = app.post(f"/lacak/{code}/confirm", data={"token": token})
    assert response.status_code == 409
    assert "tidak dapat dilakukan" in response.get_data(as_text=True)


def test_a_reply_retried_with_its_idempotency_key_is_recorded_once(
    app: FlaskClient, db: firestore.Client
) -> None:
    report_id, code, token = submitted(app)
    drive(report_id, DISPOSITION, FOLLOW_UP)
    headers = {**bearer(token), "Idempotency-Key": "reply-0001-retry"}

    def reply(message: str) -> Any:
        return app.post(f"/api/v1/reports/{code}/reply", json={"message": message}, headers=headers)

    first, again = reply("Terima kasih."), reply("Terima kasih.")

    assert first.status_code == again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert first.get_json()["event"]["seq"] == again.get_json()["event"]["seq"]
    assert actions(db, report_id).count("reporter_reply") == 1
    other = reply("Pesan lain.")
    assert other.status_code == 422
    assert actions(db, report_id).count("reporter_reply") == 1


def test_page_form_sent_twice_replies_once(app: FlaskClient, db: firestore.Client) -> None:
    report_id, code, token = submitted(app)
    drive(report_id, DISPOSITION, FOLLOW_UP)
    nonce = re.search(r'name="nonce" value="([^"]+)"', page(app, code, token))
    assert nonce is not None
    form = {"token": token, "message": "Terima kasih.", "nonce": nonce.group(1)}

    first = app.post(f"/lacak/{code}/reply", data=form)
    again = app.post(f"/lacak/{code}/reply", data=form)  # the back button, or a retry

    assert first.status_code == again.status_code == 303
    assert actions(db, report_id).count("reporter_reply") == 1
