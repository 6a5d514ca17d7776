"""Every legal and every illegal transition of the report lifecycle."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools

import pytest

from shared.domain.calendar import WorkingCalendar
from shared.domain.report import (
    PERMITTED_ROLES,
    TRANSITIONS,
    Action,
    Actor,
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
    legal_actions,
    submit,
)
from tests.builders import a_draft

CAL = WorkingCalendar()
POLICY = DeadlinePolicy()
# Monday 7 December 2026, 10:00 in Jakarta.
MONDAY = dt.datetime(2026, 12, 7, 3, 0, tzinfo=dt.UTC)


def new_report() -> Report:
    report, _ = submit(a_draft(), "r1", "K7M-2XQ-9RJ", MONDAY, CAL, POLICY)
    return report


def in_state(state: State) -> Report:
    return dataclasses.replace(new_report(), state=state, agency_id="dinas-pupr-cianjur")


def command_for(action: Action, role: Role | None = None) -> Command:
    role = role or sorted(PERMITTED_ROLES[action])[0]
    return Command(
        action=action,
        actor=Actor(role, "someone"),
        reason="alasan yang jelas",
        message="pesan tindak lanjut",
        agency_id="dinas-pupr-cianjur",
        unit_id="uptd-jalan",
        rating=4,
    )


@pytest.mark.parametrize(("source", "action"), sorted(TRANSITIONS))
def test_every_legal_transition_moves_to_its_target_and_records_one_event(
    source: State, action: Action
) -> None:
    before = in_state(source)
    after, event = apply(before, command_for(action), MONDAY, CAL, POLICY)
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
        if role not in PERMITTED_ROLES[action] and action is not Action.SUBMIT
    ],
)
def test_a_role_without_permission_is_refused(action: Action, role: Role) -> None:
    source = next(s for (s, a) in TRANSITIONS if a is action)
    with pytest.raises(NotPermitted):
        apply(in_state(source), command_for(action, role), MONDAY, CAL, POLICY)


def test_terminal_states_allow_nothing_but_a_rating() -> None:
    assert legal_actions(State.ARCHIVED) == frozenset()
    assert legal_actions(State.CLOSED) == {Action.RATE}


def test_submission_sets_deadlines_in_working_days() -> None:
    complaint = a_draft(type=ReportType.COMPLAINT)
    report, event = submit(complaint, "r1", "K7M-2XQ-9RJ", MONDAY, CAL, POLICY)
    assert report.state is State.SUBMITTED and event.seq == 1 and event.from_state is None
    assert report.verify_due == dt.date(2026, 12, 10)  # Thursday: 3 working days
    # 14 working days from Mon 7 Dec skip the weekends, 24 Dec (cuti bersama) and 25 Dec.
    assert report.resolve_due == dt.date(2026, 12, 29)


def test_a_citizen_cannot_submit_a_supervisory_complaint() -> None:
    with pytest.raises(InvalidCommand):
        submit(a_draft(type=ReportType.SUPERVISORY_COMPLAINT), "r", "c", MONDAY, CAL, POLICY)


@pytest.mark.parametrize("action", [Action.HOLD, Action.ARCHIVE, Action.NOT_OUR_AUTHORITY])
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


def test_hold_pauses_the_clock_until_the_reporter_answers() -> None:
    report = new_report()
    held, _ = apply(report, command_for(Action.HOLD), MONDAY, CAL, POLICY)
    assert held.on_hold_since == MONDAY
    # Answered the next Monday: five working days on hold push every deadline by five.
    answered, _ = apply(
        held, command_for(Action.ANSWER_HOLD), MONDAY + dt.timedelta(days=7), CAL, POLICY
    )
    assert answered.state is State.SUBMITTED and answered.on_hold_since is None
    assert answered.paused_working_days == 5
    assert answered.verify_due == CAL.add_working_days(dt.date(2026, 12, 7), 3 + 5)
    assert answered.resolve_due == CAL.add_working_days(dt.date(2026, 12, 7), 14 + 5)


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
