""" "Lost your link?": the reporter's private link, sent again to the contact they gave.

The asker gives a tracking code and the e-mail address or phone number given at
submission. When both belong to one report, a ``link.resend`` notification for that
one channel goes out through the outbox (notify sends the private link to the stored
contact, never to what was typed). Whatever happened, the caller answers the same:
nothing tells whether the code exists or the contact matches.

- The same reads either way: the report by its code, then an identity (the report's,
  or for an unknown code a document that does not exist): two reads. The contact is
  compared by its keyed digest kept beside the sealed identity (shared.domain.contact):
  an identity sealed before digests were kept never matches until migrated
  (tools/seal_identities.py).
- Rate limits, both claimed by create preconditions like the submissions' slots (no
  read on the way in): each client may ask ``lost_link_client_limit`` times per
  ``lost_link_window_s`` (past it, :class:`RateLimited`: that says nothing about any
  report, it is claimed before any lookup); each report gets at most
  ``lost_link_report_daily_limit`` links a day (Asia/Jakarta), silently, because
  refusing would tell that the contact matched.
- A match writes and publishes, a mismatch does not; the caller evens out the answer's
  timing (``lost_link_min_response_s``).
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from dataclasses import dataclass
from typing import Literal

from shared.config import Settings
from shared.ports import Clock, Publisher, RateSlot, RateSlotTaken, SubmitStore
from shared.tokens import pseudonym
from shared.topology import REPORTER_NOTIFICATIONS
from shared.usecases.notify import reporter_notification
from shared.usecases.outbox import publish_committed
from shared.usecases.rate_limit import claim_client_slot

log = logging.getLogger(__name__)

LINK_RESEND = "id.lapor.link.resend.v1"
KIND = "link.resend"
SOURCE = "//lapor/functions/submit"
# A slot taken by someone else at the same moment costs one more try; rare.
_ATTEMPTS = 6


@dataclass(frozen=True)
class Contact:
    """What the asker typed, read: an e-mail address (as typed) or a phone number
    (normalised like the form's, +62...)."""

    channel: Literal["email", "sms"]
    value: str


def request_link_resend(
    code: str,
    contact: Contact,
    *,
    client_id: str,
    store: SubmitStore,
    publisher: Publisher,
    clock: Clock,
    settings: Settings,
) -> None:
    """Send the private link of the report ``code`` (a normalised tracking code) again
    to ``contact`` when it is the one given at submission; else do nothing. Raises
    RateLimited when the client has asked too often, before any lookup."""
    now = clock.now()
    claim_client_slot(
        store,
        purpose="lost-link",
        client_id=client_id,
        now=now,
        window_s=settings.lost_link_window_s,
        limit=settings.lost_link_client_limit,
        secret=settings.token_secret,
    )
    report = store.find_by_tracking_code(code)
    # An unknown code reads an identity too: one that does not exist. The match is on
    # the contact's keyed digest: this function cannot open identities.
    owner = report.id if report is not None else pseudonym(settings.token_secret, "decoy", code)
    matches = store.contact_matches(owner, contact.channel, contact.value)
    if report is None or not matches:
        log.info("link resend asked; nothing sent", extra={"tracking_code": code})
        return
    day = settings.calendar().local_date(now)
    window = f"resend:{report.id}:{day.isoformat()}"
    limit = settings.lost_link_report_daily_limit
    slot = secrets.randbelow(limit)
    for _ in range(_ATTEMPTS):
        message = reporter_notification(
            notification_id=f"{report.id}.resend.{day:%Y%m%d}{slot:02d}",
            kind=KIND,
            report_id=report.id,
            tracking_code=report.tracking_code,
            seq=None,
            channel=contact.channel,
            data=None,
            topic=REPORTER_NOTIFICATIONS,
            at=now,
            ce_type=LINK_RESEND,
            source=SOURCE,
        )
        try:
            # Kept two days: past the day it counts for, whatever the time zone.
            store.commit_link_resend(RateSlot(window, slot, now + dt.timedelta(days=2)), message)
            break
        except RateSlotTaken:
            free = sorted(set(range(limit)) - store.taken_rate_slots(window))
            if not free:
                log.info(
                    "link resend asked; the report's limit of the day is reached",
                    extra={"tracking_code": code},
                )
                return
            slot = secrets.choice(free)
    else:
        return
    # On failure the entry stays pending and the sweeper publishes it; notify settles it.
    publish_committed(publisher, (message,))
    log.info("link resend committed", extra={"tracking_code": code, "channel": contact.channel})
