"""The daily report: the published figures of one day, stored and pushed to every agency.

Cloud Scheduler runs it at 01:00 Asia/Jakarta for the day before (``functions/report``).
It never reads the reports themselves: every figure comes from the counters committed
with each event (:mod:`shared.usecases.counters`), from the previous stored day, and
from aggregation counts of what is overdue.

What one run for day D reads:

- ``daily_figures/{D}`` (1 read): stored already? Then this is a re-run: it keeps that
  run's ``generated_at`` and overdue snapshot and pushes nothing again;
- the latest summary before D, P (1 read: ``__name__ < D``, newest first) and P's scope
  documents (one query, a read per scope): the month-to-date and cumulative counts of
  each counter scope and every 90-day trend, carried forward;
- the counter documents of the days after P up to D (``figure_counters``, one id range,
  no index: :func:`shared.domain.figures.days_id_range`): a read per (day, scope, shard)
  that had an event, so missed days are filled in, never skipped. Without any P, every
  counter document up to D;
- overdue now (first run of D only): one count of ``clock_due < D`` over all reports,
  then, when that is more than there are scopes, one aggregation count per agency and
  region (reads: one per count, plus one per 1,000 overdue reports), else the overdue
  reports' scope fields (reads: as many as are overdue). "Overdue on D" is
  :func:`shared.domain.report.is_overdue` on D: the due date was before D, so a report
  due on D itself is not yet overdue (the published definition of ``overdue_now``);
- ``routing_stats`` (a read per rule): per-rule misrouting, running totals.

What it writes (``schema_version`` 1 on each; day fields are ``YYYY-MM-DD`` strings;
Figures below is :class:`shared.domain.figures.Figures` as JSON, every field of it, and
Periods is ``{"day": Figures, "month": Figures, "cumulative": Figures, "overdue_now": n}``
where month is the calendar month up to D and cumulative everything up to D):

``daily_figures/{D}``, the summary: what the dashboard shows, in one read, written LAST,
so a day whose summary exists is complete::

    day, generated_at (timestamp), definitions_version,
    national: Periods,
    agencies: {agency id: {"month": Row, "cumulative": Row}},   # every agency, own figures
    regions: {region code: {"month": Row, "cumulative": Row}},  # provinces and regencies
    trend: [{"day", "received", "closed"}, ...],  # national, 90 days, oldest first
    overdue_by_scope: {counter scope: n},          # the snapshot a re-run keeps (non-zero)

    Row: received, followed_up_within_deadline_share, resolved_share,
         median_first_response_wd, median_resolution_wd, misrouting_rate,
         satisfaction_mean, satisfaction_count, overdue_now

``daily_figures/{D}/scopes/{scope}``, one per agency (its id), region (its code),
unrouted scope (``unrouted:<region code>``) and ``national``::

    day, scope, kind ("agency" | "region" | "unrouted" | "national"),
    own: Periods,            # for a region: its agencies and unrouted reports
    subtree: Periods | None, # agencies: with every agency below them
    trend: [...],            # own received/closed, 90 days, oldest first
    counts: {"month": {field: n}, "cumulative": {field: n}} | None
                             # agency and unrouted: the summed counters carried to D+1

``daily_figures/{D}/exports/agencies_csv``: ``{day, columns, csv}``, the open data CSV
(:func:`shared.domain.figures.open_data_rows`) of every agency, own and subtree, for the
day and cumulatively, decimals to 4 places. ``daily_figures/{D}/exports/routing_rules``:
``{day, rules: {rule id: {dispositions, not_our_authority, misrouting_rate}}}``.

Sizes at the national scale (680 agencies, 514 regencies, 38 provinces; every counter
moved; tests/unit/test_daily_report.py): summary ~643 KiB (about 500 bytes per table
row, nearly all field names), largest scope document ~15 KiB, ``agencies_csv`` ~618 KiB
with six-digit counts everywhere, the national push ~275 KiB. Firestore's limit: 1 MiB.

Idempotent: a second run for D computes the same documents from the same counters and
the kept snapshot, and writes them again. A counter moved after the first run (an event
dated D committed later) shows in the re-run; days after D keep what they carried.

Pushed (first run only): one ``report.daily`` per agency of the reference (its own and
subtree Periods) and, to each national agency, the national Periods, the regions' rows
and the open data links, through the outbox on the agency notifications topic, id
``daily.{D}.{agency}`` (notify dedupes on it and settles it), published right after.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shared.domain.figures import (
    TREND_DAYS,
    UNROUTED,
    AgencyFigures,
    AgencyTree,
    DailyFigures,
    Figures,
    ScopeCounts,
    ScopeFigures,
    TrendPoint,
    add_counts,
    compute_figures,
    counts_by_day,
    definitions_version,
    extend_trend,
    figures_from_counts,
    misrouting_by_rule,
    month_to_date,
    open_data_columns,
    open_data_rows,
    trend_point,
)
from shared.ports import DailyReportPorts, OutboxMessage
from shared.reference import AgencyKind, Reference
from shared.usecases.counters import FIGURE_COUNTERS, ROUTING_STATS
from shared.usecases.outbox import publish_committed

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
NATIONAL = "national"
AGENCIES_CSV = "agencies_csv"
ROUTING_RULES = "routing_rules"
KIND_DAILY = "report.daily"
REPORT_DAILY = "id.lapor.report.daily.v1"

# The dashboard table's columns (a Row), for the month and cumulatively.
ROW_COLUMNS = (
    "received",
    "followed_up_within_deadline_share",
    "resolved_share",
    "median_first_response_wd",
    "median_resolution_wd",
    "misrouting_rate",
    "satisfaction_mean",
    "satisfaction_count",
)

Doc = dict[str, Any]


@dataclass(frozen=True)
class DailyReportResult:
    day: dt.date
    rerun: bool  # the day was stored already: its snapshot kept, nothing pushed again
    scopes: int  # scope documents written
    counter_documents: int  # read, of the days since the previous stored day
    overdue_now: int  # nationally
    notifications: int  # report.daily pushes put in the outbox
    published: bool  # False: the outbox keeps them for the sweeper

    def as_json(self) -> dict[str, object]:
        return {**dataclasses.asdict(self), "day": self.day.isoformat()}


def run_daily_report(day: dt.date, ports: DailyReportPorts) -> DailyReportResult:
    store, settings, reference = ports.figures, ports.settings, ports.reference
    stored = store.stored_summary(day)
    previous = store.previous_summary(day)
    previous_day = dt.date.fromisoformat(previous["day"]) if previous else None
    previous_scopes = store.scope_documents(previous_day) if previous_day else {}

    first = previous_day + dt.timedelta(days=1) if previous_day else None
    documents = store.counter_documents(FIGURE_COUNTERS, first, day)
    by_day = counts_by_day(documents)
    day_counts = by_day.get(day, {})
    carried = {
        period: {
            scope: dict(doc["counts"][period])
            for scope, doc in previous_scopes.items()
            if doc.get("counts")
        }
        for period in ("month", "cumulative")
    }
    cumulative = add_counts(carried["cumulative"], *by_day.values())
    month = month_to_date(day, (previous_day, carried["month"]) if previous_day else None, by_day)

    if stored is not None:
        overdue = {str(k): int(v) for k, v in (stored.get("overdue_by_scope") or {}).items()}
        generated_at = stored["generated_at"]
    else:
        overdue = overdue_now(day, ports)
        generated_at = ports.clock.now()

    tree = agency_tree(reference)
    figures = compute_figures(day, day_counts, cumulative, overdue, tree, month_counts=month)
    # The figures of each day since P that the trends show, for their points.
    oldest_shown = day - dt.timedelta(days=TREND_DAYS - 1)
    missed = {
        d: (compute_figures(d, counts, {}, {}, tree, month_counts={}), counts)
        for d, counts in sorted(by_day.items())
        if oldest_shown <= d < day
    }
    tiers = [tier.id for tier in settings.escalation_tiers]

    raw = {s for s in (*cumulative, *overdue) if s.startswith(UNROUTED)}
    scopes = scope_documents(
        figures, missed, previous_scopes, raw, day_counts, month, cumulative, overdue
    )
    summary = summary_document(figures, scopes[NATIONAL]["trend"], overdue, generated_at)
    exports = {
        AGENCIES_CSV: {"day": day.isoformat(), **agencies_csv(figures, tiers)},
        ROUTING_RULES: {
            "day": day.isoformat(),
            "rules": {
                rule: dataclasses.asdict(one)
                for rule, one in misrouting_by_rule(store.running_totals(ROUTING_STATS)).items()
            },
        },
    }
    outbox = (
        ()
        if stored is not None
        else daily_notifications(
            figures,
            reference,
            base_url=settings.public_base_url,
            topic=settings.topic_agency_notifications,
            now=ports.clock.now(),
        )
    )
    announced = store.save_day(
        day,
        scopes={k: _versioned(v) for k, v in scopes.items()},
        exports={k: _versioned(v) for k, v in exports.items()},
        outbox=outbox,
        summary=_versioned(summary),
    )
    if not announced:  # another run stored the day at the same time: it tells the agencies
        outbox = ()
    # Notify settles each entry when it has told the agency; until then the sweeper
    # publishes it again.
    published = publish_committed(ports.publisher, outbox)
    result = DailyReportResult(
        day=day,
        rerun=stored is not None or not announced,
        scopes=len(scopes),
        counter_documents=len(documents),
        overdue_now=figures.national.overdue_now,
        notifications=len(outbox),
        published=published,
    )
    log.info("daily figures stored", extra=result.as_json())
    return result


def agency_tree(reference: Reference) -> AgencyTree:
    return AgencyTree(
        parent={agency.id: agency.parent for agency in reference.agencies},
        region={agency.id: agency.region for agency in reference.agencies},
    )


def overdue_now(day: dt.date, ports: DailyReportPorts) -> dict[str, int]:
    """Reports overdue on ``day``, per counter scope, by whichever costs fewer reads:
    the overdue reports themselves when they are fewer than the scopes, else one
    aggregation count per scope."""
    store, reference = ports.figures, ports.reference
    total = store.overdue_total(day)
    if total == 0:
        return {}
    agencies = [agency.id for agency in reference.agencies]
    regions = [p.code for p in reference.provinces] + [r.code for r in reference.regencies]
    if total <= len(agencies) + len(regions):
        found: dict[str, int] = {}
        for scope in store.overdue_scopes(day):
            found[scope] = found.get(scope, 0) + 1
        return found
    counted = store.overdue_counts(day, agencies, regions)
    return {scope: n for scope, n in counted.items() if n}


# --- the documents ---------------------------------------------------------------------


def _versioned(doc: Doc) -> Doc:
    return {"schema_version": SCHEMA_VERSION, **doc}


def _periods(one: ScopeFigures) -> Doc:
    return dataclasses.asdict(one)


def _row(figures: Figures, overdue: int) -> Doc:
    return {**{name: getattr(figures, name) for name in ROW_COLUMNS}, "overdue_now": overdue}


def _rows(one: ScopeFigures) -> Doc:
    return {
        "month": _row(one.month, one.overdue_now),
        "cumulative": _row(one.cumulative, one.overdue_now),
    }


def _raw_figures(
    scope: str,
    day_counts: ScopeCounts,
    month: ScopeCounts,
    cumulative: ScopeCounts,
    overdue: Mapping[str, int],
) -> ScopeFigures:
    """The figures of one unrouted scope alone (a region's figures include its agencies)."""
    return ScopeFigures(
        day=figures_from_counts(day_counts.get(scope, {}), agency=False),
        month=figures_from_counts(month.get(scope, {}), agency=False),
        cumulative=figures_from_counts(cumulative.get(scope, {}), agency=False),
        overdue_now=overdue.get(scope, 0),
    )


def _own_day(figures: DailyFigures, counts: ScopeCounts, scope: str, kind: str) -> Figures:
    """One scope's own figures of a day, as its trend counts them."""
    if kind == NATIONAL:
        return figures.national.day
    if kind == "region" and scope in figures.regions:
        return figures.regions[scope].day
    if kind == "agency" and scope in figures.agencies:
        return figures.agencies[scope].own.day
    return figures_from_counts(counts.get(scope, {}), agency=kind == "agency")


def scope_documents(
    figures: DailyFigures,
    missed: Mapping[dt.date, tuple[DailyFigures, ScopeCounts]],
    previous: Mapping[str, Mapping[str, Any]],
    unrouted: Iterable[str],
    day_counts: ScopeCounts,
    month: ScopeCounts,
    cumulative: ScopeCounts,
    overdue: Mapping[str, int],
) -> dict[str, Doc]:
    day = figures.day
    docs: dict[str, Doc] = {}

    def trend(scope: str, kind: str, today: Figures) -> list[TrendPoint]:
        points = [trend_point(d, _own_day(*past, scope, kind)) for d, past in missed.items()]
        points.append(trend_point(day, today))
        return extend_trend(day, previous.get(scope, {}).get("trend") or (), points)

    def doc(scope: str, kind: str, own: ScopeFigures, subtree: ScopeFigures | None = None) -> Doc:
        carried = kind in ("agency", "unrouted")  # the counter scopes
        return {
            "day": day.isoformat(),
            "scope": scope,
            "kind": kind,
            "own": _periods(own),
            "subtree": _periods(subtree) if subtree is not None else None,
            "trend": trend(scope, kind, own.day),
            "counts": (
                {
                    "month": dict(month.get(scope, {})),
                    "cumulative": dict(cumulative.get(scope, {})),
                }
                if carried
                else None
            ),
        }

    docs[NATIONAL] = doc(NATIONAL, NATIONAL, figures.national)
    for code, region in figures.regions.items():
        docs[code] = doc(code, "region", region)
    for agency, both in figures.agencies.items():
        docs[agency] = doc(agency, "agency", both.own, both.subtree)
    for scope in sorted(unrouted):
        own = _raw_figures(scope, day_counts, month, cumulative, overdue)
        docs[scope] = doc(scope, "unrouted", own)
    return docs


def summary_document(
    figures: DailyFigures,
    trend: Sequence[TrendPoint],
    overdue: Mapping[str, int],
    generated_at: dt.datetime,
) -> Doc:
    return {
        "day": figures.day.isoformat(),
        "generated_at": generated_at,
        "definitions_version": definitions_version(),
        "national": _periods(figures.national),
        "agencies": {agency: _rows(both.own) for agency, both in figures.agencies.items()},
        "regions": {code: _rows(region) for code, region in figures.regions.items()},
        "trend": list(trend),
        "overdue_by_scope": {scope: n for scope, n in sorted(overdue.items()) if n},
    }


def agencies_csv(figures: DailyFigures, tiers: Sequence[str]) -> Doc:
    columns = [column.name for column in open_data_columns(tiers)]
    rows = [
        row
        for row in open_data_rows(figures, tiers)
        if row["scope"] in ("agency", "agency_subtree")
    ]
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: "" if v is None else v for k, v in row.items()} for row in rows)
    return {"columns": columns, "csv": text.getvalue()}


# --- the pushes --------------------------------------------------------------------------


def daily_notifications(
    figures: DailyFigures, reference: Reference, *, base_url: str, topic: str, now: dt.datetime
) -> tuple[OutboxMessage, ...]:
    """One ``report.daily`` per agency of the reference: its own figures, or the
    nation's for a national agency."""
    day = figures.day.isoformat()
    open_data = {
        "csv": f"{base_url}/data/harian/{day}.csv",
        "json": f"{base_url}/data/harian/{day}.json",
        "schema": f"{base_url}/data/skema",
    }
    messages = []
    for agency in reference.agencies:
        if agency.kind is AgencyKind.NATIONAL:
            payload: Doc = {
                "day": day,
                "scope": NATIONAL,
                "national": _periods(figures.national),
                "regions": {code: _rows(one) for code, one in figures.regions.items()},
                "open_data": open_data,
                "url": f"{base_url}/statistik",
            }
        else:
            both: AgencyFigures | None = figures.agencies.get(agency.id)
            if both is None:
                continue
            payload = {
                "day": day,
                "scope": agency.id,
                "own": _periods(both.own),
                "subtree": _periods(both.subtree),
                "url": f"{base_url}/statistik/instansi/{agency.id}",
            }
        messages.append(daily_notification(day, agency.id, payload, topic, now))
    return tuple(messages)


def daily_notification(
    day: str, agency_id: str, payload: Doc, topic: str, now: dt.datetime
) -> OutboxMessage:
    notification_id = f"daily.{day}.{agency_id}"
    return OutboxMessage.cloud_event(
        notification_id,
        topic,
        {
            "notification_id": notification_id,
            "kind": KIND_DAILY,
            "agency_id": agency_id,
            "report_id": None,
            "data": payload,
        },
        type=REPORT_DAILY,
        source="//lapor/functions/report",
        subject=f"daily_figures/{day}",
        at=now,
    )
