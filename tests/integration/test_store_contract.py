"""The fakes of tests/fakes.py held to the Firestore adapters: the same assertions run
against both, the adapters on the real emulator.

A unit test may trust a fake only as far as this file holds it: when the adapter
changes what a use case could observe, a test here fails for one side.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from google.api_core.exceptions import AlreadyExists
from google.cloud import firestore

from shared.adapters.firestore import (
    FirestoreAgencyStore,
    FirestoreNotificationStore,
    FirestoreReportStore,
)
from shared.config import Settings
from shared.domain import report as lifecycle
from shared.domain.report import (
    Action,
    Actor,
    Command,
    IllegalTransition,
    LifecycleError,
    Region,
    Report,
    Role,
    State,
)
from shared.domain.tracking import new_tracking_code
from shared.ports import (
    AgencyChannel,
    ApiKeyRecord,
    Change,
    ChannelDelivery,
    Delivery,
    DeliveryClaim,
    DeliveryStatus,
    Digest,
    FixedClock,
    IdempotencyKeyTaken,
    IdempotencyRecord,
    InboxQuery,
    NewSubmission,
    RateSlot,
    RateSlotTaken,
    ReportNotFound,
    Scope,
    Snapshot,
    Tally,
    TrackingCodeTaken,
)
from shared.usecases.act import act
from shared.usecases.notices import notices_for
from shared.usecases.notify import reporter_notification
from shared.usecases.submit import submitted_event
from tests.builders import a_draft, an_identity
from tests.fakes import (
    InMemoryAgencyStore,
    InMemoryNotificationStore,
    InMemoryReportStore,
)
from tools.stack import Emulators

NOW = dt.datetime(2026, 3, 2, 3, 0, 15, 123456, tzinfo=dt.UTC)
SETTINGS = Settings(token_secret="test-token-secret-not-for-production")
ROUTER = Actor(Role.SYSTEM, "system:route")
_SLOTS = itertools.count()


@dataclass
class Backend:
    """One implementation of the stores, and what a test needs to look behind them."""

    reports: Any  # ReportStore, RouteStore and OutboxStore
    agencies: Any  # ApiKeyStore and InboxStore
    notifications: Any  # DeliveryLog and AgencyChannels, plus deliveries(report_id)
    outbox_ids: Callable[[], set[str]]
    tally: Callable[[str, str, str], int]
    reads: Callable[[], int]  # documents the report store has read so far
    add_api_key: Callable[[ApiKeyRecord], None]
    add_channel: Callable[[AgencyChannel], None]


def _fake() -> Backend:
    reports = InMemoryReportStore()
    agencies = InMemoryAgencyStore(reports)
    notifications = InMemoryNotificationStore(outbox=reports.outbox)
    return Backend(
        reports=reports,
        agencies=agencies,
        notifications=notifications,
        outbox_ids=lambda: set(reports.outbox),
        tally=lambda counter, key, field: reports.tallies.get((counter, key, field), 0),
        reads=lambda: reports.reads,
        add_api_key=lambda record: agencies.api_keys.__setitem__(record.key_hash, record),
        add_channel=lambda channel: notifications.channels.__setitem__(channel.agency_id, channel),
    )


def _firestore(client: firestore.Client) -> Backend:
    def tally(counter: str, key: str, field: str) -> int:
        doc = client.collection(counter).document(key).get().to_dict() or {}
        return int(doc.get(field, 0))

    def add_api_key(record: ApiKeyRecord) -> None:
        # The document tools/api_keys.py writes.
        client.collection("api_keys").document(record.key_hash).create(
            {
                "schema_version": 1,
                "key_hash": record.key_hash,
                "agency_id": record.agency_id,
                "role": record.role.value,
                "label": record.label,
                "created_at": record.created_at,
                "revoked": record.revoked,
            }
        )

    def add_channel(channel: AgencyChannel) -> None:
        # The documents tools/seed.py writes.
        notification = {
            "webhook_url": channel.webhook_url,
            "emails": list(channel.emails),
            "digest": "hourly" if channel.digest else None,
        }
        client.collection("agencies").document(channel.agency_id).set(
            {"id": channel.agency_id, "notification": notification}
        )
        if channel.secret:
            client.collection("agency_secrets").document(channel.agency_id).set(
                {"schema_version": 1, "webhook_secret": channel.secret}
            )

    reports = FirestoreReportStore(client)
    return Backend(
        reports=reports,
        agencies=FirestoreAgencyStore(client),
        notifications=FirestoreNotificationStore(client),
        outbox_ids=lambda: {doc.id for doc in client.collection("outbox").stream()},
        tally=tally,
        reads=lambda: reports.stats.reads,
        add_api_key=add_api_key,
        add_channel=add_channel,
    )


@pytest.fixture(params=["fake", "firestore"])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    if request.param == "fake":
        yield _fake()
        return
    emulators: Emulators = request.getfixturevalue("clean_emulators")
    client = firestore.Client(project=emulators.project)
    yield _firestore(client)
    client.close()


# --- helpers ----------------------------------------------------------------------------


def _submission(
    store: Any,
    *,
    at: dt.datetime = NOW,
    tracking_code: str | None = None,
    key_hash: str | None = None,
    slot: RateSlot | None = None,
    region: Region | None = None,
) -> NewSubmission:
    report_id = store.new_report_id()
    code = tracking_code or new_tracking_code()
    draft = a_draft(region=region) if region else a_draft()
    report, event = lifecycle.submit(
        draft, report_id, code, at, SETTINGS.calendar(), SETTINGS.deadline_policy()
    )
    outbox = submitted_event(report, f"{report_id}.1", at, SETTINGS.topic_report_submitted)
    record = (
        IdempotencyRecord(key_hash, "fp", report_id, code, at + dt.timedelta(hours=24))
        if key_hash
        else None
    )
    claim = slot or RateSlot(f"client:{next(_SLOTS)}", 0, at + dt.timedelta(hours=1))
    return NewSubmission(report, event, an_identity(), outbox, claim, record)


def _submitted(store: Any, **how: Any) -> Report:
    submission = _submission(store, **how)
    store.create_submission(submission)
    return submission.report


def _get(store: Any, report_id: str) -> Report:
    report = store.get(report_id)
    assert isinstance(report, Report), report_id
    return report


def _disposition(store: Any, report_id: str, agency_id: str, at: dt.datetime = NOW) -> Change:
    command = Command(Action.DISPOSITION, ROUTER, agency_id=agency_id)
    return act(report_id, command, store=store, clock=FixedClock(at), settings=SETTINGS)


# --- the submission commit: its claims ---------------------------------------------------


def test_a_submission_is_stored_whole_and_found_by_its_tracking_code(backend: Backend) -> None:
    store = backend.reports
    submission = _submission(store)

    store.create_submission(submission)

    report = submission.report
    assert store.get(report.id) == report
    assert store.find_by_tracking_code(report.tracking_code) == report
    assert list(store.timeline(report.id)) == [submission.event]
    assert store.identity(report.id) == an_identity()
    assert backend.outbox_ids() == {submission.outbox.id}
    assert store.pending_outbox_entry(submission.outbox.id) == submission.outbox


def test_a_submission_commits_what_it_tells_and_keeps_the_reporters_language(
    backend: Backend,
) -> None:
    store = backend.reports
    plain = _submission(store)
    identity = dataclasses.replace(an_identity(), language="en")
    told = notices_for(None, plain.report, plain.event, settings=SETTINGS)
    submission = dataclasses.replace(plain, identity=identity, notifications=told)

    store.create_submission(submission)

    report_id = submission.report.id
    assert store.identity(report_id) == identity
    assert backend.outbox_ids() == {submission.outbox.id, f"{report_id}.1.reporter"}
    assert store.pending_outbox_entry(f"{report_id}.1.reporter") == told[0]


def test_a_replayed_idempotency_key_is_refused_with_the_first_record_and_writes_nothing(
    backend: Backend,
) -> None:
    store = backend.reports
    first = _submission(store, key_hash="key-1")
    store.create_submission(first)
    # The same key, from a client whose slot is taken too: the replay is what counts.
    again = _submission(store, key_hash="key-1", slot=first.rate_slot)

    with pytest.raises(IdempotencyKeyTaken) as taken:
        store.create_submission(again)

    assert taken.value.previous == first.idempotency
    assert store.get(again.report.id) is None
    assert backend.outbox_ids() == {first.outbox.id}


def test_a_taken_rate_slot_is_refused_and_the_taken_slots_can_be_listed(
    backend: Backend,
) -> None:
    store = backend.reports
    slot = RateSlot("client-b:42", 3, NOW + dt.timedelta(hours=1))
    store.create_submission(_submission(store, slot=slot))
    again = _submission(store, slot=slot)

    with pytest.raises(RateSlotTaken):
        store.create_submission(again)

    assert store.get(again.report.id) is None
    assert store.taken_rate_slots("client-b:42") == frozenset({3})
    assert store.taken_rate_slots("client-b:43") == frozenset()


def test_a_rate_slot_claimed_alone_or_with_a_link_resend_is_taken_once(
    backend: Backend,
) -> None:
    store = backend.reports
    client = RateSlot("lost-link:client-c:7", 2, NOW + dt.timedelta(hours=1))
    store.claim_rate_slot(client)
    with pytest.raises(RateSlotTaken):
        store.claim_rate_slot(client)
    assert store.taken_rate_slots("lost-link:client-c:7") == frozenset({2})

    report = _submitted(store)
    store.settle_outbox([f"{report.id}.1"])
    resend = reporter_notification(
        notification_id=f"{report.id}.resend.2026030200",
        kind="link.resend",
        report_id=report.id,
        tracking_code=report.tracking_code,
        seq=None,
        data=None,
        topic="reporter-notifications",
        at=NOW,
        ce_type="id.lapor.link.resend.v1",
        source="//lapor/functions/submit",
        channel="email",
    )
    slot = RateSlot(f"resend:{report.id}:2026-03-02", 0, NOW + dt.timedelta(days=2))
    store.commit_link_resend(slot, resend)
    assert backend.outbox_ids() == {resend.id}
    assert store.pending_outbox_entry(resend.id) == resend

    again = dataclasses.replace(resend, id=f"{report.id}.resend.2026030201")
    with pytest.raises(RateSlotTaken):
        store.commit_link_resend(slot, again)
    assert backend.outbox_ids() == {resend.id}, "a refused commit writes nothing"
    assert store.taken_rate_slots(slot.window_key) == frozenset({0})


def test_a_taken_tracking_code_is_refused(backend: Backend) -> None:
    store = backend.reports
    first = _submitted(store)
    again = _submission(store, tracking_code=first.tracking_code)

    with pytest.raises(TrackingCodeTaken):
        store.create_submission(again)

    assert store.get(again.report.id) is None
    assert store.find_by_tracking_code(first.tracking_code) == first


# --- transitions -------------------------------------------------------------------------


def test_a_transition_commits_the_report_its_event_its_outbox_and_settles(
    backend: Backend,
) -> None:
    store = backend.reports
    report = _submitted(store)

    change = act(
        report.id,
        Command(Action.DISPOSITION, ROUTER, agency_id="dpupr-cianjur"),
        store=store,
        clock=FixedClock(NOW),
        settings=SETTINGS,
        settle=(f"{report.id}.1",),
    )
    [note] = change.outbox  # the agency is told

    assert store.get(report.id) == change.report
    assert change.report.state is State.DISPOSITIONED
    assert [e.seq for e in store.timeline(report.id)] == [1, 2]
    assert store.timeline(report.id)[-1] == change.event
    # The settled entry is gone, not marked: the outbox holds only what may be sent.
    assert backend.outbox_ids() == {note.id}
    assert store.pending_outbox_entry(f"{report.id}.1") is None
    assert store.pending_outbox_entry(note.id) == note


def test_a_refused_transition_writes_nothing(backend: Backend) -> None:
    store = backend.reports
    report = _submitted(store)

    with pytest.raises(IllegalTransition):
        act(
            report.id,
            Command(Action.RESOLVE, Actor(Role.AGENCY_ADMIN, "dpupr-cianjur"), message="x"),
            store=store,
            clock=FixedClock(NOW),
            settings=SETTINGS,
        )

    assert store.get(report.id) == report
    assert [e.seq for e in store.timeline(report.id)] == [1]
    assert backend.outbox_ids() == {f"{report.id}.1"}


def test_a_transition_of_an_unknown_report_raises_not_found(backend: Backend) -> None:
    with pytest.raises(ReportNotFound):
        _disposition(backend.reports, "no-such-report", "dpupr-cianjur")


def test_an_event_whose_sequence_is_taken_fails_like_a_create_precondition(
    backend: Backend,
) -> None:
    store = backend.reports
    report = _submitted(store)
    first_event = store.timeline(report.id)[0]

    def rewrite_the_first_event(current: Report) -> Change:
        changed = dataclasses.replace(current, title="Ditulis ulang", last_seq=1)
        return Change(changed, dataclasses.replace(first_event, message="again"))

    with pytest.raises(AlreadyExists):
        store.transition(report.id, rewrite_the_first_event)

    assert store.get(report.id) == report
    assert list(store.timeline(report.id)) == [first_event]


def test_a_change_must_end_at_its_own_event(backend: Backend) -> None:
    store = backend.reports
    report = _submitted(store)

    def skip_a_sequence_number(current: Report) -> Change:
        after, event = lifecycle.apply(
            current,
            Command(Action.DISPOSITION, ROUTER, agency_id="dpupr-cianjur"),
            NOW,
            SETTINGS.calendar(),
            SETTINGS.deadline_policy(),
        )
        return Change(dataclasses.replace(after, last_seq=5), event)

    with pytest.raises(ValueError, match="end at its event"):
        store.transition(report.id, skip_a_sequence_number)
    assert store.get(report.id) == report


def test_what_commits_is_what_the_last_run_of_the_decision_returned(backend: Backend) -> None:
    store = backend.reports
    report = _submitted(store)
    runs: list[Change] = []

    def decide(current: Report) -> Change:
        # Each run answers differently, so a committed change from an earlier run shows.
        command = Command(Action.DISPOSITION, ROUTER, agency_id=f"agency-{len(runs)}")
        after, event = lifecycle.apply(
            current, command, NOW, SETTINGS.calendar(), SETTINGS.deadline_policy()
        )
        runs.append(Change(after, event))
        return runs[-1]

    committed = store.transition(report.id, decide)

    assert runs and committed == runs[-1]
    assert _get(store, report.id) == runs[-1].report


def test_tallies_add_up_across_commits(backend: Backend) -> None:
    store = backend.reports
    first, second = _submitted(store), _submitted(store)
    tally = Tally("routing_stats", "rule-1", "not_our_authority")

    for report in (first, second):

        def decide(current: Report) -> Change:
            after, event = lifecycle.apply(
                current,
                Command(Action.DISPOSITION, ROUTER, agency_id="dpupr-cianjur"),
                NOW,
                SETTINGS.calendar(),
                SETTINGS.deadline_policy(),
            )
            return Change(after, event, tallies=(tally,))

        store.transition(report.id, decide)

    assert backend.tally("routing_stats", "rule-1", "not_our_authority") == 2
    assert backend.tally("routing_stats", "rule-1", "dispositions") == 0


def test_the_timeline_comes_back_in_sequence_order(backend: Backend) -> None:
    store = backend.reports
    report = _submitted(store)
    _disposition(store, report.id, "dpupr-cianjur")
    agency = Actor(Role.AGENCY_ADMIN, "dpupr-cianjur")
    for text in ("Ditinjau.", "Dijadwalkan.", "Dikerjakan."):
        act(
            report.id,
            Command(Action.FOLLOW_UP, agency, message=text),
            store=store,
            clock=FixedClock(NOW),
            settings=SETTINGS,
        )

    timeline = store.timeline(report.id)

    assert [e.seq for e in timeline] == [1, 2, 3, 4, 5]
    assert [e.message for e in timeline[2:]] == ["Ditinjau.", "Dijadwalkan.", "Dikerjakan."]


# --- the outbox: settling and sweeping -------------------------------------------------------


def test_settling_deletes_entries_and_a_sweep_of_a_settled_entry_does_not_revive_it(
    backend: Backend,
) -> None:
    store = backend.reports
    old = _submitted(store, at=NOW - dt.timedelta(minutes=10))
    older = _submitted(store, at=NOW - dt.timedelta(minutes=20))
    young = _submitted(store, at=NOW)

    pending = store.pending_outbox(NOW - dt.timedelta(minutes=1), 10)
    assert [m.id for m in pending] == [f"{older.id}.1", f"{old.id}.1"]  # oldest first
    assert [m.id for m in store.pending_outbox(NOW, 1)] == [f"{older.id}.1"]

    store.settle_outbox([f"{older.id}.1"])
    store.record_sweep([f"{older.id}.1", f"{old.id}.1"], NOW)

    assert backend.outbox_ids() == {f"{old.id}.1", f"{young.id}.1"}
    assert store.pending_outbox_entry(f"{older.id}.1") is None
    assert [m.id for m in store.pending_outbox(NOW, 10)] == [f"{old.id}.1"]


# --- the agency store: API keys and the inbox -----------------------------------------------


def test_an_api_key_is_found_by_its_hash_and_an_unknown_one_is_not(backend: Backend) -> None:
    record = ApiKeyRecord("a" * 64, "dpupr-cianjur", Role.AGENCY_ADMIN, "staff", NOW)
    revoked = ApiKeyRecord("b" * 64, "dinkes-cianjur", Role.UNIT_OFFICER, "", NOW, revoked=True)
    backend.add_api_key(record)
    backend.add_api_key(revoked)

    assert backend.agencies.api_key("a" * 64) == record
    assert backend.agencies.api_key("b" * 64) == revoked
    assert backend.agencies.api_key("c" * 64) is None


def _inbox_ids(backend: Backend, query: InboxQuery) -> list[list[str]]:
    """Every page of ``query``, as report ids, following the cursor to the end."""
    pages: list[list[str]] = []
    after = None
    while True:
        page = backend.agencies.inbox(dataclasses.replace(query, after=after))
        pages.append([r.id for r in page.reports])
        if page.next_after is None:
            return pages
        after = page.next_after


def test_the_inbox_pages_newest_first_through_the_cursor(backend: Backend) -> None:
    store = backend.reports
    mine = [_submitted(store, at=NOW + dt.timedelta(minutes=i)) for i in range(5)]
    for report in mine:
        _disposition(store, report.id, "dpupr-cianjur")
    theirs = _submitted(store, at=NOW + dt.timedelta(minutes=9))
    _disposition(store, theirs.id, "dinkes-cianjur")
    scope = Scope(agencies=frozenset({"dpupr-cianjur", "uptd-jalan-cianjur"}))

    pages = _inbox_ids(backend, InboxQuery(scope, limit=2))

    newest_first = [r.id for r in reversed(mine)]
    assert pages == [newest_first[0:2], newest_first[2:4], newest_first[4:]]


def test_the_overdue_inbox_follows_the_running_clock_most_overdue_first(
    backend: Backend,
) -> None:
    store = backend.reports
    routed = [_submitted(store) for _ in range(3)]
    # Dispositioned on three working days (Mon, Tue, Wed): three resolution deadlines,
    # the latest disposition first so the order is not the order of writing.
    for days, report in zip((2, 1, 0), routed, strict=True):
        _disposition(store, report.id, "dpupr-cianjur", at=NOW + dt.timedelta(days=days))
    a_week_ago = NOW - dt.timedelta(days=7)
    unverified = _submitted(store, at=a_week_ago)  # its verification clock ran out
    held = _submitted(store, at=a_week_ago)
    national = Actor(Role.NATIONAL_ADMIN, "nasional")
    hold = Command(Action.HOLD, national, reason="Di mana persisnya?")
    act(held.id, hold, store=store, clock=FixedClock(NOW), settings=SETTINGS)
    running = [_get(store, r.id) for r in (unverified, *routed)]
    dues = [r.clock_due for r in running]
    assert None not in dues and len(set(dues)) == 4 and _get(store, held.id).clock_due is None
    latest = max(d for d in dues if d is not None)
    query = InboxQuery(Scope(everything=True), overdue_before=latest + dt.timedelta(days=1))

    pages = _inbox_ids(backend, dataclasses.replace(query, limit=1))

    most_overdue_first = sorted(running, key=lambda r: str(r.clock_due))
    assert most_overdue_first[0].id == unverified.id
    assert pages == [[r.id] for r in most_overdue_first]
    assert _inbox_ids(backend, dataclasses.replace(query, status=State.ON_HOLD)) == [[]]
    submitted = dataclasses.replace(query, status=State.SUBMITTED)
    assert _inbox_ids(backend, submitted) == [[unverified.id]]


def _escalate(store: Any, report_id: str, tier: str, at: dt.datetime) -> Change:
    def fire(report: Report) -> Command:
        data = {"tier": tier, "clock": str(report.clock_id), "notified": ""}
        return Command(Action.ESCALATE, Actor(Role.SYSTEM, "system:escalate"), data=data)

    return act(report_id, fire, store=store, clock=FixedClock(at), settings=SETTINGS)


def test_the_escalated_inbox_holds_reports_whose_running_clock_fired_a_tier(
    backend: Backend,
) -> None:
    store = backend.reports
    calm, late, resolved = (_submitted(store) for _ in range(3))
    for report in (calm, late, resolved):
        _disposition(store, report.id, "dpupr-cianjur")
    due = _get(store, late.id).resolve_due
    assert due is not None
    day_late = SETTINGS.calendar().shift_working_days(due, 1)
    at = dt.datetime.combine(day_late, dt.time(3), dt.UTC)
    for report in (late, resolved):
        _escalate(store, report.id, "overdue", at)
    agency = Actor(Role.AGENCY_ADMIN, "dpupr-cianjur")
    for command in (
        Command(Action.FOLLOW_UP, agency, message="Dikerjakan."),
        Command(Action.RESOLVE, agency, message="Selesai."),
    ):
        act(resolved.id, command, store=store, clock=FixedClock(at), settings=SETTINGS)
    assert _get(store, resolved.id).escalation_tier == "overdue"  # kept, but no clock runs
    mine = Scope(agencies=frozenset({"dpupr-cianjur"}))

    def ids(**filters: Any) -> list[list[str]]:
        return _inbox_ids(backend, InboxQuery(mine, escalated=True, **filters))

    assert ids() == [[late.id]]
    assert ids(overdue_before=day_late) == [[late.id]]
    assert ids(status=State.DISPOSITIONED) == [[late.id]]
    assert ids(status=State.RESOLVED) == [[]]
    everything = InboxQuery(Scope(everything=True), escalated=True)
    assert _inbox_ids(backend, everything) == [[late.id]]


def test_the_admin_queue_of_a_region_and_a_unit_officers_inbox(backend: Backend) -> None:
    store = backend.reports
    cianjur = _submitted(store, region=Region("32", "32.03"))
    bogor = _submitted(store, region=Region("32", "32.01"))
    forwarded = _submitted(store)
    _disposition(store, forwarded.id, "dpupr-cianjur")
    act(
        forwarded.id,
        Command(
            Action.FORWARD, Actor(Role.AGENCY_ADMIN, "dpupr-cianjur"), unit_id="uptd-jalan-cianjur"
        ),
        store=store,
        clock=FixedClock(NOW),
        settings=SETTINGS,
    )

    def queue(region: str) -> set[str]:
        scope = Scope(queue_region=region)
        query = InboxQuery(scope, status=State.SUBMITTED, admin_queue=True)
        return {r.id for r in backend.agencies.inbox(query).reports}

    assert queue("32.03") == {cianjur.id}
    assert queue("32") == {cianjur.id, bogor.id}
    units = Scope(agencies=frozenset({"uptd-jalan-cianjur"}), units_only=True)
    assert [r.id for r in backend.agencies.inbox(InboxQuery(units)).reports] == [forwarded.id]


# --- the notification store: the delivery log and the channels -----------------------------


def _webhook(status: DeliveryStatus, at: dt.datetime, **more: Any) -> ChannelDelivery:
    return ChannelDelivery("webhook", status, attempts=1, first_attempt_at=at,
                           last_attempt_at=at, **more)  # fmt: skip


def test_the_delivery_log_keeps_the_last_entry_per_notification(backend: Backend) -> None:
    log = backend.notifications
    first = Delivery(
        "r1.2.dinkes-cianjur", "r1", "dinkes-cianjur", "report.dispositioned",
        DeliveryStatus.RETRYING,
        channels=(_webhook(DeliveryStatus.RETRYING, NOW, last_status_code=503,
                           last_error="HTTP 503"),),
        updated_at=NOW, seq=2, tracking_code="K7M-2XQ-9RJ", title="Jalan berlubang",
    )  # fmt: skip
    later = NOW + dt.timedelta(minutes=1)
    delivered = dataclasses.replace(
        first,
        status=DeliveryStatus.DELIVERED,
        channels=(
            dataclasses.replace(
                first.channels[0], status=DeliveryStatus.DELIVERED, attempts=2,
                last_status_code=204, last_error=None, last_attempt_at=later, delivered_at=later,
            ),
        ),
        updated_at=later,
    )  # fmt: skip
    # The reporter's: two channels, no agency, no address.
    other = Delivery(
        "r1.5.reporter", "r1", None, "report.followed_up", DeliveryStatus.DELIVERED,
        channels=(
            ChannelDelivery("email", DeliveryStatus.DELIVERED, attempts=1, last_status_code=250,
                            first_attempt_at=later, last_attempt_at=later, delivered_at=later),
            ChannelDelivery("sms", DeliveryStatus.UNSUBSCRIBED),
        ),
        updated_at=later, seq=5,
    )  # fmt: skip

    assert log.get_delivery("r1", first.notification_id) is None
    log.save_delivery(first)
    assert log.get_delivery("r1", first.notification_id) == first
    log.save_delivery(delivered)
    log.save_delivery(other)

    assert log.get_delivery("r1", first.notification_id) == delivered
    assert log.get_delivery("r1", other.notification_id) == other
    assert log.deliveries("r1") == [delivered, other]  # by first attempt
    assert log.deliveries("r2") == []


def test_a_send_is_claimed_once_until_its_delivery_is_saved_or_the_hold_ends(
    backend: Backend,
) -> None:
    log = backend.notifications
    hold = dt.timedelta(minutes=2)
    claimed = log.claim_delivery("r1", "r1.2.dinkes-cianjur", NOW, hold)
    assert claimed == DeliveryClaim(None, granted=True)
    # A copy pushed meanwhile is refused; the claim alone is no entry of the log.
    assert not log.claim_delivery("r1", "r1.2.dinkes-cianjur", NOW, hold).granted
    assert log.get_delivery("r1", "r1.2.dinkes-cianjur") is None
    assert log.deliveries("r1") == []
    # An attempt that died mid-send holds it only until the hold ends.
    later = NOW + hold + dt.timedelta(seconds=1)
    assert log.claim_delivery("r1", "r1.2.dinkes-cianjur", later, hold).granted
    # Its delivery saved (retrying): the claim is released, the next attempt gets it.
    retrying = Delivery(
        "r1.2.dinkes-cianjur", "r1", "dinkes-cianjur", "report.dispositioned",
        DeliveryStatus.RETRYING,
        channels=(_webhook(DeliveryStatus.RETRYING, later, last_status_code=503),),
        updated_at=later, seq=2,
    )  # fmt: skip
    log.save_delivery(retrying)
    assert log.claim_delivery("r1", "r1.2.dinkes-cianjur", later, hold) == DeliveryClaim(
        retrying, granted=True
    )
    # Settled: returned as it is, whatever claim another copy holds.
    delivered = dataclasses.replace(retrying, status=DeliveryStatus.DELIVERED)
    log.save_delivery(delivered)
    assert log.claim_delivery("r1", "r1.2.dinkes-cianjur", later, hold) == DeliveryClaim(
        delivered, granted=True
    )
    # About no report (staff links, the daily figures): the same.
    assert log.claim_delivery(None, "staff.abc", NOW, hold).granted
    assert not log.claim_delivery(None, "staff.abc", NOW, hold).granted


def test_a_settled_delivery_deletes_its_outbox_entry_in_the_same_write(
    backend: Backend,
) -> None:
    store = backend.reports
    plain = _submission(store)
    told = notices_for(None, plain.report, plain.event, settings=SETTINGS)
    store.create_submission(dataclasses.replace(plain, notifications=told))
    notice = told[0]
    report_id = plain.report.id
    retrying = Delivery(
        notice.id, report_id, None, "report.accepted", DeliveryStatus.RETRYING,
        channels=(ChannelDelivery("email", DeliveryStatus.RETRYING, attempts=1),),
        updated_at=NOW, seq=1,
    )  # fmt: skip
    delivered = dataclasses.replace(retrying, status=DeliveryStatus.DELIVERED)

    backend.notifications.save_delivery(retrying)
    assert backend.outbox_ids() == {plain.outbox.id, notice.id}, "still to be settled"
    backend.notifications.save_delivery(delivered, settles=notice.id)

    assert backend.notifications.get_delivery(report_id, notice.id) == delivered
    assert backend.outbox_ids() == {plain.outbox.id}, "report.submitted is route's to settle"
    backend.notifications.save_delivery(delivered, settles=notice.id)  # a redelivery's
    assert backend.outbox_ids() == {plain.outbox.id}


def test_an_agency_channel_is_read_with_its_secret_and_an_unknown_agency_has_none(
    backend: Backend,
) -> None:
    hooked = AgencyChannel("dinkes-cianjur", "https://dinkes.example/hook", (), "whsec_x")
    mail_only = AgencyChannel("dpupr-cianjur", None, ("dpupr@example.id",), None)
    digest = AgencyChannel("disdik-cianjur", None, ("disdik@example.id",), None, digest=True)
    for channel in (hooked, mail_only, digest):
        backend.add_channel(channel)

    assert backend.notifications.agency_channel("dinkes-cianjur") == hooked
    assert backend.notifications.agency_channel("dpupr-cianjur") == mail_only
    assert backend.notifications.agency_channel("disdik-cianjur") == digest
    assert backend.notifications.agency_channel("nobody") is None


def test_a_delivery_about_no_report_is_logged_apart(backend: Backend) -> None:
    log = backend.notifications
    daily = Delivery(
        "daily.2026-03-01.nasional", None, "nasional", "report.daily", DeliveryStatus.DELIVERED,
        channels=(_webhook(DeliveryStatus.DELIVERED, NOW, delivered_at=NOW),), updated_at=NOW,
    )  # fmt: skip
    log.save_delivery(daily)

    assert log.get_delivery(None, daily.notification_id) == daily
    assert log.get_delivery("daily", daily.notification_id) is None


def _failed(
    notification_id: str, report_id: str | None, agency_id: str | None, minutes: int
) -> Delivery:
    at = NOW + dt.timedelta(minutes=minutes)
    return Delivery(
        notification_id, report_id, agency_id, "report.dispositioned", DeliveryStatus.FAILED,
        channels=(_webhook(DeliveryStatus.FAILED, at, last_error="HTTP 410"),), updated_at=at,
    )  # fmt: skip


def test_failed_deliveries_are_listed_last_changed_first_in_every_log(backend: Backend) -> None:
    log = backend.notifications
    wanted = [
        _failed("r1.2.dinkes-cianjur", "r1", "dinkes-cianjur", 1),
        _failed("daily.2026-03-01.dinkes-cianjur", None, "dinkes-cianjur", 2),
        _failed("r2.1.reporter", "r2", None, 3),
        _failed("r3.2.dpupr-cianjur", "r3", "dpupr-cianjur", 4),
    ]
    for delivery in wanted:
        log.save_delivery(delivery)
    log.save_delivery(dataclasses.replace(wanted[0], notification_id="r1.3.dinkes-cianjur",
                                          status=DeliveryStatus.DELIVERED))  # fmt: skip

    def pages(agency_id: str | None) -> list[list[str]]:
        found, after = [], None
        while True:
            page = log.failed_deliveries(agency_id, 2, after)
            found.append([d.notification_id for d in page.deliveries])
            if page.next_after is None:
                return found
            after = page.next_after

    newest_first = [d.notification_id for d in reversed(wanted)]
    assert pages(None) == [newest_first[:2], newest_first[2:]]
    assert pages("dinkes-cianjur") == [[wanted[1].notification_id, wanted[0].notification_id]]
    assert pages("nobody") == [[]]
    assert log.failed_deliveries(None, 10).deliveries[0] == wanted[3]


def test_a_digest_collects_an_agencys_queued_items_and_settles_them_in_one_commit(
    backend: Backend,
) -> None:
    log = backend.notifications
    waiting = (ChannelDelivery("email", DeliveryStatus.QUEUED, address="d@example.id"),)
    queued = [
        Delivery(
            f"r{n}.2.disdik-cianjur",
            f"r{n}",
            "disdik-cianjur",
            "report.dispositioned",
            DeliveryStatus.QUEUED,
            channels=waiting,
            updated_at=NOW + dt.timedelta(minutes=n),
            tracking_code=f"K7M-2XQ-{n}RJ",
            title="Sekolah rusak",
        )
        for n in (1, 2)
    ]
    for item in queued:
        log.save_delivery(item)
    log.save_delivery(dataclasses.replace(queued[0], notification_id="r1.3.dinkes-cianjur",
                                          agency_id="dinkes-cianjur"))  # fmt: skip
    hour = dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC)

    assert sorted(d.notification_id for d in log.queued_items("disdik-cianjur", 10)) == [
        "r1.2.disdik-cianjur", "r2.2.disdik-cianjur",
    ]  # fmt: skip
    assert len(log.queued_items("disdik-cianjur", 1)) == 1
    assert log.digest("disdik-cianjur", hour) is None

    digest = Digest("disdik-cianjur", hour, DeliveryStatus.DELIVERED,
                    tuple(d.notification_id for d in queued), attempts=1, last_status_code=250,
                    sent_at=NOW)  # fmt: skip
    sent = [dataclasses.replace(d, status=DeliveryStatus.DELIVERED) for d in queued]
    log.save_digest(digest, sent)

    assert log.digest("disdik-cianjur", hour) == digest
    assert log.queued_items("disdik-cianjur", 10) == []
    assert log.get_delivery("r2", "r2.2.disdik-cianjur") == sent[1]


# --- the daily escalation run: the due-reports query and refreshing a report -----------------


def _due_on(store: Any, day: dt.date | None) -> Report:
    submission = _submission(store)
    report = dataclasses.replace(submission.report, next_due_on=day)
    store.create_submission(dataclasses.replace(submission, report=report))
    return report


def test_the_due_reports_come_in_date_then_id_order_a_page_at_a_time(backend: Backend) -> None:
    store = backend.reports
    day = dt.date(2026, 3, 10)
    due = [_due_on(store, day - dt.timedelta(days=n % 3)) for n in range(7)]
    for later in (day + dt.timedelta(days=1), None):
        _due_on(store, later)
    expected = sorted((r.next_due_on.isoformat(), r.id) for r in due if r.next_due_on)

    pages, after = [], None
    while True:
        page = store.due_reports(day, 3, after)
        pages.append([snapshot.report.id for snapshot in page.reports])
        if page.next_after is None:
            break
        after = page.next_after

    assert pages == [[i for _, i in expected[n : n + 3]] for n in (0, 3, 6)]
    assert store.due_reports(day, 7).next_after == expected[-1]  # full: there may be more
    assert store.due_reports(day, 7, expected[-1]).reports == ()
    assert store.due_reports(day - dt.timedelta(days=3), 10).reports == ()


def test_a_refresh_stores_derived_fields_without_an_event(backend: Backend) -> None:
    store = backend.reports
    report = _submitted(store)
    moved = dataclasses.replace(report, next_due_on=dt.date(2026, 3, 31))

    assert store.refresh(report.id, lambda r: moved) == moved
    assert store.get(report.id) == moved
    assert [e.seq for e in store.timeline(report.id)] == [1]
    with pytest.raises(ValueError, match="timeline"):
        store.refresh(report.id, lambda r: dataclasses.replace(r, last_seq=2))
    with pytest.raises(ReportNotFound):
        store.refresh("nobody", lambda r: r)


# --- a transition on a report the caller already read (the run's snapshots) -----------------

AGENCY_ADMIN = Actor(Role.AGENCY_ADMIN, "dpupr-cianjur")


def _following_up(
    message: str, seen: list[Report], refuse: Callable[[Report], bool] = lambda r: False
) -> Callable[[Report], Change]:
    """An agency follow-up decided on whatever report it is given (each kept in
    ``seen``), refused (LifecycleError) where ``refuse`` says."""

    def decide(current: Report) -> Change:
        seen.append(current)
        if refuse(current):
            raise LifecycleError("refused on this version")
        command = Command(Action.FOLLOW_UP, AGENCY_ADMIN, message=message)
        after, event = lifecycle.apply(
            current, command, NOW, SETTINGS.calendar(), SETTINGS.deadline_policy()
        )
        return Change(after, event)

    return decide


def _snapshot_of_a_routed_report(store: Any) -> Snapshot:
    report = _disposition(store, _submitted(store).id, "dpupr-cianjur").report
    [snapshot] = store.due_reports(dt.date(2026, 12, 31), 10).reports
    assert snapshot.report == report
    return snapshot  # type: ignore[no-any-return]


def test_a_transition_on_a_current_snapshot_commits_without_reading_the_report(
    backend: Backend,
) -> None:
    store = backend.reports
    snapshot = _snapshot_of_a_routed_report(store)
    report_id = snapshot.report.id
    seen: list[Report] = []
    reads = backend.reads()

    first = store.transition(report_id, _following_up("Ditinjau.", seen), known=snapshot)
    # What the first committed is current too: the next transition needs no read either.
    second = store.transition(report_id, _following_up("Dikerjakan.", seen), first.committed)

    assert backend.reads() == reads
    assert seen == [snapshot.report, first.report]
    assert _get(store, report_id) == second.report and second.report.last_seq == 4
    assert [e.message for e in store.timeline(report_id)[2:]] == ["Ditinjau.", "Dikerjakan."]


def _retitled(store: Any, report_id: str) -> Report:
    # A change with no event, so no event number is taken: only the version tells.
    return store.refresh(report_id, lambda r: dataclasses.replace(r, title="Judul baru"))  # type: ignore[no-any-return]


def _followed_up(store: Any, report_id: str) -> Report:
    return store.transition(report_id, _following_up("Ditinjau.", [])).report  # type: ignore[no-any-return]


@pytest.mark.parametrize("change_meanwhile", [_followed_up, _retitled])
def test_a_stale_snapshot_is_decided_again_on_the_fresh_report_and_loses_no_update(
    backend: Backend, change_meanwhile: Callable[[Any, str], Report]
) -> None:
    store = backend.reports
    snapshot = _snapshot_of_a_routed_report(store)
    report_id = snapshot.report.id
    # Between the caller's read and its commit, someone else changes the report.
    meanwhile = change_meanwhile(store, report_id)
    seen: list[Report] = []
    reads = backend.reads()

    change = store.transition(report_id, _following_up("Dikerjakan.", seen), known=snapshot)

    assert backend.reads() - reads == 1  # the fresh report, once
    assert seen[0] == snapshot.report
    assert seen[1:] and all(fresh == meanwhile for fresh in seen[1:])
    assert _get(store, report_id) == change.report
    assert change.report.last_seq == meanwhile.last_seq + 1
    assert change.report.title == meanwhile.title  # the other change is kept
    assert store.timeline(report_id)[-1].message == "Dikerjakan."


def test_a_refusal_of_a_snapshot_counts_only_on_the_fresh_report(backend: Backend) -> None:
    store = backend.reports
    snapshot = _snapshot_of_a_routed_report(store)
    report_id = snapshot.report.id
    store.transition(report_id, _following_up("Ditinjau.", []))  # meanwhile
    only_as_known = _following_up("Dikerjakan.", [], refuse=lambda r: r == snapshot.report)

    # Refused as the caller knew it, allowed as it is now: it commits.
    change = store.transition(report_id, only_as_known, known=snapshot)
    # Refused on a current snapshot: it stands, once the fresh report says so too.
    always: list[Report] = []
    reads = backend.reads()
    with pytest.raises(LifecycleError):
        store.transition(report_id, _following_up("x", always, lambda r: True), change.committed)

    assert backend.reads() - reads == 1
    assert always[0] == change.report and len(always) > 1
    assert _get(store, report_id) == change.report
    assert [e.seq for e in store.timeline(report_id)] == [1, 2, 3, 4]
