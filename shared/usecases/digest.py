"""The hourly digest: one e-mail an hour to each agency that asked for it
(``digest = "hourly"`` in shared/reference/agencies.toml), listing what notify queued
for it since the last one.

Notify records such a notification ``queued`` in the report's delivery log (the
e-mail channel, with the report's code and title); this run, scheduled every hour
(shared.topology.SCHEDULES, the ``digest`` function), collects each such agency's
queued items and sends them as one message to all the agency's addresses, composed
from the ``agency.digest`` template (shared.usecases.mail). The digest's record
``digests/{agency}.{hour}`` and every item's delivery are written in ONE commit once
the relay answered, so:

- one digest per agency and hour: a run finding the hour's digest sent (a retried or a
  second run of the same hour) leaves that agency's items for the next hour;
- an item is never listed in two digests: it is marked sent in the commit that records
  the digest;
- a relay that fails for now (4xx, no connection) leaves the items queued and records
  the attempt: the next run (Cloud Scheduler's retry of this one, or the next hour)
  sends them, with the same Message-ID within the hour;
- a relay that refuses for good (5xx), addresses that all unsubscribed or an agency
  with no address settles the items ``failed`` or ``unsubscribed``, so they show.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any
from zoneinfo import ZoneInfo

from shared.ports import (
    ChannelDelivery,
    Delivery,
    DeliveryStatus,
    Digest,
    DigestPorts,
    SendOutcome,
    SendResult,
    overall_status,
)
from shared.usecases.mail import compose_email
from shared.usecases.notify import AGENCY_LANGUAGE, agency_recipients, report_link, shown

log = logging.getLogger(__name__)

DIGEST_KIND = "agency.digest"
# Items one digest lists: the commit that marks them holds them and the digest record
# (Firestore's 500 writes per commit), and one e-mail should stay readable. More wait
# for the next hour.
MAX_ITEMS = 200


@dataclass
class DigestRun:
    """What one run did, for the function's answer and the logs."""

    hour: dt.datetime
    sent: int = 0  # digests accepted by the relay
    items: int = 0  # notifications they listed
    outcomes: Counter[str] = field(default_factory=Counter)  # per agency with items

    def as_json(self) -> dict[str, Any]:
        return {
            "hour": self.hour.isoformat(),
            "sent": self.sent,
            "items": self.items,
            "agencies": dict(sorted(self.outcomes.items())),
        }


def digest_hour(moment: dt.datetime, timezone: str) -> dt.datetime:
    """The start of the local hour ``moment`` falls in: the digest's hour."""
    return moment.astimezone(ZoneInfo(timezone)).replace(minute=0, second=0, microsecond=0)


def run_digests(hour: dt.datetime, ports: DigestPorts) -> DigestRun:
    """Send this hour's digest of every agency that chose one and has queued items."""
    run = DigestRun(hour)
    for agency in ports.reference.agencies:
        if agency.notification.digest != "hourly":
            continue
        outcome = send_digest(agency.id, hour, ports)
        if outcome is None:
            continue
        run.outcomes[outcome.status.value] += 1
        if outcome.status is DeliveryStatus.DELIVERED:
            run.sent += 1
            run.items += len(outcome.notification_ids)
    log.info("digests run", extra=run.as_json())
    return run


def send_digest(agency_id: str, hour: dt.datetime, ports: DigestPorts) -> Digest | None:
    """One agency's digest of ``hour``, as recorded; None when there was nothing to do
    (nothing queued, or the hour's digest went already). Reads: the queued items (one
    each, at least one), the hour's digest record, the channel (2), the opt-outs (1 per address)."""
    items = ports.digests.queued_items(agency_id, MAX_ITEMS)
    if not items:
        return None
    where = {"agency_id": agency_id, "hour": hour.isoformat(), "items": len(items)}
    earlier = ports.digests.digest(agency_id, hour)
    if earlier is not None and earlier.status is not DeliveryStatus.RETRYING:
        log.info("this hour's digest is done; the rest waits for the next", extra=where)
        return None
    now = ports.clock.now()
    items.sort(key=lambda d: (d.updated_at or now, d.notification_id))
    digest = Digest(
        agency_id=agency_id,
        hour=hour,
        status=DeliveryStatus.RETRYING,
        notification_ids=tuple(d.notification_id for d in items),
        attempts=(earlier.attempts if earlier else 0) + 1,
    )
    channel = ports.channels.agency_channel(agency_id)
    if channel is None or not channel.emails:
        result = SendResult(SendOutcome.PERMANENT, error="the agency has no e-mail address")
        return _settle(digest, items, result, None, ports, now, where)
    recipients = agency_recipients(channel, ports.settings.token_secret, ports.preferences)
    if not recipients:
        return _settle(digest, items, None, shown(channel.emails), ports, now, where)
    address = shown(one.address for one in recipients)
    if not ports.settings.smtp_host:
        result = SendResult(SendOutcome.RETRYABLE, error="LAPOR_SMTP_HOST is not set")
        return _settle(digest, items, result, address, ports, now, where)
    reference = ports.reference
    context = {
        "agency_name": reference.agency(agency_id).name
        if reference.has_agency(agency_id)
        else agency_id,
        "items": [
            {
                "kind": item.kind,
                "tracking_code": item.tracking_code or "-",
                "title": item.title or "-",
                "report_link": report_link(ports.settings, item.report_id)
                if item.report_id
                else None,
            }
            for item in items
        ],
    }
    try:
        email = compose_email(
            DIGEST_KIND, AGENCY_LANGUAGE, context, digest.id, recipients, settings=ports.settings
        )
    except ValueError as exc:
        log.error("digest not composed", extra={**where, "error": str(exc)[:300]})
        result = SendResult(SendOutcome.PERMANENT, error=f"{type(exc).__name__}: {exc}"[:300])
        return _settle(digest, items, result, address, ports, now, where)
    return _settle(digest, items, ports.email.send(email), address, ports, now, where)


def _settle(
    digest: Digest,
    items: list[Delivery],
    result: SendResult | None,  # None: every address unsubscribed, nothing was sent
    address: str | None,
    ports: DigestPorts,
    now: dt.datetime,
    where: dict[str, Any],
) -> Digest:
    """Record the digest and, unless it is to be tried again, its items, in one commit."""
    code: int | None = None
    error: str | None = "every address unsubscribed"
    status = DeliveryStatus.UNSUBSCRIBED
    if result is not None:
        status = {
            SendOutcome.DELIVERED: DeliveryStatus.DELIVERED,
            SendOutcome.PERMANENT: DeliveryStatus.FAILED,
            SendOutcome.RETRYABLE: DeliveryStatus.RETRYING,
        }[result.outcome]
        code, error = result.status_code, result.error
    recorded = replace(
        digest,
        status=status,
        last_status_code=code,
        last_error=error,
        sent_at=now if status is DeliveryStatus.DELIVERED else None,
    )
    if status is DeliveryStatus.RETRYING:
        ports.digests.save_digest(recorded, ())  # the items stay queued for the next run
        log.warning("digest failed, its items wait for the next run", extra={**where,
                    "error": error})  # fmt: skip
        return recorded
    attempted = result is not None and address is not None
    sent = [_item_after(item, recorded, address, attempted, now) for item in items]
    ports.digests.save_digest(recorded, sent)
    log.info("digest settled", extra={**where, "status": status.value})
    return recorded


def _item_after(
    item: Delivery, digest: Digest, address: str | None, attempted: bool, now: dt.datetime
) -> Delivery:
    """The item's delivery once its digest settled: its e-mail part is the digest's."""
    before = item.channel("email")
    part = ChannelDelivery(
        channel="email",
        status=digest.status,
        attempts=(before.attempts if before else 0) + (1 if attempted else 0),
        address=address or (before.address if before else None),
        last_status_code=digest.last_status_code,
        last_error=digest.last_error,
        first_attempt_at=(before.first_attempt_at if before else None) or now,
        last_attempt_at=now,
        delivered_at=digest.sent_at,
        digest_id=digest.id,
    )
    channels = (*(c for c in item.channels if c.channel != "email"), part)
    return replace(
        item, channels=channels, status=overall_status(channels) or digest.status, updated_at=now
    )
