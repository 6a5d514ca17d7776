"""The retention function through functions-framework, against the real Firestore
emulator: a reporter's identity kept past the retention period after the report ended
is erased (the sealed identity deleted, the report marked, a timeline event naming no
one that keeps the chain valid, a change-log entry), one that ended more recently is
kept, and a second run erases nothing more and reads one empty page.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import functions_framework
import pytest
from flask.testing import FlaskClient
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from shared import wiring
from shared.config import MissingSecret, settings
from shared.domain import chain
from shared.domain import report as lifecycle
from shared.domain.report import Action, Actor, Command, Report, Role
from shared.domain.tracking import new_tracking_code
from shared.ports import FixedClock, NewSubmission, RateSlot
from shared.usecases.act import act
from shared.usecases.submit import submitted_event
from tests.builders import a_draft, an_identity
from tools.stack import Emulators

SOURCE = "functions/retention/main.py"
JAKARTA = ZoneInfo("Asia/Jakarta")
LONG_AGO = dt.datetime(2025, 1, 6, 9, 0, tzinfo=JAKARTA)
RUN_DAY = "2026-02-02"  # 392 days later: past the default 365
RECENTLY = dt.datetime(2025, 12, 1, 9, 0, tzinfo=JAKARTA)
ADMIN = Actor(Role.AGENCY_ADMIN, "dpupr-cianjur")


@pytest.fixture
def app(seeded_emulators: Emulators) -> Iterator[FlaskClient]:
    wiring.reset()
    client: FlaskClient = functions_framework.create_app(
        target="retention", source=SOURCE
    ).test_client()
    yield client
    wiring.reset()


def archived(at: dt.datetime) -> Report:
    """A report submitted the day before ``at`` and archived by an admin at ``at``."""
    store, current = wiring.report_store(), settings()
    report_id = store.new_report_id()
    submitted_at = at - dt.timedelta(days=1)
    report, event = lifecycle.submit(
        a_draft(), report_id, new_tracking_code(), submitted_at,
        current.calendar(), current.deadline_policy(),
    )  # fmt: skip
    outbox = submitted_event(report, f"{report_id}.1", submitted_at, current.topic_report_submitted)
    slot = RateSlot(f"test:{report_id}", 0, at + dt.timedelta(hours=1))
    store.create_submission(NewSubmission(report, event, an_identity(), outbox, slot))
    command = Command(Action.ARCHIVE, ADMIN, reason="Bukan laporan pelayanan publik")
    return act(report_id, command, store=store, clock=FixedClock(at), settings=current).report


def test_an_identity_kept_past_the_retention_period_is_erased_and_a_recent_one_kept(
    app: FlaskClient,
) -> None:
    old, recent = archived(LONG_AGO), archived(RECENTLY)
    db: firestore.Client = wiring.firestore_client()

    answer = app.post(f"/?date={RUN_DAY}")

    assert answer.status_code == 200, answer.get_data(as_text=True)
    run = answer.get_json()
    assert (run["examined"], run["erased"], run["already_done"], run["more"]) == (1, 1, 0, False)
    assert not db.collection("identities").document(old.id).get().exists
    assert db.collection("identities").document(recent.id).get().exists
    stored = db.collection("reports").document(old.id).get().to_dict() or {}
    assert (stored["contact_erased"], stored["identity_held"], stored["state"]) == (
        "retention",
        False,
        "archived",
    )
    timeline = wiring.report_store().timeline(old.id)
    erasure = timeline[-1]
    assert (erasure.action, dict(erasure.data)) == (Action.ERASE_CONTACT, {"by": "retention"})
    assert chain.verify(chain.export(timeline)).ok
    [logged] = [
        doc.to_dict() or {}
        for doc in db.collection("audit_log")
        .where(filter=FieldFilter("target", "==", old.id))
        .stream()
    ]
    assert (logged["kind"], logged["actor_id"]) == ("identity.erased", "system")
    identity = an_identity()
    written = json.dumps([stored, logged, [dict(e.data) for e in timeline]], default=str)
    assert not any(
        value and value in written for value in (identity.name, identity.email, identity.phone)
    )


def test_a_second_run_erases_nothing_more_and_reads_one_empty_page(app: FlaskClient) -> None:
    archived(LONG_AGO)
    assert app.post(f"/?date={RUN_DAY}").get_json()["erased"] == 1

    again = app.post(f"/?date={RUN_DAY}").get_json()

    assert (again["examined"], again["erased"]) == (0, 0)
    assert again["operations"] == {"reads": 1, "writes": 0, "commits": 0}


def test_the_job_answers_post_only(app: FlaskClient) -> None:
    assert app.get("/").status_code == 405


def test_a_path_the_framework_would_answer_is_the_apps_404_problem(app: FlaskClient) -> None:
    answer = app.get("/robots.txt")

    assert (answer.status_code, answer.content_type) == (404, "application/problem+json")
    assert answer.headers["X-Content-Type-Options"] == "nosniff"


def test_the_job_runs_without_the_token_secret_it_is_not_given(
    app: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    archived(LONG_AGO)
    # Deployed, the retention function mounts no secret (infra/main.tf function_specs).
    monkeypatch.delenv("LAPOR_TOKEN_SECRET")
    settings.cache_clear()
    wiring.reset()
    try:
        with pytest.raises(MissingSecret):
            _ = settings().token_secret

        answer = app.post(f"/?date={RUN_DAY}")

        assert answer.status_code == 200, answer.get_data(as_text=True)
        assert answer.get_json()["erased"] == 1
    finally:
        monkeypatch.undo()
        settings.cache_clear()
        wiring.reset()
