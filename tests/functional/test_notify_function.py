"""The notify function through functions-framework, against the real emulators and a
real local HTTP receiver (127.0.0.1, free port) that verifies every signature.

A report is submitted through the submit function and dispositioned through the
domain (as the route function does); the notify function is then pushed the
``agency-notifications`` message in the Pub/Sub push envelope, as the emulator pushes.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import threading
import time
from collections.abc import Iterator
from typing import Any

import functions_framework
import pytest
from flask.testing import FlaskClient
from google.cloud import firestore

from shared import wiring
from shared.config import settings
from shared.domain.report import Action, Actor, Command, Role
from shared.usecases.act import act
from shared.web.schemas import REPORT_EXAMPLE
from tools.stack import Emulators
from tools.webhook_receiver import Received, WebhookReceiver, firestore_secrets

SOURCE = "functions/notify/main.py"
AGENCY = "dpupr-cianjur"
_ids = itertools.count(1)


@pytest.fixture
def secret(db: firestore.Client) -> str:
    secret = firestore_secrets(db.project)(AGENCY)  # sealed at rest, opened as notify does
    assert secret is not None and secret.startswith("whsec_")
    return secret


@pytest.fixture
def receiver(secret: str, db: firestore.Client) -> Iterator[WebhookReceiver]:
    with WebhookReceiver({AGENCY: secret}) as running:
        db.collection("agencies").document(AGENCY).set(
            {"notification": {"webhook_url": running.hook_url(AGENCY)}}, merge=True
        )
        yield running


def notify_app() -> FlaskClient:
    wiring.reset()
    client: FlaskClient = functions_framework.create_app(
        target="notify", source=SOURCE
    ).test_client()
    return client


@pytest.fixture
def app(seeded_emulators: Emulators) -> Iterator[FlaskClient]:
    yield notify_app()
    wiring.reset()


def dispositioned(anonymous: bool = False) -> dict[str, Any]:
    """Submit a report through the submit function and disposition it to AGENCY;
    return the agency-notifications message the route function would publish."""
    wiring.reset()
    submit = functions_framework.create_app(
        target="submit", source="functions/submit/main.py"
    ).test_client()
    body = dict(REPORT_EXAMPLE, anonymous=anonymous)
    created = submit.post("/api/v1/reports", json=body, headers={"X-Forwarded-For": "10.0.0.1"})
    assert created.status_code == 201, created.get_data(as_text=True)
    code = created.get_json()["tracking_code"]
    store = wiring.report_store()
    report = store.find_by_tracking_code(code)
    assert report is not None
    change = act(
        report.id,
        Command(Action.DISPOSITION, Actor(Role.SYSTEM, "system:route"), agency_id=AGENCY),
        store=store,
        clock=wiring.clock(),
        settings=settings(),
    )
    return {
        "notification_id": f"{report.id}.{change.event.seq}",
        "kind": "report.dispositioned",
        "report_id": report.id,
        "agency_id": AGENCY,
        "tracking_code": code,
    }


def push(
    app: FlaskClient, data: Any, attributes: dict[str, str] | None = None, raw: bytes | None = None
) -> Any:
    encoded = raw if raw is not None else json.dumps(data).encode()
    envelope = {
        "subscription": "projects/lapor-test/subscriptions/notify",
        "message": {
            "data": base64.b64encode(encoded).decode(),
            "attributes": attributes or {},
            "messageId": str(next(_ids)),
            "publishTime": "2026-12-07T03:00:00Z",
        },
    }
    return app.post("/", json=envelope)


def delivery(db: firestore.Client, message: dict[str, Any]) -> dict[str, Any]:
    ref = (
        db.collection("reports")
        .document(message["report_id"])
        .collection("deliveries")
        .document(message["notification_id"])
    )
    snap = ref.get()
    assert snap.exists, "no delivery log entry"
    return snap.to_dict() or {}


def test_three_redeliveries_give_the_agency_one_correctly_signed_webhook(
    app: FlaskClient, receiver: WebhookReceiver, db: firestore.Client
) -> None:
    message = dispositioned()
    for _ in range(3):
        assert push(app, message).status_code == 200
    got = receiver.snapshot()
    assert len(got) == 1
    hook: Received = got[0]
    assert hook.verified, hook.error
    assert hook.webhook_id == message["notification_id"]
    assert hook.headers["user-agent"] == "Lapor-Webhooks/1"
    assert hook.payload["type"] == "report.dispositioned"
    assert hook.payload["agency_id"] == AGENCY
    assert hook.payload["report"]["tracking_code"] == message["tracking_code"]
    assert hook.payload["report"]["state"] == "dispositioned"
    assert hook.payload["report"]["reporter"]["name"] == "Siti Rahayu"

    log = delivery(db, message)
    assert log["status"] == "delivered" and log["recipient"] == "agency"
    assert list(log["channels"]) == ["webhook"]  # one part per channel used
    part = log["channels"]["webhook"]
    assert part["attempts"] == 1 and part["status"] == "delivered"
    assert part["last_status_code"] == 204 and part["last_error"] is None
    assert part["address"] is None  # the URL is configuration, not part of the record
    assert part["first_attempt_at"] == part["last_attempt_at"] == part["delivered_at"]


def test_two_copies_pushed_at_once_send_one_webhook(
    seeded_emulators: Emulators, receiver: WebhookReceiver, db: firestore.Client
) -> None:
    """Pub/Sub may push one message twice at the same time: while the first copy waits
    on a slow receiver, the second finds the send claimed, sends nothing and answers
    500 (Pub/Sub retries it); its retry finds the notification settled."""
    message = dispositioned()
    receiver.respond = lambda received: (204, 1.5)
    first, second = notify_app(), notify_app()
    answers: list[int] = []
    lock = threading.Lock()

    def deliver(app: FlaskClient, after_s: float) -> None:
        time.sleep(after_s)
        status = push(app, message).status_code
        with lock:
            answers.append(status)

    copies = [
        threading.Thread(target=deliver, args=(first, 0.0)),
        threading.Thread(target=deliver, args=(second, 0.5)),  # mid-send of the first
    ]
    for copy in copies:
        copy.start()
    for copy in copies:
        copy.join(timeout=30)
    assert sorted(answers) == [200, 500]
    assert push(first, message).status_code == 200  # the retry: settled, acknowledged
    assert [hook.webhook_id for hook in receiver.snapshot()] == [message["notification_id"]]
    log = delivery(db, message)
    assert log["status"] == "delivered" and log["channels"]["webhook"]["attempts"] == 1
    assert "sending_until" not in log  # the delivery's write released the claim
    wiring.reset()


def test_an_anonymous_reporters_identity_never_leaves_in_the_webhook(
    app: FlaskClient, receiver: WebhookReceiver
) -> None:
    message = dispositioned(anonymous=True)
    assert push(app, message).status_code == 200
    (hook,) = receiver.snapshot()
    assert hook.verified
    assert hook.payload["report"]["anonymous"] is True
    assert "reporter" not in hook.payload["report"]
    text = hook.body.decode()
    assert "Siti" not in text and "siti@contoh.id" not in text and "3456" not in text


def test_a_5xx_answers_500_so_pubsub_retries_and_the_log_says_retrying(
    app: FlaskClient, receiver: WebhookReceiver, db: firestore.Client
) -> None:
    receiver.respond = lambda received: (503, 0.0)
    message = dispositioned()
    assert push(app, message).status_code == 500
    assert push(app, message).status_code == 500
    log = delivery(db, message)
    hook = log["channels"]["webhook"]
    assert log["status"] == "retrying" and hook["attempts"] == 2
    assert hook["last_status_code"] == 503 and hook["last_error"].startswith("HTTP 503")
    assert hook["first_attempt_at"] < hook["last_attempt_at"]
    receiver.respond = lambda received: (200, 0.0)  # the agency recovers
    assert push(app, message).status_code == 200
    log = delivery(db, message)
    assert log["status"] == "delivered" and log["channels"]["webhook"]["attempts"] == 3
    assert all(hook.verified for hook in receiver.snapshot())  # each attempt signed afresh


@pytest.mark.parametrize("status", [408, 429])
def test_408_and_429_are_retried(
    app: FlaskClient, receiver: WebhookReceiver, db: firestore.Client, status: int
) -> None:
    receiver.respond = lambda received: (status, 0.0)
    message = dispositioned()
    assert push(app, message).status_code == 500
    assert delivery(db, message)["status"] == "retrying"


def test_a_404_is_acknowledged_and_recorded_failed(
    app: FlaskClient, receiver: WebhookReceiver, db: firestore.Client
) -> None:
    receiver.respond = lambda received: (404, 0.0)
    message = dispositioned()
    assert push(app, message).status_code == 200
    assert push(app, message).status_code == 200
    assert len(receiver.snapshot()) == 1  # a permanent failure is not retried
    log = delivery(db, message)
    hook = log["channels"]["webhook"]
    assert log["status"] == "failed" and hook["attempts"] == 1 and hook["last_status_code"] == 404


def test_a_timeout_is_retryable(
    seeded_emulators: Emulators, receiver: WebhookReceiver, db: firestore.Client
) -> None:
    os.environ["LAPOR_WEBHOOK_TIMEOUT_S"] = "0.3"
    app = notify_app()
    receiver.respond = lambda received: (204, 1.5)
    message = dispositioned()
    assert push(app, message).status_code == 500
    log = delivery(db, message)
    hook = log["channels"]["webhook"]
    assert log["status"] == "retrying" and hook["last_status_code"] is None
    assert "timeout" in hook["last_error"]
    wiring.reset()


def test_a_connection_refused_is_retryable(
    app: FlaskClient, db: firestore.Client, secret: str
) -> None:
    with WebhookReceiver({AGENCY: secret}) as gone:
        url = gone.hook_url(AGENCY)  # a port nobody listens on once it stops
    db.collection("agencies").document(AGENCY).set(
        {"notification": {"webhook_url": url}}, merge=True
    )
    message = dispositioned()
    assert push(app, message).status_code == 500
    log = delivery(db, message)
    assert log["status"] == "retrying" and "Connect" in log["channels"]["webhook"]["last_error"]


def test_the_dead_lettered_message_marks_the_delivery_failed(
    app: FlaskClient, receiver: WebhookReceiver, db: firestore.Client
) -> None:
    receiver.respond = lambda received: (500, 0.0)
    message = dispositioned()
    assert push(app, message).status_code == 500
    dead = {
        "CloudPubSubDeadLetterSourceSubscription": "notify",
        "CloudPubSubDeadLetterSourceSubscriptionProject": "lapor-test",
        "CloudPubSubDeadLetterSourceDeliveryCount": "5",
    }
    assert push(app, message, dead).status_code == 200
    assert len(receiver.snapshot()) == 1  # the dead-letter path never POSTs
    log = delivery(db, message)
    assert log["status"] == "failed"
    assert log["last_error"].startswith("dead-lettered after 5 attempts; last error: HTTP 500")
    assert push(app, message).status_code == 200  # a late redelivery: settled, acked
    assert len(receiver.snapshot()) == 1


def test_an_agency_with_neither_webhook_nor_address_is_recorded_no_channel(
    app: FlaskClient, db: firestore.Client
) -> None:
    # (An agency with an address is told by e-mail: tests/functional/test_who_is_told_what.py.)
    message = dispositioned()
    db.collection("agencies").document(AGENCY).set(
        {"notification": {"webhook_url": None, "emails": []}}, merge=True
    )
    assert push(app, message).status_code == 200
    log = delivery(db, message)
    assert log["status"] == "no_channel" and log["channels"] == {}
    assert log["last_error"] == "no webhook and no e-mail address"


@pytest.mark.parametrize(
    "raw",
    [b"not json", b'{"kind": "report.dispositioned"}', b"[]"],
)
def test_a_malformed_message_is_logged_and_acknowledged(
    app: FlaskClient, seeded_emulators: Emulators, raw: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    assert push(app, None, raw=raw).status_code == 200
    assert any(
        r.levelname == "ERROR" and "malformed notification" in r.getMessage()
        for r in caplog.records
    )
