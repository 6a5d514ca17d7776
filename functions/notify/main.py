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
from functools import cache

import functions_framework
from cloudevents.http import CloudEvent

from shared import topology, wiring
from shared.config import settings
from shared.logging import event_entry
from shared.pubsub_push import dead_letter_attempts, is_dead_letter
from shared.usecases.notify import (
    MalformedNotification,
    Ports,
    decode_push,
    mark_dead_lettered,
    notify_agency,
)

log = logging.getLogger("lapor.notify")


@cache
def _ports() -> Ports:
    # Made on the first message and kept for the instance: importing this file loads no
    # Google or HTTP client library (cold start is import time).
    from shared.adapters.firestore import FirestoreNotificationStore
    from shared.adapters.webhooks import HttpxWebhookSender

    store = FirestoreNotificationStore(wiring.firestore_client())
    return Ports(
        reports=wiring.report_store(),
        deliveries=store,
        channels=store,
        sender=HttpxWebhookSender(settings().webhook_timeout_s),
        clock=wiring.clock(),
    )


@functions_framework.cloud_event
@event_entry
def notify(cloud_event: CloudEvent) -> None:
    try:
        pushed = decode_push(cloud_event.data)
    except MalformedNotification as exc:
        log.error(
            "malformed agency notification acknowledged",
            extra={"why": str(exc), "event_id": cloud_event.get("id")},
        )
        return
    source = cloud_event.get("source")
    if is_dead_letter(pushed.attributes, source, topology.AGENCY_NOTIFICATIONS_DEAD_LETTER):
        mark_dead_lettered(pushed.message, dead_letter_attempts(pushed.attributes), _ports())
    else:
        notify_agency(pushed.message, _ports())  # DeliveryRetryable -> 500 -> retry
