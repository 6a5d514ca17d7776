# ruff: noqa: RUF001  (typographic dashes are intended in the Indonesian texts)
"""The published figures: counters moved by each transition, figures computed from them,
and the definitions published beside them (docs/lifecycle.md, "What is measured and published").

Pure: no I/O, no clock. Three parts, used by three callers:

1. :func:`figure_tallies` — the counter fields one transition moves. They are written
   in the same commit as the event (like a routing rule's totals), into ONE counter
   document per transition, keyed by (local date of the event, scope, shard):
   ``scope`` is the agency that holds the report at that moment, or ``unrouted:<region>``
   while no agency does; ``shard`` spreads one busy scope over a few documents. So every
   figure comes from summed counters, never from reading reports.
2. :func:`compute_figures` — the figures per agency (its own and its subtree), per region
   and nationally, for the day, the month to date and cumulatively, from the day's summed
   counters and the previous day's month and cumulative counters (:func:`add_counts`,
   :func:`month_to_date`) plus ``overdue_now`` (a snapshot the report job counts with
   aggregation queries). The agency tree is a plain mapping. :func:`extend_trend` carries
   the 90-day trend of received against closed from one day to the next.
3. :data:`DEFINITIONS`, :data:`NOTES` and :func:`open_data_columns` — what each figure
   means, Bahasa Indonesia first, and the open data schema, published with the numbers.

Which event carries which fact (and into which field; one document, at most 3 fields):

==========================  =================================================================
event                        fields (scope)
==========================  =================================================================
SUBMIT                       received (unrouted:<region>)
DISPOSITION                  routed_<method>: named, rule, classifier, manual (receiving agency)
first FOLLOW_UP of a         followed_up; followed_up_within_deadline if on or before the
disposition                  disposition's resolve_due, else deadline_missed unless the
                             overdue tier already counted it; first_response_wd_<n>
RESOLVE                      resolved (declared done by the agency; not "resolved" in the share)
CONFIRM / AUTO_CLOSE         closed_confirmed / closed_timeout; resolution_due unless the overdue
                             tier already counted it; resolution_wd_<n> (disposition → resolve)
REOPEN                       reopened
RATE                         satisfaction_sum (+rating), satisfaction_count
ESCALATE                     escalation_<tier>; for the resolve clock's overdue tier also
                             resolution_due, and deadline_missed while still unanswered
NOT_OUR_AUTHORITY            not_our_authority, plus the disposition's end (below)
ARCHIVE                      archived, plus the disposition's end when it was dispositioned
MARK_SUPERVISORY             -1 on what the overdue tier counted, when the new deadline un-fires it
==========================  =================================================================

The disposition's end (Bukan Wewenang, archive): after its deadline with no follow-up and
no overdue tier yet, deadline_missed; when the overdue tier had fired, resolution_due -1,
because the report is no longer one "whose resolution deadline has passed" (it has none
until the next agency gets it; the missed follow-up stays counted against this agency).

So each disposition lands once in followed_up_within_deadline + deadline_missed (the
first share's denominator), and each report currently past its deadline or closed once in
resolution_due (the resolved share's denominator).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import zlib
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from shared.domain.calendar import WorkingCalendar
from shared.domain.escalation import ClockKind
from shared.domain.report import Action, DeadlinePolicy, Region, Report, State, TimelineEvent

# --- counter fields --------------------------------------------------------------------

RECEIVED = "received"
ROUTED = "routed_"  # + how: named, rule, classifier, manual
ROUTING_METHODS = ("named", "rule", "classifier", "manual")
MANUAL = "manual"  # a person dispositioned it: the only routing that is verification
NOT_OUR_AUTHORITY = "not_our_authority"
ARCHIVED = "archived"
FOLLOWED_UP = "followed_up"
FOLLOWED_UP_WITHIN_DEADLINE = "followed_up_within_deadline"
DEADLINE_MISSED = "deadline_missed"
RESOLVED = "resolved"
CLOSED_CONFIRMED = "closed_confirmed"
CLOSED_TIMEOUT = "closed_timeout"
RESOLUTION_DUE = "resolution_due"
REOPENED = "reopened"
SATISFACTION_SUM = "satisfaction_sum"
SATISFACTION_COUNT = "satisfaction_count"
ESCALATION = "escalation_"  # + tier id
FIRST_RESPONSE_WD = "first_response_wd_"  # + working days: a histogram bucket
RESOLUTION_WD = "resolution_wd_"  # + working days

UNROUTED = "unrouted:"  # + region code: the scope of a report no agency holds

# (doc id, field, by): one counter increment, as rule_tallies gives (rule id, field).
FigureTally = tuple[str, str, int]
# field -> summed value, for one scope and period.
Counts = Mapping[str, int]
# scope (agency id or unrouted:<region>) -> its counts.
ScopeCounts = Mapping[str, Counts]


def unrouted_scope(region_code: str) -> str:
    return UNROUTED + region_code


def scope_for(agency_id: str | None, region: Region) -> str:
    """The scope of a report held by ``agency_id`` (None: by no agency) in ``region``."""
    return agency_id or unrouted_scope(region.regency_code or region.province_code)


@dataclass(frozen=True)
class CounterKey:
    """Which counter document a transition writes.

    The id starts with the ISO date, so one day's documents are one id range
    (``day_id_range``) and the report job reads them without any index of its own.
    """

    day: dt.date
    scope: str
    shard: int

    @property
    def doc_id(self) -> str:
        return f"{self.day.isoformat()}_{self.scope}_{self.shard}"

    @classmethod
    def parse(cls, doc_id: str) -> CounterKey:
        day, rest = doc_id[:10], doc_id[11:]
        scope, _, shard = rest.rpartition("_")
        if doc_id[10:11] != "_" or not scope or not shard.isdigit():
            raise ValueError(f"not a figure counter id: {doc_id!r}")
        return cls(dt.date.fromisoformat(day), scope, int(shard))


def day_id_range(day: dt.date) -> tuple[str, str]:
    """Document ids ``start <= id < end`` of ``day``'s counter documents."""
    return days_id_range(day, day)


def days_id_range(first: dt.date | None, last: dt.date) -> tuple[str, str]:
    """Document ids ``start <= id < end`` of the counter documents of the days ``first``
    to ``last`` (``first`` None: from the very first): still one id range."""
    start = f"{first.isoformat()}_" if first is not None else ""
    return start, f"{last.isoformat()}`"  # "`" sorts right after "_"


def shard_of(report_id: str, seq: int, shards: int) -> int:
    """A stable shard (not ``hash()``, which differs per process): a retried transaction
    writes the same document, and one report's events spread over the shards."""
    if shards < 1:
        raise ValueError("shards must be at least 1")
    return zlib.crc32(f"{report_id}:{seq}".encode()) % shards


# --- part 1: what one transition moves --------------------------------------------------


def figure_tallies(
    before: Report | None,
    after: Report,
    event: TimelineEvent,
    calendar: WorkingCalendar,
    policy: DeadlinePolicy,
    *,
    shards: int,
) -> tuple[FigureTally, ...]:
    """The counter increments ``event`` (taking ``before`` to ``after``) makes, all in one
    document of ``shards`` per scope and day."""
    # The resolve clock's overdue tier: the daily run recording that a disposition's
    # deadline has passed.
    overdue_tiers = frozenset(
        tier.id for tier in policy.tiers if tier.clock is ClockKind.RESOLVE and tier.overdue
    )
    moves = _moves(before, after, event, calendar, overdue_tiers)
    if not moves:
        return ()
    # The agency the event concerns: the one that receives a disposition, else the one
    # that held the report (and answered Bukan Wewenang, archived it, was escalated).
    holder = after if before is None or event.action is Action.DISPOSITION else before
    key = CounterKey(
        calendar.local_date(event.at), scope_of(holder), shard_of(after.id, event.seq, shards)
    )
    return tuple((key.doc_id, name, by) for name, by in moves)


def scope_of(report: Report) -> str:
    """Whose figures the report counts in now: its agency's, or its region's while no
    agency holds it (so "overdue now" can be counted by the same scopes)."""
    return scope_for(report.agency_id, report.region)


def _overdue_fired(report: Report, overdue_tiers: frozenset[str]) -> bool:
    """Whether the daily run already recorded the current disposition's deadline as passed."""
    return any(tier in overdue_tiers for tier in report.escalations)


def _working_days(calendar: WorkingCalendar, start: dt.datetime, end: dt.datetime) -> int:
    return max(
        0, calendar.working_days_between(calendar.local_date(start), calendar.local_date(end))
    )


def _moves(
    before: Report | None,
    after: Report,
    event: TimelineEvent,
    calendar: WorkingCalendar,
    overdue_tiers: frozenset[str],
) -> list[tuple[str, int]]:
    if before is None:
        return [(RECEIVED, 1)] if event.action is Action.SUBMIT else []
    day = calendar.local_date(event.at)
    fired = _overdue_fired(before, overdue_tiers)
    moves: list[tuple[str, int]] = []
    match event.action:
        case Action.DISPOSITION:
            moves.append((ROUTED + str(event.data.get("method", MANUAL)), 1))
        case Action.NOT_OUR_AUTHORITY:
            moves.append((NOT_OUR_AUTHORITY, 1))
            moves += _disposition_ended(before, day, fired)
        case Action.ARCHIVE:
            moves.append((ARCHIVED, 1))
            if before.state is State.DISPOSITIONED:
                moves += _disposition_ended(before, day, fired)
        case Action.FOLLOW_UP if before.state is State.DISPOSITIONED:
            moves.append((FOLLOWED_UP, 1))
            if before.resolve_due is None or day <= before.resolve_due:
                moves.append((FOLLOWED_UP_WITHIN_DEADLINE, 1))
            elif not fired:
                moves.append((DEADLINE_MISSED, 1))
            if before.dispositioned_at is not None:
                days = _working_days(calendar, before.dispositioned_at, event.at)
                moves.append((f"{FIRST_RESPONSE_WD}{days}", 1))
        case Action.RESOLVE:
            moves.append((RESOLVED, 1))
        case Action.CONFIRM | Action.AUTO_CLOSE:
            confirmed = event.action is Action.CONFIRM
            moves.append((CLOSED_CONFIRMED if confirmed else CLOSED_TIMEOUT, 1))
            if not fired:
                moves.append((RESOLUTION_DUE, 1))
            if before.dispositioned_at is not None and before.resolved_at is not None:
                days = _working_days(calendar, before.dispositioned_at, before.resolved_at)
                moves.append((f"{RESOLUTION_WD}{days}", 1))
        case Action.REOPEN:
            moves.append((REOPENED, 1))
        case Action.RATE:
            moves += [(SATISFACTION_SUM, int(event.data.get("rating", 0))), (SATISFACTION_COUNT, 1)]
        case Action.ESCALATE:
            tier = str(event.data.get("tier", ""))
            moves.append((ESCALATION + tier, 1))
            if tier in overdue_tiers and before.state in (State.DISPOSITIONED, State.IN_PROGRESS):
                moves.append((RESOLUTION_DUE, 1))
                if before.state is State.DISPOSITIONED:
                    moves.append((DEADLINE_MISSED, 1))
        case Action.MARK_SUPERVISORY:
            # The longer deadline un-fires the overdue tier: take back what it counted,
            # so the tier (or the follow-up, or the closing) can count it again later.
            if fired and not _overdue_fired(after, overdue_tiers):
                moves.append((RESOLUTION_DUE, -1))
                if before.state is State.DISPOSITIONED:
                    moves.append((DEADLINE_MISSED, -1))
    return moves


def _disposition_ended(before: Report, day: dt.date, fired: bool) -> list[tuple[str, int]]:
    """A disposition ends unanswered (Bukan Wewenang, archive): only ever from
    ``dispositioned``, so before any follow-up."""
    if fired:
        return [(RESOLUTION_DUE, -1)]  # no longer a report past its deadline
    if before.resolve_due is not None and day > before.resolve_due:
        return [(DEADLINE_MISSED, 1)]
    return []


# --- part 2: figures from summed counters -----------------------------------------------


def sum_counter_documents(
    day: dt.date, documents: Iterable[tuple[str, Mapping[str, object]]]
) -> dict[str, dict[str, int]]:
    """One day's counts per scope from its counter documents ``(doc id, data)``: shards
    summed, other days and non-counter fields (the adapter's ``key``) ignored."""
    return counts_by_day(documents).get(day, {})


def counts_by_day(
    documents: Iterable[tuple[str, Mapping[str, object]]],
) -> dict[dt.date, dict[str, dict[str, int]]]:
    """Counts per day and scope from counter documents ``(doc id, data)`` of any days
    (one :func:`days_id_range`): shards summed, non-counter fields ignored."""
    counts: dict[dt.date, dict[str, dict[str, int]]] = {}
    for doc_id, data in documents:
        key = CounterKey.parse(doc_id)
        into = counts.setdefault(key.day, {}).setdefault(key.scope, {})
        for name, value in data.items():
            if isinstance(value, int) and not isinstance(value, bool):
                into[name] = into.get(name, 0) + value
    return counts


def add_counts(*parts: ScopeCounts) -> dict[str, dict[str, int]]:
    """Scope-wise, field-wise sums: cumulative = yesterday's cumulative + today."""
    total: dict[str, dict[str, int]] = {}
    for part in parts:
        for scope, counts in part.items():
            into = total.setdefault(scope, {})
            for name, value in counts.items():
                into[name] = into.get(name, 0) + value
    return total


def _merge(counts: Iterable[Counts]) -> dict[str, int]:
    merged: dict[str, int] = {}
    for one in counts:
        for name, value in one.items():
            merged[name] = merged.get(name, 0) + value
    return merged


def histogram(counts: Counts, prefix: str) -> dict[int, int]:
    """The ``prefix<n>`` buckets of ``counts`` as {n: how many}."""
    return {
        int(name[len(prefix) :]): value
        for name, value in counts.items()
        if name.startswith(prefix) and name[len(prefix) :].isdigit() and value
    }


def median_from_histogram(buckets: Mapping[int, int]) -> float | None:
    """The median of the values a histogram counts (the mean of the two middle values
    for an even count); None when it counts nothing."""
    total = sum(buckets.values())
    if total <= 0:
        return None
    middle = (total - 1) // 2, total // 2  # 0-based positions of the middle value(s)
    found: list[int] = []
    seen = 0
    for value in sorted(buckets):
        seen += buckets[value]
        found += [value for position in middle[len(found) :] if position < seen]
        if len(found) == 2:
            break
    return (found[0] + found[1]) / 2


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole > 0 else None


@dataclass(frozen=True)
class Figures:
    """The published figures of one scope over one period (a day, or everything so far)."""

    received: int
    routed: dict[str, int]  # by how: named, rule, classifier, manual
    routed_total: int
    verified: int
    followed_up: int
    followed_up_within_deadline: int
    deadline_missed: int
    followed_up_within_deadline_share: float | None
    resolved: int
    closed: int
    closed_confirmed: int
    closed_timeout: int
    resolution_due: int
    resolved_share: float | None
    closed_confirmed_share: float | None
    closed_timeout_share: float | None
    reopened: int
    reopen_rate: float | None
    archived: int
    not_our_authority: int
    misrouting_rate: float | None
    escalations: dict[str, int]  # by tier id
    median_first_response_wd: float | None
    median_resolution_wd: float | None
    satisfaction_mean: float | None
    satisfaction_count: int


def figures_from_counts(counts: Counts, *, agency: bool) -> Figures:
    """The figures of summed ``counts``. An agency's "received" is what was routed to it;
    a region's or the nation's is what reporters submitted there."""

    def n(name: str) -> int:
        return counts.get(name, 0)

    routed = {method: n(ROUTED + method) for method in ROUTING_METHODS}
    routed_total = sum(value for name, value in counts.items() if name.startswith(ROUTED))
    confirmed, timeout, due = n(CLOSED_CONFIRMED), n(CLOSED_TIMEOUT), n(RESOLUTION_DUE)
    within, missed = n(FOLLOWED_UP_WITHIN_DEADLINE), n(DEADLINE_MISSED)
    rated = n(SATISFACTION_COUNT)
    return Figures(
        received=routed_total if agency else n(RECEIVED),
        routed=routed,
        routed_total=routed_total,
        verified=routed[MANUAL],
        followed_up=n(FOLLOWED_UP),
        followed_up_within_deadline=within,
        deadline_missed=missed,
        followed_up_within_deadline_share=_share(within, within + missed),
        resolved=n(RESOLVED),
        closed=confirmed + timeout,
        closed_confirmed=confirmed,
        closed_timeout=timeout,
        resolution_due=due,
        resolved_share=_share(confirmed + timeout, due),
        closed_confirmed_share=_share(confirmed, due),
        closed_timeout_share=_share(timeout, due),
        reopened=n(REOPENED),
        reopen_rate=_share(n(REOPENED), n(RESOLVED)),
        archived=n(ARCHIVED),
        not_our_authority=n(NOT_OUR_AUTHORITY),
        misrouting_rate=_share(n(NOT_OUR_AUTHORITY), routed_total),
        escalations={
            name[len(ESCALATION) :]: value
            for name, value in sorted(counts.items())
            if name.startswith(ESCALATION) and value
        },
        median_first_response_wd=median_from_histogram(histogram(counts, FIRST_RESPONSE_WD)),
        median_resolution_wd=median_from_histogram(histogram(counts, RESOLUTION_WD)),
        satisfaction_mean=_share(n(SATISFACTION_SUM), rated),
        satisfaction_count=rated,
    )


@dataclass(frozen=True)
class AgencyTree:
    """What the figures need of the agency tree: each agency's parent and region code."""

    parent: Mapping[str, str | None]
    region: Mapping[str, str | None]

    def with_ancestors(self, agency: str) -> list[str]:
        """``agency`` and every agency above it (a cycle in bad data stops the walk)."""
        chain = [agency]
        above = self.parent.get(agency)
        while above is not None and above not in chain:
            chain.append(above)
            above = self.parent.get(above)
        return chain


@dataclass(frozen=True)
class ScopeFigures:
    day: Figures
    month: Figures  # the calendar month up to and including the day
    cumulative: Figures
    overdue_now: int  # reports whose current clock had run out at the end of the day


@dataclass(frozen=True)
class AgencyFigures:
    own: ScopeFigures
    subtree: ScopeFigures  # the agency and every agency below it


@dataclass(frozen=True)
class DailyFigures:
    day: dt.date
    national: ScopeFigures
    regions: dict[str, ScopeFigures]  # region code -> figures
    agencies: dict[str, AgencyFigures]  # agency id -> figures


def compute_figures(
    day: dt.date,
    day_counts: ScopeCounts,
    cumulative_counts: ScopeCounts,
    overdue_now: Mapping[str, int],
    tree: AgencyTree,
    *,
    month_counts: ScopeCounts,
) -> DailyFigures:
    """Every published figure for ``day``. ``day_counts``, ``month_counts`` (the month to
    date) and ``cumulative_counts`` are per scope (agency id or ``unrouted:<region>``), as
    :func:`sum_counter_documents` and :func:`add_counts` give them; ``overdue_now`` is per
    scope too. Every agency of the tree is listed, with zeros when nothing happened to it."""
    scopes = set(day_counts) | set(month_counts) | set(cumulative_counts) | set(overdue_now)
    agencies = sorted((set(tree.parent) | set(tree.region) | scopes) - _unrouted(scopes))
    subtree: dict[str, set[str]] = {agency: set() for agency in agencies}
    for agency in agencies:
        for above in tree.with_ancestors(agency):
            subtree.setdefault(above, set()).add(agency)
    in_region: dict[str, set[str]] = {}
    for scope in scopes | set(agencies):
        region = scope[len(UNROUTED) :] if scope.startswith(UNROUTED) else tree.region.get(scope)
        if region:
            in_region.setdefault(region, set()).add(scope)

    def figures_of(members: Collection[str], *, agency: bool) -> ScopeFigures:
        def period(counts: ScopeCounts) -> Figures:
            return figures_from_counts(_merge(counts.get(m, {}) for m in members), agency=agency)

        return ScopeFigures(
            day=period(day_counts),
            month=period(month_counts),
            cumulative=period(cumulative_counts),
            overdue_now=sum(overdue_now.get(m, 0) for m in members),
        )

    return DailyFigures(
        day=day,
        national=figures_of(scopes | set(agencies), agency=False),
        regions={
            region: figures_of(members, agency=False)
            for region, members in sorted(in_region.items())
        },
        agencies={
            agency: AgencyFigures(
                own=figures_of({agency}, agency=True),
                subtree=figures_of(subtree[agency], agency=True),
            )
            for agency in sorted(subtree)
        },
    )


def figures_json(figures: DailyFigures) -> dict[str, object]:
    """The day's figures as plain JSON values (the day as an ISO date), to store and serve."""
    document = dataclasses.asdict(figures)
    document["day"] = figures.day.isoformat()
    return document


def _unrouted(scopes: Iterable[str]) -> set[str]:
    return {scope for scope in scopes if scope.startswith(UNROUTED)}


def month_to_date(
    day: dt.date,
    previous: tuple[dt.date, ScopeCounts] | None,
    since_previous: Mapping[dt.date, ScopeCounts],
) -> dict[str, dict[str, int]]:
    """The counts of ``day``'s month up to ``day``: the month to date of a ``previous``
    day (its date, its month-to-date counts) when it is in the same month, plus the
    counts of each day after it (``since_previous``, by day; days outside the month
    ignored). Without a previous day, ``since_previous`` must hold the whole month."""
    start = day.replace(day=1)
    carried = previous[1] if previous is not None and previous[0] >= start else {}
    return add_counts(
        carried, *(counts for d, counts in since_previous.items() if start <= d <= day)
    )


# --- the trend: received against closed, day by day -------------------------------------

TREND_DAYS = 90

TrendPoint = dict[str, str | int]  # {"day": "YYYY-MM-DD", "received": n, "closed": n}


def trend_point(day: dt.date, figures: Figures) -> TrendPoint:
    return {"day": day.isoformat(), "received": figures.received, "closed": figures.closed}


def extend_trend(
    day: dt.date, previous: Iterable[Mapping[str, Any]], points: Iterable[TrendPoint]
) -> list[TrendPoint]:
    """The :data:`TREND_DAYS` days ending at ``day``, oldest first, one point each: a
    point of ``points`` (the days computed now) over one of ``previous`` (a stored trend),
    zeros for a day neither has."""
    by_day: dict[str, TrendPoint] = {}
    for point in (*previous, *points):
        by_day[str(point["day"])] = {
            "day": str(point["day"]),
            "received": int(point.get("received", 0)),
            "closed": int(point.get("closed", 0)),
        }
    days = (day - dt.timedelta(days=back) for back in range(TREND_DAYS - 1, -1, -1))
    return [
        by_day.get(d.isoformat(), {"day": d.isoformat(), "received": 0, "closed": 0}) for d in days
    ]


@dataclass(frozen=True)
class RuleFigures:
    dispositions: int
    not_our_authority: int
    misrouting_rate: float | None


def misrouting_by_rule(routing_stats: Mapping[str, Mapping[str, int]]) -> dict[str, RuleFigures]:
    """The misrouting rate of each routing rule, from its running totals (the
    ``routing_stats`` counters that :func:`shared.domain.routing.rule_tallies` moves)."""
    figures: dict[str, RuleFigures] = {}
    for rule, stats in sorted(routing_stats.items()):
        dispositions, refused = stats.get("dispositions", 0), stats.get("not_our_authority", 0)
        figures[rule] = RuleFigures(dispositions, refused, _share(refused, dispositions))
    return figures


# --- part 3: what the figures mean, published beside them -------------------------------


@dataclass(frozen=True)
class Text:
    id: str  # Bahasa Indonesia, shown first
    en: str


@dataclass(frozen=True)
class Definition:
    figure: str  # the Figures field it explains
    label: Text
    meaning: Text  # what the figure is (docs/lifecycle.md's words where it gives them)
    counted: Text  # when and how each count is taken, so anyone can recompute it


def _d(
    figure: str, label: tuple[str, str], meaning: tuple[str, str], counted: tuple[str, str]
) -> Definition:
    return Definition(figure, Text(*label), Text(*meaning), Text(*counted))


DEFINITIONS: tuple[Definition, ...] = (
    _d(
        "received",
        ("Laporan diterima", "Reports received"),
        (
            "Untuk wilayah dan nasional: laporan yang dikirim pelapor. Untuk instansi: "
            "laporan yang didisposisikan kepadanya.",
            "For a region and nationally: reports submitted by reporters. For an agency: "
            "reports dispositioned to it.",
        ),
        (
            "Dihitung saat laporan dikirim, di wilayah laporan; untuk instansi, saat disposisi.",
            "Counted when the report is submitted, in the report's region; for an agency, "
            "at each disposition.",
        ),
    ),
    _d(
        "routed",
        ("Didisposisikan, menurut cara", "Routed, by how"),
        (
            "Disposisi ke instansi, menurut caranya: instansi dipilih pelapor, aturan "
            "kategori × wilayah, pengklasifikasi teks, atau admin.",
            "Dispositions to an agency, by how they were decided: named by the reporter, "
            "a category × region rule, the text classifier, or an admin.",
        ),
        (
            "Dihitung pada setiap disposisi, untuk instansi penerima; laporan yang "
            "dialihkan dihitung lagi untuk instansi berikutnya.",
            "Counted at each disposition, for the receiving agency; a re-routed report "
            "counts again for the next agency.",
        ),
    ),
    _d(
        "verified",
        ("Diverifikasi", "Verified"),
        (
            "Disposisi yang diputuskan oleh seorang admin. Penerusan oleh aturan atau "
            "pengklasifikasi bukan verifikasi.",
            "Dispositions decided by an admin. Routing by rule or classifier is not "
            "verification by a person.",
        ),
        ("Dihitung pada disposisi oleh admin.", "Counted at a disposition made by an admin."),
    ),
    _d(
        "followed_up",
        ("Ditindaklanjuti", "Followed up"),
        (
            "Disposisi yang mendapat tindak lanjut pertamanya.",
            "Dispositions that received their first follow-up.",
        ),
        (
            "Dihitung saat tindak lanjut pertama setiap disposisi.",
            "Counted at the first follow-up of each disposition.",
        ),
    ),
    _d(
        "followed_up_within_deadline_share",
        ("Ditindaklanjuti tepat waktu", "Followed up within deadline"),
        (
            "Disposisi yang tindak lanjut pertamanya datang sebelum batas waktu penyelesaian "
            "disposisi itu, dibagi disposisi yang batas waktunya sudah lewat atau yang "
            "sudah ditindaklanjuti.",
            "Dispositions whose first follow-up came before that disposition's resolution "
            "deadline, over dispositions whose deadline has passed or that were followed up.",
        ),
        (
            "Pembilang: tindak lanjut pertama pada atau sebelum tanggal batas waktu. "
            "Penyebut: pembilang ditambah disposisi yang batas waktunya lewat tanpa tindak "
            "lanjut, dihitung sekali: saat tahap eskalasi 'terlambat' berjalan, saat tindak "
            "lanjut terlambat datang, atau saat disposisi berakhir (Bukan Wewenang, arsip) "
            "setelah batas waktunya.",
            "Numerator: first follow-ups on or before the deadline date. Denominator: the "
            "numerator plus dispositions whose deadline passed without a follow-up, counted "
            "once: when the 'overdue' escalation tier fires, when a late follow-up comes, or "
            "when the disposition ends (Bukan Wewenang, archive) after its deadline.",
        ),
    ),
    _d(
        "resolved",
        ("Dinyatakan selesai", "Declared resolved"),
        (
            "Laporan yang dinyatakan selesai oleh instansi. Belum dihitung selesai sampai ditutup.",
            "Reports the agency declared done. Not counted as resolved until closed.",
        ),
        (
            "Dihitung setiap kali instansi menyatakan selesai (lagi setelah dibuka kembali).",
            "Counted each time the agency declares it done (again after a reopening).",
        ),
    ),
    _d(
        "closed",
        ("Ditutup", "Closed"),
        (
            "Laporan yang ditutup: dikonfirmasi pelapor, atau ditutup otomatis setelah "
            "pelapor tidak menjawab; keduanya juga ditampilkan terpisah.",
            "Reports closed: confirmed by the reporter, or closed by timeout after the "
            "reporter stayed silent; both are also shown apart.",
        ),
        ("Dihitung saat laporan ditutup.", "Counted when the report closes."),
    ),
    _d(
        "resolved_share",
        ("Persentase selesai", "Resolved share"),
        (
            "Laporan yang ditutup (dikonfirmasi pelapor, atau ditutup otomatis), dibagi "
            "laporan yang batas waktu penyelesaiannya sudah lewat atau yang sudah ditutup; "
            "penutupan yang dikonfirmasi dan yang ditutup otomatis juga ditampilkan "
            "terpisah. Laporan yang dibuka kembali dan yang hanya dinyatakan selesai tidak "
            "dihitung selesai.",
            "Reports closed (confirmed by the reporter, or closed by timeout), over reports "
            "whose resolution deadline has passed or that were closed; confirmed and "
            "timed-out closures are also shown apart. Reopened and merely `resolved` reports "
            "do not count as resolved.",
        ),
        (
            "Penyebut dihitung sekali per laporan dan disposisi: saat tahap eskalasi "
            "'terlambat' berjalan, atau saat ditutup bila belum. Dikurangi lagi bila "
            "laporan itu dialihkan (Bukan Wewenang) atau diarsipkan: tidak lagi punya batas "
            "waktu yang lewat. Laporan yang menunggu konfirmasi pelapor masuk saat ditutup "
            "atau, bila dibuka kembali, saat tahap 'terlambat' berjalan.",
            "The denominator is counted once per report and disposition: when the 'overdue' "
            "escalation tier fires, or at closing if it had not. It is taken back when that "
            "report is re-routed (Bukan Wewenang) or archived: it no longer has a passed "
            "deadline. A report waiting for its reporter's confirmation enters when it "
            "closes or, if reopened, when the 'overdue' tier fires.",
        ),
    ),
    _d(
        "reopen_rate",
        ("Tingkat dibuka kembali", "Reopen rate"),
        (
            "Laporan yang dibuka kembali oleh pelapor, dibagi pernyataan selesai oleh instansi.",
            "Reopenings by the reporter over declarations of done by the agency.",
        ),
        ("Dihitung saat dibuka kembali.", "Counted at each reopening."),
    ),
    _d(
        "misrouting_rate",
        ("Tingkat salah sasaran", "Misrouting rate"),
        (
            "Jawaban Bukan Wewenang dibagi disposisi, per instansi dan per aturan penerusan.",
            "Bukan Wewenang answers over dispositions, per agency and per routing rule.",
        ),
        (
            "Dihitung untuk instansi yang menjawab Bukan Wewenang dan yang menerima disposisi.",
            "Counted for the agency that answered Bukan Wewenang and that received the "
            "disposition.",
        ),
    ),
    _d(
        "overdue_now",
        ("Terlambat saat ini", "Overdue now"),
        (
            "Laporan yang jam status terkininya sudah habis pada hari itu (batas waktunya "
            "sebelum hari itu): verifikasi saat belum terverifikasi, penyelesaian saat "
            "terdisposisi atau sedang diproses. Tidak ada jam saat tertunda, selesai, atau "
            "ditutup.",
            "Reports whose current state's clock had run out on that day (its due date was "
            "before the day): verification while submitted, resolution while dispositioned "
            "or in progress. No clock runs on hold, resolved or closed.",
        ),
        (
            "Dihitung dari laporan sebagaimana adanya di akhir hari, bukan dijumlahkan antarhari.",
            "Counted from the reports as they stood at the end of the day, not summed over days.",
        ),
    ),
    _d(
        "archived",
        ("Diarsipkan", "Archived"),
        (
            "Laporan yang diarsipkan dengan alasan (terlalu umum, bukan pelayanan publik, "
            "duplikat, spam), atau karena pelapor tidak menjawab permintaan keterangan.",
            "Reports archived with a reason (too general, not about a public service, "
            "duplicate, spam), or because the reporter did not answer a question.",
        ),
        (
            "Dihitung saat diarsipkan: untuk instansi bila laporan sudah didisposisikan "
            "kepadanya, selain itu untuk wilayah laporan.",
            "Counted when archived: for the agency when the report had been dispositioned to "
            "it, otherwise for the report's region.",
        ),
    ),
    _d(
        "escalations",
        ("Eskalasi per tahap", "Escalations per tier"),
        (
            "Tahap eskalasi yang berjalan (pengingat, terlambat, nasional, Ombudsman RI).",
            "Escalation tiers fired (reminder, overdue, national, Ombudsman RI).",
        ),
        (
            "Dihitung saat tahap berjalan, sekali per laporan dan jam.",
            "Counted when the tier fires, once per report and clock.",
        ),
    ),
    _d(
        "median_first_response_wd",
        ("Median waktu tanggapan pertama", "Median time to first response"),
        (
            "Hari kerja dari disposisi sampai tindak lanjut pertamanya, median per disposisi.",
            "Working days from a disposition to its first follow-up, median per disposition.",
        ),
        (
            "Dihitung saat tindak lanjut pertama.",
            "Counted at the first follow-up.",
        ),
    ),
    _d(
        "median_resolution_wd",
        ("Median waktu penyelesaian", "Median time to resolution"),
        (
            "Hari kerja dari disposisi terakhir sampai instansi menyatakan selesai, untuk "
            "laporan yang ditutup; median per disposisi.",
            "Working days from the last disposition to the agency's declaration of done, for "
            "reports that closed; median per disposition.",
        ),
        (
            "Dihitung saat laporan ditutup, dari pernyataan selesai yang terakhir.",
            "Counted when the report closes, to the last declaration of done.",
        ),
    ),
    _d(
        "satisfaction_mean",
        ("Kepuasan pelapor", "Reporter satisfaction"),
        (
            "Rata-rata nilai 1–5 dari pelapor untuk laporan yang ditutup, dengan jumlah "
            "penilaiannya.",
            "Mean 1–5 rating by reporters of closed reports, with the number of ratings.",
        ),
        ("Dihitung saat pelapor memberi nilai.", "Counted when the reporter rates."),
    ),
)

# Rules that hold for every figure (docs/lifecycle.md's words).
NOTES: tuple[Text, ...] = (
    Text(
        "Waktu dalam hari kerja, median, per disposisi.",
        "Time figures in working days, medians, per disposition.",
    ),
    Text(
        "Laporan rahasia ikut dihitung; isi, kode, dan lokasinya tidak pernah muncul di "
        "daftar publik mana pun.",
        "Confidential reports count in the figures; nothing of their content, code or place "
        "appears in any published list.",
    ),
    Text(
        "Hari kerja tidak termasuk Sabtu, Minggu, libur nasional, dan cuti bersama. Satu "
        "hari adalah tanggal di Asia/Jakarta. Angka kumulatif adalah jumlah semua hari.",
        "Working days skip Saturdays, Sundays, national holidays and cuti bersama. A day is "
        "a date in Asia/Jakarta. Cumulative figures are the sum over all days.",
    ),
    Text(
        "Di data terbuka, bilangan desimal dibulatkan sampai 4 angka di belakang koma; "
        "pembilang dan penyebutnya ikut diterbitkan.",
        "In the open data, decimals are rounded to 4 places; their numerators and "
        "denominators are published beside them.",
    ),
)


def definitions_version() -> str:
    """A short fingerprint of :data:`DEFINITIONS` and :data:`NOTES`, stored with each day's
    figures: when a definition's wording changes, so does the version the figures name."""
    text = json.dumps(
        [dataclasses.asdict(d) for d in DEFINITIONS] + [dataclasses.asdict(n) for n in NOTES],
        ensure_ascii=False,
        sort_keys=True,
    )
    return hashlib.sha256(text.encode()).hexdigest()[:12]


# --- the open data schema ---------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    name: str
    # date | string | integer | number (a decimal, OPEN_DATA_DECIMALS places; empty:
    # nothing to divide by)
    type: str
    meaning: Text


def _c(name: str, type_: str, indonesian: str, english: str) -> Column:
    return Column(name, type_, Text(indonesian, english))


_BASE_COLUMNS: tuple[Column, ...] = (
    _c("date", "date", "Tanggal (Asia/Jakarta), YYYY-MM-DD", "Date (Asia/Jakarta), YYYY-MM-DD"),
    _c(
        "period",
        "string",
        "day: hari itu; cumulative: sampai hari itu",
        "day: that day; cumulative: up to that day",
    ),
    _c(
        "scope",
        "string",
        "national, region, agency (instansi sendiri), agency_subtree (dengan instansi di bawahnya)",
        "national, region, agency (its own), agency_subtree (with the agencies below it)",
    ),
    _c(
        "scope_id",
        "string",
        "Kode wilayah Kemendagri atau id instansi; kosong untuk nasional",
        "Kemendagri region code or agency id; empty for national",
    ),
    _c("received", "integer", "Laporan diterima", "Reports received"),
    *(
        _c(f"routed_{method}", "integer", f"Didisposisikan: {label_id}", f"Routed: {label_en}")
        for method, label_id, label_en in (
            ("named", "instansi dipilih pelapor", "named by the reporter"),
            ("rule", "aturan", "by rule"),
            ("classifier", "pengklasifikasi", "by classifier"),
            ("manual", "admin", "by an admin"),
        )
    ),
    _c("routed_total", "integer", "Didisposisikan, semua cara", "Routed, all ways"),
    _c(
        "verified",
        "integer",
        "Diverifikasi (disposisi oleh admin)",
        "Verified (dispositioned by an admin)",
    ),
    _c("followed_up", "integer", "Disposisi yang ditindaklanjuti", "Dispositions followed up"),
    _c(
        "followed_up_within_deadline",
        "integer",
        "Tindak lanjut pertama tepat waktu",
        "First follow-ups within the deadline",
    ),
    _c(
        "deadline_missed",
        "integer",
        "Disposisi yang batas waktunya lewat tanpa tindak lanjut",
        "Dispositions whose deadline passed without a follow-up",
    ),
    _c(
        "followed_up_within_deadline_share",
        "number",
        "Persentase tepat waktu (0–1)",
        "Share followed up within deadline (0–1)",
    ),
    _c(
        "resolved", "integer", "Dinyatakan selesai oleh instansi", "Declared resolved by the agency"
    ),
    _c("closed", "integer", "Ditutup", "Closed"),
    _c(
        "closed_confirmed",
        "integer",
        "Ditutup, dikonfirmasi pelapor",
        "Closed, confirmed by the reporter",
    ),
    _c("closed_timeout", "integer", "Ditutup otomatis", "Closed by timeout"),
    _c(
        "resolution_due",
        "integer",
        "Penyebut persentase selesai",
        "Denominator of the resolved share",
    ),
    _c("resolved_share", "number", "Persentase selesai (0–1)", "Resolved share (0–1)"),
    _c(
        "closed_confirmed_share",
        "number",
        "Bagian yang dikonfirmasi (0–1)",
        "Confirmed share (0–1)",
    ),
    _c(
        "closed_timeout_share",
        "number",
        "Bagian yang ditutup otomatis (0–1)",
        "Timed-out share (0–1)",
    ),
    _c("reopened", "integer", "Dibuka kembali", "Reopened"),
    _c("reopen_rate", "number", "Tingkat dibuka kembali (0–1)", "Reopen rate (0–1)"),
    _c("archived", "integer", "Diarsipkan", "Archived"),
    _c("not_our_authority", "integer", "Jawaban Bukan Wewenang", "Bukan Wewenang answers"),
    _c("misrouting_rate", "number", "Tingkat salah sasaran (0–1)", "Misrouting rate (0–1)"),
    _c(
        "median_first_response_wd",
        "number",
        "Median hari kerja sampai tanggapan pertama",
        "Median working days to first response",
    ),
    _c(
        "median_resolution_wd",
        "number",
        "Median hari kerja sampai selesai",
        "Median working days to resolution",
    ),
    _c("satisfaction_mean", "number", "Rata-rata kepuasan (1–5)", "Mean satisfaction (1–5)"),
    _c("satisfaction_count", "integer", "Jumlah penilaian", "Number of ratings"),
    _c("overdue_now", "integer", "Terlambat pada akhir hari", "Overdue at the end of the day"),
)


def open_data_columns(tier_ids: Iterable[str]) -> tuple[Column, ...]:
    """The open data columns (CSV header order, JSON keys): the fixed ones, then one per
    configured escalation tier."""
    return _BASE_COLUMNS + tuple(
        _c(f"escalation_{tier}", "integer", f"Eskalasi tahap {tier}", f"Escalations, tier {tier}")
        for tier in tier_ids
    )


Cell = str | int | float | None

# Decimals in the open data: shares to a hundredth of a percent. Anyone can recompute
# them exactly from the counts beside them; the file stays small enough to serve whole.
OPEN_DATA_DECIMALS = 4


def _decimal(value: Cell) -> Cell:
    return round(value, OPEN_DATA_DECIMALS) if isinstance(value, float) else value


def open_data_rows(figures: DailyFigures, tier_ids: Iterable[str]) -> list[dict[str, Cell]]:
    """One row per scope and period, keyed by :func:`open_data_columns`' names. Only
    numbers and public ids: nothing of any report, so confidential ones stay hidden."""
    tiers = tuple(tier_ids)
    scoped: list[tuple[str, str, ScopeFigures]] = [("national", "", figures.national)]
    scoped += [("region", code, one) for code, one in figures.regions.items()]
    for agency, both in figures.agencies.items():
        scoped += [("agency", agency, both.own), ("agency_subtree", agency, both.subtree)]
    rows: list[dict[str, Cell]] = []
    for scope, scope_id, one in scoped:
        for period, values in (("day", one.day), ("cumulative", one.cumulative)):
            row: dict[str, Cell] = {
                "date": figures.day.isoformat(),
                "period": period,
                "scope": scope,
                "scope_id": scope_id,
            }
            for column in _BASE_COLUMNS[4:]:
                name = column.name
                if name.startswith(ROUTED) and name != "routed_total":
                    row[name] = values.routed.get(name[len(ROUTED) :], 0)
                elif name == "overdue_now":
                    row[name] = one.overdue_now
                else:
                    row[name] = _decimal(getattr(values, name))
            row.update({f"escalation_{tier}": values.escalations.get(tier, 0) for tier in tiers})
            rows.append(row)
    return rows
