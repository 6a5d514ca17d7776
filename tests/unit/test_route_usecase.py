"""The route use case with in-memory fakes: who gets the report, once per message."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
from typing import Any

import pytest

from shared.config import Settings
from shared.domain import report as lifecycle
from shared.domain.report import (
    Action,
    Actor,
    Command,
    Region,
    Report,
    Role,
    State,
)
from shared.domain.routing import KeywordProfile, Method, Rule
from shared.ports import (
    FixedClock,
    OutboxMessage,
    ReportNotFound,
    RoutePorts,
    RoutingTables,
    SweepPorts,
)
from shared.pubsub_push import MalformedPush, read_push
from shared.reference import load_reference
from shared.usecases.act import act
from shared.usecases.route import (
    NotificationPending,
    Outcome,
    SubmittedMessage,
    route_report,
    routing_tables,
    submitted_message,
)
from shared.usecases.submit import submitted_event
from shared.usecases.sweep import sweep_outbox
from tests.builders import a_draft
from tests.fakes import InMemoryPublisher, InMemoryReportStore

SETTINGS = Settings(token_secret="unit-test-secret-0123456789")
REFERENCE = load_reference()
CLOCK = FixedClock(dt.datetime(2026, 12, 7, 3, 0, tzinfo=dt.UTC))
CIANJUR = Region("32", "32.03")
TABLES = RoutingTables(
    rules=(
        Rule("cianjur-infrastruktur", "infrastruktur", "32.03", "dpupr-cianjur"),
        Rule("jabar-jalan", "infrastruktur.jalan", "32", "dbmpr-jabar"),
    ),
    known_agencies=frozenset({"dpupr-cianjur", "dbmpr-jabar", "dinkes-cianjur", "nasional"}),
    profiles=(
        KeywordProfile("dinkes-cianjur", ("puskesmas", "dokter", "obat", "bidan")),
        KeywordProfile("dpupr-cianjur", ("jalan", "lubang", "aspal")),
    ),
)


def submitted(
    store: InMemoryReportStore,
    *,
    category: str = "infrastruktur.jalan",
    region: Region = CIANJUR,
    target: str | None = None,
    title: str = "Laporan",
    description: str = "Mohon ditindaklanjuti.",
) -> SubmittedMessage:
    """A submitted report in the store, its outbox entry, and the message announcing it."""
    draft = a_draft(
        title=title,
        description=description,
        category=category,
        region=region,
        target_agency_id=target,
    )
    report_id = store.new_report_id()
    report, event = lifecycle.submit(
        draft,
        report_id,
        "ABC-DEF-GHJ",
        CLOCK.now(),
        SETTINGS.calendar(),
        SETTINGS.deadline_policy(),
    )
    outbox = submitted_event(report, f"{report_id}.1", CLOCK.now(), "report-submitted")
    store.reports[report_id] = report
    store.events[report_id] = [event]
    store.outbox[outbox.id] = outbox
    return SubmittedMessage(report_id, outbox.id, 1)


def run(
    store: InMemoryReportStore,
    message: SubmittedMessage,
    publisher: InMemoryPublisher | None = None,
    tables: RoutingTables = TABLES,
) -> Any:
    bus = publisher if publisher is not None else InMemoryPublisher()
    return route_report(message, RoutePorts(store, bus, CLOCK, SETTINGS, tables, REFERENCE))


def report_of(store: InMemoryReportStore, message: SubmittedMessage) -> Report:
    return store.reports[message.report_id]


# --- who gets the report --------------------------------------------------------------


def test_the_agency_the_reporter_named_gets_the_report() -> None:
    store = InMemoryReportStore()
    message = submitted(store, target="dinkes-cianjur")

    result = run(store, message)

    assert result.outcome is Outcome.DISPOSITIONED
    report = report_of(store, message)
    assert (report.state, report.agency_id, report.routing_method) == (
        State.DISPOSITIONED,
        "dinkes-cianjur",
        "named",
    )


def test_the_most_specific_rule_routes_and_is_recorded_on_the_timeline() -> None:
    store = InMemoryReportStore()
    message = submitted(store, category="infrastruktur.jalan", region=Region("32", "32.03"))

    run(store, message)

    report = report_of(store, message)
    assert (report.agency_id, report.routing_rule_id) == ("dpupr-cianjur", "cianjur-infrastruktur")
    event = store.events[message.report_id][-1]
    assert event.action is Action.DISPOSITION
    assert event.actor == Actor(Role.SYSTEM, "system:route")
    assert dict(event.data) == {
        "method": "rule",
        "rule_id": "cianjur-infrastruktur",
        "agency_id": "dpupr-cianjur",
    }


def test_a_confident_classifier_routes_and_records_its_confidence() -> None:
    store = InMemoryReportStore()
    message = submitted(
        store,
        category="kesehatan",
        region=Region("32", "32.04"),
        title="Puskesmas tutup, dokter tidak ada",
        description="Di puskesmas tidak ada dokter dan obat habis; bidan juga tidak ada.",
    )

    result = run(store, message)

    assert result.routing.method is Method.CLASSIFIER
    assert report_of(store, message).agency_id == "dinkes-cianjur"
    event = store.events[message.report_id][-1]
    assert float(event.data["confidence"]) >= SETTINGS.route_auto_threshold


def test_a_weak_suggestion_waits_in_the_admin_queue_and_settles_the_message() -> None:
    store = InMemoryReportStore()
    message = submitted(
        store,
        category="kesehatan",
        region=Region("32", "32.04"),
        title="Keluhan",
        description="Saya ingin bertanya soal dokter.",
    )
    publisher = InMemoryPublisher()

    result = run(store, message, publisher)

    assert result.outcome is Outcome.ADMIN_QUEUE
    assert report_of(store, message).state is State.SUBMITTED
    mark = report_of(store, message).admin_queue
    assert mark is not None and mark.suggested_agency_id == "dinkes-cianjur"
    assert mark.confidence is not None and mark.confidence < SETTINGS.route_auto_threshold
    assert message.outbox_id not in store.outbox
    # 32.04 has no regency in the tree: the province's admin must route it.
    assert [m.id for m in publisher.published] == [f"{message.report_id}.2.pemprov-jabar"]
    assert publisher.published[0].data["kind"] == "report.returned"
    assert set(store.outbox) == {f"{message.report_id}.2.pemprov-jabar"}  # notify's to settle


def test_a_dead_lettered_message_gives_up_to_the_admin_queue_with_the_reason() -> None:
    store = InMemoryReportStore()
    message = dataclasses.replace(submitted(store), dead_lettered=True, delivery_attempts=5)
    publisher = InMemoryPublisher()

    result = run(store, message, publisher)

    assert result.outcome is Outcome.ADMIN_QUEUE
    assert report_of(store, message).state is State.SUBMITTED  # not routed by a guess
    queued = report_of(store, message).admin_queue
    assert queued is not None and "gagal setelah 5 percobaan" in queued.reason
    assert store.events[message.report_id][-1].action is Action.QUEUE_FOR_ADMIN
    assert message.outbox_id not in store.outbox  # the sweeper stops resending it
    told = f"{message.report_id}.2.pemkab-cianjur"
    assert [m.id for m in publisher.published] == [told]
    notify_settles(store, told)
    assert run(store, message, publisher).outcome is Outcome.ALREADY_HANDLED
    assert len(publisher.published) == 1


def test_dead_letter_attributes_mark_a_pushed_message() -> None:
    attributes = {
        "ce-id": "abc.3",
        "CloudPubSubDeadLetterSourceSubscription": "route",
        "CloudPubSubDeadLetterSourceDeliveryCount": "5",
    }
    decoded = decode(push_data({"report_id": "abc"}, attributes))
    assert (decoded.dead_lettered, decoded.delivery_attempts) == (True, 5)
    plain = decode(push_data({"report_id": "abc"}, {"ce-id": "abc.3"}))
    assert (plain.dead_lettered, plain.delivery_attempts) == (False, None)


def test_nothing_to_go_on_means_the_admin_queue_without_a_suggestion() -> None:
    store = InMemoryReportStore()
    message = submitted(store, category="kesehatan", region=Region("32", "32.04"))

    run(store, message)

    mark = report_of(store, message).admin_queue
    assert mark is not None and mark.suggested_agency_id is None


def notify_settles(store: InMemoryReportStore, notification_id: str) -> None:
    """What notify's settling write does to the outbox (tests/unit/test_notify.py)."""
    store.outbox.pop(notification_id)


# --- once per message -----------------------------------------------------------------


def test_the_disposition_settles_the_message_and_publishes_one_notification() -> None:
    store = InMemoryReportStore()
    message = submitted(store)
    publisher = InMemoryPublisher()

    run(store, message, publisher)

    report = report_of(store, message)
    notification_id = f"{report.id}.{report.last_seq}.dpupr-cianjur"
    assert message.outbox_id not in store.outbox
    assert [m.id for m in publisher.published] == [notification_id]
    sent = publisher.published[0]
    assert sent.topic == "agency-notifications"
    assert dict(sent.data) == {
        "notification_id": notification_id,
        "kind": "report.dispositioned",
        "report_id": report.id,
        "agency_id": "dpupr-cianjur",
        "tracking_code": report.tracking_code,
        "data": None,
    }
    assert sent.attributes["ce-id"] == notification_id
    assert notification_id in store.outbox  # pending until notify settles it


def test_three_deliveries_of_one_message_give_one_disposition_and_one_notification() -> None:
    store = InMemoryReportStore()
    message = submitted(store)
    publisher = InMemoryPublisher()

    first = run(store, message, publisher)
    told = f"{message.report_id}.2.dpupr-cianjur"
    notify_settles(store, told)
    outcomes = [first.outcome, *(run(store, message, publisher).outcome for _ in range(2))]

    assert outcomes == [Outcome.DISPOSITIONED, Outcome.ALREADY_HANDLED, Outcome.ALREADY_HANDLED]
    actions = [e.action for e in store.events[message.report_id]]
    assert actions == [Action.SUBMIT, Action.DISPOSITION]
    assert [m.id for m in publisher.published] == [told]


def test_a_redelivery_before_notify_settled_publishes_the_notification_again() -> None:
    store = InMemoryReportStore()
    message = submitted(store)
    publisher = InMemoryPublisher()
    run(store, message, publisher)

    run(store, message, publisher)

    # Published twice; notify's delivery record makes the second a no-op.
    told = f"{message.report_id}.2.dpupr-cianjur"
    assert [m.id for m in publisher.published] == [told, told]


def test_a_failed_notification_publish_raises_and_the_redelivery_publishes_it() -> None:
    store = InMemoryReportStore()
    message = submitted(store)
    publisher = InMemoryPublisher(fail=True)

    with pytest.raises(NotificationPending):
        run(store, message, publisher)
    report = report_of(store, message)
    assert report.state is State.DISPOSITIONED  # committed all the same
    notification_id = f"{report.id}.{report.last_seq}.dpupr-cianjur"
    assert notification_id in store.outbox

    publisher.fail = False
    result = run(store, message, publisher)

    assert result.outcome is Outcome.ALREADY_HANDLED
    assert [m.id for m in publisher.published] == [notification_id]
    assert notification_id in store.outbox  # notify's to settle
    assert len(store.events[message.report_id]) == 2


def test_a_redelivery_publishes_both_the_agencys_and_the_units_pending_notifications() -> None:
    store = InMemoryReportStore()
    cugenang = Region("32", "32.03", "32.03.11")
    message = submitted(store, category="infrastruktur.jalan", region=cugenang)
    publisher = InMemoryPublisher(fail=True)
    tables = routing_tables(load_reference())

    with pytest.raises(NotificationPending):
        run(store, message, publisher, tables=tables)
    publisher.fail = False
    result = run(store, message, publisher, tables=tables)

    prefix = f"{message.report_id}.2"
    assert result.outcome is Outcome.ALREADY_HANDLED
    assert sorted(m.id for m in publisher.published) == [
        f"{prefix}.dpupr-cianjur",
        f"{prefix}.uptd-jalan-cianjur-utara",
    ]


def test_a_redelivery_after_notify_settled_the_notification_publishes_nothing() -> None:
    store = InMemoryReportStore()
    message = submitted(store)
    publisher = InMemoryPublisher()
    run(store, message, publisher)
    notify_settles(store, f"{message.report_id}.2.dpupr-cianjur")

    run(store, message, publisher)

    assert len(publisher.published) == 1


def test_a_failed_publish_for_a_queued_report_is_published_by_the_redelivery() -> None:
    store = InMemoryReportStore()
    message = submitted(store, category="kesehatan", region=Region("32", "32.03"))
    publisher = InMemoryPublisher(fail=True)

    with pytest.raises(NotificationPending):
        run(store, message, publisher)
    told = f"{message.report_id}.2.pemkab-cianjur"
    assert told in store.outbox

    publisher.fail = False
    assert run(store, message, publisher).outcome is Outcome.ALREADY_HANDLED
    assert [m.id for m in publisher.published] == [told]
    assert told in store.outbox  # notify's to settle


def test_a_redelivery_after_the_report_moved_on_leaves_its_notifications_to_their_owners() -> None:
    store = InMemoryReportStore()
    message = submitted(store)
    with pytest.raises(NotificationPending):
        run(store, message, InMemoryPublisher(fail=True))
    wrong_target(store, message)  # the agency acted since; its own publish, or the sweeper
    publisher = InMemoryPublisher()
    reads = store.reads

    assert run(store, message, publisher).outcome is Outcome.ALREADY_HANDLED
    assert publisher.published == [] and store.reads == reads + 1  # the report only


def test_a_redelivery_to_a_queued_report_changes_nothing() -> None:
    store = InMemoryReportStore()
    message = submitted(store, category="kesehatan", region=Region("32", "32.04"))
    run(store, message)
    commits = store.commits

    assert run(store, message).outcome is Outcome.ALREADY_HANDLED
    assert store.commits == commits


# --- Bukan Wewenang -------------------------------------------------------------------


def wrong_target(store: InMemoryReportStore, message: SubmittedMessage) -> SubmittedMessage:
    """The agency answers Bukan Wewenang; act emits a new report.submitted."""
    report = report_of(store, message)
    change = act(
        report.id,
        Command(
            Action.NOT_OUR_AUTHORITY,
            Actor(Role.AGENCY_ADMIN, report.agency_id or ""),
            reason="Bukan wewenang kami",
        ),
        store=store,
        clock=CLOCK,
        settings=SETTINGS,
    )
    return SubmittedMessage(report.id, f"{report.id}.{change.event.seq}", change.event.seq)


def test_wrong_target_returns_report_for_rerouting_to_the_next_agency() -> None:
    store = InMemoryReportStore()
    first = submitted(store, category="infrastruktur.jalan", region=Region("32", "32.03"))
    run(store, first)
    assert report_of(store, first).agency_id == "dpupr-cianjur"

    again = wrong_target(store, first)
    result = run(store, again)

    report = report_of(store, first)
    assert result.outcome is Outcome.DISPOSITIONED
    assert (report.agency_id, report.routing_rule_id) == ("dbmpr-jabar", "jabar-jalan")
    assert report.rejected_by == ("dpupr-cianjur",)
    assert again.outbox_id not in store.outbox


def test_a_stale_message_from_before_bukan_wewenang_is_acknowledged_without_routing() -> None:
    store = InMemoryReportStore()
    first = submitted(store)
    run(store, first)
    again = wrong_target(store, first)

    stale = run(store, first)  # the first message, delivered once more

    assert stale.outcome is Outcome.ALREADY_HANDLED
    assert report_of(store, first).state is State.SUBMITTED  # the new message routes it
    assert again.outbox_id in store.outbox


def test_an_unknown_report_is_reported_as_not_found() -> None:
    with pytest.raises(ReportNotFound):
        run(InMemoryReportStore(), SubmittedMessage("nope", "nope.1", 1))


# --- the message on the wire ----------------------------------------------------------


def decode(event_data: Any) -> SubmittedMessage:
    return submitted_message(read_push(event_data, None, "report-submitted-dead-letter"))


def push_data(data: Any, attributes: dict[str, str] | None) -> dict[str, Any]:
    raw = data if isinstance(data, str) else base64.b64encode(json.dumps(data).encode()).decode()
    message: dict[str, Any] = {"data": raw, "messageId": "1"}
    if attributes is not None:
        message["attributes"] = attributes
    return {"message": message}


def test_a_push_message_decodes_to_the_report_and_the_outbox_entry_it_settles() -> None:
    decoded = decode(push_data({"report_id": "abc", "category": "x"}, {"ce-id": "abc.3"}))
    assert decoded == SubmittedMessage("abc", "abc.3", 3)


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (push_data({"category": "x"}, {"ce-id": "a.1"}), "report_id"),
        (push_data({"report_id": "a/b"}, {"ce-id": "a/b.1"}), "report_id"),
        (push_data({"report_id": "a"}, None), "ce-id"),
        (push_data({"report_id": "a"}, {"ce-id": "b.1"}), "not '<report_id>.<seq>'"),
        (push_data({"report_id": "a"}, {"ce-id": "a.x"}), "not '<report_id>.<seq>'"),
    ],
)
def test_a_malformed_message_says_why(data: Any, why: str) -> None:
    with pytest.raises(MalformedPush, match=why.replace("(", r"\(")):
        decode(data)


# --- the reference data ---------------------------------------------------------------


def test_routing_tables_know_agencies_not_units_and_profile_child_category_keywords() -> None:
    reference = load_reference()
    tables = routing_tables(reference)
    units = {a.id for a in reference.agencies if a.kind.value == "unit"}
    assert units and not units & tables.known_agencies
    profiles = {p.agency_id: p.keywords for p in tables.profiles}
    # dinkes-cianjur handles "kesehatan": its children's keywords count too.
    assert "puskesmas" in profiles["dinkes-cianjur"]
    assert "stunting" in profiles["dinkes-cianjur"]
    assert {r.id for r in tables.rules} == {r.id for r in reference.routing_rules}


def test_the_bundled_rules_route_a_cianjur_road_to_the_regency_public_works() -> None:
    store = InMemoryReportStore()
    message = submitted(store, category="infrastruktur.jalan", region=Region("32", "32.03"))

    run(store, message, tables=routing_tables(load_reference()))

    assert report_of(store, message).routing_rule_id == "cianjur-jalan"


def test_a_cugenang_road_reaches_the_northern_uptd_through_dpupr() -> None:
    store = InMemoryReportStore()
    cugenang = Region("32", "32.03", "32.03.11", "32.03.11.2001")
    message = submitted(store, category="infrastruktur.jalan", region=cugenang)

    run(store, message, tables=routing_tables(load_reference()))

    report = report_of(store, message)
    assert (report.agency_id, report.unit_id, report.routing_rule_id) == (
        "dpupr-cianjur",
        "uptd-jalan-cianjur-utara",
        "cugenang-jalan",
    )
    event = store.events[message.report_id][-1]
    assert (event.action, event.data["unit_id"]) == (Action.DISPOSITION, "uptd-jalan-cianjur-utara")


def test_a_road_in_a_district_without_its_own_rule_goes_to_the_regency() -> None:
    store = InMemoryReportStore()
    cibeber = Region("32", "32.03", "32.03.03")
    message = submitted(store, category="infrastruktur.jalan", region=cibeber)

    run(store, message, tables=routing_tables(load_reference()))

    report = report_of(store, message)
    assert (report.agency_id, report.unit_id, report.routing_rule_id) == (
        "dpupr-cianjur",
        None,
        "cianjur-jalan",
    )


def test_the_bundled_district_rules_cover_cugenang_and_its_neighbours() -> None:
    reference = load_reference()
    names = {
        reference.place_name(r.region)
        for r in reference.routing_rules
        if r.agency == "uptd-jalan-cianjur-utara"
    }
    assert names == {"Cugenang", "Pacet", "Cipanas", "Sukaresmi"}


# --- the sweeper ----------------------------------------------------------------------


def test_the_sweeper_republishes_old_pending_entries_and_counts_the_attempt() -> None:
    store = InMemoryReportStore()
    message = submitted(store)
    publisher = InMemoryPublisher()
    later = FixedClock(CLOCK.now() + dt.timedelta(seconds=SETTINGS.outbox_sweep_age_s + 1))

    result = sweep_outbox(SweepPorts(store, publisher, later, SETTINGS))

    assert (result.republished, result.failed) == (1, 0)
    assert [m.id for m in publisher.published] == [message.outbox_id]
    # route settles report.submitted entries, so the sweeper leaves it pending
    assert message.outbox_id in store.outbox and store.swept[message.outbox_id] == 1


def test_the_sweeper_leaves_young_entries_and_keeps_republished_notifications_for_notify() -> None:
    store = InMemoryReportStore()
    submitted(store)
    note = OutboxMessage("n.2", "agency-notifications", {}, {}, CLOCK.now())
    store.outbox[note.id] = note
    publisher = InMemoryPublisher()

    young = sweep_outbox(SweepPorts(store, publisher, CLOCK, SETTINGS))
    assert young.republished == 0

    later = FixedClock(CLOCK.now() + dt.timedelta(minutes=5))
    result = sweep_outbox(SweepPorts(store, publisher, later, SETTINGS))
    assert (result.republished, result.settled) == (2, 0)
    # Notify settles it when it acts on it; until then every run sends it again.
    assert "n.2" in store.outbox and store.swept["n.2"] == 1


def test_the_sweeper_settles_on_publish_only_topics_nobody_settles() -> None:
    store = InMemoryReportStore()
    note = OutboxMessage("n.2", "agency-notifications", {}, {}, CLOCK.now())
    store.outbox[note.id] = note
    later = FixedClock(CLOCK.now() + dt.timedelta(minutes=5))

    result = sweep_outbox(SweepPorts(store, InMemoryPublisher(), later, SETTINGS), frozenset())

    assert (result.republished, result.settled) == (1, 1)
    assert "n.2" not in store.outbox


def test_the_sweeper_counts_failures_and_keeps_the_entries() -> None:
    store = InMemoryReportStore()
    message = submitted(store)
    later = FixedClock(CLOCK.now() + dt.timedelta(minutes=5))

    result = sweep_outbox(SweepPorts(store, InMemoryPublisher(fail=True), later, SETTINGS))

    assert (result.republished, result.failed) == (0, 1)
    assert message.outbox_id in store.outbox and store.swept[message.outbox_id] == 1
