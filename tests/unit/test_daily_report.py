"""The daily report use case with the fakes: reports submitted and acted on through the
use cases, their counters summed into the day's documents, carried from one stored day
to the next, pushed once."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from shared.config import Settings
from shared.domain.figures import (
    TREND_DAYS,
    AgencyTree,
    Figures,
    ScopeFigures,
    add_counts,
    compute_figures,
    counts_by_day,
    days_id_range,
    figures_json,
    unrouted_scope,
)
from shared.domain.report import Action, Actor, Command, Region, ReportType, Role
from shared.ports import DailyReportPorts, FixedClock
from shared.reference import AgencyKind, load_reference
from shared.usecases.act import act
from shared.usecases.counters import FIGURE_COUNTERS
from shared.usecases.daily_report import (
    ROW_COLUMNS,
    agencies_csv,
    agency_tree,
    daily_notifications,
    run_daily_report,
    scope_documents,
    summary_document,
)
from shared.usecases.submit import submit_report
from tests.builders import a_draft, an_identity
from tests.fakes import InMemoryFiguresStore, InMemoryPublisher, InMemoryReportStore

SETTINGS = Settings(
    token_secret="unit-test-secret-0123456789", public_base_url="https://lapor.example"
)
REFERENCE = load_reference()
JAKARTA = SETTINGS.calendar().tz
CIANJUR, BOGOR = Region("32", "32.03"), Region("32", "32.01")
A, B = "dpupr-cianjur", "dinkes-cianjur"
SYSTEM = Actor(Role.SYSTEM, "system:route")
OFFICER = Actor(Role.UNIT_OFFICER, "petugas")
AGENCY_ADMIN = Actor(Role.AGENCY_ADMIN, "admin-instansi")
REPORTER = Actor(Role.REPORTER, "reporter")
CLIENTS = itertools.count()
INDEX_FILE = Path(__file__).resolve().parents[2] / "infra" / "firestore_indexes.json"


def at(month: int, day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=JAKARTA)


class World:
    """The stores, a clock, and the use cases acting on them."""

    def __init__(self) -> None:
        self.reports = InMemoryReportStore()
        self.figures = InMemoryFiguresStore(self.reports)
        self.publisher = InMemoryPublisher()
        self.clock = FixedClock(at(10, 1))
        self.ports = DailyReportPorts(
            figures=self.figures,
            publisher=self.publisher,
            clock=self.clock,
            settings=SETTINGS,
            reference=REFERENCE,
        )

    def submit(self, moment: dt.datetime, region: Region = CIANJUR, **draft: Any) -> str:
        self.clock.current = moment
        return submit_report(
            a_draft(region=region, **draft),
            an_identity(),
            client_id=f"client-{next(CLIENTS)}",  # under the rate limit
            idempotency_key=None,
            store=self.reports,
            publisher=self.publisher,
            clock=self.clock,
            settings=SETTINGS,
        ).report_id

    def act(self, report_id: str, moment: dt.datetime, command: Command) -> None:
        self.clock.current = moment
        act(report_id, command, store=self.reports, clock=self.clock, settings=SETTINGS)

    def route(self, report_id: str, moment: dt.datetime, agency: str) -> None:
        data = {"method": "rule", "rule_id": "cianjur-jalan"}
        self.act(
            report_id, moment, Command(Action.DISPOSITION, SYSTEM, agency_id=agency, data=data)
        )

    def run(self, day: dt.date) -> Any:
        self.clock.current = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(1), JAKARTA)
        return run_daily_report(day, self.ports)

    def stored(self, day: dt.date) -> dict[str, Any]:
        return self.figures.days[day]


def early_october() -> World:
    """Mon 5 - Wed 7 October 2026 in Cianjur and Bogor."""
    w = World()
    r1 = w.submit(at(10, 5))
    w.route(r1, at(10, 5, 11), A)
    r2 = w.submit(at(10, 5), type=ReportType.INFORMATION_REQUEST)
    w.route(r2, at(10, 5, 11), B)
    w.submit(at(10, 5), region=BOGOR)  # never routed
    w.act(r1, at(10, 6), Command(Action.FOLLOW_UP, OFFICER, message="Sedang diperbaiki."))
    w.act(r1, at(10, 6, 15), Command(Action.RESOLVE, OFFICER, message="Sudah ditambal."))
    w.act(r1, at(10, 7), Command(Action.CONFIRM, REPORTER))
    w.act(r1, at(10, 7, 11), Command(Action.RATE, REPORTER, rating=4))
    w.act(r2, at(10, 7), Command(Action.NOT_OUR_AUTHORITY, AGENCY_ADMIN, reason="Bukan kami."))
    return w


def expected_figures(w: World, day: dt.date, overdue: Mapping[str, int]) -> dict[str, object]:
    """The domain's figures from the counters as committed, summed independently."""
    start, end = days_id_range(None, day)
    documents: dict[str, dict[str, object]] = {}
    for (family, key, name), value in w.reports.tallies.items():
        if family == FIGURE_COUNTERS and start <= key < end:
            documents.setdefault(key, {})[name] = value
    by_day = counts_by_day(documents.items())
    month = add_counts(*(c for d, c in by_day.items() if d.month == day.month))
    cumulative = add_counts(*by_day.values())
    computed = compute_figures(
        day, by_day.get(day, {}), cumulative, overdue, agency_tree(REFERENCE), month_counts=month
    )
    return figures_json(computed)


def periods(doc: Mapping[str, Any]) -> dict[str, Any]:
    return {k: doc[k] for k in ("day", "month", "cumulative", "overdue_now")}


# --- the figures ---------------------------------------------------------------------


def test_the_stored_figures_are_the_domains_figures_of_the_counters() -> None:
    w = early_october()
    for day in (5, 6, 7):
        w.run(dt.date(2026, 10, day))

    expected = expected_figures(w, dt.date(2026, 10, 7), {})
    stored = w.stored(dt.date(2026, 10, 7))
    assert periods(stored["summary"]["national"]) == expected["national"]
    assert periods(stored["scopes"]["national"]["own"]) == expected["national"]
    agencies: dict[str, Any] = expected["agencies"]  # type: ignore[assignment]
    regions: dict[str, Any] = expected["regions"]  # type: ignore[assignment]
    for agency in (A, B, "pemkab-cianjur", "nasional"):
        scope = stored["scopes"][agency]
        assert (scope["kind"], scope["scope"], scope["day"]) == ("agency", agency, "2026-10-07")
        assert periods(scope["own"]) == agencies[agency]["own"]
        assert periods(scope["subtree"]) == agencies[agency]["subtree"]
    for code in ("32.03", "32.01"):
        assert periods(stored["scopes"][code]["own"]) == regions[code]
    # And by hand: three submitted, two routed by rule, R1 closed and rated 4; R2 refused.
    national = stored["summary"]["national"]["cumulative"]
    assert (national["received"], national["routed_total"], national["closed"]) == (3, 2, 1)
    assert national["satisfaction_mean"] == 4 and national["not_our_authority"] == 1
    a_month = stored["summary"]["agencies"][A]["month"]
    assert a_month == {
        "received": 1,
        "followed_up_within_deadline_share": 1.0,
        "resolved_share": 1.0,
        "median_first_response_wd": 1,
        "median_resolution_wd": 1,
        "misrouting_rate": 0.0,
        "satisfaction_mean": 4.0,
        "satisfaction_count": 1,
        "overdue_now": 0,
    }
    assert stored["summary"]["agencies"][B]["cumulative"]["misrouting_rate"] == 1.0
    # The day's figures: on Wed 7 only the closing, the rating and the refusal.
    day = stored["summary"]["national"]["day"]
    assert (day["received"], day["closed"], day["not_our_authority"]) == (0, 1, 1)


def test_every_agency_region_and_unrouted_scope_has_its_document() -> None:
    w = early_october()
    w.run(dt.date(2026, 10, 7))
    scopes = w.stored(dt.date(2026, 10, 7))["scopes"]
    agencies = {a.id for a in REFERENCE.agencies}
    kinds = {scope: doc["kind"] for scope, doc in scopes.items()}
    assert {s for s, k in kinds.items() if k == "agency"} == agencies
    assert {s for s, k in kinds.items() if k == "unrouted"} == {"unrouted:32.03", "unrouted:32.01"}
    assert kinds["national"] == "national"
    assert {"32", "32.03", "32.01"} <= {s for s, k in kinds.items() if k == "region"}
    # The counter scopes carry their counts to the next day; the sums do not need to.
    assert all(
        (doc["counts"] is not None) == (doc["kind"] in ("agency", "unrouted"))
        for doc in scopes.values()
    )
    assert scopes["unrouted:32.01"]["counts"]["cumulative"] == {"received": 1}
    assert scopes["unrouted:32.01"]["own"]["cumulative"]["received"] == 1
    assert scopes[A]["subtree"] is not None and scopes["32.03"]["subtree"] is None


def test_missed_days_are_filled_in_and_a_first_run_reads_every_counter() -> None:
    chained, skipped, first = early_october(), early_october(), early_october()
    for day in (5, 6, 7):
        chained.run(dt.date(2026, 10, day))
    skipped.run(dt.date(2026, 10, 5))  # then nothing on the 6th
    skipped.run(dt.date(2026, 10, 7))
    first.run(dt.date(2026, 10, 7))  # no day stored before

    def comparable(w: World) -> dict[str, Any]:
        stored = w.stored(dt.date(2026, 10, 7))
        summary = {k: v for k, v in stored["summary"].items() if k != "generated_at"}
        return {"summary": summary, "scopes": stored["scopes"], "exports": stored["exports"]}

    assert comparable(skipped) == comparable(chained)
    assert comparable(first) == comparable(chained)


def test_the_month_to_date_starts_again_on_the_first() -> None:
    w = World()
    w.submit(at(9, 30))
    w.submit(at(10, 1))
    w.run(dt.date(2026, 9, 30))
    w.run(dt.date(2026, 10, 1))

    national = w.stored(dt.date(2026, 10, 1))["summary"]["national"]
    assert national["day"]["received"] == 1
    assert national["month"]["received"] == 1
    assert national["cumulative"]["received"] == 2
    assert w.stored(dt.date(2026, 9, 30))["summary"]["national"]["month"]["received"] == 1


def test_the_trend_covers_ninety_days_of_received_and_closed() -> None:
    w = early_october()
    w.run(dt.date(2026, 10, 5))
    w.run(dt.date(2026, 10, 7))

    stored = w.stored(dt.date(2026, 10, 7))
    trend = stored["summary"]["trend"]
    assert len(trend) == TREND_DAYS
    assert trend[0]["day"] == "2026-07-10"
    assert trend[-3:] == [
        {"day": "2026-10-05", "received": 3, "closed": 0},
        {"day": "2026-10-06", "received": 0, "closed": 0},
        {"day": "2026-10-07", "received": 0, "closed": 1},
    ]
    assert stored["scopes"]["national"]["trend"] == trend
    # An agency's own: what was routed to it, what it closed.
    assert stored["scopes"][A]["trend"][-3:] == [
        {"day": "2026-10-05", "received": 1, "closed": 0},
        {"day": "2026-10-06", "received": 0, "closed": 0},
        {"day": "2026-10-07", "received": 0, "closed": 1},
    ]


def test_the_open_data_csv_lists_every_agency_own_and_subtree_daily_and_cumulatively() -> None:
    w = early_october()
    w.run(dt.date(2026, 10, 7))
    export = w.stored(dt.date(2026, 10, 7))["exports"]["agencies_csv"]
    lines = export["csv"].splitlines()
    assert lines[0].split(",") == export["columns"]
    assert len(lines) == 1 + len(REFERENCE.agencies) * 2 * 2
    own = next(line for line in lines if line.startswith(f"2026-10-07,cumulative,agency,{A},"))
    assert own.split(",")[4] == "1"  # received


def test_misrouting_per_rule_is_exported() -> None:
    w = early_october()
    w.run(dt.date(2026, 10, 7))
    rules = w.stored(dt.date(2026, 10, 7))["exports"]["routing_rules"]["rules"]
    assert rules == {
        "cianjur-jalan": {"dispositions": 2, "not_our_authority": 1, "misrouting_rate": 0.5}
    }


# --- overdue now ------------------------------------------------------------------------


@dataclass
class CountingFigures(InMemoryFiguresStore):
    """Remembers how the overdue reports were counted."""

    asked: list[str] = field(default_factory=list)

    def overdue_scopes(self, day: dt.date) -> list[str]:
        self.asked.append("listed")
        return super().overdue_scopes(day)

    def overdue_counts(
        self, day: dt.date, agencies: Sequence[str], regions: Sequence[str]
    ) -> dict[str, int]:
        self.asked.append("counted")
        return super().overdue_counts(day, agencies, regions)


def overdue_world(unrouted: int) -> World:
    """``unrouted`` reports submitted Mon 5 October (verification due Thu 8) and one
    routed to A the same day (an aspiration: resolution due Mon 12)."""
    w = World()
    w.figures = CountingFigures(w.reports)
    w.ports = dataclasses.replace(w.ports, figures=w.figures)
    for _ in range(unrouted):
        w.submit(at(10, 5))
    routed = w.submit(at(10, 5), type=ReportType.ASPIRATION)
    w.route(routed, at(10, 5, 11), A)
    return w


@pytest.mark.parametrize(("unrouted", "how"), [(3, "listed"), (600, "counted")])
def test_overdue_now_is_the_reports_whose_clock_ran_out_before_the_day(
    unrouted: int, how: str
) -> None:
    w = overdue_world(unrouted)
    figures: Any = w.figures

    w.run(dt.date(2026, 10, 8))  # due on the 8th: not yet overdue
    w.run(dt.date(2026, 10, 9))
    w.run(dt.date(2026, 10, 13))

    def overdue(day: int) -> dict[str, Any]:
        return dict(w.stored(dt.date(2026, 10, day))["summary"]["overdue_by_scope"])

    assert overdue(8) == {}
    assert overdue(9) == {"unrouted:32.03": unrouted}
    assert overdue(13) == {"unrouted:32.03": unrouted, A: 1}
    summary = w.stored(dt.date(2026, 10, 13))["summary"]
    assert summary["national"]["overdue_now"] == unrouted + 1
    assert summary["regions"]["32.03"]["month"]["overdue_now"] == unrouted + 1
    assert summary["agencies"][A]["cumulative"]["overdue_now"] == 1
    assert (
        w.stored(dt.date(2026, 10, 13))["scopes"]["pemkab-cianjur"]["subtree"]["overdue_now"] == 1
    )
    # Few overdue reports are listed; more than there are scopes (every agency, province
    # and regency of the bundled reference), counted per scope.
    reference = w.ports.reference
    scopes = len(reference.agencies) + len(reference.provinces) + len(reference.regencies)
    assert (unrouted > scopes) == (how == "counted")
    assert figures.asked == [how, how]


def test_a_provinces_own_unrouted_reports_are_counted_apart_from_its_regencies() -> None:
    w = overdue_world(0)
    for _ in range(100):
        w.submit(at(10, 5), region=Region("32", None))
    w.submit(at(10, 5), region=BOGOR)
    w.run(dt.date(2026, 10, 13))
    assert w.stored(dt.date(2026, 10, 13))["summary"]["overdue_by_scope"] == {
        A: 1,
        "unrouted:32": 100,
        "unrouted:32.01": 1,
    }


# --- idempotence and the pushes --------------------------------------------------------


def test_a_second_run_writes_the_same_documents_and_pushes_nothing_again() -> None:
    w = overdue_world(2)
    first = w.run(dt.date(2026, 10, 9))
    before = json.loads(json.dumps(w.stored(dt.date(2026, 10, 9)), default=str))
    pushed = list(w.publisher.published)
    # Later: one overdue report is held; the re-run keeps the snapshot all the same.
    held = next(iter(w.reports.reports))
    w.act(held, at(10, 12), Command(Action.HOLD, Actor(Role.NATIONAL_ADMIN, "admin"), reason="?"))

    again = w.run(dt.date(2026, 10, 9))

    assert json.loads(json.dumps(w.stored(dt.date(2026, 10, 9)), default=str)) == before
    assert (first.rerun, again.rerun) == (False, True)
    assert (first.notifications, again.notifications) == (len(REFERENCE.agencies), 0)
    assert w.publisher.published == pushed
    assert again.as_json() == {**first.as_json(), "rerun": True, "notifications": 0}


def test_each_agency_is_pushed_its_own_figures_and_the_nation_everything() -> None:
    w = early_october()
    result = w.run(dt.date(2026, 10, 7))
    sent = {m.id: m for m in w.publisher.published if m.data.get("kind") == "report.daily"}

    assert result.published and result.notifications == len(REFERENCE.agencies)
    assert set(sent) == {f"daily.2026-10-07.{agency.id}" for agency in REFERENCE.agencies}
    # Pending until notify settles each (the sweeper resends one lost on the way).
    assert {k for k in w.reports.outbox if k.startswith("daily.")} == set(sent)
    message = sent[f"daily.2026-10-07.{A}"]
    assert message.topic == SETTINGS.topic_agency_notifications
    assert message.attributes["ce-id"] == message.id
    data: Any = message.data
    assert {k: data[k] for k in ("notification_id", "kind", "agency_id", "report_id")} == {
        "notification_id": message.id,
        "kind": "report.daily",
        "agency_id": A,
        "report_id": None,
    }
    scopes = w.stored(dt.date(2026, 10, 7))["scopes"]
    assert data["data"]["own"] == scopes[A]["own"]
    assert data["data"]["subtree"] == scopes[A]["subtree"]
    assert data["data"]["url"] == f"https://lapor.example/statistik/instansi/{A}"
    (national,) = [a.id for a in REFERENCE.agencies if a.kind is AgencyKind.NATIONAL]
    payload: Any = sent[f"daily.2026-10-07.{national}"].data["data"]
    assert payload["national"] == scopes["national"]["own"]
    assert payload["regions"] == w.stored(dt.date(2026, 10, 7))["summary"]["regions"]
    assert payload["open_data"]["csv"] == "https://lapor.example/data/harian/2026-10-07.csv"


def test_pushes_the_bus_refused_stay_in_the_outbox_for_the_sweeper() -> None:
    w = early_october()
    w.publisher.fail = True
    result = w.run(dt.date(2026, 10, 7))
    assert not result.published
    daily = {k for k in w.reports.outbox if k.startswith("daily.")}
    assert daily == {f"daily.2026-10-07.{agency.id}" for agency in REFERENCE.agencies}


# --- the documents at the national scale -------------------------------------------------


def firestore_size(value: Any) -> int:
    """Storage size as Firestore counts it (cloud.google.com/firestore/docs/storage-size)."""
    if value is None or isinstance(value, bool):
        return 1
    if isinstance(value, int | float | dt.datetime):
        return 8
    if isinstance(value, str):
        return len(value.encode()) + 1
    if isinstance(value, Mapping):
        return sum(len(str(k).encode()) + 1 + firestore_size(v) for k, v in value.items())
    if isinstance(value, Sequence):
        return sum(firestore_size(v) for v in value)
    raise TypeError(type(value))


def document_size(path: str, fields: Mapping[str, Any]) -> int:
    return (
        sum(len(part.encode()) + 1 for part in path.split("/")) + 16 + firestore_size(fields) + 32
    )


def synthetic_country() -> tuple[AgencyTree, dict[str, dict[str, int]], dict[str, int], list[str]]:
    """680 agencies (34 ministries, 92 agencies under them, 38 provinces, 514 regencies
    and cities, 1 national body... and one more agency) and 514 regencies, every counter
    of every agency and regency moved, large numbers, a long histogram."""
    parent: dict[str, str | None] = {"nasional": None}
    region: dict[str, str | None] = {"nasional": None}
    provinces = [f"{p:02d}" for p in range(11, 49)]
    regencies = [f"{provinces[i % 38]}.{i // 38 + 1:02d}" for i in range(514)]
    for i in range(34):
        parent[f"kementerian-{i}"], region[f"kementerian-{i}"] = "nasional", None
    for i in range(92):
        parent[f"badan-{i}"], region[f"badan-{i}"] = f"kementerian-{i % 34}", None
    for code in provinces:
        parent[f"pemprov-{code}"], region[f"pemprov-{code}"] = "nasional", code
    for code in regencies:
        parent[f"pemkab-{code}"], region[f"pemkab-{code}"] = f"pemprov-{code[:2]}", code
    parent["lembaga-lain"], region["lembaga-lain"] = "nasional", None
    assert len(parent) == 680 and len(regencies) == 514
    every = {
        "received": 123456,
        **{f"routed_{m}": 23456 for m in ("named", "rule", "classifier", "manual")},
        "followed_up": 65432,
        "followed_up_within_deadline": 54321,
        "deadline_missed": 11111,
        "resolved": 54321,
        "closed_confirmed": 33333,
        "closed_timeout": 22222,
        "resolution_due": 77777,
        "reopened": 1234,
        "archived": 4321,
        "not_our_authority": 2345,
        "satisfaction_sum": 123456,
        "satisfaction_count": 34567,
        **{f"escalation_{t}": 999 for t in ("reminder", "overdue", "national", "ombudsman")},
        **{f"first_response_wd_{n}": 7 for n in range(40)},
        **{f"resolution_wd_{n}": 7 for n in range(60)},
    }
    counts = {agency: dict(every) for agency in parent}
    counts |= {unrouted_scope(code): dict(every) for code in regencies}
    overdue = {scope: 321 for scope in counts}
    return AgencyTree(parent, region), counts, overdue, regencies


def test_the_documents_stay_well_under_a_mebibyte_at_the_national_scale() -> None:
    tree, counts, overdue, regencies = synthetic_country()
    day = dt.date(2026, 10, 7)
    figures = compute_figures(day, counts, counts, overdue, tree, month_counts=counts)
    trends: dict[str, dict[str, Any]] = {
        scope: {"trend": [{"day": "2026-09-01", "received": 99999, "closed": 99999}] * 90}
        for scope in (*counts, "national")
    }
    unrouted = [unrouted_scope(code) for code in regencies]
    scopes = scope_documents(figures, {}, trends, unrouted, counts, counts, counts, overdue)
    summary = summary_document(
        figures, scopes["national"]["trend"], overdue, dt.datetime.now(dt.UTC)
    )
    export = agencies_csv(figures, ["reminder", "overdue", "national", "ombudsman"])
    (national_push,) = [
        m
        for m in daily_notifications(
            figures,
            REFERENCE,
            base_url="https://lapor.example",
            topic="agency-notifications",
            now=dt.datetime.now(dt.UTC),
        )
        if m.data["agency_id"] == "nasional"
    ]

    mib = 1024 * 1024
    sizes = {
        "summary": document_size("daily_figures/2026-10-07", summary),
        "largest scope": max(
            document_size(f"daily_figures/2026-10-07/scopes/{s}", d) for s, d in scopes.items()
        ),
        "agencies_csv": document_size("daily_figures/2026-10-07/exports/agencies_csv", export),
        "national push": document_size(
            "outbox/daily.2026-10-07.nasional", {"data": national_push.data}
        ),
    }
    print({name: f"{size / 1024:.0f} KiB" for name, size in sizes.items()})
    assert len(summary["agencies"]) == 680 and len(summary["regions"]) >= 514
    assert sizes["summary"] < 0.75 * mib
    assert sizes["largest scope"] < 0.1 * mib
    assert sizes["agencies_csv"] < 0.75 * mib
    assert sizes["national push"] < 0.75 * mib


def test_the_figures_documents_large_fields_are_not_indexed() -> None:
    # A map with thousands of entries would otherwise cost an index entry per entry
    # (and hit Firestore's 40,000 per document); only `day` is queried.
    w = early_october()
    w.run(dt.date(2026, 10, 7))
    stored = w.stored(dt.date(2026, 10, 7))
    overrides = json.loads(INDEX_FILE.read_text())["fieldOverrides"]
    exempt = {(o["collectionGroup"], o["fieldPath"]) for o in overrides if o.get("indexes") == []}
    small = {"schema_version", "day", "generated_at", "definitions_version", "scope", "kind"}
    documents = [("daily_figures", stored["summary"])]
    documents += [("scopes", doc) for doc in stored["scopes"].values()]
    documents += [("exports", doc) for doc in stored["exports"].values()]
    for group, doc in documents:
        for name in set(doc) - small:
            assert (group, name) in exempt, f"{group}.{name} is indexed"
    assert ("outbox", "data") in exempt  # the pushes' payloads


def test_the_row_columns_are_figures() -> None:
    names = {f.name for f in dataclasses.fields(Figures)}
    assert set(ROW_COLUMNS) <= names
    assert {f.name for f in dataclasses.fields(ScopeFigures)} == {
        "day",
        "month",
        "cumulative",
        "overdue_now",
    }
