"""FirestoreReportStore against the real Firestore emulator."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import threading
from collections.abc import Callable, Iterator
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from google.cloud import firestore
from google.cloud.pubsub_v1 import SubscriberClient

from shared import wiring
from shared.adapters.firestore import (
    FirestoreReportStore,
    event_from_doc,
    event_to_doc,
    report_doc_fields,
    report_from_doc,
    report_to_doc,
)
from shared.config import Settings
from shared.domain import report as lifecycle
from shared.domain.contact import masked
from shared.domain.privacy import ReporterIdentity
from shared.domain.report import (
    Action,
    Actor,
    AdminQueue,
    Attachment,
    ClosedBy,
    Command,
    GeoPoint,
    IllegalTransition,
    Region,
    Report,
    ReportType,
    Role,
    State,
    TimelineEvent,
)
from shared.domain.tracking import new_tracking_code
from shared.ports import (
    Change,
    FixedClock,
    IdempotencyKeyTaken,
    IdempotencyRecord,
    NewSubmission,
    OutboxMessage,
    RateSlot,
    RateSlotTaken,
    ReportNotFound,
    TrackingCodeTaken,
)
from shared.usecases.submit import submit_report, submitted_event
from shared.usecases.track import track_report
from tests.builders import a_draft, an_identity
from tools.stack import Emulators

NOW = dt.datetime(2025, 3, 4, 2, 30, 15, 123456, tzinfo=dt.UTC)
SETTINGS = Settings(token_secret="test-token-secret-not-for-production")
IDENTITY = an_identity()


@pytest.fixture
def client(clean_emulators: Emulators) -> Iterator[firestore.Client]:
    made = firestore.Client(project=clean_emulators.project)
    yield made
    made.close()


@pytest.fixture
def store(client: firestore.Client) -> FirestoreReportStore:
    return FirestoreReportStore(client)


_SLOTS = itertools.count()


def _submission(
    store: FirestoreReportStore,
    *,
    tracking_code: str | None = None,
    key_hash: str | None = "key-hash-1",
    window: str = "client-a:480000",
    slot: int | None = None,
    identity: ReporterIdentity = IDENTITY,
) -> NewSubmission:
    report_id = store.new_report_id()
    code = tracking_code or new_tracking_code()
    report, event = lifecycle.submit(
        a_draft(incident_date=dt.date(2025, 2, 28)),  # the round trip covers a date
        report_id,
        code,
        NOW,
        SETTINGS.calendar(),
        SETTINGS.deadline_policy(),
    )
    outbox = submitted_event(report, f"{report_id}.1", NOW, SETTINGS.topic_report_submitted)
    record = (
        IdempotencyRecord(key_hash, "fp-1", report_id, code, NOW + dt.timedelta(hours=24))
        if key_hash
        else None
    )
    return NewSubmission(
        report,
        event,
        identity,
        outbox,
        RateSlot(window, next(_SLOTS) if slot is None else slot, NOW + dt.timedelta(hours=1)),
        record,
    )


def _all_documents(client: firestore.Client) -> dict[str, dict[str, Any]]:
    """Every document in the database, subcollections included, by path."""
    found: dict[str, dict[str, Any]] = {}

    def walk(collection: Any) -> None:
        for doc in collection.stream():
            found[doc.reference.path] = doc.to_dict() or {}
            for sub in doc.reference.collections():
                walk(sub)

    for collection in client.collections():
        walk(collection)
    return found


# --- the submission commit ------------------------------------------------------------


def test_one_commit_writes_report_event_identity_outbox_claim_idempotency_and_rate_slot(
    store: FirestoreReportStore, client: firestore.Client
) -> None:
    submission = _submission(store, slot=7)
    report = submission.report

    store.create_submission(submission)

    docs = _all_documents(client)
    assert set(docs) == {
        f"reports/{report.id}",
        f"reports/{report.id}/events/000001",
        f"identities/{report.id}",
        f"outbox/{report.id}.1",
        f"tracking_codes/{report.tracking_code}",
        "idempotency/key-hash-1",
        "rate_limits/client-a:480000:7",
    }
    assert docs[f"reports/{report.id}"]["state"] == "submitted"
    # Sealed, with the keyed contact hashes and the coarse masks submit may show back.
    identity_doc = docs[f"identities/{report.id}"]
    held = {"schema_version", "sealed", "contact_digests", "masked", "language"}
    assert set(identity_doc) == held
    assert IDENTITY.email is not None and IDENTITY.email not in repr(identity_doc)
    assert IDENTITY.name is not None and IDENTITY.name not in repr(identity_doc)
    outbox = docs[f"outbox/{report.id}.1"]
    assert (outbox["topic"], outbox["status"], outbox["attempts"]) == (
        "report-submitted",
        "pending",
        0,
    )
    assert outbox["data"]["tracking_code"] == report.tracking_code
    assert outbox["attributes"]["ce-type"] == "id.lapor.report.submitted.v1"
    assert docs[f"tracking_codes/{report.tracking_code}"]["report_id"] == report.id
    assert docs["idempotency/key-hash-1"]["report_id"] == report.id
    assert docs["idempotency/key-hash-1"]["expires_at"] == NOW + dt.timedelta(hours=24)
    slot = docs["rate_limits/client-a:480000:7"]
    assert (slot["window"], slot["slot"]) == ("client-a:480000", 7)
    assert slot["expires_at"] == NOW + dt.timedelta(hours=1)
    assert store.get(report.id) == report
    assert store.timeline(report.id) == [submission.event]
    assert store.identity(report.id) == IDENTITY


def test_the_reporters_identity_never_reaches_the_report_or_its_timeline(
    store: FirestoreReportStore, client: firestore.Client
) -> None:
    submission = _submission(store)
    store.create_submission(submission)

    docs = _all_documents(client)
    report_side = {
        path: doc
        for path, doc in docs.items()
        if path.startswith("reports/") or path.startswith("outbox/")
    }
    text = repr(report_side)
    assert report_side
    for secret in (IDENTITY.name, IDENTITY.email, IDENTITY.phone):
        assert secret is not None and secret not in text
    assert not {"name", "email", "phone", "reporter"} & set(docs[f"reports/{submission.report.id}"])


def test_a_taken_tracking_code_raises_and_writes_nothing(
    store: FirestoreReportStore, client: firestore.Client
) -> None:
    first = _submission(store, key_hash="key-1")
    store.create_submission(first)
    before = _all_documents(client)

    second = _submission(store, tracking_code=first.report.tracking_code, key_hash="key-2")
    with pytest.raises(TrackingCodeTaken):
        store.create_submission(second)

    assert _all_documents(client) == before  # no report, identity, outbox, key, count
    assert store.get(second.report.id) is None
    assert store.identity(second.report.id) is None


def test_a_taken_idempotency_key_raises_and_writes_nothing(
    store: FirestoreReportStore, client: firestore.Client
) -> None:
    first = _submission(store, key_hash="same-key")
    store.create_submission(first)
    before = _all_documents(client)

    with pytest.raises(IdempotencyKeyTaken) as taken:
        store.create_submission(_submission(store, key_hash="same-key"))

    assert _all_documents(client) == before
    assert taken.value.previous == first.idempotency  # the caller replays without a read


def test_when_both_claims_are_taken_the_idempotency_key_wins_so_the_caller_replays(
    store: FirestoreReportStore,
) -> None:
    first = _submission(store, key_hash="same-key")
    store.create_submission(first)

    with pytest.raises(IdempotencyKeyTaken):
        store.create_submission(
            _submission(store, tracking_code=first.report.tracking_code, key_hash="same-key")
        )


def test_a_submission_without_an_idempotency_key_writes_no_record(
    store: FirestoreReportStore, client: firestore.Client
) -> None:
    store.create_submission(_submission(store, key_hash=None))

    assert not any(path.startswith("idempotency/") for path in _all_documents(client))


# --- precheck -------------------------------------------------------------------------


def test_a_taken_rate_slot_refuses_the_commit_and_the_taken_slots_are_counted(
    store: FirestoreReportStore, client: firestore.Client
) -> None:
    store.create_submission(_submission(store, key_hash="key-1", window="client-a:1", slot=0))
    store.create_submission(_submission(store, key_hash="key-2", window="client-a:1", slot=3))
    store.create_submission(_submission(store, key_hash="key-3", window="client-b:1", slot=0))
    before = _all_documents(client)

    with pytest.raises(RateSlotTaken):
        store.create_submission(_submission(store, key_hash="key-4", window="client-a:1", slot=3))

    assert _all_documents(client) == before
    assert store.taken_rate_slots("client-a:1") == {0, 3}
    assert store.taken_rate_slots("client-b:1") == {0}
    assert store.taken_rate_slots("client-c:1") == frozenset()


# --- counting -------------------------------------------------------------------------


def test_stats_count_one_commit_and_every_document_written_per_submission(
    store: FirestoreReportStore, client: firestore.Client
) -> None:
    before = store.stats.snapshot()
    store.create_submission(_submission(store, key_hash="key-1"))
    with_key = store.stats.since(before)

    before = store.stats.snapshot()
    store.create_submission(_submission(store, key_hash=None))
    without_key = store.stats.since(before)

    assert (with_key.commits, with_key.writes, with_key.reads) == (1, 7, 0)
    assert (without_key.commits, without_key.writes, without_key.reads) == (1, 6, 0)
    assert len(_all_documents(client)) == 7 + 6


def test_stats_count_a_refused_commit_and_the_read_that_explains_it_but_no_writes(
    store: FirestoreReportStore,
) -> None:
    store.create_submission(_submission(store, key_hash="same-key"))
    before = store.stats.snapshot()

    with pytest.raises(IdempotencyKeyTaken):
        store.create_submission(_submission(store, key_hash="same-key"))

    spent = store.stats.since(before)
    # The refused commit, then one lookup of the two claims that could explain it.
    assert (spent.commits, spent.writes, spent.reads) == (1, 0, 2)


def test_stats_count_reads_as_firestore_bills_them(store: FirestoreReportStore) -> None:
    submission = _submission(store)
    store.create_submission(submission)
    report_id, code = submission.report.id, submission.report.tracking_code

    def reads(call: Any) -> int:
        before = store.stats.snapshot()
        call()
        return store.stats.since(before).reads

    assert reads(lambda: store.taken_rate_slots("client-a:480000")) == 1
    assert reads(lambda: store.taken_rate_slots("nobody")) == 1  # empty query
    assert reads(lambda: store.find_by_tracking_code(code)) == 1
    assert reads(lambda: store.find_by_tracking_code("000-000-000")) == 1  # empty query
    assert reads(lambda: store.get(report_id)) == 1
    assert reads(lambda: store.identity(report_id)) == 1
    assert reads(lambda: store.timeline(report_id)) == 1


# --- reads ----------------------------------------------------------------------------


def test_a_report_is_found_by_its_tracking_code_and_unknown_codes_find_nothing(
    store: FirestoreReportStore,
) -> None:
    submission = _submission(store)
    store.create_submission(submission)
    store.create_submission(_submission(store, key_hash="another-key"))

    assert store.find_by_tracking_code(submission.report.tracking_code) == submission.report
    assert store.find_by_tracking_code("000-000-000") is None
    assert store.get("no-such-report") is None
    assert store.identity("no-such-report") is None
    assert store.timeline("no-such-report") == []


def test_the_timeline_comes_back_in_seq_order_whatever_the_write_order(
    store: FirestoreReportStore, client: firestore.Client
) -> None:
    submission = _submission(store)
    store.create_submission(submission)
    report, events = submission.report, [submission.event]
    admin, officer = Actor(Role.AGENCY_ADMIN, "dinas-pu"), Actor(Role.UNIT_OFFICER, "bidang-jalan")
    commands = [Command(Action.DISPOSITION, admin, agency_id="dinas-pu")] + [
        Command(Action.FOLLOW_UP, officer, message=f"tindak lanjut {n}") for n in range(11)
    ]
    calendar, policy = SETTINGS.calendar(), SETTINGS.deadline_policy()
    for n, command in enumerate(commands):
        report, event = lifecycle.apply(
            report, command, NOW + dt.timedelta(minutes=n + 1), calendar, policy
        )
        events.append(event)
    events_ref = client.document(f"reports/{report.id}").collection("events")
    for event in reversed(events[1:]):  # newest first, seq 13 down to 2
        events_ref.document(f"{event.seq:06d}").set(event_to_doc(event))

    timeline = store.timeline(report.id)

    assert [e.seq for e in timeline] == list(range(1, 14))
    assert list(timeline) == events


# --- transitions ----------------------------------------------------------------------

ADMIN = Actor(Role.AGENCY_ADMIN, "dinas-pu")
OFFICER = Actor(Role.UNIT_OFFICER, "bidang-jalan")


def _deciding(command: Command, at: dt.datetime = NOW, **change: Any) -> Callable[[Report], Change]:
    def decide(report: Report) -> Change:
        after, event = lifecycle.apply(
            report, command, at, SETTINGS.calendar(), SETTINGS.deadline_policy()
        )
        return Change(after, event, **change)

    return decide


def test_a_transition_writes_report_event_and_outbox_and_deletes_what_it_settles(
    store: FirestoreReportStore, client: firestore.Client
) -> None:
    submission = _submission(store)
    store.create_submission(submission)
    report_id = submission.report.id
    routed = OutboxMessage(f"{report_id}.2", "report-routed", {"report_id": report_id}, {}, NOW)
    before = store.stats.snapshot()

    change = store.transition(
        report_id,
        _deciding(
            Command(Action.DISPOSITION, ADMIN, agency_id="dinas-pu"),
            outbox=(routed,),
            settle=(submission.outbox.id,),
        ),
    )

    spent = store.stats.since(before)
    # Of the 4 writes, the settled entry is a delete (billed as one).
    assert (spent.commits, spent.writes, spent.reads, spent.deletes) == (1, 4, 1, 1)
    assert store.get(report_id) == change.report
    assert change.report.state is State.DISPOSITIONED and change.report.agency_id == "dinas-pu"
    assert [e.seq for e in store.timeline(report_id)] == [1, 2]
    outbox = {path for path in _all_documents(client) if path.startswith("outbox/")}
    assert outbox == {f"outbox/{report_id}.2"}


def test_a_refused_transition_writes_nothing_and_a_missing_report_is_reported(
    store: FirestoreReportStore, client: firestore.Client
) -> None:
    submission = _submission(store)
    store.create_submission(submission)
    before = _all_documents(client)

    with pytest.raises(IllegalTransition):
        store.transition(submission.report.id, _deciding(Command(Action.CONFIRM, ADMIN)))
    with pytest.raises(ReportNotFound):
        store.transition("no-such-report", _deciding(Command(Action.CONFIRM, ADMIN)))

    assert _all_documents(client) == before


def test_concurrent_transitions_on_one_report_lose_no_update(
    store: FirestoreReportStore, client: firestore.Client
) -> None:
    submission = _submission(store)
    store.create_submission(submission)
    report_id = submission.report.id
    store.transition(report_id, _deciding(Command(Action.DISPOSITION, ADMIN, agency_id="d")))
    both_read = threading.Barrier(2, timeout=20)
    calls: list[int] = []
    errors: list[BaseException] = []

    def follow_up(n: int) -> None:
        other = FirestoreReportStore(client)
        command = Command(Action.FOLLOW_UP, OFFICER, message=f"tindak lanjut {n}")

        def decide(report: Report) -> Change:
            calls.append(n)
            if calls.count(n) == 1:
                both_read.wait()  # both transactions have read the same version
            return _deciding(command)(report)

        try:
            other.transition(report_id, decide)
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=follow_up, args=(n,)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors
    timeline = store.timeline(report_id)
    assert [e.seq for e in timeline] == [1, 2, 3, 4]
    assert {e.message for e in timeline[2:]} == {"tindak lanjut 1", "tindak lanjut 2"}
    # At least one read a stale report and decided again (the emulator sometimes aborts
    # both, so both decide twice; what matters is that neither update was lost).
    assert len(calls) >= 3
    stored = store.get(report_id)
    assert stored is not None and stored.last_seq == 4


# --- serialization --------------------------------------------------------------------

JAKARTA = ZoneInfo("Asia/Jakarta")


def _everything_set() -> Report:
    at = dt.datetime(2025, 3, 4, 9, 30, 15, 654321, tzinfo=JAKARTA)  # not UTC on the way in
    return Report(
        id="ignored-by-the-doc",
        tracking_code="K7M-2XQ-9RJ",
        type=ReportType.SUPERVISORY_COMPLAINT,
        title="Pungutan liar",
        description="Petugas meminta uang tambahan.\nBaris kedua — dengan tanda baca.",
        category="pelayanan",
        region=Region("32", "32.03", "32.03.11", "32.03.11.2001"),
        incident_date=dt.date(2025, 1, 31),
        target_agency_id="kemenpan",
        anonymous=True,
        confidential=True,
        address="Depan SDN 1, dekat jembatan",
        point=GeoPoint(-6.8203456, 107.1012345),
        show_attachments=True,
        attachments=(
            Attachment("f0123456789", "image/jpeg", 345678, 1, Role.REPORTER, 4032, 3024, 0, True),
            Attachment("fabcdefabcd", "application/pdf", 12345, 4, Role.UNIT_OFFICER, pages=2),
        ),
        state=State.CLOSED,
        submitted_at=at,
        updated_at=at + dt.timedelta(days=30, microseconds=1),
        verify_due=dt.date(2025, 3, 7),
        resolve_due=dt.date(2025, 5, 30),
        last_seq=9,
        agency_id="dinas-pu",
        unit_id="bidang-jalan",
        routing_method="rule",
        routing_rule_id="cianjur-jalan",
        rejected_by=("dbmpr-jabar", "pemkab-cianjur"),  # order kept: who refused first
        admin_queue=AdminQueue("menunggu admin", "dinkes-cianjur", 0.42),
        verify_started_at=at + dt.timedelta(hours=5),
        dispositioned_at=at + dt.timedelta(days=1, hours=2),
        clock_due=dt.date(2025, 5, 30),
        clock_id="resolve:6",
        escalations=("reminder", "overdue"),  # order kept: the last is the current tier
        next_due_on=dt.date(2025, 6, 6),
        paused_working_days=4,
        on_hold_since=at + dt.timedelta(days=1),
        on_hold_by="pemkab-cianjur",
        first_response_at=at + dt.timedelta(days=2),
        disposition_followed_up_at=at + dt.timedelta(days=2, hours=1),
        resolved_at=at + dt.timedelta(days=3),
        auto_close_due=dt.date(2025, 4, 1),
        closed_at=at + dt.timedelta(days=20),
        closed_by=ClosedBy.TIMEOUT,
        rating=4,
        reopen_count=2,
    )


def _nothing_set() -> Report:
    return Report(
        id="x",
        tracking_code="000-000-000",
        type=ReportType.ASPIRATION,
        title="t",
        description="",
        category="c",
        region=Region("11"),
        incident_date=None,
        target_agency_id=None,
        anonymous=False,
        confidential=False,
        state=State.SUBMITTED,
        submitted_at=NOW,
        updated_at=NOW,
        verify_due=dt.date(2025, 3, 7),
        resolve_due=None,
    )


@pytest.mark.parametrize("report", [_everything_set(), _nothing_set()], ids=["all", "none"])
def test_a_report_survives_the_round_trip_through_firestore_exactly(
    report: Report, store: FirestoreReportStore, client: firestore.Client
) -> None:
    client.document("reports/r1").set(report_to_doc(report))

    back = store.get("r1")

    assert back == dataclasses.replace(report, id="r1")
    assert back is not None
    for moment in (
        back.submitted_at,
        back.updated_at,
        back.verify_started_at,
        back.dispositioned_at,
        back.on_hold_since,
        back.disposition_followed_up_at,
        back.closed_at,
    ):
        assert moment is None or (type(moment) is dt.datetime and moment.tzinfo is dt.UTC)
    stored = client.document("reports/r1").get().to_dict() or {}
    assert stored["schema_version"] == 1
    assert stored["verify_due"] == "2025-03-07"  # ISO strings compare as dates
    assert stored["escalation_tier"] == report.escalation_tier  # stored for inbox filters
    assert (stored["province_code"], stored["type"]) == (
        report.region.province_code,
        report.type.value,
    )


def test_a_report_written_before_the_clocks_were_kept_reads_with_nothing_pending(
    store: FirestoreReportStore, client: firestore.Client
) -> None:
    old = report_to_doc(_nothing_set())
    for name in (
        "verify_started_at",
        "dispositioned_at",
        "resolve_due",
        "clock_due",
        "clock_id",
        "escalations",
        "escalation_tier",
        "next_due_on",
        "disposition_followed_up_at",
        "closed_by",
        "on_hold_by",
    ):
        del old[name]
    client.document("reports/r1").set(old)

    back = store.get("r1")

    assert back is not None
    assert back.verify_started_at == back.submitted_at  # the clock ran from submission
    assert (back.resolve_due, back.clock_due, back.next_due_on, back.closed_by) == (
        None,
        None,
        None,
        None,
    )
    assert back.escalations == () and back.escalation_tier is None


def test_an_identity_written_before_the_language_was_kept_reads_as_indonesian(
    store: FirestoreReportStore, client: firestore.Client
) -> None:
    client.document("identities/r1").set(
        {"schema_version": 1, "name": "Siti", "email": "siti@example.id", "phone": None}
    )
    client.document("identities/r2").set(
        {"schema_version": 1, "name": None, "email": None, "phone": "+62812", "language": "en"}
    )

    assert store.identity("r1") == ReporterIdentity("Siti", "siti@example.id", None, "id")
    assert store.identity("r2") == ReporterIdentity(None, None, "+62812", "en")


def test_the_report_document_holds_every_report_field_and_nothing_else() -> None:
    for report in (_everything_set(), _nothing_set()):
        assert set(report_to_doc(report)) == report_doc_fields()


@pytest.mark.parametrize(
    "event",
    [
        TimelineEvent(
            seq=7,
            action=Action.NOT_OUR_AUTHORITY,
            at=dt.datetime(2025, 3, 4, 9, 0, 0, 1, tzinfo=JAKARTA),
            actor=Actor(Role.AGENCY_ADMIN, "dinas-pu"),
            from_state=State.DISPOSITIONED,
            to_state=State.SUBMITTED,
            reason="Bukan wewenang dinas ini",
            message="Silakan ke Dinas Perhubungan",
            data=MappingProxyType({"agency_id": "dinas-pu", "rating": 5}),
        ),
        TimelineEvent(
            seq=1,
            action=Action.SUBMIT,
            at=NOW,
            actor=Actor(Role.REPORTER, "reporter"),
            from_state=None,
            to_state=State.SUBMITTED,
        ),
    ],
    ids=["all", "none"],
)
def test_an_event_survives_the_round_trip_through_firestore_exactly(
    event: TimelineEvent, client: firestore.Client
) -> None:
    ref = client.document("reports/r1/events/000001")
    ref.set(event_to_doc(event))

    back = event_from_doc(ref.get().to_dict() or {})

    assert back == event
    assert back.at.tzinfo is dt.UTC


def test_naive_datetimes_are_refused_rather_than_guessed() -> None:
    naive = dataclasses.replace(_nothing_set(), submitted_at=dt.datetime(2025, 3, 4, 9, 0))
    with pytest.raises(ValueError, match="naive"):
        report_to_doc(naive)


def test_a_document_of_another_schema_version_is_refused() -> None:
    doc = report_to_doc(_nothing_set()) | {"schema_version": 2}
    with pytest.raises(ValueError, match="schema_version"):
        report_from_doc("x", doc)


# --- the use case on the real adapters ------------------------------------------------


def test_submit_report_runs_end_to_end_on_the_emulators_through_the_wiring(
    clean_emulators: Emulators,
) -> None:
    wiring.reset()
    subscriber = SubscriberClient()
    project = clean_emulators.project
    subscription = subscriber.subscription_path(project, "test-submitted-pull")
    subscriber.create_subscription(
        name=subscription, topic=f"projects/{project}/topics/report-submitted"
    )
    settings = wiring.settings()
    store, clock = wiring.report_store(), FixedClock(NOW)
    try:
        result = submit_report(
            a_draft(anonymous=True),
            IDENTITY,
            client_id="203.0.113.7",
            idempotency_key="idem-123",
            store=store,
            publisher=wiring.publisher(),
            clock=clock,
            settings=settings,
        )
        spent = store.stats.snapshot()
        again = submit_report(
            a_draft(anonymous=True),
            IDENTITY,
            client_id="203.0.113.7",
            idempotency_key="idem-123",
            store=store,
            publisher=wiring.publisher(),
            clock=clock,
            settings=settings,
        )
        replay = store.stats.since(spent)
        tracked = track_report(
            result.tracking_code,
            result.reporter_token,
            store=store,
            settings=settings,
            clock=clock,
        )
        response = subscriber.pull(subscription=subscription, max_messages=10, timeout=10)
    finally:
        subscriber.close()
        wiring.reset()

    assert result.published and not result.replayed
    # One commit: the seven documents of a keyed submission, its figure counter and the
    # reporter's notification (notify settles it, in the write recording its delivery).
    assert (spent.commits, spent.writes, spent.deletes, spent.reads) == (1, 9, 0, 0)
    assert (again.replayed, again.report_id, again.tracking_code) == (
        True,
        result.report_id,
        result.tracking_code,
    )
    # A replay: the refused commit, then one lookup that returns the earlier record.
    assert (replay.commits, replay.writes, replay.reads) == (1, 0, 2)
    assert tracked is not None and tracked.report["state"] == "submitted"
    # The reporter sees it masked: submit holds no key that opens the sealed identity.
    assert tracked.report["reporter"]["email"] == masked(IDENTITY).email != IDENTITY.email
    [received] = response.received_messages
    assert received.message.attributes["ce-subject"] == f"reports/{result.report_id}"
    assert b'"tracking_code":"' + result.tracking_code.encode() in received.message.data
