"""The backfill of the retention fields on the Firestore emulator: an ended report
written before the fields existed gets them (so the retention query finds it), a
running report is not read, one that has them is not written, and a second run writes
nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from google.cloud import firestore

from shared.adapters.firestore import FirestoreReportStore
from shared.config import Settings
from shared.domain.report import Action, Actor, Command, Role
from shared.ports import FixedClock
from shared.usecases.act import act
from tests.integration.test_firestore_store import NOW, _submission
from tools.backfill_retention import backfill
from tools.stack import Emulators

SETTINGS = Settings(token_secret="test-token-secret-not-for-production")
ARCHIVE = Command(Action.ARCHIVE, Actor(Role.AGENCY_ADMIN, "dpupr-cianjur"), reason="Bukan laporan")


@pytest.fixture
def client(clean_emulators: Emulators) -> Iterator[firestore.Client]:
    made = firestore.Client(project=clean_emulators.project)
    yield made
    made.close()


def _archived(store: FirestoreReportStore, key: str) -> str:
    submission = _submission(store, key_hash=key)
    store.create_submission(submission)
    report_id = submission.report.id
    act(report_id, ARCHIVE, store=store, clock=FixedClock(NOW), settings=SETTINGS)
    return report_id


def test_ended_reports_without_the_retention_fields_get_them_once(
    client: firestore.Client,
) -> None:
    store = FirestoreReportStore(client)
    old, current = _archived(store, "key-old"), _archived(store, "key-current")
    running = _submission(store, key_hash="key-running")
    store.create_submission(running)
    reports = client.collection("reports")
    # Written before the fields existed: neither is there.
    reports.document(old).update({"identity_held": firestore.DELETE_FIELD,
                                  "ended_at": firestore.DELETE_FIELD})  # fmt: skip
    later = NOW + dt.timedelta(days=400)
    assert [s.report.id for s in store.identities_ended_before(later, 10).reports] == [current]
    current_written = reports.document(current).get().update_time

    done = backfill(client, page_size=1)

    assert (done.read, done.written, done.changed_meanwhile) == (2, 1, 0)  # never the running
    assert reports.document(current).get().update_time == current_written
    filled = reports.document(old).get().to_dict() or {}
    assert filled["identity_held"] is True
    assert filled["ended_at"] == NOW
    found = {s.report.id for s in store.identities_ended_before(later, 10).reports}
    assert found == {old, current}
    assert backfill(client).written == 0
