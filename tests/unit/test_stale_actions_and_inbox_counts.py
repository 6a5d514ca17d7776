"""What the console adds to the agency use cases: a stale action is refused, the inbox's
figures count the caller's scope, and a tracking code finds only a report in scope."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from shared.domain.report import Action, IllegalTransition, Report, Role, State
from shared.domain.tracking import InvalidTrackingCode, new_tracking_code
from shared.ports import FixedClock, ReportNotFound
from shared.usecases import agency
from shared.usecases.agency import AgencyCommand, Caller, ReportChanged
from tests.fakes import InMemoryReportStore, UnfilteredInbox
from tests.unit.test_agency_usecase import (
    DINKES,
    DPUPR,
    NATIONAL,
    NOW,
    PEMKAB,
    UPTD,
    make_report,
    ports,
)

FOLLOW_UP = AgencyCommand(Action.FOLLOW_UP, message="Tim sudah ke lokasi.")


# --- a stale action ---------------------------------------------------------------------


def test_an_action_on_the_version_read_is_taken() -> None:
    store = InMemoryReportStore()
    report = make_report(store)
    acted = agency.take_action(
        report.id, DPUPR, FOLLOW_UP, ports(store), expected_seq=report.last_seq
    )
    assert acted.report.last_seq == report.last_seq + 1
    assert acted.report.state is State.IN_PROGRESS


def test_an_action_on_a_report_that_changed_meanwhile_is_refused_and_changes_nothing() -> None:
    store = InMemoryReportStore()
    report = make_report(store)
    read_at = report.last_seq
    agency.take_action(report.id, DPUPR, FOLLOW_UP, ports(store))  # someone else, meanwhile
    after_them = store.reports[report.id]
    events = list(store.events[report.id])
    resolve = AgencyCommand(Action.RESOLVE, message="Selesai.")
    with pytest.raises(ReportChanged) as refused:
        agency.take_action(report.id, DPUPR, resolve, ports(store), expected_seq=read_at)
    assert refused.value.code == "report_changed"
    assert (refused.value.expected_seq, refused.value.current_seq) == (read_at, read_at + 1)
    assert store.reports[report.id] == after_them
    assert store.events[report.id] == events


def test_a_report_out_of_scope_is_not_found_before_its_version_is_told() -> None:
    store = InMemoryReportStore()
    report = make_report(store)
    with pytest.raises(ReportNotFound):
        agency.take_action(report.id, DINKES, FOLLOW_UP, ports(store), expected_seq=99)


def test_an_illegal_action_on_the_current_version_is_still_illegal() -> None:
    store = InMemoryReportStore()
    report = make_report(store)
    resolve = AgencyCommand(Action.RESOLVE, message="Selesai.")
    with pytest.raises(IllegalTransition):
        agency.take_action(report.id, DPUPR, resolve, ports(store), expected_seq=report.last_seq)


# --- the inbox's figures --------------------------------------------------------------


def _reports_in_several_states(store: InMemoryReportStore) -> None:
    make_report(store)  # dispositioned to DPUPR
    followed = make_report(store)
    agency.take_action(followed.id, DPUPR, FOLLOW_UP, ports(store))
    forwarded = make_report(store)
    forward = AgencyCommand(Action.FORWARD, unit_id="uptd-jalan-cianjur")
    agency.take_action(forwarded.id, DPUPR, forward, ports(store))
    make_report(store, agency_id="dinkes-cianjur")
    make_report(store, agency_id=None)  # unrouted in Cianjur (32.03)
    make_report(store, agency_id=None, regency="32.04")  # unrouted elsewhere


def test_counts_per_state_are_of_the_callers_scope() -> None:
    store = InMemoryReportStore()
    _reports_in_several_states(store)
    counts = agency.inbox_counts(DPUPR, ports(store))
    assert counts.by_state[State.DISPOSITIONED] == 2
    assert counts.by_state[State.IN_PROGRESS] == 1
    assert counts.by_state[State.SUBMITTED] == 0  # unrouted: no agency's inbox holds it
    assert counts.admin_queue is None  # a dinas has no regional queue
    unit = agency.inbox_counts(UPTD, ports(store))
    assert unit.by_state[State.DISPOSITIONED] == 1
    assert sum(unit.by_state.values()) == 1
    assert unit.admin_queue is None


def test_the_regional_and_national_admins_count_their_admin_queue() -> None:
    store = InMemoryReportStore()
    _reports_in_several_states(store)
    regional = agency.inbox_counts(PEMKAB, ports(store))
    assert regional.admin_queue == 1  # Cianjur's unrouted report only
    assert regional.by_state[State.DISPOSITIONED] == 3  # its dinas' reports
    national = agency.inbox_counts(NATIONAL, ports(store))
    assert national.admin_queue == 2
    assert national.by_state[State.SUBMITTED] == 2
    assert sum(national.by_state.values()) == len(store.reports)


def test_overdue_and_escalated_are_counted_by_the_running_clock() -> None:
    store = InMemoryReportStore()
    _reports_in_several_states(store)
    later = FixedClock(NOW + dt.timedelta(days=40))
    counts = agency.inbox_counts(DPUPR, ports(store, clock=later))
    assert counts.overdue == 3  # the resolution clocks of DPUPR's three reports ran out
    assert counts.escalated == 0  # no tier fired: the daily run has not been


def test_the_counts_ask_the_store_the_same_scoped_queries_as_the_inbox() -> None:
    inbox = UnfilteredInbox()
    agency.inbox_counts(PEMKAB, ports(inbox=inbox))
    scope = agency.scope_of(PEMKAB, ports().reference)
    assert {q.scope for q in inbox.asked} == {scope}
    asked_states = {q.status for q in inbox.asked if not q.admin_queue}
    assert State.SUBMITTED not in asked_states and State.DISPOSITIONED in asked_states
    [queue] = [q for q in inbox.asked if q.admin_queue]
    assert queue.status is State.SUBMITTED


def test_the_reports_given_to_someone_are_counted_when_asked() -> None:
    store = InMemoryReportStore()
    _reports_in_several_states(store)
    given = next(r for r in store.reports.values() if r.agency_id == "dpupr-cianjur")
    store.reports[given.id] = dataclasses.replace(given, assignee_id="acc-1", assignee_name="Budi")
    assert agency.inbox_counts(DPUPR, ports(store)).assigned is None
    assert agency.inbox_counts(DPUPR, ports(store), assigned_to="acc-1").assigned == 1
    assert agency.inbox_counts(DPUPR, ports(store), assigned_to="acc-2").assigned == 0
    assert agency.inbox_counts(DINKES, ports(store), assigned_to="acc-1").assigned == 0


# --- a tracking code ------------------------------------------------------------------


def _with_code(store: InMemoryReportStore, code: str) -> Report:
    report = dataclasses.replace(make_report(store), tracking_code=code)
    store.reports[report.id] = report
    return report


def test_a_tracking_code_typed_loosely_finds_the_report_in_scope() -> None:
    store = InMemoryReportStore()
    code = new_tracking_code()
    report = _with_code(store, code)
    typed = code.replace("-", " ").lower()
    assert agency.find_by_code(typed, DPUPR, ports(store)) == report.id
    assert agency.find_by_code(code, NATIONAL, ports(store)) == report.id


def test_a_tracking_code_out_of_scope_or_unknown_is_not_found() -> None:
    store = InMemoryReportStore()
    code = new_tracking_code()
    _with_code(store, code)
    with pytest.raises(ReportNotFound):
        agency.find_by_code(code, DINKES, ports(store))
    with pytest.raises(ReportNotFound):
        agency.find_by_code(new_tracking_code(), DPUPR, ports(store))


def test_a_malformed_tracking_code_is_refused_before_any_read() -> None:
    store = InMemoryReportStore()
    with pytest.raises(InvalidTrackingCode):
        agency.find_by_code("K7M-2XQ", Caller("dpupr-cianjur", Role.AGENCY_ADMIN), ports(store))
    assert store.reads == 0
