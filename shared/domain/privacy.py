"""The one place that decides what each audience may see of a report.

SP4N-LAPOR! incidents came from someone forgetting a flag at one call site, so no
handler builds its own view: every read goes through :func:`view`, which is safe by
default (an unknown audience sees the public view, a confidential report shows the
public nothing, an anonymous reporter's identity reaches only the reporter).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from shared.domain.geo import round_point
from shared.domain.report import Action, Attachment, GeoPoint, Report, Role, TimelineEvent


class Audience(StrEnum):
    PUBLIC = "public"
    REPORTER = "reporter"  # holds the reporter token
    AGENCY = "agency"  # staff of the agency the report is dispositioned to
    ADMIN = "admin"  # national admin


# The languages a reporter may submit in, and so is written to in.
Language = Literal["id", "en"]


@dataclass(frozen=True)
class ReporterIdentity:
    """Who reported and how to reach them; stored apart from the report, always."""

    name: str | None
    email: str | None
    phone: str | None
    language: Language = "id"  # the submission's: every message to the reporter uses it


# Timeline text the public may read: what the agency answered, nothing the reporter
# wrote (it may hold personal details) and no internal reasons.
_PUBLIC_MESSAGES = frozenset({Action.FOLLOW_UP, Action.RESOLVE})


def is_public(report: Report) -> bool:
    return not report.confidential


def may_see_attachments(report: Report, audience: Audience) -> bool:
    """The reporter and the handling agency always; the public only on a public report
    whose reporter chose to show its files (a photo can show a face, a house, a plate)."""
    if audience is Audience.PUBLIC:
        return is_public(report) and report.show_attachments
    return True


def _place(report: Report, audience: Audience) -> dict[str, Any]:
    exact = audience is not Audience.PUBLIC
    point: GeoPoint | None = report.point
    if point is not None and not exact:
        point = round_point(point)  # about 110 m: a street or a hamlet, not a house
    return {
        "district_code": report.region.district_code,
        "village_code": report.region.village_code,
        # Free text may name people or a house: never on a public page.
        "address": report.address if exact else None,
        "latitude": point.latitude if point else None,
        "longitude": point.longitude if point else None,
        "precision": "exact" if exact else "rounded",
    }


def _attachment(attachment: Attachment) -> dict[str, Any]:
    return {
        "id": attachment.id,
        "media_type": attachment.media_type,
        "size": attachment.size,
        "width": attachment.width,
        "height": attachment.height,
        "pages": attachment.pages,
        "has_thumbnail": attachment.has_thumbnail,
        "added_by": "reporter" if attachment.added_by is Role.REPORTER else "agency",
        "added_seq": attachment.added_seq,
        "file_name": attachment.file_name,
    }


def routing_of(event: TimelineEvent) -> dict[str, Any]:
    """How a disposition was decided, for every audience: routing by rule or classifier
    is not verification by a person, and the timeline says which it was. Nothing in it
    is personal: a method, a rule id, a confidence and agency ids."""
    method = str(event.data.get("method", "manual"))
    confidence = event.data.get("confidence")
    return {
        "method": method,  # named, rule, classifier, manual
        "agency_id": event.data.get("agency_id"),
        "rule_id": event.data.get("rule_id"),
        "confidence": float(confidence) if confidence is not None else None,
        # The agency whose admin decided it; routing by the system names no one.
        "admin_agency_id": event.actor.id if event.actor.role is not Role.SYSTEM else None,
    }


def _event(event: TimelineEvent, audience: Audience) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "seq": event.seq,
        "action": event.action.value,
        "at": event.at.isoformat(),
        "actor_role": event.actor.role.value,
        "from_state": event.from_state.value if event.from_state else None,
        "to_state": event.to_state.value,
    }
    if event.action is Action.DISPOSITION:
        shown["routing"] = routing_of(event)
    if audience is Audience.PUBLIC:
        if event.action in _PUBLIC_MESSAGES:
            shown["message"] = event.message
        return shown
    shown["message"] = event.message
    shown["reason"] = event.reason
    shown["data"] = dict(event.data)
    if audience in (Audience.AGENCY, Audience.ADMIN):
        shown["actor_id"] = event.actor.id
    return shown


def view(
    report: Report,
    events: Sequence[TimelineEvent],
    audience: Audience,
    identity: ReporterIdentity | None = None,
) -> dict[str, Any] | None:
    """What ``audience`` may see, or None when it may not know the report exists."""
    if audience is Audience.PUBLIC and not is_public(report):
        return None
    shown: dict[str, Any] = {
        "tracking_code": report.tracking_code,
        "type": report.type.value,
        "title": report.title,
        "description": report.description,
        "category": report.category,
        "province_code": report.region.province_code,
        "regency_code": report.region.regency_code,
        "incident_date": report.incident_date.isoformat() if report.incident_date else None,
        "anonymous": report.anonymous,
        "confidential": report.confidential,
        "state": report.state.value,
        "submitted_at": report.submitted_at.isoformat(),
        "updated_at": report.updated_at.isoformat(),
        "verify_due": report.verify_due.isoformat(),
        "resolve_due": _day(report.resolve_due),  # None before a disposition
        "clock_due": _day(report.clock_due),  # the running clock's due date
        "auto_close_due": _day(report.auto_close_due),
        "closed_by": report.closed_by.value if report.closed_by else None,
        "agency_id": report.agency_id,
        "rating": report.rating,
        "place": _place(report, audience),
        "attachments": (
            [_attachment(a) for a in report.attachments]
            if may_see_attachments(report, audience)
            else []
        ),
        "timeline": [_event(e, audience) for e in sorted(events, key=lambda e: e.seq)],
    }
    if audience is not Audience.PUBLIC:
        shown["target_agency_id"] = report.target_agency_id
        shown["unit_id"] = report.unit_id
        shown["show_attachments"] = report.show_attachments
        # Who erased the reporter's identity and contact ("reporter", "retention"), if
        # anyone: the agency then knows why there is nobody to reach.
        shown["contact_erased"] = report.contact_erased.value if report.contact_erased else None
    if audience in (Audience.AGENCY, Audience.ADMIN):
        shown["escalation_tier"] = report.escalation_tier
        shown["escalations"] = list(report.escalations)  # the running clock's, in order
    if audience in (Audience.AGENCY, Audience.ADMIN) and report.admin_queue is not None:
        shown["admin_queue"] = {
            "reason": report.admin_queue.reason,
            "suggested_agency_id": report.admin_queue.suggested_agency_id,
            "confidence": report.admin_queue.confidence,
        }
    if identity is not None and _may_see_identity(report, audience):
        shown["reporter"] = {
            "name": identity.name,
            "email": identity.email,
            "phone": identity.phone,
        }
    return shown


def _day(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def _may_see_identity(report: Report, audience: Audience) -> bool:
    if audience is Audience.REPORTER:
        return True
    if audience in (Audience.AGENCY, Audience.ADMIN):
        return not report.anonymous
    return False
