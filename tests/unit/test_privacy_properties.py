"""Properties of the privacy views over generated reports (issue 11, item 1): for any
report the lifecycle can make, anonymous or not, confidential or not, in any state, the
public never learns a confidential report exists, an anonymous reporter's identity
reaches nobody but the reporter, and the public view carries none of the private
fields (the address, the exact point, what the reporter wrote, reasons, who acted, the
casework). Distinct markers stand for each private value, so a leak is a substring."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.domain.privacy import Audience, ReporterIdentity, view
from shared.domain.report import GeoPoint, Report, Role, TimelineEvent
from tests.unit.test_lifecycle_properties import Life, lives

EXAMPLES = settings(max_examples=80, deadline=None, derandomize=True)

ADDRESS = "Gang Mawar nomor tujuh belas, rumah pagar biru"
REPORTER_TEXT = "tulisan-pelapor-rahasia"
REASON = "alasan-internal-rahasia"
# Six decimals: about 10 cm, a house; the public sees it rounded to about 110 m.
POINT = GeoPoint(-6.8123456, 107.1398765)
STAFF_ONLY = {
    "target_agency_id", "unit_id", "show_attachments", "escalation_tier", "escalations",
    "admin_queue", "reporter", "assignee_id", "assignee_name", "priority",
}  # fmt: skip


@st.composite
def identities(draw: st.DrawFn) -> ReporterIdentity:
    token = draw(st.text("bcdfghjkmnpqrstvwxz", min_size=10, max_size=10))
    digits = draw(st.text("0123456789", min_size=9, max_size=9))
    return ReporterIdentity(
        name=f"Nama {token.title()}",
        email=f"{token}@contoh.id",
        phone=f"+62812{digits}",
        language=draw(st.sampled_from(["id", "en"])),
    )


def _with_private_details(life: Life) -> tuple[Report, list[TimelineEvent]]:
    """The generated report with an address and an exact point, its reporter's texts
    and every reason marked."""
    report = dataclasses.replace(
        life.report, address=ADDRESS, point=POINT, assignee_name="Petugas Budi"
    )
    events = [
        dataclasses.replace(
            event,
            reason=REASON,
            message=REPORTER_TEXT if event.actor.role is Role.REPORTER else event.message,
        )
        for event in life.timeline
    ]
    return report, events


def _text(shown: dict[str, Any] | None) -> str:
    return json.dumps(shown, ensure_ascii=False)


@EXAMPLES
@given(lives(max_steps=15), identities())
def test_no_view_shows_what_its_audience_may_not_see(
    life: Life, identity: ReporterIdentity
) -> None:
    report, events = _with_private_details(life)
    secrets = [value for value in (identity.name, identity.email, identity.phone) if value]
    assert len(secrets) == 3

    public = view(report, events, Audience.PUBLIC, identity)
    if report.confidential:
        assert public is None
    else:
        assert public is not None
        shown = _text(public)
        for private in (*secrets, ADDRESS, REPORTER_TEXT, REASON, "Petugas Budi"):
            assert private not in shown
        assert STAFF_ONLY.isdisjoint(public)
        assert public["place"]["precision"] == "rounded"
        assert public["place"]["latitude"] != POINT.latitude
        for event in public["timeline"]:
            assert {"actor_id", "reason", "data"}.isdisjoint(event)

    for staff in (Audience.AGENCY, Audience.ADMIN):
        shown_to_staff = view(report, events, staff, identity)
        assert shown_to_staff is not None
        leaked = [s for s in secrets if s in _text(shown_to_staff)]
        if report.anonymous:
            assert leaked == [] and "reporter" not in shown_to_staff
        else:
            assert shown_to_staff["reporter"]["email"] == identity.email

    own = view(report, events, Audience.REPORTER, identity)
    assert own is not None and own["reporter"]["phone"] == identity.phone
    assert {"assignee_id", "assignee_name", "priority", "escalations"}.isdisjoint(own)
