"""The notify use case's other kinds, with fakes: ``report.escalated`` (the report as the
agency may see it, plus the escalation) and ``report.daily`` (figures about no report,
logged under ``deliveries/{id}``). Signing, retries and dead-lettering are the same
path as ``report.dispositioned`` (tests/unit/test_webhooks.py)."""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

import pytest

from shared.ports import (
    AgencyChannel,
    DeliveryStatus,
    FixedClock,
    NotifyPorts,
    SendOutcome,
    SendResult,
)
from shared.pubsub_push import MalformedPush, read_push
from shared.usecases.notify import (
    DeliveryRetryable,
    Notification,
    NotificationMessage,
    agency_notification,
    mark_dead_lettered,
    notification_message,
    notify_agency,
)
from tests.fakes import (
    InMemoryNotificationStore,
    InMemoryReportStore,
    InMemoryWebhookSender,
    NotifyFakes,
)
from tests.unit.test_webhooks import SECRET, dispositioned_report

NOW = dt.datetime(2026, 12, 7, 0, 0, tzinfo=dt.UTC)
PARENT = "pemkab-cianjur"  # the parent of the report's agency, dinkes-cianjur
ESCALATION = {
    "tier": "overdue",
    "recipient": "parent_agency",
    "clock": "resolve",
    "clock_id": "resolve:2",
    "due_on": "2026-12-04",
    "overdue_working_days": 1,
}
FIGURES = {"day": "2026-12-06", "received": 3, "resolved_share": 0.5}


def ports(
    store: InMemoryReportStore,
    sender: InMemoryWebhookSender,
    deliveries: InMemoryNotificationStore,
    agency: str = PARENT,
) -> NotifyPorts:
    deliveries.channels[agency] = AgencyChannel(
        agency, f"https://{agency}.example/hook", (), SECRET
    )
    fakes = NotifyFakes(store, deliveries, sender, clock=FixedClock(NOW))
    return fakes.ports()


def escalated(store: InMemoryReportStore, anonymous: bool) -> NotificationMessage:
    dispositioned_report(store, anonymous=anonymous)  # report r1, at dinkes-cianjur
    return NotificationMessage(
        notification_id=f"r1.3.{PARENT}",
        kind="report.escalated",
        agency_id=PARENT,
        report_id="r1",
        data=ESCALATION,
    )


def daily() -> NotificationMessage:
    return NotificationMessage(
        notification_id="daily.2026-12-06.nasional",
        kind="report.daily",
        agency_id="nasional",
        data=FIGURES,
    )


def test_an_escalation_reaches_an_agency_above_the_one_holding_the_report() -> None:
    store, sender, deliveries = (
        InMemoryReportStore(),
        InMemoryWebhookSender(),
        InMemoryNotificationStore(),
    )
    entry = notify_agency(escalated(store, anonymous=False), ports(store, sender, deliveries))

    assert entry.status is DeliveryStatus.DELIVERED  # not skipped: it names the parent
    payload = json.loads(sender.sent[0]["body"])
    assert payload["type"] == "report.escalated" and payload["agency_id"] == PARENT
    assert payload["escalation"] == ESCALATION
    assert payload["report"]["agency_id"] == "dinkes-cianjur"
    assert payload["report"]["tracking_code"] == "K7M-2XQ-9RJ"
    assert deliveries.get_delivery("r1", f"r1.3.{PARENT}") == entry


def test_an_escalation_never_carries_an_anonymous_reporters_identity() -> None:
    store, sender, deliveries = (
        InMemoryReportStore(),
        InMemoryWebhookSender(),
        InMemoryNotificationStore(),
    )
    notify_agency(escalated(store, anonymous=True), ports(store, sender, deliveries))
    body = sender.sent[0]["body"].decode()
    assert "Siti" not in body and "siti@" not in body and "6281234567890" not in body


def test_the_daily_figures_are_sent_once_and_logged_apart_from_any_report() -> None:
    store, sender, deliveries = (
        InMemoryReportStore(),
        InMemoryWebhookSender(),
        InMemoryNotificationStore(),
    )
    message = daily()

    for _ in range(3):  # redeliveries
        entry = notify_agency(message, ports(store, sender, deliveries, "nasional"))

    assert len(sender.sent) == 1 and sender.sent[0]["id"] == "daily.2026-12-06.nasional"
    assert json.loads(sender.sent[0]["body"]) == {
        "type": "report.daily",
        "notification_id": "daily.2026-12-06.nasional",
        "agency_id": "nasional",
        "data": FIGURES,
    }
    assert entry.status is DeliveryStatus.DELIVERED and entry.report_id is None
    assert deliveries.get_delivery(None, message.notification_id) == entry


def test_the_daily_figures_retry_and_dead_letter_like_any_notification() -> None:
    store, deliveries = InMemoryReportStore(), InMemoryNotificationStore()
    sender = InMemoryWebhookSender([SendResult(SendOutcome.RETRYABLE, 503, "HTTP 503")])
    with pytest.raises(DeliveryRetryable):
        notify_agency(daily(), ports(store, sender, deliveries, "nasional"))
    entry = mark_dead_lettered(daily(), 5, ports(store, sender, deliveries, "nasional"))
    assert entry.status is DeliveryStatus.FAILED and entry.report_id is None
    assert entry.last_error == "dead-lettered after 5 attempts; last error: HTTP 503"


def _pushed(data: dict[str, Any]) -> Notification:
    raw = base64.b64encode(json.dumps(data).encode()).decode()
    return notification_message(read_push({"message": {"data": raw}}, None, "dead-letter"))


def test_what_agency_notification_makes_is_what_notify_reads() -> None:
    made = agency_notification(
        notification_id="daily.2026-12-06.nasional", kind="report.daily", agency_id="nasional",
        report_id=None, data=FIGURES, topic="agency-notifications", at=NOW,
        ce_type="id.lapor.report.daily.v1", source="//lapor/functions/report",
    )  # fmt: skip
    assert made.data == {
        "notification_id": "daily.2026-12-06.nasional",
        "kind": "report.daily",
        "agency_id": "nasional",
        "report_id": None,
        "tracking_code": None,
        "data": FIGURES,
    }
    assert made.attributes["ce-subject"] == "agencies/nasional"
    assert _pushed(dict(made.data)) == daily()


@pytest.mark.parametrize(
    "data",
    [
        {"notification_id": "d", "kind": "report.daily", "agency_id": "a", "report_id": "r1",
         "data": {}},
        {"notification_id": "d", "kind": "report.daily", "agency_id": "a"},
        {"notification_id": "e", "kind": "report.escalated", "agency_id": "a", "data": {}},
        {"notification_id": "x", "kind": "report.unknown", "agency_id": "a", "report_id": "r"},
    ],
)  # fmt: skip
def test_a_notification_of_the_wrong_shape_is_refused(data: dict[str, Any]) -> None:
    with pytest.raises(MalformedPush, match="not a notification"):
        _pushed(data)
    with pytest.raises(ValueError):
        agency_notification(
            notification_id=str(data["notification_id"]), kind=str(data["kind"]),
            agency_id="a", report_id=data.get("report_id"), data=data.get("data"),
            topic="t", at=NOW, ce_type="c", source="s",
        )  # fmt: skip
