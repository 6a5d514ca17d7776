"""The act use case: one transaction per action; a refusal writes nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from shared.config import Settings
from shared.domain.report import (
    Action,
    Actor,
    Command,
    IllegalTransition,
    Report,
    Role,
    State,
)
from shared.ports import FixedClock, ReportNotFound
from shared.usecases.act import act
from shared.usecases.submit import submit_report
from tests.builders import a_draft, an_identity
from tests.fakes import InMemoryPublisher, InMemoryReportStore

SETTINGS = Settings(token_secret="unit-test-secret-0123456789")
CLOCK = FixedClock(dt.datetime(2026, 12, 7, 3, 0, tzinfo=dt.UTC))
ADMIN = Actor(Role.AGENCY_ADMIN, "dpupr-cianjur")


def stored_report(store: InMemoryReportStore) -> str:
    result = submit_report(
        a_draft(),
        an_identity(),
        client_id="c",
        idempotency_key=None,
        store=store,
        publisher=InMemoryPublisher(),
        clock=CLOCK,
        settings=SETTINGS,
    )
    return result.report_id


def rule_totals(store: InMemoryReportStore) -> dict[tuple[str, str, str], int]:
    return {key: by for key, by in store.tallies.items() if key[0] == "routing_stats"}


def figure_counters(store: InMemoryReportStore) -> dict[tuple[str, str], int]:
    return {
        (doc, field): by for (c, doc, field), by in store.tallies.items() if c == "figure_counters"
    }


def test_an_action_commits_the_report_its_event_and_whom_it_tells_once() -> None:
    store = InMemoryReportStore()
    report_id = stored_report(store)
    commits = store.commits

    change = act(
        report_id,
        Command(Action.DISPOSITION, ADMIN, agency_id="dpupr-cianjur"),
        store=store,
        clock=CLOCK,
        settings=SETTINGS,
        settle=(f"{report_id}.1",),
    )
    assert store.commits == commits + 1
    assert store.reports[report_id].state is State.DISPOSITIONED
    assert [e.seq for e in store.events[report_id]] == [1, 2]
    # The agency is told in the same commit (shared.usecases.notices), the entry settled;
    # the notifications wait in the outbox until notify settles them.
    told = f"{report_id}.2.dpupr-cianjur"
    assert [m.id for m in change.outbox] == [told]
    assert set(store.outbox) == {f"{report_id}.1.reporter", told}
    assert change.event.data["agency_id"] == "dpupr-cianjur"


def test_rule_totals_move_in_the_same_commit_as_the_event() -> None:
    store = InMemoryReportStore()
    report_id = stored_report(store)
    routed = Command(
        Action.DISPOSITION,
        Actor(Role.SYSTEM, "system:route"),
        agency_id="dpupr-cianjur",
        data={"method": "rule", "rule_id": "cianjur-jalan"},
    )
    act(report_id, routed, store=store, clock=CLOCK, settings=SETTINGS)
    commits = store.commits
    act(
        report_id,
        Command(Action.NOT_OUR_AUTHORITY, ADMIN, reason="Jalan provinsi"),
        store=store,
        clock=CLOCK,
        settings=SETTINGS,
    )
    assert store.commits == commits + 1
    assert rule_totals(store) == {
        ("routing_stats", "cianjur-jalan", "dispositions"): 1,
        ("routing_stats", "cianjur-jalan", "not_our_authority"): 1,
    }


def test_the_published_figures_count_the_submission_and_each_action_in_its_commit() -> None:
    store = InMemoryReportStore()
    report_id = stored_report(store)  # Mon 7 Dec 2026, 10:00 in Jakarta, Cianjur
    shards = {doc.rsplit("_", 1)[1] for doc, _ in figure_counters(store)}
    assert figure_counters(store) == {
        (f"2026-12-07_unrouted:32.03_{s}", "received"): 1 for s in shards
    }
    commits = store.commits

    act(
        report_id,
        Command(Action.DISPOSITION, ADMIN, agency_id="dpupr-cianjur"),
        store=store,
        clock=CLOCK,
        settings=SETTINGS,
    )

    assert store.commits == commits + 1
    routed = {k: v for k, v in figure_counters(store).items() if "dpupr-cianjur" in k[0]}
    ((doc_id, field), by), *rest = routed.items()
    assert not rest and (field, by) == ("routed_manual", 1)
    assert doc_id.startswith("2026-12-07_dpupr-cianjur_")
    assert 0 <= int(doc_id.rsplit("_", 1)[1]) < SETTINGS.figure_shards


def test_a_report_back_to_submitted_is_announced_for_routing_again() -> None:
    store = InMemoryReportStore()
    report_id = stored_report(store)
    act(
        report_id,
        Command(Action.HOLD, ADMIN, reason="Mohon lampirkan lokasi persisnya."),
        store=store,
        clock=CLOCK,
        settings=SETTINGS,
    )
    # Holding is not a new submission (only the reporter is told of it).
    assert set(store.outbox) == {
        f"{report_id}.1",
        f"{report_id}.1.reporter",
        f"{report_id}.2.reporter",
    }
    change = act(
        report_id,
        Command(Action.ANSWER_HOLD, Actor(Role.REPORTER, "reporter"), message="Depan pasar."),
        store=store,
        clock=CLOCK,
        settings=SETTINGS,
    )
    announced, told = change.outbox
    assert announced.id == f"{report_id}.3" and announced.topic == "report-submitted"
    assert announced.data["report_id"] == report_id
    assert told.id == f"{report_id}.3.dpupr-cianjur"  # the admin who asked


def test_a_refused_action_writes_nothing() -> None:
    store = InMemoryReportStore()
    report_id = stored_report(store)
    before = (store.commits, store.reports[report_id], list(store.events[report_id]))
    with pytest.raises(IllegalTransition):
        act(
            report_id,
            Command(Action.RESOLVE, ADMIN, message="selesai"),
            store=store,
            clock=CLOCK,
            settings=SETTINGS,
        )
    assert (store.commits, store.reports[report_id], store.events[report_id]) == before


def test_a_guard_can_refuse_before_the_lifecycle() -> None:
    store = InMemoryReportStore()
    report_id = stored_report(store)

    class NotYours(Exception):
        pass

    def guard(report: Report) -> None:
        raise NotYours

    with pytest.raises(NotYours):
        act(
            report_id,
            Command(Action.DISPOSITION, ADMIN, agency_id="x"),
            store=store,
            clock=CLOCK,
            settings=SETTINGS,
            guard=guard,
        )
    assert store.reports[report_id].state is State.SUBMITTED


def test_an_unknown_report_is_not_found() -> None:
    with pytest.raises(ReportNotFound):
        act(
            "nope",
            Command(Action.DISPOSITION, ADMIN, agency_id="x"),
            store=InMemoryReportStore(),
            clock=CLOCK,
            settings=SETTINGS,
        )
