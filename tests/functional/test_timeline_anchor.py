"""The daily anchor of the timelines, against the real emulators: the report function
anchors the reports changed that day, the submit function serves the anchor at
/data/jangkar/<day>.json, and tools/verify_timeline.py --anchor catches a report whose
last event was removed after it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import functions_framework
import pytest
from flask.testing import FlaskClient
from google.cloud import firestore

from shared import wiring
from shared.config import settings
from shared.domain import anchor
from shared.ports import AnchorStore, ChangedTimeline
from shared.usecases.anchor import anchor_day
from tests.functional.test_reporter_actions import (
    DISPOSITION,
    FOLLOW_UP,
    bearer,
    drive,
    submitted,
)
from tests.functional.test_timeline_export import _verify_tool
from tests.functional.test_unrouted_jobs import UNROUTED, _assert_problem, _client
from tools.stack import Emulators


@pytest.fixture
def report_job(clean_emulators: Emulators) -> Iterator[FlaskClient]:
    client: FlaskClient = functions_framework.create_app(
        target="report", source="functions/report/main.py"
    ).test_client()
    yield client


def test_the_days_anchor_is_served_and_catches_a_removed_last_event(
    app: FlaskClient, report_job: FlaskClient, db: firestore.Client, tmp_path: Path
) -> None:
    # The day the events happen in Jakarta, taken before them: the anchor of that day
    # lists every report changed since its midnight.
    day = dt.datetime.now(settings().calendar().tz).date().isoformat()
    public_id, public_code, _ = submitted(app)
    drive(public_id, DISPOSITION, FOLLOW_UP)
    _, secret_code, secret_token = submitted(app, confidential=True)

    ran = report_job.post(f"/?date={day}")
    assert ran.status_code == 200, ran.get_data(as_text=True)
    result = ran.get_json()["anchor"]
    assert (result["day"], result["rerun"], result["reports"]) == (day, False, 2)

    dashboard = app.get("/statistik").get_data(as_text=True)
    assert f'<a href="/data/jangkar/{day}.json">Jangkar linimasa' in dashboard
    served = app.get(f"/data/jangkar/{day}.json")
    assert served.status_code == 200 and served.mimetype == "application/json"
    assert served.headers["Access-Control-Allow-Origin"] == "*"
    published = served.get_json()
    assert published["root"] == result["root"] == anchor.root(day, published["entries"])
    assert secret_code not in served.get_data(as_text=True)  # listed by its first hash only
    public_export = app.get(f"/api/v1/reports/{public_code}/timeline").data
    secret_export = app.get(
        f"/api/v1/reports/{secret_code}/timeline", headers=bearer(secret_token)
    ).data
    first_secret_hash = json.loads(secret_export)["events"][0]["hash"]
    assert {e["id"] for e in published["entries"]} == {public_code, first_secret_hash}
    assert {e["head"] for e in published["entries"]} == {
        json.loads(public_export)["head"],
        json.loads(secret_export)["head"],
    }

    anchor_file = tmp_path / "anchor.json"
    anchor_file.write_bytes(served.data)
    for export in (public_export, secret_export):
        result_of = _verify_tool(export, tmp_path, "--anchor", str(anchor_file))
        assert result_of.returncode == 0, result_of.stdout
        assert f"in the anchor of {day}" in result_of.stdout

    # A re-run keeps the anchor as first published.
    again = report_job.post(f"/?date={day}").get_json()["anchor"]
    assert (again["rerun"], again["root"]) == (True, result["root"])
    assert app.get(f"/data/jangkar/{day}.json").data == served.data

    # Whoever can write to the database removes the public report's last event.
    events = db.collection("reports").document(public_id).collection("events")
    events.document("000003").delete()
    truncated = app.get(f"/api/v1/reports/{public_code}/timeline").data
    assert len(json.loads(truncated)["events"]) == 2
    assert _verify_tool(truncated, tmp_path).returncode == 0  # on its own: still verifies
    caught = _verify_tool(truncated, tmp_path, "--anchor", str(anchor_file))
    assert caught.returncode == 1
    assert f"the head anchored on {day} is not in this export" in caught.stdout


def test_a_day_without_an_anchor_is_404_problem(app: FlaskClient) -> None:
    for path in ("/data/jangkar/2020-01-01.json", "/data/jangkar/kemarin.json"):
        missing = app.get(path)
        assert missing.status_code == 404
        assert missing.mimetype == "application/problem+json"


@pytest.mark.parametrize("path", UNROUTED)
def test_a_path_the_framework_would_answer_is_a_404_problem_from_the_report_function(
    path: str,
) -> None:
    _assert_problem(_client("report").get(path), 404)


class _AnotherRunFirst:
    """The anchor store of a run that another whole run overtakes just before it saves."""

    def __init__(self, inner: AnchorStore, overtake: Callable[[], None]) -> None:
        self._inner, self._overtake = inner, overtake

    def changed_since(self, moment: dt.datetime) -> list[ChangedTimeline]:
        return self._inner.changed_since(moment)

    def first_chained_hash(self, report_id: str) -> str | None:
        return self._inner.first_chained_hash(report_id)

    def anchor_header(self, day: dt.date) -> Mapping[str, Any] | None:
        return self._inner.anchor_header(day)

    def save_anchor(
        self, day: dt.date, header: Mapping[str, Any], pages: Sequence[Mapping[str, Any]]
    ) -> bool:
        self._overtake()
        return self._inner.save_anchor(day, header, pages)


def test_two_runs_at_once_publish_the_first_anchor_whole_and_never_change_it(
    app: FlaskClient,
) -> None:
    day = dt.datetime.now(settings().calendar().tz).date()
    report_id, code, _ = submitted(app)
    served_between: list[bytes] = []

    def overtake() -> None:
        drive(report_id, DISPOSITION)  # the head moves between the two runs' queries
        assert anchor_day(day, wiring.anchor_ports()).rerun is False
        served_between.append(app.get(f"/data/jangkar/{day.isoformat()}.json").data)

    ports = wiring.anchor_ports()
    late = anchor_day(
        day, dataclasses.replace(ports, anchors=_AnotherRunFirst(ports.anchors, overtake))
    )

    assert late.rerun is True
    served = app.get(f"/data/jangkar/{day.isoformat()}.json")
    assert served.status_code == 200 and served.data == served_between[0]
    published = served.get_json()
    assert late.root == published["root"] == anchor.root(day.isoformat(), published["entries"])
    head = json.loads(app.get(f"/api/v1/reports/{code}/timeline").data)["head"]
    assert published["entries"] == [{"id": code, "head": head}]  # the winner's, after the move
