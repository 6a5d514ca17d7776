"""The reporter's rights over their data, through the private link, on the submit
function against the real emulators: "Hapus data kontak saya" (the API operation with
an Idempotency-Key, and the tracking page's confirmation then form) erases the sealed
identity and leaves the report, and "Unduh data saya" returns everything held about
them; neither works without the reporter's token."""

from __future__ import annotations

import copy
import re
from typing import Any

from flask.testing import FlaskClient
from google.cloud import firestore

from shared import wiring
from shared.domain import chain
from shared.web.schemas import REPORT_EXAMPLE


def submitted(app: FlaskClient, **changes: Any) -> tuple[str, str, str]:
    """(report id, tracking code, reporter token) of a new report."""
    body = copy.deepcopy(REPORT_EXAMPLE)
    body.update(changes)
    out = app.post("/api/v1/reports", json=body).get_json()
    report = wiring.report_store().find_by_tracking_code(out["tracking_code"])
    assert report is not None
    return report.id, out["tracking_code"], out["reporter_token"]


def bearer(token: str, key: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    if key:
        headers["Idempotency-Key"] = key
    return headers


def identity_held(db: firestore.Client, report_id: str) -> bool:
    return bool(db.collection("identities").document(report_id).get().exists)


def erasures(db: firestore.Client, report_id: str) -> int:
    events = db.collection("reports").document(report_id).collection("events").stream()
    return sum((e.to_dict() or {})["action"] == "erase_contact" for e in events)


# --- "Hapus data kontak saya" ---------------------------------------------------------


def test_the_api_erases_the_contact_once_and_the_report_stays(
    app: FlaskClient, db: firestore.Client
) -> None:
    report_id, code, token = submitted(app)
    assert identity_held(db, report_id)

    first = app.post(
        f"/api/v1/reports/{code}/erase-contact", headers=bearer(token, "hapus-kontak-1")
    )
    retried = app.post(
        f"/api/v1/reports/{code}/erase-contact", headers=bearer(token, "hapus-kontak-1")
    )
    again = app.post(
        f"/api/v1/reports/{code}/erase-contact", headers=bearer(token, "hapus-kontak-2")
    )

    assert first.status_code == 200, first.get_json()
    assert first.get_json()["event"]["action"] == "erase_contact"
    assert first.get_json()["status"] == "submitted"
    assert (retried.status_code, retried.headers.get("Idempotent-Replayed")) == (200, "true")
    assert again.status_code == 422
    assert not identity_held(db, report_id)
    assert erasures(db, report_id) == 1
    stored = db.collection("reports").document(report_id).get().to_dict() or {}
    assert (stored["state"], stored["contact_erased"]) == ("submitted", "reporter")
    tracked = app.get(f"/api/v1/reports/{code}", headers=bearer(token)).get_json()
    assert tracked["contact_erased"] == "reporter"
    assert tracked["reporter"] is None
    assert tracked["timeline"][-1]["action"] == "erase_contact"


def test_without_the_token_nothing_is_erased(app: FlaskClient, db: firestore.Client) -> None:
    report_id, code, _ = submitted(app)

    answer = app.post(
        f"/api/v1/reports/{code}/erase-contact", headers={"Idempotency-Key": "hapus-kontak-1"}
    )

    assert answer.status_code == 403
    assert identity_held(db, report_id)
    assert erasures(db, report_id) == 0


def test_the_page_asks_first_and_its_form_erases_once(
    app: FlaskClient, db: firestore.Client
) -> None:
    report_id, code, token = submitted(app)
    tracking = app.get(f"/lacak/{code}?token={token}").get_data(as_text=True)
    assert f"/lacak/{code}/hapus-kontak?token=" in tracking
    assert f"/lacak/{code}/unduh-data?token=" in tracking

    page = app.get(f"/lacak/{code}/hapus-kontak?token={token}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Hapus data kontak saya" in html and 'action="/lacak/' in html
    assert identity_held(db, report_id)  # asking is not erasing
    nonce = re.search(r'name="nonce" value="([^"]+)"', html)
    assert nonce is not None
    form = {"token": token, "nonce": nonce.group(1)}

    sent = app.post(f"/lacak/{code}/erase-contact", data=form)
    sent_again = app.post(f"/lacak/{code}/erase-contact", data=form)  # back button, retry

    assert sent.status_code == sent_again.status_code == 303
    assert "done=erase-contact" in sent.headers["Location"]
    assert not identity_held(db, report_id)
    assert erasures(db, report_id) == 1
    after = app.get(sent.headers["Location"]).get_data(as_text=True)
    assert "Data kontak Anda sudah dihapus" in after
    assert f"/lacak/{code}/hapus-kontak" not in after  # nothing more to erase
    confirm_again = app.get(f"/lacak/{code}/hapus-kontak?token={token}").get_data(as_text=True)
    assert 'name="nonce"' not in confirm_again


def test_the_confirmation_page_needs_the_token(app: FlaskClient) -> None:
    _, code, _ = submitted(app)

    page = app.get(f"/lacak/{code}/hapus-kontak?token=bukan-token")

    # The tracking page's own answer: the public view, with "wrong token", no form.
    assert page.status_code == 200
    assert 'name="nonce"' not in page.get_data(as_text=True)


# --- "Unduh data saya" ----------------------------------------------------------------


def test_the_reporter_downloads_everything_held_about_them(app: FlaskClient) -> None:
    _, code, token = submitted(app)

    answer = app.get(f"/api/v1/reports/{code}/my-data", headers=bearer(token))

    assert answer.status_code == 200, answer.get_json()
    assert answer.headers["Cache-Control"] == "no-store"
    data = answer.get_json()
    assert (data["format"], data["tracking_code"]) == ("lapor.reporter-data.v1", code)
    assert data["report"]["tracking_code"] == code
    assert data["report"]["timeline"][0]["action"] == "submit"
    assert data["identity"] is not None
    assert set(data["identity_note"]) == {"id", "en"}
    assert "tersegel" in data["identity_note"]["id"]
    assert data["contact_erased"] is None
    assert chain.verify(data["timeline_export"]["events"]).ok


def test_the_download_is_the_reporters_only(app: FlaskClient) -> None:
    _, code, _ = submitted(app)
    _, hidden, _ = submitted(app, confidential=True)

    assert app.get(f"/api/v1/reports/{code}/my-data").status_code == 403
    assert app.get(f"/api/v1/reports/{hidden}/my-data").status_code == 404
    page = app.get(f"/lacak/{code}/unduh-data?token=bukan-token")
    assert page.mimetype == "text/html"  # the public tracking page, no data


def test_the_tracking_page_link_downloads_a_file(app: FlaskClient) -> None:
    _, code, token = submitted(app)

    answer = app.get(f"/lacak/{code}/unduh-data?token={token}")

    assert answer.status_code == 200
    assert answer.mimetype == "application/json"
    assert answer.headers["Content-Disposition"] == f'attachment; filename="lapor-{code}.json"'
    assert answer.get_json()["tracking_code"] == code


def test_after_erasing_the_download_holds_no_identity(app: FlaskClient) -> None:
    _, code, token = submitted(app)
    app.post(f"/api/v1/reports/{code}/erase-contact", headers=bearer(token))

    data = app.get(f"/api/v1/reports/{code}/my-data", headers=bearer(token)).get_json()

    assert (data["identity"], data["contact_erased"]) == (None, "reporter")
