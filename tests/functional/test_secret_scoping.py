"""The functions deployed without the token secret (infra/main.tf: only the specs that
list LAPOR_TOKEN_SECRET mount it) do their whole work without it, on the emulators.

A report is submitted by the submit use case, which holds the secret; then the secret
is taken out of the environment and route routes the report, escalate escalates it,
report counts the day and sweep sweeps, each through functions-framework. Any of them
reading ``settings.token_secret`` would raise MissingSecret and answer 500.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import functions_framework
import pytest
from flask.testing import FlaskClient
from google.cloud import firestore

from shared import wiring
from shared.config import MissingSecret, settings
from tests.functional.test_route_function import events, route_app, route_pending, submit
from tools.stack import Emulators

JAKARTA = ZoneInfo("Asia/Jakarta")


def job(name: str) -> FlaskClient:
    app = functions_framework.create_app(target=name, source=f"functions/{name}/main.py")
    client: FlaskClient = app.test_client()
    return client


@pytest.fixture
def without_token_secret(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """From here on, the functions' settings hold no token secret (restored after)."""

    def reload() -> None:
        settings.cache_clear()
        wiring.reset()

    monkeypatch.delenv("LAPOR_TOKEN_SECRET")
    reload()
    yield
    monkeypatch.undo()
    reload()


def test_route_escalate_report_and_sweep_run_without_the_token_secret(
    seeded_emulators: Emulators, db: firestore.Client, request: pytest.FixtureRequest
) -> None:
    wiring.reset()
    report_id = submit()  # the submit function holds the secret
    request.getfixturevalue("without_token_secret")
    with pytest.raises(MissingSecret):
        _ = settings().token_secret  # really gone

    route_pending(route_app())
    actions = [e["action"] for e in events(db, report_id)]
    assert "disposition" in actions

    later = (dt.datetime.now(JAKARTA) + dt.timedelta(days=120)).date().isoformat()
    escalated = job("escalate").post(f"/?date={later}")
    assert escalated.status_code == 200, escalated.get_data(as_text=True)
    assert sum(escalated.get_json()["escalated"].values()) >= 1
    assert [e for e in events(db, report_id) if e["action"] == "escalate"]

    today = dt.datetime.now(JAKARTA).date().isoformat()
    counted = job("report").post(f"/?date={today}")
    assert counted.status_code == 200, counted.get_data(as_text=True)

    swept = job("sweep").post("/")
    assert swept.status_code == 200, swept.get_data(as_text=True)
