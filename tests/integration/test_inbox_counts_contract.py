"""The inbox's figures (InboxStore.count), the fake held to the Firestore adapter on the
emulator: each count is what the same query lists, over every page."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from shared.domain.report import Action, Actor, Command, Region, Role, State
from shared.ports import FixedClock, InboxQuery, Scope
from shared.usecases.act import act
from tests.integration import test_store_contract as contract
from tests.integration.test_store_contract import (
    NOW,
    SETTINGS,
    Backend,
    _disposition,
    _escalate,
    _get,
    _submitted,
)

backend = contract.backend  # the fake, and the adapter on the emulator

DPUPR = Actor(Role.AGENCY_ADMIN, "dpupr-cianjur")


def _listed(backend: Backend, query: InboxQuery) -> int:
    """How many reports the listing shows for ``query``, following the cursor."""
    total, after = 0, None
    while True:
        page = backend.agencies.inbox(dataclasses.replace(query, after=after, limit=100))
        total += len(page.reports)
        if page.next_after is None:
            return total
        after = page.next_after


def _some_reports(store: Any) -> dt.date:
    """Reports in several states of DPUPR, one of Dinkes, two unrouted; returns a day
    after DPUPR's resolution deadlines."""
    routed = [_submitted(store) for _ in range(4)]
    for report in routed:
        _disposition(store, report.id, "dpupr-cianjur")
    act(
        routed[1].id,
        Command(Action.FOLLOW_UP, DPUPR, message="Dikerjakan."),
        store=store,
        clock=FixedClock(NOW),
        settings=SETTINGS,
    )
    act(
        routed[2].id,
        Command(Action.FORWARD, DPUPR, unit_id="uptd-jalan-cianjur"),
        store=store,
        clock=FixedClock(NOW),
        settings=SETTINGS,
    )
    due = _get(store, routed[3].id).resolve_due
    assert due is not None
    day_late = SETTINGS.calendar().shift_working_days(due, 1)
    _escalate(store, routed[3].id, "overdue", dt.datetime.combine(day_late, dt.time(3), dt.UTC))
    theirs = _submitted(store)
    _disposition(store, theirs.id, "dinkes-cianjur")
    _submitted(store, region=Region("32", "32.03"))
    _submitted(store, region=Region("32", "32.01"))
    return SETTINGS.calendar().shift_working_days(due, 2)


def test_each_count_is_what_the_same_query_lists(backend: Backend) -> None:
    late = _some_reports(backend.reports)
    # More agencies than one "in" holds (30): the adapter counts per chunk and adds up.
    many = frozenset({"dpupr-cianjur", *(f"dinas-{i:02d}" for i in range(40))})
    scopes = [
        Scope(agencies=many),
        Scope(agencies=frozenset({"uptd-jalan-cianjur"}), units_only=True),
        Scope(everything=True),
    ]
    filters: list[dict[str, Any]] = [
        *({"status": state} for state in State),
        {"overdue_before": late},
        {"escalated": True},
    ]
    queries = [InboxQuery(scope, **how) for scope in scopes for how in filters]
    queries += [
        InboxQuery(Scope(queue_region=region), status=State.SUBMITTED, admin_queue=True)
        for region in ("32", "32.03", "35")
    ]

    counted = backend.agencies.count(queries)

    assert counted == [_listed(backend, query) for query in queries]
    by_query = dict(zip(queries, counted, strict=True))
    dpupr = scopes[0]
    assert by_query[InboxQuery(dpupr, status=State.DISPOSITIONED)] == 3
    assert by_query[InboxQuery(dpupr, status=State.IN_PROGRESS)] == 1
    assert by_query[InboxQuery(dpupr, overdue_before=late)] == 4
    assert by_query[InboxQuery(dpupr, escalated=True)] == 1
    assert by_query[InboxQuery(scopes[1], status=State.DISPOSITIONED)] == 1
    assert by_query[InboxQuery(scopes[2], status=State.SUBMITTED)] == 2
    queue = InboxQuery(Scope(queue_region="32"), status=State.SUBMITTED, admin_queue=True)
    assert by_query[queue] == 2


def test_no_queries_count_nothing(backend: Backend) -> None:
    assert backend.agencies.count([]) == []
