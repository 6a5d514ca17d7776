"""Jobs benchmark: the daily escalation run and the daily report over many reports, and
what each transition pays for the published figures' counters.

Two parts, each on its own fresh emulators, everything in-process through the use
cases with the function's adapters (the HTTP layer adds no Firestore operation):

1. **lifecycle**: 60 reports submitted, routed, notified, followed up, resolved,
   confirmed and rated; 60 complaints submitted, routed and left to the escalation
   runs of the days their tiers fall due; then the daily report. The report store is
   metered (:class:`MeteredStore`): each transition's operations are kept with its
   change, so every kind of transition shows its writes and, of those, the counter
   documents it moved (the figures' and the routing rules'). Each notification is
   delivered by the notify use case to a local webhook receiver, and each Pub/Sub
   message's billable size is noted (``bench/cost.py`` prices all of it).
2. **scale**: reports written straight into Firestore (batched commits of 500, four
   writers), 10,000 and then 90,000 more. Each is a real domain report: drafts from
   ``tests.builders.a_draft`` taken through ``submit`` and ``apply`` along one of six
   trajectories (confirmed, closed by silence, in progress, never followed up,
   unrouted, re-routed after Bukan Wewenang), submitted over the 90 days before the
   run, every escalation run of those days applied by the domain as the job would
   have, and the figures' counters summed from the tallies of every event. Distinct
   trajectories are computed once and written under fresh ids (what the domain gives
   does not depend on the id; the counter shard does, so copies are spread over the
   shards). 1% of the reports are due on the run date. Measured: the daily report at
   10,000 and at 100,000 reports (the days before it stored, as in production), then
   the escalation run over the 100,000.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import random
import statistics
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bench.common import (
    announce,
    counted,
    emulated_environment,
    logs_to_file,
    ms,
    percentiles,
    print_table,
    write_results,
)
from shared.adapters.firestore import FirestoreFiguresStore, FirestoreReportStore, StoreStats
from shared.ports import Change, DuePage, NewSubmission

if TYPE_CHECKING:
    from shared.config import Settings
    from shared.domain.report import Command, Report, TimelineEvent
    from shared.ports import OutboxMessage, Tally
    from shared.reference import Reference

JAKARTA = ZoneInfo("Asia/Jakarta")

# --- part 1: lifecycle ---------------------------------------------------------------
LIFECYCLE_REPORTS = 60  # per group
# A Monday in a month without a national holiday: a complaint dispositioned then is due
# on Friday the 23rd, reminded on the 22nd, overdue on the 26th, national on the 30th.
LIFECYCLE_START = dt.datetime(2026, 10, 5, 9, 0, tzinfo=JAKARTA)
ESCALATION_DAYS = (dt.date(2026, 10, 22), dt.date(2026, 10, 26), dt.date(2026, 10, 30))

# --- part 2: scale -------------------------------------------------------------------
RUN_DATE = dt.date(2026, 10, 28)  # the escalation run (07:00); a Wednesday
REPORT_DAY = RUN_DATE - dt.timedelta(days=1)  # the daily report's day (run at 01:00)
WINDOW_DAYS = 90  # reports submitted over the 90 days up to REPORT_DAY
SUBMIT_HOURS = (8, 13, 19)
SIZES = (10_000, 100_000)
DUE_SHARE = 0.01
BATCH = 500
WRITERS = 4
SEED = 7
# Share of the reports that are not due, by trajectory (the due ones are spread evenly
# over the trajectories that happen to fall due on the run date).
KIND_WEIGHTS = {
    "confirmed": 0.45,
    "silent": 0.15,
    "working": 0.20,
    "untouched": 0.08,
    "unrouted": 0.04,
    "rerouted": 0.08,
}
# (category, routing rule, agency) in Cianjur, from shared/reference/routing_rules.toml.
ROUTES = (
    ("infrastruktur.jalan", "cianjur-jalan", "dpupr-cianjur"),
    ("kesehatan", "cianjur-kesehatan", "dinkes-cianjur"),
    ("pendidikan", "cianjur-pendidikan", "disdik-cianjur"),
    ("administrasi-kependudukan", "cianjur-adminduk", "disdukcapil-cianjur"),
    ("lingkungan-hidup", "cianjur-lingkungan-hidup", "dlh-cianjur"),
    ("perhubungan", "cianjur-perhubungan", "dishub-cianjur"),
    ("sosial", "cianjur-sosial", "dinsos-cianjur"),
)
SCHEDULER_DEADLINE_S = 1800  # the escalate function's timeout (infra/main.tf)


# --- the metered store and publisher ---------------------------------------------------


class MeteredStore(FirestoreReportStore):
    """The report store, remembering what each call cost: the due-reports queries'
    reads apart from the transactions', and each transition and submission with its
    operations."""

    def __init__(self, client: Any) -> None:
        super().__init__(client)
        self.query_reads = 0
        self.transitions: list[tuple[Change, StoreStats]] = []
        self.submissions: list[tuple[NewSubmission, StoreStats]] = []

    def due_reports(self, *args: Any, **kwargs: Any) -> DuePage:
        before = self.stats.snapshot()
        page = super().due_reports(*args, **kwargs)
        self.query_reads += self.stats.since(before).reads
        return page

    def transition(
        self, report_id: str, decide: Callable[[Report], Change], *args: Any, **kwargs: Any
    ) -> Change:
        before = self.stats.snapshot()
        change = super().transition(report_id, decide, *args, **kwargs)
        self.transitions.append((change, self.stats.since(before)))
        return change

    def create_submission(self, submission: NewSubmission) -> None:
        before = self.stats.snapshot()
        super().create_submission(submission)
        self.submissions.append((submission, self.stats.since(before)))


class RecordingPublisher:
    """Publishes through the real publisher and keeps each message, to deliver and size."""

    def __init__(self, publisher: Any) -> None:
        self._publisher = publisher
        self.messages: list[OutboxMessage] = []

    def publish(self, message: OutboxMessage) -> None:
        self._publisher.publish(message)
        self.messages.append(message)

    def take(self) -> list[OutboxMessage]:
        taken, self.messages = self.messages, []
        return taken


def billable_bytes(message: OutboxMessage) -> int:
    """Pub/Sub's data volume of one message: the body as the publisher encodes it, each
    attribute's key and value, 20 bytes of timestamp and a message id (16 digits)."""
    body = len(json.dumps(message.data, separators=(",", ":")).encode())
    attributes = sum(len(k.encode()) + len(str(v).encode()) for k, v in message.attributes.items())
    return body + attributes + 20 + 16


def _counter_documents(tallies: Sequence[Tally]) -> dict[str, int]:
    """The counter documents a commit moves, per counter collection (one write each)."""
    documents: dict[str, set[str]] = defaultdict(set)
    for tally in tallies:
        documents[tally.counter].add(tally.key)
    return {counter: len(keys) for counter, keys in documents.items()}


@dataclass
class KindCost:
    """Firestore operations of one kind of call, summed."""

    calls: int = 0
    reads: int = 0
    writes: int = 0
    deletes: int = 0
    commits: int = 0
    figure_counter_writes: int = 0
    rule_counter_writes: int = 0
    notifications: int = 0  # outbox entries on the notification topics
    samples_ms: list[float] = field(default_factory=list)

    def add(self, cost: StoreStats, counters: dict[str, int] | None = None) -> None:
        from shared.usecases.counters import FIGURE_COUNTERS, ROUTING_STATS

        self.calls += 1
        self.reads += cost.reads
        self.writes += cost.writes
        self.deletes += cost.deletes
        self.commits += cost.commits
        self.figure_counter_writes += (counters or {}).get(FIGURE_COUNTERS, 0)
        self.rule_counter_writes += (counters or {}).get(ROUTING_STATS, 0)

    def as_json(self) -> dict[str, Any]:
        n = max(1, self.calls)
        figures: dict[str, Any] = {
            "calls": self.calls,
            "reads": round(self.reads / n, 3),
            "writes": round(self.writes / n, 3),
            "deletes": round(self.deletes / n, 3),
            "commits": round(self.commits / n, 3),
            "figure_counter_writes": round(self.figure_counter_writes / n, 3),
            "rule_counter_writes": round(self.rule_counter_writes / n, 3),
            "writes_without_counters": round(
                (self.writes - self.figure_counter_writes - self.rule_counter_writes) / n, 3
            ),
        }
        figures["notifications"] = round(self.notifications / n, 3)
        if len(self.samples_ms) >= 2:
            figures["duration"] = percentiles(self.samples_ms)
        return figures


def _kind(event: TimelineEvent) -> str:
    if event.action.value == "disposition":
        return f"disposition ({event.data.get('method', 'manual')})"
    return event.action.value


# --- part 1: lifecycle -------------------------------------------------------------------


def _lifecycle() -> dict[str, Any]:
    from shared import wiring
    from shared.config import settings
    from shared.domain.privacy import ReporterIdentity
    from shared.domain.report import Action, Actor, Command, Role
    from shared.ports import DailyReportPorts, EscalatePorts, FixedClock, RoutePorts
    from shared.usecases.act import act
    from shared.usecases.daily_report import run_daily_report
    from shared.usecases.escalate import escalate, run_moment
    from shared.usecases.outbox import publish_committed
    from shared.usecases.route import SubmittedMessage, route_report
    from shared.usecases.submit import submit_report
    from tests.builders import a_draft

    costs: dict[str, KindCost] = defaultdict(KindCost)
    message_bytes: dict[str, list[int]] = defaultdict(list)

    with emulated_environment({"LAPOR_RATE_LIMIT_SUBMITS": "1000000"}):
        config = settings()
        client = wiring.firestore_client()
        store = MeteredStore(client)
        publisher = RecordingPublisher(wiring.publisher())
        identity = ReporterIdentity("Siti Aminah", "siti@example.id", "+6281234567890")
        told = _notification_topics(config)

        def published() -> list[OutboxMessage]:
            """What the last call put on the bus, its billable sizes noted by kind."""
            taken = publisher.take()
            for message in taken:
                kind = "report.submitted" if message.topic not in told else message.data["kind"]
                message_bytes[str(kind)].append(billable_bytes(message))
            return taken

        def submit_and_route(i: int, draft: Any) -> str:
            at = LIFECYCLE_START + dt.timedelta(minutes=i)
            started = time.perf_counter()
            accepted = submit_report(
                draft,
                identity,
                client_id=f"bench-{i}",
                idempotency_key=uuid.uuid4().hex,
                store=store,
                publisher=publisher,
                clock=FixedClock(at),
                settings=config,
            )
            submission, cost = store.submissions[-1]
            kind = costs["submit"]
            kind.add(cost, _counter_documents(submission.tallies))
            kind.notifications += sum(m.topic in told for m in submission.notifications)
            kind.samples_ms.append((time.perf_counter() - started) * 1000)
            message = next(m for m in published() if m.topic == config.topic_report_submitted)
            ports = RoutePorts(
                store=store,
                publisher=publisher,
                clock=FixedClock(at + dt.timedelta(seconds=30)),
                settings=config,
                tables=wiring.routing_tables(),
                reference=wiring.reference(),
            )
            route_report(SubmittedMessage(accepted.report_id, message.id, 1), ports)
            published()
            return accepted.report_id

        routes = [a_draft(category=category) for category, _, _ in ROUTES]
        handled = [submit_and_route(i, routes[i % len(routes)]) for i in range(LIFECYCLE_REPORTS)]
        for i in range(LIFECYCLE_REPORTS):  # complaints left to the escalation runs
            submit_and_route(LIFECYCLE_REPORTS + i, a_draft())
        reporter = Actor(Role.REPORTER, "reporter")
        day = LIFECYCLE_START + dt.timedelta(days=1)
        for report_id in handled:
            report = store.get(report_id)
            assert report is not None and report.agency_id is not None
            admin = Actor(Role.AGENCY_ADMIN, report.agency_id)
            steps = (
                (Command(Action.FOLLOW_UP, admin, message="Sedang ditinjau di lapangan."), 0),
                (Command(Action.RESOLVE, admin, message="Sudah diperbaiki."), 2),
                (Command(Action.CONFIRM, reporter), 3),
                (Command(Action.RATE, reporter, rating=5), 3),
            )
            for command, days in steps:
                at = day + dt.timedelta(days=days)
                change = act(report_id, command, store=store, clock=FixedClock(at), settings=config)
                # As the agency and reporter calls do: publish, then settle what went out.
                publish_committed(publisher, change.outbox, store)
                published()

        runs = []
        for run_date in ESCALATION_DAYS:
            ports = EscalatePorts(
                store=store,
                publisher=publisher,
                clock=FixedClock(run_moment(run_date, config)),
                settings=config,
                reference=wiring.reference(),
            )
            before = store.stats.snapshot()
            started = time.perf_counter()
            run = escalate(run_date, ports)
            elapsed = time.perf_counter() - started
            spent = store.stats.since(before)
            runs.append(
                {
                    **run.as_json(),
                    "seconds": round(elapsed, 3),
                    "reads": spent.reads,
                    "writes": spent.writes,
                    "deletes": spent.deletes,
                }
            )
            published()
        assert all(r["escalated"] for r in runs), runs

        report_day = ESCALATION_DAYS[-1]
        daily = DailyReportPorts(
            figures=TimedFiguresStore(client, store),
            publisher=publisher,
            clock=FixedClock(run_moment(report_day, config)),
            settings=config,
            reference=wiring.reference(),
        )
        run_daily_report(report_day, daily)
        published()

        for change, cost in store.transitions:
            kind = costs[_kind(change.event)]
            kind.add(cost, _counter_documents(change.tallies))
            kind.notifications += sum(m.topic in told for m in change.outbox)

    return {
        "per_kind": {kind: cost.as_json() for kind, cost in sorted(costs.items())},
        "escalation_runs": runs,
        "message_bytes": {
            kind: {"n": len(sizes), "mean": round(statistics.fmean(sizes), 1), "max": max(sizes)}
            for kind, sizes in sorted(message_bytes.items())
        },
        "method": (
            f"in-process on fresh emulators: {LIFECYCLE_REPORTS} reports submitted (with an "
            "Idempotency-Key), routed, followed up, resolved, confirmed and rated; "
            f"{LIFECYCLE_REPORTS} complaints submitted, routed and escalated by the runs of "
            + ", ".join(d.isoformat() for d in ESCALATION_DAYS)
            + "; the daily report of the last day. Operations per call as the store counts "
            "them (writes include deletes and counter documents); notifications: the "
            "outbox entries on the notification topics each call committed (their delivery "
            "is bench/notify.py's); message_bytes: each published message's billable size"
        ),
    }


def _notification_topics(config: Settings) -> frozenset[str]:
    return frozenset({config.topic_agency_notifications, config.topic_reporter_notifications})


class TimedFiguresStore(FirestoreFiguresStore):
    """The figures store, timing the overdue counts apart: the emulator answers each
    aggregation by scanning the collection, where Firestore reads the composite index,
    so that part of the run's time here grows with the reports and says nothing of
    production."""

    def __init__(self, client: Any, reports: FirestoreReportStore) -> None:
        super().__init__(client, reports)
        self.overdue_seconds = 0.0

    def overdue_total(self, day: dt.date) -> int:
        started = time.perf_counter()
        try:
            return super().overdue_total(day)
        finally:
            self.overdue_seconds += time.perf_counter() - started

    def overdue_scopes(self, day: dt.date) -> list[str]:
        started = time.perf_counter()
        try:
            return super().overdue_scopes(day)
        finally:
            self.overdue_seconds += time.perf_counter() - started

    def overdue_counts(
        self, day: dt.date, agencies: Sequence[str], regions: Sequence[str]
    ) -> dict[str, int]:
        started = time.perf_counter()
        try:
            return super().overdue_counts(day, agencies, regions)
        finally:
            self.overdue_seconds += time.perf_counter() - started


# --- part 2: the seeded reports ---------------------------------------------------------


@dataclass
class Trajectory:
    """One report as the domain leaves it at the end of REPORT_DAY, and what it moved."""

    kind: str
    report: Report
    tallies: list[Tally]
    job_commands: int  # escalations, automatic closings and archivings the runs applied

    @property
    def due(self) -> bool:
        return self.report.next_due_on == RUN_DATE

    @property
    def overdue(self) -> bool:
        from shared.domain.report import is_overdue

        return is_overdue(self.report, REPORT_DAY)


class Lifecycle:
    """Applies commands to a report with the domain, as the functions would, with the
    daily run's commands of every day in between, and keeps every tally."""

    def __init__(self, config: Settings, reference: Reference) -> None:
        self.config = config
        self.reference = reference
        self.calendar = config.calendar()
        self.policy = config.deadline_policy()

    def start(self, draft: Any, at: dt.datetime) -> Trajectory:
        from shared.domain import report as lifecycle
        from shared.domain.tracking import new_tracking_code

        report, event = lifecycle.submit(
            draft, uuid.uuid4().hex[:20], new_tracking_code(), at, self.calendar, self.policy
        )
        trajectory = Trajectory("", report, [], 0)
        self._tally(trajectory, None, report, event)
        return trajectory

    def _tally(
        self, trajectory: Trajectory, before: Report | None, after: Report, event: TimelineEvent
    ) -> None:
        from shared.usecases.counters import event_tallies

        trajectory.tallies += event_tallies(
            before,
            after,
            event,
            self.calendar,
            self.policy,
            figure_shards=self.config.figure_shards,
        )
        trajectory.report = after

    def run_jobs_until(self, trajectory: Trajectory, until: dt.datetime) -> None:
        """Every daily run whose 07:00 falls before ``until`` and finds the report due."""
        from shared.domain import report as lifecycle
        from shared.usecases.escalate import next_command, run_moment

        while (day := trajectory.report.next_due_on) is not None:
            moment = run_moment(day, self.config)
            if moment >= until:
                return
            applied = False
            while (
                command := next_command(
                    trajectory.report, day, self.calendar, self.policy, self.reference, self.config
                )
            ) is not None:
                before = trajectory.report
                after, event = lifecycle.apply(before, command, moment, self.calendar, self.policy)
                self._tally(trajectory, before, after, event)
                trajectory.job_commands += 1
                applied = True
            if not applied:
                return  # nothing the run would do: a stale date, left as it is

    def take(self, trajectory: Trajectory, command: Command, at: dt.datetime) -> bool:
        """Apply ``command`` at ``at`` after the runs before it; False if refused."""
        from shared.domain import report as lifecycle
        from shared.domain.report import LifecycleError

        self.run_jobs_until(trajectory, at)
        before = trajectory.report
        try:
            after, event = lifecycle.apply(before, command, at, self.calendar, self.policy)
        except LifecycleError:
            return False
        self._tally(trajectory, before, after, event)
        return True


def _steps(kind: str, index: int) -> list[tuple[dt.timedelta, Command]]:
    """The commands of one trajectory, as delays after the submission."""
    from shared.domain.report import Action, Actor, Command, Role
    from shared.usecases.route import NO_MATCH, ROUTER

    _, rule, agency = ROUTES[index % len(ROUTES)]
    admin = Actor(Role.AGENCY_ADMIN, agency)
    reporter = Actor(Role.REPORTER, "reporter")
    routed = Command(
        Action.DISPOSITION, ROUTER, agency_id=agency, data={"method": "rule", "rule_id": rule}
    )
    hours, days = dt.timedelta(hours=1), dt.timedelta(days=1)
    follow_up = Command(Action.FOLLOW_UP, admin, message="Sedang ditinjau di lapangan.")
    resolve = Command(Action.RESOLVE, admin, message="Sudah ditangani.")
    match kind:
        case "confirmed":
            return [
                (hours / 2, routed),
                (days, follow_up),
                (6 * days, resolve),
                (8 * days, Command(Action.CONFIRM, reporter)),
                (8 * days + hours, Command(Action.RATE, reporter, rating=4)),
            ]
        case "silent":
            return [(hours / 2, routed), (days, follow_up), (5 * days, resolve)]
        case "working":
            return [(hours / 2, routed), (days, follow_up)]
        case "untouched":
            return [(hours / 2, routed)]
        case "unrouted":
            return [(hours / 2, Command(Action.QUEUE_FOR_ADMIN, ROUTER, reason=NO_MATCH))]
        case "rerouted":
            _, _, other = ROUTES[(index + 1) % len(ROUTES)]
            wrong = Command(Action.NOT_OUR_AUTHORITY, admin, reason="Bukan kewenangan kami.")
            national = Actor(Role.NATIONAL_ADMIN, "nasional")
            manual = Command(
                Action.DISPOSITION, national, agency_id=other, data={"method": "manual"}
            )
            other_admin = Actor(Role.AGENCY_ADMIN, other)
            return [
                (hours / 2, routed),
                (20 * hours, wrong),
                (days, manual),
                (2 * days, Command(Action.FOLLOW_UP, other_admin, message="Ditinjau.")),
                (7 * days, Command(Action.RESOLVE, other_admin, message="Selesai.")),
                (9 * days, Command(Action.CONFIRM, reporter)),
            ]
    raise ValueError(kind)


def _trajectories(config: Settings, reference: Reference) -> list[Trajectory]:
    """One trajectory per kind, submission day and hour: each lived up to the end of
    REPORT_DAY, the daily runs of the days in between applied."""
    from shared.domain.report import ReportType
    from tests.builders import a_draft

    lifecycle = Lifecycle(config, reference)
    end = dt.datetime.combine(REPORT_DAY + dt.timedelta(days=1), dt.time(0), tzinfo=JAKARTA)
    types = (
        *(ReportType.COMPLAINT,) * 7,
        *(ReportType.ASPIRATION,) * 2,
        ReportType.INFORMATION_REQUEST,
    )
    made = []
    index = 0
    for days_back in range(WINDOW_DAYS):
        day = REPORT_DAY - dt.timedelta(days=days_back)
        for hour in SUBMIT_HOURS:
            submitted = dt.datetime.combine(day, dt.time(hour), tzinfo=JAKARTA)
            for kind in KIND_WEIGHTS:
                index += 1
                category, _, _ = ROUTES[index % len(ROUTES)]
                draft = a_draft(type=types[index % len(types)], category=category)
                trajectory = lifecycle.start(draft, submitted)
                trajectory.kind = kind
                for delay, command in _steps(kind, index):
                    at = submitted + delay
                    if at >= end or not lifecycle.take(trajectory, command, at):
                        break
                lifecycle.run_jobs_until(trajectory, end)
                made.append(trajectory)
    return made


def _copies(trajectories: Sequence[Trajectory], total: int, rng: random.Random) -> list[int]:
    """How many reports of each trajectory: ``DUE_SHARE`` of ``total`` spread over the
    due ones, the rest by kind weight over the others."""
    due = [i for i, t in enumerate(trajectories) if t.due]
    if not due:
        raise RuntimeError(f"no trajectory falls due on {RUN_DATE}: change the window")
    counts = [0] * len(trajectories)
    due_total = round(total * DUE_SHARE)
    for n in range(due_total):
        counts[due[n % len(due)]] += 1
    others = [i for i, t in enumerate(trajectories) if not t.due]
    weights = [KIND_WEIGHTS[trajectories[i].kind] for i in others]
    for i in rng.choices(others, weights=weights, k=total - due_total):
        counts[i] += 1
    return counts


def _counter_increments(
    trajectory: Trajectory, copies: int, shards: int
) -> Iterator[tuple[str, str, str, int]]:
    """The tallies of ``copies`` reports of ``trajectory``, the copies spread over the
    counter shards as their random ids would spread them."""
    from shared.domain.figures import CounterKey
    from shared.usecases.counters import FIGURE_COUNTERS

    for tally in trajectory.tallies:
        if tally.counter != FIGURE_COUNTERS:
            yield tally.counter, tally.key, tally.field, tally.by * copies
            continue
        key = CounterKey.parse(tally.key)
        for offset in range(min(copies, shards)):
            share = copies // shards + (1 if offset < copies % shards else 0)
            shard = (key.shard + offset) % shards
            moved = CounterKey(key.day, key.scope, shard).doc_id
            yield tally.counter, moved, tally.field, tally.by * share


@dataclass
class Seeding:
    reports: int = 0
    due: int = 0
    overdue: int = 0
    counter_documents: int = 0
    seconds: float = 0.0
    kinds: Counter[str] = field(default_factory=Counter)
    job_commands: int = 0  # the daily runs' commands these reports took over their lives


def _seed(
    client: Any, trajectories: Sequence[Trajectory], counts: Sequence[int], shards: int
) -> Seeding:
    """Write the reports and their counters, batched commits of 500 over a few writers."""
    from google.cloud import firestore

    from shared.adapters.firestore import REPORTS, report_to_doc
    from shared.domain.tracking import new_tracking_code

    seeding = Seeding()
    reports = client.collection(REPORTS)
    increments: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for trajectory, copies in zip(trajectories, counts, strict=True):
        if not copies:
            continue
        seeding.reports += copies
        seeding.due += copies if trajectory.due else 0
        seeding.overdue += copies if trajectory.overdue else 0
        seeding.kinds[trajectory.kind] += copies
        seeding.job_commands += copies * trajectory.job_commands
        for counter, key, name, by in _counter_increments(trajectory, copies, shards):
            increments[(counter, key)][name] += by

    def documents() -> Iterator[tuple[Any, dict[str, Any], bool]]:
        for trajectory, copies in zip(trajectories, counts, strict=True):
            for _ in range(copies):
                report = dataclasses.replace(
                    trajectory.report,
                    id=str(reports.document().id),
                    tracking_code=new_tracking_code(),
                )
                yield reports.document(report.id), report_to_doc(report), False
        for (counter, key), moved in increments.items():
            update: dict[str, Any] = {"key": key}
            update.update({name: firestore.Increment(by) for name, by in moved.items()})
            yield client.collection(counter).document(key), update, True

    def commit(chunk: list[tuple[Any, dict[str, Any], bool]]) -> None:
        batch = client.batch()
        for ref, doc, merge in chunk:
            batch.set(ref, doc, merge=merge)
        batch.commit()

    def chunks() -> Iterator[list[tuple[Any, dict[str, Any], bool]]]:
        chunk: list[tuple[Any, dict[str, Any], bool]] = []
        for item in documents():
            chunk.append(item)
            if len(chunk) == BATCH:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    seeding.counter_documents = len(increments)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        # Bounded: at most a few batches built ahead of the writers.
        pending: list[Any] = []
        for chunk in chunks():
            pending.append(pool.submit(commit, chunk))
            if len(pending) >= 2 * WRITERS:
                pending.pop(0).result()
        for future in pending:
            future.result()
    seeding.seconds = round(time.perf_counter() - started, 1)
    return seeding


def _report_run(
    client: Any, store: MeteredStore, config: Settings, day: dt.date
) -> tuple[Any, StoreStats, float, float]:
    from shared import wiring
    from shared.ports import DailyReportPorts, FixedClock
    from shared.usecases.daily_report import run_daily_report

    at = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(1), tzinfo=JAKARTA)
    figures = TimedFiguresStore(client, store)
    ports = DailyReportPorts(
        figures=figures,
        publisher=wiring.publisher(),
        clock=FixedClock(at),
        settings=config,
        reference=wiring.reference(),
    )
    before = store.stats.snapshot()
    started = time.perf_counter()
    result = run_daily_report(day, ports)
    seconds = time.perf_counter() - started
    return result, store.stats.since(before), seconds, figures.overdue_seconds


def _forget_days(client: Any, days: Sequence[dt.date]) -> None:
    """Delete stored days (with their scopes and exports), so the next run is a first one."""
    from shared.adapters.firestore import DAILY_FIGURES

    for day in days:
        client.recursive_delete(client.collection(DAILY_FIGURES).document(day.isoformat()))


def _scale() -> dict[str, Any]:
    from shared import wiring
    from shared.config import settings
    from shared.ports import EscalatePorts, FixedClock
    from shared.usecases.escalate import escalate, run_moment

    rng = random.Random(SEED)
    figures: dict[str, Any] = {"report_runs": {}}
    with emulated_environment():
        config, reference = settings(), wiring.reference()
        started = time.perf_counter()
        trajectories = _trajectories(config, reference)
        figures["trajectories"] = {
            "distinct": len(trajectories),
            "due_on_run_date": sum(t.due for t in trajectories),
            "domain_seconds": round(time.perf_counter() - started, 1),
        }
        client = wiring.firestore_client()
        store = MeteredStore(client)
        seeded: list[Seeding] = []
        for size in SIZES:
            total = size - sum(s.reports for s in seeded)
            seeding = _seed(
                client, trajectories, _copies(trajectories, total, rng), config.figure_shards
            )
            if not seeded:
                # The day before stored, as every day before would be in production
                # (once: its overdue counts are what the emulator is slowest at).
                _report_run(client, store, config, REPORT_DAY - dt.timedelta(days=1))
            seeded.append(seeding)
            stored = sum(s.reports for s in seeded)
            _forget_days(client, (REPORT_DAY,))
            result, spent, seconds, overdue_seconds = _report_run(client, store, config, REPORT_DAY)
            figures["report_runs"][str(stored)] = {
                "reports": stored,
                "overdue_reports": sum(s.overdue for s in seeded),
                "seconds": round(seconds, 2),
                "overdue_count_seconds": round(overdue_seconds, 2),
                "reads": spent.reads,
                "writes": spent.writes,
                "deletes": spent.deletes,
                "commits": spent.commits,
                "result": result.as_json(),
            }
        figures["seeding"] = [
            {
                "reports": s.reports,
                "due_on_run_date": s.due,
                "overdue_on_report_day": s.overdue,
                "counter_documents": s.counter_documents,
                "seconds": s.seconds,
                "reports_per_s": round(s.reports / s.seconds) if s.seconds else None,
                "by_kind": dict(sorted(s.kinds.items())),
            }
            for s in seeded
        ]
        reports = sum(s.reports for s in seeded)
        figures["job_commands_per_report"] = round(sum(s.job_commands for s in seeded) / reports, 3)

        store.transitions.clear()
        moment = run_moment(RUN_DATE, config)
        ports = EscalatePorts(
            store=store,
            publisher=wiring.publisher(),
            clock=FixedClock(moment),
            settings=config,
            reference=reference,
        )
        before = store.stats.snapshot()
        query_before = store.query_reads
        started = time.perf_counter()
        run = escalate(RUN_DATE, ports)
        seconds = time.perf_counter() - started
        spent = store.stats.since(before)
        due = sum(s.due for s in seeded)
        query_reads = store.query_reads - query_before
        commands = len(store.transitions)
        by_kind: dict[str, KindCost] = defaultdict(KindCost)
        for change, cost in store.transitions:
            kind = by_kind[_kind(change.event)]
            kind.add(cost, _counter_documents(change.tallies))
            kind.notifications += sum(
                m.topic in _notification_topics(config) for m in change.outbox
            )
        figures["escalation_run"] = {
            "reports": reports,
            "due": due,
            "page_size": config.escalation_page_size,
            "seconds": round(seconds, 2),
            "reads": spent.reads,
            "query_reads": query_reads,
            "transaction_reads": spent.reads - query_reads,
            "writes": spent.writes,
            "deletes": spent.deletes,
            "commits": spent.commits,
            "commands": commands,
            "reads_over_due_plus_pages": round(spent.reads / (due + run.pages), 4),
            "reads_per_due_report": round(spent.reads / due, 3),
            "ms_per_due_report": round(seconds * 1000 / due, 2),
            "due_reports_within_scheduler_deadline": int(SCHEDULER_DEADLINE_S / (seconds / due)),
            "per_command": {kind: cost.as_json() for kind, cost in sorted(by_kind.items())},
            "result": run.as_json(),
        }
    figures["method"] = (
        f"reports seeded straight into Firestore (batched commits of {BATCH}, {WRITERS} "
        f"writers): {len(SIZES)} sizes, {DUE_SHARE:.0%} due on {RUN_DATE}; each a domain "
        f"report submitted over the {WINDOW_DAYS} days up to {REPORT_DAY} along one of "
        f"{len(KIND_WEIGHTS)} trajectories with every daily run in between applied, the "
        "counters summed from every event's tallies. Report run for "
        f"{REPORT_DAY} at each size, the day before stored once after the first size (so "
        "at the second its carried totals are the first size's: the run's reads and "
        "writes do not depend on them); overdue_count_seconds is the part of its time "
        "the emulator spends on the aggregation counts, scanning the reports for each "
        f"where Firestore reads the composite index. Escalation run for {RUN_DATE} over "
        "all the reports; operations as the store counts them"
    )
    return figures


# --- the run -----------------------------------------------------------------------------


def run() -> dict[str, Any]:
    announce(
        "jobs",
        f"the lifecycle's costs, then {SIZES[-1]:,} reports seeded "
        "(the seeding alone takes a minute or two), the report and escalation runs",
    )
    with logs_to_file("jobs"):
        started = time.perf_counter()
        lifecycle = _lifecycle()
        lifecycle_seconds = time.perf_counter() - started
        scale = _scale()
        scale_seconds = time.perf_counter() - started - lifecycle_seconds
    figures = {
        "lifecycle": lifecycle,
        "scale": scale,
        "seconds": {"lifecycle": round(lifecycle_seconds, 1), "scale": round(scale_seconds, 1)},
        "run_date": RUN_DATE.isoformat(),
        "report_day": REPORT_DAY.isoformat(),
        "targets": {
            "escalation_query_reads_at_most": "due + 1 per page",
            "report_run_reads": "independent of the number of reports, or at most one more "
            "per 1,000 reports counted by an aggregation",
        },
    }
    write_results("jobs", figures)
    _print_figures(figures)
    return figures


def _print_figures(figures: dict[str, Any]) -> None:
    scale = figures["scale"]
    rows: list[tuple[str, str, str]] = []
    for seeding in scale["seeding"]:
        rows.append(
            (
                f"seed {seeding['reports']:,} reports ({seeding['due_on_run_date']:,} due)",
                f"{seeding['seconds']:.0f} s ({seeding['reports_per_s']:,}/s)",
                "",
            )
        )
    runs = scale["report_runs"]
    for key, one in runs.items():
        rows.append(
            (
                f"report run at {int(key):,} reports ({one['overdue_reports']:,} overdue)",
                f"{counted(one['reads'], 'read')}, {counted(one['writes'], 'write')},"
                f" {one['seconds']:.1f} s ({one['overdue_count_seconds']:.1f} s counting)",
                "reads flat" if key == str(SIZES[0]) else _growth(runs),
            )
        )
    run = scale["escalation_run"]
    rows.append(
        (
            f"escalation run: {run['due']:,} due of {run['reports']:,}",
            f"{run['reads']:,} reads / (due + {run['result']['pages']} pages)"
            f" = {run['reads_over_due_plus_pages']:.3f}"
            f" (query {run['query_reads']:,}, transactions {run['transaction_reads']:,})",
            "<= 1",
        )
    )
    rows.append(
        (
            "  writes, time",
            f"{run['writes']:,} writes, {run['seconds']:.1f} s"
            f" ({ms(run['ms_per_due_report'])}/due: capacity"
            f" {run['due_reports_within_scheduler_deadline']:,} in {SCHEDULER_DEADLINE_S} s)",
            "",
        )
    )
    rows.append(("counter writes each transition adds", _counter_extras(figures), ""))
    print_table("jobs", ("figure", "measured", "target"), rows)


def _growth(runs: dict[str, Any]) -> str:
    (small, first), (large, last) = next(iter(runs.items())), list(runs.items())[-1]
    extra = last["reads"] - first["reads"]
    per_thousand = extra / ((int(large) - int(small)) / 1000)
    return f"{extra:+d} reads ({per_thousand:.2f}/1,000 reports)"


def _counter_extras(figures: dict[str, Any]) -> str:
    """``submit, follow_up, ...: +1; disposition (rule): +2``: the counter documents each
    kind of transition writes besides its own, grouped by how many."""
    kinds = {
        **figures["lifecycle"]["per_kind"],
        **figures["scale"]["escalation_run"]["per_command"],
    }
    extra: dict[float, list[str]] = defaultdict(list)
    for kind, cost in kinds.items():
        if not kind.startswith("notify"):
            extra[cost["figure_counter_writes"] + cost["rule_counter_writes"]].append(kind)
    return "; ".join(f"{', '.join(names)}: +{n:g}" for n, names in sorted(extra.items()))
