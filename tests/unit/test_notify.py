"""The notify use case with fakes: every kind on every channel, nothing sent twice, a
channel the recipient stopped left alone, no anonymous reporter's identity in what an
agency gets, the hourly digest, and what staff and the reporter see of the log."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
from typing import Any

import pytest

from shared.domain.calendar import WorkingCalendar
from shared.domain.privacy import ReporterIdentity
from shared.domain.report import (
    Action,
    Actor,
    Command,
    DeadlinePolicy,
    NotPermitted,
    Region,
    Report,
    Role,
    TimelineEvent,
    apply,
    submit,
)
from shared.ports import (
    AgencyChannel,
    DeliveryStatus,
    FixedClock,
    OutboxMessage,
    SendOutcome,
    SendResult,
    SweepPorts,
)
from shared.pubsub_push import MalformedPush, read_push
from shared.tokens import agency_opt_out, reporter_opt_out
from shared.usecases.agency import Caller
from shared.usecases.deliveries import delivery_view, failed_deliveries, reporter_notices
from shared.usecases.digest import digest_hour, run_digests
from shared.usecases.notify import (
    DeliveryRetryable,
    Notification,
    NotificationMessage,
    ReporterNotification,
    deliver,
    mark_dead_lettered,
    notification_message,
    reporter_notification,
)
from shared.usecases.sweep import sweep_outbox
from tests.builders import a_draft
from tests.fakes import InMemoryPublisher, NotifyFakes

NOW = dt.datetime(2026, 12, 7, 3, 0, tzinfo=dt.UTC)
AGENCY, UNIT, REGENCY = "dinkes-cianjur", "puskesmas-cipanas", "pemkab-cianjur"
ADDRESSES = {
    AGENCY: "pengaduan@dinkes.cianjurkab.example",
    UNIT: "pkm-cipanas@dinkes.cianjurkab.example",
    REGENCY: "pengaduan@cianjurkab.example",
}
SECRET = "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
SITI = ReporterIdentity("Siti Aminah", "siti@example.id", "+6281234567890")
SITI_EN = ReporterIdentity("Siti Aminah", "siti@example.id", "+6281234567890", language="en")
PERSONAL = ("Siti", "siti@example.id", "6281234567890", "0812")
CAL, POLICY = WorkingCalendar(), DeadlinePolicy()
ADMIN = Actor(Role.AGENCY_ADMIN, AGENCY)
CITIZEN = Actor(Role.REPORTER, "reporter")


# --- stories: reports taken through the domain, as act would ----------------------------


def _run(
    fakes: NotifyFakes,
    commands: list[Command],
    *,
    report_id: str = "r1",
    anonymous: bool = False,
    identity: ReporterIdentity = SITI,
) -> tuple[Report, list[TimelineEvent]]:
    draft = a_draft(title="Puskesmas tutup di jam layanan", category="kesehatan",
                    anonymous=anonymous)  # fmt: skip
    report, first = submit(draft, report_id, f"K7M-2XQ-{report_id[-1]}RJ", NOW, CAL, POLICY)
    events = [first]
    for command in commands:
        # Closing by itself waits for the reporter's silence of 10 working days.
        at = NOW + dt.timedelta(days=30) if command.action is Action.AUTO_CLOSE else NOW
        report, event = apply(report, command, at, CAL, POLICY)
        events.append(event)
    fakes.store.reports[report_id] = report
    fakes.store.events[report_id] = events
    fakes.store.identities[report_id] = identity
    return report, events


ROUTED = Command(Action.DISPOSITION, Actor(Role.SYSTEM, "system:route"), agency_id=AGENCY)
# submit 1, disposition 2, forward 3, follow-up 4, reply 5, resolve 6, reopen 7
WHOLE_STORY = [
    ROUTED,
    Command(Action.FORWARD, ADMIN, unit_id=UNIT),
    Command(Action.FOLLOW_UP, Actor(Role.UNIT_OFFICER, UNIT), message="Sudah kami cek ke lokasi."),
    Command(Action.REPORTER_REPLY, CITIZEN, message="Masih tutup pagi ini, Pak."),
    Command(Action.RESOLVE, Actor(Role.UNIT_OFFICER, UNIT), message="Jadwal dokter ditambah."),
    Command(Action.REOPEN, CITIZEN, reason="Belum ada perubahan."),
]
# submit 1, hold 2, answer 3
HOLD_STORY = [
    Command(Action.HOLD, Actor(Role.AGENCY_ADMIN, REGENCY), reason="Di puskesmas mana?"),
    Command(Action.ANSWER_HOLD, CITIZEN, message="Puskesmas Cipanas, Jalan Raya."),
]
# submit 1, disposition 2, Bukan Wewenang 3
RETURNED_STORY = [ROUTED, Command(Action.NOT_OUR_AUTHORITY, ADMIN, reason="Bukan kami.")]


def agency_message(
    kind: str, seq: int, agency: str, report_id: str = "r1", data: dict[str, Any] | None = None
) -> NotificationMessage:
    return NotificationMessage(
        notification_id=f"{report_id}.{seq}.{agency}", kind=kind, agency_id=agency,  # type: ignore[arg-type]
        report_id=report_id, data=data,
    )  # fmt: skip


def reporter_message(
    kind: str, seq: int | None, report_id: str = "r1", **data: str
) -> ReporterNotification:
    return ReporterNotification.model_validate(
        {"notification_id": f"{report_id}.{seq}.reporter", "kind": kind, "report_id": report_id,
         "tracking_code": "K7M-2XQ-1RJ", "seq": seq, "data": data}
    )  # fmt: skip


ESCALATION = {
    "tier": "overdue",
    "recipient": "parent_agency",
    "clock": "resolve",
    "clock_id": "resolve:2",
    "due_on": "2026-12-04",
    "overdue_working_days": 1,
}
DAILY = {
    "day": "2026-12-06",
    "scope": AGENCY,
    "url": "https://lapor.test/statistik/instansi/x",
    "own": {"day": {"received": 3, "followed_up": 2, "resolved": 1}, "overdue_now": 4},
}

# kind -> (the story, the event's seq, the agency told, its data)
AGENCY_CASES: dict[str, tuple[list[Command], int, str, dict[str, Any] | None]] = {
    "report.dispositioned": ([ROUTED], 2, AGENCY, None),
    "report.forwarded": (WHOLE_STORY[:2], 3, UNIT, None),
    "report.returned": (RETURNED_STORY, 3, REGENCY,
                        {"action": "not_our_authority", "reason": "Bukan kami.",
                         "returned_by": AGENCY}),
    "report.reporter_replied": (WHOLE_STORY[:4], 5, UNIT, None),
    "report.hold_answered": (HOLD_STORY, 3, REGENCY, None),
    "report.reopened": (WHOLE_STORY, 7, UNIT, None),
    "report.escalated": ([ROUTED], 2, REGENCY, ESCALATION),
}  # fmt: skip


def by_email(fakes: NotifyFakes, *agencies: str, digest: bool = False) -> None:
    for agency in agencies:
        fakes.notifications.channels[agency] = AgencyChannel(
            agency, None, (ADDRESSES[agency],), SECRET, digest=digest
        )


def by_webhook(fakes: NotifyFakes, *agencies: str) -> None:
    for agency in agencies:
        fakes.notifications.channels[agency] = AgencyChannel(
            agency, f"https://{agency}.example/hook", (), SECRET
        )


# --- agencies -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(AGENCY_CASES))
@pytest.mark.parametrize("anonymous", [False, True])
def test_an_agency_without_a_webhook_gets_each_kind_by_email_and_never_the_identity(
    kind: str, anonymous: bool
) -> None:
    fakes = NotifyFakes()
    by_email(fakes, AGENCY, UNIT, REGENCY)
    story, seq, told, data = AGENCY_CASES[kind]
    _run(fakes, story, anonymous=anonymous)

    entry = deliver(agency_message(kind, seq, told, data=data), fakes.ports())

    [mail] = fakes.email.sent
    assert mail.to == ADDRESSES[told] and mail.subject
    assert "K7M-2XQ-1RJ" in mail.text and "https://agency.test/api/v1/reports/r1" in mail.html
    assert mail.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    for part in PERSONAL:  # neither named nor anonymous: an agency's e-mail has no slot
        assert part not in mail.text and part not in mail.html and part not in mail.subject
    assert fakes.webhooks.sent == [] and fakes.sms.sent == []
    email = entry.channel("email")
    assert entry.status is DeliveryStatus.DELIVERED and email is not None
    assert (email.attempts, email.address, email.last_status_code) == (1, ADDRESSES[told], 250)
    assert entry.tracking_code == "K7M-2XQ-1RJ" and entry.seq == seq


def test_the_agencys_email_names_the_village_district_and_regency() -> None:
    fakes = NotifyFakes()
    by_email(fakes, AGENCY)
    report, _ = _run(fakes, [ROUTED])
    cugenang = Region("32", "32.03", "32.03.11", "32.03.11.2001")
    fakes.store.reports["r1"] = dataclasses.replace(report, region=cugenang, address="Depan SDN 1")

    deliver(agency_message("report.dispositioned", 2, AGENCY), fakes.ports())

    [mail] = fakes.email.sent
    assert "Sukamanah, Cugenang, Kabupaten Cianjur" in mail.text
    assert "Depan SDN 1" not in mail.text  # the landmark is on the console's page


def test_the_words_of_the_event_reach_the_agency() -> None:
    fakes = NotifyFakes()
    by_email(fakes, UNIT, REGENCY, AGENCY)
    _run(fakes, WHOLE_STORY)
    _run(fakes, RETURNED_STORY, report_id="r2")
    deliver(agency_message("report.reporter_replied", 5, UNIT), fakes.ports())
    deliver(agency_message("report.reopened", 7, UNIT), fakes.ports())
    returned = AGENCY_CASES["report.returned"][3]
    deliver(agency_message("report.returned", 3, REGENCY, "r2", returned), fakes.ports())
    replied, reopened, back = fakes.email.sent
    assert "Masih tutup pagi ini, Pak." in replied.text
    assert "Belum ada perubahan." in reopened.text
    assert "Bukan kami." in back.text and "Dinas Kesehatan" in back.text


def test_the_daily_figures_go_by_email_at_once_even_to_a_digest_agency() -> None:
    fakes = NotifyFakes()
    by_email(fakes, AGENCY, digest=True)
    message = NotificationMessage(notification_id="daily.2026-12-06.dinkes-cianjur",
                                  kind="report.daily", agency_id=AGENCY, data=DAILY)  # fmt: skip
    entry = deliver(message, fakes.ports())
    [mail] = fakes.email.sent
    assert entry.status is DeliveryStatus.DELIVERED and entry.report_id is None
    assert "https://lapor.test/statistik/instansi/x" in mail.text


@pytest.mark.parametrize("kind", sorted(AGENCY_CASES))
def test_an_agency_with_a_webhook_gets_each_kind_by_webhook_only(kind: str) -> None:
    fakes = NotifyFakes()
    by_webhook(fakes, AGENCY, UNIT, REGENCY)
    story, seq, told, data = AGENCY_CASES[kind]
    _run(fakes, story, anonymous=True)
    entry = deliver(agency_message(kind, seq, told, data=data), fakes.ports())
    [hook] = fakes.webhooks.sent
    assert hook["url"] == f"https://{told}.example/hook"
    assert json.loads(hook["body"])["type"] == kind
    assert not any(part in hook["body"].decode() for part in PERSONAL)
    assert fakes.email.sent == [] and entry.status is DeliveryStatus.DELIVERED
    assert [c.channel for c in entry.channels] == ["webhook"]


def test_three_redeliveries_send_one_email() -> None:
    fakes = NotifyFakes()
    by_email(fakes, AGENCY)
    _run(fakes, [ROUTED])
    for _ in range(3):
        deliver(agency_message("report.dispositioned", 2, AGENCY), fakes.ports())
    assert len(fakes.email.sent) == 1


def test_a_relay_failing_for_now_is_retried_and_the_same_message_id_goes_again() -> None:
    fakes = NotifyFakes()
    fakes.email.results.append(SendResult(SendOutcome.RETRYABLE, 451, "SMTP 451: try later"))
    by_email(fakes, AGENCY)
    _run(fakes, [ROUTED])
    message = agency_message("report.dispositioned", 2, AGENCY)
    with pytest.raises(DeliveryRetryable):
        deliver(message, fakes.ports())
    logged = fakes.notifications.get_delivery("r1", message.notification_id)
    assert logged is not None and logged.status is DeliveryStatus.RETRYING
    entry = deliver(message, fakes.ports())
    first, second = fakes.email.sent
    assert first.message_id == second.message_id
    assert entry.status is DeliveryStatus.DELIVERED and entry.attempts == 2


def test_a_relay_refusing_for_good_is_failed_and_shown_to_admins() -> None:
    fakes = NotifyFakes()
    fakes.email.results.append(SendResult(SendOutcome.PERMANENT, 550, "SMTP 550: no such user"))
    by_email(fakes, AGENCY)
    _run(fakes, [ROUTED])
    entry = deliver(agency_message("report.dispositioned", 2, AGENCY), fakes.ports())
    assert entry.status is DeliveryStatus.FAILED
    deliver(agency_message("report.dispositioned", 2, AGENCY), fakes.ports())
    assert len(fakes.email.sent) == 1


def test_an_agency_address_that_unsubscribed_is_not_written_to() -> None:
    fakes = NotifyFakes()
    by_email(fakes, AGENCY)
    _run(fakes, [ROUTED])
    fakes.preferences.opt_out(agency_opt_out(fakes.settings.token_secret, AGENCY,
                                             ADDRESSES[AGENCY]), NOW)  # fmt: skip
    entry = deliver(agency_message("report.dispositioned", 2, AGENCY), fakes.ports())
    assert fakes.email.sent == [] and entry.status is DeliveryStatus.UNSUBSCRIBED


def test_no_relay_configured_is_retried_and_says_so() -> None:
    fakes = NotifyFakes()
    fakes.settings = fakes.settings.model_copy(update={"smtp_host": ""})
    by_email(fakes, AGENCY)
    _run(fakes, [ROUTED])
    with pytest.raises(DeliveryRetryable, match="LAPOR_SMTP_HOST"):
        deliver(agency_message("report.dispositioned", 2, AGENCY), fakes.ports())


# --- reporters ---------------------------------------------------------------------------

# kind -> (the story, the event's seq, what the message quotes)
REPORTER_CASES: dict[str, tuple[list[Command], int | None, dict[str, str]]] = {
    "report.accepted": ([], 1, {}),
    "report.on_hold": (HOLD_STORY[:1], 2, {"reason": "Di puskesmas mana?"}),
    "report.followed_up": (WHOLE_STORY[:3], 4, {"message": "Sudah kami cek ke lokasi."}),
    "report.resolved": (WHOLE_STORY[:5], 6, {"message": "Jadwal dokter ditambah."}),
    "report.closed": ([*WHOLE_STORY[:5], Command(Action.AUTO_CLOSE, Actor(Role.SYSTEM, "s"))],
                      7, {}),
    "report.archived": ([Command(Action.ARCHIVE, ADMIN, reason="Duplikat.")], 2,
                        {"reason": "Duplikat."}),
}  # fmt: skip


@pytest.mark.parametrize("kind", sorted(REPORTER_CASES))
@pytest.mark.parametrize("identity", [SITI, SITI_EN], ids=["id", "en"])
def test_the_reporter_gets_each_kind_by_email_and_sms_in_their_language(
    kind: str, identity: ReporterIdentity
) -> None:
    fakes = NotifyFakes()
    story, seq, data = REPORTER_CASES[kind]
    _run(fakes, story, anonymous=True, identity=identity)

    entry = deliver(reporter_message(kind, seq, **data), fakes.ports())

    [mail], [text] = fakes.email.sent, fakes.sms.sent
    assert mail.to == "siti@example.id" and text.to == "+6281234567890"
    assert mail.headers["Content-Language"] == identity.language
    assert "https://lapor.test/lacak/K7M-2XQ-1RJ?token=" in mail.text
    assert "https://lapor.test/l/" in text.text and "/berhenti/" in text.text
    english = "LAPOR!: Report" in text.text or "LAPOR!: Your report" in text.text
    assert english == (identity.language == "en")
    for quoted in data.values():
        assert quoted in mail.text
    assert entry.status is DeliveryStatus.DELIVERED and entry.agency_id is None
    assert [c.channel for c in entry.channels] == ["email", "sms"]
    assert all(c.address is None for c in entry.channels)  # contacts stay in the identity
    assert fakes.webhooks.sent == []


def test_redeliveries_send_nothing_twice_and_only_the_failed_channel_again() -> None:
    fakes = NotifyFakes()
    fakes.sms.results.append(SendResult(SendOutcome.RETRYABLE, 503, "HTTP 503"))
    _run(fakes, [])
    message = reporter_message("report.accepted", 1)
    with pytest.raises(DeliveryRetryable):
        deliver(message, fakes.ports())
    for _ in range(3):
        entry = deliver(message, fakes.ports())
    assert len(fakes.email.sent) == 1 and len(fakes.sms.sent) == 2
    assert entry.status is DeliveryStatus.DELIVERED
    sms = entry.channel("sms")
    assert sms is not None and sms.attempts == 2


def test_a_channel_the_reporter_stopped_is_skipped_and_the_other_still_goes() -> None:
    fakes = NotifyFakes()
    _run(fakes, [])
    fakes.preferences.opt_out(reporter_opt_out("r1", "email"), NOW)
    entry = deliver(reporter_message("report.accepted", 1), fakes.ports())
    assert fakes.email.sent == [] and len(fakes.sms.sent) == 1
    email, sms = entry.channels
    assert email.status is DeliveryStatus.UNSUBSCRIBED and sms.status is DeliveryStatus.DELIVERED


def test_a_link_sent_again_goes_only_to_the_contact_that_matched() -> None:
    fakes = NotifyFakes()
    _run(fakes, [])
    message = ReporterNotification(
        notification_id="r1.resend.1",
        kind="link.resend",
        report_id="r1",
        tracking_code="K7M-2XQ-1RJ",
        channel="sms",
    )
    entry = deliver(message, fakes.ports())
    assert fakes.email.sent == [] and len(fakes.sms.sent) == 1
    assert [c.channel for c in entry.channels] == ["sms"]


def test_a_reporter_without_contacts_is_no_channel() -> None:
    fakes = NotifyFakes()
    _run(fakes, [], identity=ReporterIdentity(None, None, None))
    entry = deliver(reporter_message("report.accepted", 1), fakes.ports())
    assert entry.status is DeliveryStatus.NO_CHANNEL and entry.channels == ()
    assert fakes.email.sent == [] and fakes.sms.sent == []


def test_an_error_quoting_the_reporters_contact_is_stored_without_it() -> None:
    fakes = NotifyFakes()
    fakes.email.results.append(
        SendResult(SendOutcome.PERMANENT, 550, "SMTP 550: <SITI@example.id> unknown")
    )
    fakes.sms.results.append(SendResult(SendOutcome.PERMANENT, 200, "6281234567890 rejected"))
    _run(fakes, [])
    entry = deliver(reporter_message("report.accepted", 1), fakes.ports())
    stored = json.dumps(delivery_view(entry, None))
    assert entry.status is DeliveryStatus.FAILED
    assert "siti@" not in stored.lower() and "6281234567890" not in stored
    assert "<recipient>" in stored


def test_dead_lettering_fails_what_was_not_accepted_and_keeps_what_was() -> None:
    fakes = NotifyFakes()
    fakes.sms.results.append(SendResult(SendOutcome.RETRYABLE, None, "ConnectError"))
    _run(fakes, [])
    message = reporter_message("report.accepted", 1)
    with pytest.raises(DeliveryRetryable):
        deliver(message, fakes.ports())
    entry = mark_dead_lettered(message, 5, fakes.ports())
    email, sms = entry.channels
    assert entry.status is DeliveryStatus.FAILED
    assert email.status is DeliveryStatus.DELIVERED and sms.status is DeliveryStatus.FAILED
    assert entry.last_error == "dead-lettered after 5 attempts; last error: ConnectError"
    deliver(message, fakes.ports())  # a late redelivery sends nothing
    assert len(fakes.email.sent) == 1 and len(fakes.sms.sent) == 1


# --- settling the outbox entry -----------------------------------------------------------


def committed(fakes: NotifyFakes, message: NotificationMessage | ReporterNotification) -> str:
    """The outbox entry the action's commit left for ``message`` (id: its notification's)."""
    topic = "reporter-notifications" if isinstance(message, ReporterNotification) else (
        "agency-notifications")  # fmt: skip
    entry = OutboxMessage(message.notification_id, topic, message.model_dump(mode="json"), {}, NOW)
    fakes.store.outbox[entry.id] = entry
    return entry.id


def test_the_first_attempts_write_deletes_the_outbox_entry_even_with_a_channel_to_retry() -> None:
    # Pub/Sub retries it from there: a sweeper publishing it too would add a copy a run.
    fakes = NotifyFakes()
    fakes.sms.results.append(SendResult(SendOutcome.RETRYABLE, 503, "HTTP 503"))
    _run(fakes, [])
    message = reporter_message("report.accepted", 1)
    entry_id = committed(fakes, message)

    with pytest.raises(DeliveryRetryable):
        deliver(message, fakes.ports())
    assert entry_id not in fakes.store.outbox

    deliver(message, fakes.ports())  # Pub/Sub's retry
    deliver(message, fakes.ports())  # a redelivery after settling
    assert (len(fakes.email.sent), len(fakes.sms.sent)) == (1, 2)


@pytest.mark.parametrize(
    "outcome",
    [SendOutcome.PERMANENT, "unsubscribed", "queued", "no_channel", "unknown agency"],
)
def test_every_way_an_agency_notification_settles_deletes_its_outbox_entry(
    outcome: SendOutcome | str,
) -> None:
    fakes = NotifyFakes()
    if outcome == "no_channel":
        fakes.notifications.channels[AGENCY] = AgencyChannel(AGENCY, None, (), None)
    elif outcome != "unknown agency":
        by_email(fakes, AGENCY, digest=outcome == "queued")
    if outcome == "unsubscribed":
        fakes.preferences.opt_out(
            agency_opt_out(fakes.settings.token_secret, AGENCY, ADDRESSES[AGENCY]), NOW
        )
    if outcome is SendOutcome.PERMANENT:
        fakes.email.results.append(SendResult(SendOutcome.PERMANENT, 550, "SMTP 550"))
    _run(fakes, [ROUTED])
    message = agency_message("report.dispositioned", 2, AGENCY)
    entry_id = committed(fakes, message)

    entry = deliver(message, fakes.ports())

    assert entry.status is not DeliveryStatus.RETRYING
    assert entry_id not in fakes.store.outbox


def test_a_dead_lettered_notification_is_settled_with_its_failure() -> None:
    fakes = NotifyFakes()
    fakes.sms.results.append(SendResult(SendOutcome.RETRYABLE, None, "ConnectError"))
    _run(fakes, [])
    message = reporter_message("report.accepted", 1)
    entry_id = committed(fakes, message)
    with pytest.raises(DeliveryRetryable):
        deliver(message, fakes.ports())

    mark_dead_lettered(message, 5, fakes.ports())

    assert entry_id not in fakes.store.outbox


def test_the_sweeper_sends_an_unsettled_notification_again_and_notify_settles_it() -> None:
    fakes = NotifyFakes()
    _run(fakes, [])
    message = reporter_message("report.accepted", 1)
    entry_id = committed(fakes, message)  # published, then lost on the way
    bus = InMemoryPublisher()
    later = FixedClock(NOW + dt.timedelta(seconds=fakes.settings.outbox_sweep_age_s + 1))

    swept = sweep_outbox(SweepPorts(fakes.store, bus, later, fakes.settings))
    assert (swept.republished, swept.settled) == (1, 0)
    assert entry_id in fakes.store.outbox

    [again] = bus.published
    deliver(notification_message_of(again), fakes.ports())
    assert entry_id not in fakes.store.outbox
    assert sweep_outbox(SweepPorts(fakes.store, bus, later, fakes.settings)).republished == 0
    assert (len(fakes.email.sent), len(fakes.sms.sent)) == (1, 1)


def notification_message_of(entry: OutboxMessage) -> ReporterNotification:
    return ReporterNotification.model_validate(entry.data)


# --- the hourly digest ---------------------------------------------------------------------

DISDIK = "disdik-cianjur"  # the demo agency that chose the hourly digest


def digest_story(fakes: NotifyFakes, report_id: str) -> NotificationMessage:
    to_disdik = Command(Action.DISPOSITION, Actor(Role.SYSTEM, "r"), agency_id=DISDIK)
    _run(fakes, [to_disdik], report_id=report_id)
    return agency_message("report.dispositioned", 2, DISDIK, report_id)


def test_a_digest_agency_gets_one_email_an_hour_listing_what_came() -> None:
    fakes = NotifyFakes()
    fakes.notifications.channels[DISDIK] = AgencyChannel(
        DISDIK, None, ("pengaduan@disdik.example",), SECRET, digest=True
    )
    for report_id in ("r1", "r2"):
        entry = deliver(digest_story(fakes, report_id), fakes.ports())
        assert entry.status is DeliveryStatus.QUEUED
    assert fakes.email.sent == []
    hour = digest_hour(NOW, "Asia/Jakarta")

    run = run_digests(hour, fakes.digest_ports())

    [mail] = fakes.email.sent
    assert (run.sent, run.items) == (1, 2) and mail.to == "pengaduan@disdik.example"
    assert "K7M-2XQ-1RJ" in mail.text and "K7M-2XQ-2RJ" in mail.text
    assert fakes.notifications.commits == 1  # the digest and its items: one commit
    for report_id in ("r1", "r2"):
        item = fakes.notifications.get_delivery(report_id, f"{report_id}.2.{DISDIK}")
        assert item is not None and item.status is DeliveryStatus.DELIVERED
        email = item.channel("email")
        assert email is not None and email.digest_id == f"{DISDIK}.{hour:%Y-%m-%dT%H}"

    # Another item in the same hour waits for the next: one digest per agency and hour.
    deliver(digest_story(fakes, "r3"), fakes.ports())
    assert run_digests(hour, fakes.digest_ports()).sent == 0
    assert len(fakes.email.sent) == 1
    later = run_digests(hour + dt.timedelta(hours=1), fakes.digest_ports())
    assert later.items == 1 and len(fakes.email.sent) == 2
    assert run_digests(hour + dt.timedelta(hours=2), fakes.digest_ports()).sent == 0


def test_a_digest_the_relay_fails_for_now_is_sent_by_the_next_run() -> None:
    fakes = NotifyFakes()
    fakes.email.results.append(SendResult(SendOutcome.RETRYABLE, 421, "SMTP 421"))
    fakes.notifications.channels[DISDIK] = AgencyChannel(
        DISDIK, None, ("pengaduan@disdik.example",), SECRET, digest=True
    )
    deliver(digest_story(fakes, "r1"), fakes.ports())
    hour = digest_hour(NOW, "Asia/Jakarta")
    assert run_digests(hour, fakes.digest_ports()).sent == 0
    item = fakes.notifications.get_delivery("r1", f"r1.2.{DISDIK}")
    assert item is not None and item.status is DeliveryStatus.QUEUED
    assert run_digests(hour, fakes.digest_ports()).sent == 1  # the scheduler's retry
    first, second = fakes.email.sent
    assert first.message_id == second.message_id


# --- an agency with several addresses ------------------------------------------------------

DINKES_ALL = (
    "pengaduan@dinkes.cianjurkab.example",
    "kepala@dinkes.cianjurkab.example",
    "admin@dinkes.cianjurkab.example",
)


def test_an_agency_with_three_addresses_gets_one_message_to_all_and_one_delivery() -> None:
    fakes = NotifyFakes()
    fakes.notifications.channels[AGENCY] = AgencyChannel(AGENCY, None, DINKES_ALL, SECRET)
    _run(fakes, [ROUTED])

    entry = deliver(agency_message("report.dispositioned", 2, AGENCY), fakes.ports())

    [mail] = fakes.email.sent
    assert mail.recipients == DINKES_ALL and mail.to == ", ".join(DINKES_ALL)
    assert "List-Unsubscribe" not in mail.headers  # one link cannot name one of three
    [email] = entry.channels
    assert (email.status, email.attempts) == (DeliveryStatus.DELIVERED, 1)
    assert email.address == ", ".join(DINKES_ALL)  # the log: all of them, one delivery
    shown = delivery_view(entry, AGENCY)["channels"][0]["address"]
    assert shown == ", ".join(DINKES_ALL)
    for other in ("nasional", REGENCY, None):  # another agency's staff see none of them
        assert not any(a in json.dumps(delivery_view(entry, other)) for a in DINKES_ALL)


def test_an_address_that_unsubscribed_is_left_out_and_the_others_still_get_it() -> None:
    fakes = NotifyFakes()
    fakes.notifications.channels[AGENCY] = AgencyChannel(AGENCY, None, DINKES_ALL, SECRET)
    secret = fakes.settings.token_secret
    fakes.preferences.opt_out(agency_opt_out(secret, AGENCY, DINKES_ALL[1]), NOW)
    _run(fakes, [ROUTED])

    entry = deliver(agency_message("report.dispositioned", 2, AGENCY), fakes.ports())

    [mail] = fakes.email.sent
    assert mail.recipients == (DINKES_ALL[0], DINKES_ALL[2])
    assert entry.channels[0].address == f"{DINKES_ALL[0]}, {DINKES_ALL[2]}"
    for address in (DINKES_ALL[0], DINKES_ALL[2]):
        fakes.preferences.opt_out(agency_opt_out(secret, AGENCY, address), NOW)
    _run(fakes, [ROUTED], report_id="r2")
    stopped = deliver(agency_message("report.dispositioned", 2, AGENCY, "r2"), fakes.ports())
    assert len(fakes.email.sent) == 1  # every address stopped: nothing sent
    assert stopped.channels[0].status is DeliveryStatus.UNSUBSCRIBED
    assert stopped.channels[0].address == ", ".join(DINKES_ALL)


def test_a_relay_error_quoting_an_address_shows_none_of_them() -> None:
    fakes = NotifyFakes()
    quoted = f"SMTP 550: <{DINKES_ALL[1].upper()}> no such mailbox"
    fakes.email.results.append(SendResult(SendOutcome.PERMANENT, 550, quoted))
    fakes.notifications.channels[AGENCY] = AgencyChannel(AGENCY, None, DINKES_ALL, SECRET)
    _run(fakes, [ROUTED])
    entry = deliver(agency_message("report.dispositioned", 2, AGENCY), fakes.ports())
    assert entry.channels[0].last_error == "SMTP 550: <<recipient>> no such mailbox"


def test_the_hourly_digest_goes_as_one_message_to_every_address() -> None:
    fakes = NotifyFakes()
    several = ("pengaduan@disdik.example", "kepala@disdik.example")
    fakes.notifications.channels[DISDIK] = AgencyChannel(DISDIK, None, several, SECRET, True)
    for report_id in ("r1", "r2"):
        deliver(digest_story(fakes, report_id), fakes.ports())

    run = run_digests(digest_hour(NOW, "Asia/Jakarta"), fakes.digest_ports())

    [mail] = fakes.email.sent
    assert (run.sent, run.items) == (1, 2) and mail.recipients == several
    item = fakes.notifications.get_delivery("r1", f"r1.2.{DISDIK}")
    assert item is not None and item.status is DeliveryStatus.DELIVERED
    assert item.channels[0].address == ", ".join(several)


# --- what people see ----------------------------------------------------------------------


def test_staff_see_an_agency_address_only_when_it_is_their_own() -> None:
    fakes = NotifyFakes()
    by_email(fakes, AGENCY)
    _run(fakes, [ROUTED])
    entry = deliver(agency_message("report.dispositioned", 2, AGENCY), fakes.ports())
    assert delivery_view(entry, AGENCY)["channels"][0]["address"] == ADDRESSES[AGENCY]
    for other in ("nasional", REGENCY, None):
        assert ADDRESSES[AGENCY] not in json.dumps(delivery_view(entry, other))


def test_admins_list_the_failed_deliveries_they_answer_for() -> None:
    fakes = NotifyFakes()
    fakes.email.results.extend([SendResult(SendOutcome.PERMANENT, 550, "SMTP 550")] * 2)
    by_email(fakes, AGENCY, REGENCY)
    _run(fakes, [ROUTED])
    deliver(agency_message("report.dispositioned", 2, AGENCY), fakes.ports())
    deliver(agency_message("report.escalated", 2, REGENCY, data=ESCALATION), fakes.ports())

    class Agency:
        deliveries = fakes.notifications

    ports: Any = Agency()
    national, _ = failed_deliveries(Caller("nasional", Role.NATIONAL_ADMIN), ports)
    own, _ = failed_deliveries(Caller(AGENCY, Role.AGENCY_ADMIN), ports)
    assert {d["agency_id"] for d in national} == {AGENCY, REGENCY}
    assert [d["agency_id"] for d in own] == [AGENCY]
    first, cursor = failed_deliveries(Caller("nasional", Role.NATIONAL_ADMIN), ports, limit=1)
    rest, end = failed_deliveries(Caller("nasional", Role.NATIONAL_ADMIN), ports, after=cursor)
    assert len(first) == len(rest) == 1 and first != rest and end is None
    with pytest.raises(NotPermitted):
        failed_deliveries(Caller(UNIT, Role.UNIT_OFFICER), ports)


def test_the_reporter_sees_how_they_were_told_under_the_event() -> None:
    fakes = NotifyFakes()
    fakes.sms.results.append(SendResult(SendOutcome.PERMANENT, 200, "rejected"))
    by_email(fakes, AGENCY)
    _run(fakes, [ROUTED])
    deliver(reporter_message("report.accepted", 1), fakes.ports())
    deliver(agency_message("report.dispositioned", 2, AGENCY), fakes.ports())
    notices = reporter_notices(fakes.notifications.deliveries("r1"))
    assert notices == [
        {"seq": 1, "kind": "report.accepted", "at": NOW.isoformat(), "channels": ["email"]}
    ]  # the agency's e-mail is not the reporter's, and the refused SMS reached nobody


# --- the push edge ---------------------------------------------------------------------


def _push(data: dict[str, Any]) -> Notification:
    raw = base64.b64encode(json.dumps(data).encode()).decode()
    return notification_message(read_push({"message": {"data": raw}}, None, "dead"))


def test_a_push_is_told_apart_by_its_kind() -> None:
    made = reporter_notification(
        notification_id="r1.1.reporter", kind="report.accepted", report_id="r1",
        tracking_code="K7M-2XQ-1RJ", seq=1, data=None, topic="reporter-notifications",
        at=NOW, ce_type="id.lapor.report.accepted.v1", source="//lapor/lifecycle",
    )  # fmt: skip
    parsed = _push(dict(made.data))
    assert isinstance(parsed, ReporterNotification) and parsed.kind == "report.accepted"
    agency = _push({"notification_id": "r1.2.a", "kind": "report.forwarded", "agency_id": "a",
                    "report_id": "r1"})  # fmt: skip
    assert isinstance(agency, NotificationMessage)


@pytest.mark.parametrize(
    "data",
    [
        # a resend names the one channel that matched
        {"notification_id": "r1.resend.1", "kind": "link.resend", "report_id": "r1",
         "tracking_code": "K"},
        # the rest name their event
        {"notification_id": "r1.x.reporter", "kind": "report.resolved", "report_id": "r1",
         "tracking_code": "K"},
        {"notification_id": "r1.2.reporter", "kind": "report.accepted", "report_id": "r1",
         "tracking_code": "K", "seq": 2, "channel": "pigeon"},
        {"notification_id": "r1.2.a", "kind": "report.unknown", "agency_id": "a",
         "report_id": "r1"},
    ],
)  # fmt: skip
def test_a_notification_no_retry_can_fix_is_refused(data: dict[str, Any]) -> None:
    with pytest.raises(MalformedPush, match="not a notification"):
        _push(data)
