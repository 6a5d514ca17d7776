"""Telling an agency, by a signed webhook, what it must know.

Fed by the ``agency-notifications`` topic, published through the outbox by the use
cases, one kind each:

- ``report.dispositioned`` (route): a report was dispositioned to the agency;
- ``report.escalated`` (the daily escalation run): a tier of a report's clock fired and
  names the agency; ``data`` says which tier, clock, due date and how overdue, and for
  the Ombudsman's tier the link to the report's dossier;
- ``report.daily`` (the daily figures): ``data`` is the agency's figures, about no
  report (``report_id`` null).

Pub/Sub delivers at least once and retries what we refuse, so:

- the delivery log ``reports/{report_id}/deliveries/{notification_id}`` (for a
  notification about no report, ``deliveries/{notification_id}``) says what
  happened; a notification already ``delivered`` (or settled otherwise: permanently
  ``failed``, ``no_channel``, ``skipped``) is acknowledged without another POST, so
  three redeliveries give the agency one webhook;
- a retryable failure (5xx, 408, 429, timeout, no connection) is recorded as
  ``retrying`` and raised: the function answers 500 and Pub/Sub retries with its
  exponential backoff, then dead-letters the message; :func:`mark_dead_lettered`
  then records ``failed`` so the failure is visible;
- a permanent refusal (other 4xx) is recorded ``failed`` and acknowledged.

Privacy is applied in exactly one place, :func:`shared.domain.privacy.view` with the
AGENCY audience: an anonymous reporter's identity never reaches the payload.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import replace
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError, model_validator

from shared.domain.privacy import Audience, view
from shared.ports import (
    Delivery,
    DeliveryStatus,
    NotifyPorts,
    OutboxMessage,
    ReportStore,
    SendOutcome,
)
from shared.pubsub_push import Pushed, invalid

log = logging.getLogger(__name__)

KIND_DISPOSITIONED = "report.dispositioned"
KIND_FORWARDED = "report.forwarded"
KIND_ESCALATED = "report.escalated"
KIND_DAILY = "report.daily"

# What an agency is told (lifecycle.md, "Who is told what"), on agency-notifications.
AgencyKind = Literal[
    "report.dispositioned",  # dispositioned to it (any way)
    "report.forwarded",  # forwarded to it (a unit)
    "report.returned",  # Bukan Wewenang or queued for an admin: it must route the report
    "report.reporter_replied",
    "report.hold_answered",
    "report.reopened",
    "report.escalated",
    "report.daily",
]
# What a reporter is told, on reporter-notifications.
ReporterKind = Literal[
    "report.accepted",
    "report.on_hold",
    "report.followed_up",
    "report.resolved",
    "report.closed",  # closed by the daily run (the reporter stayed silent)
    "report.archived",
    "link.resend",
]
ReporterChannel = Literal["email", "sms"]

Id = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^/]+$")]


class NotificationMessage(BaseModel):
    """The ``agency-notifications`` message, as :func:`agency_notification` makes it."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    notification_id: Id
    kind: AgencyKind
    agency_id: Id
    report_id: Id | None = None  # None only for a notification about no report
    tracking_code: str | None = None
    data: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _report_or_data(self) -> Self:
        if self.kind == KIND_DAILY:
            if self.report_id is not None or self.data is None:
                raise ValueError(f"a {KIND_DAILY} notification has data and no report_id")
        elif self.report_id is None:
            raise ValueError(f"a {self.kind} notification needs a report_id")
        return self


def agency_notification(
    *,
    notification_id: str,
    kind: str,
    agency_id: str,
    report_id: str | None,
    data: dict[str, Any] | None,
    topic: str,
    at: dt.datetime,
    ce_type: str,
    source: str,
    tracking_code: str | None = None,
) -> OutboxMessage:
    """The outbox entry of one notification, checked as notify will read it (a message
    notify would refuse fails here, in the use case that makes it)."""
    message = NotificationMessage.model_validate(
        {
            "notification_id": notification_id,
            "kind": kind,
            "agency_id": agency_id,
            "report_id": report_id,
            "tracking_code": tracking_code,
            "data": data,
        }
    )
    subject = f"reports/{report_id}" if report_id else f"agencies/{agency_id}"
    return OutboxMessage(
        id=notification_id,
        topic=topic,
        data=message.model_dump(mode="json"),
        attributes={
            "ce-specversion": "1.0",
            "ce-id": notification_id,
            "ce-type": ce_type,
            "ce-source": source,
            "ce-subject": subject,
            "ce-time": at.isoformat(),
            "content-type": "application/json",
        },
        created_at=at,
    )


class ReporterData(BaseModel):
    """What a reporter notification quotes: the agency's follow-up or resolution text
    (``message``), the reason of a hold or an archiving (``reason``)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    message: str | None = None
    reason: str | None = None


class ReporterNotification(BaseModel):
    """The ``reporter-notifications`` message, as :func:`reporter_notification` makes it.

    It names the report, never the reporter: notify reads the contacts and the language
    from the identity, so no personal data travels on the bus.
    ``notification_id``: ``{report_id}.{seq}.reporter`` (``link.resend``:
    ``{report_id}.resend.{n}``). ``channel``: None for every contact channel the
    reporter gave, or the one channel a ``link.resend`` matched.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    notification_id: Id
    kind: ReporterKind
    report_id: Id
    tracking_code: str
    seq: int | None = None
    channel: ReporterChannel | None = None
    data: ReporterData = ReporterData()

    @model_validator(mode="after")
    def _resend_names_its_channel(self) -> Self:
        if self.kind == "link.resend" and self.channel is None:
            raise ValueError("a link.resend notification names the channel that matched")
        if self.kind != "link.resend" and self.seq is None:
            raise ValueError(f"a {self.kind} notification names the event (seq)")
        return self


def reporter_notification(
    *,
    notification_id: str,
    kind: str,
    report_id: str,
    tracking_code: str,
    seq: int | None,
    data: dict[str, Any] | None,
    topic: str,
    at: dt.datetime,
    ce_type: str,
    source: str,
    channel: str | None = None,
) -> OutboxMessage:
    """The outbox entry of one reporter notification, checked as notify will read it."""
    message = ReporterNotification.model_validate(
        {
            "notification_id": notification_id,
            "kind": kind,
            "report_id": report_id,
            "tracking_code": tracking_code,
            "seq": seq,
            "channel": channel,
            "data": data or {},
        }
    )
    return OutboxMessage(
        id=notification_id,
        topic=topic,
        data=message.model_dump(mode="json"),
        attributes={
            "ce-specversion": "1.0",
            "ce-id": notification_id,
            "ce-type": ce_type,
            "ce-source": source,
            "ce-subject": f"reports/{report_id}",
            "ce-time": at.isoformat(),
            "content-type": "application/json",
        },
        created_at=at,
    )


# Nothing more will be attempted for these; a redelivered message is acknowledged.
SETTLED = frozenset(
    {
        DeliveryStatus.DELIVERED,
        DeliveryStatus.FAILED,
        DeliveryStatus.NO_CHANNEL,
        DeliveryStatus.SKIPPED,
    }
)


class DeliveryRetryable(Exception):
    """This attempt failed in a way worth retrying: let Pub/Sub redeliver (answer 500)."""


def build_payload(message: NotificationMessage, reports: ReportStore) -> dict[str, Any] | None:
    """The webhook body, or None when the report it is about does not exist.

    The report part is the AGENCY view: whether the reporter's identity is in it is
    decided by the privacy module, nowhere else. An escalation adds its ``escalation``
    data; the daily figures are their ``data``, about no report.
    """
    body: dict[str, Any] = {
        "type": message.kind,
        "notification_id": message.notification_id,
        "agency_id": message.agency_id,
    }
    if message.report_id is None:
        return {**body, "data": message.data or {}}
    report = reports.get(message.report_id)
    if report is None:
        return None
    body["report"] = view(
        report,
        reports.timeline(message.report_id),
        Audience.AGENCY,
        reports.identity(message.report_id),
    )
    if message.kind == KIND_ESCALATED:
        body["escalation"] = message.data or {}
    return body


def _attempt(previous: Delivery | None, fresh: Delivery, now: dt.datetime) -> Delivery:
    return replace(
        fresh,
        attempts=(previous.attempts if previous else 0) + 1,
        first_attempt_at=(previous.first_attempt_at if previous else None) or now,
        last_attempt_at=now,
    )


def notify_agency(message: NotificationMessage, ports: NotifyPorts) -> Delivery:
    """Deliver one notification (at most once successfully); return its log entry.

    Raises DeliveryRetryable after recording ``retrying`` when another try may work.
    """
    where = {
        "notification_id": message.notification_id,
        "report_id": message.report_id,
        "agency_id": message.agency_id,
    }
    previous = ports.deliveries.get_delivery(message.report_id, message.notification_id)
    if previous is not None and previous.status in SETTLED:
        log.info("notification already settled", extra={**where, "status": previous.status})
        return previous

    now = ports.clock.now()
    base = Delivery(
        notification_id=message.notification_id,
        report_id=message.report_id,
        agency_id=message.agency_id,
        kind=message.kind,
        status=DeliveryStatus.RETRYING,
    )
    payload = build_payload(message, ports.store)
    if payload is None:
        # Every use case commits the report before it publishes: not a race, log it.
        log.error("notification for a report that does not exist", extra=where)
        entry = _attempt(
            previous,
            replace(base, status=DeliveryStatus.FAILED, last_error="report not found"),
            now,
        )
        ports.deliveries.save_delivery(entry)
        return entry
    if message.kind == KIND_DISPOSITIONED and payload["report"]["agency_id"] != message.agency_id:
        # Re-routed (Bukan Wewenang) before we got here: the agency may no longer see it.
        # (An escalation tells agencies above the one holding the report: never skipped.)
        entry = _attempt(
            previous,
            replace(
                base,
                status=DeliveryStatus.SKIPPED,
                last_error="report is no longer dispositioned to this agency",
            ),
            now,
        )
        log.warning("notification skipped: report re-routed", extra=where)
        ports.deliveries.save_delivery(entry)
        return entry

    channel = ports.channels.agency_channel(message.agency_id)
    if channel is None or not channel.webhook_url:
        # E-mail sending is out of scope here: the log says it is owed.
        entry = _attempt(
            previous,
            replace(
                base,
                status=DeliveryStatus.NO_CHANNEL,
                fallback="email_pending" if channel and channel.email else None,
                last_error=None if channel else "unknown agency",
            ),
            now,
        )
        log.warning("agency has no webhook", extra={**where, "fallback": entry.fallback or "none"})
        ports.deliveries.save_delivery(entry)
        return entry

    base = replace(base, channel="webhook", url=channel.webhook_url)
    if not channel.secret:
        # Seeding makes every secret; a missing one is a fixable misconfiguration, so
        # keep retrying (and dead-letter, visibly) rather than send unsigned.
        entry = _attempt(previous, replace(base, last_error="no signing secret for agency"), now)
        ports.deliveries.save_delivery(entry)
        log.error("no webhook signing secret", extra=where)
        raise DeliveryRetryable(entry.last_error)

    result = ports.sender.send(
        channel.webhook_url, channel.secret, message.notification_id, payload, now
    )
    entry = _attempt(
        previous,
        replace(base, last_status_code=result.status_code, last_error=result.error),
        now,
    )
    if result.outcome is SendOutcome.DELIVERED:
        entry = replace(entry, status=DeliveryStatus.DELIVERED, delivered_at=now)
        ports.deliveries.save_delivery(entry)
        log.info("webhook delivered", extra={**where, "attempts": entry.attempts})
        return entry
    if result.outcome is SendOutcome.PERMANENT:
        entry = replace(entry, status=DeliveryStatus.FAILED)
        ports.deliveries.save_delivery(entry)
        log.error(
            "webhook refused permanently",
            extra={**where, "status_code": result.status_code, "error": result.error},
        )
        return entry
    ports.deliveries.save_delivery(entry)
    log.warning(
        "webhook failed, will retry",
        extra={**where, "attempts": entry.attempts, "error": result.error},
    )
    raise DeliveryRetryable(result.error or "retryable failure")


def mark_dead_lettered(
    message: NotificationMessage, delivery_attempts: int | None, ports: NotifyPorts
) -> Delivery:
    """Pub/Sub gave up on this notification: record it ``failed`` so it shows.

    A delivery that did succeed (a last attempt answered after Pub/Sub stopped
    waiting) is left as it is.
    """
    previous = ports.deliveries.get_delivery(message.report_id, message.notification_id)
    if previous is not None and previous.status in SETTLED:
        return previous
    attempts = f"{delivery_attempts} attempts" if delivery_attempts else "the maximum attempts"
    reason = f"dead-lettered after {attempts}"
    if previous is not None and previous.last_error:
        reason += f"; last error: {previous.last_error}"
    entry = replace(
        previous
        or Delivery(
            notification_id=message.notification_id,
            report_id=message.report_id,
            agency_id=message.agency_id,
            kind=message.kind,
            status=DeliveryStatus.FAILED,
        ),
        status=DeliveryStatus.FAILED,
        last_error=reason,
    )
    ports.deliveries.save_delivery(entry)
    log.error(
        "notification dead-lettered",
        extra={
            "notification_id": message.notification_id,
            "report_id": message.report_id,
            "agency_id": message.agency_id,
            "delivery_attempts": delivery_attempts,
        },
    )
    return entry


# --- the Pub/Sub edge -----------------------------------------------------------------


def notification_message(pushed: Pushed) -> NotificationMessage:
    """The notification a push carries, or :class:`MalformedPush` saying why not."""
    try:
        return NotificationMessage.model_validate(pushed.data)
    except ValidationError as exc:
        raise invalid("notification", exc) from None
