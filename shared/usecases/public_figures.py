"""The published figures and the public list of reports, as the citizen site shows them.

The daily report job stores the figures (``daily_figures/{day}``: a summary with what
the dashboard needs, one document per scope, the open data CSV); this reads them
through :class:`~shared.ports.FiguresReader`, one document per page, and validates
the parts it shows, so a document the job wrote differently fails here, loudly, and
not halfway through a page. Ranking and the open data's JSON form are pure and live
here too; names come from the reference data, never from the documents.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from shared.domain.figures import Cell, Figures, open_data_columns
from shared.domain.tracking import InvalidTrackingCode, normalize_tracking_code
from shared.ports import FiguresReader, PublicReportList, PublicReportPage

Period = Literal["month", "cumulative"]
PERIODS: tuple[Period, ...] = ("month", "cumulative")
NATIONAL_SCOPE = "national"
AGENCIES_CSV = "agencies_csv"  # the export holding the open data CSV of the day


class _Stored(BaseModel):
    # Fields the job adds later are ignored; the ones shown must be there.
    model_config = ConfigDict(frozen=True, extra="ignore")


class Row(_Stored):
    """One scope's line of the dashboard table for one period (ids only: the page names it)."""

    received: int
    followed_up_within_deadline_share: float | None
    resolved_share: float | None
    median_first_response_wd: float | None
    median_resolution_wd: float | None
    misrouting_rate: float | None
    satisfaction_mean: float | None
    satisfaction_count: int
    overdue_now: int


class PeriodRows(_Stored):
    month: Row
    cumulative: Row

    def of(self, period: Period) -> Row:
        return self.month if period == "month" else self.cumulative


class Periods(_Stored):
    """A scope's figures for the day, the month to date and everything so far."""

    day: Figures
    month: Figures
    cumulative: Figures
    overdue_now: int

    def of(self, period: Period) -> Figures:
        return self.month if period == "month" else self.cumulative


class TrendDay(_Stored):
    day: dt.date
    received: int
    closed: int


class Summary(_Stored):
    """``daily_figures/{day}``: everything the dashboard shows, in one document."""

    day: dt.date
    generated_at: dt.datetime
    definitions_version: str | None = None
    national: Periods
    agencies: dict[str, PeriodRows]
    regions: dict[str, PeriodRows]
    trend: list[TrendDay]  # oldest first, up to 90 days


class ScopeFigures(_Stored):
    """``daily_figures/{day}/scopes/{scope}``: one agency's (or region's) figures."""

    day: dt.date
    scope: str
    own: Periods
    subtree: Periods | None = None  # agencies: with every agency below them
    trend: list[TrendDay]


# --- reading ---------------------------------------------------------------------------


def summary(figures: FiguresReader, day: dt.date | None) -> Summary | None:
    """The summary of ``day`` (the latest when None); None when nothing is published.
    One read for a given day, two for the latest (its id, then the document)."""
    stored = figures.figures_summary(day)
    return None if stored is None else Summary.model_validate(stored)


@dataclass(frozen=True)
class ScopeOfDay:
    day: dt.date
    figures: ScopeFigures | None  # None: the job published nothing for it that day


def scope(figures: FiguresReader, scope_id: str, day: dt.date | None) -> ScopeOfDay | None:
    """One scope's figures of ``day`` (the latest when None); None when no day is
    published at all. One read for a given day, two for the latest."""
    day = day or figures.latest_figures_day()
    if day is None:
        return None
    stored = figures.figures_scope(day, scope_id)
    return ScopeOfDay(day, None if stored is None else ScopeFigures.model_validate(stored))


def agencies_csv(figures: FiguresReader, day: dt.date) -> str | None:
    """The day's open data CSV as the job wrote it (one read)."""
    stored = figures.figures_export(day, AGENCIES_CSV)
    return None if stored is None else str(stored["csv"])


# --- ranking ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Ranked:
    rank: int | None  # None: too few reports in the period to be ranked
    agency_id: str
    row: Row


def _descending(share: float | None) -> tuple[bool, float]:
    return (share is None, -(share or 0.0))  # no share sorts after every share


def rank_agencies(
    rows: Mapping[str, PeriodRows],
    period: Period,
    min_reports: int,
    shown: Collection[str],
    name: Mapping[str, str],
) -> tuple[list[Ranked], list[Ranked]]:
    """The agencies of ``shown`` ranked by deadline compliance, then resolved share
    (equal shares, equal rank), and apart, by name, those with fewer than
    ``min_reports`` received in the period: listed, never ranked, so a share of three
    reports does not top the table."""
    chosen = [(agency, rows[agency].of(period)) for agency in shown if agency in rows]
    enough = [(a, r) for a, r in chosen if r.received >= min_reports]
    few = [(a, r) for a, r in chosen if r.received < min_reports]

    def merit(row: Row) -> tuple[tuple[bool, float], tuple[bool, float]]:
        return (
            _descending(row.followed_up_within_deadline_share),
            _descending(row.resolved_share),
        )

    enough.sort(key=lambda item: (merit(item[1]), -item[1].received, name.get(item[0], item[0])))
    ranked: list[Ranked] = []
    for position, (agency, row) in enumerate(enough, start=1):
        tied = ranked and merit(row) == merit(ranked[-1].row)
        ranked.append(Ranked(ranked[-1].rank if tied else position, agency, row))
    unranked = [
        Ranked(None, agency, row) for agency, row in sorted(few, key=lambda i: name.get(i[0], i[0]))
    ]
    return ranked, unranked


# --- open data -------------------------------------------------------------------------

_TABLE_SCHEMA_TYPES = {"date": "date", "string": "string", "integer": "integer", "number": "number"}


def table_schema(tier_ids: Iterable[str]) -> dict[str, Any]:
    """The open data's columns as a Frictionless Table Schema, both languages."""
    return {
        "fields": [
            {
                "name": column.name,
                "type": _TABLE_SCHEMA_TYPES[column.type],
                "description": column.meaning.id,
                "description_en": column.meaning.en,
            }
            for column in open_data_columns(tier_ids)
        ],
        # An empty cell: nothing to divide by (a share, a median, a mean).
        "missingValues": [""],
    }


def open_data_json(csv_text: str, tier_ids: Iterable[str]) -> list[dict[str, Cell]]:
    """The CSV's rows typed by the schema (an empty cell is null), so the JSON and the
    CSV of a day are one table."""
    types = {column.name: column.type for column in open_data_columns(tier_ids)}
    rows: list[dict[str, Cell]] = []
    for record in csv.DictReader(io.StringIO(csv_text)):
        row: dict[str, Cell] = {}
        for name, text in record.items():
            kind = types.get(name, "integer" if name.startswith("escalation_") else "string")
            row[name] = _typed(text or "", kind)
        rows.append(row)
    return rows


def _typed(text: str, kind: str) -> Cell:
    if kind in ("integer", "number") and text == "":
        return None
    if kind == "integer":
        return int(text)
    if kind == "number":
        return float(text)
    return text


# --- the public list -------------------------------------------------------------------


class BadCursor(ValueError):
    """A ``setelah`` value the list never handed out."""


def format_cursor(after: tuple[str, str]) -> str:
    submitted_at, code = after
    return f"{submitted_at}_{code}"


def parse_cursor(text: str) -> tuple[str, str]:
    """``<submitted_at ISO>_<tracking code>``, checked, so a bad one costs no read."""
    submitted_at, _, code = text.rpartition("_")
    try:
        moment = dt.datetime.fromisoformat(submitted_at)
        code = normalize_tracking_code(code)
    except (ValueError, InvalidTrackingCode):
        raise BadCursor(text) from None
    if moment.tzinfo is None:
        raise BadCursor(text)
    return moment.isoformat(), code


def public_list(reports: PublicReportList, page_size: int, cursor: str | None) -> PublicReportPage:
    """One page of the reports that are not confidential, newest first."""
    after = parse_cursor(cursor) if cursor else None
    return reports.public_reports(page_size, after)
