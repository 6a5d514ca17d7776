"""Telling agencies and reporters what they must know, once, by the right channel.

Fed by two topics through the outbox; *who* is told *what* is decided where the
lifecycle event is (shared.usecases.notices), never here:

- ``agency-notifications`` (:class:`NotificationMessage`): a report dispositioned or
  forwarded to the agency, returned for it to route, the reporter's reply, hold answer
  or reopening, an escalation tier naming it (``data``: tier, clock, due date, how
  overdue, the Ombudsman's dossier link), the daily figures (about no report). An
  agency is told by its signed webhook where it has one, else by one e-mail to all its
  addresses (Bahasa Indonesia), at once or, when it chose ``digest = "hourly"``, queued
  for the hourly digest (functions/digest); the daily figures always go at once.
- ``reporter-notifications`` (:class:`ReporterNotification`): accepted, on hold,
  followed up, resolved, closed, archived, the private link sent again. The reporter
  is told by e-mail and by SMS to the contacts in the identity (only the one a
  ``link.resend`` matched), in the language they submitted in.

Pub/Sub delivers at least once and retries what we refuse, so:

- the delivery log ``reports/{report_id}/deliveries/{notification_id}`` (for a
  notification about no report, ``deliveries/{notification_id}``) has a part per
  channel (attempts, outcome, times); a channel already accepted by the receiver, the
  relay or the gateway (or settled otherwise: permanently ``failed``, ``no_channel``,
  ``unsubscribed``, ``queued`` for the digest, ``skipped``) is never sent again, so
  three redeliveries give one webhook, one e-mail and one SMS;
- the outbox entry (``outbox/{notification_id}``) is notify's to settle: it is deleted
  in the write that records the first attempt, so until then the outbox sweeper
  publishes it again and a message lost on the way is not lost for good (see
  shared.topology.CONSUMER_SETTLED_TOPICS); from that attempt on Pub/Sub holds the
  message (its retries, then the dead-letter topic), and a sweeper still publishing it
  would add a copy, with retries of its own, every run a receiver stays down;
- a recipient who unsubscribed (shared.usecases.mail's link, the SMS stop link) is
  not sent to: the channel is recorded ``unsubscribed``;
- a retryable failure (HTTP 5xx/408/429, SMTP 4xx, a gateway's 5xx, a timeout, no
  connection, a relay or gateway not configured) is recorded ``retrying`` and raised:
  the function answers 500 and Pub/Sub retries with its exponential backoff, then
  dead-letters the message; :func:`mark_dead_lettered` then records ``failed`` so the
  failure shows (the agency API lists failed deliveries);
- a permanent refusal (other 4xx, SMTP 5xx, an invalid number, a message that cannot
  be composed) is recorded ``failed`` and acknowledged.

Privacy: a webhook carries the report as :func:`shared.domain.privacy.view` shows it
to the AGENCY audience (an anonymous reporter's identity is not even read); an agency's
e-mail is composed from a context with no slot for the reporter (shared.usecases.mail);
a reporter's contacts are read from the identity to send and stored nowhere else.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Annotated, Any, Literal, Self
from urllib.parse import quote, urlencode

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from shared.domain.privacy import Audience, ReporterIdentity, view
from shared.domain.report import Region, Report
from shared.domain.staff import link_token
from shared.ports import (
    SETTLED,
    AgencyChannel,
    ChannelDelivery,
    ContactPreferences,
    Delivery,
    DeliveryChannel,
    DeliveryStatus,
    NotifyPorts,
    OutboxMessage,
    OutgoingEmail,
    OutgoingSms,
    ReportStore,
    SendOutcome,
    SendResult,
    overall_status,
)
from shared.pubsub_push import Pushed, invalid
from shared.tokens import reporter_opt_out, reporter_token
from shared.usecases.mail import (
    MailRecipient,
    compose_email,
    compose_staff_email,
    unsubscribe_url,
)
from shared.usecases.sms import compose_sms, short_private_link
from shared.web.i18n import Lang

if TYPE_CHECKING:
    from shared.config import Settings
    from shared.reference import Reference

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
    return OutboxMessage.cloud_event(
        notification_id,
        topic,
        message.model_dump(mode="json"),
        type=ce_type,
        source=source,
        subject=subject,
        at=at,
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
    return OutboxMessage.cloud_event(
        notification_id,
        topic,
        message.model_dump(mode="json"),
        type=ce_type,
        source=source,
        subject=f"reports/{report_id}",
        at=at,
    )


StaffKind = Literal["staff.invitation", "staff.password_reset"]


class StaffNotification(BaseModel):
    """A staff member's one-time link to e-mail (on ``agency-notifications``, as
    :func:`staff_notification` makes it). It names the account and the link's random
    id, never the address or the token: notify reads the address from the account and
    derives the token from the id (shared.domain.staff.link_token)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    notification_id: Id
    kind: StaffKind
    agency_id: Id  # the account's: its log lists the delivery
    account_id: Id
    link_id: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]
    language: Lang = "id"

    @property
    def report_id(self) -> None:
        return None  # about no report: logged at deliveries/{notification_id}


def staff_notification(
    *,
    notification_id: str,
    kind: str,
    agency_id: str,
    account_id: str,
    link_id: str,
    topic: str,
    at: dt.datetime,
    ce_type: str,
    source: str,
    language: str = "id",
) -> OutboxMessage:
    """The outbox entry of one staff e-mail, checked as notify will read it."""
    message = StaffNotification.model_validate(
        {
            "notification_id": notification_id,
            "kind": kind,
            "agency_id": agency_id,
            "account_id": account_id,
            "link_id": link_id,
            "language": language,
        }
    )
    return OutboxMessage.cloud_event(
        notification_id,
        topic,
        message.model_dump(mode="json"),
        type=ce_type,
        source=source,
        subject=f"staff/{account_id}",
        at=at,
    )


Notification = NotificationMessage | ReporterNotification | StaffNotification

_NOTIFICATION: TypeAdapter[Notification] = TypeAdapter(
    Annotated[Notification, Field(discriminator="kind")]
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
        None if report.anonymous else reports.identity(message.report_id),
    )
    if message.kind == KIND_ESCALATED:
        body["escalation"] = message.data or {}
    return body


# --- one channel's attempt -------------------------------------------------------------


def _attempted(
    previous: ChannelDelivery | None,
    channel: DeliveryChannel,
    result: SendResult,
    now: dt.datetime,
    address: str | None = None,
) -> ChannelDelivery:
    """The channel's record after one more attempt that ended in ``result``."""
    status = {
        SendOutcome.DELIVERED: DeliveryStatus.DELIVERED,
        SendOutcome.PERMANENT: DeliveryStatus.FAILED,
        SendOutcome.RETRYABLE: DeliveryStatus.RETRYING,
    }[result.outcome]
    return ChannelDelivery(
        channel=channel,
        status=status,
        attempts=(previous.attempts if previous else 0) + 1,
        address=address,
        last_status_code=result.status_code,
        last_error=result.error,
        first_attempt_at=(previous.first_attempt_at if previous else None) or now,
        last_attempt_at=now,
        delivered_at=now if status is DeliveryStatus.DELIVERED else None,
    )


def _not_sent(
    channel: DeliveryChannel, status: DeliveryStatus, why: str | None, address: str | None = None
) -> ChannelDelivery:
    return ChannelDelivery(channel=channel, status=status, address=address, last_error=why)


def _send_email(
    previous: ChannelDelivery | None,
    compose: Callable[[], OutgoingEmail],
    ports: NotifyPorts,
    now: dt.datetime,
    address: str | None,
) -> ChannelDelivery:
    """Compose and send one e-mail. A message that cannot be composed is a permanent
    failure (no retry changes the data); a relay that is not configured a retryable one
    (configuring it fixes it)."""
    if not ports.settings.smtp_host:
        missing = SendResult(SendOutcome.RETRYABLE, error="LAPOR_SMTP_HOST is not set")
        return _attempted(previous, "email", missing, now, address)
    try:
        email = compose()
    except ValueError as exc:
        log.error("e-mail not composed", extra={"error": str(exc)[:300]})
        refused = SendResult(SendOutcome.PERMANENT, error=_short(exc))
        return _attempted(previous, "email", refused, now, address)
    result = ports.email.send(email)
    return _attempted(previous, "email", _without(result, *email.recipients), now, address)


def _without(result: SendResult, *contacts: str) -> SendResult:
    """``result`` with ``contacts`` taken out of its error: a relay or a gateway may quote
    the address or number it refused, and the log is read by staff who must not see a
    reporter's contact (an agency's addresses show apart, only to its own staff)."""
    if not result.error:
        return result
    error = result.error
    for form in {form for c in contacts for form in (c, c.removeprefix("+"))}:
        error = re.sub(re.escape(form), "<recipient>", error, flags=re.IGNORECASE)
    return replace(result, error=error)


def _short(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]


def _record(
    message: Notification,
    previous: Delivery | None,
    channels: Sequence[ChannelDelivery],
    now: dt.datetime,
    *,
    fallback: DeliveryStatus = DeliveryStatus.NO_CHANNEL,
    error: str | None = None,
    report: Report | None = None,
) -> Delivery:
    """The notification's log entry with these channels, saved by the caller (with the
    report's code and title: a digest lists them without reading the report)."""
    return Delivery(
        notification_id=message.notification_id,
        report_id=message.report_id,
        agency_id=None if isinstance(message, ReporterNotification) else message.agency_id,
        kind=message.kind,
        status=overall_status(channels) or fallback,
        channels=tuple(channels),
        last_error=error,
        updated_at=now,
        seq=message.seq if isinstance(message, ReporterNotification) else _seq_of(message),
        tracking_code=(report.tracking_code if report else None)
        or getattr(message, "tracking_code", None),
        title=report.title if report else (previous.title if previous else None),
    )


# How long one attempt holds its notification against a copy pushed at the same time:
# longer than an attempt may take (the push's 60 s ack deadline), so a copy is refused
# and retried by Pub/Sub, and short enough that an attempt that died mid-send (its
# claim never released) delays the next by minutes, not hours.
SEND_HOLD = dt.timedelta(minutes=2)


def _claim(
    report_id: str | None,
    notification_id: str,
    ports: NotifyPorts,
    now: dt.datetime,
    where: Mapping[str, Any],
) -> Delivery | None:
    """The entry so far, once this attempt holds the right to send; raise
    DeliveryRetryable while another attempt is sending the same notification."""
    claim = ports.deliveries.claim_delivery(report_id, notification_id, now, SEND_HOLD)
    if not claim.granted:
        log.info("notification being sent by another attempt", extra=where)
        raise DeliveryRetryable("another attempt is sending this notification")
    return claim.previous


def _settle(entry: Delivery, ports: NotifyPorts, where: Mapping[str, Any]) -> Delivery:
    """Save the entry and, in the same write, delete the notification's outbox entry
    (its id is the notification's), even when a channel is still to be retried: Pub/Sub
    retries it from here (module docstring). Raise DeliveryRetryable then."""
    retrying = [c for c in entry.channels if c.status is DeliveryStatus.RETRYING]
    ports.deliveries.save_delivery(entry, settles=entry.notification_id)
    if retrying:
        log.warning(
            "notification failed, will retry",
            extra={**where, "channels": [c.channel for c in retrying],
                   "error": retrying[0].last_error},
        )  # fmt: skip
        raise DeliveryRetryable(retrying[0].last_error or "retryable failure")
    log.info(
        "notification settled",
        extra={**where, "status": entry.status.value,
               "channels": {c.channel: c.status.value for c in entry.channels}},
    )  # fmt: skip
    return entry


def _seq_of(message: NotificationMessage | StaffNotification) -> int | None:
    """The event an agency notification tells of: ``{report_id}.{seq}[.{recipient}]``."""
    if message.report_id is None:
        return None
    rest = message.notification_id.removeprefix(f"{message.report_id}.")
    head = rest.split(".", 1)[0]
    return int(head) if head.isdigit() and rest != message.notification_id else None


# --- agencies --------------------------------------------------------------------------


def notify_agency(message: NotificationMessage, ports: NotifyPorts) -> Delivery:
    """Tell an agency: by its webhook where it has one, else by one e-mail to all its
    addresses (at once, or queued for its hourly digest). At most one successful send
    per notification; returns the log entry.

    Raises DeliveryRetryable after recording ``retrying`` when another try may work.
    """
    where = {
        "notification_id": message.notification_id,
        "report_id": message.report_id,
        "agency_id": message.agency_id,
        "kind": message.kind,
    }
    now = ports.clock.now()
    previous = _claim(message.report_id, message.notification_id, ports, now, where)
    if previous is not None and previous.status in SETTLED:
        log.info("notification already settled", extra={**where, "status": previous.status})
        return previous
    report = ports.store.get(message.report_id) if message.report_id else None
    if message.report_id is not None and report is None:
        # Every use case commits the report before it publishes: not a race, log it.
        log.error("notification for a report that does not exist", extra=where)
        entry = _record(message, previous, (), now, fallback=DeliveryStatus.FAILED,
                        error="report not found")  # fmt: skip
        return _settle(entry, ports, where)
    if report is not None and not _still_theirs(message, report):
        # Re-routed (Bukan Wewenang) or forwarded elsewhere before we got here: the
        # agency may no longer see it. (Escalations and the rest tell whom they name.)
        entry = _record(message, previous, (), now, fallback=DeliveryStatus.SKIPPED,
                        error="report is no longer with this agency", report=report)  # fmt: skip
        return _settle(entry, ports, where)

    channel = ports.channels.agency_channel(message.agency_id)
    if channel is None:
        entry = _record(message, previous, (), now, error="unknown agency", report=report)
        return _settle(entry, ports, where)
    if channel.webhook_url:
        sent = _send_webhook(message, channel, previous, ports, now)
    elif channel.emails:
        sent = _email_agency(message, report, channel, previous, ports, now)
    else:
        sent = None
    if sent is None:
        entry = _record(message, previous, (), now, error="no webhook and no e-mail address",
                        report=report)  # fmt: skip
    else:
        entry = _record(message, previous, (sent,), now, report=report)
    return _settle(entry, ports, where)


def _still_theirs(message: NotificationMessage, report: Report) -> bool:
    if message.kind == KIND_DISPOSITIONED:
        return report.agency_id == message.agency_id
    if message.kind == KIND_FORWARDED:
        return report.unit_id == message.agency_id
    return True


def _send_webhook(
    message: NotificationMessage,
    channel: AgencyChannel,
    previous: Delivery | None,
    ports: NotifyPorts,
    now: dt.datetime,
) -> ChannelDelivery:
    before = previous.channel("webhook") if previous else None
    assert channel.webhook_url is not None
    secrets = channel.signing_secrets(now)
    if not secrets:
        # Seeding makes every secret; a missing one is a fixable misconfiguration, so
        # keep retrying (and dead-letter, visibly) rather than send unsigned.
        log.error("no webhook signing secret", extra={"agency_id": message.agency_id})
        missing = SendResult(SendOutcome.RETRYABLE, error="no signing secret for agency")
        return _attempted(before, "webhook", missing, now)
    payload = build_payload(message, ports.store)
    if payload is None:  # deleted between the two reads: nothing to tell
        return _attempted(
            before, "webhook", SendResult(SendOutcome.PERMANENT, error="report not found"), now
        )
    result = ports.sender.send(channel.webhook_url, secrets, message.notification_id, payload, now)
    return _attempted(before, "webhook", result, now)


def _email_agency(
    message: NotificationMessage,
    report: Report | None,
    channel: AgencyChannel,
    previous: Delivery | None,
    ports: NotifyPorts,
    now: dt.datetime,
) -> ChannelDelivery:
    """One message to every address of the agency that has not unsubscribed; the log
    shows them (to the agency's own staff only) as one delivery."""
    before = previous.channel("email") if previous else None
    recipients = agency_recipients(channel, ports.settings.token_secret, ports.preferences)
    if not recipients:
        unsubscribed = "every address unsubscribed"
        return _not_sent("email", DeliveryStatus.UNSUBSCRIBED, unsubscribed, shown(channel.emails))
    address = shown(r.address for r in recipients)
    if channel.digest and report is not None:
        # The hourly digest (functions/digest) sends it with the hour's others. The
        # daily figures are a summary already: they go at once.
        return _not_sent("email", DeliveryStatus.QUEUED, None, address)

    def compose() -> OutgoingEmail:
        context = agency_context(message, report, ports)
        return compose_email(
            message.kind, AGENCY_LANGUAGE, context, message.notification_id, recipients,
            settings=ports.settings,
        )  # fmt: skip

    return _send_email(before, compose, ports, now, address)


# Agencies are written to in Bahasa Indonesia (their templates carry English below it).
AGENCY_LANGUAGE: Lang = "id"


def agency_recipients(
    channel: AgencyChannel, token_secret: str, preferences: ContactPreferences
) -> list[MailRecipient]:
    """The agency's addresses that have not unsubscribed (one read each): an address
    stopped by its own link keeps its colleagues' mail going."""
    every = [MailRecipient.agency(a, channel.agency_id, token_secret) for a in channel.emails]
    return [one for one in every if not preferences.is_opted_out(one.opt_out)]


def shown(addresses: Iterable[str]) -> str:
    """An agency's addresses as the delivery log shows them to its staff."""
    return ", ".join(addresses)


def report_link(settings: Settings, report_id: str) -> str | None:
    """Where the agency's staff open the report: the agency API's detail."""
    base = settings.agency_url.rstrip("/")
    return f"{base}/api/v1/reports/{report_id}" if base.startswith("http") else None


def _agency_name(reference: Reference, agency_id: str | None) -> str | None:
    if agency_id is None:
        return None
    return reference.agency(agency_id).name if reference.has_agency(agency_id) else agency_id


def agency_context(
    message: NotificationMessage, report: Report | None, ports: NotifyPorts
) -> dict[str, Any]:
    """What the agency's e-mail of ``message`` says: the report as the agency knows it,
    the event's own words, never anything of the reporter but what they wrote."""
    reference = ports.reference
    recipient = _agency_name(reference, message.agency_id) or message.agency_id
    data = message.data or {}
    if report is None:  # the daily figures
        periods = data.get("own") or data.get("national") or {}
        day = periods.get("day") or {}
        return {
            "agency_name": recipient,
            "day": data.get("day"),
            "received": day.get("received", 0),
            "followed_up": day.get("followed_up", 0),
            "resolved": day.get("resolved", 0),
            "overdue_now": periods.get("overdue_now", 0),
            "figures_link": data.get("url"),
        }
    base = {
        "agency_name": recipient,
        "tracking_code": report.tracking_code,
        "title": report.title,
        "report_link": report_link(ports.settings, report.id),
    }
    kind = message.kind
    if kind in (KIND_DISPOSITIONED, KIND_FORWARDED):
        return {
            **base,
            "report_type": report.type.value,
            "category": _category_label(reference, report.category),
            "description": report.description,
            "region": _place_label(reference, report.region),
            "due_on": report.resolve_due,
            "from_agency_name": _agency_name(reference, report.agency_id)
            if kind == KIND_FORWARDED
            else None,
        }
    if kind == KIND_ESCALATED:
        return {
            **base,
            "tier": data.get("tier"),
            "clock": data.get("clock"),
            "due_on": data.get("due_on"),
            "overdue_working_days": data.get("overdue_working_days", 0),
            "handling_agency_name": _agency_name(reference, report.agency_id),
            "dossier_url": data.get("dossier_url"),
        }
    if kind == "report.returned":  # the message says who returned it and why
        return {
            **base,
            "from_agency_name": _agency_name(reference, data.get("returned_by")),
            "reason": data.get("reason"),
        }
    # The reporter's words: from the message when it carries them, else from the event
    # (a read of the timeline).
    if kind in ("report.reporter_replied", "report.hold_answered"):
        words = data.get("message") or _event_text(message, ports.store, "message")
        return {**base, "message": words}
    if kind == "report.reopened":
        return {**base, "reason": data.get("reason") or _event_text(message, ports.store, "reason")}
    raise ValueError(f"no e-mail for {kind!r}")


def _place_label(reference: Reference, region: Region) -> str | None:
    """Where it happened, as an address reads: the village, its district, then the
    regency (or the province), each by name where the reference knows it. The agency
    may see the place exactly; the free-text address is left to its console page."""
    codes = (
        region.village_code,
        region.district_code,
        region.regency_code or region.province_code,
    )
    names = [reference.place_name(code) for code in codes if code and reference.has_place(code)]
    return ", ".join(names) or None


def _category_label(reference: Reference, category_id: str) -> str:
    return (
        reference.category(category_id).name_id
        if reference.has_category(category_id)
        else category_id
    )


def _event_text(message: NotificationMessage, store: ReportStore, field: str) -> str | None:
    """The ``message`` or ``reason`` of the timeline event the notification tells of."""
    seq = _seq_of(message)
    if message.report_id is None or seq is None:
        return None
    event = next((e for e in store.timeline(message.report_id) if e.seq == seq), None)
    return None if event is None else getattr(event, field)


# --- reporters -------------------------------------------------------------------------


def notify_reporter(message: ReporterNotification, ports: NotifyPorts) -> Delivery:
    """Tell the reporter: by e-mail and by SMS to the contacts they gave (the one a
    ``link.resend`` matched), in their language, except a channel they stopped. Each
    channel at most once successfully; returns the log entry.

    Raises DeliveryRetryable after recording when a channel may work on another try.
    """
    where = {
        "notification_id": message.notification_id,
        "report_id": message.report_id,
        "kind": message.kind,
    }
    now = ports.clock.now()
    previous = _claim(message.report_id, message.notification_id, ports, now, where)
    if previous is not None and previous.status in SETTLED:
        log.info("notification already settled", extra={**where, "status": previous.status})
        return previous
    report = ports.store.get(message.report_id)
    if report is not None and report.contact_erased is not None:
        # Erased by the reporter or after the retention period: nobody to tell, by design.
        log.info("reporter notification: contact details erased", extra=where)
        entry = _record(message, previous, (), now, report=report, error="contact erased")
        return _settle(entry, ports, where)
    identity = ports.store.identity(message.report_id) if report else None
    if report is None or identity is None:
        log.error("reporter notification for a report that does not exist", extra=where)
        entry = _record(message, previous, (), now, fallback=DeliveryStatus.FAILED,
                        error="report not found")  # fmt: skip
        return _settle(entry, ports, where)
    contacts: dict[ReporterChannel, str | None] = {"email": identity.email, "sms": identity.phone}
    wanted = [message.channel] if message.channel else [c for c in contacts if contacts[c]]
    channels: list[ChannelDelivery] = []
    for name in wanted:
        before = previous.channel(name) if previous else None
        if before is not None and before.status in SETTLED:
            channels.append(before)  # accepted (or settled) before: never sent twice
            continue
        address = contacts[name]
        if not address:
            channels.append(_not_sent(name, DeliveryStatus.NO_CHANNEL, "no such contact"))
        elif ports.preferences.is_opted_out(reporter_opt_out(message.report_id, name)):
            channels.append(_not_sent(name, DeliveryStatus.UNSUBSCRIBED, None))
        elif name == "email":
            channels.append(_email_reporter(message, report, identity, address, before, ports, now))
        else:
            channels.append(_sms_reporter(message, report, identity, address, before, ports, now))
    entry = _record(message, previous, channels, now, report=report,
                    error=None if channels else "the reporter left no contact")  # fmt: skip
    return _settle(entry, ports, where)


def private_link(settings: Settings, report: Report) -> str:
    """The reporter's tracking page, with the token that makes it theirs."""
    token = reporter_token(settings.token_secret, report.id)
    base = settings.public_base_url.rstrip("/")
    return f"{base}/lacak/{quote(report.tracking_code)}?{urlencode({'token': token})}"


def reporter_context(
    message: ReporterNotification, report: Report, ports: NotifyPorts
) -> dict[str, Any]:
    """What the reporter's e-mail of ``message`` says (their identity is not in it: they
    know who they are, and the message may be read by someone else)."""
    base = {
        "tracking_code": report.tracking_code,
        "title": report.title,
        "private_link": private_link(ports.settings, report),
    }
    data = message.data
    handling = _agency_name(ports.reference, report.unit_id or report.agency_id)
    if message.kind == "report.on_hold":
        return {**base, "reason": data.reason or "-", "agency_name": handling}
    if message.kind in ("report.followed_up", "report.resolved"):
        return {
            **base,
            "agency_name": handling or "-",
            "message": data.message or "-",
            "confirm_by": report.auto_close_due if message.kind == "report.resolved" else None,
        }
    if message.kind == "report.archived":
        return {**base, "reason": data.reason}
    return base


def _email_reporter(
    message: ReporterNotification,
    report: Report,
    identity: ReporterIdentity,
    address: str,
    before: ChannelDelivery | None,
    ports: NotifyPorts,
    now: dt.datetime,
) -> ChannelDelivery:
    def compose() -> OutgoingEmail:
        return compose_email(
            message.kind, identity.language, reporter_context(message, report, ports),
            message.notification_id, MailRecipient.reporter(address, report.id),
            settings=ports.settings,
        )  # fmt: skip

    return _send_email(before, compose, ports, now, None)


def _sms_reporter(
    message: ReporterNotification,
    report: Report,
    identity: ReporterIdentity,
    phone: str,
    before: ChannelDelivery | None,
    ports: NotifyPorts,
    now: dt.datetime,
) -> ChannelDelivery:
    settings = ports.settings
    if not settings.sms_base_url:
        missing = SendResult(SendOutcome.RETRYABLE, error="LAPOR_SMS_BASE_URL is not set")
        return _attempted(before, "sms", missing, now)
    try:
        context = {
            "code": report.tracking_code,
            "link": short_private_link(
                settings.public_base_url, settings.token_secret, report.id, report.tracking_code
            ),
            "stop_link": unsubscribe_url(settings, reporter_opt_out(report.id, "sms")),
            "message": message.data.message or "",
            "reason": message.data.reason or "",
        }
        text = compose_sms(message.kind, identity.language, context)
    except ValueError as exc:
        log.error("SMS not composed", extra={"error": str(exc)[:300]})
        refused = SendResult(SendOutcome.PERMANENT, error=_short(exc))
        return _attempted(before, "sms", refused, now)
    # The gateway keeps the reference unique: a resend of this notification is refused
    # there as a duplicate, which counts as delivered.
    reference = f"{message.notification_id}.sms"
    result = ports.sms.send(OutgoingSms(to=phone, text=text, reference=reference))
    return _attempted(before, "sms", _without(result, phone), now)


# --- staff members --------------------------------------------------------------------

_STAFF_PATHS = {"staff.invitation": "/undangan/", "staff.password_reset": "/sandi/"}


def staff_link(settings: Settings, message: StaffNotification) -> str:
    """The console page the link opens, with the token derived from the link's id."""
    base = settings.console_url.rstrip("/")
    if not base.startswith("http"):
        raise ValueError("LAPOR_CONSOLE_URL must be set: a staff e-mail links to the console")
    token = link_token(settings.token_secret, message.link_id)
    return base + _STAFF_PATHS[message.kind] + token


def notify_staff(message: StaffNotification, ports: NotifyPorts) -> Delivery:
    """E-mail a staff member their invitation or password-reset link, at most once
    successfully; an account deactivated (or gone) since is not sent it."""
    where = {
        "notification_id": message.notification_id,
        "account_id": message.account_id,
        "kind": message.kind,
    }
    now = ports.clock.now()
    previous = _claim(None, message.notification_id, ports, now, where)
    if previous is not None and previous.status in SETTLED:
        log.info("notification already settled", extra={**where, "status": previous.status})
        return previous
    account = ports.staff.account(message.account_id)
    if account is None or not account.active:
        entry = _record(message, previous, (), now, fallback=DeliveryStatus.SKIPPED,
                        error="the account is deactivated or gone")  # fmt: skip
        return _settle(entry, ports, where)
    settings = ports.settings

    def compose() -> OutgoingEmail:
        invitation = message.kind == "staff.invitation"
        context = {
            "name": account.name,
            "agency_name": _agency_name(ports.reference, account.agency_id),
            "role": account.role.value,
            "link": staff_link(settings, message),
            "valid_days": settings.staff_invitation_days if invitation else None,
            "valid_minutes": None if invitation else settings.staff_reset_minutes,
        }
        return compose_staff_email(
            message.kind, message.language, context, message.notification_id, account.email,
            settings=settings,
        )  # fmt: skip

    # The address is left out of the log: it is the account's, shown on the staff page.
    sent = _send_email(previous.channel("email") if previous else None, compose, ports, now, None)
    return _settle(_record(message, previous, (sent,), now), ports, where)


# --- either --------------------------------------------------------------------------


def deliver(message: Notification, ports: NotifyPorts) -> Delivery:
    """Deliver one notification of either topic (see :func:`notify_agency` and
    :func:`notify_reporter`)."""
    if isinstance(message, ReporterNotification):
        return notify_reporter(message, ports)
    if isinstance(message, StaffNotification):
        return notify_staff(message, ports)
    return notify_agency(message, ports)


def mark_dead_lettered(
    message: Notification, delivery_attempts: int | None, ports: NotifyPorts
) -> Delivery:
    """Pub/Sub gave up on this notification: record each channel not yet settled as
    ``failed`` so it shows. What was accepted (a last attempt answered after Pub/Sub
    stopped waiting, the other channel of a reporter's) is left as it is."""
    previous = ports.deliveries.get_delivery(message.report_id, message.notification_id)
    if previous is not None and previous.status in SETTLED:
        return previous
    attempts = f"{delivery_attempts} attempts" if delivery_attempts else "the maximum attempts"
    reason = f"dead-lettered after {attempts}"
    last = next(
        (c.last_error for c in (previous.channels if previous else ()) if c.last_error), None
    )
    if last:
        reason += f"; last error: {last}"
    channels = [
        c if c.status in SETTLED else replace(c, status=DeliveryStatus.FAILED)
        for c in (previous.channels if previous else ())
    ]
    entry = _record(message, previous, channels, ports.clock.now(),
                    fallback=DeliveryStatus.FAILED, error=reason)  # fmt: skip
    ports.deliveries.save_delivery(entry, settles=entry.notification_id)
    log.error(
        "notification dead-lettered",
        extra={
            "notification_id": message.notification_id,
            "report_id": message.report_id,
            "kind": message.kind,
            "delivery_attempts": delivery_attempts,
        },
    )
    return entry


# --- the Pub/Sub edge -----------------------------------------------------------------


def notification_message(pushed: Pushed) -> Notification:
    """The notification a push carries (an agency's or a reporter's, told apart by its
    kind), or :class:`MalformedPush` saying why not."""
    try:
        return _NOTIFICATION.validate_python(pushed.data)
    except ValidationError as exc:
        raise invalid("notification", exc) from None
