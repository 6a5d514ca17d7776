"""Cloud Function ``notify``: a notification -> a webhook, an e-mail or an SMS.

Pushed by four subscriptions: ``notify`` (``agency-notifications``) and
``notify-reporter`` (``reporter-notifications``), and the same messages again through
``notify-dead-letter`` and ``notify-reporter-dead-letter`` once Pub/Sub gave up on
them. A message says by its kind which topic it is from; Pub/Sub adds
``CloudPubSubDeadLetterSource*`` attributes to a dead-lettered one (under Eventarc the
source names the dead-letter topic), which is how this one entry point tells them
apart (functions-framework drops the push envelope's ``subscription`` field). What
Pub/Sub gets back:
- a malformed message is logged at ERROR and acknowledged (return normally);
- a retryable failure (a receiver's 5xx/408/429, a relay's 4xx, a timeout, no
  connection) raises, so the function answers 500 and Pub/Sub retries with backoff,
  then dead-letters.
Everything else lives in ``shared.usecases.notify``.
"""

from __future__ import annotations

import logging

import functions_framework
from cloudevents.http import CloudEvent

from shared import wiring
from shared.logging import event_entry
from shared.pubsub_push import MalformedPush, is_dead_letter, read_push
from shared.topology import AGENCY_NOTIFICATIONS_DEAD_LETTER, REPORTER_NOTIFICATIONS_DEAD_LETTER
from shared.usecases.notify import deliver, mark_dead_lettered, notification_message
from shared.web.dispatch import answer_framework_errors

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
            "malformed notification acknowledged",
            extra={"why": str(exc), "event_id": cloud_event.get("id")},
        )
        return
    dead = pushed.dead_lettered or is_dead_letter(
        pushed.attributes, source, REPORTER_NOTIFICATIONS_DEAD_LETTER
    )
    if dead:
        mark_dead_lettered(message, pushed.delivery_attempts, wiring.notify_ports())
    else:
        deliver(message, wiring.notify_ports())  # DeliveryRetryable -> 500 -> retry


answer_framework_errors()
