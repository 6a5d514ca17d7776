# ruff: noqa: RUF001  (the en dash of a date range is the text the page shows)
"""The public figures pages, charts, open data and public list through the submit app,
with the published documents built by the domain (tests/builders.py) in the fakes."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import hashlib
import io
import json
import re
from typing import Any
from urllib.parse import unquote
from xml.etree import ElementTree

import pytest
from flask import Request, Response
from werkzeug.test import EnvironBuilder

from shared.config import Settings
from shared.domain import report as lifecycle
from shared.domain.figures import DEFINITIONS, open_data_columns
from shared.domain.tracking import new_tracking_code
from shared.ports import FixedClock, PublicPorts, SubmitPorts
from shared.reference import load_reference
from shared.usecases import public_figures
from shared.usecases.public_figures import PeriodRows, Row
from shared.web import charts, submit_app
from tests.builders import a_draft, published_day
from tests.fakes import InMemoryPublicStore

DAY = dt.date(2025, 10, 31)
SETTINGS = Settings(token_secret="unit-test-secret-0123456789", public_min_reports=10)
TIERS = [tier.id for tier in SETTINGS.escalation_tiers]
# One busy agency with enough reports to be ranked, one with too few, reports nobody
# routed yet in Cianjur; the month holds more than the day.
DAY_COUNTS = {
    "dpupr-cianjur": {
        "routed_rule": 4,
        "followed_up": 3,
        "followed_up_within_deadline": 3,
        "first_response_wd_2": 3,
    },
    "unrouted:32.03": {"received": 9},
}
MONTH_COUNTS = {
    "dpupr-cianjur": {
        "routed_rule": 14,
        "followed_up": 10,
        "followed_up_within_deadline": 8,
        "deadline_missed": 2,
        "closed_confirmed": 5,
        "closed_timeout": 1,
        "resolution_due": 8,
        "first_response_wd_2": 6,
        "first_response_wd_5": 4,
        "satisfaction_sum": 18,
        "satisfaction_count": 5,
    },
    "dinkes-cianjur": {"routed_named": 3, "followed_up": 1, "followed_up_within_deadline": 1},
    "unrouted:32.03": {"received": 31},
}


def _ports(store: InMemoryPublicStore) -> SubmitPorts:
    reference = load_reference()
    public = PublicPorts(settings=SETTINGS, figures=store, reports=store, reference=reference)

    def no_client() -> Any:
        raise AssertionError("the public pages need no report store and no publisher")

    return SubmitPorts(
        settings=SETTINGS,
        clock=FixedClock(dt.datetime(2025, 11, 1, 3, 0, tzinfo=dt.UTC)),
        reference_factory=lambda: reference,
        store_factory=no_client,
        publisher_factory=no_client,
        public_factory=lambda: public,
        preferences_factory=no_client,
        deliveries_factory=no_client,
    )


def _published() -> InMemoryPublicStore:
    store = InMemoryPublicStore()
    earlier = {DAY - dt.timedelta(days=n): {"unrouted:32.03": {"received": n}} for n in (1, 2)}
    store.documents.update(
        published_day(
            DAY,
            DAY_COUNTS,
            month_counts=MONTH_COUNTS,
            cumulative_counts=MONTH_COUNTS,
            overdue={"dpupr-cianjur": 2},
            earlier=earlier,
            tiers=TIERS,
        )
    )
    return store


def _get(store: InMemoryPublicStore, path: str, **kwargs: Any) -> Response:
    request = Request(EnvironBuilder(path=path, **kwargs).get_environ())
    return submit_app.handle(request, lambda: _ports(store))


def _text(response: Response) -> str:
    return response.get_data(as_text=True)


# --- the dashboard ---------------------------------------------------------------------


def test_the_dashboard_before_any_figure_says_so_in_indonesian() -> None:
    page = _get(InMemoryPublicStore(), "/statistik")
    assert page.status_code == 200 and '<html lang="id">' in _text(page)
    assert "Belum ada angka yang diterbitkan" in _text(page)


def test_the_dashboard_shows_the_month_the_trend_and_ranks_only_busy_agencies() -> None:
    page = _get(_published(), "/statistik")
    html = _text(page)
    assert page.status_code == 200
    assert "Bulan ini: 1–31 Oktober 2025" in html
    assert "31" in html  # received nationally this month (unrouted reports of Cianjur)
    assert "80,0%" in html  # dpupr: 8 of 10 followed up within deadline
    ranked = html[html.index('id="ranked-caption"') : html.index('id="unranked-caption"')]
    unranked = html[html.index('id="unranked-caption"') : html.index("Tanpa laporan")]
    assert "DPUPR Cianjur" in ranked and "Dinkes Cianjur" not in ranked
    assert "Dinkes Cianjur" in unranked  # 3 reports: listed, not ranked
    # Units are internal to their agency: never a line of their own.
    assert "/statistik/instansi/puskesmas-cipanas" not in html
    img = re.search(r'<img src="([^"]+)" alt="([^"]+)"', html)
    assert img and img.group(1) == "/statistik/grafik/tren.svg?tanggal=2025-10-31"
    assert "3 Agustus 2025 sampai 31 Oktober 2025" in img.group(2)  # the 90 days shown
    assert "<script" not in html


def test_the_dashboard_speaks_english_and_switches_period() -> None:
    html = _text(
        _get(_published(), "/statistik", query_string={"lang": "en", "periode": "kumulatif"})
    )
    assert '<html lang="en">' in html and "This month: 1–31 October 2025" in html
    assert 'aria-current="page">Since the start<' in html
    assert "/statistik/instansi/dpupr-cianjur?lang=en" in html


def test_a_page_is_public_cacheable_and_answers_304_when_unchanged() -> None:
    store = _published()
    first = _get(store, "/statistik")
    assert first.headers["Cache-Control"] == "public, max-age=600"
    again = _get(store, "/statistik", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.headers["ETag"] == first.headers["ETag"]
    dated = _get(store, "/statistik", query_string={"tanggal": "2025-10-31"})
    assert dated.headers["Cache-Control"] == "public, max-age=86400"


@pytest.mark.parametrize("day", ["2025-10-30", "31-10-2025", "2025-02-30"])
def test_a_day_without_figures_or_no_day_at_all_is_a_404_page(day: str) -> None:
    page = _get(_published(), "/statistik", query_string={"tanggal": day})
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert page.headers["Cache-Control"] == "no-store"


def test_ranking_puts_equal_shares_at_equal_rank_and_few_reports_apart() -> None:
    def rows(received: int, within: float | None) -> PeriodRows:
        row = Row(
            received=received,
            followed_up_within_deadline_share=within,
            resolved_share=0.5,
            median_first_response_wd=None,
            median_resolution_wd=None,
            misrouting_rate=None,
            satisfaction_mean=None,
            satisfaction_count=0,
            overdue_now=0,
        )
        return PeriodRows(month=row, cumulative=row)

    table = {"a": rows(20, 0.9), "b": rows(12, 0.9), "c": rows(30, None), "d": rows(9, 1.0)}
    ranked, unranked = public_figures.rank_agencies(table, "month", 10, table, {})
    assert [(r.rank, r.agency_id) for r in ranked] == [(1, "a"), (1, "b"), (3, "c")]
    assert [(r.rank, r.agency_id) for r in unranked] == [(None, "d")]


# --- one agency ------------------------------------------------------------------------


def test_an_agency_page_shows_its_figures_by_period_with_links_to_their_definitions() -> None:
    html = _text(_get(_published(), "/statistik/instansi/dpupr-cianjur"))
    assert "Dinas Pekerjaan Umum dan Penataan Ruang Kabupaten Cianjur" in html or "DPUPR" in html
    assert "80,0%" in html and "75,0%" in html  # within deadline: month; resolved share
    assert _cells(html, "Ditutup, dikonfirmasi pelapor") == ["0", "5", "5"]
    assert _cells(html, "Ditutup otomatis") == ["0", "1", "1"]  # the day, month, all
    anchors = set(re.findall(r'/statistik/definisi#([a-z_]+)"', html))
    assert anchors and anchors <= {d.figure for d in DEFINITIONS}
    assert "/statistik/instansi/dpupr-cianjur/tren.svg?tanggal=2025-10-31" in html
    assert "/data/instansi/dpupr-cianjur/2025-10-31.json" in html


def _cells(html: str, label: str) -> list[str]:
    """The cells of the first figures table line labelled ``label``."""
    found = re.search(rf">{re.escape(label)}</a></th>\s*((?:<td>[^<]*</td>)+)", html)
    assert found, label
    return re.findall(r"<td>([^<]*)</td>", found.group(1))


def test_an_agency_with_few_reports_is_shown_with_a_warning() -> None:
    html = _text(_get(_published(), "/statistik/instansi/dinkes-cianjur"))
    assert "menerima 3 laporan bulan ini, kurang dari 10" in html


@pytest.mark.parametrize("agency", ["tidak-ada", "puskesmas-cipanas"])
def test_an_unknown_agency_or_a_unit_is_a_404(agency: str) -> None:
    assert _get(_published(), f"/statistik/instansi/{agency}").status_code == 404


# --- charts ----------------------------------------------------------------------------


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def test_a_chart_is_script_free_svg_whose_stylesheet_its_policy_allows_by_hash() -> None:
    response = _get(
        _published(), "/statistik/grafik/tren.svg", query_string={"tanggal": "2025-10-31"}
    )
    svg = _text(response)
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    root = ElementTree.fromstring(svg)
    names = {element.tag.rsplit("}", 1)[-1] for element in root.iter()}
    assert "script" not in names and "<!--" not in svg
    assert all(element.get("style") is None for element in root.iter())
    styles = [e.text or "" for e in root.iter() if e.tag.rsplit("}", 1)[-1] == "style"]
    policy = response.headers["Content-Security-Policy"]
    assert styles and policy == (
        f"default-src 'none'; style-src {' '.join(map(_sha256, styles))}; frame-ancestors 'none'"
    )
    assert "Diterima" in svg and "Ditutup" in svg
    assert response.headers["Cache-Control"] == "public, max-age=86400"


def test_the_same_figures_draw_the_same_bytes() -> None:
    draw = lambda: charts.line_chart("T", ["a", "b"], [("x", [1, 2])], label_every=1)  # noqa: E731
    assert draw() == draw()


def test_an_agency_chart_has_its_own_trend() -> None:
    svg = _text(_get(_published(), "/statistik/instansi/dpupr-cianjur/tren.svg"))
    assert "DPUPR Cianjur" in svg


# --- open data -------------------------------------------------------------------------


def test_the_days_json_is_the_days_csv_typed_by_the_schema() -> None:
    store = _published()
    text = _text(_get(store, "/data/harian/2025-10-31.csv"))
    document = json.loads(_text(_get(store, "/data/harian/2025-10-31.json")))
    records = list(csv.DictReader(io.StringIO(text)))
    assert len(document["rows"]) == len(records) > 0
    own = next(
        r
        for r in document["rows"]
        if (r["scope"], r["scope_id"], r["period"]) == ("agency", "dpupr-cianjur", "cumulative")
    )
    assert own["received"] == 14 and own["followed_up_within_deadline_share"] == 0.8
    assert own["median_resolution_wd"] is None  # nothing to take a median of: null
    assert list(records[0]) == [c.name for c in open_data_columns(TIERS)]


def test_the_schema_documents_every_column_in_both_languages() -> None:
    response = _get(_published(), "/data/skema")
    schema = json.loads(_text(response))
    assert [f["name"] for f in schema["fields"]] == [c.name for c in open_data_columns(TIERS)]
    assert all(f["description"] and f["description_en"] for f in schema["fields"])
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_an_agencys_json_and_a_missing_day_as_problem_json() -> None:
    store = _published()
    found = json.loads(_text(_get(store, "/data/instansi/dpupr-cianjur/2025-10-31.json")))
    assert found["agency_id"] == "dpupr-cianjur" and found["own"]["month"]["received"] == 14
    for path in ("/data/harian/2025-10-30.json", "/data/instansi/tidak-ada/2025-10-31.json"):
        missing = _get(store, path)
        assert (missing.status_code, missing.mimetype) == (404, "application/problem+json")


# --- definitions -----------------------------------------------------------------------


def test_the_definitions_page_publishes_every_definition_and_column() -> None:
    html = _text(_get(InMemoryPublicStore(), "/statistik/definisi"))
    for definition in DEFINITIONS:
        assert f'id="{definition.figure}"' in html and definition.meaning.id[:40] in html
    for column in open_data_columns(TIERS):
        assert f"<code>{column.name}</code>" in html
    english = _text(_get(InMemoryPublicStore(), "/statistik/definisi", query_string={"lang": "en"}))
    assert DEFINITIONS[0].meaning.en[:40] in english


# --- the public list -------------------------------------------------------------------


def _filed(store: InMemoryPublicStore, count: int, *, confidential_every: int) -> list[str]:
    """``count`` reports, a minute apart; every ``confidential_every``-th confidential.
    The codes of the public ones, newest first."""
    settings = SETTINGS
    public: list[str] = []
    for n in range(count):
        at = dt.datetime(2025, 10, 1, 2, 0, tzinfo=dt.UTC) + dt.timedelta(minutes=n)
        secret = n % confidential_every == 0
        report, _ = lifecycle.submit(
            a_draft(confidential=secret),
            f"r{n}",
            new_tracking_code(),
            at,
            settings.calendar(),
            settings.deadline_policy(),
        )
        store.reports.reports[report.id] = report
        if not secret:
            public.append(report.tracking_code)
    return public[::-1]


def test_the_public_list_pages_through_every_public_report_and_no_confidential_one() -> None:
    store = InMemoryPublicStore()
    public = _filed(store, 45, confidential_every=4)
    confidential = {r.tracking_code for r in store.reports.reports.values() if r.confidential}
    seen: list[str] = []
    query: dict[str, str] = {}
    while True:
        page = _get(store, "/laporan", query_string=query)
        html = _text(page)
        assert page.status_code == 200
        assert not any(code in html for code in confidential)
        seen += re.findall(r'<h2><a href="/lacak/([^"]+)">', html)
        found = re.search(r'href="/laporan\?setelah=([^"]+)">Laporan sebelumnya<', html)
        if found is None:
            break
        query = {"setelah": unquote(found.group(1))}
    assert seen == public
    assert "Jalan berlubang" not in html  # a report's title is not listed


def test_a_bad_cursor_is_a_400_page_that_reads_nothing() -> None:
    page = _get(InMemoryPublicStore(), "/laporan", query_string={"setelah": "kemarin_ABC"})
    assert page.status_code == 400 and "Tautan halaman ini tidak valid" in _text(page)
