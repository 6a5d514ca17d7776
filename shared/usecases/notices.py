"""Who is told what (docs/lifecycle.md, "Who is told what"): the one place that decides.

Every notification follows from a lifecycle event, derived here and committed as
outbox entries in the same commit as the event: :func:`shared.usecases.act.act` calls
:func:`notices_for` for every transition and
:func:`shared.usecases.submit.submit_report` for a submission, so no call site has to
remember whom to tell. The table:

=====================================  ==============================================
event                                  told (kind)
=====================================  ==============================================
SUBMIT                                 reporter (``report.accepted``)
DISPOSITION (any way)                  the agency (``report.dispositioned``); when a
                                       rule sent it straight to a unit, that unit too
                                       (``report.forwarded``)
FORWARD                                the unit (``report.forwarded``)
NOT_OUR_AUTHORITY, QUEUE_FOR_ADMIN     the admin who must route it (``report.returned``)
HOLD                                   reporter (``report.on_hold``)
FOLLOW_UP, RESOLVE                     reporter (``report.followed_up``, ``.resolved``)
REPORTER_REPLY, REOPEN                 the handling agency or unit
                                       (``report.reporter_replied``, ``.reopened``)
ANSWER_HOLD                            the agency whose admin put it on hold
                                       (``report.hold_answered``)
ESCALATE                               whom the tier names, as the event recorded them
                                       (``report.escalated``)
AUTO_CLOSE, ARCHIVE                    reporter (``report.closed``, ``.archived``)
CONFIRM, RATE, MARK_SUPERVISORY        nobody
=====================================  ==============================================

(The daily figures, about no report, are told by the daily report job.)

"The admin who must route it" is the regional admin, the local government covering
the report's region (the escalation tiers' ``regional_admin``), else the national
admin. Agencies are told on ``agency-notifications``, reporters on
``reporter-notifications``; notify reads the rest (the report as the recipient may
see it, the reporter's contacts and language), so no message carries an identity.

A notification's id is ``<report id>.<event seq>.<recipient>`` (the agency id, or
``reporter``): a retried transaction commits the very same entries, and notify sends
each once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.config import Settings
from shared.domain import escalation
from shared.domain.escalation import Recipient
from shared.domain.report import Action, Report, TimelineEvent
from shared.domain.routing import covers
from shared.ports import OutboxMessage
from shared.reference import AgencyKind, Reference, load_reference
from shared.usecases.notify import agency_notification, reporter_notification

REPORTER = "reporter"  # the recipient part of a reporter notification's id
SOURCE = "//lapor/lifecycle"
_LOCAL_GOVERNMENTS = frozenset({AgencyKind.PROVINCE, AgencyKind.REGENCY, AgencyKind.CITY})

# Reporter kinds by action: the reporter is told of these and only these.
_REPORTER_KINDS: Mapping[Action, str] = {
    Action.SUBMIT: "report.accepted",
    Action.HOLD: "report.on_hold",
    Action.FOLLOW_UP: "report.followed_up",
    Action.RESOLVE: "report.resolved",
    Action.AUTO_CLOSE: "report.closed",
    Action.ARCHIVE: "report.archived",
}


def notification_id(report_id: str, seq: int, recipient: str) -> str:
    return f"{report_id}.{seq}.{recipient}"


# --- who, in the agency tree ----------------------------------------------------------


def regional_admin(report: Report, reference: Reference) -> str | None:
    """The local government covering the report's region, the most specific one."""
    region = report.region.regency_code or report.region.province_code
    covering = [
        agency
        for agency in reference.agencies
        if agency.kind in _LOCAL_GOVERNMENTS and agency.region and covers(agency.region, region)
    ]
    nearest = max(covering, key=lambda a: len(a.region or ""), default=None)
    return nearest.id if nearest else None


def national_admin(reference: Reference) -> str | None:
    return next((a.id for a in reference.agencies if a.kind is AgencyKind.NATIONAL), None)


def routing_admin(report: Report, reference: Reference) -> str | None:
    """The admin who must route an unrouted report: the regional admin, else the
    national admin."""
    return regional_admin(report, reference) or national_admin(reference)


def handling_agency(report: Report) -> str | None:
    """The unit the report was forwarded to, else the agency it was dispositioned to."""
    return report.unit_id or report.agency_id


def parse_notified(value: str) -> tuple[tuple[Recipient, str], ...]:
    """Whom an ESCALATE event told: its ``notified`` data, ``recipient:agency_id``
    pairs separated by commas (the escalation run writes it)."""
    pairs = (part.partition(":") for part in value.split(",") if part)
    return tuple((Recipient(recipient), agency_id) for recipient, _, agency_id in pairs)


# --- the derivation -------------------------------------------------------------------


def notices_for(
    before: Report | None,
    after: Report,
    event: TimelineEvent,
    *,
    settings: Settings,
    reference: Reference | None = None,
) -> tuple[OutboxMessage, ...]:
    """Every notification ``event`` (taking ``before``, None for a submission, to
    ``after``) sends, as outbox entries; nothing for an event nobody is told of.

    ``reference``: the agency tree, read only for the rows that need it (default: the
    bundled reference data, which is what every function deploys).
    """
    action = event.action
    if action in _REPORTER_KINDS:
        return (_to_reporter(after, event, _REPORTER_KINDS[action], settings),)
    if action is Action.ESCALATE:
        return _escalated(after, event, settings)
    data: dict[str, Any] | None = None
    match action:
        case Action.DISPOSITION:
            agency_id, kind = after.agency_id, "report.dispositioned"
        case Action.FORWARD:
            agency_id, kind = after.unit_id, "report.forwarded"
        case Action.NOT_OUR_AUTHORITY | Action.QUEUE_FOR_ADMIN:
            agency_id, kind = routing_admin(after, reference or load_reference()), "report.returned"
            data = {"action": action.value, "reason": event.reason}
            if action is Action.NOT_OUR_AUTHORITY:
                data["returned_by"] = event.data.get("agency_id")
        case Action.REPORTER_REPLY:
            agency_id, kind = handling_agency(after), "report.reporter_replied"
        case Action.REOPEN:
            agency_id, kind = handling_agency(after), "report.reopened"
        case Action.ANSWER_HOLD:
            assert before is not None  # only a stored report is answered
            # A hold put before its holder was kept: the admin who routes it then.
            holder = before.on_hold_by or routing_admin(before, reference or load_reference())
            agency_id, kind = holder, "report.hold_answered"
        case _:  # CONFIRM, RATE, MARK_SUPERVISORY
            return ()
    if agency_id is None:  # the tree has nobody to tell
        return ()
    told = (_to_agency(after, event, agency_id, kind, settings, data),)
    if action is Action.DISPOSITION and after.unit_id:
        # The unit does the work; its agency answers for it: both hear of it.
        return (*told, _to_agency(after, event, after.unit_id, "report.forwarded", settings))
    return told


def _to_reporter(
    report: Report, event: TimelineEvent, kind: str, settings: Settings
) -> OutboxMessage:
    """One notification to the reporter, on every contact channel they gave: what the
    agency wrote to them (a follow-up, a resolution) or why (a hold, an archiving)."""
    data: dict[str, str] = {}
    if event.action in (Action.FOLLOW_UP, Action.RESOLVE) and event.message:
        data["message"] = event.message
    if event.action in (Action.HOLD, Action.ARCHIVE) and event.reason:
        data["reason"] = event.reason
    return reporter_notification(
        notification_id=notification_id(report.id, event.seq, REPORTER),
        kind=kind,
        report_id=report.id,
        tracking_code=report.tracking_code,
        seq=event.seq,
        data=data or None,
        topic=settings.topic_reporter_notifications,
        at=event.at,
        ce_type=f"id.lapor.{kind}.v1",
        source=SOURCE,
    )


def _to_agency(
    report: Report,
    event: TimelineEvent,
    agency_id: str,
    kind: str,
    settings: Settings,
    data: dict[str, Any] | None = None,
) -> OutboxMessage:
    """One notification to an agency (or unit): the report's ids and ``data``; notify
    reads the report as that agency may see it."""
    return agency_notification(
        notification_id=notification_id(report.id, event.seq, agency_id),
        kind=kind,
        agency_id=agency_id,
        report_id=report.id,
        tracking_code=report.tracking_code,
        data=data,
        topic=settings.topic_agency_notifications,
        at=event.at,
        ce_type=f"id.lapor.{kind}.v1",
        source=SOURCE,
    )


def _escalated(
    report: Report, event: TimelineEvent, settings: Settings
) -> tuple[OutboxMessage, ...]:
    """One ``report.escalated`` per agency the ESCALATE event told: which tier, which
    clock, its due date and how overdue on the run's day (the event's local date)."""
    calendar = settings.calendar()
    run_date = calendar.local_date(event.at)
    tier_id = str(event.data["tier"])
    tier = next((t for t in settings.escalation_tiers if t.id == tier_id), None)
    clock = escalation.running_clock(report, calendar)
    assert clock is not None  # an escalation fires only on a running clock
    escalated: dict[str, Any] = {
        "tier": tier_id,
        "clock": clock.kind.value,
        "clock_id": clock.id,
        "due_on": clock.due_on.isoformat(),
        "overdue_working_days": max(0, calendar.working_days_between(clock.due_on, run_date)),
    }
    if tier is not None and Recipient.OMBUDSMAN in tier.recipients:
        escalated["dossier_url"] = (
            f"{settings.agency_url.rstrip('/')}/api/v1/reports/{report.id}/dossier"
        )
    return tuple(
        _to_agency(
            report,
            event,
            agency_id,
            "report.escalated",
            settings,
            {**escalated, "recipient": recipient.value},
        )
        for recipient, agency_id in parse_notified(str(event.data.get("notified", "")))
    )
