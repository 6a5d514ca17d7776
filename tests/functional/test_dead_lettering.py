"""Retries and dead-lettering for real: the Pub/Sub emulator pushes a notification to
the notify function, served by functions-framework, for an agency whose webhook always
answers 503; after the subscription's maximum attempts the message goes to the
dead-letter topic, comes back through ``notify-dead-letter``, and the delivery shows
as failed. The topology is the real one with shorter backoffs, so this takes seconds.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import functions_framework
import pytest
from google.cloud import firestore

from shared import topology, wiring
from shared.config import settings
from shared.domain.report import Action, Actor, Command, Role
from shared.usecases.act import act
from shared.usecases.submit import submit_report
from tests.builders import a_draft, an_identity
from tools.api_keys import issue_key
from tools.stack import (
    LOCALHOST,
    REPO_ROOT,
    Emulators,
    ManagedProcess,
    ensure_pubsub,
    free_port,
    wait_until_answering,
)
from tools.webhook_receiver import Received, WebhookReceiver, firestore_secrets

AGENCY = "dpupr-cianjur"


@pytest.fixture
def failing_agency(seeded_emulators: Emulators, db: firestore.Client) -> Iterator[WebhookReceiver]:
    secret = str(firestore_secrets(db.project)(AGENCY))

    def unavailable(received: Received) -> tuple[int, float]:
        return 503, 0.0

    with WebhookReceiver({AGENCY: secret}, respond=unavailable) as receiver:
        db.collection("agencies").document(AGENCY).set(
            {"notification": {"webhook_url": receiver.hook_url(AGENCY)}}, merge=True
        )
        yield receiver


@pytest.fixture
def notify_server(seeded_emulators: Emulators, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "XDG_RUNTIME_DIR": str(tmp_path),
        "LAPOR_WEBHOOK_TIMEOUT_S": "2",
    }
    server = ManagedProcess(
        "notify",
        [
            sys.executable,
            "-m",
            "functions_framework",
            "--target=notify",
            f"--source={REPO_ROOT / 'functions' / 'notify' / 'main.py'}",
            f"--host={LOCALHOST}",
            f"--port={port}",
        ],
        tmp_path / "notify.log",
        env=env,
        cwd=REPO_ROOT,
    )
    url = f"http://{LOCALHOST}:{port}"
    try:
        wait_until_answering(url + "/", server, any_status=True)
        yield url
    finally:
        server.stop()


def fast_retries(**changes: Any) -> SimpleNamespace:
    """The real topology, with backoffs short enough for a test."""
    subscriptions = tuple(dataclasses.replace(s, **changes) for s in topology.SUBSCRIPTIONS)
    return SimpleNamespace(TOPICS=topology.TOPICS, SUBSCRIPTIONS=subscriptions)


def dispositioned_notification() -> Any:
    """A report routed to AGENCY, and the notification its disposition committed."""
    wiring.reset()
    store, config = wiring.report_store(), settings()
    accepted = submit_report(
        a_draft(),
        an_identity(),
        client_id="dead-letter-test",
        idempotency_key=None,
        store=store,
        publisher=wiring.publisher(),
        clock=wiring.clock(),
        settings=config,
    )
    change = act(
        accepted.report_id,
        Command(Action.DISPOSITION, Actor(Role.SYSTEM, "system:route"), agency_id=AGENCY),
        store=store,
        clock=wiring.clock(),
        settings=config,
    )
    [message] = change.outbox
    return message


def test_an_agency_that_keeps_failing_gets_five_signed_attempts_then_shows_failed(
    seeded_emulators: Emulators,
    db: firestore.Client,
    failing_agency: WebhookReceiver,
    notify_server: str,
    signed_in_client: Callable[..., Any],
) -> None:
    ensure_pubsub(
        seeded_emulators.pubsub_host,
        seeded_emulators.project,
        # Five attempts, not production's 25 (an hour's outage is test_faults_delivery's).
        fast_retries(min_backoff_s=1, max_backoff_s=2, max_delivery_attempts=5),
        endpoints={"notify": notify_server},
    )
    message = dispositioned_notification()
    wiring.publisher().publish(message)

    log = (
        db.collection("reports")
        .document(message.data["report_id"])
        .collection("deliveries")
        .document(message.id)
    )
    deadline = time.monotonic() + 90
    entry: dict[str, Any] = {}
    while time.monotonic() < deadline:
        entry = (log.get().to_dict() or {}) if log.get().exists else {}
        if entry.get("status") == "failed":
            break
        time.sleep(0.5)

    attempts = failing_agency.snapshot()
    assert entry.get("status") == "failed", entry
    assert "dead-lettered after 5" in entry["last_error"]
    assert len(attempts) == 5  # the subscription's max_delivery_attempts
    assert all(hook.verified for hook in attempts)  # each attempt signed afresh
    assert {hook.webhook_id for hook in attempts} == {message.id}  # one id to dedupe on

    # Shown to the admins who answer for it, with the reason: the agency API's list of
    # failed deliveries and the report's page in the console.
    key = issue_key(db, AGENCY, "agency_admin", "dead-letter-test")
    agency = functions_framework.create_app(target="agency", source="functions/agency/main.py")
    listed = agency.test_client().get(
        "/api/v1/deliveries?status=failed", headers={"Authorization": f"Bearer {key}"}
    )
    [shown] = listed.get_json()["items"]
    assert (shown["notification_id"], shown["status"]) == (message.id, "failed")
    assert shown["last_error"].startswith("dead-lettered after 5 attempts; last error: HTTP 503")
    admin = signed_in_client(Role.AGENCY_ADMIN, AGENCY)
    page = admin.get(f"/laporan/{message.data['report_id']}").get_data(as_text=True)
    assert "webhook: failed — HTTP 503" in page
