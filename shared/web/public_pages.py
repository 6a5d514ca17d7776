"""The public figures and the public list of reports, on the citizen site.

- ``/statistik``: the dashboard (``?tanggal=YYYY-MM-DD`` for a past day,
  ``?periode=kumulatif`` for the table since the start instead of this month);
- ``/statistik/instansi/<id>``: one agency; ``/statistik/definisi``: what each figure
  means and the open data's columns;
- ``/statistik/grafik/tren.svg`` and ``/statistik/instansi/<id>/tren.svg``: the charts;
- ``/data/harian/<day>.json|.csv``, ``/data/instansi/<id>/<day>.json``, ``/data/skema``:
  the open data and its schema; ``/data/jangkar/<day>.json``: the day's anchor of the
  timelines (docs/timeline-integrity.md);
- ``/data/wilayah/<regency code>``: a regency's districts and their villages (the
  form's choices, filled by its script; Kemendagri codes from the bundled places);
- ``/laporan``: the reports that are not confidential, newest first.

Each answer reads at most a few documents (the day's summary, one scope document, the
day's export, or one page of the list; plus one to find the latest day when no date is
given) and is the same for every visitor, so it is public and cacheable with an ETag;
a dated address changes only when that day is computed again, so it is kept longer.
Plain HTML: no JavaScript, Bahasa Indonesia first, charts as images beside a table of
their numbers.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from flask import Response
from werkzeug.routing import Rule

from shared.domain.figures import DEFINITIONS, NOTES, Figures, Text, open_data_columns
from shared.reference import Agency, AgencyKind, Reference
from shared.usecases import anchor, public_figures
from shared.usecases.public_figures import (
    PERIODS,
    BadCursor,
    Period,
    Periods,
    TrendDay,
)
from shared.web import charts
from shared.web.catalog import catalog_of
from shared.web.http import Problem, json_response, problem
from shared.web.i18n import (
    Lang,
    format_date,
    format_datetime,
    format_number,
    format_share,
    format_short_date,
    state_label,
    t,
)
from shared.web.pages import message, render, url
from shared.web.reporter_calls import SubmitCall

# How long a cache may keep an answer, in seconds.
LATEST_MAX_AGE = 600  # the latest figures: new ones come once a day
DATED_MAX_AGE = 86400  # a given day's figures change only if that day is computed again
LIST_MAX_AGE = 60  # the public list moves with every new report
FIXED_MAX_AGE = 3600  # definitions and schema change only with a deployment
PLACES_MAX_AGE = 86400  # districts and villages change with a decree, shipped in a deployment

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CHART_DAYS_LABELLED = 15  # one axis label every so many days


def _cacheable(call: SubmitCall, response: Response, max_age: int) -> Response:
    """Public, with an ETag of its bytes; an unchanged answer becomes a 304."""
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    response.add_etag()
    response.make_conditional(call.request)  # in place
    return response


def _parse_day(text: str | None) -> dt.date | None:
    if text is None or not _DAY.match(text):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _asked_day(call: SubmitCall) -> dt.date | None:
    """``?tanggal=`` as a date; None when absent. A malformed one is a 404 page."""
    text = call.request.args.get("tanggal")
    if text is None:
        return None
    day = _parse_day(text)
    if day is None:
        raise _missing_day(call)
    return day


def _missing_day(call: SubmitCall) -> Problem:
    lang = call.lang
    return Problem(
        message(
            call,
            404,
            t("pub_day_missing", lang),
            t("pub_day_missing_detail", lang),
            back_path="/statistik",
            back_label=t("pub_back", lang),
        )
    )


# --- what the templates show -----------------------------------------------------------


def _text(text: Text, lang: Lang) -> str:
    return text.id if lang == "id" else text.en


_LABELS: Mapping[str, Text] = {
    **{column.name: column.meaning for column in open_data_columns(())},
    **{definition.figure: definition.label for definition in DEFINITIONS},
}


def _label(figure: str, lang: Lang) -> str:
    return _text(_LABELS[figure], lang)


def _public_agency(reference: Reference, agency_id: str) -> Agency | None:
    """The agency as the public pages show it: units are internal to their agency."""
    if not reference.has_agency(agency_id):
        return None
    agency = reference.agency(agency_id)
    return None if agency.kind is AgencyKind.UNIT else agency


def _days(value: float | None, lang: Lang) -> str:
    return "—" if value is None else format_number(value, lang, 1)


@dataclass(frozen=True)
class Line:
    """One figure across the periods, as shown: its label, its definition, its cells."""

    label: str
    anchor: str  # on the definitions page
    cells: tuple[str, ...]


def figure_lines(periods: Periods, tiers: Sequence[str], lang: Lang) -> list[Line]:
    """An agency's figures for the day, the month and since the start, row by row."""
    shown = (periods.day, periods.month, periods.cumulative)
    labels = {column.name: column.meaning for column in open_data_columns(tiers)}

    def line(figure: str, cell: Callable[[Figures], str], anchor: str | None = None) -> Line:
        label = _LABELS.get(figure) or labels[figure]
        return Line(_text(label, lang), anchor or figure, tuple(cell(f) for f in shown))

    def count(name: str) -> Callable[[Figures], str]:
        return lambda f: format_number(getattr(f, name), lang)

    def share(name: str) -> Callable[[Figures], str]:
        return lambda f: format_share(getattr(f, name), lang)

    def days(name: str) -> Callable[[Figures], str]:
        return lambda f: _days(getattr(f, name), lang)

    def tier(tier_id: str) -> Callable[[Figures], str]:
        return lambda f: format_number(f.escalations.get(tier_id, 0), lang)

    return [
        line("received", count("received")),
        line("verified", count("verified")),
        line("followed_up", count("followed_up")),
        line("followed_up_within_deadline_share", share("followed_up_within_deadline_share")),
        line("resolved", count("resolved")),
        line("closed", count("closed")),
        line("closed_confirmed", count("closed_confirmed"), "closed"),
        line("closed_timeout", count("closed_timeout"), "closed"),
        line("resolved_share", share("resolved_share")),
        line("reopened", count("reopened"), "reopen_rate"),
        line("reopen_rate", share("reopen_rate")),
        line("archived", count("archived")),
        line("not_our_authority", count("not_our_authority"), "misrouting_rate"),
        line("misrouting_rate", share("misrouting_rate")),
        line("median_first_response_wd", days("median_first_response_wd")),
        line("median_resolution_wd", days("median_resolution_wd")),
        line("satisfaction_mean", days("satisfaction_mean")),
        line("satisfaction_count", count("satisfaction_count"), "satisfaction_mean"),
        *(line(f"escalation_{one}", tier(one), "escalations") for one in tiers),
    ]


def _formatters(call: SubmitCall) -> dict[str, Any]:
    lang = call.lang
    timezone = call.ports.settings.timezone
    return {
        "num": lambda value: format_number(value, lang),
        "pct": lambda share: format_share(share, lang),
        "wd": lambda value: _days(value, lang),
        "fdate": lambda day: format_date(day, lang),
        "fdatetime": lambda moment: format_datetime(moment.isoformat(), lang, timezone),
        "label": lambda figure: _label(figure, lang),
    }


def _trend_alt(call: SubmitCall, trend: Sequence[TrendDay]) -> str:
    lang = call.lang
    if not trend:
        return t("pub_no_trend", lang)
    first, last = format_date(trend[0].day, lang), format_date(trend[-1].day, lang)
    return t("pub_trend_alt", lang, first=first, last=last)


def _trend_chart(call: SubmitCall, title: str, trend: Sequence[TrendDay]) -> Response:
    lang = call.lang
    chart = charts.line_chart(
        title,
        [format_short_date(point.day, lang) for point in trend],
        [
            (t("pub_received", lang), [point.received for point in trend]),
            (t("pub_closed", lang), [point.closed for point in trend]),
        ],
        label_every=_CHART_DAYS_LABELLED,
        number=lambda value: format_number(value, lang),
    )
    response = Response(chart.svg, mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = chart.csp
    response.headers["Content-Language"] = lang
    response.headers["Vary"] = "Accept-Language"
    return response


# --- the dashboard ---------------------------------------------------------------------


def dashboard(call: SubmitCall) -> Response:
    lang = call.lang
    ports = call.ports.public
    day = _asked_day(call)
    period: Period = "cumulative" if call.request.args.get("periode") == "kumulatif" else "month"
    found = public_figures.summary(ports.figures, day)
    max_age = DATED_MAX_AGE if day else LATEST_MAX_AGE
    if found is None:
        if day is not None:
            raise _missing_day(call)
        page = render(call, "statistik.html", summary=None, **_formatters(call))
        return _cacheable(call, page, max_age)
    reference = ports.reference
    agencies = {
        agency_id: agency
        for agency_id in found.agencies
        if (agency := _public_agency(reference, agency_id)) is not None
    }
    names = {agency_id: agency.short_name for agency_id, agency in agencies.items()}
    min_reports = ports.settings.public_min_reports
    ranked, unranked = public_figures.rank_agencies(
        found.agencies, period, min_reports, agencies, names
    )
    day_text = found.day.isoformat()
    dated = {"tanggal": day_text} if day else {}
    page = render(
        call,
        "statistik.html",
        summary=found,
        national=found.national,
        month_heading=t("pub_month", lang, day=format_date(found.day, lang)),
        period=period,
        periods=PERIODS,
        period_urls={
            "month": url(call, "/statistik", **dated),
            "cumulative": url(call, "/statistik", periode="kumulatif", **dated),
        },
        agency_url=lambda agency_id: url(call, f"/statistik/instansi/{quote(agency_id)}", **dated),
        ranked=ranked,
        unranked=[entry for entry in unranked if entry.row.received],
        silent=[entry for entry in unranked if not entry.row.received],
        names=names,
        agency_names={agency_id: agency.name for agency_id, agency in agencies.items()},
        min_reports=min_reports,
        trend_alt=_trend_alt(call, found.trend),
        chart_url=url(call, "/statistik/grafik/tren.svg", tanggal=day_text),
        day_text=day_text,
        notes=[_text(note, lang) for note in NOTES],
        **_formatters(call),
    )
    return _cacheable(call, page, max_age)


def trend_chart(call: SubmitCall) -> Response:
    day = _asked_day(call)
    found = public_figures.summary(call.ports.public.figures, day)
    if found is None:
        raise _missing_day(call)
    chart = _trend_chart(call, t("pub_trend_chart", call.lang), found.trend)
    return _cacheable(call, chart, DATED_MAX_AGE if day else LATEST_MAX_AGE)


# --- one agency ------------------------------------------------------------------------


def _known_agency(call: SubmitCall, agency_id: str) -> Agency:
    agency = _public_agency(call.ports.public.reference, agency_id[:64])
    if agency is None:
        raise Problem(
            message(
                call,
                404,
                t("page_not_found", call.lang),
                t("page_not_found", call.lang),
                back_path="/statistik",
                back_label=t("pub_back", call.lang),
            )
        )
    return agency


def agency_page(call: SubmitCall, agency_id: str) -> Response:
    lang = call.lang
    agency = _known_agency(call, agency_id)
    ports = call.ports.public
    asked = _asked_day(call)
    found = public_figures.scope(ports.figures, agency.id, asked)
    if asked is not None and found is not None and found.figures is None:
        raise _missing_day(call)
    reference = ports.reference
    parent = _public_agency(reference, agency.parent) if agency.parent else None
    tiers = _tier_ids(call)
    figures = found.figures if found else None
    day_text = found.day.isoformat() if found else ""
    page = render(
        call,
        "instansi.html",
        agency=agency,
        parent=parent,
        region_name=reference.region_name(agency.region) if agency.region else None,
        day=found.day if found else None,
        figures=figures,
        own_lines=figure_lines(figures.own, tiers, lang) if figures else [],
        subtree_lines=(
            figure_lines(figures.subtree, tiers, lang)
            if figures and figures.subtree and len(reference.descendants(agency.id)) > 1
            else []
        ),
        few=figures is not None and figures.own.month.received < ports.settings.public_min_reports,
        min_reports=ports.settings.public_min_reports,
        trend_alt=_trend_alt(call, figures.trend) if figures else "",
        chart_url=url(call, f"/statistik/instansi/{quote(agency.id)}/tren.svg", tanggal=day_text),
        data_url=f"/data/instansi/{quote(agency.id)}/{day_text}.json",
        day_text=day_text,
        **_formatters(call),
    )
    return _cacheable(call, page, DATED_MAX_AGE if asked else LATEST_MAX_AGE)


def agency_chart(call: SubmitCall, agency_id: str) -> Response:
    agency = _known_agency(call, agency_id)
    asked = _asked_day(call)
    found = public_figures.scope(call.ports.public.figures, agency.id, asked)
    if found is None or found.figures is None:
        raise _missing_day(call)
    title = t("pub_agency_trend_chart", call.lang, name=agency.short_name)
    chart = _trend_chart(call, title, found.figures.trend)
    return _cacheable(call, chart, DATED_MAX_AGE if asked else LATEST_MAX_AGE)


# --- definitions -----------------------------------------------------------------------


def definitions(call: SubmitCall) -> Response:
    lang = call.lang
    tiers = [tier.id for tier in call.ports.settings.escalation_tiers]
    page = render(
        call,
        "definisi.html",
        notes=[_text(note, lang) for note in NOTES],
        definitions=[
            (d.figure, _text(d.label, lang), _text(d.meaning, lang), _text(d.counted, lang))
            for d in DEFINITIONS
        ],
        columns=[(c.name, c.type, _text(c.meaning, lang)) for c in open_data_columns(tiers)],
    )
    return _cacheable(call, page, FIXED_MAX_AGE)


# --- open data -------------------------------------------------------------------------

# Open data is for anyone's tools: any site may fetch it.
_OPEN = {"Access-Control-Allow-Origin": "*"}


def _data_missing(call: SubmitCall) -> Problem:
    lang = call.lang
    return Problem(
        problem(404, "not-found", t("resource_not_found", lang), instance=call.path, lang=lang)
    )


def _data_day(call: SubmitCall, text: str) -> dt.date:
    day = _parse_day(text)
    if day is None:
        raise _data_missing(call)
    return day


def _tier_ids(call: SubmitCall) -> list[str]:
    return [tier.id for tier in call.ports.settings.escalation_tiers]


def daily_data(call: SubmitCall, day: str, format: str) -> Response:
    when = _data_day(call, day)
    text = public_figures.agencies_csv(call.ports.public.figures, when)
    if text is None:
        raise _data_missing(call)
    if format == "csv":
        response = Response(text, mimetype="text/csv")
        response.headers["Content-Disposition"] = f'inline; filename="lapor-{day}.csv"'
    else:
        response = json_response(
            {
                "date": day,
                "schema": "/data/skema",
                "rows": public_figures.open_data_json(text, _tier_ids(call)),
            }
        )
    response.headers.update(_OPEN)
    return _cacheable(call, response, DATED_MAX_AGE)


def agency_data(call: SubmitCall, agency_id: str, day: str) -> Response:
    agency = _public_agency(call.ports.public.reference, agency_id[:64])
    when = _data_day(call, day)
    if agency is None:
        raise _data_missing(call)
    found = public_figures.scope(call.ports.public.figures, agency.id, when)
    if found is None or found.figures is None:
        raise _data_missing(call)
    body = {
        "agency_id": agency.id,
        "name": agency.name,
        "short_name": agency.short_name,
        **found.figures.model_dump(mode="json"),
    }
    response = json_response(body, headers=_OPEN)
    return _cacheable(call, response, DATED_MAX_AGE)


def timeline_anchor(call: SubmitCall, day: str) -> Response:
    """The day's anchor of the timelines, as stored (shared.usecases.anchor)."""
    found = anchor.published_anchor(call.ports.public.figures, _data_day(call, day))
    if found is None:
        raise _data_missing(call)
    return _cacheable(call, json_response(found, headers=_OPEN), DATED_MAX_AGE)


def schema(call: SubmitCall) -> Response:
    body = {
        "title": "Lapor: angka harian / daily figures",
        "description": (
            "Satu baris per lingkup dan periode; lihat /statistik/definisi. "
            "One row per scope and period; see /statistik/definisi."
        ),
        **public_figures.table_schema(_tier_ids(call)),
    }
    return _cacheable(call, json_response(body, headers=_OPEN), FIXED_MAX_AGE)


_REGENCY_CODE = re.compile(r"^\d{2}\.\d{2}$")


def places(call: SubmitCall, regency_code: str) -> Response:
    """A regency's districts, each with its villages: what the form's district and
    village choices offer once a regency is chosen (the same for every visitor; the
    places change only with a deployment)."""
    known = catalog_of(call.ports.reference)
    if not _REGENCY_CODE.match(regency_code) or regency_code not in known.regency_names:
        raise _data_missing(call)
    options = known.place_options(regency_code)
    body = {
        "regency_code": regency_code,
        "districts": [
            {
                "code": code,
                "name": name,
                "villages": [
                    {"code": village, "name": village_name}
                    for village, village_name in options["villages"].get(code, [])
                ],
            }
            for code, name in options["districts"]
        ],
    }
    return _cacheable(call, json_response(body, headers=_OPEN), PLACES_MAX_AGE)


# --- the public list -------------------------------------------------------------------


def public_list(call: SubmitCall) -> Response:
    lang = call.lang
    ports = call.ports.public
    cursor = call.request.args.get("setelah") or None
    try:
        page = public_figures.public_list(
            ports.reports, ports.settings.public_list_page_size, cursor
        )
    except BadCursor:
        return message(
            call,
            400,
            t("bad_request", lang),
            t("pub_bad_link", lang),
            back_path="/laporan",
            back_label=t("pub_list_newest", lang),
        )
    known = catalog_of(ports.reference)
    rows = [
        {
            "code": report.tracking_code,
            "url": url(call, f"/lacak/{quote(report.tracking_code)}"),
            "type": t(f"type_{report.type}", lang),
            "category": known.category_label(report.category, lang),
            "region": known.region_label(report.province_code, report.regency_code),
            "state": state_label(report.state.value, lang),
            "agency": known.agency_names.get(report.agency_id or "", report.agency_id),
            "submitted": format_date(report.submitted_at.astimezone(_zone(call)).date(), lang),
            "updated": format_date(report.updated_at.astimezone(_zone(call)).date(), lang),
        }
        for report in page.reports
    ]
    next_url = (
        url(call, "/laporan", setelah=public_figures.format_cursor(page.next_after))
        if page.next_after
        else None
    )
    response = render(call, "laporan.html", rows=rows, next_url=next_url, first_page=cursor is None)
    return _cacheable(call, response, LIST_MAX_AGE)


def _zone(call: SubmitCall) -> dt.tzinfo:
    from zoneinfo import ZoneInfo

    return ZoneInfo(call.ports.settings.timezone)


RULES = [
    Rule("/statistik", methods=["GET"], endpoint="dashboard"),
    Rule("/statistik/definisi", methods=["GET"], endpoint="definitions"),
    Rule("/statistik/grafik/tren.svg", methods=["GET"], endpoint="trend_chart"),
    Rule("/statistik/instansi/<agency_id>", methods=["GET"], endpoint="agency_page"),
    Rule("/statistik/instansi/<agency_id>/tren.svg", methods=["GET"], endpoint="agency_chart"),
    Rule('/data/harian/<day>.<any("json", "csv"):format>', methods=["GET"], endpoint="daily_data"),
    Rule("/data/instansi/<agency_id>/<day>.json", methods=["GET"], endpoint="agency_data"),
    Rule("/data/jangkar/<day>.json", methods=["GET"], endpoint="timeline_anchor"),
    Rule("/data/skema", methods=["GET"], endpoint="schema"),
    Rule("/data/wilayah/<regency_code>", methods=["GET"], endpoint="places"),
    Rule("/laporan", methods=["GET"], endpoint="public_list"),
]
HANDLERS: Mapping[str, Callable[..., Response]] = {
    "dashboard": dashboard,
    "definitions": definitions,
    "trend_chart": trend_chart,
    "agency_page": agency_page,
    "agency_chart": agency_chart,
    "daily_data": daily_data,
    "agency_data": agency_data,
    "timeline_anchor": timeline_anchor,
    "schema": schema,
    "places": places,
    "public_list": public_list,
}
