"""Sample domain objects for tests and benchmarks: one of each, changed where it matters.

A test that cares about a field passes it explicitly, so the default values below never
carry a test's meaning; change them and only tests that do not care should notice.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from shared.domain.figures import (
    AgencyTree,
    DailyFigures,
    Figures,
    ScopeCounts,
    ScopeFigures,
    TrendPoint,
    compute_figures,
    definitions_version,
    extend_trend,
    open_data_columns,
    open_data_rows,
    trend_point,
)
from shared.domain.privacy import ReporterIdentity
from shared.domain.report import Region, ReportDraft, ReportType

CIANJUR = Region("32", "32.03")


def a_draft(
    *,
    type: ReportType = ReportType.COMPLAINT,
    title: str = "Jalan berlubang di depan pasar",
    description: str = "Lubang besar di depan pasar membahayakan pengendara motor setiap malam.",
    category: str = "infrastruktur.jalan",
    region: Region = CIANJUR,
    incident_date: dt.date | None = None,
    target_agency_id: str | None = None,
    anonymous: bool = False,
    confidential: bool = False,
) -> ReportDraft:
    """A citizen's road complaint in Cianjur, named to nobody, neither anonymous nor
    confidential."""
    return ReportDraft(
        type=type,
        title=title,
        description=description,
        category=category,
        region=region,
        incident_date=incident_date,
        target_agency_id=target_agency_id,
        anonymous=anonymous,
        confidential=confidential,
    )


def an_identity(
    *,
    name: str | None = "Siti Aminah",
    email: str | None = "siti@example.id",
    phone: str | None = "+6281234567890",
) -> ReporterIdentity:
    """A reporter who gave a name, an e-mail address and a phone number."""
    return ReporterIdentity(name=name, email=email, phone=phone)


def published_day(
    day: dt.date,
    day_counts: ScopeCounts,
    *,
    month_counts: ScopeCounts | None = None,
    cumulative_counts: ScopeCounts | None = None,
    overdue: Mapping[str, int] | None = None,
    earlier: Mapping[dt.date, ScopeCounts] | None = None,
    tiers: Sequence[str] = (),
    generated_at: dt.datetime | None = None,
) -> dict[str, dict[str, Any]]:
    """The documents the daily report job stores for ``day``, by Firestore path, in the
    shape shared/usecases/daily_report.py documents, computed by shared/domain/figures.py
    from counter sums per scope (agency id or ``unrouted:<region>``) over the bundled
    agency tree. The month and the cumulative counts default to the day's; ``earlier``
    days' counts fill the 90-day trends."""
    from shared.reference import load_reference

    reference = load_reference()
    tree = AgencyTree(
        parent={agency.id: agency.parent for agency in reference.agencies},
        region={agency.id: agency.region for agency in reference.agencies},
    )
    month = month_counts if month_counts is not None else day_counts
    cumulative = cumulative_counts if cumulative_counts is not None else month
    figures = compute_figures(day, day_counts, cumulative, overdue or {}, tree, month_counts=month)
    past = [
        compute_figures(d, counts, {}, {}, tree, month_counts={})
        for d, counts in sorted((earlier or {}).items())
    ]

    def trend(own_day: Callable[[DailyFigures], Figures | None]) -> list[TrendPoint]:
        points = [
            trend_point(f.day, one) for f in (*past, figures) if (one := own_day(f)) is not None
        ]
        return extend_trend(day, (), points)

    def row(one: Figures, overdue_now: int) -> dict[str, Any]:
        return {**{name: getattr(one, name) for name in _ROW}, "overdue_now": overdue_now}

    def rows(one: ScopeFigures) -> dict[str, Any]:
        return {
            "month": row(one.month, one.overdue_now),
            "cumulative": row(one.cumulative, one.overdue_now),
        }

    def scope_doc(
        scope: str,
        kind: str,
        own: ScopeFigures,
        own_day: Callable[[DailyFigures], Figures | None],
        subtree: ScopeFigures | None = None,
    ) -> dict[str, Any]:
        counted = kind == "agency"
        return {
            "schema_version": 1,
            "day": day.isoformat(),
            "scope": scope,
            "kind": kind,
            "own": dataclasses.asdict(own),
            "subtree": dataclasses.asdict(subtree) if subtree else None,
            "trend": trend(own_day),
            "counts": (
                {"month": dict(month.get(scope, {})), "cumulative": dict(cumulative.get(scope, {}))}
                if counted
                else None
            ),
        }

    def region_day(code: str) -> Callable[[DailyFigures], Figures | None]:
        return lambda f: f.regions[code].day if code in f.regions else None

    def agency_day(agency: str) -> Callable[[DailyFigures], Figures | None]:
        return lambda f: f.agencies[agency].own.day if agency in f.agencies else None

    base = f"daily_figures/{day.isoformat()}"
    national = scope_doc("national", "national", figures.national, lambda f: f.national.day)
    documents = {f"{base}/scopes/national": national}
    for code, region in figures.regions.items():
        documents[f"{base}/scopes/{code}"] = scope_doc(code, "region", region, region_day(code))
    for agency, both in figures.agencies.items():
        documents[f"{base}/scopes/{agency}"] = scope_doc(
            agency, "agency", both.own, agency_day(agency), both.subtree
        )
    columns = [column.name for column in open_data_columns(tiers)]
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(
        {name: "" if value is None else value for name, value in one.items()}
        for one in open_data_rows(figures, tiers)
        if one["scope"] in ("agency", "agency_subtree")
    )
    documents[f"{base}/exports/agencies_csv"] = {
        "schema_version": 1,
        "day": day.isoformat(),
        "columns": columns,
        "csv": text.getvalue(),
    }
    documents[base] = {
        "schema_version": 1,
        "day": day.isoformat(),
        "generated_at": generated_at
        or dt.datetime.combine(day + dt.timedelta(days=1), dt.time(18, 0), tzinfo=dt.UTC),
        "definitions_version": definitions_version(),
        "national": dataclasses.asdict(figures.national),
        "agencies": {agency: rows(both.own) for agency, both in figures.agencies.items()},
        "regions": {code: rows(region) for code, region in figures.regions.items()},
        "trend": national["trend"],
        "overdue_by_scope": {scope: n for scope, n in sorted((overdue or {}).items()) if n},
    }
    return documents


# The dashboard table's columns of an agency or region, as the summary stores them.
_ROW = (
    "received",
    "followed_up_within_deadline_share",
    "resolved_share",
    "median_first_response_wd",
    "median_resolution_wd",
    "misrouting_rate",
    "satisfaction_mean",
    "satisfaction_count",
)
