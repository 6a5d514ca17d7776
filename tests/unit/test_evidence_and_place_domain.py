"""Files and places on a report: who adds them, when, and what each audience sees."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from shared.domain.calendar import WorkingCalendar
from shared.domain.privacy import Audience, may_see_attachments, view
from shared.domain.report import (
    MAX_ATTACHMENTS_PER_REPORT,
    Action,
    Actor,
    Attachment,
    Command,
    DeadlinePolicy,
    GeoPoint,
    InvalidCommand,
    Region,
    Report,
    Role,
    State,
    apply,
    submit,
)
from tests.builders import a_draft

CAL, POLICY = WorkingCalendar(), DeadlinePolicy()
NOW = dt.datetime(2026, 12, 7, 3, 0, tzinfo=dt.UTC)
DPUPR = Actor(Role.AGENCY_ADMIN, "dpupr-cianjur")
CUGENANG = Region("32", "32.03", "32.03.11", "32.03.11.2001")
POINT = GeoPoint(-6.8203456, 107.1012345)


def a_file(file_id: str = "f0123456789", media_type: str = "image/jpeg") -> Attachment:
    # added_seq and added_by are placeholders: the event decides them.
    return Attachment(file_id, media_type, 1000, 0, Role.REPORTER, 640, 480, 0, True)


def submitted(*files: Attachment, confidential: bool = False, show: bool = True) -> Report:
    draft = dataclasses.replace(
        a_draft(region=CUGENANG, confidential=confidential),
        address="Depan SDN 1 Cugenang",
        point=POINT,
        show_attachments=show,
    )
    report, _ = submit(draft, "r1", "K7M-2XQ-9RJ", NOW, CAL, POLICY, attachments=files)
    return report


def in_progress(report: Report) -> Report:
    report, _ = apply(
        report, Command(Action.DISPOSITION, DPUPR, agency_id="dpupr-cianjur"), NOW, CAL, POLICY
    )
    report, _ = apply(report, Command(Action.FOLLOW_UP, DPUPR, message="Dicek"), NOW, CAL, POLICY)
    return report


def test_the_submissions_files_are_the_reporters_and_named_on_the_first_event() -> None:
    draft = dataclasses.replace(a_draft(), point=POINT)
    report, event = submit(
        draft, "r1", "K7M-2XQ-9RJ", NOW, CAL, POLICY, attachments=(a_file(), a_file("f1111111111"))
    )

    assert [(a.id, a.added_seq, a.added_by) for a in report.attachments] == [
        ("f0123456789", 1, Role.REPORTER),
        ("f1111111111", 1, Role.REPORTER),
    ]
    assert event.data["files"] == "f0123456789,f1111111111"
    assert report.point == POINT


def test_a_follow_up_adds_the_staffs_files_after_the_reporters() -> None:
    report = in_progress(submitted(a_file()))
    photo = a_file("fbbbbbbbbbb")

    after, event = apply(
        report,
        Command(Action.FOLLOW_UP, DPUPR, message="Sudah diperbaiki", attachments=(photo,)),
        NOW,
        CAL,
        POLICY,
    )

    assert [a.id for a in after.attachments] == ["f0123456789", "fbbbbbbbbbb"]
    assert after.attachments[-1].added_seq == event.seq
    assert after.attachments[-1].added_by is Role.AGENCY_ADMIN
    assert event.data["files"] == "fbbbbbbbbbb"


@pytest.mark.parametrize("action", [Action.FORWARD, Action.HOLD, Action.ARCHIVE])
def test_only_follow_ups_resolutions_and_the_reporters_answers_bring_files(
    action: Action,
) -> None:
    report = submitted()
    if action is Action.FORWARD:
        report, _ = apply(
            report, Command(Action.DISPOSITION, DPUPR, agency_id="dpupr-cianjur"), NOW, CAL, POLICY
        )
    command = Command(
        action, DPUPR, reason="r", unit_id="uptd-jalan-cianjur", attachments=(a_file(),)
    )

    with pytest.raises(InvalidCommand):
        apply(report, command, NOW, CAL, POLICY)


def test_a_file_cannot_be_attached_twice_nor_past_the_cap_nor_of_an_unknown_type() -> None:
    report = in_progress(submitted(a_file()))

    def follow_up(*files: Attachment) -> Command:
        return Command(Action.FOLLOW_UP, DPUPR, message="m", attachments=files)

    with pytest.raises(InvalidCommand):
        apply(report, follow_up(a_file()), NOW, CAL, POLICY)
    with pytest.raises(InvalidCommand):
        apply(report, follow_up(a_file("fcccccccccc", "text/html")), NOW, CAL, POLICY)
    many = tuple(a_file(f"f{n:010d}") for n in range(1, MAX_ATTACHMENTS_PER_REPORT + 1))
    with pytest.raises(InvalidCommand):
        apply(report, follow_up(*many), NOW, CAL, POLICY)


def test_a_disposition_may_go_straight_to_a_unit_of_the_agency() -> None:
    report, event = apply(
        submitted(),
        Command(
            Action.DISPOSITION,
            Actor(Role.SYSTEM, "system:route"),
            agency_id="dpupr-cianjur",
            unit_id="uptd-jalan-cianjur-utara",
            data={"method": "rule", "rule_id": "cugenang-jalan"},
        ),
        NOW,
        CAL,
        POLICY,
    )

    assert (report.state, report.agency_id, report.unit_id) == (
        State.DISPOSITIONED,
        "dpupr-cianjur",
        "uptd-jalan-cianjur-utara",
    )
    assert event.data["unit_id"] == "uptd-jalan-cianjur-utara"


def test_the_public_sees_the_village_and_a_point_rounded_to_about_a_hundred_metres() -> None:
    report = submitted(a_file())

    public = view(report, [], Audience.PUBLIC)
    agency = view(report, [], Audience.AGENCY)

    assert public is not None and agency is not None
    assert public["place"] == {
        "district_code": "32.03.11",
        "village_code": "32.03.11.2001",
        "address": None,
        "latitude": -6.82,
        "longitude": 107.101,
        "precision": "rounded",
    }
    assert agency["place"]["address"] == "Depan SDN 1 Cugenang"
    assert (agency["place"]["latitude"], agency["place"]["longitude"]) == (
        -6.8203456,
        107.1012345,
    )
    assert agency["place"]["precision"] == "exact"


@pytest.mark.parametrize(
    ("confidential", "show", "public_sees"),
    [(False, True, True), (False, False, False), (True, True, False)],
)
def test_the_public_sees_files_only_of_a_public_report_whose_reporter_chose_so(
    confidential: bool, show: bool, public_sees: bool
) -> None:
    report = submitted(a_file(), confidential=confidential, show=show)

    assert may_see_attachments(report, Audience.PUBLIC) is public_sees
    public = view(report, [], Audience.PUBLIC)
    if public is not None:
        assert bool(public["attachments"]) is public_sees
    for audience in (Audience.REPORTER, Audience.AGENCY, Audience.ADMIN):
        shown = view(report, [], audience)
        assert shown is not None
        assert [a["id"] for a in shown["attachments"]] == ["f0123456789"]
        assert shown["attachments"][0]["file_name"] == "lampiran-f0123456789.jpg"
        assert shown["attachments"][0]["added_by"] == "reporter"
