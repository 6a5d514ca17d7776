"""Agency webhooks: signing, classification, and the notify use case with fakes."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from typing import Any

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from shared.adapters.webhooks import (
    SECRET_PREFIX,
    classify,
    encode_body,
    new_secret,
    signature_headers,
)
from shared.domain.calendar import WorkingCalendar
from shared.domain.privacy import ReporterIdentity
from shared.domain.report import (
    Action,
    Actor,
    Command,
    DeadlinePolicy,
    Role,
    apply,
    submit,
)
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
    mark_dead_lettered,
    notification_message,
    notify_agency,
)
from tests.builders import a_draft
from tests.fakes import (
    InMemoryNotificationStore,
    InMemoryReportStore,
    InMemoryWebhookSender,
    NotifyFakes,
)

NOW = dt.datetime(2026, 12, 7, 3, 0, tzinfo=dt.UTC)
SITI = ReporterIdentity(name="Siti Aminah", email="siti@example.id", phone="+6281234567890")
AGENCY = "dinkes-cianjur"
SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()

# --- signing --------------------------------------------------------------------------


def test_a_new_secret_is_whsec_and_32_random_bytes() -> None:
    first, second = new_secret(), new_secret()
    assert first.startswith(SECRET_PREFIX) and first != second
    assert len(base64.b64decode(first.removeprefix(SECRET_PREFIX))) == 32


def test_the_signature_verifies_with_the_standardwebhooks_verifier() -> None:
    body = encode_body({"type": "report.dispositioned", "report": {"title": "Jalan rusak"}})
    now = dt.datetime.now(dt.UTC)
    headers = signature_headers((SECRET,), "r1.2", body, now)
    assert Webhook(SECRET).verify(body, headers) == json.loads(body)
    assert headers["webhook-id"] == "r1.2"
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"] == "Lapor-Webhooks/1"


def test_the_signature_is_plain_hmac_sha256_of_id_timestamp_body() -> None:
    body = encode_body({"a": 1})
    at = dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=7)))
    headers = signature_headers((SECRET,), "msg_1", body, at)
    assert headers["webhook-timestamp"] == str(int(at.timestamp()))  # UTC seconds
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    signed = f"msg_1.{headers['webhook-timestamp']}.{body.decode()}".encode()
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert headers["webhook-signature"] == f"v1,{expected}"


def test_a_tampered_body_or_another_secret_does_not_verify() -> None:
    body = encode_body({"report": {"title": "Jalan rusak"}})
    headers = signature_headers((SECRET,), "r1.2", body, dt.datetime.now(dt.UTC))
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(body.replace(b"rusak", b"bagus"), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, headers)


def test_during_a_rotation_either_secret_verifies_and_the_new_one_signs_first() -> None:
    body = encode_body({"type": "webhook.ping"})
    new, old = new_secret(), SECRET
    headers = signature_headers((new, old), "ping.1", body, dt.datetime.now(dt.UTC))
    first, second = headers["webhook-signature"].split(" ")
    assert first.startswith("v1,") and second.startswith("v1,") and first != second
    assert Webhook(new).verify(body, headers) == json.loads(body)
    assert Webhook(old).verify(body, headers) == json.loads(body)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, headers)


def test_a_secret_given_as_a_bare_string_or_no_secret_at_all_is_refused() -> None:
    with pytest.raises(ValueError):
        signature_headers(SECRET, "x", b"{}", dt.datetime.now(dt.UTC))
    with pytest.raises(ValueError):
        signature_headers((), "x", b"{}", dt.datetime.now(dt.UTC))


def test_the_previous_secret_signs_only_until_its_day_is_over() -> None:
    until = NOW + dt.timedelta(hours=24)
    channel = AgencyChannel(
        AGENCY, "https://x.example/h", (), "whsec_new", previous_secret=SECRET,
        previous_until=until,
    )  # fmt: skip
    assert channel.signing_secrets(NOW) == ("whsec_new", SECRET)
    assert channel.signing_secrets(until) == ("whsec_new",)
    assert AgencyChannel(AGENCY, None, (), None).signing_secrets(NOW) == ()


def test_notify_signs_with_both_secrets_while_a_rotation_rolls_over(
    store: InMemoryReportStore,
) -> None:
    message = dispositioned_report(store, anonymous=False)
    sender = InMemoryWebhookSender()
    channel = AgencyChannel(
        AGENCY, "https://dinkes.example/hook", (), "whsec_new", previous_secret=SECRET,
        previous_until=NOW + dt.timedelta(hours=1),
    )  # fmt: skip
    notify_agency(message, ports(store, sender, channel=channel))
    assert sender.sent[0]["secrets"] == ("whsec_new", SECRET)


def test_a_naive_signing_time_is_refused() -> None:
    with pytest.raises(ValueError):
        signature_headers((SECRET,), "x", b"{}", dt.datetime(2026, 1, 1))


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, SendOutcome.DELIVERED),
        (202, SendOutcome.DELIVERED),
        (204, SendOutcome.DELIVERED),
        (500, SendOutcome.RETRYABLE),
        (502, SendOutcome.RETRYABLE),
        (503, SendOutcome.RETRYABLE),
        (408, SendOutcome.RETRYABLE),
        (429, SendOutcome.RETRYABLE),
        (400, SendOutcome.PERMANENT),
        (401, SendOutcome.PERMANENT),
        (403, SendOutcome.PERMANENT),
        (404, SendOutcome.PERMANENT),
        (410, SendOutcome.PERMANENT),
        (422, SendOutcome.PERMANENT),
        (301, SendOutcome.PERMANENT),  # redirects are not followed
    ],
)
def test_classification(status: int, outcome: SendOutcome) -> None:
    assert classify(status) is outcome


# --- the use case with fakes ------------------------------------------------------------


def dispositioned_report(
    store: InMemoryReportStore, anonymous: bool, report_id: str = "r1"
) -> NotificationMessage:
    cal, policy = WorkingCalendar(), DeadlinePolicy()
    draft = a_draft(
        title="Puskesmas tutup di jam layanan", category="kesehatan", anonymous=anonymous
    )
    report, first = submit(draft, report_id, "K7M-2XQ-9RJ", NOW, cal, policy)
    router = Actor(Role.SYSTEM, "system:route")
    report, second = apply(
        report, Command(Action.DISPOSITION, router, agency_id=AGENCY), NOW, cal, policy
    )
    store.reports[report_id] = report
    store.events[report_id] = [first, second]
    store.identities[report_id] = SITI
    return NotificationMessage(
        notification_id=f"{report_id}.2.{AGENCY}",
        kind="report.dispositioned",
        report_id=report_id,
        agency_id=AGENCY,
        tracking_code=report.tracking_code,
    )


@pytest.fixture
def store() -> InMemoryReportStore:
    return InMemoryReportStore()


def ports(
    store: InMemoryReportStore,
    sender: InMemoryWebhookSender | None = None,
    channel: AgencyChannel | None = None,
    deliveries: InMemoryNotificationStore | None = None,
) -> NotifyPorts:
    fakes = NotifyFakes(
        store=store,
        notifications=deliveries or InMemoryNotificationStore(),
        webhooks=sender or InMemoryWebhookSender(),
        clock=FixedClock(NOW),
    )
    default = AgencyChannel(AGENCY, "https://dinkes.example/hook", (), SECRET)
    fakes.notifications.channels[AGENCY] = channel or default
    return fakes.ports()


def test_the_payload_of_an_anonymous_report_never_holds_the_reporters_identity(
    store: InMemoryReportStore,
) -> None:
    message = dispositioned_report(store, anonymous=True)
    sender = InMemoryWebhookSender()
    notify_agency(message, ports(store, sender))
    body = sender.sent[0]["body"].decode()
    assert "Siti" not in body and "siti@" not in body and "6281234567890" not in body
    payload = json.loads(body)
    assert "reporter" not in payload["report"] and payload["report"]["anonymous"] is True


def test_the_payload_of_a_named_report_carries_the_identity_the_agency_may_see(
    store: InMemoryReportStore,
) -> None:
    message = dispositioned_report(store, anonymous=False)
    sender = InMemoryWebhookSender()
    notify_agency(message, ports(store, sender))
    payload = json.loads(sender.sent[0]["body"])
    assert payload["type"] == "report.dispositioned"
    assert payload["notification_id"] == "r1.2.dinkes-cianjur" and payload["agency_id"] == AGENCY
    assert payload["report"]["reporter"] == {
        "name": "Siti Aminah",
        "email": "siti@example.id",
        "phone": "+6281234567890",
    }
    assert payload["report"]["tracking_code"] == "K7M-2XQ-9RJ"


def test_three_deliveries_of_one_notification_send_one_webhook(
    store: InMemoryReportStore,
) -> None:
    message = dispositioned_report(store, anonymous=False)
    sender, deliveries = InMemoryWebhookSender(), InMemoryNotificationStore()
    for _ in range(3):
        entry = notify_agency(message, ports(store, sender, deliveries=deliveries))
    assert len(sender.sent) == 1
    assert entry.status is DeliveryStatus.DELIVERED and entry.attempts == 1


def test_a_retryable_failure_is_logged_retrying_and_raised_then_a_retry_delivers(
    store: InMemoryReportStore,
) -> None:
    message = dispositioned_report(store, anonymous=False)
    sender = InMemoryWebhookSender([SendResult(SendOutcome.RETRYABLE, 503, "HTTP 503")])
    deliveries = InMemoryNotificationStore()
    with pytest.raises(DeliveryRetryable):
        notify_agency(message, ports(store, sender, deliveries=deliveries))
    logged = deliveries.get_delivery("r1", message.notification_id)
    assert logged is not None and logged.status is DeliveryStatus.RETRYING
    webhook = logged.channel("webhook")
    assert webhook is not None
    assert (webhook.attempts, webhook.last_status_code, webhook.last_error) == (1, 503, "HTTP 503")
    entry = notify_agency(message, ports(store, sender, deliveries=deliveries))
    assert entry.status is DeliveryStatus.DELIVERED and entry.attempts == 2
    assert entry.first_attempt_at == NOW and entry.delivered_at == NOW


def test_a_permanent_refusal_is_failed_and_never_retried(store: InMemoryReportStore) -> None:
    message = dispositioned_report(store, anonymous=False)
    sender = InMemoryWebhookSender([SendResult(SendOutcome.PERMANENT, 404, "HTTP 404")])
    deliveries = InMemoryNotificationStore()
    entry = notify_agency(message, ports(store, sender, deliveries=deliveries))
    webhook = entry.channel("webhook")
    assert entry.status is DeliveryStatus.FAILED and webhook and webhook.last_status_code == 404
    notify_agency(message, ports(store, sender, deliveries=deliveries))
    assert len(sender.sent) == 1


def test_an_agency_with_neither_webhook_nor_address_is_no_channel(
    store: InMemoryReportStore,
) -> None:
    message = dispositioned_report(store, anonymous=False)
    sender = InMemoryWebhookSender()
    channel = AgencyChannel(AGENCY, None, (), SECRET)
    entry = notify_agency(message, ports(store, sender, channel=channel))
    assert entry.status is DeliveryStatus.NO_CHANNEL and entry.channels == ()
    assert sender.sent == []


def test_a_missing_secret_is_retried_never_sent_unsigned(store: InMemoryReportStore) -> None:
    message = dispositioned_report(store, anonymous=False)
    sender = InMemoryWebhookSender()
    channel = AgencyChannel(AGENCY, "https://dinkes.example/hook", (), None)
    with pytest.raises(DeliveryRetryable):
        notify_agency(message, ports(store, sender, channel=channel))
    assert sender.sent == []


def test_a_report_routed_elsewhere_since_is_skipped(store: InMemoryReportStore) -> None:
    dispositioned_report(store, anonymous=False)  # to dinkes-cianjur
    other = NotificationMessage(
        notification_id="r1.2.dishub",
        kind="report.dispositioned",
        report_id="r1",
        agency_id="dishub",
    )
    sender = InMemoryWebhookSender()
    entry = notify_agency(other, ports(store, sender))
    assert entry.status is DeliveryStatus.SKIPPED and sender.sent == []


def test_dead_lettering_marks_the_delivery_failed_with_the_attempts(
    store: InMemoryReportStore,
) -> None:
    message = dispositioned_report(store, anonymous=False)
    deliveries = InMemoryNotificationStore()
    sender = InMemoryWebhookSender([SendResult(SendOutcome.RETRYABLE, 500, "HTTP 500")])
    with pytest.raises(DeliveryRetryable):
        notify_agency(message, ports(store, sender, deliveries=deliveries))
    entry = mark_dead_lettered(message, 5, ports(store, sender, deliveries=deliveries))
    assert entry.status is DeliveryStatus.FAILED
    assert entry.last_error == "dead-lettered after 5 attempts; last error: HTTP 500"
    # and a late redelivery of the original does not resend
    notify_agency(message, ports(store, sender, deliveries=deliveries))
    assert len(sender.sent) == 1


def test_dead_lettering_leaves_a_delivered_notification_alone(
    store: InMemoryReportStore,
) -> None:
    message = dispositioned_report(store, anonymous=False)
    deliveries = InMemoryNotificationStore()
    notify_agency(message, ports(store, deliveries=deliveries))
    entry = mark_dead_lettered(message, 5, ports(store, deliveries=deliveries))
    assert entry.status is DeliveryStatus.DELIVERED


# --- the push edge ----------------------------------------------------------------------


def envelope(data: Any, attributes: dict[str, str] | None = None) -> dict[str, Any]:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return {"message": {"data": base64.b64encode(raw).decode(), "attributes": attributes or {}}}


def decode(event_data: Any) -> Notification:
    return notification_message(read_push(event_data, None, "agency-notifications-dead-letter"))


def test_a_push_carries_the_notification() -> None:
    data = {
        "notification_id": "r1.2",
        "kind": "report.dispositioned",
        "report_id": "r1",
        "agency_id": AGENCY,
        "tracking_code": "K7M-2XQ-9RJ",
    }
    assert decode(envelope(data, {"a": "b"})).notification_id == "r1.2"


@pytest.mark.parametrize(
    "data",
    [
        envelope({"kind": "report.dispositioned"}),
        envelope(["not", "an", "object"]),
        envelope({"notification_id": "a/b", "kind": "k", "report_id": "r", "agency_id": "x"}),
    ],
)
def test_a_notification_no_retry_can_fix_is_refused(data: Any) -> None:
    with pytest.raises(MalformedPush, match="not a notification"):
        decode(data)
