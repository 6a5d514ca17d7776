"""What each audience sees: safe by default, decided in one place."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest

from shared.domain.calendar import WorkingCalendar
from shared.domain.privacy import Audience, ReporterIdentity, view
from shared.domain.report import (
    Action,
    Actor,
    Command,
    DeadlinePolicy,
    Report,
    Role,
    TimelineEvent,
    apply,
    submit,
)
from tests.builders import a_draft

CAL, POLICY = WorkingCalendar(), DeadlinePolicy()
NOW = dt.datetime(2026, 12, 7, 3, 0, tzinfo=dt.UTC)
SITI = ReporterIdentity(name="Siti Aminah", email="siti@example.id", phone="+6281234567890")


def timeline(
    anonymous: bool = False, confidential: bool = False
) -> tuple[Report, list[TimelineEvent]]:
    draft = a_draft(
        title="Puskesmas tutup di jam layanan",
        category="kesehatan",
        anonymous=anonymous,
        confidential=confidential,
    )
    report, first = submit(draft, "r1", "K7M-2XQ-9RJ", NOW, CAL, POLICY)
    admin = Actor(Role.AGENCY_ADMIN, "dinkes-cianjur")
    report, second = apply(
        report, Command(Action.DISPOSITION, admin, agency_id="dinkes-cianjur"), NOW, CAL, POLICY
    )
    report, third = apply(
        report,
        Command(Action.FOLLOW_UP, admin, message="Kepala puskesmas sudah ditegur."),
        NOW,
        CAL,
        POLICY,
    )
    report, fourth = apply(
        report,
        Command(
            Action.REPORTER_REPLY, Actor(Role.REPORTER, "reporter"), message="Saya Siti, 0812..."
        ),
        NOW,
        CAL,
        POLICY,
    )
    return report, [first, second, third, fourth]


def test_the_public_never_sees_identity_or_what_the_reporter_wrote() -> None:
    report, events = timeline()
    shown = view(report, events, Audience.PUBLIC, SITI)
    assert shown is not None
    text = json.dumps(shown)
    assert "Siti" not in text and "0812" not in text and "siti@" not in text
    assert "Kepala puskesmas sudah ditegur." in text  # the agency's answer is public
    assert all("actor_id" not in event and "reason" not in event for event in shown["timeline"])


def test_a_confidential_report_does_not_exist_for_the_public() -> None:
    report, events = timeline(confidential=True)
    assert view(report, events, Audience.PUBLIC, SITI) is None
    assert view(report, events, Audience.AGENCY, SITI) is not None


@pytest.mark.parametrize("audience", [Audience.AGENCY, Audience.ADMIN, Audience.PUBLIC])
def test_an_anonymous_reporter_is_shown_to_nobody_but_themself(audience: Audience) -> None:
    report, events = timeline(anonymous=True)
    shown = view(report, events, audience, SITI)
    assert shown is not None and "reporter" not in shown
    assert "Siti Aminah" not in json.dumps({k: v for k, v in shown.items() if k != "timeline"})


def test_the_reporter_sees_their_own_identity_and_every_message() -> None:
    report, events = timeline(anonymous=True, confidential=True)
    shown = view(report, events, Audience.REPORTER, SITI)
    assert shown is not None and shown["reporter"]["name"] == "Siti Aminah"
    assert any((e.get("message") or "").startswith("Saya Siti") for e in shown["timeline"])


def test_agencies_see_a_named_reporter() -> None:
    report, events = timeline(anonymous=False)
    shown = view(report, events, Audience.AGENCY, SITI)
    assert shown is not None and shown["reporter"]["email"] == "siti@example.id"


def test_without_an_identity_nothing_is_invented() -> None:
    report, events = timeline()
    shown = view(dataclasses.replace(report), events, Audience.REPORTER, None)
    assert shown is not None and "reporter" not in shown


def test_the_deadlines_are_shown_to_everyone_and_the_escalation_tier_to_staff_only() -> None:
    report, events = timeline()
    escalated = dataclasses.replace(report, escalations=("reminder", "overdue"))
    for audience in Audience:
        shown = view(escalated, events, audience, None)
        assert shown is not None
        assert shown["verify_due"] == report.verify_due.isoformat()
        assert shown["resolve_due"] == str(report.resolve_due)
        assert shown["clock_due"] == str(report.clock_due) and shown["closed_by"] is None
        staff = audience in (Audience.AGENCY, Audience.ADMIN)
        assert ("escalation_tier" in shown) is staff
        if staff:
            assert shown["escalation_tier"] == "overdue"


def test_a_report_not_yet_dispositioned_shows_no_resolution_deadline() -> None:
    report, _ = submit(a_draft(), "r1", "K7M-2XQ-9RJ", NOW, CAL, POLICY)
    shown = view(report, [], Audience.PUBLIC, None)
    assert shown is not None
    assert shown["resolve_due"] is None and shown["clock_due"] == report.verify_due.isoformat()
