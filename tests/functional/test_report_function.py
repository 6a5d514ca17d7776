"""The report function through functions-framework, against the real emulators.

Reports are submitted and acted on through the real use cases and the Firestore store
(with clocks set to October 2026), which commit the counters; the function then runs
the day. The stored figures must be the domain's figures of the counters as Firestore
holds them; a second run must write the same documents and push nothing again.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Iterator
from typing import Any

import functions_framework
import pytest
from flask.testing import FlaskClient
from google.cloud import firestore
from google.cloud.pubsub_v1 import PublisherClient, SubscriberClient

from shared import wiring
from shared.config import settings
from shared.domain.figures import add_counts, compute_figures, counts_by_day, figures_json, scope_of
from shared.domain.report import Action, Actor, Command, Region, ReportType, Role, is_overdue
from shared.ports import FixedClock
from shared.topology import AGENCY_NOTIFICATIONS, SCHEDULE_TIME_HEADER
from shared.usecases.act import act
from shared.usecases.counters import FIGURE_COUNTERS
from shared.usecases.daily_report import agency_tree
from shared.usecases.submit import submit_report
from tests.builders import a_draft, an_identity
from tests.functional.test_route_function import pull
from tools.stack import Emulators

SOURCE = "functions/report/main.py"
PUSHES = "test-daily-pushes"
A, B = "dpupr-cianjur", "dinkes-cianjur"
CIANJUR, BOGOR = Region("32", "32.03"), Region("32", "32.01")
_CLIENTS = itertools.count()


@pytest.fixture
def reporter(clean_emulators: Emulators) -> Iterator[FlaskClient]:
    wiring.reset()
    publisher, subscriber = PublisherClient(), SubscriberClient()
    try:
        subscriber.create_subscription(
            name=subscriber.subscription_path(clean_emulators.project, PUSHES),
            topic=publisher.topic_path(clean_emulators.project, AGENCY_NOTIFICATIONS),
        )
    finally:
        subscriber.close()
        publisher.stop()
    app = functions_framework.create_app(target="report", source=SOURCE)
    client: FlaskClient = app.test_client()
    yield client
    wiring.reset()


def at(day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2026, 10, day, hour, tzinfo=settings().calendar().tz)


def submit(moment: dt.datetime, region: Region = CIANJUR, **draft: Any) -> str:
    return submit_report(
        a_draft(region=region, **draft),
        an_identity(),
        client_id=f"client-{next(_CLIENTS)}",
        idempotency_key=None,
        store=wiring.report_store(),
        publisher=wiring.publisher(),
        clock=FixedClock(moment),
        settings=settings(),
    ).report_id


def take(report_id: str, moment: dt.datetime, action: Action, role: Role, **kw: Any) -> None:
    command = Command(action, Actor(role, "someone"), reason="alasan", message="pesan", **kw)
    act(
        report_id,
        command,
        store=wiring.report_store(),
        clock=FixedClock(moment),
        settings=settings(),
    )


def first_week_of_october() -> None:
    r1 = submit(at(5))
    data = {"method": "rule", "rule_id": "cianjur-jalan"}
    take(r1, at(5, 11), Action.DISPOSITION, Role.SYSTEM, agency_id=A, data=data)
    r2 = submit(at(5), type=ReportType.INFORMATION_REQUEST, confidential=True)
    take(r2, at(5, 11), Action.DISPOSITION, Role.NATIONAL_ADMIN, agency_id=B)
    submit(at(5), region=BOGOR)  # never routed: overdue from Fri 9
    take(r1, at(6), Action.FOLLOW_UP, Role.UNIT_OFFICER)
    take(r1, at(6, 15), Action.RESOLVE, Role.UNIT_OFFICER)
    take(r1, at(7), Action.CONFIRM, Role.REPORTER)
    take(r1, at(7, 11), Action.RATE, Role.REPORTER, rating=5)
    take(r2, at(8), Action.NOT_OUR_AUTHORITY, Role.AGENCY_ADMIN)


def expected(db: firestore.Client, day: dt.date) -> dict[str, Any]:
    """The domain's figures of the counters Firestore holds, and of the reports as they
    stand now (what the job counts as overdue)."""
    counters = [(d.id, d.to_dict() or {}) for d in db.collection(FIGURE_COUNTERS).stream()]
    by_day = {d: c for d, c in counts_by_day(counters).items() if d <= day}
    overdue: dict[str, int] = {}
    for report in (wiring.report_store().get(d.id) for d in db.collection("reports").stream()):
        if report is not None and is_overdue(report, day):
            overdue[scope_of(report)] = overdue.get(scope_of(report), 0) + 1
    figures = compute_figures(
        day,
        by_day.get(day, {}),
        add_counts(*by_day.values()),
        overdue,
        agency_tree(wiring.reference()),
        month_counts=add_counts(*(c for d, c in by_day.items() if d.month == day.month)),
    )
    return figures_json(figures)


def stored(db: firestore.Client, day: str) -> dict[str, Any]:
    base = db.collection("daily_figures").document(day)
    return {
        "summary": base.get().to_dict(),
        "scopes": {d.id: d.to_dict() for d in base.collection("scopes").stream()},
        "exports": {d.id: d.to_dict() for d in base.collection("exports").stream()},
    }


def periods(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: doc[k] for k in ("day", "month", "cumulative", "overdue_now")}


def test_a_run_stores_the_domains_figures_of_the_counters_and_pushes_once(
    reporter: FlaskClient, db: firestore.Client
) -> None:
    first_week_of_october()
    pull(PUSHES, wait_s=1)  # the dispositions' own notifications

    for day in ("2026-10-08", "2026-10-09"):
        answer = reporter.post(f"/?date={day}")
        assert answer.status_code == 200, answer.get_data(as_text=True)
    result = answer.get_json()
    print("report run for 2026-10-09:", result)

    agencies = len(wiring.reference().agencies)
    assert {k: result[k] for k in ("day", "rerun", "notifications", "published")} == {
        "day": "2026-10-09",
        "rerun": False,
        "notifications": agencies,
        "published": True,
    }
    assert result["overdue_now"] == 1  # the Bogor report nobody routed, due Thu 8
    want = expected(db, dt.date(2026, 10, 9))
    got = stored(db, "2026-10-09")
    assert periods(got["summary"]["national"]) == want["national"]
    for agency in (A, B, "pemkab-cianjur", "nasional"):
        assert periods(got["scopes"][agency]["own"]) == want["agencies"][agency]["own"]
        assert periods(got["scopes"][agency]["subtree"]) == want["agencies"][agency]["subtree"]
    for code in ("32.01", "32.03"):
        assert periods(got["scopes"][code]["own"]) == want["regions"][code]
    national = got["summary"]["national"]["cumulative"]
    assert (national["received"], national["closed"], national["not_our_authority"]) == (3, 1, 1)
    assert got["summary"]["overdue_by_scope"] == {"unrouted:32.01": 1}
    assert got["summary"]["trend"][-5:] == [
        {"day": "2026-10-05", "received": 3, "closed": 0},
        {"day": "2026-10-06", "received": 0, "closed": 0},
        {"day": "2026-10-07", "received": 0, "closed": 1},
        {"day": "2026-10-08", "received": 0, "closed": 0},
        {"day": "2026-10-09", "received": 0, "closed": 0},
    ]
    pushed = pull(PUSHES, expect=2 * agencies)
    ids = sorted(m.attributes["ce-id"] for m in pushed)
    assert len(ids) == len(set(ids)) == 2 * agencies  # one per agency per day
    mine = next(m for m in pushed if m.attributes["ce-id"] == f"daily.2026-10-09.{A}")
    body = json.loads(mine.data)
    assert (body["kind"], body["agency_id"], body["report_id"]) == ("report.daily", A, None)
    assert body["data"]["own"] == got["scopes"][A]["own"]
    # Each pending until notify settles it.
    daily = {d.id for d in db.collection("outbox").stream() if d.id.startswith("daily.")}
    assert daily == {m.attributes["ce-id"] for m in pushed}

    again = reporter.post("/", json={"date": "2026-10-09"}).get_json()

    assert (again["rerun"], again["notifications"]) == (True, 0)
    assert stored(db, "2026-10-09") == got
    assert pull(PUSHES, wait_s=1) == []


def test_the_scheduled_run_is_for_the_day_before_in_jakarta(
    reporter: FlaskClient, db: firestore.Client
) -> None:
    # 01:00 on Thu 8 October in Jakarta is 18:00 UTC on Wed 7.
    answer = reporter.post("/", headers={SCHEDULE_TIME_HEADER: "2026-10-07T18:00:00Z"})
    assert answer.status_code == 200
    assert answer.get_json()["day"] == "2026-10-07"
    summary = db.collection("daily_figures").document("2026-10-07").get().to_dict() or {}
    assert summary["day"] == "2026-10-07"
    assert len(summary["agencies"]) == len(wiring.reference().agencies)


def test_the_reads_of_a_run_do_not_depend_on_the_reports(
    reporter: FlaskClient, clean_emulators: Emulators
) -> None:
    def operations_of_the_next_day(more_reports: int) -> dict[str, int]:
        clean_emulators.reset()
        first_week_of_october()
        for _ in range(more_reports):
            submit(at(9))  # due Wed 14: not overdue yet
        reporter.post("/?date=2026-10-09")
        answer = reporter.post("/?date=2026-10-10").get_json()
        print(f"run for 2026-10-10, {3 + more_reports} reports:", answer)
        operations: dict[str, int] = answer["operations"]
        return operations

    few, many = operations_of_the_next_day(0), operations_of_the_next_day(40)
    # The previous day's scope documents, no counter (nothing happened on the 10th),
    # the overdue count and list, the rule totals, the stored day and the previous one.
    assert many["reads"] == few["reads"]
    assert many["writes"] == few["writes"]


def test_a_bad_date_is_refused_and_only_post_runs(reporter: FlaskClient) -> None:
    for bad in ("/?date=2026-13-01", "/?date=yesterday"):
        refused = reporter.post(bad)
        assert refused.status_code == 400
        assert refused.mimetype == "application/problem+json"
    assert reporter.post("/", data="not json").status_code == 400
    refused = reporter.get("/")
    assert refused.status_code == 405
    assert refused.headers["Allow"] == "POST"
