"""The change log's fake held to its Firestore adapter (the same assertions, the adapter
on the real emulator): entries come back as recorded, newest first, filtered by agency
and kind, paged by cursor with each entry exactly once; an entry written with
``audit_document`` in another commit lands with that commit or not at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from google.api_core.exceptions import AlreadyExists
from google.auth.credentials import AnonymousCredentials
from google.cloud import firestore

from shared.adapters.firestore_audit import (
    AUDIT_LOG,
    FirestoreAuditLog,
    audit_document,
    audit_entries_query,
)
from shared.ports import AuditEntry
from tests.fakes import InMemoryAuditLog
from tools.stack import Emulators

NOW = dt.datetime(2026, 3, 2, 3, 0, 15, 123456, tzinfo=dt.UTC)


def an_entry(
    minutes: int = 0, *, agency: str = "dpupr-cianjur", kind: str = "report.assigned"
) -> AuditEntry:
    return AuditEntry(
        at=NOW + dt.timedelta(minutes=minutes),
        agency_id=agency,
        actor_id="staff:acc1",
        actor_name="Siti Rahma",
        kind=kind,
        target=f"r{minutes}",
        details={"priority": "tinggi"},
    )


@dataclass
class Backend:
    log: Any  # AuditLog


@pytest.fixture(params=["fake", "firestore"])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    if request.param == "fake":
        yield Backend(InMemoryAuditLog())
        return
    emulators: Emulators = request.getfixturevalue("clean_emulators")
    client = firestore.Client(project=emulators.project)
    yield Backend(FirestoreAuditLog(client))
    client.close()


def test_an_entry_comes_back_as_it_was_recorded(backend: Backend) -> None:
    entry = an_entry()
    backend.log.record(entry)

    page = backend.log.entries(None, None, 10)

    assert list(page.entries) == [entry]
    assert page.next_after is None


def test_entries_come_newest_first_and_page_each_exactly_once(backend: Backend) -> None:
    recorded = [an_entry(n) for n in range(5)]
    # Two at the same moment: the entry id orders them, and the cursor keeps them apart.
    recorded += [an_entry(7), an_entry(7)]
    for entry in recorded:
        backend.log.record(entry)

    seen: list[AuditEntry] = []
    after = None
    pages = 0
    while True:
        page = backend.log.entries(None, None, 2, after)
        seen += page.entries
        pages += 1
        if page.next_after is None:
            break
        after = page.next_after

    assert pages == 4
    assert sorted(seen, key=lambda e: e.at) == sorted(recorded, key=lambda e: e.at)
    assert [e.at for e in seen] == sorted((e.at for e in recorded), reverse=True)


def test_an_agency_sees_its_own_entries_and_a_filter_on_kinds_keeps_those(
    backend: Backend,
) -> None:
    backend.log.record(an_entry(1, kind="identity.viewed"))
    backend.log.record(an_entry(2, kind="report.assigned"))
    backend.log.record(an_entry(3, agency="dinkes-cianjur", kind="identity.viewed"))
    backend.log.record(an_entry(4, kind="template.created"))

    own = backend.log.entries("dpupr-cianjur", None, 10)
    views = backend.log.entries("dpupr-cianjur", frozenset({"identity.viewed"}), 10)
    all_views = backend.log.entries(None, frozenset({"identity.viewed"}), 10)
    two_kinds = backend.log.entries(
        "dpupr-cianjur", frozenset({"identity.viewed", "template.created"}), 10
    )

    assert [e.target for e in own.entries] == ["r4", "r2", "r1"]
    assert [e.target for e in views.entries] == ["r1"]
    assert [e.target for e in all_views.entries] == ["r3", "r1"]
    assert [e.target for e in two_kinds.entries] == ["r4", "r1"]


def test_an_entry_written_in_a_commit_that_fails_is_not_recorded(
    clean_emulators: Emulators,
) -> None:
    client = firestore.Client(project=clean_emulators.project)
    things = client.collection("things")
    things.document("taken").set({"x": 1})
    batch = client.batch()
    entry_id, data = audit_document(an_entry())
    batch.set(client.collection(AUDIT_LOG).document(entry_id), data)
    # The change it records cannot be made (the document exists): nothing commits.
    batch.create(things.document("taken"), {"x": 2})

    with pytest.raises(AlreadyExists):
        batch.commit()

    assert list(FirestoreAuditLog(client).entries(None, None, 10).entries) == []
    client.close()


def test_an_unknown_kind_is_refused_before_anything_is_written() -> None:
    with pytest.raises(ValueError, match="unknown change-log kind"):
        an_entry(kind="report.deleted")


def test_the_firestore_log_costs_one_write_per_entry_and_one_read_per_entry_shown(
    clean_emulators: Emulators,
) -> None:
    client = firestore.Client(project=clean_emulators.project)
    log = FirestoreAuditLog(client)
    for n in range(3):
        log.record(an_entry(n))
    assert (log.stats.commits, log.stats.writes) == (3, 3)

    log.stats.reset()
    log.entries(None, None, 2)
    log.entries("nobody", None, 2)

    # Two shown (the third, read to know there are more, is billed too) + an empty page.
    assert log.stats.reads == 3 + 1
    client.close()


def test_an_agency_with_its_units_sees_theirs_and_no_one_elses(backend: Backend) -> None:
    backend.log.record(an_entry(1, agency="dpupr-cianjur", kind="identity.viewed"))
    backend.log.record(an_entry(2, agency="uptd-jalan-cianjur", kind="staff.invited"))
    backend.log.record(an_entry(3, agency="uptd-jalan-cianjur", kind="identity.viewed"))
    backend.log.record(an_entry(4, agency="dinkes-cianjur", kind="identity.viewed"))
    tree = frozenset({"dpupr-cianjur", "uptd-jalan-cianjur"})

    everything = backend.log.entries(tree, None, 10)
    views = backend.log.entries(tree, frozenset({"identity.viewed"}), 10)
    two_kinds = backend.log.entries(tree, frozenset({"identity.viewed", "staff.invited"}), 10)

    assert [e.target for e in everything.entries] == ["r3", "r2", "r1"]
    assert [e.target for e in views.entries] == ["r3", "r1"]
    assert [e.target for e in two_kinds.entries] == ["r3", "r2", "r1"]


def test_a_filter_firestore_cannot_run_is_refused_before_any_read() -> None:
    log = firestore.Client(project="offline", credentials=AnonymousCredentials()).collection("x")
    many = frozenset(f"a{n}" for n in range(16))
    with pytest.raises(ValueError, match="agencies times kinds"):
        audit_entries_query(log, many, frozenset({"identity.viewed", "report.assigned"}), 1, None)
    with pytest.raises(ValueError, match="empty filter"):
        audit_entries_query(log, frozenset(), None, 1, None)
