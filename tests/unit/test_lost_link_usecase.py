""" "Lost your link?" with in-memory fakes: only a match sends, and nothing else tells a
match from a mismatch or an unknown code (the same reads, no error); the limits."""

from __future__ import annotations

import datetime as dt

import pytest

from shared.config import Settings
from shared.domain.privacy import ReporterIdentity
from shared.ports import FixedClock
from shared.topology import REPORTER_NOTIFICATIONS
from shared.usecases.lost_link import Contact, request_link_resend
from shared.usecases.notify import ReporterNotification
from shared.usecases.submit import RateLimited, SubmitResult, submit_report
from tests.builders import a_draft, an_identity
from tests.fakes import InMemoryPublisher, InMemoryReportStore

NOW = dt.datetime(2025, 3, 4, 2, 30, tzinfo=dt.UTC)  # 09:30 in Jakarta
SETTINGS = Settings(
    token_secret="unit-test-secret-0123456789",
    lost_link_client_limit=5,
    lost_link_report_daily_limit=2,
)
CLIENT = "198.51.100.7"
EMAIL = Contact("email", "Siti@Example.ID")
PHONE = Contact("sms", "+6281234567890")


class World:
    def __init__(self, identity: ReporterIdentity | None = None) -> None:
        self.store = InMemoryReportStore()
        self.publisher = InMemoryPublisher()
        self.clock = FixedClock(NOW)
        self.report: SubmitResult = submit_report(
            a_draft(),
            identity or an_identity(email="siti@example.id", phone="+6281234567890"),
            client_id="203.0.113.9",
            idempotency_key=None,
            store=self.store,
            publisher=self.publisher,
            clock=self.clock,
            settings=SETTINGS,
        )
        self.publisher.published.clear()
        self.store.outbox.clear()

    def ask(self, contact: Contact, code: str | None = None, client: str = CLIENT) -> None:
        request_link_resend(
            code or self.report.tracking_code,
            contact,
            client_id=client,
            store=self.store,
            publisher=self.publisher,
            clock=self.clock,
            settings=SETTINGS,
        )

    def sent(self) -> list[ReporterNotification]:
        return [ReporterNotification.model_validate(m.data) for m in self.publisher.published]


def test_a_matching_email_sends_the_link_to_that_channel_only() -> None:
    world = World()
    world.ask(EMAIL)  # compared without regard to case
    [message] = world.publisher.published
    notification = ReporterNotification.model_validate(message.data)
    assert message.topic == REPORTER_NOTIFICATIONS
    assert notification.kind == "link.resend" and notification.channel == "email"
    assert notification.report_id == world.report.report_id
    assert notification.tracking_code == world.report.tracking_code
    assert notification.notification_id.startswith(f"{world.report.report_id}.resend.")
    assert message.attributes["ce-type"] == "id.lapor.link.resend.v1"
    # Nothing personal on the bus: the contact is read from the identity by notify.
    assert "siti" not in str(message.data).lower() and "0812" not in str(message.data)
    assert set(world.store.outbox) == {message.id}, "notify settles it once it is sent"


def test_a_matching_phone_sends_by_sms() -> None:
    world = World()
    world.ask(PHONE)
    assert [n.channel for n in world.sent()] == ["sms"]


@pytest.mark.parametrize(
    ("contact", "code"),
    [
        (Contact("email", "someone@example.id"), None),  # another address
        (Contact("sms", "+6281299999999"), None),  # another phone
        (Contact("email", "+6281234567890"), None),  # the phone, on the wrong channel
        (EMAIL, "K7M-2XQ-9RJ"),  # no such report
    ],
)
def test_a_mismatch_or_an_unknown_code_sends_nothing_and_reads_the_same(
    contact: Contact, code: str | None
) -> None:
    world = World()
    reads, commits = world.store.reads, world.store.commits
    world.ask(contact, code)  # no exception either: the caller answers the same
    assert world.publisher.published == [] and world.store.outbox == {}
    assert world.store.reads - reads == 2  # the report by its code, then an identity
    assert world.store.commits - commits == 1  # the client's rate slot, like a match's first

    matched = World()
    reads = matched.store.reads
    matched.ask(EMAIL)
    assert matched.store.reads - reads == 2


def test_a_reporter_without_that_contact_never_matches_an_empty_one() -> None:
    world = World(ReporterIdentity(name=None, email=None, phone=None))
    world.ask(Contact("email", ""))
    world.ask(Contact("sms", ""))
    assert world.publisher.published == []


def test_a_client_past_its_limit_is_refused_before_any_lookup() -> None:
    world = World()
    for _ in range(SETTINGS.lost_link_client_limit):
        world.ask(Contact("email", "someone@example.id"))
    reads = world.store.reads
    with pytest.raises(RateLimited) as refused:
        world.ask(EMAIL)
    assert 0 < refused.value.retry_after_s <= SETTINGS.lost_link_window_s
    # Only the taken slots were counted: the report was not looked up.
    assert world.store.reads - reads == SETTINGS.lost_link_client_limit
    world.ask(EMAIL, client="192.0.2.44")  # another client is not limited
    assert len(world.sent()) == 1
    world.clock.advance(dt.timedelta(seconds=SETTINGS.lost_link_window_s))
    world.ask(EMAIL)  # the next window
    assert len(world.sent()) == 2


def test_a_report_gets_at_most_its_daily_links_silently_and_more_the_next_day() -> None:
    world = World()
    for n in range(SETTINGS.lost_link_report_daily_limit + 2):
        world.ask(EMAIL, client=f"192.0.2.{n}")
    sent = world.sent()
    assert len(sent) == SETTINGS.lost_link_report_daily_limit
    assert len({n.notification_id for n in sent}) == len(sent)
    world.clock.advance(dt.timedelta(days=1))
    world.ask(EMAIL, client="192.0.2.99")
    assert len(world.sent()) == SETTINGS.lost_link_report_daily_limit + 1
    assert len({n.notification_id for n in world.sent()}) == len(world.sent())


def test_when_the_bus_refuses_the_entry_waits_for_the_sweeper() -> None:
    world = World()
    world.publisher.fail = True
    world.ask(EMAIL)
    [pending] = world.store.outbox.values()
    assert pending.data["kind"] == "link.resend" and pending.topic == REPORTER_NOTIFICATIONS
