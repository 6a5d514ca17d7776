"""The sweep function through functions-framework, against the real emulators.

The case that matters: submit commits, then its publish fails (Pub/Sub does not
answer: the client points at a port nobody listens on). The report is accepted but
nothing reaches route. The sweeper
finds the pending outbox entry, republishes it, and the report gets routed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import functions_framework
import pytest
from flask.testing import FlaskClient
from google.cloud import firestore

from shared import wiring
from shared.config import settings
from tests.functional.test_route_function import deliver, pull, route_app, submit
from tools.stack import Emulators, free_port

SOURCE = "functions/sweep/main.py"


def reload_settings(**env: str) -> None:
    """Change LAPOR_* settings for the next calls (new clients, new settings)."""
    for name, value in env.items():
        os.environ[f"LAPOR_{name.upper()}"] = value
    settings.cache_clear()
    wiring.reset()


def bus_down(**env: str) -> None:
    """Pub/Sub unreachable from now on (a closed port; publishes give up after 1 s)."""
    os.environ["PUBSUB_EMULATOR_HOST"] = f"127.0.0.1:{free_port()}"
    reload_settings(publish_timeout_s="1", **env)


def bus_up(emulators: Emulators, **env: str) -> None:
    os.environ["PUBSUB_EMULATOR_HOST"] = emulators.pubsub_host
    reload_settings(**env)


@pytest.fixture
def sweeper(clean_emulators: Emulators) -> Iterator[FlaskClient]:
    wiring.reset()
    app = functions_framework.create_app(target="sweep", source=SOURCE)
    client: FlaskClient = app.test_client()
    yield client
    wiring.reset()


def outbox(db: firestore.Client) -> dict[str, dict[str, Any]]:
    return {d.id: d.to_dict() or {} for d in db.collection("outbox").stream()}


def test_a_report_whose_publish_failed_after_the_commit_still_gets_routed(
    sweeper: FlaskClient, db: firestore.Client, clean_emulators: Emulators
) -> None:
    # The commit succeeds; the publish finds no bus and fails.
    bus_down()
    report_id = submit()
    accepted = f"{report_id}.1.reporter"  # the reporter's notification
    assert set(outbox(db)) == {f"{report_id}.1", accepted}
    bus_up(clean_emulators)
    assert pull("route", wait_s=1) == []  # nothing reached route

    # The entry is old enough for the sweeper (age 0 here, 120 s in production).
    reload_settings(outbox_sweep_age_s="0")
    swept = sweeper.post("/")
    assert swept.status_code == 200
    # Both wait for their consumers: route settles report.submitted, notify the notice.
    assert swept.get_json() == {"republished": 2, "failed": 0, "settled": 0}
    assert outbox(db)[accepted]["attempts"] == 1
    entry = outbox(db)[f"{report_id}.1"]
    assert (entry["status"], entry["attempts"]) == ("pending", 1)  # until route settles it
    assert entry["last_swept_at"] is not None

    (message,) = pull("route", expect=1)
    assert message.attributes["ce-id"] == f"{report_id}.1"
    assert deliver(route_app(), message) in (200, 204)

    report = db.collection("reports").document(report_id).get().to_dict() or {}
    assert (report["state"], report["agency_id"]) == ("dispositioned", "dpupr-cianjur")
    # route settled its entry; the notifications wait for notify (none runs here), so
    # the sweeper sends them again, and keeps doing so until notify settles them.
    told = f"{report_id}.2.dpupr-cianjur"
    assert set(outbox(db)) == {accepted, told}
    again = sweeper.post("/")
    assert again.get_json() == {"republished": 2, "failed": 0, "settled": 0}


def test_a_republish_that_fails_again_is_counted_and_kept(
    sweeper: FlaskClient, db: firestore.Client, clean_emulators: Emulators
) -> None:
    bus_down(outbox_sweep_age_s="0")
    report_id = submit()

    response = sweeper.post("/")

    assert response.get_json() == {"republished": 0, "failed": 2, "settled": 0}
    assert outbox(db)[f"{report_id}.1"]["attempts"] == 1
    assert outbox(db)[f"{report_id}.1.reporter"]["attempts"] == 1


def test_young_entries_are_left_to_the_publish_in_flight(
    sweeper: FlaskClient, db: firestore.Client, clean_emulators: Emulators
) -> None:
    bus_down()
    submit()
    bus_up(clean_emulators)  # default sweep age: 120 s

    assert sweeper.post("/").get_json() == {"republished": 0, "failed": 0, "settled": 0}


def test_only_post_is_accepted(sweeper: FlaskClient) -> None:
    response = sweeper.get("/")
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"
