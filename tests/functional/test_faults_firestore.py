"""Firestore stopped mid-run and resumed, under the served functions.

While it is down, the submit form, the reporter JSON API, the agency API and the
console answer 503 with Retry-After within seconds (the form and the console an
Indonesian page, the APIs problem+json) and a push handler answers non-2xx so Pub/Sub
delivers the message again; nothing is half-written. Once Firestore is back, the same
requests succeed. The emulator stopped is the test's own (see
tests/integration/test_store_unavailable.py), frozen where it stands (SIGSTOP) and
resumed: a killed one restarted on its port is the integration test's, here another
test's server could take the port while it is free.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import functions_framework
import pytest
from google.cloud import firestore
from werkzeug.test import TestResponse

from shared import wiring
from shared.adapters.firestore import FirestoreReportStore
from shared.config import settings
from shared.domain.report import Action, Actor, Command, Role, State
from shared.ports import FixedClock, StoreBusy
from shared.topology import AGENCY_NOTIFICATIONS
from shared.usecases.act import act
from shared.web.openapi import form_example, report_example
from tests.functional.console_support import ConsoleClient, new_member, sign_in
from tests.functional.test_route_function import envelope, pull
from tests.integration.test_store_unavailable import GIVES_UP_WITHIN_S, TIMEOUT_S, OwnFirestore
from tools.api_keys import issue_key
from tools.seed import seed_emulator
from tools.stack import Emulators


@pytest.fixture
def own_firestore(
    clean_emulators: Emulators, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[OwnFirestore]:
    """A seeded Firestore emulator this test may stop; the session's Pub/Sub (its
    topology fresh) and Cloud Storage stay."""
    own = OwnFirestore(tmp_path, clean_emulators.project).start()
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", own.host)
    monkeypatch.setenv("LAPOR_FIRESTORE_TIMEOUT_S", str(TIMEOUT_S))
    monkeypatch.setenv("LAPOR_CONSOLE_INSECURE_COOKIES", "true")
    seed_emulator(own.host, own.project)
    wiring.reset()
    try:
        yield own
    finally:
        wiring.reset()
        own.stop()


def served(target: str, signature_type: str = "http") -> Any:
    return functions_framework.create_app(
        target=target, source=f"functions/{target}/main.py", signature_type=signature_type
    ).test_client()


def timeline(db: firestore.Client, report_id: str) -> list[dict[str, Any]]:
    events = db.collection("reports").document(report_id).collection("events")
    return [doc.to_dict() or {} for doc in events.order_by("seq").stream()]


def subscribe(project: str, subscription: str, topic: str) -> None:
    """A pull subscription on ``topic``, to see what a run published there."""
    from google.cloud.pubsub_v1 import PublisherClient, SubscriberClient

    publisher, subscriber = PublisherClient(), SubscriberClient()
    try:
        subscriber.create_subscription(
            name=subscriber.subscription_path(project, subscription),
            topic=publisher.topic_path(project, topic),
        )
    finally:
        subscriber.close()
        publisher.stop()


def timed(request: Callable[[], TestResponse]) -> tuple[TestResponse, float]:
    started = time.monotonic()
    response = request()
    return response, time.monotonic() - started


def whole(db: firestore.Client) -> dict[str, set[str]]:
    """The ids in each collection a submission writes in its one commit."""
    return {
        name: {doc.id for doc in db.collection(name).stream()}
        for name in ("reports", "identities", "tracking_codes", "outbox")
    }


def assert_nothing_half_written(db: firestore.Client) -> None:
    """Every report has its first event and its tracking code; every identity and
    tracking code belongs to a report."""
    found = whole(db)
    for report_id in found["reports"]:
        events = db.collection("reports").document(report_id).collection("events")
        assert list(events.limit(1).stream()), report_id
    assert found["identities"] <= found["reports"]
    codes = {
        (doc.to_dict() or {}).get("report_id") for doc in db.collection("tracking_codes").stream()
    }
    assert codes == found["reports"]


def test_firestore_down_answers_503_with_retry_after_and_back_up_the_same_requests_succeed(
    own_firestore: OwnFirestore,
) -> None:
    db = firestore.Client(project=own_firestore.project)
    submit, agency, console, route = (
        served("submit"),
        served("agency"),
        served("console"),
        served("route", "cloudevent"),
    )
    key = {"Authorization": f"Bearer {issue_key(db, 'dpupr-cianjur', 'agency_admin', 't')}"}
    officer = ConsoleClient(console)
    sign_in(officer, new_member(Role.UNIT_OFFICER, "uptd-jalan-cianjur"))
    assert submit.post("/api/v1/reports", json=report_example()).status_code == 201
    (message,) = pull("route", expect=1)
    before = whole(db)

    own_firestore.freeze()

    form, took = timed(lambda: submit.post("/", data=form_example()))
    assert form.status_code == 503 and took < GIVES_UP_WITHIN_S, (form.status_code, took)
    assert form.headers["Retry-After"] == "5"
    assert form.mimetype == "text/html" and '<html lang="id">' in form.text
    assert "Sedang sibuk" in form.text and "tidak ada yang disimpan" in form.text

    api, took = timed(lambda: submit.post("/api/v1/reports", json=report_example()))
    inbox, took_inbox = timed(lambda: agency.get("/api/v1/inbox", headers=key))
    for answer, seconds in ((api, took), (inbox, took_inbox)):
        assert answer.status_code == 503 and seconds < GIVES_UP_WITHIN_S, (answer.text, seconds)
        assert answer.mimetype == "application/problem+json"
        assert answer.headers["Retry-After"] == "5"
        assert answer.json is not None and answer.json["status"] == 503

    page, took = timed(lambda: officer.get("/kotak-masuk"))
    assert page.status_code == 503 and took < GIVES_UP_WITHIN_S, (page.status_code, took)
    assert page.headers["Retry-After"] == "5" and "Sedang sibuk" in page.text

    pushed, took = timed(lambda: route.post("/", json=envelope(message)))
    assert pushed.status_code >= 500 and took < GIVES_UP_WITHIN_S  # Pub/Sub delivers again

    own_firestore.thaw()
    # A 503 from a commit that timed out may still have landed, so the client retries
    # with one Idempotency-Key.
    deadline = time.monotonic() + 30
    retry = {"Idempotency-Key": "nach-dem-neustart-1"}
    while submit.post("/api/v1/reports", json=report_example(), headers=retry).status_code != 201:
        assert time.monotonic() < deadline, "Firestore back, but the API still refuses"
        time.sleep(0.5)

    assert whole(db)["reports"] - before["reports"] != set()
    assert submit.post("/", data=form_example()).status_code in (200, 303)
    assert agency.get("/api/v1/inbox", headers=key).status_code == 200
    assert officer.get("/kotak-masuk").status_code == 200
    assert route.post("/", json=envelope(message)).status_code in (200, 204)
    report_id = json.loads(message.data)["report_id"]
    routed = db.collection("reports").document(report_id).get().to_dict() or {}
    assert routed["state"] == State.DISPOSITIONED.value
    # The one before, the retried one and the form's (and any a timed-out request had
    # committed all the same), each whole.
    assert len(whole(db)["reports"]) >= len(before["reports"]) + 2
    assert_nothing_half_written(db)
    db.close()


# --- job runs at once, and a job racing the functions: no lost update, nothing twice ----


def at_once(*runs: Callable[[], Any]) -> list[Any]:
    """Start ``runs`` on threads together; their results (or what each raised)."""
    results: list[Any] = [None] * len(runs)
    start = threading.Barrier(len(runs))

    def one(index: int) -> None:
        start.wait()
        try:
            results[index] = runs[index]()
        except Exception as failed:  # the test looks at it
            results[index] = failed

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(runs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    return results


def test_two_report_runs_at_once_store_the_day_once_and_tell_each_agency_once(
    seeded_emulators: Emulators, db: firestore.Client
) -> None:
    from tests.functional.test_report_function import PUSHES, first_week_of_october, stored

    wiring.reset()
    first = served("report")
    subscribe(seeded_emulators.project, PUSHES, AGENCY_NOTIFICATIONS)
    first_week_of_october()
    pull(PUSHES, wait_s=1)  # the dispositions' own notifications
    second = served("report")

    answers = at_once(*(lambda app=app: app.post("/?date=2026-10-09") for app in (first, second)))

    assert [answer.status_code for answer in answers] == [200, 200]
    runs = [answer.get_json() for answer in answers]
    agencies = len(wiring.reference().agencies)
    assert sum(run["notifications"] for run in runs) == agencies
    assert sorted(run["rerun"] for run in runs) == [False, True]  # the other announced it
    pushed = [m.attributes["ce-id"] for m in pull(PUSHES, expect=agencies)]
    assert len(pushed) == len(set(pushed)) == agencies  # one per agency, none twice
    again = first.post("/?date=2026-10-09").get_json()
    assert (again["rerun"], again["notifications"]) == (True, 0)
    assert stored(db, "2026-10-09")["summary"] is not None


def test_escalate_racing_agency_follow_ups_keeps_both_and_fires_each_tier_once(
    seeded_emulators: Emulators, db: firestore.Client
) -> None:
    from tests.functional.test_escalate_function import AGENCY, OVERDUE, dispositioned, tiers

    wiring.reset()
    reports = dispositioned(4)
    escalate = served("escalate")
    agency_store = FirestoreReportStore(db)  # the agency API's instance: its own reads
    moment = dt.datetime.fromisoformat(f"{OVERDUE}T10:00:00+07:00")

    def follow_up(report_id: str) -> Any:
        command = Command(Action.FOLLOW_UP, Actor(Role.AGENCY_ADMIN, AGENCY), message="Dicek.")
        return act(
            report_id, command, store=agency_store, clock=FixedClock(moment), settings=settings()
        )

    results = at_once(
        lambda: escalate.post(f"/?date={OVERDUE}"),
        *(lambda report_id=report.id: follow_up(report_id) for report in reports),
    )

    ran, *followed = results
    assert ran.status_code == 200, ran.text
    assert ran.get_json()["escalated"] == {"reminder": 4, "overdue": 4}
    for report, outcome in zip(reports, followed, strict=True):
        actions = [e["action"] for e in timeline(db, report.id)]
        assert tiers(db, report.id) == ["reminder", "overdue"], actions
        # The follow-up is kept, or was refused as busy with nothing written.
        assert actions.count("follow_up") == (0 if isinstance(outcome, StoreBusy) else 1), outcome
    ids = [json.loads(m.data)["notification_id"] for m in pull("notify", expect=4 * 3)]
    assert len(ids) == len(set(ids)) == 4 * 3  # reminder, overdue to the agency and its parent


def test_the_sweeper_racing_route_gives_one_disposition_and_one_notice_per_recipient(
    clean_emulators: Emulators, db: firestore.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.functional.test_route_function import deliver, route_app, submit

    monkeypatch.setenv("LAPOR_OUTBOX_SWEEP_AGE_S", "0")  # every pending entry is due
    wiring.reset()
    report_id = submit()
    (message,) = pull("route", expect=1)
    route, sweeper = route_app(), served("sweep")

    routed, swept = at_once(lambda: deliver(route, message), lambda: sweeper.post("/"))

    assert routed in (200, 204) and swept.status_code == 200, (routed, swept.text)
    for again in pull("route", wait_s=2):  # the sweeper's republish, if it came first
        assert again.attributes["ce-id"] == f"{report_id}.1"
        assert deliver(route, again) in (200, 204)
    actions = [e["action"] for e in timeline(db, report_id)]
    assert actions == ["submit", "disposition"]
    # Whoever published them, once or twice, these two notices and no others.
    told = {json.loads(m.data)["notification_id"] for m in pull("notify", wait_s=2)}
    told |= {json.loads(m.data)["notification_id"] for m in pull("notify-reporter", wait_s=1)}
    assert told == {f"{report_id}.1.reporter", f"{report_id}.2.dpupr-cianjur"}
