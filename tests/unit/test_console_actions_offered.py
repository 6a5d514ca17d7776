"""The report page offers exactly the actions take_action would take: for every state a
report can be in and every caller who sees it, an operation is offered if and only if
taking it (with a valid target or text) succeeds."""

from __future__ import annotations

import dataclasses
import itertools

import pytest

from shared.domain import report as lifecycle
from shared.domain.report import Action, Actor, Command, LifecycleError, Role, State
from shared.ports import ReportNotFound
from shared.usecases import agency
from shared.usecases.agency import AgencyCommand, Caller
from shared.web.agency_app import OPERATIONS
from shared.web.console.work_pages import allowed_operations, route_choices
from tests.fakes import InMemoryReportStore
from tests.unit.test_agency_usecase import (
    DINKES,
    DPUPR,
    NATIONAL,
    NOW,
    PEMKAB,
    REFERENCE,
    UPTD,
    make_report,
    ports,
    settings,
)

CALLERS = (NATIONAL, PEMKAB, DPUPR, DINKES, UPTD, Caller("pemprov-jabar", Role.AGENCY_ADMIN))
DPUPR_ADMIN = Actor(Role.AGENCY_ADMIN, "dpupr-cianjur")
REPORTER = Actor(Role.REPORTER, "reporter")


def _then(store: InMemoryReportStore, report_id: str, *commands: Command) -> None:
    current = settings()
    for command in commands:
        report, event = lifecycle.apply(
            store.reports[report_id],
            command,
            NOW,
            current.calendar(),
            current.deadline_policy(),
        )
        store.reports[report_id] = report
        store.events[report_id].append(event)


def _in_state(store: InMemoryReportStore, name: str) -> str:
    """A report in the named situation; its id."""
    routed = name not in ("submitted", "on_hold")
    report = make_report(store, agency_id="dpupr-cianjur" if routed else None)
    follow = Command(Action.FOLLOW_UP, DPUPR_ADMIN, message="Mulai.")
    forward = Command(Action.FORWARD, DPUPR_ADMIN, unit_id="uptd-jalan-cianjur")
    steps: dict[str, tuple[Command, ...]] = {
        "submitted": (),
        "on_hold": (Command(Action.HOLD, Actor(Role.NATIONAL_ADMIN, "nasional"), reason="?"),),
        "dispositioned": (),
        "forwarded": (forward,),
        "in_progress": (follow,),
        "forwarded_in_progress": (forward, follow),
        "resolved": (forward, follow, Command(Action.RESOLVE, DPUPR_ADMIN, message="Ok.")),
        "closed": (
            follow,
            Command(Action.RESOLVE, DPUPR_ADMIN, message="Ok."),
            Command(Action.CONFIRM, REPORTER),
        ),
        "archived": (Command(Action.ARCHIVE, DPUPR_ADMIN, reason="Ganda."),),
    }
    _then(store, report.id, *steps[name])
    return report.id


def _request(op: str, caller: Caller, shown: dict[str, object]) -> AgencyCommand:
    action = OPERATIONS[op].action
    if action is Action.DISPOSITION:
        choices = route_choices(caller, REFERENCE)
        return AgencyCommand(action, agency_id=choices[0].value if choices else "x")
    if action is Action.FORWARD:
        units = sorted(
            u
            for u in REFERENCE.descendants(str(shown.get("agency_id") or "nasional"))
            if REFERENCE.agency(u).kind.value == "unit"
        )
        return AgencyCommand(action, unit_id=units[0] if units else "x")
    return AgencyCommand(action, reason="Alasan.", message="Pesan.")


SITUATIONS = (
    "submitted",
    "on_hold",
    "dispositioned",
    "forwarded",
    "in_progress",
    "forwarded_in_progress",
    "resolved",
    "closed",
    "archived",
)


@pytest.mark.parametrize(
    ("situation", "caller"),
    list(itertools.product(SITUATIONS, CALLERS)),
    ids=lambda value: value if isinstance(value, str) else f"{value.agency_id}",
)
def test_an_operation_is_offered_exactly_when_take_action_takes_it(
    situation: str, caller: Caller
) -> None:
    store = InMemoryReportStore()
    report_id = _in_state(store, situation)
    try:
        shown = agency.detail(report_id, caller, ports(store), with_identity=False)
    except ReportNotFound:
        return  # a caller who does not see it gets no page at all
    offered = allowed_operations(shown, caller, REFERENCE)
    for op in OPERATIONS:
        trial = InMemoryReportStore()
        trial.reports = {k: dataclasses.replace(v) for k, v in store.reports.items()}
        trial.events = {k: list(v) for k, v in store.events.items()}
        try:
            agency.take_action(report_id, caller, _request(op, caller, shown), ports(trial))
            taken = True
        except LifecycleError:
            taken = False
        assert (op in offered) == taken, (situation, caller.agency_id, op, offered)


def test_the_matrix_offers_something_to_each_kind_of_caller() -> None:
    """The test above is not vacuous: every caller is offered some action somewhere."""
    offered: dict[str, set[str]] = {c.agency_id: set() for c in CALLERS}
    states: set[State] = set()
    for situation, caller in itertools.product(SITUATIONS, CALLERS):
        store = InMemoryReportStore()
        report_id = _in_state(store, situation)
        states.add(store.reports[report_id].state)
        try:
            shown = agency.detail(report_id, caller, ports(store), with_identity=False)
        except ReportNotFound:
            continue
        offered[caller.agency_id] |= set(allowed_operations(shown, caller, REFERENCE))
    assert offered["uptd-jalan-cianjur"] == {"follow-up", "resolve"}
    assert {"verify", "hold", "archive"} <= offered["pemkab-cianjur"]
    assert offered["dinkes-cianjur"] == set()  # it never sees DPUPR's reports
    assert set(OPERATIONS) == offered["nasional"] | offered["dpupr-cianjur"]
    assert states == set(State)  # the situations cover every state of the lifecycle
