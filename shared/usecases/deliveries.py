"""What people see of the notification delivery log (written by notify and the digest).

- Agency staff see a report's deliveries in its detail, and admins the failed ones
  (dead-lettered, refused for good) in a list: which notification, to whom, on which
  channel, its outcome, attempts and times. An agency's e-mail address is shown only to
  that agency's own staff. Nothing else identifies a recipient: a webhook's URL and
  secret are configuration, never in the log, and a reporter's contacts are read from
  the identity to send and stored nowhere else (errors quoting one are cleaned by
  notify before they are stored).
- The reporter sees on their private tracking page when they were told and how ("Anda
  diberi tahu lewat e-mail"), under the event it was about, never the address.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from shared.domain.report import Action, NotPermitted, Role
from shared.ports import AgencyPorts, ChannelDelivery, Delivery, DeliveryStatus

if TYPE_CHECKING:  # the agency use case shows deliveries in its detail
    from shared.usecases.agency import Caller

MAX_LIMIT = 100


def _moment(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def _channel_view(part: ChannelDelivery, show_address: bool) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "channel": part.channel,
        "status": part.status.value,
        "attempts": part.attempts,
        "last_status_code": part.last_status_code,
        "last_error": part.last_error,
        "first_attempt_at": _moment(part.first_attempt_at),
        "last_attempt_at": _moment(part.last_attempt_at),
        "delivered_at": _moment(part.delivered_at),
        "digest_id": part.digest_id,
    }
    if show_address and part.address:
        shown["address"] = part.address
    return shown


def delivery_view(delivery: Delivery, viewer_agency_id: str | None) -> dict[str, Any]:
    """One delivery as staff of ``viewer_agency_id`` see it (the address of an e-mail
    to that agency, and to no other)."""
    own = delivery.agency_id is not None and delivery.agency_id == viewer_agency_id
    return {
        "notification_id": delivery.notification_id,
        "report_id": delivery.report_id,
        "tracking_code": delivery.tracking_code,
        "kind": delivery.kind,
        "recipient": delivery.recipient,
        "agency_id": delivery.agency_id,
        "status": delivery.status.value,
        "attempts": delivery.attempts,
        "last_error": delivery.last_error,
        "first_attempt_at": _moment(delivery.first_attempt_at),
        "last_attempt_at": _moment(delivery.last_attempt_at),
        "delivered_at": _moment(delivery.delivered_at),
        "updated_at": _moment(delivery.updated_at),
        "channels": [_channel_view(part, own) for part in delivery.channels],
    }


def failed_deliveries(
    caller: Caller, ports: AgencyPorts, *, limit: int = 25, after: tuple[str, str] | None = None
) -> tuple[list[dict[str, Any]], tuple[str, str] | None]:
    """The failed deliveries the caller answers for, last changed first: every one for
    the national admin, those to their own agency for an agency admin. A unit officer
    routes nothing and fixes no address: NotPermitted."""
    if caller.role is Role.NATIONAL_ADMIN:
        agency_id = None
    elif caller.role is Role.AGENCY_ADMIN:
        agency_id = caller.agency_id
    else:
        raise NotPermitted(caller.role, Action.DISPOSITION)
    page = ports.deliveries.failed_deliveries(agency_id, max(1, min(limit, MAX_LIMIT)), after)
    shown = [
        delivery_view(d, caller.agency_id)
        for d in page.deliveries
        # The query filters; this is the rule, applied again.
        if d.status is DeliveryStatus.FAILED and (agency_id is None or d.agency_id == agency_id)
    ]
    return shown, page.next_after


def reporter_notices(deliveries: Sequence[Delivery]) -> list[dict[str, Any]]:
    """When and how the reporter was told, for their tracking page: one line per
    notification that reached them, with the channels that accepted it (``email``,
    ``sms``) and the event it was about (``seq``; None for a link sent again)."""
    notices = []
    for delivery in deliveries:
        if delivery.recipient != "reporter":
            continue
        reached = [
            part
            for part in delivery.channels
            if part.status is DeliveryStatus.DELIVERED and part.delivered_at
        ]
        if not reached:
            continue
        notices.append(
            {
                "seq": delivery.seq,
                "kind": delivery.kind,
                "at": _moment(min(p.delivered_at for p in reached if p.delivered_at)),
                "channels": [part.channel for part in reached],
            }
        )
    return sorted(notices, key=lambda n: (n["at"] or "", n["seq"] or 0))
