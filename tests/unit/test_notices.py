"""Who is told what: every row of docs/lifecycle.md's table, as the commit of each
action carries it (act with the in-memory store), exactly those messages and no others;
an anonymous reporter's identity in none; a retried decision commits the same outbox.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest

from shared.config import Settings
from shared.domain.report import Action, Actor, Command, Region, Report, Role, State
from shared.ports import Change, FixedClock, OutboxMessage, Snapshot
from shared.reference import load_reference
from shared.usecases.act import act
from shared.usecases.escalate import next_command, run_moment
from shared.usecases.notices import notices_for, routing_admin
from shared.usecases.submit import submit_report
from tests.builders import a_draft, an_identity
from tests.fakes import InMemoryPublisher, InMemoryReportStore

SETTINGS = Settings(token_secret="unit-test-secret-0123456789")
REFERENCE = load_reference()
MONDAY = dt.datetime(2026, 12, 7, 3, 0, tzinfo=dt.UTC)  # 10:00 in Jakarta
LATER = MONDAY + dt.timedelta(days=40)  # past every silence and deadline
AGENCY = "dpupr-cianjur"
UNIT = "uptd-jalan-cianjur"
REGIONAL = "pemkab-cianjur"  # the local government of Cianjur (32.03)
ADMIN = Actor(Role.AGENCY_ADMIN, AGENCY)
REGIONAL_ADMIN = Actor(Role.AGENCY_ADMIN, REGIONAL)
NATIONAL_ADMIN = Actor(Role.NATIONAL_ADMIN, "nasional")
REPORTER = Actor(Role.REPORTER, "reporter")
ROUTER = Actor(Role.SYSTEM, "system:route")
SYSTEM = Actor(Role.SYSTEM, "system:escalate")
SITI = an_identity()
AGENCY_TOPIC, REPORTER_TOPIC = "agency-notifications", "reporter-notifications"


class Walk:
    """One report taken through the lifecycle, each action one ``act``."""

    def __init__(self, store: InMemoryReportStore | None = None, **draft: Any) -> None:
        self.store = store or InMemoryReportStore()
        self.publisher = InMemoryPublisher()
        self.report_id = submit_report(
            a_draft(**draft),
            SITI,
            client_id="client",
            idempotency_key=None,
            store=self.store,
            publisher=self.publisher,
            clock=FixedClock(MONDAY),
            settings=SETTINGS,
        ).report_id
        self.changes: list[Change] = []

    def do(
        self, command: Command | Callable[[Report], Command], at: dt.datetime = MONDAY
    ) -> Change:
        change = act(
            self.report_id,
            command,
            store=self.store,
            clock=FixedClock(at),
            settings=SETTINGS,
            reference=REFERENCE,
        )
        self.changes.append(change)
        return change

    @property
    def report(self) -> Report:
        return self.store.reports[self.report_id]

    def dispositioned(self) -> Walk:
        self.do(Command(Action.DISPOSITION, ROUTER, agency_id=AGENCY, data={"method": "rule"}))
        return self

    def in_progress(self) -> Walk:
        self.dispositioned().do(Command(Action.FOLLOW_UP, ADMIN, message="Kami cek besok."))
        return self

    def resolved(self) -> Walk:
        self.in_progress().do(Command(Action.RESOLVE, ADMIN, message="Sudah ditambal."))
        return self

    def on_hold(self, by: Actor = REGIONAL_ADMIN) -> Walk:
        self.do(Command(Action.HOLD, by, reason="Di sisi mana jalannya?"))
        return self


def told(change: Change) -> list[tuple[str, str, str]]:
    """Every notification the change committed: (topic, kind, recipient), checking
    each id is ``<report>.<seq>.<recipient>``. The routing announcement is not one."""
    found = []
    for message in change.outbox:
        if message.topic == SETTINGS.topic_report_submitted:
            continue
        data = message.data
        recipient = str(data.get("agency_id") or "reporter")
        assert message.id == f"{change.report.id}.{change.event.seq}.{recipient}"
        assert data["notification_id"] == message.id == message.attributes["ce-id"]
        assert message.attributes["ce-type"] == f"id.lapor.{data['kind']}.v1"
        found.append((message.topic, str(data["kind"]), recipient))
    return found


def announced_for_routing(change: Change) -> bool:
    return any(m.topic == SETTINGS.topic_report_submitted for m in change.outbox)


def reporter_data(change: Change) -> Any:
    [message] = [m for m in change.outbox if m.topic == REPORTER_TOPIC]
    return message.data["data"]


# --- the reporter ---------------------------------------------------------------------


def test_accepted_tells_the_reporter_in_the_submissions_commit() -> None:
    walk = Walk()

    [accepted] = [m for m in walk.publisher.published if m.topic == REPORTER_TOPIC]

    report = walk.report
    assert accepted.id == f"{report.id}.1.reporter"
    assert dict(accepted.data) == {
        "notification_id": accepted.id,
        "kind": "report.accepted",
        "report_id": report.id,
        "tracking_code": report.tracking_code,
        "seq": 1,
        "channel": None,  # every contact the reporter gave
        "data": {"message": None, "reason": None},
    }
    assert [m.topic for m in walk.publisher.published] == ["report-submitted", REPORTER_TOPIC]
    # Each waits for its consumer: routing settles report.submitted, notify the notice.
    assert set(walk.store.outbox) == {f"{report.id}.1", accepted.id}


def test_the_submission_keeps_the_language_it_was_made_in_with_the_identity() -> None:
    store = InMemoryReportStore()
    result = submit_report(
        a_draft(),
        SITI,
        language="en",
        client_id="client",
        idempotency_key="same-key-1",
        store=store,
        publisher=InMemoryPublisher(),
        clock=FixedClock(MONDAY),
        settings=SETTINGS,
    )
    assert store.identities[result.report_id] == dataclasses.replace(SITI, language="en")
    default = Walk(store)
    assert store.identities[default.report_id].language == "id"
    again = submit_report(
        a_draft(),
        SITI,
        language="id",  # the same report, sent again from a page in the other language
        client_id="client",
        idempotency_key="same-key-1",
        store=store,
        publisher=InMemoryPublisher(),
        clock=FixedClock(MONDAY),
        settings=SETTINGS,
    )
    assert again.replayed and again.report_id == result.report_id


def test_a_hold_tells_the_reporter_the_question() -> None:
    walk = Walk()
    change = walk.on_hold().changes[-1]

    assert told(change) == [(REPORTER_TOPIC, "report.on_hold", "reporter")]
    assert reporter_data(change) == {"message": None, "reason": "Di sisi mana jalannya?"}


@pytest.mark.parametrize(
    ("action", "kind"),
    [(Action.FOLLOW_UP, "report.followed_up"), (Action.RESOLVE, "report.resolved")],
)
def test_a_follow_up_and_a_resolution_tell_the_reporter_what_the_agency_wrote(
    action: Action, kind: str
) -> None:
    walk = Walk().in_progress()

    change = walk.do(Command(action, ADMIN, message="Lubang ditambal hari ini."))

    assert told(change) == [(REPORTER_TOPIC, kind, "reporter")]
    assert reporter_data(change) == {"message": "Lubang ditambal hari ini.", "reason": None}


def test_closing_after_the_reporters_silence_tells_the_reporter() -> None:
    walk = Walk().resolved()

    change = walk.do(Command(Action.AUTO_CLOSE, SYSTEM), at=LATER)

    assert told(change) == [(REPORTER_TOPIC, "report.closed", "reporter")]


@pytest.mark.parametrize("by", ["admin", "system"])
def test_archiving_tells_the_reporter_why(by: str) -> None:
    walk = Walk()
    if by == "admin":
        change = walk.do(Command(Action.ARCHIVE, REGIONAL_ADMIN, reason="Laporan ganda."))
        reason = "Laporan ganda."
    else:
        walk.on_hold()
        change = walk.do(Command(Action.ARCHIVE, SYSTEM, reason="Tidak dijawab."), at=LATER)
        reason = "Tidak dijawab."

    assert told(change) == [(REPORTER_TOPIC, "report.archived", "reporter")]
    assert reporter_data(change) == {"message": None, "reason": reason}


# --- the agencies ---------------------------------------------------------------------


@pytest.mark.parametrize("by", [ROUTER, REGIONAL_ADMIN, NATIONAL_ADMIN])
def test_a_disposition_any_way_tells_the_receiving_agency(by: Actor) -> None:
    walk = Walk()

    change = walk.do(Command(Action.DISPOSITION, by, agency_id=AGENCY))

    assert told(change) == [(AGENCY_TOPIC, "report.dispositioned", AGENCY)]
    [message] = change.outbox
    assert dict(message.data) == {
        "notification_id": f"{walk.report_id}.2.{AGENCY}",
        "kind": "report.dispositioned",
        "agency_id": AGENCY,
        "report_id": walk.report_id,
        "tracking_code": walk.report.tracking_code,
        "data": None,
    }


def test_forwarding_tells_the_unit() -> None:
    walk = Walk().dispositioned()

    change = walk.do(Command(Action.FORWARD, ADMIN, unit_id=UNIT))

    assert told(change) == [(AGENCY_TOPIC, "report.forwarded", UNIT)]


def test_a_disposition_straight_to_a_unit_tells_the_agency_and_the_unit() -> None:
    walk = Walk()

    change = walk.do(
        Command(Action.DISPOSITION, ROUTER, agency_id=AGENCY, unit_id=UNIT, data={"method": "rule"})
    )

    assert told(change) == [
        (AGENCY_TOPIC, "report.dispositioned", AGENCY),
        (AGENCY_TOPIC, "report.forwarded", UNIT),
    ]


def test_bukan_wewenang_tells_the_regional_admin_who_must_route_it() -> None:
    walk = Walk().dispositioned()

    change = walk.do(Command(Action.NOT_OUR_AUTHORITY, ADMIN, reason="Jalan provinsi."))

    assert told(change) == [(AGENCY_TOPIC, "report.returned", REGIONAL)]
    [returned] = [m for m in change.outbox if m.topic == AGENCY_TOPIC]
    assert returned.data["data"] == {
        "action": "not_our_authority",
        "reason": "Jalan provinsi.",
        "returned_by": AGENCY,
    }
    assert announced_for_routing(change)  # and routing tries again


@pytest.mark.parametrize(
    ("region", "admin"),
    [
        (Region("32", "32.03"), REGIONAL),  # the regency
        (Region("32", "32.04"), "pemprov-jabar"),  # no regency in the tree: the province
        (Region("33", "33.01"), "nasional"),  # no local government at all: the nation
    ],
)
def test_a_report_queued_for_an_admin_tells_the_admin_who_must_route_it(
    region: Region, admin: str
) -> None:
    walk = Walk(region=region)

    change = walk.do(Command(Action.QUEUE_FOR_ADMIN, ROUTER, reason="Tidak ada aturan yang cocok."))

    assert told(change) == [(AGENCY_TOPIC, "report.returned", admin)]
    assert routing_admin(walk.report, REFERENCE) == admin
    [queued] = change.outbox
    assert queued.data["data"] == {
        "action": "queue_for_admin",
        "reason": "Tidak ada aturan yang cocok.",
    }


@pytest.mark.parametrize(
    ("forwarded", "handling"), [(False, AGENCY), (True, UNIT)], ids=["agency", "unit"]
)
def test_a_reporter_reply_tells_the_handling_agency_or_unit(forwarded: bool, handling: str) -> None:
    walk = Walk().dispositioned()
    if forwarded:
        walk.do(Command(Action.FORWARD, ADMIN, unit_id=UNIT))
    walk.do(Command(Action.FOLLOW_UP, ADMIN, message="Kami cek."))

    change = walk.do(Command(Action.REPORTER_REPLY, REPORTER, message="Terima kasih."))

    assert told(change) == [(AGENCY_TOPIC, "report.reporter_replied", handling)]


def test_a_reopen_tells_the_handling_agency() -> None:
    walk = Walk().resolved()

    change = walk.do(Command(Action.REOPEN, REPORTER, reason="Berlubang lagi."))

    assert told(change) == [(AGENCY_TOPIC, "report.reopened", AGENCY)]


@pytest.mark.parametrize("holder", [REGIONAL_ADMIN, NATIONAL_ADMIN], ids=lambda a: a.id)
def test_an_answered_hold_tells_the_agency_whose_admin_put_it_on_hold(holder: Actor) -> None:
    walk = Walk().on_hold(by=holder)
    assert walk.report.on_hold_by == holder.id

    change = walk.do(Command(Action.ANSWER_HOLD, REPORTER, message="Sisi kiri."))

    assert told(change) == [(AGENCY_TOPIC, "report.hold_answered", holder.id)]
    assert announced_for_routing(change)
    assert walk.report.on_hold_by is None


def test_a_hold_put_before_its_holder_was_kept_tells_the_admin_who_routes_it() -> None:
    walk = Walk().on_hold(by=NATIONAL_ADMIN)
    walk.store.reports[walk.report_id] = dataclasses.replace(walk.report, on_hold_by=None)

    change = walk.do(Command(Action.ANSWER_HOLD, REPORTER, message="Sisi kiri."))

    assert told(change) == [(AGENCY_TOPIC, "report.hold_answered", REGIONAL)]


def test_an_escalation_tells_whom_the_tier_names_as_the_event_recorded_them() -> None:
    walk = Walk().dispositioned()
    run_date = walk.report.clock_due  # the reminder's day has come
    assert run_date is not None

    def fire(report: Report) -> Command:
        command = next_command(
            report,
            run_date,
            SETTINGS.calendar(),
            SETTINGS.deadline_policy(),
            REFERENCE,
            SETTINGS,
        )
        assert command is not None and command.action is Action.ESCALATE
        return command

    change = walk.do(fire, at=run_moment(run_date, SETTINGS))

    named = [pair.split(":")[1] for pair in str(change.event.data["notified"]).split(",")]
    assert named  # the tier names someone
    assert told(change) == [(AGENCY_TOPIC, "report.escalated", agency) for agency in named]
    tiers = {m.data["data"]["tier"] for m in change.outbox}  # type: ignore[index]
    assert tiers == {change.event.data["tier"]}


# --- nobody ---------------------------------------------------------------------------


def test_confirming_rating_and_marking_supervisory_tell_nobody() -> None:
    walk = Walk().dispositioned()
    marked = walk.do(Command(Action.MARK_SUPERVISORY, ADMIN, reason="Dugaan pungli."))
    walk.do(Command(Action.FOLLOW_UP, ADMIN, message="Diperiksa."))
    walk.do(Command(Action.RESOLVE, ADMIN, message="Selesai."))
    confirmed = walk.do(Command(Action.CONFIRM, REPORTER))
    rated = walk.do(Command(Action.RATE, REPORTER, rating=5))

    assert [change.outbox for change in (marked, confirmed, rated)] == [(), (), ()]


# --- privacy and retries --------------------------------------------------------------


def test_an_anonymous_reporters_identity_is_in_no_message() -> None:
    walk = Walk(anonymous=True)
    walk.on_hold().do(Command(Action.ANSWER_HOLD, REPORTER, message="Sisi kiri."))
    walk.dispositioned()
    walk.do(Command(Action.FORWARD, ADMIN, unit_id=UNIT))
    walk.do(Command(Action.FOLLOW_UP, ADMIN, message="Kami cek."))
    walk.do(Command(Action.REPORTER_REPLY, REPORTER, message="Terima kasih."))
    walk.do(Command(Action.RESOLVE, ADMIN, message="Selesai."))
    walk.do(Command(Action.REOPEN, REPORTER, reason="Belum."))

    messages: list[OutboxMessage] = [
        *walk.publisher.published,
        *(m for change in walk.changes for m in change.outbox),
    ]
    agency = [m for m in messages if m.topic == AGENCY_TOPIC]
    assert {str(m.data["kind"]) for m in agency} == {
        "report.hold_answered",
        "report.dispositioned",
        "report.forwarded",
        "report.reporter_replied",
        "report.reopened",
    }
    for message in messages:
        text = json.dumps([dict(message.data), dict(message.attributes)])
        for personal in (SITI.name, SITI.email, SITI.phone):
            assert personal is not None and personal not in text


class RecordingStore(InMemoryReportStore):
    """Runs each transaction's decision several times, as a contended one would, and
    keeps every run's change."""

    def __init__(self) -> None:
        super().__init__(decide_runs=3)
        self.decided: list[Change] = []

    def transition(
        self, report_id: str, decide: Callable[[Report], Change], known: Snapshot | None = None
    ) -> Change:
        def recording(report: Report) -> Change:
            change = decide(report)
            self.decided.append(change)
            return change

        return super().transition(report_id, recording, known)


@pytest.mark.parametrize(
    "command",
    [
        Command(Action.NOT_OUR_AUTHORITY, ADMIN, reason="Jalan provinsi."),
        Command(Action.FOLLOW_UP, ADMIN, message="Kami cek."),
    ],
    ids=lambda c: c.action.value,
)
def test_a_retried_decision_commits_the_same_outbox(command: Command) -> None:
    store = RecordingStore()
    walk = Walk(store).dispositioned()
    store.decided.clear()

    change = walk.do(command)

    assert len(store.decided) == 3
    assert all(decided.outbox == change.outbox for decided in store.decided)
    assert change.outbox and all(store.outbox[m.id] == m for m in change.outbox)


def test_the_derivation_is_a_function_of_the_event() -> None:
    walk = Walk().dispositioned()
    before = walk.report
    change = walk.do(Command(Action.FORWARD, ADMIN, unit_id=UNIT))

    again = notices_for(before, change.report, change.event, settings=SETTINGS)

    assert again == change.outbox
    assert change.report.state is State.DISPOSITIONED
