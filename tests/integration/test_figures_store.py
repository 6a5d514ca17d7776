"""The daily report's store: the Firestore adapter on the emulator, and the fake held to
it (the same assertions against both, as tests/integration/test_store_contract.py does
for the report store); then what only the adapter can show: increments committed at
once lose nothing, one write per counter document, reads as Firestore bills them."""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from google.cloud import firestore

from shared.adapters.firestore import FirestoreFiguresStore, FirestoreReportStore
from shared.config import Settings
from shared.domain.report import Action, Actor, Command, Region, ReportType, Role
from shared.ports import FixedClock, OutboxMessage
from shared.usecases.act import act
from shared.usecases.counters import FIGURE_COUNTERS, ROUTING_STATS
from shared.usecases.submit import submit_report
from tests.builders import a_draft, an_identity
from tests.fakes import InMemoryFiguresStore, InMemoryPublisher, InMemoryReportStore
from tools.stack import Emulators

SETTINGS = Settings(token_secret="test-token-secret-not-for-production")
JAKARTA = SETTINGS.calendar().tz
CIANJUR, BOGOR, JABAR = Region("32", "32.03"), Region("32", "32.01"), Region("32", None)
A = "dpupr-cianjur"
ROUTER = Actor(Role.SYSTEM, "system:route")
_CLIENTS = itertools.count()


def at(day: int, hour: int = 10) -> dt.datetime:
    """A moment in October 2026, Jakarta time (Mon 5 is a working day)."""
    return dt.datetime(2026, 10, day, hour, tzinfo=JAKARTA)


@dataclass
class Backend:
    reports: Any  # ReportStore
    figures: Any  # FiguresStore


@pytest.fixture(params=["fake", "firestore"])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    if request.param == "fake":
        reports = InMemoryReportStore()
        yield Backend(reports, InMemoryFiguresStore(reports))
        return
    emulators: Emulators = request.getfixturevalue("clean_emulators")
    client = firestore.Client(project=emulators.project)
    store = FirestoreReportStore(client)
    yield Backend(store, FirestoreFiguresStore(client, store))
    client.close()


def submit(
    reports: Any, moment: dt.datetime, region: Region = CIANJUR, settings: Settings = SETTINGS
) -> str:
    return submit_report(
        a_draft(region=region, type=ReportType.ASPIRATION),
        an_identity(),
        client_id=f"client-{next(_CLIENTS)}",
        idempotency_key=None,
        store=reports,
        publisher=InMemoryPublisher(),
        clock=FixedClock(moment),
        settings=settings,
    ).report_id


def route(
    reports: Any, report_id: str, moment: dt.datetime, agency: str = A, **settings: Any
) -> None:
    data = {"method": "rule", "rule_id": "cianjur-jalan"}
    command = Command(Action.DISPOSITION, ROUTER, agency_id=agency, data=data)
    act(
        report_id,
        command,
        store=reports,
        clock=FixedClock(moment),
        settings=SETTINGS.model_copy(update=settings),
    )


# --- the contract ------------------------------------------------------------------------


def test_the_counters_of_a_run_of_days_are_one_range(backend: Backend) -> None:
    for day in (5, 6, 7):
        report_id = submit(backend.reports, at(day))
        route(backend.reports, report_id, at(day, 11))

    def days_of(first: dt.date | None, last: dt.date) -> set[str]:
        documents = backend.figures.counter_documents(FIGURE_COUNTERS, first, last)
        return {doc_id[:10] for doc_id, _ in documents}

    assert days_of(dt.date(2026, 10, 6), dt.date(2026, 10, 6)) == {"2026-10-06"}
    assert days_of(None, dt.date(2026, 10, 6)) == {"2026-10-05", "2026-10-06"}
    assert days_of(dt.date(2026, 10, 6), dt.date(2026, 10, 31)) == {"2026-10-06", "2026-10-07"}
    documents = backend.figures.counter_documents(
        FIGURE_COUNTERS, dt.date(2026, 10, 5), dt.date(2026, 10, 5)
    )
    fields = {}
    for doc_id, data in documents:
        scope = doc_id[11:].rpartition("_")[0]
        fields[scope] = {k: v for k, v in data.items() if k != "key"}
    assert fields == {"unrouted:32.03": {"received": 1}, A: {"routed_rule": 1}}
    assert backend.figures.running_totals(ROUTING_STATS) == {"cianjur-jalan": {"dispositions": 3}}


def test_overdue_reports_are_counted_by_scope_alike_listed_or_counted(backend: Backend) -> None:
    # Submitted Mon 5: verification due Thu 8; routed Mon 5: aspiration due Mon 12.
    reports = backend.reports
    for region in (CIANJUR, CIANJUR, BOGOR, JABAR):
        submit(reports, at(5), region)
    route(reports, submit(reports, at(5)), at(5, 11))
    submit(reports, at(6))  # due Fri 9: not overdue on Fri 9
    held = submit(reports, at(5))
    hold = Command(Action.HOLD, Actor(Role.NATIONAL_ADMIN, "nasional"), reason="Di mana?")
    act(held, hold, store=reports, clock=FixedClock(at(6)), settings=SETTINGS)  # no clock

    day = dt.date(2026, 10, 9)
    expected = {"unrouted:32.03": 2, "unrouted:32.01": 1, "unrouted:32": 1}
    assert backend.figures.overdue_total(day) == 4
    listed: dict[str, int] = {}
    for scope in backend.figures.overdue_scopes(day):
        listed[scope] = listed.get(scope, 0) + 1
    assert listed == expected
    counted = backend.figures.overdue_counts(day, [A, "dinkes-cianjur"], ["32", "32.01", "32.03"])
    assert {scope: n for scope, n in counted.items() if n} == expected
    assert set(counted) == {A, "dinkes-cianjur", "unrouted:32", "unrouted:32.01", "unrouted:32.03"}
    later = dt.date(2026, 10, 13)
    assert backend.figures.overdue_counts(later, [A], ["32.03"]) == {A: 1, "unrouted:32.03": 3}
    assert backend.figures.overdue_total(dt.date(2026, 10, 8)) == 0


def _outbox_message(message_id: str) -> OutboxMessage:
    return OutboxMessage(message_id, "agency-notifications", {"n": 1}, {}, at(8, 1))


def test_a_saved_day_reads_back_and_the_previous_day_is_the_latest_before(
    backend: Backend,
) -> None:
    figures = backend.figures
    for day in ("2026-10-05", "2026-10-07"):
        figures.save_day(
            dt.date.fromisoformat(day),
            scopes={A: {"day": day, "counts": {"cumulative": {"received": 2}}}, "national": {}},
            exports={"agencies_csv": {"day": day, "csv": "date\n"}},
            outbox=[_outbox_message(f"daily.{day}.{A}")],
            summary={"day": day, "generated_at": at(8, 1), "trend": [{"day": day}]},
        )

    assert figures.stored_summary(dt.date(2026, 10, 6)) is None
    assert figures.stored_summary(dt.date(2026, 10, 7))["trend"] == [{"day": "2026-10-07"}]
    assert figures.previous_summary(dt.date(2026, 10, 7))["day"] == "2026-10-05"
    assert figures.previous_summary(dt.date(2026, 10, 8))["day"] == "2026-10-07"
    assert figures.previous_summary(dt.date(2026, 10, 5)) is None
    scopes = figures.scope_documents(dt.date(2026, 10, 5))
    assert set(scopes) == {A, "national"}
    assert scopes[A]["counts"] == {"cumulative": {"received": 2}}
    assert figures.scope_documents(dt.date(2026, 10, 6)) == {}


# --- the adapter ------------------------------------------------------------------------


@pytest.fixture
def client(clean_emulators: Emulators) -> Iterator[firestore.Client]:
    made = firestore.Client(project=clean_emulators.project)
    yield made
    made.close()


def test_increments_committed_at_once_lose_nothing(client: firestore.Client) -> None:
    # One shard: every submission and every disposition of the day lands in the same
    # counter documents, from eight writers at once.
    store = FirestoreReportStore(client)
    one_shard = SETTINGS.model_copy(update={"figure_shards": 1})
    writers, each = 8, 5
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(each):
                report_id = submit(store, at(5), settings=one_shard)
                route(store, report_id, at(5, 11), figure_shards=1)
        except BaseException as exc:  # surfaced below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors
    counters = client.collection(FIGURE_COUNTERS)
    received = counters.document("2026-10-05_unrouted:32.03_0").get().to_dict() or {}
    routed = counters.document(f"2026-10-05_{A}_0").get().to_dict() or {}
    assert received["received"] == writers * each
    assert routed["routed_rule"] == writers * each


def test_one_write_per_counter_document_whatever_it_moves(client: firestore.Client) -> None:
    store = FirestoreReportStore(client)
    before = store.stats.snapshot()
    report_id = submit(store, at(5))
    submitted = store.stats.since(before)
    route(store, report_id, at(5, 11))
    follow_up = Command(Action.FOLLOW_UP, Actor(Role.UNIT_OFFICER, "petugas"), message="Dicek.")

    before = store.stats.snapshot()
    act(report_id, follow_up, store=store, clock=FixedClock(at(6)), settings=SETTINGS)
    followed = store.stats.since(before)

    # The submission, in one commit: report, event, identity, outbox (report.submitted
    # and the reporter's notification), tracking code, rate slot, counter. Publishing
    # deletes nothing: route and notify settle the entries in their own writes.
    assert (submitted.commits, submitted.writes) == (1, 8)
    # The first follow-up moves three counters of one document: report, event, counter,
    # and tells the reporter (an outbox entry).
    day_docs = client.collection(FIGURE_COUNTERS).where(
        filter=firestore.FieldFilter("followed_up", "==", 1)
    )
    (doc,) = list(day_docs.stream())
    moved = {k: v for k, v in (doc.to_dict() or {}).items() if k != "key"}
    assert moved == {"followed_up": 1, "followed_up_within_deadline": 1, "first_response_wd_1": 1}
    assert (followed.commits, followed.writes, followed.reads) == (1, 4, 1)


def test_reads_are_counted_as_firestore_bills_them(client: firestore.Client) -> None:
    reports = FirestoreReportStore(client)
    figures = FirestoreFiguresStore(client, reports)
    for _ in range(3):
        route(reports, submit(reports, at(5)), at(5, 11))
    day = dt.date(2026, 10, 13)

    def reads(call: Any) -> int:
        before = reports.stats.snapshot()
        call()
        return reports.stats.since(before).reads

    documents = figures.counter_documents(FIGURE_COUNTERS, None, day)
    assert reads(lambda: figures.counter_documents(FIGURE_COUNTERS, None, day)) == len(documents)
    assert reads(lambda: figures.overdue_total(day)) == 1  # an aggregation: 1 per 1,000
    assert reads(lambda: figures.overdue_scopes(day)) == 3
    assert reads(lambda: figures.overdue_counts(day, [A, "b", "c"], ["32", "32.03"])) == 5
    assert reads(lambda: figures.previous_summary(day)) == 1  # none: billed all the same
