"""Many actions on one report at once (issue 11, item 1): the emulator's transactions
abort each other until the client gives up retrying; that is a 503 with Retry-After
and nothing written, never a 500 and never half an action."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import functions_framework
import pytest
from flask.testing import FlaskClient
from google.cloud import firestore

from shared import wiring
from tests.functional.test_agency_files import auth, keys, report_with_a_photo
from tools.stack import Emulators

__all__ = ["keys"]  # the fixture, used by name
SOURCE = "functions/agency/main.py"
CLIENTS = 16


@pytest.fixture
def apps(clean_emulators: Emulators) -> Iterator[list[FlaskClient]]:
    wiring.reset()
    app = functions_framework.create_app(target="agency", source=SOURCE)
    yield [app.test_client() for _ in range(CLIENTS)]
    wiring.reset()


def test_concurrent_follow_ups_are_each_recorded_or_a_503_with_nothing_written(
    apps: list[FlaskClient], keys: dict[str, str], db: firestore.Client
) -> None:
    report_id = report_with_a_photo()  # submitted and dispositioned: 2 events
    start = threading.Barrier(CLIENTS)
    answers: list[tuple[int, str | None, str]] = []
    lock = threading.Lock()

    def follow_up(client: FlaskClient, n: int) -> None:
        start.wait()
        response = client.post(
            f"/api/v1/reports/{report_id}/follow-up",
            json={"message": f"Tindak lanjut {n}"},
            headers=auth(keys["dpupr"]),
        )
        with lock:
            answers.append(
                (response.status_code, response.headers.get("Retry-After"), response.content_type)
            )

    threads = [threading.Thread(target=follow_up, args=(c, n)) for n, c in enumerate(apps)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert len(answers) == CLIENTS
    statuses = sorted(status for status, _, _ in answers)
    assert set(statuses) <= {200, 503}, statuses
    for status, retry_after, content_type in answers:
        if status == 503:
            assert retry_after == "1" and content_type == "application/problem+json"
    events = db.collection("reports").document(report_id).collection("events").get()
    recorded = statuses.count(200)
    assert recorded >= 1
    assert len(events) == 2 + recorded  # every 200 once, nothing of a 503
    report = db.collection("reports").document(report_id).get().to_dict() or {}
    assert report["last_seq"] == 2 + recorded
