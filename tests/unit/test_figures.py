"""The published figures against a hand-computed fixture, built from real transitions.

Eight reports live through October 2026 (no holiday in the month, so working days are
Monday to Friday) under the lifecycle and the default escalation tiers; a daily run at
07:00 fires every tier that is due and closes silent resolved reports, as the escalate
job does. Every counter comes from :func:`figure_tallies` on those transitions, summed
like the Firestore counter documents; every expected number below was counted by hand
from the story in the comments.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Mapping

import pytest

from shared.domain import escalation
from shared.domain.calendar import WorkingCalendar
from shared.domain.figures import (
    DEFINITIONS,
    NOTES,
    TREND_DAYS,
    AgencyTree,
    CounterKey,
    DailyFigures,
    Figures,
    RuleFigures,
    TrendPoint,
    add_counts,
    compute_figures,
    counts_by_day,
    day_id_range,
    days_id_range,
    definitions_version,
    extend_trend,
    figure_tallies,
    figures_json,
    median_from_histogram,
    misrouting_by_rule,
    month_to_date,
    open_data_columns,
    open_data_rows,
    scope_for,
    scope_of,
    shard_of,
    sum_counter_documents,
)
from shared.domain.report import (
    Action,
    Actor,
    Command,
    DeadlinePolicy,
    Region,
    Report,
    ReportType,
    Role,
    State,
    TimelineEvent,
    apply,
    is_overdue,
    submit,
)
from shared.domain.routing import rule_tallies
from tests.builders import a_draft

pytestmark = pytest.mark.unit

CAL = WorkingCalendar()
POLICY = DeadlinePolicy()
SHARDS = 4
JAKARTA = CAL.tz

A = "dpupr-cianjur"  # roads, Cianjur
B = "dinkes-cianjur"  # health, Cianjur
C = "dbmpr-jabar"  # provincial roads
TREE = AgencyTree(
    parent={
        "nasional": None,
        "pemprov-jabar": "nasional",
        "pemkab-cianjur": "pemprov-jabar",
        A: "pemkab-cianjur",
        B: "pemkab-cianjur",
        C: "pemprov-jabar",
    },
    region={
        "nasional": None,
        "pemprov-jabar": "32",
        "pemkab-cianjur": "32.03",
        A: "32.03",
        B: "32.03",
        C: "32",
    },
)
CIANJUR, BOGOR = Region("32", "32.03"), Region("32", "32.01")

SYSTEM = Actor(Role.SYSTEM, "system:test")
ADMIN = Actor(Role.NATIONAL_ADMIN, "admin-nasional")
AGENCY = Actor(Role.AGENCY_ADMIN, "admin-instansi")
OFFICER = Actor(Role.UNIT_OFFICER, "petugas")
REPORTER = Actor(Role.REPORTER, "reporter")


def at(day: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    """A moment in October 2026, Jakarta time."""
    return dt.datetime(2026, 10, day, hour, minute, tzinfo=JAKARTA)


def oct_(day: int) -> dt.date:
    return dt.date(2026, 10, day)


def test_the_fixture_month_has_no_holiday() -> None:
    # The hand counts below assume working days are exactly Monday to Friday.
    days = [oct_(1) + dt.timedelta(days=n) for n in range(31)]
    assert [d for d in days if CAL.is_working_day(d)] == [d for d in days if d.weekday() < 5]


class World:
    """Reports living through the lifecycle; their counters as Firestore would hold them."""

    def __init__(self) -> None:
        self.reports: dict[str, Report] = {}
        self.documents: dict[str, dict[str, int]] = {}
        self.events: list[tuple[Report | None, Report, TimelineEvent]] = []
        self.overdue: dict[dt.date, dict[str, int]] = {}

    def _count(self, before: Report | None, after: Report, event: TimelineEvent) -> None:
        tallies = figure_tallies(before, after, event, CAL, POLICY, shards=SHARDS)
        # One counter document per transition, a few fields in it.
        assert len({doc_id for doc_id, _, _ in tallies}) <= 1
        assert len(tallies) <= 3
        for doc_id, name, by in tallies:
            fields = self.documents.setdefault(doc_id, {})
            fields[name] = fields.get(name, 0) + by
        self.events.append((before, after, event))

    def submit(
        self,
        name: str,
        moment: dt.datetime,
        type: ReportType = ReportType.ASPIRATION,
        region: Region = CIANJUR,
        confidential: bool = False,
    ) -> None:
        draft = a_draft(
            type=type, title=f"Laporan {name}", region=region, confidential=confidential
        )
        report, event = submit(draft, name, f"CODE-{name}", moment, CAL, POLICY)
        self.reports[name] = report
        self._count(None, report, event)

    def act(
        self, name: str, moment: dt.datetime, action: Action, actor: Actor, **kw: object
    ) -> None:
        command = Command(
            action=action,
            actor=actor,
            reason="alasan",
            message="pesan",
            **kw,  # type: ignore[arg-type]
        )
        before = self.reports[name]
        after, event = apply(before, command, moment, CAL, POLICY)
        self.reports[name] = after
        self._count(before, after, event)

    def route(self, name: str, moment: dt.datetime, agency: str, method: str) -> None:
        if method == "manual":
            self.act(name, moment, Action.DISPOSITION, ADMIN, agency_id=agency)
        else:
            data = {"method": method, "rule_id": "r1"} if method == "rule" else {"method": method}
            self.act(name, moment, Action.DISPOSITION, SYSTEM, agency_id=agency, data=data)

    def daily_run(self, day: dt.date) -> None:
        """What the escalate job does at 07:00: every due tier, then silent closures.

        First, what the report job counted at 01:00 with aggregation queries: the
        reports overdue on the day before, by scope."""
        yesterday = day - dt.timedelta(days=1)
        self.overdue[yesterday] = {}
        for report in self.reports.values():
            if is_overdue(report, yesterday):
                scope = scope_of(report)
                self.overdue[yesterday][scope] = self.overdue[yesterday].get(scope, 0) + 1
        moment = dt.datetime.combine(day, dt.time(7), tzinfo=JAKARTA)
        for name in sorted(self.reports):
            report = self.reports[name]
            for tier in escalation.due_tiers(report, day, POLICY.tiers, CAL):
                data = {"tier": tier.id, "clock": str(self.reports[name].clock_id)}
                self.act(name, moment, Action.ESCALATE, SYSTEM, data=data)
            if escalation.auto_close_due_on(self.reports[name], day):
                self.act(name, moment, Action.AUTO_CLOSE, SYSTEM)

    def day_counts(self, day: dt.date) -> dict[str, dict[str, int]]:
        start, end = day_id_range(day)
        docs = [(i, d) for i, d in self.documents.items() if start <= i < end]
        return sum_counter_documents(day, docs)


def october() -> World:
    """The story, in time order; a daily run every morning before the office opens."""
    w = World()

    def morning(day: int) -> None:
        w.daily_run(oct_(day))

    # Mon 5: R1, R2, R4 in Cianjur, R7 in Bogor.
    morning(5)
    w.submit("R1", at(5))
    w.route("R1", at(5, 10, 5), A, "rule")  # A's deadline: Mon 12
    w.submit("R2", at(5), type=ReportType.INFORMATION_REQUEST)
    w.route("R2", at(5, 10, 5), B, "named")  # B's deadline: Mon 12
    w.submit("R4", at(5))
    w.route("R4", at(5, 10, 5), A, "rule")  # A's deadline: Mon 12
    w.submit("R7", at(5), region=BOGOR)  # verification due Thu 8
    w.act("R7", at(5, 10, 5), Action.QUEUE_FOR_ADMIN, SYSTEM)
    # Tue 6
    morning(6)
    w.submit("R3", at(6))
    w.route("R3", at(6, 10, 5), A, "classifier")  # deadline Tue 13
    w.act("R2", at(6), Action.FOLLOW_UP, OFFICER)  # 1 working day, in time
    w.act("R2", at(6, 11), Action.RESOLVE, OFFICER)  # silent reporter: auto-close after Tue 20
    # Wed 7
    morning(7)
    w.act("R1", at(7), Action.FOLLOW_UP, OFFICER)  # 2 working days, in time
    w.submit("R8", at(7), type=ReportType.COMPLAINT)
    w.act("R8", at(7, 11), Action.ARCHIVE, ADMIN)  # spam, never routed
    # Thu 8
    morning(8)
    w.act("R1", at(8), Action.RESOLVE, OFFICER)
    w.act("R3", at(8), Action.FOLLOW_UP, OFFICER)  # 2 working days, in time
    w.act("R3", at(8, 11), Action.RESOLVE, OFFICER)
    # Fri 9: reminder for R4 (due Mon 12); R7's verification clock ran out (due Thu 8).
    morning(9)
    w.act("R1", at(9), Action.CONFIRM, REPORTER)  # 3 working days to resolution
    w.act("R1", at(9, 11), Action.RATE, REPORTER, rating=5)
    w.act("R3", at(9), Action.REOPEN, REPORTER)
    w.submit("R5", at(9), type=ReportType.INFORMATION_REQUEST, confidential=True)
    w.route("R5", at(9, 10, 5), A, "rule")  # deadline Fri 16
    w.route("R7", at(9), C, "manual")  # deadline Fri 16
    morning(10)
    morning(11)
    # Mon 12: reminder for R3 (in progress again, due Tue 13).
    morning(12)
    w.submit("R6", at(12))
    w.route("R6", at(12, 10, 5), B, "rule")  # deadline Mon 19
    # Tue 13: R4's deadline passed unanswered: the overdue tier.
    morning(13)
    w.act("R3", at(13), Action.RESOLVE, OFFICER)
    # Wed 14: A answers Bukan Wewenang for R4 after its deadline; an admin gives it to B.
    morning(14)
    w.act("R4", at(14), Action.NOT_OUR_AUTHORITY, AGENCY)
    w.route("R4", at(14, 10, 5), B, "manual")  # B's own deadline: Wed 21
    # Thu 15: reminders for R5 and R7 (due Fri 16).
    morning(15)
    w.act("R3", at(15), Action.CONFIRM, REPORTER)  # 5 working days (Tue 6 -> Tue 13)
    w.act("R7", at(15), Action.ARCHIVE, AGENCY)  # not a public service, before its deadline
    # Fri 16: reminder for R6 (due Mon 19).
    morning(16)
    w.act("R4", at(16), Action.FOLLOW_UP, OFFICER)  # 2 working days at B, in time
    # Sat 17: R5's first follow-up, a day late; the overdue tier has not fired yet.
    morning(17)
    w.act("R5", at(17), Action.FOLLOW_UP, OFFICER)  # 5 working days
    morning(18)
    # Mon 19: the overdue tier for R5 (in progress, not closed).
    morning(19)
    w.act("R4", at(19), Action.RESOLVE, OFFICER)
    # Tue 20: R6's deadline passed unanswered.
    morning(20)
    w.act("R4", at(20), Action.CONFIRM, REPORTER)  # 3 working days at B (Wed 14 -> Mon 19)
    w.act("R4", at(20, 11), Action.RATE, REPORTER, rating=3)
    # Wed 21: R2 closes by timeout (1 working day to resolution).
    for day in range(21, 26):
        morning(day)  # Fri 23: national and Ombudsman tiers for R5
    # Mon 26: national and Ombudsman tiers for R6.
    morning(26)
    w.act("R5", at(26), Action.RESOLVE, OFFICER)  # merely resolved: not counted as resolved
    for day in range(27, 32):
        morning(day)
    return w


@pytest.fixture(scope="module")
def world() -> World:
    return october()


def figures_on(world: World, day: dt.date) -> DailyFigures:
    """As the report job computes them: yesterday's cumulative plus the day (the story
    lives in one month, so the month to date is the cumulative)."""
    cumulative: dict[str, dict[str, int]] = {}
    current = oct_(1)
    while current <= day:
        today = world.day_counts(current)
        cumulative = add_counts(cumulative, today)
        current += dt.timedelta(days=1)
    return compute_figures(
        day, today, cumulative, world.overdue[day], TREE, month_counts=cumulative
    )


def test_the_story_went_as_told(world: World) -> None:
    states = {name: report.state for name, report in world.reports.items()}
    assert states == {
        "R1": State.CLOSED,
        "R2": State.CLOSED,
        "R3": State.CLOSED,
        "R4": State.CLOSED,
        "R5": State.RESOLVED,
        "R6": State.DISPOSITIONED,
        "R7": State.ARCHIVED,
        "R8": State.ARCHIVED,
    }
    fired = [
        (e.at.date().day, after.id, e.data["tier"])
        for _, after, e in world.events
        if e.action is Action.ESCALATE
    ]
    assert fired == [
        (9, "R4", "reminder"),
        (9, "R7", "verify-overdue"),
        (12, "R3", "reminder"),
        (13, "R4", "overdue"),
        (15, "R5", "reminder"),
        (15, "R7", "reminder"),
        (16, "R6", "reminder"),
        (19, "R5", "overdue"),
        (20, "R6", "overdue"),
        (23, "R5", "national"),
        (23, "R5", "ombudsman"),
        (26, "R6", "national"),
        (26, "R6", "ombudsman"),
    ]
    assert [(e.action, e.at.date().day) for _, a, e in world.events if a.id == "R2"][-1] == (
        Action.AUTO_CLOSE,
        21,
    )


def test_cumulative_figures_of_agency_a(world: World) -> None:
    a = figures_on(world, oct_(30)).agencies[A].own.cumulative
    # Routed to A: R1, R4, R5 by rule, R3 by the classifier; nobody verified any.
    assert a.received == 4
    assert a.routed == {"named": 0, "rule": 3, "classifier": 1, "manual": 0}
    assert (a.routed_total, a.verified) == (4, 0)
    # First follow-ups: R1 (day 2), R3 (day 2) in time; R5 a day late (5 working days).
    # Missed: R4 (overdue tier, unanswered) and R5 (late). 2 / (2 + 2).
    assert (a.followed_up, a.followed_up_within_deadline, a.deadline_missed) == (3, 2, 2)
    assert a.followed_up_within_deadline_share == 0.5
    # Declared done: R1, R3 twice (reopened once), R5.
    assert (a.resolved, a.reopened, a.reopen_rate) == (4, 1, 0.25)
    # Closed: R1, R3, both confirmed. Due: R1 and R3 at closing; R4 at its overdue tier
    # (+1 Tue 13) then taken back when A answered Bukan Wewenang (-1 Wed 14); R5 at its
    # overdue tier (in progress). R5 is merely resolved: due, not resolved. 2 / 3.
    assert (a.closed, a.closed_confirmed, a.closed_timeout) == (2, 2, 0)
    assert a.resolution_due == 3
    assert a.resolved_share == pytest.approx(2 / 3)
    assert a.closed_confirmed_share == pytest.approx(2 / 3)
    assert a.closed_timeout_share == 0.0
    # One Bukan Wewenang (R4) over 4 dispositions.
    assert (a.not_our_authority, a.misrouting_rate) == (1, 0.25)
    assert a.escalations == {"reminder": 3, "overdue": 2, "national": 1, "ombudsman": 1}
    # First response 2, 2, 5 -> 2. Resolution (closed only): R1 3, R3 5 -> 4.
    assert a.median_first_response_wd == 2
    assert a.median_resolution_wd == 4
    assert (a.satisfaction_mean, a.satisfaction_count) == (5.0, 1)
    assert a.archived == 0


def test_cumulative_figures_of_agency_b(world: World) -> None:
    b = figures_on(world, oct_(30)).agencies[B].own
    c = b.cumulative
    # R2 named by the reporter, R6 by rule, R4 re-routed by an admin (a verification).
    assert c.routed == {"named": 1, "rule": 1, "classifier": 0, "manual": 1}
    assert (c.received, c.verified) == (3, 1)
    # R2 (1 day) and R4 (2 days at B: its own full deadline) in time; R6 never answered.
    assert (c.followed_up, c.followed_up_within_deadline, c.deadline_missed) == (2, 2, 1)
    assert c.followed_up_within_deadline_share == pytest.approx(2 / 3)
    # Closed: R4 confirmed, R2 by timeout; due: those two and R6 (overdue tier). 2 / 3.
    assert (c.closed, c.closed_confirmed, c.closed_timeout, c.resolution_due) == (2, 1, 1, 3)
    assert c.resolved_share == pytest.approx(2 / 3)
    assert c.closed_confirmed_share == pytest.approx(1 / 3)
    assert c.closed_timeout_share == pytest.approx(1 / 3)
    assert (c.resolved, c.reopened, c.reopen_rate) == (2, 0, 0.0)
    assert (c.not_our_authority, c.misrouting_rate) == (0, 0.0)
    assert c.escalations == {"reminder": 1, "overdue": 1, "national": 1, "ombudsman": 1}
    # First response 1 and 2: an even count, the mean of the middle two. Resolution:
    # R2 1 (Mon 5 -> Tue 6), R4 3 (Wed 14 -> Mon 19) -> 2.
    assert c.median_first_response_wd == 1.5
    assert c.median_resolution_wd == 2
    assert (c.satisfaction_mean, c.satisfaction_count) == (3.0, 1)
    # R6 still dispositioned, past its Mon 19 deadline.
    assert b.overdue_now == 1


def test_an_agency_with_little_to_show(world: World) -> None:
    c = figures_on(world, oct_(30)).agencies[C].own.cumulative
    # R7: verified and routed by an admin, reminded, archived before its deadline.
    assert (c.received, c.verified, c.archived) == (1, 1, 1)
    assert c.escalations == {"reminder": 1}
    assert c.misrouting_rate == 0.0
    # Nothing to divide by: no figure pretends to be zero.
    assert c.followed_up_within_deadline_share is None
    assert c.resolved_share is None
    assert c.reopen_rate is None
    assert c.median_first_response_wd is None
    assert c.median_resolution_wd is None
    assert c.satisfaction_mean is None


def test_national_cumulative_figures(world: World) -> None:
    national = figures_on(world, oct_(30)).national
    n = national.cumulative
    assert n.received == 8  # R1..R8, the confidential R5 included
    assert n.routed == {"named": 1, "rule": 4, "classifier": 1, "manual": 2}
    assert (n.routed_total, n.verified) == (8, 2)
    # Within: R1, R2, R3, R4 at B. Missed: R4 at A, R5, R6. 4 / 7.
    assert (n.followed_up, n.followed_up_within_deadline, n.deadline_missed) == (5, 4, 3)
    assert n.followed_up_within_deadline_share == pytest.approx(4 / 7)
    # Reports closed (R1, R2, R3, R4) over those plus the ones past their current
    # deadline and not closed (R5, R6): 4 / 6. R4 counts once, though two agencies held it.
    assert (n.closed, n.closed_confirmed, n.closed_timeout, n.resolution_due) == (4, 3, 1, 6)
    assert n.resolved_share == pytest.approx(4 / 6)
    assert (n.resolved, n.reopened) == (6, 1)
    assert n.reopen_rate == pytest.approx(1 / 6)
    assert (n.not_our_authority, n.misrouting_rate) == (1, 1 / 8)
    assert n.archived == 2  # R7 by its agency, R8 before routing
    assert n.escalations == {
        "national": 2,
        "ombudsman": 2,
        "overdue": 3,
        "reminder": 5,
        "verify-overdue": 1,
    }
    # First response 1, 2, 2, 2, 5 -> 2; resolution 1, 3, 3, 5 -> 3.
    assert (n.median_first_response_wd, n.median_resolution_wd) == (2, 3)
    assert (n.satisfaction_mean, n.satisfaction_count) == (4.0, 2)
    assert national.overdue_now == 1


def test_regions_and_the_agency_tree(world: World) -> None:
    figures = figures_on(world, oct_(30))
    cianjur = figures.regions["32.03"].cumulative
    # Submitted in Cianjur: all but R7; handled there: A and B.
    assert (cianjur.received, cianjur.routed_total, cianjur.closed) == (7, 7, 4)
    assert cianjur.archived == 1  # R8
    assert figures.regions["32.03"].overdue_now == 1
    bogor = figures.regions["32.01"].cumulative
    # R7 came from Bogor and waited there unrouted; the provincial agency handled it.
    assert (bogor.received, bogor.routed_total) == (1, 0)
    assert bogor.escalations == {"verify-overdue": 1}
    province = figures.regions["32"].cumulative
    assert (province.received, province.routed_total, province.archived) == (0, 1, 1)

    pemkab = figures.agencies["pemkab-cianjur"]
    assert pemkab.own.cumulative.routed_total == 0
    # Rolled up: A and B together, medians from the summed histograms.
    s = pemkab.subtree.cumulative
    assert (s.routed_total, s.closed, s.resolution_due) == (7, 4, 6)
    assert s.followed_up_within_deadline_share == pytest.approx(4 / 7)
    assert (s.median_first_response_wd, s.median_resolution_wd) == (2, 3)
    assert pemkab.subtree.overdue_now == 1
    top = figures.agencies["nasional"].subtree.cumulative
    assert (top.routed_total, top.closed, top.archived) == (8, 4, 1)
    # Every agency of the tree is listed, even with nothing to show.
    assert set(figures.agencies) == set(TREE.parent)


def test_figures_of_one_day(world: World) -> None:
    # Tue 20: R6's overdue tier (missed, due); R4 confirmed at B (3 days) and rated 3.
    day = figures_on(world, oct_(20))
    b = day.agencies[B].own.day
    assert (b.closed, b.closed_confirmed, b.resolution_due, b.deadline_missed) == (1, 1, 2, 1)
    assert b.resolved_share == 0.5
    assert b.followed_up_within_deadline_share == 0.0
    assert b.escalations == {"overdue": 1}
    assert (b.median_resolution_wd, b.median_first_response_wd) == (3, None)
    assert (b.satisfaction_mean, b.satisfaction_count) == (3.0, 1)
    assert day.national.day.received == 0
    nothing = day.agencies[A].own.day  # nothing happened at A that day
    assert (nothing.routed_total, nothing.closed, nothing.resolved_share) == (0, 0, None)
    # Overdue at the end of Tue 20: R6 (due Mon 19) at B; R5 is in progress past Fri 16.
    assert day.agencies[B].own.overdue_now == 1
    assert day.agencies[A].own.overdue_now == 1


def test_a_bukan_wewenang_after_the_deadline_moves_the_report_out_of_the_denominator(
    world: World,
) -> None:
    # Wed 14: A answers Bukan Wewenang for R4, whose overdue tier fired the day before.
    a = figures_on(world, oct_(14)).agencies[A].own
    assert (a.day.not_our_authority, a.day.resolution_due) == (1, -1)
    assert a.day.resolved_share is None  # nothing to divide by on that day
    assert a.cumulative.resolution_due == 1  # R1, closed
    assert a.cumulative.deadline_missed == 1  # the missed follow-up stays A's


def test_cumulative_is_yesterdays_plus_today(world: World) -> None:
    # Chained day by day (one read of yesterday's document) or summed at once: the same.
    all_days = add_counts(*(world.day_counts(oct_(d)) for d in range(1, 31)))
    chained = figures_on(world, oct_(30))
    direct = compute_figures(
        oct_(30), {}, all_days, world.overdue[oct_(30)], TREE, month_counts=all_days
    )
    assert chained.national.cumulative == direct.national.cumulative
    assert chained.regions.keys() == direct.regions.keys()
    for code, region in direct.regions.items():
        assert chained.regions[code].cumulative == region.cumulative
    for agency, both in direct.agencies.items():
        assert chained.agencies[agency].own.cumulative == both.own.cumulative
        assert chained.agencies[agency].subtree.cumulative == both.subtree.cumulative


def test_the_same_counters_give_the_same_figures(world: World) -> None:
    assert figures_on(world, oct_(30)) == figures_on(world, oct_(30))
    stored = json.loads(json.dumps(figures_json(figures_on(world, oct_(30)))))
    assert stored["day"] == "2026-10-30"
    assert stored["agencies"][B]["own"]["cumulative"]["closed_timeout"] == 1
    assert stored["regions"]["32.03"]["cumulative"]["received"] == 7


def test_misrouting_per_rule_from_the_routing_stats(world: World) -> None:
    stats: dict[str, dict[str, int]] = {}
    for _, _, event in world.events:
        for rule, name in rule_tallies(event):
            stats.setdefault(rule, {})[name] = stats.get(rule, {}).get(name, 0) + 1
    # Rule r1 sent R1, R4, R5 to A and R6 to B; A refused R4.
    assert misrouting_by_rule(stats) == {"r1": RuleFigures(4, 1, 0.25)}
    assert misrouting_by_rule({"r2": {}}) == {"r2": RuleFigures(0, 0, None)}


def test_nothing_of_a_report_reaches_the_counters_or_the_open_data(world: World) -> None:
    rows = open_data_rows(figures_on(world, oct_(30)), ["reminder", "overdue"])
    published = repr(rows) + repr(world.documents)
    for report in world.reports.values():
        for secret in (report.id + ":", report.tracking_code, report.title):
            assert secret not in published


def test_every_counter_document_id_names_its_day_scope_and_shard(world: World) -> None:
    for doc_id in world.documents:
        key = CounterKey.parse(doc_id)
        assert key.doc_id == doc_id
        assert 0 <= key.shard < SHARDS
        assert key.scope in TREE.parent or key.scope.startswith("unrouted:32.")
        start, end = day_id_range(key.day)
        assert start <= doc_id < end
        assert not (day_id_range(key.day + dt.timedelta(days=1))[0] <= doc_id)


# --- single transitions -----------------------------------------------------------------


def dispositioned() -> Report:
    """A fresh aspiration dispositioned to A on Mon 5 October (deadline Mon 12)."""
    w = World()
    w.submit("X", at(5))
    w.route("X", at(5, 10, 5), A, "rule")
    return w.reports["X"]


def moves(
    before: Report, action: Action, moment: dt.datetime, actor: Actor, **kw: object
) -> dict[str, int]:
    command = Command(action=action, actor=actor, reason="alasan", message="pesan", **kw)  # type: ignore[arg-type]
    after, event = apply(before, command, moment, CAL, POLICY)
    return {name: by for _, name, by in figure_tallies(before, after, event, CAL, POLICY, shards=1)}


def escalated(report: Report, day: int, tier: str) -> Report:
    data = {"tier": tier, "clock": str(report.clock_id)}
    command = Command(action=Action.ESCALATE, actor=SYSTEM, data=data)
    return apply(report, command, at(day, 7), CAL, POLICY)[0]


def test_a_late_follow_up_after_the_overdue_tier_is_not_missed_twice() -> None:
    report = escalated(escalated(dispositioned(), 9, "reminder"), 13, "overdue")
    assert moves(report, Action.FOLLOW_UP, at(14), OFFICER) == {
        "followed_up": 1,
        "first_response_wd_7": 1,
    }


def test_a_follow_up_on_the_deadline_day_is_in_time() -> None:
    assert moves(dispositioned(), Action.FOLLOW_UP, at(12, 23, 59), OFFICER) == {
        "followed_up": 1,
        "followed_up_within_deadline": 1,
        "first_response_wd_5": 1,
    }


def test_bukan_wewenang_after_the_deadline_before_the_overdue_tier_counts_a_miss() -> None:
    assert moves(dispositioned(), Action.NOT_OUR_AUTHORITY, at(13, 6), AGENCY) == {
        "not_our_authority": 1,
        "deadline_missed": 1,
    }
    assert moves(dispositioned(), Action.NOT_OUR_AUTHORITY, at(12), AGENCY) == {
        "not_our_authority": 1
    }


def test_archiving_a_routed_report_after_its_overdue_tier_takes_it_out_of_the_denominator() -> None:
    report = escalated(dispositioned(), 13, "overdue")
    assert moves(report, Action.ARCHIVE, at(14), AGENCY) == {"archived": 1, "resolution_due": -1}


def test_the_overdue_tier_counts_a_miss_only_while_unanswered() -> None:
    report = dispositioned()
    tier = {"tier": "overdue", "clock": str(report.clock_id)}
    assert moves(report, Action.ESCALATE, at(13, 7), SYSTEM, data=tier) == {
        "escalation_overdue": 1,
        "resolution_due": 1,
        "deadline_missed": 1,
    }
    answered = apply(
        report, Command(Action.FOLLOW_UP, OFFICER, message="pesan"), at(6), CAL, POLICY
    )[0]
    assert moves(answered, Action.ESCALATE, at(13, 7), SYSTEM, data=tier) == {
        "escalation_overdue": 1,
        "resolution_due": 1,
    }


def test_closing_after_the_overdue_tier_is_not_due_twice() -> None:
    report = escalated(dispositioned(), 13, "overdue")
    for action, moment in ((Action.FOLLOW_UP, at(14)), (Action.RESOLVE, at(14, 11))):
        report = apply(report, Command(action, OFFICER, message="pesan"), moment, CAL, POLICY)[0]
    assert moves(report, Action.CONFIRM, at(15), REPORTER) == {
        "closed_confirmed": 1,
        "resolution_wd_7": 1,
    }


def test_a_longer_deadline_takes_back_what_the_overdue_tier_counted() -> None:
    w = World()
    w.submit("X", at(5), type=ReportType.COMPLAINT)
    w.route("X", at(5, 10, 5), A, "rule")  # 14 working days: Fri 23
    w.daily_run(oct_(22))  # reminder
    w.daily_run(oct_(26))  # overdue
    report = w.reports["X"]
    assert report.escalations == ("reminder", "overdue")
    # 60 working days from Mon 5: neither tier's day has come any more.
    assert moves(report, Action.MARK_SUPERVISORY, at(27), AGENCY) == {
        "resolution_due": -1,
        "deadline_missed": -1,
    }


def test_submission_counts_in_the_region_and_routing_in_the_receiving_agency() -> None:
    w = World()
    w.submit("X", at(5), region=BOGOR)
    w.route("X", at(5, 10, 5), C, "classifier")
    (submitted, routed) = (
        figure_tallies(before, after, event, CAL, POLICY, shards=SHARDS)
        for before, after, event in w.events
    )
    assert [(CounterKey.parse(i).scope, f, by) for i, f, by in submitted] == [
        ("unrouted:32.01", "received", 1)
    ]
    assert [(CounterKey.parse(i).scope, f, by) for i, f, by in routed] == [
        (C, "routed_classifier", 1)
    ]
    assert CounterKey.parse(submitted[0][0]).day == oct_(5)


def test_the_day_is_the_jakarta_date() -> None:
    w = World()
    w.submit("X", dt.datetime(2026, 10, 5, 18, 30, tzinfo=dt.UTC))  # 01:30 Tue 6 in Jakarta
    [(doc_id, _, _)] = figure_tallies(*w.events[0], CAL, POLICY, shards=SHARDS)
    assert CounterKey.parse(doc_id).day == oct_(6)


def test_the_shard_is_stable_and_spread() -> None:
    assert shard_of("r1", 2, 8) == shard_of("r1", 2, 8)
    assert len({shard_of("r1", seq, 8) for seq in range(1, 200)}) == 8
    assert shard_of("r1", 2, 1) == 0
    with pytest.raises(ValueError):
        shard_of("r1", 2, 0)


def test_a_counter_id_round_trips() -> None:
    key = CounterKey(oct_(5), "unrouted:32.03", 3)
    assert key.doc_id == "2026-10-05_unrouted:32.03_3"
    assert CounterKey.parse(key.doc_id) == key
    with pytest.raises(ValueError):
        CounterKey.parse("2026-10-05-dpupr_1")


def test_summing_ignores_other_days_and_non_counters() -> None:
    docs: list[tuple[str, Mapping[str, object]]] = [
        ("2026-10-05_dpupr-cianjur_0", {"key": "2026-10-05_dpupr-cianjur_0", "resolved": 2}),
        ("2026-10-05_dpupr-cianjur_3", {"resolved": 1, "reopened": 1}),
        ("2026-10-06_dpupr-cianjur_0", {"resolved": 7}),
    ]
    assert sum_counter_documents(oct_(5), docs) == {A: {"resolved": 3, "reopened": 1}}
    assert counts_by_day(docs) == {
        oct_(5): {A: {"resolved": 3, "reopened": 1}},
        oct_(6): {A: {"resolved": 7}},
    }


def test_a_run_of_days_is_one_id_range() -> None:
    ids = [
        CounterKey(oct_(day), scope, shard).doc_id
        for day in (4, 5, 6, 7, 8)
        for scope in (A, "unrouted:32.03", "z")
        for shard in (0, 3)
    ]
    start, end = days_id_range(oct_(5), oct_(7))
    assert {CounterKey.parse(i).day for i in ids if start <= i < end} == {
        oct_(d) for d in (5, 6, 7)
    }
    start, end = days_id_range(None, oct_(7))
    assert {CounterKey.parse(i).day for i in ids if start <= i < end} == {
        oct_(d) for d in (4, 5, 6, 7)
    }
    assert days_id_range(oct_(5), oct_(5)) == day_id_range(oct_(5))


def test_the_scope_of_a_held_and_an_unheld_report() -> None:
    assert scope_for(A, CIANJUR) == A
    assert scope_for(None, CIANJUR) == "unrouted:32.03"
    assert scope_for(None, Region("32", None)) == "unrouted:32"


def test_the_month_to_date_carries_the_same_month_only() -> None:
    sep_30, oct_2 = dt.date(2026, 9, 30), oct_(2)
    day_counts = {
        sep_30: {A: {"received": 1}},
        oct_(1): {A: {"received": 2}},
        oct_2: {A: {"received": 4}, B: {"resolved": 1}},
    }
    # Yesterday was in the month: its month to date plus today.
    assert month_to_date(oct_2, (oct_(1), {A: {"received": 2}}), {oct_2: day_counts[oct_2]}) == {
        A: {"received": 6},
        B: {"resolved": 1},
    }
    # The last stored day was in September: only October's days count.
    missed = {day: day_counts[day] for day in (oct_(1), oct_2)}
    assert month_to_date(oct_2, (sep_30, {A: {"received": 99}}), missed) == {
        A: {"received": 6},
        B: {"resolved": 1},
    }
    # No stored day: whatever is given, within the month.
    assert month_to_date(oct_2, None, day_counts) == {A: {"received": 6}, B: {"resolved": 1}}


def test_the_trend_keeps_ninety_days_and_fills_the_gaps() -> None:
    previous = [{"day": "2026-10-01", "received": 3, "closed": 1}]
    previous += [{"day": "2026-07-03", "received": 9, "closed": 9}]  # 91 days before Oct 2
    computed: list[TrendPoint] = [{"day": "2026-10-02", "received": 2, "closed": 0}]

    trend = extend_trend(oct_(2), previous, computed)

    assert len(trend) == TREND_DAYS
    assert trend[0]["day"] == "2026-07-05" and trend[-1]["day"] == "2026-10-02"
    assert trend[-2:] == [
        {"day": "2026-10-01", "received": 3, "closed": 1},
        {"day": "2026-10-02", "received": 2, "closed": 0},
    ]
    assert sum(int(p["received"]) for p in trend) == 5  # the rest are zeros
    # A point computed now wins over the stored one of the same day (a re-run).
    again = extend_trend(oct_(2), trend, [{"day": "2026-10-02", "received": 5, "closed": 1}])
    assert again[-1] == {"day": "2026-10-02", "received": 5, "closed": 1}
    assert again[:-1] == trend[:-1]


def test_the_definitions_version_follows_the_wording() -> None:
    version = definitions_version()
    assert len(version) == 12 and version == definitions_version()
    assert all(c in "0123456789abcdef" for c in version)


# --- medians from histograms ------------------------------------------------------------


@pytest.mark.parametrize(
    ("buckets", "median"),
    [
        ({}, None),
        ({3: 0}, None),
        ({4: 1}, 4),
        ({1: 1, 2: 1, 9: 1}, 2),  # odd
        ({1: 1, 2: 1, 3: 1, 9: 1}, 2.5),  # even: the two middle values
        ({0: 2, 10: 2}, 5),  # even, the middle falls between buckets
        ({2: 3, 7: 1}, 2),
        ({1: 1, 5: 100, 9: 1}, 5),
        ({6: 1, 1: 2}, 1),  # order of the mapping does not matter
    ],
)
def test_median_from_histogram(buckets: dict[int, int], median: float | None) -> None:
    assert median_from_histogram(buckets) == median


# --- definitions and the open data ------------------------------------------------------


def test_every_figure_has_a_definition_in_both_languages() -> None:
    defined = {definition.figure for definition in DEFINITIONS}
    published = {f.name for f in dataclasses.fields(Figures)} | {"overdue_now"}
    # The counts behind a share are explained with the share.
    explained_elsewhere = {
        "routed_total",
        "followed_up_within_deadline",
        "deadline_missed",
        "closed_confirmed",
        "closed_timeout",
        "resolution_due",
        "closed_confirmed_share",
        "closed_timeout_share",
        "reopened",
        "not_our_authority",
        "satisfaction_count",
    }
    assert defined <= published
    assert published - defined == explained_elsewhere
    for definition in DEFINITIONS:
        for text in (definition.label, definition.meaning, definition.counted):
            assert text.id.strip() and text.en.strip() and text.id != text.en


def test_the_definitions_are_lifecycles_words() -> None:
    meaning = {d.figure: d.meaning.en for d in DEFINITIONS}
    assert meaning["followed_up_within_deadline_share"] == (
        "Dispositions whose first follow-up came before that disposition's resolution "
        "deadline, over dispositions whose deadline has passed or that were followed up."
    )
    assert meaning["resolved_share"] == (
        "Reports closed (confirmed by the reporter, or closed by timeout), over reports "
        "whose resolution deadline has passed or that were closed; confirmed and timed-out "
        "closures are also shown apart. Reopened and merely `resolved` reports do not count "
        "as resolved."
    )
    assert meaning["misrouting_rate"] == (
        "Bukan Wewenang answers over dispositions, per agency and per routing rule."
    )
    notes = [note.en for note in NOTES]
    assert "Time figures in working days, medians, per disposition." in notes
    assert (
        "Confidential reports count in the figures; nothing of their content, code or place "
        "appears in any published list." in notes
    )


def test_open_data_rows_follow_the_schema(world: World) -> None:
    tiers = [tier.id for tier in POLICY.tiers]
    columns = open_data_columns(tiers)
    names = [column.name for column in columns]
    assert len(names) == len(set(names))
    rows = open_data_rows(figures_on(world, oct_(30)), tiers)
    # National, 3 regions, 6 agencies twice (own, subtree); each for the day and cumulatively.
    assert len(rows) == (1 + 3 + 6 * 2) * 2
    python_types: dict[str, type | tuple[type, ...]] = {
        "date": str,
        "string": str,
        "integer": int,
        "number": (float, type(None)),  # empty when there is nothing to divide by
    }
    for row in rows:
        assert list(row) == names
        for column in columns:
            assert isinstance(row[column.name], python_types[column.type]), column.name
    national = next(r for r in rows if r["scope"] == "national" and r["period"] == "cumulative")
    assert national["date"] == "2026-10-30"
    assert (national["received"], national["routed_rule"], national["closed_timeout"]) == (8, 4, 1)
    assert (national["escalation_reminder"], national["escalation_verify-overdue"]) == (5, 1)
    assert national["overdue_now"] == 1
    assert national["resolved_share"] == 0.6667  # 4 / 6, to four places
    for column in columns:
        assert column.meaning.id.strip() and column.meaning.en.strip()
