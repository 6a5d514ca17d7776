"""The Ombudsman RI referral dossier: one self-contained document per report.

What an agency did with a report, from the record alone: the report as the national
admin may see it, its full timeline, every agency that held it and for how long, every
reminder and escalation and whom it told, the delivery log of the notifications, and
the latest published figures of the agencies that held it. The national admin fetches
it (GET /api/v1/reports/{id}/dossier); anyone else is told the report does not exist.

Privacy is :func:`shared.domain.privacy.view`'s, as for every read: an anonymous
reporter's identity is not even read, so no later step can leak it; a named one's is
read through :func:`shared.usecases.agency.recorded_identity`, which records the view
(``identity.viewed``) as every staff view of an identity is.

Reads: the report, its timeline, its delivery log, the identity of a named reporter,
and the figures (1 for the latest day, 1 per agency that held the report).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from shared.domain.calendar import WorkingCalendar
from shared.domain.privacy import Audience, routing_of, view
from shared.domain.report import (
    Action,
    DeadlinePolicy,
    Report,
    ReportType,
    TimelineEvent,
)
from shared.ports import AgencyPorts, FiguresReader, ReportNotFound
from shared.reference import Reference
from shared.usecases.agency import Caller, clock_figures, recorded_identity
from shared.usecases.deliveries import delivery_view
from shared.usecases.notices import parse_notified

DOSSIER_VERSION = 1
# The events that end an agency's hold on a report.
_ENDS = frozenset({Action.NOT_OUR_AUTHORITY, Action.ARCHIVE, Action.CONFIRM, Action.AUTO_CLOSE})


@dataclass
class Holding:
    """One disposition: an agency held the report from ``since`` to ``until`` (None:
    it still does), with its own resolution deadline."""

    agency_id: str
    since: dt.datetime
    routing: dict[str, Any]
    resolve_due: dt.date
    until: dt.datetime | None = None
    ended_by: Action | None = None
    units: list[str] = field(default_factory=list)
    first_follow_up_at: dt.datetime | None = None
    # The deadline in force when the first follow-up came (a later marking moves it).
    due_at_first_follow_up: dt.date | None = None
    resolved_at: dt.datetime | None = None


def holdings(
    report: Report,
    events: Sequence[TimelineEvent],
    calendar: WorkingCalendar,
    policy: DeadlinePolicy,
) -> list[Holding]:
    """Every agency that held the report, in order, from its timeline (pure).

    A hold runs from its DISPOSITION to the Bukan Wewenang that returned the report,
    or to the report's end (archive, closing); a hold still running has no end. Its
    deadline is the one the lifecycle gave it: the report type's days from the
    disposition, or the longer one a "berkadar pengawasan" marking set.
    """
    marked = any(e.action is Action.MARK_SUPERVISORY for e in events)
    report_type = ReportType.COMPLAINT if marked else report.type
    held: list[Holding] = []
    current: Holding | None = None
    for event in sorted(events, key=lambda e: e.seq):
        if event.action is Action.DISPOSITION:
            since = calendar.local_date(event.at)
            current = Holding(
                agency_id=str(event.data.get("agency_id", "")),
                since=event.at,
                routing=routing_of(event),
                resolve_due=calendar.add_working_days(since, policy.resolve_days[report_type]),
            )
            held.append(current)
            continue
        if event.action is Action.MARK_SUPERVISORY:
            report_type = ReportType.SUPERVISORY_COMPLAINT
        if current is None:
            continue
        match event.action:
            case Action.FORWARD:
                current.units.append(str(event.data.get("unit_id", "")))
            case Action.FOLLOW_UP if current.first_follow_up_at is None:
                current.first_follow_up_at = event.at
                current.due_at_first_follow_up = current.resolve_due
            case Action.RESOLVE:
                current.resolved_at = event.at
            case Action.MARK_SUPERVISORY if "resolve_due" in event.data:
                current.resolve_due = dt.date.fromisoformat(str(event.data["resolve_due"]))
        if event.action in _ENDS:
            current.until, current.ended_by = event.at, event.action
            current = None
    return held


def _holding_json(
    holding: Holding, now: dt.datetime, calendar: WorkingCalendar, reference: Reference
) -> dict[str, Any]:
    start = calendar.local_date(holding.since)
    end = calendar.local_date(holding.until or now)
    followed, due = holding.first_follow_up_at, holding.due_at_first_follow_up
    return {
        "agency_id": holding.agency_id,
        "agency_name": _name(reference, holding.agency_id),
        "units": [{"id": u, "name": _name(reference, u)} for u in holding.units],
        "routing": holding.routing,
        "since": holding.since.isoformat(),
        "until": holding.until.isoformat() if holding.until else None,
        "ended_by": holding.ended_by.value if holding.ended_by else None,
        "working_days": max(0, calendar.working_days_between(start, end)),
        "calendar_days": max(0, (end - start).days),
        "resolve_due": holding.resolve_due.isoformat(),
        "first_follow_up_at": followed.isoformat() if followed else None,
        "followed_up_within_deadline": (
            calendar.local_date(followed) <= due if followed and due else None
        ),
        "resolved_at": holding.resolved_at.isoformat() if holding.resolved_at else None,
    }


def _escalation_json(event: TimelineEvent, reference: Reference) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "at": event.at.isoformat(),
        "tier": event.data.get("tier"),
        "clock": event.data.get("clock"),
        "notified": [
            {
                "recipient": recipient.value,
                "agency_id": agency,
                "agency_name": _name(reference, agency),
            }
            for recipient, agency in parse_notified(str(event.data.get("notified", "")))
        ],
    }


def _figures_json(
    figures: FiguresReader, agencies: Sequence[str], reference: Reference
) -> dict[str, Any]:
    """The latest published figures of ``agencies``: a read for the day, one per agency."""
    day = figures.latest_figures_day()
    documents = {agency: figures.figures_scope(day, agency) if day else None for agency in agencies}
    return {
        "day": day.isoformat() if day else None,
        "agencies": [
            {
                "agency_id": agency,
                "agency_name": _name(reference, agency),
                "published": document is not None,
                "figures": _figures_only(document) if document is not None else None,
            }
            for agency, document in documents.items()
        ],
    }


# The 90-day series is the dashboard's and the summed counters are the job's own
# carry-over: the dossier keeps the figures themselves.
_NOT_FIGURES = frozenset({"trend", "counts"})


def _figures_only(document: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if key not in _NOT_FIGURES}


def _name(reference: Reference, agency_id: str) -> str | None:
    return reference.agency(agency_id).name if reference.has_agency(agency_id) else None


def dossier(report_id: str, caller: Caller, ports: AgencyPorts) -> dict[str, Any]:
    """The dossier of ``report_id`` as plain JSON values; ReportNotFound unless the
    caller is the national admin and the report exists."""
    if not caller.is_national:
        raise ReportNotFound(report_id)
    store = ports.store
    report = store.get(report_id)
    if report is None:
        raise ReportNotFound(report_id)
    events = store.timeline(report_id)
    shown = view(report, events, Audience.ADMIN, None)
    if shown is None:  # pragma: no cover - view hides reports from the public only
        raise ReportNotFound(report_id)
    # A named reporter's identity is read and shown like the detail's: the view recorded.
    reporter = recorded_identity(report, caller, ports)
    if reporter is not None:
        shown["reporter"] = reporter
    timeline = shown.pop("timeline")
    shown["id"] = report.id
    shown.update(clock_figures(report, ports))

    settings, reference, now = ports.settings, ports.reference, ports.clock.now()
    calendar = settings.calendar()
    held = holdings(report, events, calendar, settings.deadline_policy())
    involved = list(dict.fromkeys(h.agency_id for h in held))
    return {
        "dossier_version": DOSSIER_VERSION,
        "generated_at": now.isoformat(),
        "report": shown,
        "timeline": timeline,
        "holdings": [_holding_json(h, now, calendar, reference) for h in held],
        "escalations": [
            _escalation_json(e, reference) for e in events if e.action is Action.ESCALATE
        ],
        "deliveries": [delivery_view(d, None) for d in ports.deliveries.deliveries(report_id)],
        "figures": _figures_json(ports.figures, involved, reference),
    }
