""" "Lost your link?" and the short private link, through the submit function on the real
emulators: the same answer for a match, a mismatch and an unknown code, one
``link.resend`` on the bus only for a match, the client's limit, and /l/ redirects."""

from __future__ import annotations

import contextlib
import copy
import json
import os
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient
from google.api_core import exceptions
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter
from google.cloud.pubsub_v1 import PublisherClient, SubscriberClient

from shared import wiring
from shared.ports import SealedDataUnreadable
from shared.tokens import reporter_token, short_reporter_token
from shared.topology import REPORTER_NOTIFICATIONS
from shared.usecases.sms import short_link_path
from shared.web.schemas import REPORT_EXAMPLE
from tests.conftest import TEST_TOKEN_SECRET
from tools.stack import Emulators

SUBSCRIPTION = "lost-link-test"
MIN_RESPONSE_S = 0.3
CLIENT_LIMIT = 5


@pytest.fixture
def lost_app(app: FlaskClient, clean_emulators: Emulators) -> Iterator[FlaskClient]:
    """The submit function with a small client limit and answer time, and a pull
    subscription on reporter-notifications (created here if the topology has none)."""
    os.environ["LAPOR_LOST_LINK_CLIENT_LIMIT"] = str(CLIENT_LIMIT)
    os.environ["LAPOR_LOST_LINK_MIN_RESPONSE_S"] = str(MIN_RESPONSE_S)
    wiring.reset()
    project = clean_emulators.project
    publisher, subscriber = PublisherClient(), SubscriberClient()
    topic = publisher.topic_path(project, REPORTER_NOTIFICATIONS)
    with contextlib.suppress(exceptions.AlreadyExists):
        publisher.create_topic(name=topic)
    subscriber.create_subscription(
        name=subscriber.subscription_path(project, SUBSCRIPTION), topic=topic
    )
    subscriber.close()
    yield app


def pulled(project: str, wait_s: float = 2.0) -> list[dict[str, Any]]:
    subscriber = SubscriberClient()
    path = subscriber.subscription_path(project, SUBSCRIPTION)
    found: list[dict[str, Any]] = []
    try:
        while True:
            try:
                response = subscriber.pull(
                    request={"subscription": path, "max_messages": 100}, timeout=wait_s
                )
            except exceptions.DeadlineExceeded:
                break
            if not response.received_messages:
                break
            ack_ids = [m.ack_id for m in response.received_messages]
            subscriber.acknowledge(request={"subscription": path, "ack_ids": ack_ids})
            found.extend(json.loads(m.message.data) for m in response.received_messages)
    finally:
        subscriber.close()
    return found


def submitted(app: FlaskClient, **changes: Any) -> str:
    data = copy.deepcopy(REPORT_EXAMPLE) | changes
    response = app.post("/api/v1/reports", json=data)
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["tracking_code"])


def ask(app: FlaskClient, code: str, contact: str, **extra: str) -> Any:
    return app.post("/lupa-tautan", data={"tracking_code": code, "contact": contact, **extra})


def report_id(db: firestore.Client, code: str) -> str:
    [doc] = db.collection("reports").where(filter=FieldFilter("tracking_code", "==", code)).get()
    return str(doc.id)


def test_the_lookup_page_offers_lost_link_in_indonesian_first(lost_app: FlaskClient) -> None:
    page = lost_app.get("/lacak").get_data(as_text=True)
    assert "Lupa tautan pribadi?" in page and 'action="/lupa-tautan"' in page
    for field in ('name="tracking_code"', 'name="contact"', 'for="f-lost-contact"'):
        assert field in page
    assert page.count('name="code"') == 1, "only the lookup form's: each field name is one"
    assert page.count('name="website"') == 1
    english = lost_app.get("/lacak?lang=en").get_data(as_text=True)
    assert "Lost your private link?" in english and 'action="/lupa-tautan?lang=en"' in english


def test_match_mismatch_and_unknown_code_get_the_same_answer_and_only_a_match_sends(
    lost_app: FlaskClient, db: firestore.Client, clean_emulators: Emulators
) -> None:
    code = submitted(lost_app)  # siti@contoh.id, 0812-3456-7890
    pulled(clean_emulators.project, wait_s=0.5)  # nothing of the submission is ours
    answers = []
    for asked_code, contact in [
        (code, "someone.else@contoh.id"),  # mismatch
        ("K7M-2XQ-9RJ", "siti@contoh.id"),  # a well-formed code of no report
        (code, "+62 812 9999 0000"),  # mismatch by phone
        (code.lower().replace("-", ""), "SITI@contoh.ID"),  # the match, as typed
    ]:
        started = time.monotonic()
        response = ask(lost_app, asked_code, contact)
        answers.append(
            (response.status_code, response.headers["Location"], response.get_data(as_text=True))
        )
        assert time.monotonic() - started >= MIN_RESPONSE_S
    assert len(set(answers)) == 1, answers
    assert answers[0][:2] == (303, "/lupa-tautan?terkirim=1")
    page = lost_app.get("/lupa-tautan?terkirim=1")
    assert page.status_code == 200
    assert "Jika kode pelacakan dan kontak cocok" in page.get_data(as_text=True)

    [message] = pulled(clean_emulators.project)
    assert message["kind"] == "link.resend" and message["channel"] == "email"
    assert message["tracking_code"] == code and message["report_id"] == report_id(db, code)
    assert "siti" not in json.dumps(message).lower()
    outbox = db.collection("outbox").where(
        filter=FieldFilter("topic", "==", REPORTER_NOTIFICATIONS)
    )
    # Pending until notify settles it (beside the submission's own notice).
    pending = {d.id for d in outbox.get()}
    assert pending == {message["notification_id"], f"{message['report_id']}.1.reporter"}


def test_a_matching_phone_sends_by_sms(lost_app: FlaskClient, clean_emulators: Emulators) -> None:
    code = submitted(lost_app)
    pulled(clean_emulators.project, wait_s=0.5)
    assert ask(lost_app, code, "0812 3456 7890").status_code == 303
    assert [m["channel"] for m in pulled(clean_emulators.project)] == ["sms"]


def test_without_the_private_keyset_as_deployed_the_match_and_the_masked_view_still_work(
    lost_app: FlaskClient, db: firestore.Client, clean_emulators: Emulators
) -> None:
    # Deployed, submit holds the public keyset and the contact-digest key, nothing that
    # opens an identity (infra/main.tf): everything it shows or matches must do without.
    del os.environ["LAPOR_IDENTITY_PRIVATE_KEYSET_FILE"]
    wiring.reset()
    response = lost_app.post("/api/v1/reports", json=copy.deepcopy(REPORT_EXAMPLE))
    assert response.status_code == 201
    code, token = response.get_json()["tracking_code"], response.get_json()["reporter_token"]
    pulled(clean_emulators.project, wait_s=0.5)

    shown = lost_app.get(f"/api/v1/reports/{code}", headers={"X-Reporter-Token": token})
    assert shown.status_code == 200
    assert shown.get_json()["reporter"] == {
        "name": "S. R.",
        "email": "s***@c***.id",
        "phone": "0812****890",
    }
    assert ask(lost_app, code, "Siti@Contoh.id").status_code == 303
    assert [m["channel"] for m in pulled(clean_emulators.project)] == ["email"]
    with pytest.raises(SealedDataUnreadable):
        wiring.report_store().identity(report_id(db, code))


def test_past_the_client_limit_the_answer_is_429_whatever_the_code(
    lost_app: FlaskClient, db: firestore.Client
) -> None:
    for _ in range(CLIENT_LIMIT):
        assert ask(lost_app, "K7M-2XQ-9RJ", "siti@contoh.id").status_code == 303
    refused = ask(lost_app, "K7M-2XQ-9RJ", "siti@contoh.id")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert "Terlalu banyak permintaan" in refused.get_data(as_text=True)
    assert len(list(db.collection("rate_limits").stream())) == CLIENT_LIMIT


def test_a_malformed_form_is_422_on_the_lookup_page_and_writes_nothing(
    lost_app: FlaskClient, db: firestore.Client
) -> None:
    response = ask(lost_app, "K7M-2XQ-9RX", "bukan kontak")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'href="#f-lost-code"' in page and 'href="#f-lost-contact"' in page
    assert 'value="bukan kontak"' in page and 'aria-invalid="true"' in page
    assert ask(lost_app, "", "").status_code == 422
    assert ask(lost_app, "K7M-2XQ-9RJ", "a@b.id", website="http://spam").status_code == 400
    assert list(db.collection("rate_limits").stream()) == []


def test_the_short_link_opens_the_private_page_and_a_wrong_one_the_public_page(
    lost_app: FlaskClient, db: firestore.Client
) -> None:
    code = submitted(lost_app)
    rid = report_id(db, code)
    opened = lost_app.get(short_link_path(code, short_reporter_token(TEST_TOKEN_SECRET, rid)))
    assert opened.status_code == 303
    assert opened.headers["Cache-Control"] == "no-store"
    assert opened.headers["Referrer-Policy"] == "no-referrer"
    target = urlsplit(opened.headers["Location"])
    assert target.path == f"/lacak/{code}"
    assert parse_qs(target.query)["token"] == [reporter_token(TEST_TOKEN_SECRET, rid)]
    private = lost_app.get(opened.headers["Location"]).get_data(as_text=True)
    assert "s***@c***.id" in private  # the reporter's own view, masked
    assert "siti@contoh.id" not in private

    wrong = lost_app.get(short_link_path(code, "0123456789"))
    assert (wrong.status_code, wrong.headers["Location"]) == (303, f"/lacak/{code}")
    unknown = lost_app.get(short_link_path("K7M-2XQ-9RJ", "0123456789"))
    assert (unknown.status_code, unknown.headers["Location"]) == (303, "/lacak/K7M-2XQ-9RJ")
    assert lost_app.get("/l/not-a-code").status_code == 404
    assert lost_app.get("/l/K7M2XQ9RJ").status_code == 404
    english = lost_app.get(short_link_path(code, "0123456789") + "?lang=en")
    assert english.headers["Location"] == f"/lacak/{code}?lang=en"
