"""The route function through functions-framework, against the real emulators.

Reports are submitted through the submit use case, which publishes
``report.submitted`` to the topology's ``route`` subscription (a pull subscription
here: no function server runs). Each test pulls what Pub/Sub would have pushed and
posts it to the function as the push envelope; the function turns it into a
CloudEvent, as Eventarc does in production. Notifications are counted on a pull
subscription of ``agency-notifications`` the fixture adds for the test.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
import logging
from collections.abc import Iterator
from typing import Any

import functions_framework
import pytest
from flask.testing import FlaskClient
from google.api_core import exceptions
from google.cloud import firestore
from google.cloud.pubsub_v1 import PublisherClient, SubscriberClient

from shared import wiring
from shared.config import settings
from shared.domain.report import Region, State
from shared.topology import AGENCY_NOTIFICATIONS
from shared.usecases.submit import submit_report
from tests.builders import a_draft, an_identity
from tests.fakes import InMemoryPublisher
from tools.stack import Emulators

SOURCE = "functions/route/main.py"
NOTIFICATIONS_SUB = "test-agency-notifications"
CIANJUR = Region("32", "32.03")
ELSEWHERE = Region("32", "32.04")  # no rule for most categories outside Cianjur


# --- helpers (the sweeper's test uses them too) ---------------------------------------


def route_app() -> FlaskClient:
    app = functions_framework.create_app(target="route", source=SOURCE, signature_type="cloudevent")
    client: FlaskClient = app.test_client()
    return client


def submit(
    *,
    category: str = "infrastruktur.jalan",
    region: Region = CIANJUR,
    target: str | None = None,
    title: str = "Jalan berlubang di depan pasar",
    description: str = "Lubang besar, aspal rusak sejak minggu lalu.",
) -> str:
    draft = a_draft(
        title=title,
        description=description,
        category=category,
        region=region,
        target_agency_id=target,
    )
    result = submit_report(
        draft,
        an_identity(),
        client_id="functional-test",
        idempotency_key=None,
        store=wiring.report_store(),
        publisher=wiring.publisher(),
        clock=wiring.clock(),
        settings=settings(),
    )
    return result.report_id


def pull(subscription: str, expect: int | None = None, wait_s: float = 3.0) -> list[Any]:
    """Pull (and ack) what is on ``subscription``: until ``expect`` messages came, or
    until a pull finds nothing after ``wait_s`` seconds."""
    project = settings().project
    subscriber = SubscriberClient()
    path = subscriber.subscription_path(project, subscription)
    found: list[Any] = []
    try:
        while expect is None or len(found) < expect:
            try:
                response = subscriber.pull(
                    request={"subscription": path, "max_messages": 100}, timeout=wait_s
                )
            except exceptions.DeadlineExceeded:
                break
            if not response.received_messages:
                break
            subscriber.acknowledge(
                request={
                    "subscription": path,
                    "ack_ids": [m.ack_id for m in response.received_messages],
                }
            )
            found.extend(m.message for m in response.received_messages)
    finally:
        subscriber.close()
    return found


def envelope(message: Any, subscription: str = "route") -> dict[str, Any]:
    """The JSON body a Pub/Sub push subscription POSTs for ``message``."""
    return {
        "message": {
            "data": base64.b64encode(message.data).decode(),
            "attributes": dict(message.attributes),
            "messageId": message.message_id,
            "publishTime": dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z"),
        },
        "subscription": f"projects/{settings().project}/subscriptions/{subscription}",
    }


def deliver(app: FlaskClient, message: Any) -> int:
    return app.post("/", json=envelope(message)).status_code


def route_pending(app: FlaskClient, expect: int = 1) -> list[Any]:
    """Pull the ``report.submitted`` messages waiting for route and deliver each once."""
    messages = pull("route", expect)
    assert len(messages) == expect
    for message in messages:
        assert deliver(app, message) in (200, 204)
    return messages


# --- fixtures -------------------------------------------------------------------------


@pytest.fixture
def app(clean_emulators: Emulators) -> Iterator[FlaskClient]:
    wiring.reset()
    publisher, subscriber = PublisherClient(), SubscriberClient()
    try:
        subscriber.create_subscription(
            name=subscriber.subscription_path(clean_emulators.project, NOTIFICATIONS_SUB),
            topic=publisher.topic_path(clean_emulators.project, AGENCY_NOTIFICATIONS),
        )
    finally:
        subscriber.close()
        publisher.stop()
    yield route_app()
    wiring.reset()


def report_doc(db: firestore.Client, report_id: str) -> dict[str, Any]:
    return db.collection("reports").document(report_id).get().to_dict() or {}


def events(db: firestore.Client, report_id: str) -> list[dict[str, Any]]:
    docs = db.collection("reports").document(report_id).collection("events").stream()
    return [d.to_dict() or {} for d in docs]


def outbox_ids(db: firestore.Client) -> set[str]:
    return {d.id for d in db.collection("outbox").stream()}


# --- who gets the report --------------------------------------------------------------


def test_a_named_agency_gets_the_report_and_is_notified(
    app: FlaskClient, db: firestore.Client
) -> None:
    report_id = submit(category="kesehatan", target="dinkes-cianjur")

    route_pending(app)

    doc = report_doc(db, report_id)
    assert (doc["state"], doc["agency_id"], doc["routing_method"]) == (
        "dispositioned",
        "dinkes-cianjur",
        "named",
    )
    (note,) = pull(NOTIFICATIONS_SUB, expect=1)
    assert note.attributes["ce-id"] == f"{report_id}.2.dinkes-cianjur"
    assert note.attributes["ce-type"] == "id.lapor.report.dispositioned.v1"
    # The consumed entry settled; the notification is notify's to settle.
    assert outbox_ids(db) == {f"{report_id}.1.reporter", f"{report_id}.2.dinkes-cianjur"}


def test_the_most_specific_rule_routes_a_cianjur_road(
    app: FlaskClient, db: firestore.Client
) -> None:
    report_id = submit(category="infrastruktur.jalan", region=CIANJUR)

    route_pending(app)

    doc = report_doc(db, report_id)
    assert (doc["agency_id"], doc["routing_method"], doc["routing_rule_id"]) == (
        "dpupr-cianjur",
        "rule",
        "cianjur-jalan",
    )
    disposition = [e for e in events(db, report_id) if e["action"] == "disposition"]
    assert disposition[0]["actor_id"] == "system:route"
    assert disposition[0]["data"]["rule_id"] == "cianjur-jalan"


def test_a_confident_classifier_routes_where_no_rule_matches(
    app: FlaskClient, db: firestore.Client
) -> None:
    report_id = submit(
        category="kesehatan",
        region=ELSEWHERE,
        title="Puskesmas tanpa dokter",
        description="Di puskesmas tidak ada dokter, obat habis, bidan juga tidak ada.",
    )

    route_pending(app)

    doc = report_doc(db, report_id)
    assert (doc["agency_id"], doc["routing_method"]) == ("dinkes-cianjur", "classifier")
    disposition = [e for e in events(db, report_id) if e["action"] == "disposition"]
    assert float(disposition[0]["data"]["confidence"]) >= settings().route_auto_threshold


def test_a_report_nobody_can_place_waits_in_the_admin_queue(
    app: FlaskClient, db: firestore.Client
) -> None:
    report_id = submit(
        category="kesehatan",
        region=ELSEWHERE,
        title="Keluhan",
        description="Saya ingin bertanya soal dokter di daerah kami.",
    )

    route_pending(app)

    doc = report_doc(db, report_id)
    assert doc["state"] == "submitted"
    assert doc["admin_queue"]["suggested_agency_id"] == "dinkes-cianjur"
    assert doc["admin_queue"]["confidence"] < settings().route_auto_threshold
    assert [e["action"] for e in events(db, report_id)] == ["submit", "queue_for_admin"]
    assert outbox_ids(db) == {f"{report_id}.1.reporter", f"{report_id}.2.pemprov-jabar"}
    # No regency of that region in the tree: its province's admin must route it.
    (note,) = pull(NOTIFICATIONS_SUB, expect=1)
    told = json.loads(note.data)
    assert (told["kind"], told["agency_id"]) == ("report.returned", "pemprov-jabar")
    assert told["notification_id"] == f"{report_id}.2.pemprov-jabar"


def test_a_dead_lettered_message_puts_the_report_in_the_admin_queue_with_the_reason(
    app: FlaskClient, db: firestore.Client
) -> None:
    report_id = submit()
    [message] = pull("route", 1)
    # What Pub/Sub pushes from the dead-letter topic (attributes measured on the emulator).
    body = envelope(message, subscription="route-dead-letter")
    body["message"]["attributes"].update(
        {
            "CloudPubSubDeadLetterSourceSubscription": "route",
            "CloudPubSubDeadLetterSourceDeliveryCount": "5",
        }
    )

    assert app.post("/", json=body).status_code in (200, 204)

    doc = report_doc(db, report_id)
    assert doc["state"] == "submitted"
    assert "gagal setelah 5 percobaan" in doc["admin_queue"]["reason"]
    assert outbox_ids(db) == {f"{report_id}.1.reporter", f"{report_id}.2.pemkab-cianjur"}
    (note,) = pull(NOTIFICATIONS_SUB, expect=1)  # the regional admin must route it
    assert json.loads(note.data)["agency_id"] == "pemkab-cianjur"


# --- once per message -----------------------------------------------------------------


def test_three_deliveries_give_one_disposition_and_one_notification(
    app: FlaskClient, db: firestore.Client
) -> None:
    report_id = submit()
    (message,) = pull("route", expect=1)

    statuses = [deliver(app, message) for _ in range(3)]

    assert all(status in (200, 204) for status in statuses)
    actions = sorted(e["action"] for e in events(db, report_id))
    assert actions == ["disposition", "submit"]
    # Until notify settles it, a redelivery publishes the one notification again
    # (notify's delivery record makes that a no-op).
    told = f"{report_id}.2.dpupr-cianjur"
    assert {m.attributes["ce-id"] for m in pull(NOTIFICATIONS_SUB)} == {told}
    assert outbox_ids(db) == {f"{report_id}.1.reporter", told}


def test_a_failed_notification_publish_answers_5xx_and_the_redelivery_sends_it(
    app: FlaskClient, db: firestore.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    report_id = submit()
    (message,) = pull("route", expect=1)

    real = wiring.route_ports()
    bus_down = dataclasses.replace(real, publisher=InMemoryPublisher(fail=True))
    monkeypatch.setattr(wiring, "route_ports", lambda: bus_down)
    assert deliver(app, message) >= 500
    assert report_doc(db, report_id)["state"] == "dispositioned"  # committed
    # The notification waits in the outbox.
    assert outbox_ids(db) == {f"{report_id}.1.reporter", f"{report_id}.2.dpupr-cianjur"}

    monkeypatch.setattr(wiring, "route_ports", lambda: real)
    assert deliver(app, message) in (200, 204)

    assert len(pull(NOTIFICATIONS_SUB)) == 1
    # The notifications are notify's to settle.
    assert outbox_ids(db) == {f"{report_id}.1.reporter", f"{report_id}.2.dpupr-cianjur"}
    assert len(events(db, report_id)) == 2


def test_firestore_unavailable_answers_5xx_so_pub_sub_retries(
    app: FlaskClient, db: firestore.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    report_id = submit()
    (message,) = pull("route", expect=1)
    store = wiring.report_store()

    def unavailable(report_id: str, decide: Any) -> None:
        raise exceptions.ServiceUnavailable("firestore is down")

    monkeypatch.setattr(store, "transition", unavailable)
    assert deliver(app, message) >= 500
    monkeypatch.undo()

    assert deliver(app, message) in (200, 204)
    assert report_doc(db, report_id)["state"] == State.DISPOSITIONED.value


# --- malformed messages are acknowledged ----------------------------------------------


@pytest.mark.parametrize(
    ("data", "attributes", "why"),
    [
        (b"not json at all", {"ce-id": "x.1"}, "not base64 JSON"),
        (b'{"category": "x"}', {"ce-id": "x.1"}, "report_id"),
        (b'{"report_id": "x"}', {}, "ce-id"),
        (b'{"report_id": "doesnotexist"}', {"ce-id": "doesnotexist.1"}, "no such report"),
    ],
)
def test_a_malformed_message_is_logged_and_acknowledged(
    app: FlaskClient,
    caplog: pytest.LogCaptureFixture,
    data: bytes,
    attributes: dict[str, str],
    why: str,
) -> None:
    body = {
        "message": {
            "data": base64.b64encode(data).decode(),
            "attributes": attributes,
            "messageId": "42",
        },
        "subscription": f"projects/{settings().project}/subscriptions/route",
    }
    with caplog.at_level(logging.ERROR):
        response = app.post("/", json=body)

    assert response.status_code in (200, 204)
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert errors and why in str(getattr(errors[-1], "why", ""))
