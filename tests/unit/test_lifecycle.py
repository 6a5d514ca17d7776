"""Every legal and every illegal transition of the report lifecycle, and its clocks."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from collections.abc import Mapping

import pytest

from shared.domain.calendar import WorkingCalendar
from shared.domain.escalation import due_tiers
from shared.domain.report import (
    PERMITTED_ROLES,
    TRANSITIONS,
    Action,
    Actor,
    ClosedBy,
    Command,
    DeadlinePolicy,
    IllegalTransition,
    InvalidCommand,
    NotPermitted,
    Report,
    ReportType,
    Role,
    State,
    apply,
    is_overdue,
    legal_actions,
    submit,
)
from tests.builders import a_draft

CAL = WorkingCalendar()
POLICY = DeadlinePolicy()
# Monday 7 December 2026, 10:00 in Jakarta.
MONDAY = dt.datetime(2026, 12, 7, 3, 0, tzinfo=dt.UTC)
# Late enough that every clock started on MONDAY has run out and a resolved report
# has waited out its reporter: the daily run's actions are due.
LATER = MONDAY + dt.timedelta(days=40)
D = dt.date


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


def new_report(at: dt.datetime = MONDAY, type: ReportType = ReportType.COMPLAINT) -> Report:
    report, _ = submit(a_draft(type=type), "r1", "K7M-2XQ-9RJ", at, CAL, POLICY)
    return report


def command_for(action: Action, role: Role | None = None, report: Report | None = None) -> Command:
    """A well-formed command for ``action``; an escalation names the first tier due on
    LATER for ``report``'s running clock."""
    role = role or sorted(PERMITTED_ROLES[action])[0]
    data: Mapping[str, str | int] = {}
    if action is Action.ESCALATE and report is not None:
        tiers = due_tiers(report, CAL.local_date(LATER), POLICY.tiers, CAL)
        data = {"tier": tiers[0].id, "clock": str(report.clock_id), "notified": "dinas-a"}
    return Command(
        action=action,
        actor=Actor(role, "someone"),
        reason="alasan yang jelas",
        message="pesan tindak lanjut",
        agency_id="dinas-pupr-cianjur",
        unit_id="uptd-jalan",
        rating=4,
        data=data,
    )


# How a report reaches each state, through the lifecycle itself, all on MONDAY.
PATHS: Mapping[State, tuple[Action, ...]] = {
    State.SUBMITTED: (),
    State.ON_HOLD: (Action.HOLD,),
    State.ARCHIVED: (Action.ARCHIVE,),
    State.DISPOSITIONED: (Action.DISPOSITION,),
    State.IN_PROGRESS: (Action.DISPOSITION, Action.FOLLOW_UP),
    State.RESOLVED: (Action.DISPOSITION, Action.FOLLOW_UP, Action.RESOLVE),
    State.CLOSED: (Action.DISPOSITION, Action.FOLLOW_UP, Action.RESOLVE, Action.CONFIRM),
}


def in_state(state: State, at: dt.datetime = MONDAY) -> Report:
    report = new_report(at)
    for action in PATHS[state]:
        report, _ = apply(report, command_for(action), at, CAL, POLICY)
    assert report.state is state
    return report


def act(report: Report, action: Action, at: dt.datetime, **changes: object) -> Report:
    command = dataclasses.replace(command_for(action, report=report), **changes)  # type: ignore[arg-type]
    after, _ = apply(report, command, at, CAL, POLICY)
    return after


def escalate(report: Report, tier: str, at: dt.datetime) -> Report:
    command = Command(
        Action.ESCALATE,
        Actor(Role.SYSTEM, "system:escalate"),
        data={"tier": tier, "clock": str(report.clock_id), "notified": "dinas-a"},
    )
    after, _ = apply(report, command, at, CAL, POLICY)
    return after


# --- the transition table -------------------------------------------------------------


@pytest.mark.parametrize(("source", "action"), sorted(TRANSITIONS))
def test_every_legal_transition_moves_to_its_target_and_records_one_event(
    source: State, action: Action
) -> None:
    before = in_state(source)
    after, event = apply(before, command_for(action, report=before), LATER, CAL, POLICY)
    assert after.state is TRANSITIONS[(source, action)]
    assert event.from_state is source
    assert event.to_state is after.state
    assert event.seq == before.last_seq + 1 == after.last_seq
    assert event.action is action


ILLEGAL = [
    (state, action)
    for state, action in itertools.product(State, Action)
    if (state, action) not in TRANSITIONS
]


@pytest.mark.parametrize(("source", "action"), ILLEGAL)
def test_every_illegal_transition_is_refused_and_changes_nothing(
    source: State, action: Action
) -> None:
    before = in_state(source)
    with pytest.raises(IllegalTransition):
        apply(before, command_for(action), MONDAY, CAL, POLICY)
    assert before.state is source


@pytest.mark.parametrize(
    ("action", "role"),
    [
        (action, role)
        for action in Action
        for role in Role
        if role not in PERMITTED_ROLES[action]
        # Neither is a transition: the erasure's roles are held in tests/unit/test_retention.py.
        and action not in (Action.SUBMIT, Action.ERASE_CONTACT)
    ],
)
def test_a_role_without_permission_is_refused(action: Action, role: Role) -> None:
    source = next(s for (s, a) in TRANSITIONS if a is action)
    with pytest.raises(NotPermitted):
        apply(in_state(source), command_for(action, role), MONDAY, CAL, POLICY)


def test_terminal_states_allow_nothing_but_a_rating() -> None:
    assert legal_actions(State.ARCHIVED) == frozenset()
    assert legal_actions(State.CLOSED) == {Action.RATE}


def test_a_citizen_cannot_submit_a_supervisory_complaint() -> None:
    with pytest.raises(InvalidCommand):
        submit(a_draft(type=ReportType.SUPERVISORY_COMPLAINT), "r", "c", MONDAY, CAL, POLICY)


@pytest.mark.parametrize(
    "action",
    [Action.HOLD, Action.ARCHIVE, Action.NOT_OUR_AUTHORITY, Action.MARK_SUPERVISORY],
)
def test_actions_that_need_a_reason_refuse_a_blank_one(action: Action) -> None:
    source = next(s for (s, a) in TRANSITIONS if a is action)
    command = dataclasses.replace(command_for(action), reason="   ")
    with pytest.raises(InvalidCommand):
        apply(in_state(source), command, MONDAY, CAL, POLICY)


def test_follow_up_needs_a_message_and_records_first_response() -> None:
    report = in_state(State.DISPOSITIONED)
    with pytest.raises(InvalidCommand):
        apply(
            report,
            dataclasses.replace(command_for(Action.FOLLOW_UP), message=""),
            MONDAY,
            CAL,
            POLICY,
        )
    after, _ = apply(report, command_for(Action.FOLLOW_UP), MONDAY, CAL, POLICY)
    assert after.first_response_at == MONDAY
    later = MONDAY + dt.timedelta(days=1)
    again, _ = apply(after, command_for(Action.FOLLOW_UP), later, CAL, POLICY)
    assert again.first_response_at == MONDAY


def test_bukan_wewenang_returns_the_report_for_rerouting_and_names_the_agency() -> None:
    after, event = apply(
        in_state(State.DISPOSITIONED), command_for(Action.NOT_OUR_AUTHORITY), MONDAY, CAL, POLICY
    )
    assert after.state is State.SUBMITTED and after.agency_id is None
    assert event.data["agency_id"] == "dinas-pupr-cianjur"
    assert event.reason == "alasan yang jelas"


def test_bukan_wewenang_counts_against_the_rule_and_blocks_the_agency() -> None:
    routed = dataclasses.replace(
        in_state(State.DISPOSITIONED), routing_method="rule", routing_rule_id="cianjur-jalan"
    )
    back, event = apply(routed, command_for(Action.NOT_OUR_AUTHORITY), MONDAY, CAL, POLICY)
    assert event.data["rule_id"] == "cianjur-jalan"
    assert back.rejected_by == ("dinas-pupr-cianjur",) and back.routing_rule_id is None
    with pytest.raises(InvalidCommand):
        apply(back, command_for(Action.DISPOSITION), MONDAY, CAL, POLICY)


def test_the_admin_queue_mark_holds_until_the_next_action() -> None:
    command = Command(
        Action.QUEUE_FOR_ADMIN,
        Actor(Role.SYSTEM, "system:route"),
        reason="no rule or confident suggestion",
        data={"suggested_agency_id": "dinkes-cianjur", "confidence": "0.5"},
    )
    queued, event = apply(new_report(), command, MONDAY, CAL, POLICY)
    assert queued.state is State.SUBMITTED and event.seq == 2
    assert queued.admin_queue is not None
    assert (queued.admin_queue.suggested_agency_id, queued.admin_queue.confidence) == (
        "dinkes-cianjur",
        0.5,
    )
    routed, _ = apply(queued, command_for(Action.DISPOSITION), MONDAY, CAL, POLICY)
    assert routed.admin_queue is None


def test_disposition_records_the_agency() -> None:
    after, event = apply(
        in_state(State.SUBMITTED), command_for(Action.DISPOSITION), MONDAY, CAL, POLICY
    )
    assert after.agency_id == "dinas-pupr-cianjur" and event.data["agency_id"] == after.agency_id


def test_resolve_sets_auto_close_and_reopen_clears_it() -> None:
    resolved, _ = apply(
        in_state(State.IN_PROGRESS), command_for(Action.RESOLVE), MONDAY, CAL, POLICY
    )
    assert resolved.resolved_at == MONDAY
    assert resolved.auto_close_due == CAL.add_working_days(dt.date(2026, 12, 7), 10)
    reopened, event = apply(resolved, command_for(Action.REOPEN), MONDAY, CAL, POLICY)
    assert reopened.state is State.IN_PROGRESS
    assert reopened.resolved_at is None and reopened.auto_close_due is None
    assert reopened.reopen_count == 1 and event.reason


@pytest.mark.parametrize("rating", [0, 6, None])
def test_rating_must_be_one_to_five(rating: int | None) -> None:
    command = dataclasses.replace(command_for(Action.RATE), rating=rating)
    with pytest.raises(InvalidCommand):
        apply(in_state(State.CLOSED), command, MONDAY, CAL, POLICY)


def test_a_report_is_rated_once() -> None:
    rated, _ = apply(in_state(State.CLOSED), command_for(Action.RATE), MONDAY, CAL, POLICY)
    assert rated.rating == 4
    with pytest.raises(InvalidCommand):
        apply(rated, command_for(Action.RATE), MONDAY, CAL, POLICY)


def test_events_are_immutable() -> None:
    _, event = apply(
        in_state(State.SUBMITTED), command_for(Action.DISPOSITION), MONDAY, CAL, POLICY
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.reason = "changed"  # type: ignore[misc]
    with pytest.raises(TypeError):
        event.data["agency_id"] = "other"  # type: ignore[index]


# --- the clocks -----------------------------------------------------------------------


def test_a_submission_starts_the_verification_clock_and_no_resolution_clock() -> None:
    report, event = submit(a_draft(), "r1", "K7M-2XQ-9RJ", MONDAY, CAL, POLICY)
    assert report.state is State.SUBMITTED and event.seq == 1 and event.from_state is None
    assert report.verify_started_at == MONDAY
    assert report.verify_due == D(2026, 12, 10)  # Thursday: 3 working days
    assert report.clock_due == report.verify_due and report.clock_id == "verify:1"
    assert report.resolve_due is None and report.dispositioned_at is None
    assert report.escalations == () and report.escalation_tier is None
    assert report.next_due_on == D(2026, 12, 11)  # the verification clock's overdue tier


@pytest.mark.parametrize(
    ("report_type", "due"),
    [
        (ReportType.ASPIRATION, D(2026, 12, 14)),
        (ReportType.INFORMATION_REQUEST, D(2026, 12, 14)),
        # 14 working days from Mon 7 Dec skip the weekends, 24 Dec (cuti bersama) and 25 Dec.
        (ReportType.COMPLAINT, D(2026, 12, 29)),
    ],
)
def test_a_disposition_starts_a_resolution_clock_as_long_as_the_report_type_allows(
    report_type: ReportType, due: dt.date
) -> None:
    report = new_report(type=report_type)
    routed = act(report, Action.DISPOSITION, MONDAY)
    assert routed.dispositioned_at == MONDAY and routed.resolve_due == due
    assert routed.clock_due == due and routed.clock_id == "resolve:2"
    assert routed.verify_due == report.verify_due  # kept for the record


def test_a_rerouted_report_waits_on_a_new_verification_clock_then_gets_a_full_new_deadline() -> (
    None
):
    first = act(new_report(), Action.DISPOSITION, MONDAY)
    first = escalate(first, "reminder", MONDAY + days(21))  # Mon 28 Dec
    # The wrong agency answers Bukan Wewenang on Wednesday 6 January 2027.
    returned_at = MONDAY + days(30)
    back = act(first, Action.NOT_OUR_AUTHORITY, returned_at)
    assert back.state is State.SUBMITTED
    assert back.verify_started_at == returned_at and back.clock_id == "verify:4"
    assert back.verify_due == D(2027, 1, 11) == back.clock_due  # 7, 8, 11 January
    assert back.resolve_due is None and back.dispositioned_at is None
    assert back.escalations == ()
    assert not is_overdue(back, D(2027, 1, 11)) and is_overdue(back, D(2027, 1, 12))
    # Routed again on Friday 8 January: the new agency gets all 14 working days.
    rerouted_at = MONDAY + days(32)
    second = act(back, Action.DISPOSITION, rerouted_at, agency_id="dbmpr-jabar")
    assert second.dispositioned_at == rerouted_at and second.clock_id == "resolve:5"
    assert second.resolve_due == CAL.add_working_days(D(2027, 1, 8), 14) == D(2027, 1, 28)
    assert second.escalations == ()


def test_an_answered_hold_restarts_the_verification_clock_and_keeps_the_paused_days() -> None:
    report = new_report()
    held = act(report, Action.HOLD, MONDAY)
    assert held.on_hold_since == MONDAY and held.clock_due is None
    # The next Monday: five working days on hold, and a fresh three-day clock.
    answered_at = MONDAY + days(7)
    answered = act(held, Action.ANSWER_HOLD, answered_at)
    assert answered.state is State.SUBMITTED and answered.on_hold_since is None
    assert answered.paused_working_days == 5
    assert answered.verify_started_at == answered_at and answered.clock_id == "verify:3"
    assert answered.verify_due == D(2026, 12, 17) == answered.clock_due
    assert answered.resolve_due is None


@pytest.mark.parametrize("state", [State.ON_HOLD, State.RESOLVED, State.ARCHIVED, State.CLOSED])
def test_no_clock_runs_on_hold_resolved_or_terminal(state: State) -> None:
    report = in_state(state)
    assert report.clock_due is None
    assert not is_overdue(report, D(2030, 1, 1))


def test_overdue_follows_the_clock_of_the_current_state() -> None:
    report = new_report()  # verification due Thu 10 Dec
    assert not is_overdue(report, D(2026, 12, 10))  # a deadline is met all through its day
    assert is_overdue(report, D(2026, 12, 11))
    routed = act(report, Action.DISPOSITION, MONDAY + days(4))  # Fri 11 Dec, late
    # Its own clock now: 14 working days skip Christmas, New Year and Isra Mikraj (5 Jan).
    assert not is_overdue(routed, D(2026, 12, 14))
    assert routed.resolve_due == D(2027, 1, 6)
    assert is_overdue(routed, D(2027, 1, 7))
    working = act(routed, Action.FOLLOW_UP, MONDAY + days(5))
    assert is_overdue(working, D(2027, 1, 7))  # in progress: still the resolution clock
    resolved = act(working, Action.RESOLVE, MONDAY + days(31))
    assert not is_overdue(resolved, D(2027, 1, 8))


def test_reopening_resumes_the_dispositions_resolution_clock_with_its_fired_tiers() -> None:
    working = act(act(new_report(), Action.DISPOSITION, MONDAY), Action.FOLLOW_UP, MONDAY)
    reminded = escalate(working, "reminder", MONDAY + days(21))
    resolved = act(reminded, Action.RESOLVE, MONDAY + days(21))
    reopened = act(resolved, Action.REOPEN, MONDAY + days(23))  # Wed 30 Dec
    assert reopened.clock_due == D(2026, 12, 29) == reopened.resolve_due
    assert reopened.clock_id == reminded.clock_id and reopened.escalations == ("reminder",)
    assert is_overdue(reopened, D(2026, 12, 30))
    assert reopened.next_due_on == D(2026, 12, 30)  # the overdue tier, due now


def test_each_disposition_keeps_its_own_first_follow_up_apart_from_the_first_response() -> None:
    first = act(act(new_report(), Action.DISPOSITION, MONDAY), Action.FOLLOW_UP, MONDAY)
    assert first.disposition_followed_up_at == MONDAY == first.first_response_at
    later = act(first, Action.FOLLOW_UP, MONDAY + days(1))
    assert later.disposition_followed_up_at == MONDAY


def test_a_new_disposition_resets_its_first_follow_up() -> None:
    routed = act(new_report(), Action.DISPOSITION, MONDAY)
    back = act(routed, Action.NOT_OUR_AUTHORITY, MONDAY + days(1))
    again = act(back, Action.DISPOSITION, MONDAY + days(2), agency_id="dbmpr-jabar")
    assert again.disposition_followed_up_at is None
    followed = act(again, Action.FOLLOW_UP, MONDAY + days(3))
    assert followed.disposition_followed_up_at == MONDAY + days(3)
    assert followed.first_response_at == MONDAY + days(3)


# --- supervisory complaints -----------------------------------------------------------


def test_an_admin_marks_a_complaint_berkadar_pengawasan_with_sixty_days_from_its_disposition() -> (
    None
):
    routed = act(new_report(), Action.DISPOSITION, MONDAY)
    marked, event = apply(
        routed, command_for(Action.MARK_SUPERVISORY), MONDAY + days(2), CAL, POLICY
    )
    assert marked.type is ReportType.SUPERVISORY_COMPLAINT and marked.state is routed.state
    assert marked.resolve_due == CAL.add_working_days(D(2026, 12, 7), 60) == marked.clock_due
    assert marked.dispositioned_at == MONDAY and marked.clock_id == routed.clock_id
    assert event.reason == "alasan yang jelas"
    assert event.data["resolve_due"] == str(marked.resolve_due)


@pytest.mark.parametrize("report_type", [ReportType.ASPIRATION, ReportType.INFORMATION_REQUEST])
def test_only_a_complaint_can_be_marked_berkadar_pengawasan(report_type: ReportType) -> None:
    routed = act(new_report(type=report_type), Action.DISPOSITION, MONDAY)
    with pytest.raises(InvalidCommand):
        act(routed, Action.MARK_SUPERVISORY, MONDAY)
    supervisory = act(
        act(new_report(), Action.DISPOSITION, MONDAY), Action.MARK_SUPERVISORY, MONDAY
    )
    with pytest.raises(InvalidCommand):
        act(supervisory, Action.MARK_SUPERVISORY, MONDAY)


def test_marking_supervisory_makes_tiers_whose_day_moves_past_today_pending_again() -> None:
    routed = act(new_report(), Action.DISPOSITION, MONDAY)  # due Tue 29 Dec
    escalated = escalate(routed, "reminder", MONDAY + days(21))
    escalated = escalate(escalated, "overdue", MONDAY + days(23))
    assert escalated.escalation_tier == "overdue"
    marked = act(escalated, Action.MARK_SUPERVISORY, MONDAY + days(24))
    # 60 working days from 7 December: both tiers' days are now in March 2027.
    assert marked.escalations == () and marked.escalation_tier is None
    assert marked.next_due_on == CAL.shift_working_days(marked.resolve_due or D.min, -1)
    assert not is_overdue(marked, D(2026, 12, 31))


def test_marking_supervisory_keeps_a_tier_whose_new_day_has_already_come() -> None:
    # Dispositioned long ago and marked only after the sixty days ran out.
    routed = act(new_report(), Action.DISPOSITION, MONDAY)
    late = MONDAY + days(120)
    escalated = escalate(escalate(routed, "reminder", late), "overdue", late)
    marked = act(escalated, Action.MARK_SUPERVISORY, late)
    assert marked.escalations == ("reminder", "overdue")


# --- archiving and closing ------------------------------------------------------------


def test_the_receiving_agency_may_archive_a_routed_report_before_any_follow_up() -> None:
    routed = act(new_report(), Action.DISPOSITION, MONDAY)
    archived, event = apply(
        routed,
        command_for(Action.ARCHIVE, Role.AGENCY_ADMIN),
        MONDAY + days(1),
        CAL,
        POLICY,
    )
    assert archived.state is State.ARCHIVED and event.reason == "alasan yang jelas"
    assert archived.clock_due is None and archived.next_due_on is None
    with pytest.raises(IllegalTransition):
        act(act(routed, Action.FOLLOW_UP, MONDAY), Action.ARCHIVE, MONDAY)


@pytest.mark.parametrize("state", [State.SUBMITTED, State.DISPOSITIONED])
def test_the_system_archives_nothing_but_an_unanswered_hold(state: State) -> None:
    with pytest.raises(NotPermitted):
        act(in_state(state), Action.ARCHIVE, LATER, actor=Actor(Role.SYSTEM, "system:escalate"))


def test_the_system_archives_a_hold_only_after_the_silence_has_run_out() -> None:
    held = act(new_report(), Action.HOLD, MONDAY)  # silence: 10 working days, to 21 Dec
    system = Actor(Role.SYSTEM, "system:escalate")
    assert held.next_due_on == D(2026, 12, 22)
    with pytest.raises(InvalidCommand):
        act(held, Action.ARCHIVE, MONDAY + days(14), actor=system)  # Mon 21 Dec
    archived = act(held, Action.ARCHIVE, MONDAY + days(15), actor=system)
    assert archived.state is State.ARCHIVED and archived.on_hold_since is None
    assert archived.paused_working_days == 11 and archived.next_due_on is None


def test_auto_close_waits_until_the_reporter_has_been_silent_for_the_whole_period() -> None:
    resolved = in_state(State.RESOLVED)  # resolved Mon 7 Dec: silence to Mon 21 Dec
    assert resolved.auto_close_due == D(2026, 12, 21)
    assert resolved.next_due_on == D(2026, 12, 22)
    with pytest.raises(InvalidCommand):
        act(resolved, Action.AUTO_CLOSE, MONDAY + days(14))
    closed = act(resolved, Action.AUTO_CLOSE, MONDAY + days(15))
    assert closed.state is State.CLOSED and closed.closed_by is ClosedBy.TIMEOUT
    assert closed.auto_close_due is None and closed.next_due_on is None


def test_a_confirmation_closes_the_report_as_confirmed() -> None:
    closed = in_state(State.CLOSED)
    assert closed.closed_by is ClosedBy.CONFIRMED and closed.closed_at == MONDAY
    assert closed.next_due_on is None


# --- escalation -----------------------------------------------------------------------


def test_an_escalation_records_the_tier_the_clock_and_who_was_told() -> None:
    routed = act(new_report(), Action.DISPOSITION, MONDAY)
    command = Command(
        Action.ESCALATE,
        Actor(Role.SYSTEM, "system:escalate"),
        data={"tier": "reminder", "clock": "resolve:2", "notified": "dinas-a,dinas-b"},
    )
    after, event = apply(routed, command, MONDAY + days(21), CAL, POLICY)
    assert after.state is State.DISPOSITIONED and after.escalations == ("reminder",)
    assert after.escalation_tier == "reminder"
    assert dict(event.data) == {
        "tier": "reminder",
        "clock": "resolve:2",
        "notified": "dinas-a,dinas-b",
    }
    assert after.next_due_on == D(2026, 12, 30)  # the overdue tier comes next


def test_a_tier_fires_once_per_clock() -> None:
    routed = act(new_report(), Action.DISPOSITION, MONDAY)
    reminded = escalate(routed, "reminder", MONDAY + days(21))
    with pytest.raises(InvalidCommand, match="already fired"):
        escalate(reminded, "reminder", MONDAY + days(22))


def test_a_tier_that_is_not_due_yet_is_refused() -> None:
    routed = act(new_report(), Action.DISPOSITION, MONDAY)
    with pytest.raises(InvalidCommand, match="not due"):
        escalate(routed, "reminder", MONDAY + days(20))  # Sun 27 Dec; due Mon 28 Dec
    with pytest.raises(InvalidCommand, match="not due"):
        escalate(routed, "verify-overdue", LATER)  # a tier of the other clock
    with pytest.raises(InvalidCommand, match="not due"):
        escalate(routed, "no-such-tier", LATER)


def test_an_escalation_for_a_clock_that_has_stopped_is_refused() -> None:
    report = new_report()
    routed = act(report, Action.DISPOSITION, MONDAY + days(1))
    stale = Command(
        Action.ESCALATE,
        Actor(Role.SYSTEM, "system:escalate"),
        data={"tier": "reminder", "clock": str(report.clock_id)},
    )
    with pytest.raises(InvalidCommand, match="no longer runs"):
        apply(routed, stale, LATER, CAL, POLICY)


def test_an_escalation_leaves_the_report_in_the_admin_queue() -> None:
    queue = Command(
        Action.QUEUE_FOR_ADMIN, Actor(Role.SYSTEM, "system:route"), reason="no rule matched"
    )
    queued, _ = apply(new_report(), queue, MONDAY, CAL, POLICY)
    escalated = escalate(queued, "verify-overdue", MONDAY + days(4))
    assert escalated.admin_queue == queued.admin_queue
    assert escalated.escalations == ("verify-overdue",)
    assert escalated.next_due_on == D(2026, 12, 17)  # verify-national: 5 days past the 10th
