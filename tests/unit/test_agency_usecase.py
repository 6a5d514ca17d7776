"""The agency use cases with in-memory fakes: keys, visibility, actions, the inbox query."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from shared.config import Settings
from shared.domain import report as lifecycle
from shared.domain.report import (
    Action,
    Actor,
    Command,
    IllegalTransition,
    InvalidCommand,
    NotPermitted,
    Region,
    Report,
    Role,
    State,
)
from shared.ports import (
    AgencyPorts,
    ApiKeyRecord,
    Clock,
    FixedClock,
    InboxStore,
    ReportNotFound,
)
from shared.reference import load_reference
from shared.usecases import agency
from shared.usecases.agency import AgencyCommand, Caller, Unauthenticated
from shared.usecases.submit import submitted_event
from shared.web.agency_app import OPERATIONS, decode_cursor, encode_cursor
from shared.web.agency_openapi import document, examples
from tests.builders import a_draft
from tests.fakes import (
    InMemoryAgencyStore,
    InMemoryAuditLog,
    InMemoryNotificationStore,
    InMemoryPublicStore,
    InMemoryPublisher,
    InMemoryReportStore,
    UnfilteredInbox,
)

NOW = dt.datetime(2026, 3, 2, 3, 0, tzinfo=dt.UTC)
REFERENCE = load_reference()
NATIONAL = Caller("nasional", Role.NATIONAL_ADMIN)
PEMKAB = Caller("pemkab-cianjur", Role.AGENCY_ADMIN)
DPUPR = Caller("dpupr-cianjur", Role.AGENCY_ADMIN)
DINKES = Caller("dinkes-cianjur", Role.AGENCY_ADMIN)
UPTD = Caller("uptd-jalan-cianjur", Role.UNIT_OFFICER)


def settings() -> Settings:
    return Settings(token_secret="unit-test-secret-0123456789")


def ports(
    store: InMemoryReportStore | None = None,
    *,
    inbox: InboxStore | None = None,
    clock: Clock | None = None,
    publisher: InMemoryPublisher | None = None,
    deliveries: InMemoryNotificationStore | None = None,
    figures: InMemoryPublicStore | None = None,
    audit: InMemoryAuditLog | None = None,
) -> AgencyPorts:
    reports = store if store is not None else InMemoryReportStore()
    agencies = InMemoryAgencyStore(reports)
    return AgencyPorts(
        store=reports,
        keys=agencies,
        inbox=inbox or agencies,
        publisher=publisher if publisher is not None else InMemoryPublisher(),
        clock=clock or FixedClock(NOW),
        settings=settings(),
        reference=REFERENCE,
        deliveries=deliveries if deliveries is not None else InMemoryNotificationStore(),
        figures=figures if figures is not None else InMemoryPublicStore(),
        audit=audit if audit is not None else InMemoryAuditLog(),
    )


def make_report(
    store: InMemoryReportStore,
    *,
    agency_id: str | None = "dpupr-cianjur",
    rule_id: str | None = None,
    regency: str = "32.03",
    confidential: bool = False,
) -> Report:
    draft = a_draft(region=Region(regency[:2], regency), confidential=confidential)
    current = settings()
    report_id = store.new_report_id()
    report, event = lifecycle.submit(
        draft, report_id, f"K{len(store.reports):02d}", NOW, current.calendar(),
        current.deadline_policy(),
    )  # fmt: skip
    store.reports[report_id] = report
    store.events[report_id] = [event]
    if agency_id:
        data: dict[str, str | int] = {"method": "rule"}
        if rule_id:
            data["rule_id"] = rule_id
        command = Command(
            Action.DISPOSITION, Actor(Role.SYSTEM, "system:route"), agency_id=agency_id, data=data
        )
        report, event = lifecycle.apply(
            report, command, NOW, current.calendar(), current.deadline_policy()
        )
        store.reports[report_id] = report
        store.events[report_id].append(event)
    return store.reports[report_id]


def take(
    store: InMemoryReportStore, report: Report, caller: Caller, request: AgencyCommand
) -> lifecycle.TimelineEvent:
    return agency.take_action(report.id, caller, request, ports(store)).change.event


# --- keys -----------------------------------------------------------------------------


def _keys_with(
    key: str, *, revoked: bool = False, role: Role = Role.AGENCY_ADMIN
) -> InMemoryAgencyStore:
    digest = agency.key_hash(key)
    record = ApiKeyRecord(digest, "dpupr-cianjur", role, "t", NOW, revoked)
    return InMemoryAgencyStore(api_keys={digest: record})


def test_a_valid_key_names_its_agency_and_role() -> None:
    key = "lpr_" + "a" * 43
    caller = agency.authenticate(f"Bearer {key}", _keys_with(key))
    # The change log names the key by the start of its hash, never by the key.
    actor = f"key:{agency.key_hash(key)[:12]}"
    assert caller == Caller("dpupr-cianjur", Role.AGENCY_ADMIN, "t", actor_id=actor)


@pytest.mark.parametrize(
    "header", [None, "", "Bearer", "Token lpr_x", "Bearer lpr_other", "bearer sk_live_x"]
)
def test_missing_malformed_or_unknown_keys_are_refused(header: str | None) -> None:
    with pytest.raises(Unauthenticated):
        agency.authenticate(header, _keys_with("lpr_" + "a" * 43))


def test_a_revoked_key_or_a_non_staff_role_is_refused() -> None:
    key = "lpr_" + "b" * 43
    with pytest.raises(Unauthenticated):
        agency.authenticate(f"Bearer {key}", _keys_with(key, revoked=True))
    with pytest.raises(Unauthenticated):
        agency.authenticate(f"Bearer {key}", _keys_with(key, role=Role.REPORTER))


def test_a_stored_hash_that_does_not_match_is_refused() -> None:
    key = "lpr_" + "c" * 43
    record = ApiKeyRecord("0" * 64, "x", Role.AGENCY_ADMIN, "", NOW)
    keys = InMemoryAgencyStore(api_keys={agency.key_hash(key): record})
    with pytest.raises(Unauthenticated):
        agency.authenticate(f"Bearer {key}", keys)


# --- visibility -----------------------------------------------------------------------


def test_visibility_follows_the_agency_tree() -> None:
    store = InMemoryReportStore()
    road = make_report(store, agency_id="dpupr-cianjur")
    forwarded = dataclasses.replace(road, unit_id="uptd-jalan-cianjur")

    def sees(caller: Caller, report: Report) -> bool:
        return agency.may_see(agency.scope_of(caller, REFERENCE), report)

    assert sees(NATIONAL, road) and sees(PEMKAB, road) and sees(DPUPR, road)
    assert not sees(DINKES, road)
    assert not sees(UPTD, road)
    assert sees(UPTD, forwarded)
    assert sees(Caller("pemprov-jabar", Role.AGENCY_ADMIN), road)


def test_unrouted_reports_are_in_the_regional_admin_queue_only() -> None:
    store = InMemoryReportStore()
    unrouted = make_report(store, agency_id=None)
    elsewhere = make_report(store, agency_id=None, regency="32.04")

    def sees(caller: Caller, report: Report) -> bool:
        return agency.may_see(agency.scope_of(caller, REFERENCE), report)

    assert sees(PEMKAB, unrouted) and not sees(PEMKAB, elsewhere)
    assert sees(Caller("pemprov-jabar", Role.AGENCY_ADMIN), elsewhere)
    assert not sees(DPUPR, unrouted)  # a dinas is not a regional admin
    assert sees(NATIONAL, elsewhere)


def test_who_may_route_where() -> None:
    assert agency.may_route_to(NATIONAL, REFERENCE, "dbmpr-jabar")
    assert agency.may_route_to(PEMKAB, REFERENCE, "dpupr-cianjur")
    assert not agency.may_route_to(PEMKAB, REFERENCE, "dbmpr-jabar")
    assert not agency.may_route_to(UPTD, REFERENCE, "uptd-jalan-cianjur")
    assert not agency.may_route_to(NATIONAL, REFERENCE, "no-such-agency")


# --- actions --------------------------------------------------------------------------


def test_owner_follow_up_appends_one_event() -> None:
    store = InMemoryReportStore()
    report = make_report(store)
    event = take(store, report, DPUPR, AgencyCommand(Action.FOLLOW_UP, message="Ditinjau."))
    assert event.seq == 3
    assert event.actor == Actor(Role.AGENCY_ADMIN, "dpupr-cianjur")
    assert store.reports[report.id].state is State.IN_PROGRESS


def test_another_agency_gets_not_found_and_nothing_changes() -> None:
    store = InMemoryReportStore()
    report = make_report(store)
    with pytest.raises(ReportNotFound):
        take(store, report, DINKES, AgencyCommand(Action.FOLLOW_UP, message="x"))
    assert store.reports[report.id] == report
    assert len(store.events[report.id]) == 2


def test_forward_only_to_a_unit_of_the_reports_agency() -> None:
    store = InMemoryReportStore()
    report = make_report(store)
    with pytest.raises(InvalidCommand):
        take(store, report, DPUPR, AgencyCommand(Action.FORWARD, unit_id="puskesmas-cipanas"))
    with pytest.raises(InvalidCommand):
        take(store, report, PEMKAB, AgencyCommand(Action.FORWARD, unit_id="dinkes-cianjur"))
    take(store, report, DPUPR, AgencyCommand(Action.FORWARD, unit_id="uptd-jalan-cianjur"))
    assert store.reports[report.id].unit_id == "uptd-jalan-cianjur"


def test_forward_in_the_wrong_state_is_an_illegal_transition_not_a_bad_unit() -> None:
    store = InMemoryReportStore()
    report = make_report(store)
    take(store, report, DPUPR, AgencyCommand(Action.FOLLOW_UP, message="Mulai."))
    with pytest.raises(IllegalTransition):
        take(store, report, DPUPR, AgencyCommand(Action.FORWARD, unit_id="puskesmas-cipanas"))


def test_wrong_target_returns_report_for_rerouting_and_counts_against_the_rule() -> None:
    store = InMemoryReportStore()
    report = make_report(store, rule_id="jalan-cianjur")
    event = take(
        store, report, DPUPR, AgencyCommand(Action.NOT_OUR_AUTHORITY, reason="Jalan provinsi.")
    )
    after = store.reports[report.id]
    assert after.state is State.SUBMITTED and after.agency_id is None
    assert after.rejected_by == ("dpupr-cianjur",)
    message = store.outbox[f"{report.id}.{event.seq}"]
    expected = submitted_event(after, message.id, NOW, "report-submitted")
    assert message == expected
    rule_totals = {key: n for key, n in store.tallies.items() if key[0] == "routing_stats"}
    assert rule_totals == {("routing_stats", "jalan-cianjur", "not_our_authority"): 1}


def test_a_report_sent_back_for_routing_is_published_by_the_action_itself() -> None:
    store, bus = InMemoryReportStore(), InMemoryPublisher()
    report = make_report(store)
    refusal = AgencyCommand(Action.NOT_OUR_AUTHORITY, reason="Jalan provinsi.")

    acted = agency.take_action(report.id, DPUPR, refusal, ports(store, publisher=bus))

    seq = acted.change.event.seq
    assert acted.published
    # Back to routing, and the regional admin who must route it is told.
    assert [m.id for m in bus.published] == [
        f"{report.id}.{seq}",
        f"{report.id}.{seq}.pemkab-cianjur",
    ]
    # Both wait for their consumers: route settles its announcement, notify the notice.
    assert set(store.outbox) == {f"{report.id}.{seq}", f"{report.id}.{seq}.pemkab-cianjur"}


def test_an_action_whose_publish_fails_is_kept_for_the_sweeper() -> None:
    store = InMemoryReportStore()
    report = make_report(store)
    refusal = AgencyCommand(Action.NOT_OUR_AUTHORITY, reason="Jalan provinsi.")
    bus = InMemoryPublisher(fail=True)

    acted = agency.take_action(report.id, DPUPR, refusal, ports(store, publisher=bus))

    assert not acted.published
    assert f"{report.id}.{acted.change.event.seq}" in store.outbox


def test_an_action_that_tells_nobody_counts_as_published() -> None:
    store = InMemoryReportStore()
    report = make_report(store)
    marked = AgencyCommand(Action.MARK_SUPERVISORY, reason="Dugaan pungutan liar.")

    acted = agency.take_action(report.id, DPUPR, marked, ports(store))

    assert acted.published and acted.change.outbox == ()


def test_a_follow_up_is_published_to_the_reporter_and_left_for_notify_to_settle() -> None:
    store, bus = InMemoryReportStore(), InMemoryPublisher()
    report = make_report(store)
    follow_up = AgencyCommand(Action.FOLLOW_UP, message="Ditinjau.")

    acted = agency.take_action(report.id, DPUPR, follow_up, ports(store, publisher=bus))

    assert acted.published
    assert [(m.id, m.topic) for m in bus.published] == [
        (f"{report.id}.{acted.change.event.seq}.reporter", "reporter-notifications")
    ]
    # Pending until notify settles it: publishing deletes nothing (no extra commit).
    assert set(store.outbox) == {f"{report.id}.{acted.change.event.seq}.reporter"}


def test_unit_officer_may_not_archive_or_reroute() -> None:
    store = InMemoryReportStore()
    report = make_report(store)
    take(store, report, DPUPR, AgencyCommand(Action.FORWARD, unit_id="uptd-jalan-cianjur"))
    with pytest.raises(NotPermitted):
        take(store, report, UPTD, AgencyCommand(Action.NOT_OUR_AUTHORITY, reason="x"))


def test_verify_outside_the_callers_tree_is_refused_before_any_read() -> None:
    store = InMemoryReportStore()
    report = make_report(store, agency_id=None)
    with pytest.raises(InvalidCommand):
        take(store, report, PEMKAB, AgencyCommand(Action.DISPOSITION, agency_id="dbmpr-jabar"))
    take(store, report, PEMKAB, AgencyCommand(Action.DISPOSITION, agency_id="dpupr-cianjur"))
    assert store.reports[report.id].agency_id == "dpupr-cianjur"


# --- inbox ----------------------------------------------------------------------------


def test_overdue_means_before_today_in_jakarta() -> None:
    fake = UnfilteredInbox()
    late_evening_utc = dt.datetime(2026, 3, 2, 18, 0, tzinfo=dt.UTC)  # 3 March, 01:00 WIB
    agency.inbox(DPUPR, ports(inbox=fake, clock=FixedClock(late_evening_utc)), overdue=True)
    assert fake.asked[0].overdue_before == dt.date(2026, 3, 3)


def test_inbox_never_shows_a_report_outside_the_scope_even_if_the_query_did() -> None:
    store = InMemoryReportStore()
    mine, theirs = make_report(store), make_report(store, agency_id="dinkes-cianjur")
    shown, _ = agency.inbox(DPUPR, ports(store, inbox=UnfilteredInbox([mine, theirs])))
    assert [item["id"] for item in shown] == [mine.id]
    assert "timeline" not in shown[0] and "reporter" not in shown[0]


def test_admin_queue_is_for_admins() -> None:
    with pytest.raises(NotPermitted):
        agency.inbox(UPTD, ports(inbox=UnfilteredInbox()), admin_queue=True)


def test_the_inbox_asks_for_escalated_reports_and_overdue_by_the_clock() -> None:
    fake = UnfilteredInbox()
    agency.inbox(NATIONAL, ports(inbox=fake), escalated=True, overdue=True)
    assert fake.asked[0].escalated and fake.asked[0].overdue_before == NOW.date()
    agency.inbox(NATIONAL, ports(inbox=fake))
    assert not fake.asked[1].escalated and fake.asked[1].overdue_before is None


def test_overdue_follows_the_clock_of_the_current_state() -> None:
    store = InMemoryReportStore()
    unrouted = make_report(store, agency_id=None)  # verification clock: 3 working days
    routed = make_report(store)  # resolution clock: 14 working days
    held = make_report(store, agency_id=None)
    take(store, held, NATIONAL, AgencyCommand(Action.HOLD, reason="Di mana persisnya?"))
    a_week_later = ports(store, clock=FixedClock(NOW + dt.timedelta(days=7)))

    shown, _ = agency.inbox(NATIONAL, a_week_later, overdue=True)

    assert [item["id"] for item in shown] == [unrouted.id]
    assert shown[0]["overdue"] is True and shown[0]["age_working_days"] == 5
    later = {r.id: agency.detail(r.id, NATIONAL, a_week_later) for r in (routed, held)}
    assert later[routed.id]["overdue"] is False and later[routed.id]["age_working_days"] == 5
    assert later[held.id]["overdue"] is False  # on hold, no clock runs
    assert later[held.id]["clock_due"] is None


def escalate(store: InMemoryReportStore, report_id: str, tier: str, at: dt.datetime) -> Report:
    """Fire ``tier`` as the daily run would, at ``at``."""
    current = settings()
    report = store.reports[report_id]
    command = Command(
        Action.ESCALATE,
        Actor(Role.SYSTEM, "system:escalate"),
        data={
            "tier": tier,
            "clock": str(report.clock_id),
            "notified": "agency_admin:dpupr-cianjur",
        },
    )
    after, event = lifecycle.apply(
        report, command, at, current.calendar(), current.deadline_policy()
    )
    store.reports[report_id] = after
    store.events[report_id].append(event)
    return after


def test_escalated_reports_show_their_tier_and_the_inbox_filters_on_the_running_clock() -> None:
    store = InMemoryReportStore()
    calm = make_report(store)
    late = make_report(store)
    resolve_due = store.reports[late.id].resolve_due
    assert resolve_due is not None
    first_day_late = settings().calendar().shift_working_days(resolve_due, 1)
    after_due = dt.datetime.combine(first_day_late, dt.time(1), dt.UTC)
    escalate(store, late.id, "reminder", after_due)
    escalate(store, late.id, "overdue", after_due)
    then = ports(store, clock=FixedClock(after_due))

    shown, _ = agency.inbox(DPUPR, then, escalated=True)

    assert [item["id"] for item in shown] == [late.id]
    assert shown[0]["escalation_tier"] == "overdue"
    assert shown[0]["escalations"] == ["reminder", "overdue"]
    assert shown[0]["overdue"] is True
    assert agency.detail(calm.id, DPUPR, then)["escalations"] == []
    # Resolved, the clock stops: no longer escalated, though the tiers stay on record.
    take(store, late, DPUPR, AgencyCommand(Action.FOLLOW_UP, message="Dikerjakan."))
    take(store, late, DPUPR, AgencyCommand(Action.RESOLVE, message="Selesai."))
    assert agency.inbox(DPUPR, then, escalated=True)[0] == []
    assert agency.detail(late.id, DPUPR, then)["escalation_tier"] == "overdue"


# --- mark supervisory, archive of a routed report -------------------------------------


def test_an_admin_marks_a_complaint_supervisory_and_its_deadline_grows() -> None:
    store = InMemoryReportStore()
    report = make_report(store)
    before = store.reports[report.id].resolve_due
    mark = AgencyCommand(Action.MARK_SUPERVISORY, reason="Dugaan pungutan liar.")

    event = take(store, report, DPUPR, mark)

    after = store.reports[report.id]
    assert after.type.value == "pengaduan_pengawasan"
    assert before is not None and after.resolve_due is not None and after.resolve_due > before
    assert event.reason == "Dugaan pungutan liar." and event.actor.id == "dpupr-cianjur"
    other = make_report(store)
    take(store, other, NATIONAL, mark)  # the national admin and parent admins too
    assert store.reports[other.id].type.value == "pengaduan_pengawasan"


def test_mark_supervisory_is_refused_to_officers_other_agencies_and_non_complaints() -> None:
    store = InMemoryReportStore()
    report = make_report(store)
    take(store, report, DPUPR, AgencyCommand(Action.FORWARD, unit_id="uptd-jalan-cianjur"))
    mark = AgencyCommand(Action.MARK_SUPERVISORY, reason="Perlu pemeriksaan.")
    with pytest.raises(NotPermitted):
        take(store, report, UPTD, mark)
    with pytest.raises(ReportNotFound):
        take(store, report, DINKES, mark)
    with pytest.raises(InvalidCommand):
        take(store, report, DPUPR, AgencyCommand(Action.MARK_SUPERVISORY, reason=" "))
    aspiration = make_report(store)
    store.reports[aspiration.id] = dataclasses.replace(
        store.reports[aspiration.id], type=lifecycle.ReportType.ASPIRATION
    )
    with pytest.raises(InvalidCommand):
        take(store, aspiration, DPUPR, mark)
    assert store.reports[report.id].type.value == "pengaduan"


def test_only_the_receiving_agencys_admin_archives_a_routed_report_before_a_follow_up() -> None:
    store = InMemoryReportStore()
    spam = make_report(store)
    archive = AgencyCommand(Action.ARCHIVE, reason="Duplikat laporan K7M-2XQ-9RJ.")
    for caller in (PEMKAB, NATIONAL):
        with pytest.raises(agency.NotTheReceivingAgency):
            take(store, spam, caller, archive)
    with pytest.raises(ReportNotFound):
        take(store, spam, DINKES, archive)
    assert store.reports[spam.id].state is State.DISPOSITIONED

    event = take(store, spam, DPUPR, archive)

    assert event.to_state is State.ARCHIVED and event.reason == archive.reason
    answered = make_report(store)
    take(store, answered, DPUPR, AgencyCommand(Action.FOLLOW_UP, message="Ditinjau."))
    with pytest.raises(IllegalTransition):
        take(store, answered, DPUPR, archive)


def test_an_unrouted_report_is_still_archived_by_the_admins_who_see_it() -> None:
    store = InMemoryReportStore()
    report = make_report(store, agency_id=None)
    take(store, report, PEMKAB, AgencyCommand(Action.ARCHIVE, reason="Bukan pelayanan publik."))
    assert store.reports[report.id].state is State.ARCHIVED


def test_cursor_round_trips_and_refuses_garbage() -> None:
    after = ("2026-03-02T03:00:00+00:00", "abc123")
    assert decode_cursor(encode_cursor(after)) == after
    for bad in ("", "!!!", encode_cursor(("x", "")), "WzEsMl0"):
        with pytest.raises(ValueError):
            decode_cursor(bad)


# --- the OpenAPI document -------------------------------------------------------------


def test_every_operation_has_an_example_that_validates_against_its_model() -> None:
    shown = examples()
    assert set(shown) == set(OPERATIONS)
    doc = document()
    for name, operation in OPERATIONS.items():
        body = doc["paths"][f"/api/v1/reports/{{report_id}}/{name}"]["post"]["requestBody"]
        sample = body["content"]["application/json"]["example"]
        assert sample, name
        operation.body.model_validate(sample)
