"""Cloud Function ``notify``: an ``agency-notifications`` message -> a signed webhook.

Pushed by two subscriptions: ``notify`` (the notification itself) and
``notify-dead-letter`` (the same message, after Pub/Sub gave up on it). Pub/Sub adds
``CloudPubSubDeadLetterSource*`` attributes to a dead-lettered message, which is how
this one entry point tells them apart (functions-framework drops the push envelope's
``subscription`` field, so that cannot be used). What Pub/Sub gets back:
- a malformed message is logged at ERROR and acknowledged (return normally);
- a retryable failure (agency 5xx/408/429, timeout, no connection) raises, so the
  function answers 500 and Pub/Sub retries with backoff, then dead-letters.
Everything else lives in ``shared.usecases.notify``.
"""

from __future__ import annotations

import logging

import functions_framework
from cloudevents.http import CloudEvent

from shared import wiring
from shared.logging import event_entry
from shared.pubsub_push import MalformedPush, read_push
from shared.topology import AGENCY_NOTIFICATIONS_DEAD_LETTER
from shared.usecases.notify import mark_dead_lettered, notification_message, notify_agency

log = logging.getLogger("lapor.notify")


@functions_framework.cloud_event
@event_entry
def notify(cloud_event: CloudEvent) -> None:
    source = cloud_event.get("source")
    try:
        pushed = read_push(cloud_event.data, source, AGENCY_NOTIFICATIONS_DEAD_LETTER)
        message = notification_message(pushed)
    except MalformedPush as exc:
        log.error(
            "malformed agency notification acknowledged",
            extra={"why": str(exc), "event_id": cloud_event.get("id")},
        )
        return
    if pushed.dead_lettered:
        mark_dead_lettered(message, pushed.delivery_attempts, wiring.notify_ports())
    else:
        notify_agency(message, wiring.notify_ports())  # DeliveryRetryable -> 500 -> retry
