"""The Ombudsman dossier with in-memory fakes: who may have it, every agency that held
the report and for how long, the escalations and deliveries, the published figures
(or that there are none), and never an anonymous reporter's identity, in JSON or HTML."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from shared.config import Settings
from shared.domain import report as lifecycle
from shared.domain.report import Action, Actor, Command, Report, Role
from shared.ports import (
    AgencyPorts,
    ChannelDelivery,
    Delivery,
    DeliveryStatus,
    FixedClock,
    ReportNotFound,
)
from shared.reference import load_reference
from shared.usecases.act import act
from shared.usecases.agency import Caller
from shared.usecases.dossier import dossier, holdings
from shared.web.dossier_page import dossier_page, figure
from tests.builders import a_draft, an_identity
from tests.fakes import (
    InMemoryAgencyStore,
    InMemoryAuditLog,
    InMemoryNotificationStore,
    InMemoryPublicStore,
    InMemoryPublisher,
    InMemoryReportStore,
)

SETTINGS = Settings(token_secret="unit-test-secret-0123456789")
CALENDAR = SETTINGS.calendar()
REFERENCE = load_reference()
NATIONAL = Caller("nasional", Role.NATIONAL_ADMIN)
ROUTER = Actor(Role.SYSTEM, "system:route")
SUBMITTED = dt.datetime(2026, 2, 2, 3, 0, tzinfo=dt.UTC)  # Monday 2 February, 10:00 WIB
IDENTITY = an_identity(name="Siti Rahmawati", email="siti.r@example.id", phone="+6281299887766")


def at_day(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(3), dt.UTC)


def run(store: InMemoryReportStore, report_id: str, command: Command, when: dt.datetime) -> Report:
    return act(report_id, command, store=store, clock=FixedClock(when), settings=SETTINGS).report


def rerouted_report(store: InMemoryReportStore, *, anonymous: bool = False) -> Report:
    """Routed by rule to DPUPR, refused (Bukan Wewenang) two working days later, routed by
    the national admin to DBMPR Jabar, which follows up late, is marked supervisory and
    escalated; still open."""
    report, event = lifecycle.submit(
        a_draft(anonymous=anonymous), store.new_report_id(), "K7M-2XQ-9RJ", SUBMITTED,
        CALENDAR, SETTINGS.deadline_policy(),
    )  # fmt: skip
    store.reports[report.id], store.events[report.id] = report, [event]
    store.identities[report.id] = IDENTITY
    rule = {"method": "rule", "rule_id": "jalan-cianjur"}
    run(
        store,
        report.id,
        Command(Action.DISPOSITION, ROUTER, agency_id="dpupr-cianjur", data=rule),
        SUBMITTED,
    )
    dpupr = Actor(Role.AGENCY_ADMIN, "dpupr-cianjur")
    refused_on = at_day(CALENDAR.add_working_days(SUBMITTED.date(), 2))
    run(
        store,
        report.id,
        Command(Action.NOT_OUR_AUTHORITY, dpupr, reason="Jalan provinsi."),
        refused_on,
    )
    national = Actor(Role.NATIONAL_ADMIN, "nasional")
    routed_on = refused_on + dt.timedelta(days=1)
    manual = {"method": "manual"}
    run(
        store,
        report.id,
        Command(Action.DISPOSITION, national, agency_id="dbmpr-jabar", data=manual),
        routed_on,
    )
    routed = store.reports[report.id]
    assert routed.resolve_due is not None
    late = at_day(CALENDAR.shift_working_days(routed.resolve_due, 1))
    dbmpr = Actor(Role.AGENCY_ADMIN, "dbmpr-jabar")
    run(store, report.id, Command(Action.FOLLOW_UP, dbmpr, message="Sedang ditinjau."), late)
    current = store.reports[report.id]
    notified = "agency_admin:dbmpr-jabar,parent_agency:pemprov-jabar"
    tier = {"tier": "overdue", "clock": str(current.clock_id), "notified": notified}
    run(
        store,
        report.id,
        Command(Action.ESCALATE, Actor(Role.SYSTEM, "system:escalate"), data=tier),
        late,
    )
    mark = Command(Action.MARK_SUPERVISORY, dbmpr, reason="Dugaan pungutan liar.")
    return run(store, report.id, mark, late)


def ports(
    store: InMemoryReportStore,
    *,
    now: dt.datetime,
    deliveries: InMemoryNotificationStore | None = None,
    figures: InMemoryPublicStore | None = None,
) -> AgencyPorts:
    return AgencyPorts(
        store=store,
        keys=InMemoryAgencyStore(store),
        inbox=InMemoryAgencyStore(store),
        publisher=InMemoryPublisher(),
        clock=FixedClock(now),
        settings=SETTINGS,
        reference=REFERENCE,
        deliveries=deliveries or InMemoryNotificationStore(),
        figures=figures or InMemoryPublicStore(),
        audit=InMemoryAuditLog(),
    )


NOW = dt.datetime(2026, 4, 6, 3, 0, tzinfo=dt.UTC)


def test_every_agency_that_held_the_report_and_for_how_long() -> None:
    store = InMemoryReportStore()
    report = rerouted_report(store)
    events = store.timeline(report.id)

    held = holdings(report, events, CALENDAR, SETTINGS.deadline_policy())

    assert [(h.agency_id, h.ended_by) for h in held] == [
        ("dpupr-cianjur", Action.NOT_OUR_AUTHORITY),
        ("dbmpr-jabar", None),
    ]
    first, second = held
    assert first.routing["method"] == "rule" and first.routing["rule_id"] == "jalan-cianjur"
    assert first.resolve_due == CALENDAR.add_working_days(SUBMITTED.date(), 14)
    assert second.routing["method"] == "manual"
    assert second.routing["admin_agency_id"] == "nasional"
    # The supervisory marking gave the second holding its longer deadline.
    assert second.resolve_due == report.resolve_due
    assert second.first_follow_up_at is not None and second.until is None

    shown = dossier(report.id, NATIONAL, ports(store, now=NOW))["holdings"]

    assert (shown[0]["working_days"], shown[0]["calendar_days"]) == (2, 2)
    assert shown[0]["until"] is not None and shown[0]["ended_by"] == "not_our_authority"
    assert shown[0]["followed_up_within_deadline"] is None  # never followed up
    since = dt.date.fromisoformat(shown[1]["since"][:10])
    assert shown[1]["working_days"] == CALENDAR.working_days_between(since, NOW.date())
    assert shown[1]["calendar_days"] == (NOW.date() - since).days
    assert shown[1]["followed_up_within_deadline"] is False
    assert shown[1]["agency_name"] == REFERENCE.agency("dbmpr-jabar").name


def test_the_dossier_has_the_timeline_escalations_deliveries_and_clocks() -> None:
    store = InMemoryReportStore()
    report = rerouted_report(store)
    log = InMemoryNotificationStore()
    log.save_delivery(
        Delivery(
            f"{report.id}.7.dbmpr-jabar",
            report.id,
            "dbmpr-jabar",
            "report.escalated",
            DeliveryStatus.DELIVERED,
            channels=(
                ChannelDelivery(
                    "email",
                    DeliveryStatus.DELIVERED,
                    attempts=1,
                    address="pengaduan@dbmpr.example",
                    last_status_code=250,
                    first_attempt_at=NOW,
                    last_attempt_at=NOW,
                    delivered_at=NOW,
                ),
            ),
        )
    )

    document = dossier(report.id, NATIONAL, ports(store, now=NOW, deliveries=log))

    assert document["report"]["id"] == report.id
    assert document["report"]["age_working_days"] > 0
    assert document["report"]["type"] == "pengaduan_pengawasan"
    assert [e["seq"] for e in document["timeline"]] == list(range(1, report.last_seq + 1))
    [escalation] = document["escalations"]
    assert escalation["tier"] == "overdue"
    assert [n["agency_id"] for n in escalation["notified"]] == ["dbmpr-jabar", "pemprov-jabar"]
    assert escalation["notified"][1]["recipient"] == "parent_agency"
    [delivery] = document["deliveries"]
    assert delivery["status"] == "delivered" and delivery["kind"] == "report.escalated"
    assert delivery["attempts"] == 1 and delivery["channels"][0]["channel"] == "email"
    # An agency's address is shown to its own staff only: not in the Ombudsman's dossier.
    assert "dbmpr.example" not in json.dumps(document)
    json.dumps(document)  # plain JSON values throughout


def test_figures_of_the_agencies_involved_or_that_none_were_published() -> None:
    store = InMemoryReportStore()
    report = rerouted_report(store)

    nothing = dossier(report.id, NATIONAL, ports(store, now=NOW))["figures"]

    assert nothing["day"] is None
    assert [(a["agency_id"], a["published"]) for a in nothing["agencies"]] == [
        ("dpupr-cianjur", False),
        ("dbmpr-jabar", False),
    ]
    published = InMemoryPublicStore(
        documents={
            "daily_figures/2026-04-04": {"day": "2026-04-04"},
            "daily_figures/2026-04-04/scopes/dbmpr-jabar": {"own": {"cumulative": {}}},
            "daily_figures/2026-04-05": {"day": "2026-04-05"},
            "daily_figures/2026-04-05/scopes/dbmpr-jabar": {
                "day": "2026-04-05",
                "scope": "dbmpr-jabar",
                "kind": "agency",
                "own": {
                    "day": {"received": 1},
                    "month": {"received": 4, "resolved_share": 0.25},
                    "cumulative": {"received": 40, "resolved_share": 0.5},
                    "overdue_now": 3,
                },
                "trend": [{"day": "2026-04-05", "received": 1, "closed": 0}],
                "counts": {"month": {"received": 4}, "cumulative": {"received": 40}},
            },
        }
    )

    document = dossier(report.id, NATIONAL, ports(store, now=NOW, figures=published))
    latest = document["figures"]

    assert latest["day"] == "2026-04-05"
    dpupr, dbmpr = latest["agencies"]
    assert not dpupr["published"] and dpupr["figures"] is None
    assert dbmpr["published"] and dbmpr["figures"]["own"]["overdue_now"] == 3
    assert "trend" not in dbmpr["figures"] and "counts" not in dbmpr["figures"]
    assert figure(dbmpr["figures"], "cumulative", "resolved_share") == 0.5
    assert figure(dbmpr["figures"], None, "overdue_now") == 3
    assert figure(dbmpr["figures"], "month", "misrouting_rate") is None
    html = dossier_page(document, "id", "Asia/Jakarta", REFERENCE).get_data(as_text=True)
    assert "Angka terbitan terakhir: 5 April 2026." in html
    assert "50,0%" in html and "25,0%" in html  # resolved share, cumulative and month
    assert "Tidak ada angka terbitan untuk instansi ini pada hari tersebut." in html


@pytest.mark.parametrize(
    "caller",
    [
        Caller("dbmpr-jabar", Role.AGENCY_ADMIN),  # holds it
        Caller("pemprov-jabar", Role.AGENCY_ADMIN),  # its parent
        Caller("nasional", Role.AGENCY_ADMIN),  # the national agency, but not its admin key
        Caller("dinkes-cianjur", Role.UNIT_OFFICER),
    ],
)
def test_only_the_national_admin_gets_a_dossier_others_are_told_it_does_not_exist(
    caller: Caller,
) -> None:
    store = InMemoryReportStore()
    report = rerouted_report(store)
    with pytest.raises(ReportNotFound):
        dossier(report.id, caller, ports(store, now=NOW))
    with pytest.raises(ReportNotFound):
        dossier("no-such-report", NATIONAL, ports(store, now=NOW))


def _identity_parts() -> list[str]:
    return [part for part in (IDENTITY.name, IDENTITY.email, IDENTITY.phone) if part]


def test_an_anonymous_reporters_identity_is_in_neither_the_json_nor_the_html() -> None:
    store = InMemoryReportStore()
    report = rerouted_report(store, anonymous=True)
    assert store.identity(report.id) == IDENTITY  # kept, to reach the reporter only

    document = dossier(report.id, NATIONAL, ports(store, now=NOW))
    html = dossier_page(document, "id", "Asia/Jakarta", REFERENCE).get_data(as_text=True)

    for text in (json.dumps(document), html):
        for part in (*_identity_parts(), "Rahmawati", "99887766"):
            assert part not in text
    assert "reporter" not in document["report"]


def test_a_named_reporter_is_shown_as_the_national_admin_sees_it() -> None:
    store = InMemoryReportStore()
    report = rerouted_report(store, anonymous=False)
    document = dossier(report.id, NATIONAL, ports(store, now=NOW))
    assert document["report"]["reporter"]["name"] == IDENTITY.name


def test_the_html_is_self_contained_indonesian_first_and_says_how_each_agency_got_it() -> None:
    store = InMemoryReportStore()
    report = rerouted_report(store)
    document = dossier(report.id, NATIONAL, ports(store, now=NOW))

    page = dossier_page(document, "id", "Asia/Jakarta", REFERENCE)
    html = page.get_data(as_text=True)
    english = dossier_page(document, "en", "Asia/Jakarta", REFERENCE).get_data(as_text=True)

    assert page.mimetype == "text/html" and page.headers["Content-Language"] == "id"
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp
    assert "<script" not in html and "<link" not in html and 'src="' not in html
    assert "Berkas rujukan Ombudsman RI" in html
    assert "oleh aturan jalan-cianjur" in html  # routed by rule: not "verified"
    assert "Diverifikasi dan didisposisikan ke" in html and "oleh admin" in html
    assert "Belum ada angka yang diterbitkan." in html
    assert report.tracking_code in html
    assert "Ombudsman RI referral dossier" in english and "Routed automatically" in english
