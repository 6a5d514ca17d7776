"""Retention with in-memory fakes: the erasure in the lifecycle, and the daily run that
erases the identities kept past ``identity_retention_days`` after their report ended."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest

from shared.config import Settings
from shared.domain import chain
from shared.domain import report as lifecycle
from shared.domain.privacy import Audience, view
from shared.domain.report import (
    Action,
    Actor,
    Command,
    ContactErasedBy,
    InvalidCommand,
    NotPermitted,
    Report,
    Role,
    State,
)
from shared.domain.retention import ended_at
from shared.domain.tracking import new_tracking_code
from shared.ports import (
    DeliveryStatus,
    DuePage,
    FixedClock,
    NewSubmission,
    RateSlot,
    RetentionPorts,
)
from shared.pubsub_push import read_push
from shared.reference import load_reference
from shared.usecases.act import act
from shared.usecases.notify import (
    ReporterNotification,
    notification_message,
    notify_reporter,
    reporter_notification,
)
from shared.usecases.retention import erase_expired_identities, run_cutoff
from shared.usecases.submit import submitted_event
from tests.builders import a_draft, an_identity
from tests.fakes import InMemoryReportStore, NotifyFakes

JAKARTA = ZoneInfo("Asia/Jakarta")
SETTINGS = Settings(token_secret="test-token-secret-not-for-production")
REFERENCE = load_reference()
START = dt.datetime(2025, 3, 3, 9, 0, tzinfo=JAKARTA)
ADMIN = Actor(Role.AGENCY_ADMIN, "dpupr-cianjur")
REPORTER = Actor(Role.REPORTER, "reporter")
ERASE_BY_REPORTER = Command(Action.ERASE_CONTACT, REPORTER)
ERASE_BY_JOB = Command(Action.ERASE_CONTACT, Actor(Role.SYSTEM, "system:retention"))


def submitted(store: InMemoryReportStore, at: dt.datetime = START) -> Report:
    report_id = store.new_report_id()
    report, event = lifecycle.submit(
        a_draft(), report_id, new_tracking_code(), at, SETTINGS.calendar(),
        SETTINGS.deadline_policy(),
    )  # fmt: skip
    outbox = submitted_event(report, f"{report_id}.1", at, SETTINGS.topic_report_submitted)
    slot = RateSlot(f"client:{report_id}", 0, at + dt.timedelta(hours=1))
    store.create_submission(NewSubmission(report, event, an_identity(), outbox, slot))
    return report


def acted(store: InMemoryReportStore, report_id: str, command: Command, at: dt.datetime) -> Report:
    return act(report_id, command, store=store, clock=FixedClock(at), settings=SETTINGS).report


def archived(store: InMemoryReportStore, at: dt.datetime) -> Report:
    report = submitted(store, at - dt.timedelta(days=1))
    return acted(store, report.id, Command(Action.ARCHIVE, ADMIN, reason="Bukan laporan"), at)


def ports(store: InMemoryReportStore, **settings: object) -> RetentionPorts:
    chosen = SETTINGS.model_copy(update=settings) if settings else SETTINGS
    return RetentionPorts(
        store=store, clock=FixedClock(START), settings=chosen, reference=REFERENCE
    )


def run_day(ended: dt.datetime, days_after: int) -> dt.date:
    return ended.date() + dt.timedelta(days=days_after)


# --- the erasure in the lifecycle -----------------------------------------------------


def test_the_reporter_may_erase_at_any_time_and_the_report_goes_on_as_it_was() -> None:
    store = InMemoryReportStore()
    report = submitted(store)

    change = act(
        report.id, ERASE_BY_REPORTER, store=store, clock=FixedClock(START), settings=SETTINGS
    )

    assert change.report.state is State.SUBMITTED
    assert change.report.contact_erased is ContactErasedBy.REPORTER
    assert change.report.verify_due == report.verify_due
    assert report.id not in store.identities
    assert dict(change.event.data) == {"by": "reporter"}
    assert change.outbox == ()  # an erasure tells nobody
    [entry] = store.audit
    assert (entry.kind, entry.target, entry.actor_id) == ("identity.erased", report.id, "reporter")
    assert dict(entry.details) == {"tracking_code": report.tracking_code, "by": "reporter"}


def test_the_erasure_event_names_no_one_and_keeps_the_chain_valid() -> None:
    store = InMemoryReportStore()
    report = submitted(store)
    acted(store, report.id, ERASE_BY_REPORTER, START)

    events = store.timeline(report.id)
    erasure = events[-1]
    assert (erasure.action, erasure.reason, erasure.message) == (Action.ERASE_CONTACT, None, None)
    identity = an_identity()
    assert not {identity.name, identity.email, identity.phone} & set(
        map(str, erasure.data.values())
    )
    assert chain.verify(chain.export(events)).ok


def test_contact_details_are_erased_once() -> None:
    store = InMemoryReportStore()
    report = submitted(store)
    acted(store, report.id, ERASE_BY_REPORTER, START)

    with pytest.raises(InvalidCommand):
        acted(store, report.id, ERASE_BY_REPORTER, START)


def test_the_job_never_erases_a_report_still_running() -> None:
    store = InMemoryReportStore()
    report = submitted(store)

    with pytest.raises(NotPermitted):
        acted(store, report.id, ERASE_BY_JOB, START)
    assert report.id in store.identities


def test_a_closed_report_ended_when_it_closed_even_if_rated_later() -> None:
    store = InMemoryReportStore()
    report = submitted(store)
    steps = [
        Command(Action.DISPOSITION, ADMIN, agency_id="dpupr-cianjur"),
        Command(Action.FOLLOW_UP, ADMIN, message="Sedang diperbaiki"),
        Command(Action.RESOLVE, ADMIN, message="Sudah diperbaiki"),
        Command(Action.CONFIRM, REPORTER),
    ]
    for step in steps:
        report = acted(store, report.id, step, START)
    rated = acted(
        store, report.id, Command(Action.RATE, REPORTER, rating=5), START + dt.timedelta(days=30)
    )

    assert ended_at(rated) == report.closed_at == START


def test_a_running_report_has_not_ended() -> None:
    store = InMemoryReportStore()
    assert ended_at(submitted(store)) is None


# --- the daily run ----------------------------------------------------------------------


def test_the_run_erases_an_identity_kept_past_the_retention_period_only() -> None:
    store = InMemoryReportStore()
    old = archived(store, START)
    recent = archived(store, START + dt.timedelta(days=10))
    running = submitted(store)
    day = run_day(START, SETTINGS.identity_retention_days + 2)

    run = erase_expired_identities(day, ports(store))

    assert (run.examined, run.erased, run.already_done, run.more) == (1, 1, 0, False)
    assert old.id not in store.identities
    assert recent.id in store.identities and running.id in store.identities
    assert store.reports[old.id].contact_erased is ContactErasedBy.RETENTION
    assert store.reports[old.id].state is State.ARCHIVED
    assert store.timeline(old.id)[-1].actor == Actor(Role.SYSTEM, "system:retention")
    [entry] = store.audit
    assert (entry.kind, entry.actor_id, dict(entry.details)["by"]) == (
        "identity.erased",
        "system",
        "retention",
    )
    assert chain.verify(chain.export(store.timeline(old.id))).ok


def test_the_cutoff_is_the_run_days_start_less_the_retention_period() -> None:
    cutoff = run_cutoff(dt.date(2026, 3, 2), SETTINGS)
    assert cutoff == dt.datetime(2026, 3, 2, tzinfo=JAKARTA) - dt.timedelta(days=365)


def test_a_second_run_erases_nothing_more_and_reads_one_empty_page() -> None:
    store = InMemoryReportStore()
    archived(store, START)
    day = run_day(START, 400)
    erase_expired_identities(day, ports(store))
    events_before = {rid: len(events) for rid, events in store.events.items()}
    reads_before = store.reads

    again = erase_expired_identities(day, ports(store))

    assert (again.examined, again.erased) == (0, 0)
    assert store.reads - reads_before == 1
    assert {rid: len(events) for rid, events in store.events.items()} == events_before


def test_a_run_stops_at_its_limit_and_the_next_takes_the_rest() -> None:
    store = InMemoryReportStore()
    reports = [archived(store, START + dt.timedelta(hours=h)) for h in range(5)]
    day = run_day(START, 400)

    first = erase_expired_identities(
        day, ports(store, retention_run_limit=3, escalation_page_size=2)
    )
    second = erase_expired_identities(
        day, ports(store, retention_run_limit=3, escalation_page_size=2)
    )

    assert (first.erased, first.more, second.erased, second.more) == (3, True, 2, False)
    # The oldest first: the run erases in the order the reports ended.
    assert [r.id for r in reports[:3] if r.id in store.identities] == []
    assert not store.identities


@dataclasses.dataclass
class QueriedEarlier(InMemoryReportStore):
    """A store whose retention query answers the page it answered earlier."""

    earlier: DuePage | None = None

    def identities_ended_before(
        self, before: dt.datetime, limit: int, after: tuple[str, str] | None = None
    ) -> DuePage:
        if self.earlier is not None:
            return self.earlier
        return super().identities_ended_before(before, limit, after)


def test_a_report_its_reporter_erased_since_the_query_counts_as_already_done() -> None:
    store = QueriedEarlier()
    report = archived(store, START)
    day = run_day(START, 400)
    store.earlier = store.identities_ended_before(run_cutoff(day, SETTINGS), 10)
    acted(store, report.id, ERASE_BY_REPORTER, START + dt.timedelta(days=399))

    run = erase_expired_identities(day, ports(store, retention_run_limit=1))

    assert (run.erased, run.already_done) == (0, 1)
    assert store.reports[report.id].contact_erased is ContactErasedBy.REPORTER
    assert [e.action for e in store.timeline(report.id)].count(Action.ERASE_CONTACT) == 1


@pytest.mark.parametrize("role", [Role.AGENCY_ADMIN, Role.NATIONAL_ADMIN, Role.UNIT_OFFICER])
def test_staff_cannot_erase_a_reporters_contact_details(role: Role) -> None:
    store = InMemoryReportStore()
    report = submitted(store)

    with pytest.raises(NotPermitted):
        acted(store, report.id, Command(Action.ERASE_CONTACT, Actor(role, "dinas")), START)


def test_erasure_is_no_transition_of_the_lifecycle() -> None:
    for state in State:
        assert Action.ERASE_CONTACT not in lifecycle.legal_actions(state)


# --- after the erasure: nobody to tell, and the agency sees why ------------------------


def test_after_the_erasure_the_reporter_is_told_nothing_more() -> None:
    fakes = NotifyFakes()
    report = submitted(fakes.store)
    acted(fakes.store, report.id, ERASE_BY_REPORTER, START)
    message = reporter_notification(
        notification_id=f"{report.id}.1.reporter", kind="report.accepted", report_id=report.id,
        tracking_code=report.tracking_code, seq=1, data=None, topic="reporter-notifications",
        at=START, ce_type="id.lapor.report.accepted.v1", source="//lapor/lifecycle",
    )  # fmt: skip
    raw = base64.b64encode(json.dumps(dict(message.data)).encode()).decode()
    parsed = notification_message(read_push({"message": {"data": raw}}, None, "dead"))
    assert isinstance(parsed, ReporterNotification)

    delivery = notify_reporter(parsed, fakes.ports())

    assert (delivery.status, delivery.last_error) == (DeliveryStatus.NO_CHANNEL, "contact erased")
    assert not fakes.email.sent and not fakes.sms.sent


def test_the_agency_sees_the_contact_was_erased_and_the_public_nothing_of_it() -> None:
    store = InMemoryReportStore()
    report = submitted(store)
    erased = acted(store, report.id, ERASE_BY_REPORTER, START)

    assert view(erased, (), Audience.AGENCY)["contact_erased"] == "reporter"  # type: ignore[index]
    assert view(erased, (), Audience.REPORTER)["contact_erased"] == "reporter"  # type: ignore[index]
    assert "contact_erased" not in (view(erased, (), Audience.PUBLIC) or {})
