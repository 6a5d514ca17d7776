# ruff: noqa: RUF001  (the en dash of a date range is the text the page shows)
"""The public figures on the citizen site, through the submit function on the real
emulators, showing what the report function computed from reports filed and handled
through the use cases: the pages and their reads, a confidential report in no list, no
open data and no chart, English on request, and caching.

The reports are filed and handled on Tuesday 6 October 2026 (Asia/Jakarta), a day with
no holiday; the report function is then run for that day, as Cloud Scheduler would on
the 7th.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import functions_framework
import pytest
from flask.testing import FlaskClient
from google.cloud import firestore

from shared import wiring
from shared.config import settings
from shared.domain.report import Action, Actor, Command, Role
from shared.ports import FixedClock
from shared.usecases.act import act
from shared.usecases.submit import submit_report
from tests.builders import a_draft, an_identity
from tools.stack import Emulators

JAKARTA = ZoneInfo("Asia/Jakarta")
DAY = "2026-10-06"
MORNING = dt.datetime(2026, 10, 6, 8, 0, tzinfo=JAKARTA)
AGENCY = "dpupr-cianjur"
SECRET_TITLE = "Pungutan liar di kantor dinas"
OFFICER = Actor(Role.AGENCY_ADMIN, f"{AGENCY}:admin")
REPORTER = Actor(Role.REPORTER, "reporter")


@pytest.fixture
def app(seeded_emulators: Emulators) -> Iterator[FlaskClient]:
    wiring.reset()
    client: FlaskClient = functions_framework.create_app(
        target="submit", source="functions/submit/main.py"
    ).test_client()
    yield client
    wiring.reset()


def _report_function() -> FlaskClient:
    client: FlaskClient = functions_framework.create_app(
        target="report", source="functions/report/main.py"
    ).test_client()
    return client


def _file(minute: int, *, confidential: bool = False, title: str | None = None) -> str:
    """A report submitted through the submit use case at 08:minute; its id."""
    current = settings()
    draft = a_draft(confidential=confidential)
    if title:
        draft = dataclasses.replace(draft, title=title)
    result = submit_report(
        draft,
        an_identity(),
        client_id=f"test-{minute}",
        idempotency_key=None,
        store=wiring.report_store(),
        publisher=wiring.publisher(),
        clock=FixedClock(MORNING + dt.timedelta(minutes=minute)),
        settings=current,
    )
    return result.report_id


def _do(report_id: str, hour: int, *commands: Command) -> None:
    for minute, command in enumerate(commands):
        at = MORNING.replace(hour=hour, minute=minute)
        act(
            report_id,
            command,
            store=wiring.report_store(),
            clock=FixedClock(at),
            settings=settings(),
        )


def _disposition() -> Command:
    return Command(
        Action.DISPOSITION,
        Actor(Role.SYSTEM, "system:route"),
        agency_id=AGENCY,
        data={"method": "rule", "rule": "jalan-cianjur"},
    )


def _follow_up() -> Command:
    return Command(Action.FOLLOW_UP, OFFICER, message="Tim sudah meninjau lokasi.")


@pytest.fixture
def published(app: FlaskClient, db: firestore.Client) -> dict[str, str]:
    """Five reports of the day, handled, and the day's figures computed by the report
    function; the tracking codes by name."""
    closed = _file(1)
    _do(
        closed,
        9,
        _disposition(),
        _follow_up(),
        Command(Action.RESOLVE, OFFICER, message="Lubang sudah ditambal."),
        Command(Action.CONFIRM, REPORTER),
        Command(Action.RATE, REPORTER, rating=5),
    )
    followed = _file(2)
    _do(followed, 10, _disposition(), _follow_up())
    secret = _file(3, confidential=True, title=SECRET_TITLE)
    _do(secret, 11, _disposition(), _follow_up())
    waiting = _file(4)
    secret_waiting = _file(5, confidential=True, title=SECRET_TITLE + " lagi")
    answer = _report_function().post(f"/?date={DAY}")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    codes = {}
    for name, report_id in (
        ("closed", closed),
        ("followed", followed),
        ("secret", secret),
        ("waiting", waiting),
        ("secret_waiting", secret_waiting),
    ):
        doc = db.collection("reports").document(report_id).get().to_dict() or {}
        codes[name] = doc["tracking_code"]
    return codes


def _reads(app: FlaskClient, path: str) -> tuple[int, str]:
    """GET ``path``: the Firestore documents read answering it, and the body."""
    stats = wiring.report_store().stats
    before = stats.snapshot()
    answer = app.get(path)
    assert answer.status_code == 200, (path, answer.get_data(as_text=True)[:500])
    return stats.since(before).reads, answer.get_data(as_text=True)


def test_every_public_page_reads_a_few_documents_and_shows_the_days_figures(
    app: FlaskClient, published: dict[str, str]
) -> None:
    reads = {
        path: _reads(app, path)
        for path in (
            "/statistik",
            f"/statistik?tanggal={DAY}",
            f"/statistik/grafik/tren.svg?tanggal={DAY}",
            f"/statistik/instansi/{AGENCY}",
            f"/statistik/instansi/{AGENCY}?tanggal={DAY}",
            f"/statistik/instansi/{AGENCY}/tren.svg?tanggal={DAY}",
            "/statistik/definisi",
            f"/data/harian/{DAY}.json",
            f"/data/harian/{DAY}.csv",
            f"/data/instansi/{AGENCY}/{DAY}.json",
            "/data/skema",
            "/laporan",
        )
    }
    assert {path: n for path, (n, _) in reads.items()} == {
        "/statistik": 2,  # the latest day's id, then its summary
        f"/statistik?tanggal={DAY}": 1,
        f"/statistik/grafik/tren.svg?tanggal={DAY}": 1,
        f"/statistik/instansi/{AGENCY}": 2,  # the latest day's id, then the agency's
        f"/statistik/instansi/{AGENCY}?tanggal={DAY}": 1,
        f"/statistik/instansi/{AGENCY}/tren.svg?tanggal={DAY}": 1,
        "/statistik/definisi": 0,
        f"/data/harian/{DAY}.json": 1,
        f"/data/harian/{DAY}.csv": 1,
        f"/data/instansi/{AGENCY}/{DAY}.json": 1,
        "/data/skema": 0,
        "/laporan": 3,  # the three public reports (a page holds 20)
    }
    dashboard = reads["/statistik"][1]
    assert "Data sampai 6 Oktober 2026" in dashboard
    # Five reports this month; one closed of one whose deadline passed or that closed;
    # three dispositions followed up within their deadline.
    cards = re.findall(r'<span class="big">([^<]+)</span>', dashboard)
    assert cards[:3] == ["5", "100,0%", "100,0%"]
    assert f'href="/statistik/instansi/{AGENCY}"' in dashboard
    agency = reads[f"/statistik/instansi/{AGENCY}"][1]
    closed = re.search(r">Ditutup, dikonfirmasi pelapor</a></th>\s*<td>(\d+)</td>", agency)
    assert closed and closed.group(1) == "1"  # that day
    csv_text = reads[f"/data/harian/{DAY}.csv"][1]
    assert f"{DAY},day,agency,{AGENCY},3," in csv_text  # three routed to the agency


def test_no_confidential_report_appears_in_the_list_the_open_data_or_a_chart(
    app: FlaskClient, published: dict[str, str]
) -> None:
    listed = app.get("/laporan").get_data(as_text=True)
    for name in ("closed", "followed", "waiting"):
        assert published[name] in listed
    bodies = [listed, app.get("/laporan?lang=en").get_data(as_text=True)]
    bodies += [
        app.get(path).get_data(as_text=True)
        for path in (
            "/statistik",
            f"/statistik/instansi/{AGENCY}",
            f"/statistik/grafik/tren.svg?tanggal={DAY}",
            f"/statistik/instansi/{AGENCY}/tren.svg?tanggal={DAY}",
            f"/data/harian/{DAY}.json",
            f"/data/harian/{DAY}.csv",
            f"/data/instansi/{AGENCY}/{DAY}.json",
        )
    ]
    for body in bodies:
        for name in ("secret", "secret_waiting"):
            assert published[name] not in body
        assert SECRET_TITLE not in body
    # They count in the figures all the same: five received, three routed to the agency.
    agency = json.loads(app.get(f"/data/instansi/{AGENCY}/{DAY}.json").get_data(as_text=True))
    assert agency["own"]["day"]["received"] == 3
    assert agency["own"]["day"]["followed_up_within_deadline"] == 3


def test_the_pages_speak_english_on_request_and_are_cacheable(
    app: FlaskClient, published: dict[str, str]
) -> None:
    english = app.get("/statistik?lang=en")
    html = english.get_data(as_text=True)
    assert '<html lang="en">' in html and "This month: 1–6 October 2026" in html
    assert english.headers["Content-Language"] == "en"
    assert english.headers["Cache-Control"] == "public, max-age=600"
    again = app.get("/statistik?lang=en", headers={"If-None-Match": english.headers["ETag"]})
    assert again.status_code == 304
    listed = app.get("/laporan?lang=en").get_data(as_text=True)
    assert "Public list of reports" in listed and "Not yet verified" in listed
    data = app.get(f"/data/harian/{DAY}.json")
    assert data.headers["Cache-Control"] == "public, max-age=86400"
    assert data.headers["Access-Control-Allow-Origin"] == "*"


def test_before_the_first_run_the_dashboard_says_so_and_open_data_is_a_404(
    app: FlaskClient,
) -> None:
    assert "Belum ada angka yang diterbitkan" in app.get("/statistik").get_data(as_text=True)
    missing = app.get(f"/data/harian/{DAY}.json")
    assert (missing.status_code, missing.mimetype) == (404, "application/problem+json")
