"""Cloud Function ``route``: a ``report.submitted`` message (Pub/Sub push) -> disposition.

Before anything else it promotes the files the message announces (a submission's
``attachment_ids``, or a ``report.files_added`` message, which asks for nothing more):
the committing function does that itself, so this is the backstop for one that died
after its commit (shared.usecases.route.promote_announced).

Thin on purpose: reading the push lives in ``shared.pubsub_push``, the message and the
routing in ``shared.usecases.route``. What this file decides is the answer Pub/Sub gets:
- a message no retry can fix (not base64 JSON, fields missing, unknown report) is
  logged at ERROR with why and acknowledged (return normally);
- anything transient (Firestore or Pub/Sub unavailable, contention exhausted, the
  notification not yet published) raises, so Pub/Sub retries with backoff and, after
  the subscription's maximum attempts, dead-letters it;
- a dead-lettered message comes back here (subscription ``route-dead-letter``) and
  puts the report in the admin queue with the reason.
"""

from __future__ import annotations

import logging

import functions_framework
from cloudevents.http import CloudEvent

from shared import wiring
from shared.logging import event_entry
from shared.ports import ReportNotFound
from shared.pubsub_push import MalformedPush, read_push
from shared.topology import REPORT_SUBMITTED_DEAD_LETTER
from shared.usecases.route import (
    announced_files,
    promote_announced,
    route_report,
    submitted_message,
)
from shared.web.dispatch import answer_framework_errors

log = logging.getLogger("lapor.route")


@functions_framework.cloud_event
@event_entry
def route(cloud_event: CloudEvent) -> None:
    source = cloud_event.get("source")
    try:
        pushed = read_push(cloud_event.data, source, REPORT_SUBMITTED_DEAD_LETTER)
        files = announced_files(pushed)
        message = None if files.files_added else submitted_message(pushed)
    except MalformedPush as exc:
        log.error(
            "malformed report.submitted message acknowledged",
            extra={"why": str(exc), "event_id": cloud_event.get("id")},
        )
        return
    ports = wiring.route_ports()
    promote_announced(files, ports)
    if message is None:
        return
    try:
        route_report(message, ports)
    except ReportNotFound:
        log.error(
            "report.submitted for an unknown report acknowledged",
            extra={"why": "no such report", "report_id": message.report_id},
        )


answer_framework_errors()
