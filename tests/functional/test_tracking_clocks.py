"""The tracking page and the reporter's API on the emulators show what the clocks say:
the current state's due date, overdue, the report's total age in working days, and how
each disposition was routed (never "verified" for a routing by rule), in both languages."""

from __future__ import annotations

import datetime as dt
import uuid

from flask.testing import FlaskClient

from shared import wiring
from shared.config import Settings
from shared.domain.report import Action, Actor, Command, Role
from shared.ports import FixedClock
from shared.usecases.act import act
from shared.usecases.submit import submit_report
from tests.builders import a_draft, an_identity
from tests.fakes import InMemoryPublisher

LONG_AGO = dt.datetime(2025, 1, 6, 3, 0, tzinfo=dt.UTC)  # a Monday, long past any deadline


def routed_by_rule(at: dt.datetime) -> str:
    """A report submitted at ``at`` and routed by rule ``jalan-cianjur``: its code."""
    settings, store, clock = Settings.from_env(), wiring.report_store(), FixedClock(at)
    result = submit_report(
        a_draft(),
        an_identity(),
        client_id=uuid.uuid4().hex,
        idempotency_key=None,
        store=store,
        publisher=InMemoryPublisher(),
        clock=clock,
        settings=settings,
    )
    rule = {"method": "rule", "rule_id": "jalan-cianjur"}
    command = Command(
        Action.DISPOSITION, Actor(Role.SYSTEM, "system:route"), agency_id="dpupr-cianjur", data=rule
    )
    act(result.report_id, command, store=store, clock=clock, settings=settings)
    return result.tracking_code


def test_the_tracking_page_shows_overdue_the_age_and_how_the_report_was_routed(
    app: FlaskClient,
) -> None:
    code = routed_by_rule(LONG_AGO)

    indonesian = app.get(f"/lacak/{code}").get_data(as_text=True)
    english = app.get(f"/lacak/{code}?lang=en").get_data(as_text=True)

    assert "Batas waktu tahap ini" in indonesian and "Melewati batas waktu" in indonesian
    assert "Umur laporan" in indonesian and "hari kerja" in indonesian
    assert "Didisposisikan otomatis ke" in indonesian and "oleh aturan jalan-cianjur" in indonesian
    assert "Diverifikasi" not in indonesian  # a rule routed it; no person verified it
    assert "Overdue" in english and "Routed automatically to" in english
    assert "by rule jalan-cianjur" in english and "Verified" not in english


def test_a_fresh_report_is_not_overdue_and_the_api_says_so_too(app: FlaskClient) -> None:
    code = routed_by_rule(dt.datetime.now(dt.UTC))

    page = app.get(f"/lacak/{code}").get_data(as_text=True)
    shown = app.get(f"/api/v1/reports/{code}").get_json()

    assert "Batas waktu tahap ini" in page and "Melewati batas waktu" not in page
    assert shown["overdue"] is False and shown["age_working_days"] == 0
    assert shown["clock_due"] == shown["resolve_due"]
    [disposition] = [e for e in shown["timeline"] if e["action"] == "disposition"]
    assert disposition["action_label"].startswith("Didisposisikan otomatis ke")
