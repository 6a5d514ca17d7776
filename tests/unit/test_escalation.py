"""Escalation tiers on the working-day calendar: when each fires, once per clock, what the
daily run must do on a given date, and that every report says when that is."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from shared.config import Settings
from shared.domain.calendar import WorkingCalendar
from shared.domain.escalation import (
    DEFAULT_TIERS,
    Anchor,
    ClockKind,
    Recipient,
    Tier,
    auto_close_due_on,
    check_tiers,
    due_tiers,
    hold_archive_due_on,
    hold_silence_due,
    next_due_on,
    pending_tiers,
)
from shared.domain.report import (
    PERMITTED_ROLES,
    Action,
    Actor,
    Command,
    DeadlinePolicy,
    Report,
    ReportType,
    Role,
    State,
    apply,
    is_overdue,
    legal_actions,
    submit,
    with_current_clocks,
)
from tests.builders import a_draft

CAL = WorkingCalendar()
POLICY = DeadlinePolicy()
D = dt.date
SYSTEM = Actor(Role.SYSTEM, "system:escalate")
ADMIN = Actor(Role.AGENCY_ADMIN, "dinas-pupr-cianjur")


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    """``hour`` o'clock in Jakarta on ``day``."""
    return dt.datetime.combine(day, dt.time(hour), tzinfo=CAL.tz)


def submitted(day: dt.date, report_type: ReportType = ReportType.COMPLAINT) -> Report:
    report, _ = submit(a_draft(type=report_type), "r1", "K7M-2XQ-9RJ", at(day), CAL, POLICY)
    return report


def command(
    action: Action, actor: Actor = ADMIN, agency_id: str = "dinas-a", **data: str
) -> Command:
    return Command(
        action,
        actor,
        reason="alasan",
        message="pesan",
        agency_id=agency_id,
        unit_id="uptd",
        rating=5,
        data=data,
    )


def dispositioned(day: dt.date, report_type: ReportType = ReportType.COMPLAINT) -> Report:
    report, _ = apply(
        submitted(day, report_type), command(Action.DISPOSITION), at(day), CAL, POLICY
    )
    return report


def fire(report: Report, tiers: Sequence[Tier], day: dt.date) -> Report:
    """What the daily run does with one report's due tiers: one ESCALATE each, in order."""
    for tier in tiers:
        report, _ = apply(
            report,
            command(Action.ESCALATE, SYSTEM, tier=tier.id, clock=str(report.clock_id)),
            at(day, 7),
            CAL,
            POLICY,
        )
    return report


def ids(tiers: Sequence[Tier]) -> list[str]:
    return [tier.id for tier in tiers]


def fire_dates(report: Report) -> dict[str, dt.date]:
    return {tier.id: day for day, tier in pending_tiers(report, POLICY.tiers, CAL)}


# --- when each tier fires ---------------------------------------------------------------


def test_the_default_tiers_of_a_complaint_skip_christmas_new_year_and_isra_mikraj() -> None:
    report = dispositioned(D(2026, 12, 7))  # Monday; 14 working days to Tue 29 Dec
    assert report.resolve_due == D(2026, 12, 29)
    assert fire_dates(report) == {
        "reminder": D(2026, 12, 28),  # the working day before: 24 and 25 Dec are off
        "overdue": D(2026, 12, 30),
        "national": D(2027, 1, 7),  # 30, 31 Dec, 4, 6, 7 Jan: 1 and 5 Jan are off
        "ombudsman": D(2027, 1, 20),  # 28 working days from 7 Dec
    }


def test_a_clock_running_into_lebaran_2026_waits_out_the_whole_week_of_cuti_bersama() -> None:
    assert not any(CAL.is_working_day(D(2026, 3, day)) for day in range(18, 25))
    report = submitted(D(2026, 3, 17))  # Tuesday before Nyepi and Idul Fitri
    assert report.verify_due == D(2026, 3, 27)  # 25, 26, 27 March
    assert fire_dates(report) == {
        "verify-overdue": D(2026, 3, 30),
        "verify-national": D(2026, 4, 6),  # 30, 31 Mar, 1, 2 Apr, Good Friday off, 6 Apr
    }


def test_an_aspiration_routed_before_lebaran_2027_is_reminded_after_it() -> None:
    lebaran_2027 = [D(2027, 3, day) for day in (8, 9, 10, 11, 12, 15)]
    assert not any(CAL.is_working_day(day) for day in lebaran_2027)
    report = dispositioned(D(2027, 3, 5), ReportType.ASPIRATION)  # Friday
    assert report.resolve_due == D(2027, 3, 22)  # 16, 17, 18, 19, 22 March
    dates = fire_dates(report)
    assert (dates["reminder"], dates["overdue"]) == (D(2027, 3, 19), D(2027, 3, 23))


def test_a_report_submitted_at_night_counts_from_its_jakarta_date() -> None:
    # 20:00 UTC on Thursday 10 December is 03:00 on Friday in Jakarta.
    late = dt.datetime(2026, 12, 10, 20, 0, tzinfo=dt.UTC)
    report, _ = submit(a_draft(), "r", "c", late, CAL, POLICY)
    assert report.verify_due == D(2026, 12, 16)  # from Fri 11 Dec: 14, 15, 16


def test_a_local_day_off_moves_the_deadline_and_its_tiers() -> None:
    cianjur = WorkingCalendar(local_days_off=[D(2026, 12, 9)])
    report = submitted(D(2026, 12, 7))
    local, _ = submit(a_draft(), "r", "c", at(D(2026, 12, 7)), cianjur, POLICY)
    assert (report.verify_due, local.verify_due) == (D(2026, 12, 10), D(2026, 12, 11))
    assert local.next_due_on == D(2026, 12, 14)


# --- what the daily run does ----------------------------------------------------------


def test_each_tier_fires_on_its_day_and_only_once() -> None:
    report = dispositioned(D(2026, 12, 7))
    fired_on: dict[str, dt.date] = {}
    day = D(2026, 12, 7)
    while day <= D(2027, 2, 1):
        due = due_tiers(report, day, POLICY.tiers, CAL)
        fired_on.update((tier.id, day) for tier in due)
        report = fire(report, due, day)
        assert due_tiers(report, day, POLICY.tiers, CAL) == ()  # a second run: nothing
        day += dt.timedelta(days=1)
    assert fired_on == {
        "reminder": D(2026, 12, 28),
        "overdue": D(2026, 12, 30),
        "national": D(2027, 1, 7),
        "ombudsman": D(2027, 1, 20),
    }
    assert report.escalations == ("reminder", "overdue", "national", "ombudsman")
    assert report.escalation_tier == "ombudsman" and report.next_due_on is None


def test_a_run_after_missed_days_catches_up_every_due_tier_in_order() -> None:
    report = dispositioned(D(2026, 12, 7))
    due = due_tiers(report, D(2027, 1, 8), POLICY.tiers, CAL)
    assert ids(due) == ["reminder", "overdue", "national"]
    report = fire(report, due, D(2027, 1, 8))
    assert report.next_due_on == D(2027, 1, 20)


def test_tiers_due_on_the_same_day_fire_in_configuration_order() -> None:
    # A five-day clock: "national" (due + 5) and "ombudsman" (10 days) share a day.
    report = dispositioned(D(2026, 11, 2), ReportType.ASPIRATION)
    dates = fire_dates(report)
    assert dates["national"] == dates["ombudsman"]
    assert ids(due_tiers(report, dates["national"], POLICY.tiers, CAL))[-2:] == [
        "national",
        "ombudsman",
    ]


def test_the_verification_clock_climbs_to_the_regional_then_the_national_admin() -> None:
    report = submitted(D(2026, 12, 7))  # nobody routes it; due Thu 10 Dec
    assert due_tiers(report, D(2026, 12, 10), POLICY.tiers, CAL) == ()
    first = due_tiers(report, D(2026, 12, 11), POLICY.tiers, CAL)
    assert ids(first) == ["verify-overdue"] and first[0].recipients == (Recipient.REGIONAL_ADMIN,)
    report = fire(report, first, D(2026, 12, 11))
    then = due_tiers(report, D(2026, 12, 17), POLICY.tiers, CAL)
    assert ids(then) == ["verify-national"]
    assert then[0].recipients == (Recipient.NATIONAL_ADMIN,)


def test_a_rerouted_report_starts_new_tiers_on_a_new_clock() -> None:
    report = dispositioned(D(2026, 12, 7))
    report = fire(report, due_tiers(report, D(2026, 12, 30), POLICY.tiers, CAL), D(2026, 12, 30))
    assert report.escalations == ("reminder", "overdue")
    back, _ = apply(report, command(Action.NOT_OUR_AUTHORITY), at(D(2026, 12, 31)), CAL, POLICY)
    assert back.escalations == () and fire_dates(back) == {
        "verify-overdue": D(2027, 1, 8),  # verification due 7 Jan: 1 and 5 Jan are off
        "verify-national": D(2027, 1, 14),
    }
    again, _ = apply(
        back, command(Action.DISPOSITION, agency_id="dinas-b"), at(D(2027, 1, 4)), CAL, POLICY
    )
    assert again.agency_id == "dinas-b" and again.clock_id != report.clock_id
    assert fire_dates(again)["overdue"] == CAL.add_working_days(again.resolve_due or D.min, 1)
    assert again.next_due_on == fire_dates(again)["reminder"]


def test_no_tier_is_due_on_hold_resolved_or_terminal() -> None:
    far = D(2028, 1, 1)
    report = submitted(D(2026, 12, 7))
    held, _ = apply(report, command(Action.HOLD), at(D(2026, 12, 7)), CAL, POLICY)
    assert due_tiers(held, far, POLICY.tiers, CAL) == ()
    working = dispositioned(D(2026, 12, 7))
    working, _ = apply(working, command(Action.FOLLOW_UP), at(D(2026, 12, 8)), CAL, POLICY)
    resolved, _ = apply(working, command(Action.RESOLVE), at(D(2026, 12, 9)), CAL, POLICY)
    assert due_tiers(resolved, far, POLICY.tiers, CAL) == ()
    closed, _ = apply(
        resolved,
        command(Action.CONFIRM, Actor(Role.REPORTER, "r")),
        at(D(2026, 12, 9)),
        CAL,
        POLICY,
    )
    assert due_tiers(closed, far, POLICY.tiers, CAL) == ()


def test_a_hold_pauses_escalation_and_the_answer_starts_a_fresh_verification_clock() -> None:
    report = submitted(D(2026, 12, 7))
    report = fire(report, due_tiers(report, D(2026, 12, 11), POLICY.tiers, CAL), D(2026, 12, 11))
    held, _ = apply(report, command(Action.HOLD), at(D(2026, 12, 11)), CAL, POLICY)
    # Ten working days of silence end on 29 December (24 and 25 are off).
    assert held.next_due_on == D(2026, 12, 30)
    reporter = Actor(Role.REPORTER, "reporter")
    answered, _ = apply(
        held, command(Action.ANSWER_HOLD, reporter), at(D(2026, 12, 21)), CAL, POLICY
    )
    assert answered.paused_working_days == 6  # 14 to 18 and 21 December
    assert answered.escalations == () and answered.verify_due == D(2026, 12, 28)
    assert answered.next_due_on == D(2026, 12, 29)  # its own verify-overdue tier


def test_auto_close_is_due_the_day_after_ten_working_days_of_silence() -> None:
    working = dispositioned(D(2026, 12, 7))
    working, _ = apply(working, command(Action.FOLLOW_UP), at(D(2026, 12, 8)), CAL, POLICY)
    resolved, _ = apply(working, command(Action.RESOLVE), at(D(2026, 12, 16)), CAL, POLICY)
    # 17, 18, 21, 22, 23, 28, 29, 30, 31 Dec and 4 Jan: Christmas and New Year do not count.
    assert resolved.auto_close_due == D(2027, 1, 4)
    assert not auto_close_due_on(resolved, D(2027, 1, 4))
    assert auto_close_due_on(resolved, D(2027, 1, 5))
    assert resolved.next_due_on == D(2027, 1, 5)


def test_hold_archive_is_due_the_day_after_the_configured_silence() -> None:
    report = submitted(D(2026, 12, 7))
    held, _ = apply(report, command(Action.HOLD), at(D(2026, 12, 7)), CAL, POLICY)
    assert hold_silence_due(held, CAL, POLICY) == D(2026, 12, 21)
    assert not hold_archive_due_on(held, D(2026, 12, 21), CAL, POLICY)
    assert hold_archive_due_on(held, D(2026, 12, 22), CAL, POLICY)
    five = dataclasses.replace(POLICY, hold_silence_days=5)
    assert hold_silence_due(held, CAL, five) == D(2026, 12, 14)
    assert hold_silence_due(report, CAL, POLICY) is None


def test_next_due_on_is_the_earliest_pending_moment() -> None:
    report = dispositioned(D(2026, 12, 7))
    assert report.next_due_on == D(2026, 12, 28) == next_due_on(report, CAL, POLICY)
    no_tiers = dataclasses.replace(POLICY, tiers=())
    assert next_due_on(report, CAL, no_tiers) is None


def test_a_report_is_brought_up_to_date_with_reconfigured_tiers() -> None:
    report = dispositioned(D(2026, 12, 7))
    only_late = dataclasses.replace(POLICY, tiers=DEFAULT_TIERS[2:3])  # "national"
    current = with_current_clocks(report, CAL, only_late)
    assert current.next_due_on == D(2027, 1, 7) and report.next_due_on == D(2026, 12, 28)
    assert dataclasses.replace(current, next_due_on=report.next_due_on) == report


# --- the tiers as configuration -------------------------------------------------------


def test_the_bundled_tiers_are_the_guidelines_defaults() -> None:
    assert Settings(token_secret="t" * 16).escalation_tiers == DEFAULT_TIERS
    assert Settings(token_secret="t" * 16).deadline_policy().tiers == DEFAULT_TIERS


def test_a_deployment_replaces_the_tiers_with_json() -> None:
    tiers = [
        {
            "id": "ingat",
            "clock": "resolve",
            "anchor": "due",
            "offset_working_days": -2,
            "recipients": ["handling_agency", "agency_admin"],
        }
    ]
    configured = Settings.from_env(
        {"LAPOR_TOKEN_SECRET": "t" * 16, "LAPOR_ESCALATION_TIERS": json.dumps(tiers)}
    )
    assert configured.deadline_policy().tiers == (
        Tier(
            "ingat",
            ClockKind.RESOLVE,
            Anchor.DUE,
            -2,
            (Recipient.HANDLING_AGENCY, Recipient.AGENCY_ADMIN),
        ),
    )


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"recipients": ["the_press"]}, "recipients"),
        ({"recipients": []}, "tells nobody"),
        ({"recipients": ["ombudsman", "ombudsman"]}, "twice"),
        ({"clock": "hold"}, "clock"),
        ({"id": "Pengingat!"}, "lowercase"),
        ({"overdue": True}, "fires by the due date"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_malformed_tier_is_refused_with_its_reason(
    change: dict[str, object], problem: str
) -> None:
    tier = {
        "id": "reminder",
        "clock": "resolve",
        "anchor": "due",
        "offset_working_days": -1,
        "recipients": ["handling_agency"],
    } | change
    with pytest.raises(ValidationError, match=problem):
        Settings(token_secret="t" * 16, escalation_tiers=(tier,))  # type: ignore[arg-type]


def test_tier_ids_are_unique_and_each_clock_has_at_most_one_overdue_tier() -> None:
    with pytest.raises(ValueError, match="unique: reminder"):
        check_tiers([DEFAULT_TIERS[0], DEFAULT_TIERS[0]])
    second = dataclasses.replace(DEFAULT_TIERS[1], id="overdue-again")
    with pytest.raises(ValueError, match="more than one overdue"):
        check_tiers([*DEFAULT_TIERS, second])
    assert check_tiers(DEFAULT_TIERS) == DEFAULT_TIERS


# --- the property: next_due_on always says when the run has something to do -----------

AGENCIES = ("dinas-a", "dinas-b", "dinas-c")
REPORTER = Actor(Role.REPORTER, "reporter")


def _commands(report: Report, day: dt.date) -> list[Command]:
    """Every well-formed command a person could give this report on ``day``."""
    options: list[Command] = []
    for action in sorted(legal_actions(report.state)):
        if action in (Action.ESCALATE, Action.AUTO_CLOSE):
            continue  # the daily run's
        role = Role.REPORTER if Role.REPORTER in PERMITTED_ROLES[action] else Role.AGENCY_ADMIN
        if action is Action.QUEUE_FOR_ADMIN:
            role = Role.SYSTEM
        base = Command(action, Actor(role, "someone"), reason="alasan", message="pesan", rating=3)
        if action is Action.DISPOSITION:
            options += [
                dataclasses.replace(base, agency_id=agency)
                for agency in AGENCIES
                if agency not in report.rejected_by
            ]
        elif not _refused_anyway(action, report):
            options.append(dataclasses.replace(base, unit_id="uptd"))
    return options


def _refused_anyway(action: Action, report: Report) -> bool:
    if action is Action.MARK_SUPERVISORY:
        return report.type is not ReportType.COMPLAINT
    return action is Action.RATE and report.rating is not None


def _daily_run(report: Report, day: dt.date) -> Report:
    """The escalation run on ``day``: fire due tiers, close or archive what is due."""
    report = fire(report, due_tiers(report, day, POLICY.tiers, CAL), day)
    if auto_close_due_on(report, day):
        report, _ = apply(report, Command(Action.AUTO_CLOSE, SYSTEM), at(day, 7), CAL, POLICY)
    if hold_archive_due_on(report, day, CAL, POLICY):
        archive = Command(Action.ARCHIVE, SYSTEM, reason="tidak ada jawaban")
        report, _ = apply(report, archive, at(day, 7), CAL, POLICY)
    return report


def _something_due(report: Report, day: dt.date) -> bool:
    return bool(
        due_tiers(report, day, POLICY.tiers, CAL)
        or auto_close_due_on(report, day)
        or hold_archive_due_on(report, day, CAL, POLICY)
    )


def _check_invariants(report: Report, today: dt.date) -> None:
    clock_states: dict[State, dt.date | None] = {State.SUBMITTED: report.verify_due}
    clock_states |= {s: report.resolve_due for s in (State.DISPOSITIONED, State.IN_PROGRESS)}
    assert report.clock_due == clock_states.get(report.state)
    assert (report.auto_close_due is not None) == (report.state is State.RESOLVED)
    assert (report.on_hold_since is not None) == (report.state is State.ON_HOLD)
    assert (report.resolve_due is None) == (report.dispositioned_at is None)
    assert len(set(report.escalations)) == len(report.escalations)
    assert is_overdue(report, today) == (report.clock_due is not None and report.clock_due < today)
    # The run never has anything to do before next_due_on, and always on it.
    if report.next_due_on is None:
        assert not _something_due(report, today + dt.timedelta(days=400))
    else:
        assert not _something_due(report, report.next_due_on - dt.timedelta(days=1))
        assert _something_due(report, report.next_due_on)


steps = st.lists(
    st.tuples(st.integers(min_value=0, max_value=12), st.integers(min_value=0, max_value=20)),
    min_size=1,
    max_size=14,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    start=st.dates(min_value=D(2026, 1, 1), max_value=D(2027, 12, 1)),
    report_type=st.sampled_from(
        [ReportType.ASPIRATION, ReportType.INFORMATION_REQUEST, ReportType.COMPLAINT]
    ),
    walk=steps,
)
def test_next_due_on_always_says_when_the_daily_run_next_has_something_to_do(
    start: dt.date, report_type: ReportType, walk: list[tuple[int, int]]
) -> None:
    report = submitted(start, report_type)
    day = start
    _check_invariants(report, day)
    for gap, choice in walk:
        for _ in range(gap):  # the run goes every day, as Cloud Scheduler calls it
            day += dt.timedelta(days=1)
            report = _daily_run(report, day)
            assert not _something_due(report, day)  # a second run changes nothing
            _check_invariants(report, day)
        options = _commands(report, day)
        if options:
            report, _ = apply(report, options[choice % len(options)], at(day, 11), CAL, POLICY)
            _check_invariants(report, day)
