"""The escalate function through functions-framework, against the real emulators: the
run for a day, the day from the query, the body or Cloud Scheduler's header, a second
run and two runs at once changing nothing more, and a report.escalated notification
reaching an agency's receiver signed, through the notify function.

Reports are stored through the Firestore adapter and the domain at a fixed time in
October 2026 (a month with no national holiday): a complaint dispositioned on Monday
5 October is due on Friday the 23rd, reminded on the 22nd, overdue on the 26th, and
sent to the national admin on the 30th.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import functions_framework
import pytest
from flask.testing import FlaskClient
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from shared import wiring
from shared.adapters.firestore import FirestoreReportStore
from shared.config import settings
from shared.domain import report as lifecycle
from shared.domain.report import Action, Actor, Command, Report, Role
from shared.domain.tracking import new_tracking_code
from shared.ports import DuePage, FixedClock, NewSubmission, RateSlot
from shared.usecases.act import act
from shared.usecases.submit import submitted_event
from tests.builders import a_draft, an_identity
from tests.functional.test_notify_function import notify_app, push
from tests.functional.test_route_function import pull
from tools.stack import Emulators
from tools.webhook_receiver import WebhookReceiver, firestore_secrets

SOURCE = "functions/escalate/main.py"
JAKARTA = ZoneInfo("Asia/Jakarta")
MONDAY = dt.datetime(2026, 10, 5, 9, 0, tzinfo=JAKARTA)
REMINDER, OVERDUE, NATIONAL = "2026-10-22", "2026-10-26", "2026-10-30"
AGENCY, PARENT = "dpupr-cianjur", "pemkab-cianjur"


def escalate_app() -> FlaskClient:
    wiring.reset()
    client: FlaskClient = functions_framework.create_app(
        target="escalate", source=SOURCE
    ).test_client()
    return client


@pytest.fixture
def app(seeded_emulators: Emulators) -> Iterator[FlaskClient]:
    yield escalate_app()
    wiring.reset()


def dispositioned(count: int, at: dt.datetime = MONDAY) -> list[Report]:
    """``count`` complaints submitted and dispositioned to AGENCY at ``at``."""
    store, current = wiring.report_store(), settings()
    made = []
    for _ in range(count):
        report_id = store.new_report_id()
        report, event = lifecycle.submit(
            a_draft(), report_id, new_tracking_code(), at,
            current.calendar(), current.deadline_policy(),
        )  # fmt: skip
        outbox = submitted_event(report, f"{report_id}.1", at, current.topic_report_submitted)
        slot = RateSlot(f"test:{report_id}", 0, at + dt.timedelta(hours=1))
        store.create_submission(NewSubmission(report, event, an_identity(), outbox, slot))
        command = Command(Action.DISPOSITION, Actor(Role.SYSTEM, "system:route"), agency_id=AGENCY)
        change = act(
            report_id, command, store=store, clock=FixedClock(at), settings=current,
            settle=(f"{report_id}.1",),
        )  # fmt: skip
        store.settle_outbox([m.id for m in change.outbox])  # as route does once published
        made.append(change.report)
    return made


def run(app: FlaskClient, day: str) -> dict[str, Any]:
    answer = app.post(f"/?date={day}")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    body: dict[str, Any] = answer.get_json()
    return body


def timeline(db: firestore.Client, report_id: str) -> list[dict[str, Any]]:
    events = db.collection("reports").document(report_id).collection("events")
    return [doc.to_dict() or {} for doc in events.order_by("seq").stream()]


def tiers(db: firestore.Client, report_id: str) -> list[str]:
    return [e["data"]["tier"] for e in timeline(db, report_id) if e["action"] == "escalate"]


def test_the_run_escalates_what_is_due_and_publishes_a_notification_per_recipient(
    app: FlaskClient, db: firestore.Client
) -> None:
    reports = dispositioned(3)

    result = run(app, OVERDUE)  # the reminder was missed: caught up first

    assert result["run_date"] == OVERDUE
    assert result["escalated"] == {"reminder": 3, "overdue": 3}
    assert (result["examined"], result["notifications"], result["published"]) == (3, 9, 9)
    # Each report read once, by the query: both tiers commit without reading it again.
    assert result["operations"]["reads"] == 3
    for report in reports:
        assert tiers(db, report.id) == ["reminder", "overdue"]
        overdue = timeline(db, report.id)[-1]
        assert overdue["data"]["notified"] == f"agency_admin:{AGENCY},parent_agency:{PARENT}"
        assert overdue["actor_id"] == "system:escalate"
        assert overdue["at"] == dt.datetime(2026, 10, 26, 0, 0, tzinfo=dt.UTC)  # 07:00 WIB
        doc = db.collection("reports").document(report.id).get().to_dict() or {}
        assert (doc["escalation_tier"], doc["next_due_on"]) == ("overdue", NATIONAL)
    messages = [json.loads(m.data) for m in pull("notify", expect=9)]
    assert sorted((m["agency_id"], m["data"]["tier"]) for m in messages) == sorted(
        [(AGENCY, "reminder"), (AGENCY, "overdue"), (PARENT, "overdue")] * 3
    )
    assert {m["kind"] for m in messages} == {"report.escalated"}
    # Published, and pending until notify settles each (the sweeper's backstop).
    pending = {doc.id for doc in db.collection("outbox").stream()}
    assert pending == {m["notification_id"] for m in messages}


def test_reads_grow_with_the_due_reports_not_with_all_reports(
    app: FlaskClient, db: firestore.Client
) -> None:
    dispositioned(6)
    dispositioned(4, at=MONDAY + dt.timedelta(days=14))  # nothing due on the 22nd

    result = run(app, REMINDER)

    assert (result["examined"], result["escalated"]) == (6, {"reminder": 6})
    # The query reads the 6 due (one page, not full: no empty page after it); each
    # commit holds on the report being as read, so nothing reads it again.
    assert result["pages"] == 1 and result["operations"]["reads"] == 6
    assert result["operations"]["commits"] == 6  # one per report (notify settles its notices)


def test_a_second_run_for_the_same_day_changes_nothing(
    app: FlaskClient, db: firestore.Client
) -> None:
    reports = dispositioned(2)
    first = run(app, NATIONAL)
    before = {r.id: timeline(db, r.id) for r in reports}
    pull("notify", expect=first["notifications"])

    again = run(app, NATIONAL)

    assert first["escalated"] == {"reminder": 2, "overdue": 2, "national": 2}
    assert first["operations"]["reads"] == 2  # the due reports, once each
    assert again["examined"] == 0 and again["escalated"] == {}
    assert again["operations"] == {"reads": 1, "writes": 0, "commits": 0}  # one empty query
    assert {r.id: timeline(db, r.id) for r in reports} == before
    assert pull("notify", wait_s=1.0) == []


def test_two_runs_at_once_fire_each_tier_once(app: FlaskClient, db: firestore.Client) -> None:
    reports = dispositioned(6)
    results: list[dict[str, Any]] = []
    apps = [app, escalate_app()]  # two instances of the function, one process

    def one_run(client: FlaskClient) -> None:
        results.append(run(client, NATIONAL))

    threads = [threading.Thread(target=one_run, args=(client,)) for client in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    assert len(results) == 2 and all(r["refused"] == 0 for r in results)
    fired: dict[str, int] = {}
    for result in results:
        for tier, count in result["escalated"].items():
            fired[tier] = fired.get(tier, 0) + count
    assert fired == {"reminder": 6, "overdue": 6, "national": 6}
    for report in reports:
        assert tiers(db, report.id) == ["reminder", "overdue", "national"]
    ids = [json.loads(m.data)["notification_id"] for m in pull("notify", expect=6 * 4)]
    assert len(ids) == len(set(ids)) == 6 * 4  # reminder, admin, parent, national


def test_a_report_acted_on_after_the_query_is_read_again_and_both_changes_kept(
    app: FlaskClient, db: firestore.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    raced, *others = dispositioned(3)
    query = FirestoreReportStore.due_reports
    agency = FirestoreReportStore(db)  # the agency API's own store: its reads are its own

    def then_the_agency_acts(store: FirestoreReportStore, *args: Any) -> DuePage:
        page = query(store, *args)
        follow_up = Command(Action.FOLLOW_UP, Actor(Role.AGENCY_ADMIN, AGENCY), message="Dicek.")
        act(raced.id, follow_up, store=agency, clock=FixedClock(MONDAY), settings=settings())
        return page

    monkeypatch.setattr(FirestoreReportStore, "due_reports", then_the_agency_acts)
    result = run(app, OVERDUE)

    assert result["escalated"] == {"reminder": 3, "overdue": 3} and result["refused"] == 0
    # The 3 due, and the raced report once more, fresh, when its commit found it changed.
    assert result["operations"]["reads"] == 3 + 1
    actions = [event["action"] for event in timeline(db, raced.id)]
    assert actions == ["submit", "disposition", "follow_up", "escalate", "escalate"]
    for report in others:
        assert tiers(db, report.id) == ["reminder", "overdue"]


def test_the_day_comes_from_the_body_or_cloud_schedulers_header_in_jakarta(
    app: FlaskClient,
) -> None:
    by_body = app.post("/", json={"date": "2026-10-22"})
    # 00:00 UTC is 07:00 in Jakarta: the run of that same local day.
    by_header = app.post("/", headers={"X-CloudScheduler-ScheduleTime": "2026-10-26T00:00:00Z"})
    # 23:30 UTC is already the next day in Jakarta.
    late = app.post("/", headers={"X-CloudScheduler-ScheduleTime": "2026-10-26T23:30:00Z"})

    assert by_body.get_json()["run_date"] == "2026-10-22"
    assert by_header.get_json()["run_date"] == "2026-10-26"
    assert late.get_json()["run_date"] == "2026-10-27"


@pytest.mark.parametrize(
    "call",
    [
        {"query_string": {"date": "26-10-2026"}},
        {"query_string": {"date": "2026-02-30"}},
        {"json": {"date": 20261026}},
        {"data": "not json", "content_type": "application/json"},
        {"headers": {"X-CloudScheduler-ScheduleTime": "yesterday"}},
    ],
)
def test_a_bad_date_is_a_400_problem_and_runs_nothing(
    app: FlaskClient, db: firestore.Client, call: dict[str, Any]
) -> None:
    dispositioned(1)
    answer = app.post("/", **call)
    assert answer.status_code == 400
    assert answer.mimetype == "application/problem+json"
    assert answer.get_json()["type"] == "urn:lapor:problem:invalid_run_date"
    escalations = db.collection_group("events").where(
        filter=FieldFilter("action", "==", "escalate")
    )
    assert list(escalations.stream()) == []


def test_only_post_runs_it(app: FlaskClient) -> None:
    answer = app.get("/")
    assert answer.status_code == 405 and answer.headers["Allow"] == "POST"


def test_the_notify_function_signs_the_escalation_to_the_agencys_receiver(
    app: FlaskClient, db: firestore.Client
) -> None:
    [report] = dispositioned(1)
    run(app, OVERDUE)
    [to_parent] = [
        json.loads(m.data)
        for m in pull("notify", expect=2)
        if json.loads(m.data)["agency_id"] == PARENT
    ]
    secret = str(firestore_secrets(db.project)(PARENT))

    with WebhookReceiver({PARENT: secret}) as receiver:
        db.collection("agencies").document(PARENT).set(
            {"notification": {"webhook_url": receiver.hook_url(PARENT)}}, merge=True
        )
        answer = push(notify_app(), to_parent)
        [received] = receiver.wait_for(1)

    assert answer.status_code in (200, 204)
    assert received.verified and received.webhook_id == to_parent["notification_id"]
    assert received.payload["type"] == "report.escalated"
    assert received.payload["report"]["tracking_code"] == report.tracking_code
    assert received.payload["escalation"]["tier"] == "overdue"
    assert received.payload["escalation"]["overdue_working_days"] == 1
    log = (
        db.collection("reports").document(report.id).collection("deliveries")
        .document(to_parent["notification_id"]).get().to_dict() or {}
    )  # fmt: skip
    assert log["status"] == "delivered" and log["kind"] == "report.escalated"
