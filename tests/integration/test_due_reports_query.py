"""The escalation run's query on the emulator: it reads the due reports and nothing else,
one document per due report plus, when the last page came back full, one empty page.

(The order and the cursor are held to the fake in tests/integration/test_store_contract.py.)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator

import pytest
from google.cloud import firestore

from shared.adapters.firestore import FirestoreReportStore
from shared.config import Settings
from shared.domain import report as lifecycle
from shared.domain.tracking import new_tracking_code
from shared.ports import NewSubmission, RateSlot
from shared.usecases.submit import submitted_event
from tests.builders import a_draft, an_identity
from tools.stack import Emulators

SETTINGS = Settings(token_secret="test-token-secret-not-for-production")
NOW = dt.datetime(2026, 3, 2, 3, 0, tzinfo=dt.UTC)
DAY = dt.date(2026, 3, 10)


@pytest.fixture
def store(clean_emulators: Emulators) -> Iterator[FirestoreReportStore]:
    client = firestore.Client(project=clean_emulators.project)
    yield FirestoreReportStore(client)
    client.close()


def _stored(store: FirestoreReportStore, next_due_on: dt.date | None) -> None:
    report_id = store.new_report_id()
    report, event = lifecycle.submit(
        a_draft(), report_id, new_tracking_code(), NOW,
        SETTINGS.calendar(), SETTINGS.deadline_policy(),
    )  # fmt: skip
    report = dataclasses.replace(report, next_due_on=next_due_on)
    outbox = submitted_event(report, f"{report_id}.1", NOW, SETTINGS.topic_report_submitted)
    slot = RateSlot(f"test:{report_id}", 0, NOW + dt.timedelta(hours=1))
    store.create_submission(NewSubmission(report, event, an_identity(), outbox, slot))


def _walk(store: FirestoreReportStore, limit: int) -> tuple[int, int, int]:
    """(reports found, pages, reads) of a walk through the due reports."""
    before = store.stats.snapshot()
    found = pages = 0
    after = None
    while True:
        page = store.due_reports(DAY, limit, after)
        pages += 1
        found += len(page.reports)
        if page.next_after is None:
            break
        after = page.next_after
    return found, pages, store.stats.since(before).reads


@pytest.mark.parametrize(("due", "limit", "pages"), [(10, 4, 3), (12, 4, 4), (0, 4, 1)])
def test_the_walk_reads_the_due_reports_and_one_empty_page_at_most(
    store: FirestoreReportStore, due: int, limit: int, pages: int
) -> None:
    for n in range(due):
        _stored(store, DAY - dt.timedelta(days=n % 5))
    for n in range(25):  # nothing due yet, or nothing pending at all
        _stored(store, DAY + dt.timedelta(days=1 + n % 3) if n % 2 else None)

    found, walked, reads = _walk(store, limit)

    assert (found, walked) == (due, pages)
    # A full last page costs one more query, which reads nothing and is billed one read.
    assert reads == due + (1 if due % limit == 0 else 0)
