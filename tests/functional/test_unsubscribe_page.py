"""/berhenti/<token> on the submit function and the real emulators: GET shows what
stops and changes nothing; the page's button and a mail client's one-click POST
(RFC 8058) record the opt-out that notify reads; a token we did not sign is the 404
page, in Indonesian first."""

from __future__ import annotations

import copy
import re

from flask.testing import FlaskClient
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from shared.adapters.firestore import OPT_OUTS, FirestoreContactPreferences
from shared.tokens import agency_opt_out, reporter_opt_out, unsubscribe_token
from shared.web.schemas import REPORT_EXAMPLE
from tests.conftest import TEST_TOKEN_SECRET


def _submitted(app: FlaskClient, db: firestore.Client) -> tuple[str, str]:
    """(report id, tracking code) of a report filed through the API."""
    answer = app.post("/api/v1/reports", json=copy.deepcopy(REPORT_EXAMPLE))
    assert answer.status_code == 201, answer.get_data(as_text=True)
    code = answer.get_json()["tracking_code"]
    [found] = db.collection("reports").where(filter=FieldFilter("tracking_code", "==", code)).get()
    return found.id, code


def _opt_outs(db: firestore.Client) -> dict[str, dict[str, object]]:
    return {doc.id: doc.to_dict() or {} for doc in db.collection(OPT_OUTS).stream()}


def test_get_shows_what_stops_and_changes_nothing(app: FlaskClient, db: firestore.Client) -> None:
    report_id, code = _submitted(app, db)
    token = unsubscribe_token(TEST_TOKEN_SECRET, reporter_opt_out(report_id, "email"))

    page = app.get(f"/berhenti/{token}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Content-Language"] == "id"
    assert f"Pemberitahuan lewat e-mail tentang laporan {code} akan dihentikan." in html
    assert re.search(rf'<form method="post" action="/berhenti/{re.escape(token)}">', html)
    assert page.headers["X-Robots-Tag"] == "noindex"
    assert page.headers["Cache-Control"] == "no-store"
    english = app.get(f"/berhenti/{token}?lang=en").get_data(as_text=True)
    assert f"Notifications by e-mail about report {code} will stop." in english
    assert f'action="/berhenti/{token}?lang=en"' in english
    assert _opt_outs(db) == {}


def test_the_button_stops_it_once(app: FlaskClient, db: firestore.Client) -> None:
    report_id, code = _submitted(app, db)
    who = reporter_opt_out(report_id, "email")
    token = unsubscribe_token(TEST_TOKEN_SECRET, who)

    done = app.post(f"/berhenti/{token}", data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    assert f"tentang laporan {code} sudah dihentikan" in done.get_data(as_text=True)
    stored = _opt_outs(db)
    assert set(stored) == {f"reporter.{report_id}.email"}
    first = stored[who.key]
    assert (first["audience"], first["owner"], first["channel"]) == ("reporter", report_id, "email")
    # What notify asks before the next message.
    preferences = FirestoreContactPreferences(db)
    assert preferences.is_opted_out(who)
    assert not preferences.is_opted_out(reporter_opt_out(report_id, "sms"))

    again = app.post(f"/berhenti/{token}?lang=en", data={"List-Unsubscribe": "One-Click"})
    assert again.status_code == 200 and "have stopped" in again.get_data(as_text=True)
    assert _opt_outs(db) == stored  # the first time is kept


def test_a_mail_clients_one_click_post(app: FlaskClient, db: firestore.Client) -> None:
    who = agency_opt_out(TEST_TOKEN_SECRET, "dpupr-cianjur", "pengaduan@dpupr.example")
    token = unsubscribe_token(TEST_TOKEN_SECRET, who)
    # RFC 8058's own example posts multipart/form-data, with no cookie and no referrer.
    boundary = "---FormBoundaryjWmhtjORrn"
    body = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="List-Unsubscribe"\r\n\r\n'
        f"One-Click\r\n--{boundary}--\r\n"
    )
    answer = app.post(
        f"/berhenti/{token}",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert answer.status_code == 200
    assert "tidak akan lagi menerima pemberitahuan untuk" in answer.get_data(as_text=True)
    [(key, stored)] = _opt_outs(db).items()
    assert key == who.key and stored["audience"] == "agency" and stored["address"] == who.address
    assert "pengaduan" not in str(stored)  # the address itself is not kept
    # Another address of the same agency still gets its mail.
    other = agency_opt_out(TEST_TOKEN_SECRET, "dpupr-cianjur", "kadis@dpupr.example")
    assert not FirestoreContactPreferences(db).is_opted_out(other)


def test_a_token_we_did_not_sign_is_the_404_page(app: FlaskClient, db: firestore.Client) -> None:
    report_id, _ = _submitted(app, db)
    forged = unsubscribe_token("another-secret-0123456789", reporter_opt_out(report_id, "email"))
    for method in ("GET", "POST"):
        for token in (forged, "rubbish", forged[:-3]):
            answer = app.open(f"/berhenti/{token}", method=method)
            html = answer.get_data(as_text=True)
            assert answer.status_code == 404 and answer.mimetype == "text/html"
            assert "Tautan tidak dikenal" in html and '<html lang="id">' in html
    english = app.get(f"/berhenti/{forged}?lang=en").get_data(as_text=True)
    assert "Unknown link" in english
    assert _opt_outs(db) == {}


def test_a_report_that_does_not_exist_stops_nothing(app: FlaskClient, db: firestore.Client) -> None:
    token = unsubscribe_token(TEST_TOKEN_SECRET, reporter_opt_out("NoSuchReport0000000", "email"))
    assert app.post(f"/berhenti/{token}").status_code == 404
    assert _opt_outs(db) == {}
