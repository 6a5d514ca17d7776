"""Every event the Firestore store commits is chained to the one before it, in the
same commit and without an extra read, whichever way the commit goes."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from google.cloud import firestore

from shared.adapters.firestore import (
    TIMELINE_HEAD,
    FirestoreReportStore,
    event_to_doc,
    report_to_doc,
)
from shared.config import Settings
from shared.domain import chain
from shared.domain import report as lifecycle
from shared.domain.report import Action, Actor, Command, Report, Role
from shared.domain.tracking import new_tracking_code
from shared.ports import Change, NewSubmission, RateSlot
from shared.usecases.submit import submitted_event
from tests.builders import a_draft, an_identity
from tools.stack import Emulators

NOW = dt.datetime(2025, 3, 4, 2, 30, 15, 123456, tzinfo=dt.UTC)
SETTINGS = Settings(token_secret="test-token-secret-not-for-production")
ADMIN = Actor(Role.AGENCY_ADMIN, "dinas-pu")
OFFICER = Actor(Role.UNIT_OFFICER, "bidang-jalan")
_SLOTS = itertools.count()


@pytest.fixture
def client(clean_emulators: Emulators) -> Iterator[firestore.Client]:
    made = firestore.Client(project=clean_emulators.project)
    yield made
    made.close()


@pytest.fixture
def store(client: firestore.Client) -> FirestoreReportStore:
    return FirestoreReportStore(client)


def _submission(store: FirestoreReportStore) -> NewSubmission:
    report_id = store.new_report_id()
    report, event = lifecycle.submit(
        a_draft(),
        report_id,
        new_tracking_code(),
        NOW,
        SETTINGS.calendar(),
        SETTINGS.deadline_policy(),
    )
    outbox = submitted_event(report, f"{report_id}.1", NOW, SETTINGS.topic_report_submitted)
    slot = RateSlot("client-a:480000", next(_SLOTS), NOW + dt.timedelta(hours=1))
    return NewSubmission(report, event, an_identity(), outbox, slot)


def _deciding(command: Command, hours: int) -> Callable[[Report], Change]:
    at = NOW + dt.timedelta(hours=hours)

    def decide(report: Report) -> Change:
        after, event = lifecycle.apply(
            report, command, at, SETTINGS.calendar(), SETTINGS.deadline_policy()
        )
        return Change(after, event)

    return decide


def _verified(store: FirestoreReportStore, report_id: str) -> chain.Verdict:
    return chain.verify(chain.export(store.timeline(report_id)))


def test_submit_and_both_kinds_of_transition_chain_their_events_at_no_extra_read(
    store: FirestoreReportStore, client: firestore.Client
) -> None:
    before = store.stats.snapshot()
    submission = _submission(store)
    store.create_submission(submission)
    submitted = store.stats.since(before)
    report_id = submission.report.id

    before = store.stats.snapshot()
    routed = store.transition(
        report_id, _deciding(Command(Action.DISPOSITION, ADMIN, agency_id="dinas-pu"), 1)
    )
    read_first = store.stats.since(before)

    before = store.stats.snapshot()
    followed = store.transition(
        report_id,
        _deciding(Command(Action.FOLLOW_UP, OFFICER, message="Sudah ditambal"), 2),
        known=routed.committed,
    )
    on_known = store.stats.since(before)

    # The figures of the store before the chain: a submission without an idempotency
    # key 1 commit, 6 writes, 0 reads; a transition 1 commit, 2 writes, and 1 read in a
    # transaction or none on a known version. The chain adds nothing to any of them.
    assert (submitted.commits, submitted.writes, submitted.reads) == (1, 6, 0)
    assert (read_first.commits, read_first.writes, read_first.reads) == (1, 2, 1)
    assert (on_known.commits, on_known.writes, on_known.reads) == (1, 2, 0)

    timeline = store.timeline(report_id)
    verdict = chain.verify(chain.export(timeline))
    assert verdict.ok and verdict.legacy == () and [e.seq for e in timeline] == [1, 2, 3]
    assert verdict.head == followed.event.hash == timeline[-1].hash
    assert routed.event.hash == timeline[1].hash  # the change returns the event as committed
    stored = client.document(f"reports/{report_id}").get().to_dict() or {}
    assert stored[TIMELINE_HEAD] == verdict.head
    assert all(event.salt for event in timeline)


def test_a_due_reports_snapshot_chains_without_a_read_and_a_refresh_keeps_the_head(
    store: FirestoreReportStore, client: firestore.Client
) -> None:
    submission = _submission(store)
    store.create_submission(submission)
    report_id = submission.report.id
    page = store.due_reports(NOW.date() + dt.timedelta(days=60), 10)
    (known,) = [snap for snap in page.reports if snap.report.id == report_id]

    before = store.stats.snapshot()
    store.transition(
        report_id,
        _deciding(Command(Action.DISPOSITION, ADMIN, agency_id="dinas-pu"), 1),
        known=known,
    )
    assert store.stats.since(before).reads == 0

    head = (client.document(f"reports/{report_id}").get().to_dict() or {})[TIMELINE_HEAD]
    store.refresh(report_id, lambda report: dataclasses.replace(report, next_due_on=None))
    stored = client.document(f"reports/{report_id}").get().to_dict() or {}
    assert stored["next_due_on"] is None and stored[TIMELINE_HEAD] == head
    store.transition(
        report_id, _deciding(Command(Action.FOLLOW_UP, OFFICER, message="Dikerjakan"), 2)
    )
    assert _verified(store, report_id).ok


def test_a_stale_known_version_is_chained_to_the_current_head_not_the_stale_one(
    store: FirestoreReportStore,
) -> None:
    submission = _submission(store)
    store.create_submission(submission)
    report_id = submission.report.id
    routed = store.transition(
        report_id, _deciding(Command(Action.DISPOSITION, ADMIN, agency_id="dinas-pu"), 1)
    )
    store.transition(report_id, _deciding(Command(Action.FOLLOW_UP, OFFICER, message="Satu"), 2))

    store.transition(
        report_id,
        _deciding(Command(Action.FOLLOW_UP, OFFICER, message="Dua"), 3),
        known=routed.committed,  # stale: read again, and chained to what was read
    )

    verdict = _verified(store, report_id)
    assert verdict.ok and len(store.timeline(report_id)) == 4


def test_a_report_written_before_the_chain_reads_as_legacy_and_chains_from_then_on(
    store: FirestoreReportStore, client: firestore.Client
) -> None:
    submission = _submission(store)
    report = submission.report
    old_doc: dict[str, Any] = report_to_doc(report)  # no timeline head
    client.document(f"reports/{report.id}").set(old_doc)
    old_event = event_to_doc(submission.event)
    for name in ("prev_hash", "hash", "salt"):
        old_event.pop(name)
    client.document(f"reports/{report.id}/events/000001").set(old_event)

    store.transition(
        report.id, _deciding(Command(Action.DISPOSITION, ADMIN, agency_id="dinas-pu"), 1)
    )

    timeline = store.timeline(report.id)
    assert timeline[0].hash is None and timeline[1].prev_hash == chain.GENESIS
    verdict = chain.verify(chain.export(timeline))
    assert verdict.ok and verdict.legacy == (1,)


def test_an_event_altered_in_the_database_is_detected(
    store: FirestoreReportStore, client: firestore.Client
) -> None:
    submission = _submission(store)
    store.create_submission(submission)
    report_id = submission.report.id
    store.transition(
        report_id, _deciding(Command(Action.DISPOSITION, ADMIN, agency_id="dinas-pu"), 1)
    )
    client.document(f"reports/{report_id}/events/000002").update({"data.agency_id": "dinas-x"})
    assert not _verified(store, report_id).ok

    client.document(f"reports/{report_id}/events/000001").delete()
    assert not _verified(store, report_id).ok
