"""The casework store's fake held to its Firestore adapter (the same assertions, the
adapter on the real emulator): notes newest-limited and oldest first, an assignment
written with its change-log entry and nothing else of the report, a refused decision
writing nothing, and templates created, replaced and deleted with their entries.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from google.cloud import firestore

from shared.adapters.firestore import FirestoreAgencyStore, FirestoreReportStore
from shared.adapters.firestore_audit import FirestoreAuditLog
from shared.adapters.firestore_casework import FirestoreCaseworkStore
from shared.config import Settings
from shared.domain import report as lifecycle
from shared.domain.casework import Assignment, ResponseTemplate, StaffNote
from shared.domain.report import Priority, Report, State
from shared.domain.tracking import new_tracking_code
from shared.ports import (
    AuditEntry,
    Change,
    InboxQuery,
    NewSubmission,
    RateSlot,
    ReportNotFound,
    Scope,
    TemplateNotFound,
)
from shared.usecases.submit import submitted_event
from tests.builders import a_draft, an_identity
from tests.fakes import (
    InMemoryAgencyStore,
    InMemoryAuditLog,
    InMemoryCaseworkStore,
    InMemoryReportStore,
)
from tools.stack import Emulators

NOW = dt.datetime(2026, 3, 2, 3, 0, 15, 123456, tzinfo=dt.UTC)
SETTINGS = Settings(token_secret="test-token-secret-not-for-production")
_SLOTS = itertools.count()


@dataclass
class Backend:
    casework: Any  # CaseworkStore
    reports: Any  # ReportStore
    audit: Any  # AuditLog
    inbox: Any  # InboxStore


@pytest.fixture(params=["fake", "firestore"])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    if request.param == "fake":
        fake = InMemoryCaseworkStore(InMemoryReportStore(), InMemoryAuditLog())
        yield Backend(fake, fake.reports, fake.audit, InMemoryAgencyStore(fake.reports))
        return
    emulators: Emulators = request.getfixturevalue("clean_emulators")
    client = firestore.Client(project=emulators.project)
    yield Backend(
        FirestoreCaseworkStore(client),
        FirestoreReportStore(client),
        FirestoreAuditLog(client),
        FirestoreAgencyStore(client),
    )
    client.close()


def _file(store: Any) -> Report:
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
    slot = RateSlot(f"client:{next(_SLOTS)}", 0, NOW + dt.timedelta(hours=1))
    store.create_submission(NewSubmission(report, event, an_identity(), outbox, slot))
    return report


def a_note(report_id: str, minutes: int, text: str = "Sudah dicek ke lokasi.") -> StaffNote:
    return StaffNote(
        id="",
        report_id=report_id,
        author_id="staff:acc1",
        author_name="Siti Rahma",
        agency_id="dpupr-cianjur",
        text=text,
        at=NOW + dt.timedelta(minutes=minutes),
    )


def an_entry(kind: str, target: str) -> AuditEntry:
    return AuditEntry(
        at=NOW,
        agency_id="dpupr-cianjur",
        actor_id="staff:acc1",
        actor_name="Siti Rahma",
        kind=kind,
        target=target,
    )


# --- notes -------------------------------------------------------------------------------


def test_notes_come_back_oldest_first_keeping_the_newest_when_limited(backend: Backend) -> None:
    report = _file(backend.reports)
    other = _file(backend.reports)
    added = [backend.casework.add_note(a_note(report.id, n, f"catatan {n}")) for n in (2, 0, 1)]
    backend.casework.add_note(a_note(other.id, 5, "laporan lain"))

    assert all(note.id for note in added) and len({note.id for note in added}) == 3
    assert [n.text for n in backend.casework.notes(report.id, 10)] == [
        "catatan 0",
        "catatan 1",
        "catatan 2",
    ]
    assert [n.text for n in backend.casework.notes(report.id, 2)] == ["catatan 1", "catatan 2"]
    assert backend.casework.notes(report.id, 10)[0] == dataclasses.replace(
        a_note(report.id, 0, "catatan 0"), id=added[1].id
    )


def test_a_note_is_not_part_of_the_report_or_its_timeline(backend: Backend) -> None:
    report = _file(backend.reports)
    backend.casework.add_note(a_note(report.id, 0, "RAHASIA-INTERNAL"))

    assert "RAHASIA-INTERNAL" not in repr(backend.reports.get(report.id))
    assert "RAHASIA-INTERNAL" not in repr(list(backend.reports.timeline(report.id)))


# --- assignment --------------------------------------------------------------------------


def test_an_assignment_is_written_with_its_entry_and_nothing_else_of_the_report(
    backend: Backend,
) -> None:
    report = _file(backend.reports)
    assignment = Assignment("acc2", "Budi Santoso", Priority.URGENT)

    assigned = backend.casework.assign(
        report.id, lambda current: (assignment, an_entry("report.assigned", current.id))
    )

    stored = backend.reports.get(report.id)
    assert stored == assigned
    assert (stored.assignee_id, stored.assignee_name, stored.priority) == (
        "acc2",
        "Budi Santoso",
        Priority.URGENT,
    )
    unchanged = dataclasses.replace(stored, assignee_id=None, assignee_name=None)
    assert dataclasses.replace(unchanged, priority=Priority.NORMAL) == report
    assert len(backend.reports.timeline(report.id)) == 1
    logged = backend.audit.entries(None, None, 10).entries
    assert [(e.kind, e.target) for e in logged] == [("report.assigned", report.id)]


def test_a_refused_assignment_writes_nothing(backend: Backend) -> None:
    report = _file(backend.reports)

    def refuse(current: Report) -> tuple[Assignment, AuditEntry]:
        raise PermissionError("no")

    with pytest.raises(PermissionError):
        backend.casework.assign(report.id, refuse)
    with pytest.raises(ReportNotFound):
        backend.casework.assign(
            "tidak-ada",
            lambda r: (Assignment(None, None, Priority.HIGH), an_entry("report.assigned", "x")),
        )

    assert backend.reports.get(report.id) == report
    assert list(backend.audit.entries(None, None, 10).entries) == []


def test_an_assignment_survives_a_transition_of_the_report(backend: Backend) -> None:
    report = _file(backend.reports)
    backend.casework.assign(
        report.id,
        lambda r: (Assignment("acc2", "Budi", Priority.HIGH), an_entry("report.assigned", r.id)),
    )
    admin = lifecycle.Actor(lifecycle.Role.NATIONAL_ADMIN, "kemenpanrb")
    hold = lifecycle.Command(lifecycle.Action.HOLD, admin, reason="Mohon foto lokasi.")

    def decide(current: Report) -> Change:
        after, event = lifecycle.apply(
            current, hold, NOW, SETTINGS.calendar(), SETTINGS.deadline_policy()
        )
        return Change(after, event)

    backend.reports.transition(report.id, decide)

    held = backend.reports.get(report.id)
    assert (held.state, held.assignee_id, held.priority) == (
        lifecycle.State.ON_HOLD,
        "acc2",
        Priority.HIGH,
    )


# --- response templates ----------------------------------------------------------------


def a_template(template_id: str = "t1", title: str = "Terima kasih") -> ResponseTemplate:
    return ResponseTemplate(
        id=template_id,
        agency_id="dpupr-cianjur",
        title=title,
        body="Terima kasih atas laporan Anda.\nKami tindak lanjuti.",
        operations=("follow-up", "resolve"),
        updated_at=NOW,
        updated_by="Siti Rahma",
    )


def test_templates_are_created_replaced_and_deleted_each_with_its_entry(
    backend: Backend,
) -> None:
    store = backend.casework
    store.save_template(a_template("t1", "Zebra"), an_entry("template.created", "t1"), new=True)
    store.save_template(a_template("t2", "alpha"), an_entry("template.created", "t2"), new=True)
    other = dataclasses.replace(a_template("t3", "Dinkes"), agency_id="dinkes-cianjur")
    store.save_template(other, an_entry("template.created", "t3"), new=True)

    assert [t.id for t in store.templates(["dpupr-cianjur"])] == ["t2", "t1"]
    assert [t.id for t in store.templates(["dpupr-cianjur", "dinkes-cianjur"])] == [
        "t2",
        "t3",
        "t1",
    ]
    assert store.template("dpupr-cianjur", "t1") == a_template("t1", "Zebra")
    assert store.template("dinkes-cianjur", "t1") is None

    edited = dataclasses.replace(a_template("t1", "Zebra"), body="Baru.", operations=("hold",))
    store.save_template(edited, an_entry("template.updated", "t1"), new=False)
    assert store.template("dpupr-cianjur", "t1") == edited

    store.delete_template("dpupr-cianjur", "t1", an_entry("template.deleted", "t1"))
    assert store.template("dpupr-cianjur", "t1") is None

    kinds = [e.kind for e in backend.audit.entries("dpupr-cianjur", None, 10).entries]
    assert sorted(kinds) == sorted(
        ["template.created"] * 3 + ["template.updated", "template.deleted"]
    )


def test_a_missing_template_is_not_replaced_or_deleted_and_nothing_is_recorded(
    backend: Backend,
) -> None:
    with pytest.raises(TemplateNotFound):
        backend.casework.save_template(
            a_template("nope"), an_entry("template.updated", "nope"), new=False
        )
    with pytest.raises(TemplateNotFound):
        backend.casework.delete_template(
            "dpupr-cianjur", "nope", an_entry("template.deleted", "nope")
        )

    assert backend.casework.templates(["dpupr-cianjur"]) == []
    assert list(backend.audit.entries(None, None, 10).entries) == []


def test_the_inbox_finds_the_reports_assigned_to_someone(backend: Backend) -> None:
    """The inbox's "assigned to me", on the same store as the assignment."""
    mine, theirs, nobodys = (_file(backend.reports) for _ in range(3))
    for report, who in ((mine, "acc1"), (theirs, "acc2")):
        backend.casework.assign(
            report.id,
            lambda r, who=who: (
                Assignment(who, who, Priority.NORMAL),
                an_entry("report.assigned", r.id),
            ),
        )
    inbox = backend.inbox
    everything = Scope(everything=True)

    assigned = inbox.inbox(InboxQuery(everything, assignee_id="acc1"))
    by_status = inbox.inbox(InboxQuery(everything, status=State.SUBMITTED, assignee_id="acc1"))
    other_state = inbox.inbox(InboxQuery(everything, status=State.CLOSED, assignee_id="acc1"))

    assert [r.id for r in assigned.reports] == [mine.id]
    assert [r.id for r in by_status.reports] == [mine.id]
    assert list(other_state.reports) == []
    assert nobodys.id not in {r.id for r in assigned.reports}


def test_an_assignee_filter_goes_with_a_status_only() -> None:
    for extra in ({"escalated": True}, {"admin_queue": True}, {"overdue_before": NOW.date()}):
        with pytest.raises(ValueError, match="assignee"):
            InboxQuery(Scope(everything=True), assignee_id="acc1", **extra)
