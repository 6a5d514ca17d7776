"""Properties of the report lifecycle over generated command sequences (issue 11,
item 1): whatever commands arrive, in whatever order, by whoever, at whatever time, the
domain either refuses one with a LifecycleError (and nothing changes: the report is a
frozen value) or takes it, and then the report keeps its invariants: the state is the
transition table's, the timeline only grows and links up, terminal states stay
terminal, and the clocks agree with the state (docs: lifecycle.md, "States"; the
Report docstring, "Which clock runs when")."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.domain.calendar import WorkingCalendar
from shared.domain.escalation import ClockKind, due_tiers
from shared.domain.report import (
    PERMITTED_ROLES,
    TERMINAL_STATES,
    TRANSITIONS,
    Action,
    Actor,
    Command,
    DeadlinePolicy,
    LifecycleError,
    Report,
    ReportType,
    Role,
    State,
    TimelineEvent,
    apply,
    legal_actions,
    submit,
)
from tests.builders import a_draft

# Derandomized: the unit tier draws the same runs every time and in CI.
EXAMPLES = settings(max_examples=80, deadline=None, derandomize=True)

CAL = WorkingCalendar()
POLICY = DeadlinePolicy()
ACTIONS = sorted(set(Action) - {Action.SUBMIT})
ROLES = sorted(Role)
TIER_IDS = sorted(tier.id for tier in POLICY.tiers)
TIERS_OF = {
    kind: frozenset(tier.id for tier in POLICY.tiers if tier.clock is kind) for kind in ClockKind
}
# Mostly well formed, so that runs get far; a blank reason or message now and then.
TEXTS = st.sampled_from(["alasan yang jelas", " pesan tindak lanjut ", "oke", None, "", "  "])
# Legal in (almost) every state, or the end of the report: drawn only in the "anything"
# branch, else most runs would end archived before reaching a resolution.
RARE = frozenset({Action.ERASE_CONTACT, Action.ARCHIVE})


@dataclass(frozen=True)
class Step:
    """One command as the domain saw it: the report before, and what it made (None:
    refused)."""

    before: Report
    command: Command
    at: dt.datetime
    outcome: tuple[Report, TimelineEvent] | None


@dataclass(frozen=True)
class Life:
    first: Report
    submitted: TimelineEvent
    steps: tuple[Step, ...]

    @property
    def report(self) -> Report:
        taken = [step.outcome[0] for step in self.steps if step.outcome]
        return taken[-1] if taken else self.first

    @property
    def timeline(self) -> list[TimelineEvent]:
        return [self.submitted, *(step.outcome[1] for step in self.steps if step.outcome)]


@st.composite
def commands(draw: st.DrawFn, report: Report, at: dt.datetime) -> Command:
    """A command for ``report``: mostly one its state allows, by a role allowed to take
    it, well formed; now and then anything at all."""
    legal = sorted(legal_actions(report.state) - {Action.SUBMIT} - RARE)
    if Action.RESOLVE in legal and draw(st.booleans()):
        legal = [Action.RESOLVE]  # else few runs get past the agency's follow-ups
    anything = not legal or draw(st.integers(0, 5)) == 0
    action = draw(st.sampled_from(ACTIONS if anything else legal))
    anyone = draw(st.integers(0, 5)) == 0
    role = draw(st.sampled_from(ROLES if anyone else sorted(PERMITTED_ROLES[action])))
    data: dict[str, str | int] = {}
    if action is Action.ESCALATE:
        due = [t.id for t in due_tiers(report, CAL.local_date(at), POLICY.tiers, CAL)]
        any_tier = not due or draw(st.booleans())
        tier = draw(st.sampled_from(TIER_IDS if any_tier else due))
        clock = report.clock_id if draw(st.integers(0, 4)) else "verify:1"
        data = {"tier": tier, "clock": str(clock), "notified": "dinas-a"}
    if action is Action.DISPOSITION and draw(st.booleans()):
        data = {"method": draw(st.sampled_from(["rule", "classifier", "named"])), "rule_id": "r1"}
    return Command(
        action=action,
        actor=Actor(role, draw(st.sampled_from(["dinas-a", "dinas-b", "reporter", "system:x"]))),
        reason=draw(TEXTS),
        message=draw(TEXTS),
        agency_id=draw(st.sampled_from(["dinas-a", "dinas-b", "dinas-c", None])),
        unit_id=draw(st.sampled_from(["uptd-jalan", None])),
        rating=draw(st.one_of(st.none(), st.integers(-1, 7))),
        data=data,
    )


@st.composite
def lives(draw: st.DrawFn, max_steps: int = 40) -> Life:
    """A report submitted at a generated moment, then a generated run of commands, each
    some hours to some weeks after the one before."""
    start = draw(
        st.datetimes(dt.datetime(2025, 1, 1), dt.datetime(2028, 6, 30), timezones=st.just(dt.UTC))
    )
    draft = a_draft(
        type=draw(
            st.sampled_from(
                [ReportType.COMPLAINT, ReportType.ASPIRATION, ReportType.INFORMATION_REQUEST]
            )
        ),
        anonymous=draw(st.booleans()),
        confidential=draw(st.booleans()),
    )
    first, submitted = submit(draft, "r1", "K7M-2XQ-9RJ", start, CAL, POLICY)
    report, at, steps = first, start, []
    for _ in range(draw(st.integers(1, max_steps))):
        at += dt.timedelta(hours=draw(st.integers(0, 24 * 21)))
        command = draw(commands(report, at))
        # Anything but a LifecycleError escapes and fails the test: an API would
        # answer it with a 500.
        try:
            outcome: tuple[Report, TimelineEvent] | None = apply(report, command, at, CAL, POLICY)
        except LifecycleError:
            outcome = None
        steps.append(Step(report, command, at, outcome))
        if outcome:
            report = outcome[0]
    return Life(first, submitted, tuple(steps))


def _clock_kind(report: Report) -> ClockKind | None:
    return ClockKind(report.clock_id.partition(":")[0]) if report.clock_id else None


def assert_consistent(report: Report) -> None:
    """What must hold of any report the domain made, whatever came before."""
    state = report.state
    local = CAL.local_date
    assert (report.clock_due is not None) == (
        state in (State.SUBMITTED, State.DISPOSITIONED, State.IN_PROGRESS)
    )
    if state is State.SUBMITTED:
        assert report.clock_due == report.verify_due
        assert _clock_kind(report) is ClockKind.VERIFY
    if state in (State.SUBMITTED, State.ON_HOLD):
        assert report.agency_id is None and report.resolve_due is None
        assert report.verify_started_at is not None
        assert report.verify_due > local(report.verify_started_at)
    if state in (State.DISPOSITIONED, State.IN_PROGRESS, State.RESOLVED):
        assert report.agency_id is not None
        assert report.dispositioned_at is not None and report.resolve_due is not None
        assert report.resolve_due > local(report.dispositioned_at)
        assert _clock_kind(report) is ClockKind.RESOLVE
    if state in (State.DISPOSITIONED, State.IN_PROGRESS):
        assert report.clock_due == report.resolve_due
    assert (report.on_hold_since is not None) == (state is State.ON_HOLD)
    assert (report.on_hold_by is not None) == (state is State.ON_HOLD)
    assert (report.auto_close_due is not None) == (state is State.RESOLVED)
    if state is State.RESOLVED:
        assert report.resolved_at is not None
        assert report.auto_close_due is not None
        assert report.auto_close_due > local(report.resolved_at)
    assert (report.closed_at is not None) == (state is State.CLOSED)
    assert (report.closed_by is not None) == (state is State.CLOSED)
    if report.rating is not None:
        assert state is State.CLOSED and 1 <= report.rating <= 5
    if report.admin_queue is not None:
        assert state is State.SUBMITTED
    if state in TERMINAL_STATES:
        assert report.next_due_on is None
    kind = _clock_kind(report)
    assert len(set(report.escalations)) == len(report.escalations)
    assert kind is not None and set(report.escalations) <= TIERS_OF[kind]
    assert report.agency_id not in report.rejected_by
    assert report.paused_working_days >= 0


@EXAMPLES
@given(lives())
def test_every_report_the_domain_makes_keeps_its_invariants(life: Life) -> None:
    assert_consistent(life.first)
    for step in life.steps:
        if step.outcome is None:
            continue
        before, (after, event) = step.before, step.outcome
        assert_consistent(after)
        assert after.state is TRANSITIONS[(before.state, step.command.action)]
        if before.state in TERMINAL_STATES:
            assert after.state is before.state
        assert event.action is step.command.action
        assert (event.from_state, event.to_state) == (before.state, after.state)
        assert event.seq == before.last_seq + 1 == after.last_seq
        assert event.at == after.updated_at == step.at >= before.updated_at
        # What was recorded stays: files, refusals and fired tiers only grow (a new
        # clock starts its own tiers), a rating and a closing are never rewritten.
        assert after.attachments[: len(before.attachments)] == before.attachments
        assert after.rejected_by[: len(before.rejected_by)] == before.rejected_by
        # (Marking a complaint supervisory lengthens its clock: the tiers no longer due
        # are forgotten, to fire again at the new deadline.)
        if after.clock_id == before.clock_id and after.type is before.type:
            assert after.escalations[: len(before.escalations)] == before.escalations
        if before.rating is not None:
            assert after.rating == before.rating
        if before.closed_at is not None:
            assert (after.closed_at, after.closed_by) == (before.closed_at, before.closed_by)
        assert after.paused_working_days >= before.paused_working_days
        assert after.reopen_count == before.reopen_count + (step.command.action is Action.REOPEN)
        assert after.submitted_at == before.submitted_at
        assert after.tracking_code == before.tracking_code


@settings(max_examples=40, deadline=None, derandomize=True)
@given(lives())
def test_the_timeline_links_up_from_the_submission(life: Life) -> None:
    timeline = life.timeline
    assert [event.seq for event in timeline] == list(range(1, len(timeline) + 1))
    assert timeline[0].from_state is None and timeline[0].to_state is State.SUBMITTED
    for earlier, later in itertools.pairwise(timeline):
        assert later.from_state is earlier.to_state
        assert later.at >= earlier.at
    assert timeline[-1].to_state is life.report.state
    assert life.report.last_seq == len(timeline)
