"""The public store's fake held to its Firestore adapter (the same assertions, the
adapter on the real emulator): the daily report job's documents found by day, the
latest day, and the public list newest first through its cursor with no confidential
report, ever. Then what each read costs on Firestore.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from google.cloud import firestore

from shared.adapters.firestore import FirestorePublicStore, FirestoreReportStore
from shared.config import Settings
from shared.domain import report as lifecycle
from shared.domain.report import State
from shared.domain.tracking import new_tracking_code
from shared.ports import NewSubmission, RateSlot
from shared.usecases.submit import submitted_event
from tests.builders import a_draft, an_identity, published_day
from tests.fakes import InMemoryPublicStore, InMemoryReportStore
from tools.stack import Emulators

NOW = dt.datetime(2026, 3, 2, 3, 0, 15, 123456, tzinfo=dt.UTC)
SETTINGS = Settings(token_secret="test-token-secret-not-for-production")
DAY = dt.date(2026, 3, 2)
COUNTS = {"dpupr-cianjur": {"routed_rule": 2}, "unrouted:32.03": {"received": 3}}
_SLOTS = itertools.count()


@dataclass
class Backend:
    public: Any  # FiguresReader and PublicReportList
    reports: Any  # ReportStore: where the listed reports are filed
    store_documents: Callable[[Mapping[str, Mapping[str, Any]]], None]


@pytest.fixture(params=["fake", "firestore"])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    if request.param == "fake":
        fake = InMemoryPublicStore(reports=InMemoryReportStore())
        yield Backend(fake, fake.reports, fake.documents.update)
        return
    emulators: Emulators = request.getfixturevalue("clean_emulators")
    client = firestore.Client(project=emulators.project)

    def store_documents(documents: Mapping[str, Mapping[str, Any]]) -> None:
        for path, document in documents.items():
            client.document(path).set(dict(document))

    yield Backend(FirestorePublicStore(client), FirestoreReportStore(client), store_documents)
    client.close()


def _file(store: Any, at: dt.datetime, *, confidential: bool = False, code: str = "") -> str:
    report_id = store.new_report_id()
    report, event = lifecycle.submit(
        a_draft(confidential=confidential),
        report_id,
        code or new_tracking_code(),
        at,
        SETTINGS.calendar(),
        SETTINGS.deadline_policy(),
    )
    outbox = submitted_event(report, f"{report_id}.1", at, SETTINGS.topic_report_submitted)
    slot = RateSlot(f"client:{next(_SLOTS)}", 0, at + dt.timedelta(hours=1))
    store.create_submission(NewSubmission(report, event, an_identity(), outbox, slot))
    return report.tracking_code


# --- the daily report job's documents ---------------------------------------------------


def test_nothing_is_published_before_the_first_run(backend: Backend) -> None:
    assert backend.public.latest_figures_day() is None
    assert backend.public.figures_summary(None) is None
    assert backend.public.figures_summary(DAY) is None
    assert backend.public.figures_scope(DAY, "national") is None
    assert backend.public.figures_export(DAY, "agencies_csv") is None


def test_each_document_of_a_day_is_found_and_the_latest_day_is_the_last_one(
    backend: Backend,
) -> None:
    earlier = DAY - dt.timedelta(days=1)
    backend.store_documents(published_day(earlier, COUNTS))
    backend.store_documents(published_day(DAY, COUNTS))

    assert backend.public.latest_figures_day() == DAY
    latest = backend.public.figures_summary(None)
    assert latest is not None and latest["day"] == DAY.isoformat()
    before = backend.public.figures_summary(earlier)
    assert before is not None and before["day"] == earlier.isoformat()
    agency = backend.public.figures_scope(DAY, "dpupr-cianjur")
    assert agency is not None and agency["own"]["day"]["received"] == 2
    unknown = backend.public.figures_scope(DAY, "tidak-ada")
    assert unknown is None
    export = backend.public.figures_export(DAY, "agencies_csv")
    assert export is not None and export["csv"].startswith("date,period,scope,scope_id,")


# --- the public list --------------------------------------------------------------------


def test_the_list_pages_newest_first_and_never_returns_a_confidential_report(
    backend: Backend,
) -> None:
    public = [_file(backend.reports, NOW + dt.timedelta(minutes=n)) for n in range(5)]
    for n in range(3):
        _file(backend.reports, NOW + dt.timedelta(minutes=n, seconds=30), confidential=True)
    # Two at the same moment: the tracking code orders them, newest first as well.
    same = sorted(
        (_file(backend.reports, NOW + dt.timedelta(minutes=9), code=code) for code in
         ("K7M-2XQ-9RJ", "A3F-7HK-2MC")),
        reverse=True,
    )  # fmt: skip

    pages, after = [], None
    while True:
        page = backend.public.public_reports(2, after)
        pages.append([r.tracking_code for r in page.reports])
        if page.next_after is None:
            break
        after = page.next_after

    assert pages == [same, public[:2:-1], public[2:0:-1], public[:1]]
    first = backend.public.public_reports(1).reports[0]
    assert dataclasses.asdict(first) == {
        "tracking_code": same[0],
        "type": "pengaduan",
        "category": "infrastruktur.jalan",
        "province_code": "32",
        "regency_code": "32.03",
        "state": State.SUBMITTED,
        "agency_id": None,
        "submitted_at": NOW + dt.timedelta(minutes=9),
        "updated_at": NOW + dt.timedelta(minutes=9),
    }


def test_an_empty_list_is_one_empty_page(backend: Backend) -> None:
    _file(backend.reports, NOW, confidential=True)
    page = backend.public.public_reports(20)
    assert (list(page.reports), page.next_after) == ([], None)


# --- what it costs on Firestore ---------------------------------------------------------


def test_each_figures_read_is_one_document_and_a_list_page_its_reports_plus_one(
    clean_emulators: Emulators,
) -> None:
    client = firestore.Client(project=clean_emulators.project)
    try:
        for path, document in published_day(DAY, COUNTS).items():
            client.document(path).set(document)
        reports = FirestoreReportStore(client)
        for n in range(5):
            _file(reports, NOW + dt.timedelta(minutes=n))
        store = FirestorePublicStore(client)

        def reads(call: Callable[[], object]) -> int:
            before = store.stats.snapshot()
            call()
            return store.stats.since(before).reads

        assert reads(store.latest_figures_day) == 1
        assert reads(lambda: store.figures_summary(None)) == 2
        assert reads(lambda: store.figures_summary(DAY)) == 1
        assert reads(lambda: store.figures_scope(DAY, "national")) == 1
        assert reads(lambda: store.figures_export(DAY, "agencies_csv")) == 1
        assert reads(lambda: store.public_reports(2)) == 3  # two, and one that says more
        assert reads(lambda: store.public_reports(20)) == 5
    finally:
        client.close()
