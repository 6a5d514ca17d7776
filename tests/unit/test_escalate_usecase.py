"""The daily escalation run with in-memory fakes: each tier once, catch-up after missed
days, a second run and two interleaved runs changing nothing more, automatic closing
and archiving, the verification clock, and whom each tier tells.

October 2026 has no national holiday: a complaint dispositioned on Monday 5 October
is due (14 working days) on Friday 23 October; the reminder fires on the 22nd, the
overdue tier on Monday the 26th, the national tier on the 30th and the Ombudsman's
at twice the deadline, 12 November.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from shared.config import Settings
from shared.domain import report as lifecycle
from shared.domain.escalation import Recipient
from shared.domain.report import Action, Actor, ClosedBy, Command, Region, Report, Role, State
from shared.domain.tracking import new_tracking_code
from shared.ports import DuePage, EscalatePorts, FixedClock, NewSubmission, RateSlot
from shared.reference import load_reference
from shared.usecases.act import act
from shared.usecases.escalate import SYSTEM, EscalationRun, escalate, recipients
from shared.usecases.notices import parse_notified
from shared.usecases.submit import submitted_event
from tests.builders import a_draft, an_identity
from tests.fakes import InMemoryPublisher, InMemoryReportStore

JAKARTA = ZoneInfo("Asia/Jakarta")
SETTINGS = Settings(token_secret="test-token-secret-not-for-production")
REFERENCE = load_reference()
MONDAY = dt.datetime(2026, 10, 5, 9, 0, tzinfo=JAKARTA)
DUE = dt.date(2026, 10, 23)
REMINDER, OVERDUE, NATIONAL = dt.date(2026, 10, 22), dt.date(2026, 10, 26), dt.date(2026, 10, 30)
OMBUDSMAN = dt.date(2026, 11, 12)
ADMIN = Actor(Role.AGENCY_ADMIN, "dpupr-cianjur")


def ports(store: InMemoryReportStore, publisher: InMemoryPublisher | None = None) -> EscalatePorts:
    return EscalatePorts(
        store=store,
        publisher=publisher or InMemoryPublisher(),
        clock=FixedClock(MONDAY),
        settings=SETTINGS,
        reference=REFERENCE,
    )


def submitted(store: InMemoryReportStore, at: dt.datetime = MONDAY, **draft: object) -> Report:
    report_id = store.new_report_id()
    report, event = lifecycle.submit(
        a_draft(**draft),  # type: ignore[arg-type]
        report_id,
        new_tracking_code(),
        at,
        SETTINGS.calendar(),
        SETTINGS.deadline_policy(),
    )
    outbox = submitted_event(report, f"{report_id}.1", at, SETTINGS.topic_report_submitted)
    slot = RateSlot(f"client:{report_id}", 0, at + dt.timedelta(hours=1))
    store.create_submission(NewSubmission(report, event, an_identity(), outbox, slot))
    return report


def acted(store: InMemoryReportStore, report_id: str, command: Command, at: dt.datetime) -> Report:
    return act(report_id, command, store=store, clock=FixedClock(at), settings=SETTINGS).report


def dispositioned(
    store: InMemoryReportStore, agency_id: str = "dpupr-cianjur", at: dt.datetime = MONDAY
) -> Report:
    report = submitted(store, at)
    command = Command(Action.DISPOSITION, Actor(Role.SYSTEM, "system:route"), agency_id=agency_id)
    return acted(store, report.id, command, at)


def escalations(store: InMemoryReportStore, report_id: str) -> list[tuple[str, str]]:
    return [
        (str(e.data["tier"]), str(e.data["notified"]))
        for e in store.timeline(report_id)
        if e.action is Action.ESCALATE
    ]


def told(publisher: InMemoryPublisher) -> list[tuple[str, str, str]]:
    return [
        (str(m.data["agency_id"]), str(m.data["data"]["tier"]), str(m.data["data"]["recipient"]))  # type: ignore[index]
        for m in publisher.published
    ]


# --- each tier once, on its day -------------------------------------------------------


def test_the_dates_this_file_relies_on() -> None:
    calendar = SETTINGS.calendar()
    assert calendar.add_working_days(MONDAY.date(), 14) == DUE
    assert calendar.add_working_days(MONDAY.date(), 28) == OMBUDSMAN


def test_each_tier_fires_once_on_its_day_and_tells_its_recipients() -> None:
    store, publisher = InMemoryReportStore(), InMemoryPublisher()
    report = dispositioned(store)

    days = [REMINDER - dt.timedelta(days=1), REMINDER, REMINDER, OVERDUE, NATIONAL, OMBUDSMAN]
    runs = [escalate(day, ports(store, publisher)) for day in days]

    assert [dict(run.escalated) for run in runs] == [
        {}, {"reminder": 1}, {}, {"overdue": 1}, {"national": 1}, {"ombudsman": 1},
    ]  # fmt: skip
    assert escalations(store, report.id) == [
        ("reminder", "handling_agency:dpupr-cianjur"),
        ("overdue", "agency_admin:dpupr-cianjur,parent_agency:pemkab-cianjur"),
        ("national", "national_admin:nasional"),
        ("ombudsman", "ombudsman:ombudsman-ri,national_admin:nasional"),
    ]
    assert told(publisher) == [
        ("dpupr-cianjur", "reminder", "handling_agency"),
        ("dpupr-cianjur", "overdue", "agency_admin"),
        ("pemkab-cianjur", "overdue", "parent_agency"),
        ("nasional", "national", "national_admin"),
        ("ombudsman-ri", "ombudsman", "ombudsman"),
        ("nasional", "ombudsman", "national_admin"),
    ]
    after = store.reports[report.id]
    assert after.escalation_tier == "ombudsman" and after.next_due_on is None
    # Published, and pending until notify settles each: the run deletes nothing.
    escalated = {m.id for m in publisher.published if m.data.get("kind") == "report.escalated"}
    assert escalated <= set(store.outbox)


def test_the_notification_says_which_tier_clock_due_date_and_how_overdue() -> None:
    store, publisher = InMemoryReportStore(), InMemoryPublisher()
    report = dispositioned(store)
    escalate(NATIONAL, ports(store, publisher))

    national = publisher.published[-1]
    seq = store.reports[report.id].last_seq
    assert national.id == f"{report.id}.{seq}.nasional"
    assert national.data == {
        "notification_id": f"{report.id}.{seq}.nasional",
        "kind": "report.escalated",
        "agency_id": "nasional",
        "report_id": report.id,
        "tracking_code": report.tracking_code,
        "data": {
            "tier": "national",
            "recipient": "national_admin",
            "clock": "resolve",
            "clock_id": report.clock_id,
            "due_on": "2026-10-23",
            "overdue_working_days": 5,
        },
    }
    assert national.attributes["ce-type"] == "id.lapor.report.escalated.v1"


def test_the_ombudsman_tier_links_the_dossier() -> None:
    store, publisher = InMemoryReportStore(), InMemoryPublisher()
    report = dispositioned(store)
    settings = SETTINGS.model_copy(update={"agency_url": "https://agency.example"})
    escalate(OMBUDSMAN, dataclasses.replace(ports(store, publisher), settings=settings))

    dossier = f"https://agency.example/api/v1/reports/{report.id}/dossier"
    last_tier = [m for m in publisher.published if m.data["data"]["tier"] == "ombudsman"]  # type: ignore[index]
    assert [m.data["agency_id"] for m in last_tier] == ["ombudsman-ri", "nasional"]
    assert all(m.data["data"]["dossier_url"] == dossier for m in last_tier)  # type: ignore[index]
    assert all("dossier_url" not in m.data["data"] for m in publisher.published[:-2])  # type: ignore[operator]


def test_events_carry_the_runs_logical_moment_whenever_it_runs() -> None:
    store = InMemoryReportStore()
    report = dispositioned(store)
    escalate(REMINDER, ports(store))
    [event] = [e for e in store.timeline(report.id) if e.action is Action.ESCALATE]
    assert event.at == dt.datetime(2026, 10, 22, 7, 0, tzinfo=JAKARTA)
    assert event.actor == SYSTEM


# --- idempotent: again, at once, after missed days ---------------------------------------


def test_a_second_run_for_the_same_day_finds_nothing_and_changes_nothing() -> None:
    store, publisher = InMemoryReportStore(), InMemoryPublisher()
    reports = [dispositioned(store) for _ in range(3)]
    first = escalate(OVERDUE, ports(store, publisher))
    state = dict(store.reports)
    commits = store.commits

    again = escalate(OVERDUE, ports(store, publisher))

    assert first.escalated == {"reminder": 3, "overdue": 3}
    assert again.examined == 0 and again.escalated == {}
    assert store.reports == state and store.commits == commits
    assert len(publisher.published) == 9  # 3 reminders + 3 x (admin, parent)
    assert all(len(escalations(store, r.id)) == 2 for r in reports)


class _Interleaved(InMemoryReportStore):
    """A store on which another run does all its work between this run's query and
    its transactions (the worst interleaving of two runs at once)."""

    other: EscalatePorts | None = None

    def due_reports(
        self, on_or_before: dt.date, limit: int, after: tuple[str, str] | None = None
    ) -> DuePage:
        page = super().due_reports(on_or_before, limit, after)
        if self.other is not None:
            other, self.other = self.other, None
            self.seen_by_other = escalate(on_or_before, other)
        return page


def test_two_interleaved_runs_fire_each_tier_once_and_count_the_rest_as_done() -> None:
    store, publisher = _Interleaved(), InMemoryPublisher()
    reports = [dispositioned(store) for _ in range(4)]
    store.other = ports(store, publisher)
    reads = store.reads

    late = escalate(NATIONAL, ports(store, publisher))

    assert store.seen_by_other.escalated == {"reminder": 4, "overdue": 4, "national": 4}
    assert late.examined == 4 and late.already_done == 4 and late.escalated == {}
    # Both queries read the 4 reports; the late run's snapshots were stale by its first
    # commit, so it read each once more, fresh, and found nothing left to do.
    assert store.reads - reads == 4 + 4 + 4
    assert late.refused == 0 and late.notifications == 0
    for report in reports:
        assert [tier for tier, _ in escalations(store, report.id)] == [
            "reminder", "overdue", "national",
        ]  # fmt: skip
    ids = [m.id for m in publisher.published]
    assert len(ids) == len(set(ids)) == 4 * 4


def test_a_run_after_missed_days_catches_up_in_order() -> None:
    store, publisher = InMemoryReportStore(), InMemoryPublisher()
    report = dispositioned(store)
    reads = store.reads

    run = escalate(NATIONAL, ports(store, publisher))

    assert run.escalated == {"reminder": 1, "overdue": 1, "national": 1}
    # Read once, by the query: each tier commits on what the one before committed.
    assert store.reads - reads == 1
    assert [tier for tier, _ in escalations(store, report.id)] == [
        "reminder",
        "overdue",
        "national",
    ]
    assert store.reports[report.id].next_due_on == OMBUDSMAN


def test_a_new_disposition_starts_a_new_clock_with_its_own_tiers() -> None:
    store = InMemoryReportStore()
    report = dispositioned(store)
    escalate(OVERDUE, ports(store))
    back = Command(Action.NOT_OUR_AUTHORITY, ADMIN, reason="Jalan provinsi, bukan kabupaten")
    acted(store, report.id, back, dt.datetime(2026, 10, 27, 10, tzinfo=JAKARTA))
    again = Command(
        Action.DISPOSITION, Actor(Role.NATIONAL_ADMIN, "nasional"), agency_id="dbmpr-jabar"
    )
    acted(store, report.id, again, dt.datetime(2026, 10, 27, 11, tzinfo=JAKARTA))

    # dbmpr-jabar's own 14 working days: due 16 November, reminder on the 13th.
    assert escalate(dt.date(2026, 11, 12), ports(store)).escalated == {}
    run = escalate(dt.date(2026, 11, 13), ports(store))

    assert run.escalated == {"reminder": 1}
    assert escalations(store, report.id)[-1] == ("reminder", "handling_agency:dbmpr-jabar")


# --- automatic closing and archiving ----------------------------------------------------


def test_a_resolved_report_closes_by_timeout_after_the_reporters_silence() -> None:
    store = InMemoryReportStore()
    report = dispositioned(store)
    acted(store, report.id, Command(Action.FOLLOW_UP, ADMIN, message="Dicek"), MONDAY)
    acted(store, report.id, Command(Action.RESOLVE, ADMIN, message="Sudah ditambal"), MONDAY)
    last_quiet_day = store.reports[report.id].auto_close_due
    assert last_quiet_day == dt.date(2026, 10, 19)

    assert escalate(last_quiet_day, ports(store)).auto_closed == 0
    publisher = InMemoryPublisher()
    run = escalate(last_quiet_day + dt.timedelta(days=1), ports(store, publisher))

    closed = store.reports[report.id]
    assert run.auto_closed == 1 and closed.state is State.CLOSED
    assert closed.closed_by is ClosedBy.TIMEOUT and closed.next_due_on is None
    assert store.timeline(report.id)[-1].actor == SYSTEM
    # The reporter is told, in the same commit, published; notify settles it.
    assert (run.notifications, run.published) == (1, 1)
    assert [(m.id, m.data["kind"]) for m in publisher.published] == [
        (f"{report.id}.{closed.last_seq}.reporter", "report.closed")
    ]
    assert f"{report.id}.{closed.last_seq}.reporter" in store.outbox


def test_a_hold_left_unanswered_past_the_silence_is_archived_by_the_system() -> None:
    store = InMemoryReportStore()
    report = submitted(store)
    hold = Command(Action.HOLD, Actor(Role.NATIONAL_ADMIN, "nasional"), reason="Lokasi tepatnya?")
    held = acted(store, report.id, hold, MONDAY)
    assert held.next_due_on == dt.date(2026, 10, 20)  # the day after 10 working days

    assert escalate(dt.date(2026, 10, 19), ports(store)).archived == 0
    publisher = InMemoryPublisher()
    run = escalate(dt.date(2026, 10, 20), ports(store, publisher))

    archived = store.reports[report.id]
    assert run.archived == 1 and archived.state is State.ARCHIVED
    last = store.timeline(report.id)[-1]
    assert last.actor == SYSTEM and last.reason and "diarsipkan otomatis" in last.reason
    [told_reporter] = publisher.published
    assert told_reporter.data["kind"] == "report.archived"
    assert told_reporter.data["data"] == {"message": None, "reason": last.reason}


# --- the verification clock ------------------------------------------------------------


def test_an_unrouted_report_climbs_to_the_regional_then_the_national_admin() -> None:
    store, publisher = InMemoryReportStore(), InMemoryPublisher()
    report = submitted(store)  # due for verification on Thursday 8 October
    queue = Command(
        Action.QUEUE_FOR_ADMIN, Actor(Role.SYSTEM, "system:route"), reason="Tidak cocok"
    )
    acted(store, report.id, queue, MONDAY)

    assert escalate(dt.date(2026, 10, 8), ports(store, publisher)).escalated == {}
    first = escalate(dt.date(2026, 10, 9), ports(store, publisher))
    second = escalate(dt.date(2026, 10, 15), ports(store, publisher))

    assert first.escalated == {"verify-overdue": 1} and second.escalated == {"verify-national": 1}
    assert escalations(store, report.id) == [
        ("verify-overdue", "regional_admin:pemkab-cianjur"),
        ("verify-national", "national_admin:nasional"),
    ]
    assert store.reports[report.id].admin_queue is not None  # still waiting for an admin


# --- whom each recipient names ----------------------------------------------------------


def _tier(*who: Recipient) -> object:
    from shared.domain.escalation import Anchor, ClockKind, Tier

    return Tier("t", ClockKind.RESOLVE, Anchor.DUE, 1, who)


@pytest.mark.parametrize(
    ("how", "who", "expected"),
    [
        ({"agency_id": "dpupr-cianjur", "unit_id": "uptd-jalan-cianjur"},
         Recipient.HANDLING_AGENCY, "uptd-jalan-cianjur"),
        ({"agency_id": "dpupr-cianjur", "unit_id": "uptd-jalan-cianjur"},
         Recipient.AGENCY_ADMIN, "dpupr-cianjur"),
        ({"agency_id": "dbmpr-jabar"}, Recipient.PARENT_AGENCY, "pemprov-jabar"),
        ({"agency_id": "nasional"}, Recipient.PARENT_AGENCY, None),
        ({"region": Region("32", "32.03")}, Recipient.REGIONAL_ADMIN, "pemkab-cianjur"),
        ({"region": Region("32", "32.01")}, Recipient.REGIONAL_ADMIN, "pemprov-jabar"),
        ({"region": Region("32")}, Recipient.REGIONAL_ADMIN, "pemprov-jabar"),
        ({"region": Region("11", "11.01")}, Recipient.REGIONAL_ADMIN, None),
        ({}, Recipient.NATIONAL_ADMIN, "nasional"),
        ({}, Recipient.OMBUDSMAN, "ombudsman-ri"),
    ],
)  # fmt: skip
def test_each_recipient_resolves_to_an_agency_of_the_tree(
    how: dict[str, object], who: Recipient, expected: str | None
) -> None:
    store = InMemoryReportStore()
    report = dataclasses.replace(submitted(store), **how)  # type: ignore[arg-type]
    found = recipients(report, _tier(who), REFERENCE, SETTINGS)  # type: ignore[arg-type]
    assert found == (((who, expected),) if expected else ())


def test_an_agency_named_by_two_recipients_is_told_once_and_recorded_as_it_was() -> None:
    store = InMemoryReportStore()
    report = dataclasses.replace(submitted(store), agency_id="dpupr-cianjur")
    tier = _tier(Recipient.HANDLING_AGENCY, Recipient.AGENCY_ADMIN, Recipient.PARENT_AGENCY)
    found = recipients(report, tier, REFERENCE, SETTINGS)  # type: ignore[arg-type]
    assert found == (
        (Recipient.HANDLING_AGENCY, "dpupr-cianjur"),
        (Recipient.PARENT_AGENCY, "pemkab-cianjur"),
    )
    assert parse_notified("handling_agency:dpupr-cianjur,parent_agency:pemkab-cianjur") == found
    assert parse_notified("") == ()


# --- paging, publishing, reconfiguration ----------------------------------------------------


def test_the_run_walks_the_due_reports_a_page_at_a_time() -> None:
    store = InMemoryReportStore()
    for _ in range(5):
        dispositioned(store)
    dispositioned(store, at=MONDAY + dt.timedelta(days=7))  # not due yet
    settings = SETTINGS.model_copy(update={"escalation_page_size": 2})
    reads = store.reads

    run = escalate(REMINDER, dataclasses.replace(ports(store), settings=settings))

    assert (run.pages, run.examined, run.escalated) == (3, 5, {"reminder": 5})
    assert store.reads - reads == 5  # the due reports, each once (the last page is not full)


class _ActedOnMeanwhile(InMemoryReportStore):
    """A store on which the agency follows a report up right after the run's query."""

    follow_up: str | None = None

    def due_reports(
        self, on_or_before: dt.date, limit: int, after: tuple[str, str] | None = None
    ) -> DuePage:
        page = super().due_reports(on_or_before, limit, after)
        if self.follow_up is not None:
            report_id, self.follow_up = self.follow_up, None
            command = Command(Action.FOLLOW_UP, ADMIN, message="Sedang dikerjakan.")
            acted(self, report_id, command, MONDAY + dt.timedelta(days=10))
        return page


def test_a_report_changed_after_the_query_is_decided_again_on_its_fresh_state() -> None:
    store = _ActedOnMeanwhile()
    raced, *others = [dispositioned(store) for _ in range(3)]
    store.follow_up = raced.id
    reads = store.reads

    run = escalate(OVERDUE, ports(store))

    assert run.escalated == {"reminder": 3, "overdue": 3} and run.refused == 0
    # The follow-up's read, the query's 3, and one fresh read of the raced report.
    assert store.reads - reads == 1 + 3 + 1
    actions = [e.action for e in store.timeline(raced.id)]
    assert actions[-3:] == [Action.FOLLOW_UP, Action.ESCALATE, Action.ESCALATE]
    assert store.reports[raced.id].first_response_at is not None  # the follow-up kept
    assert all(len(escalations(store, r.id)) == 2 for r in others)


def test_when_the_bus_is_down_the_notifications_wait_in_the_outbox() -> None:
    store, publisher = InMemoryReportStore(), InMemoryPublisher(fail=True)
    report = dispositioned(store)

    run = escalate(OVERDUE, ports(store, publisher))

    assert (run.notifications, run.published) == (3, 0)
    seq = store.reports[report.id].last_seq
    assert f"{report.id}.{seq}.pemkab-cianjur" in store.outbox


def test_a_report_whose_next_due_on_no_longer_holds_is_stored_again() -> None:
    store = InMemoryReportStore()
    report = dispositioned(store)
    # As if the tiers had been reconfigured: the stored date says today, nothing is due.
    store.reports[report.id] = dataclasses.replace(report, next_due_on=dt.date(2026, 10, 6))

    run = escalate(dt.date(2026, 10, 6), ports(store))

    assert (run.rescheduled, run.already_done, run.escalated) == (1, 0, {})
    assert store.reports[report.id].next_due_on == REMINDER
    assert escalate(dt.date(2026, 10, 6), ports(store)).examined == 0


def test_the_result_as_json() -> None:
    run = EscalationRun(dt.date(2026, 10, 26), pages=1, examined=2)
    run.escalated["overdue"] += 2
    assert run.as_json() == {
        "run_date": "2026-10-26", "pages": 1, "examined": 2, "escalated": {"overdue": 2},
        "auto_closed": 0, "archived": 0, "already_done": 0, "rescheduled": 0, "refused": 0,
        "notifications": 0, "published": 0,
    }  # fmt: skip
