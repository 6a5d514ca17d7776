"""Casework for staff: notes, assignment and priority, response templates, and the
record of every view of a reporter's identity (the console's reveal and the API's
detail alike)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from shared.config import Settings
from shared.domain import report as lifecycle
from shared.domain.casework import CaseworkInvalid, template_fields
from shared.domain.privacy import Audience, ReporterIdentity, view
from shared.domain.report import Action, Actor, Command, Priority, Region, Report, Role
from shared.domain.staff import StaffAccount
from shared.ports import AgencyPorts, ConsolePorts, FixedClock, ReportNotFound, TemplateNotFound
from shared.reference import load_reference
from shared.usecases import agency, casework
from shared.usecases.agency import Caller
from shared.usecases.casework import NotAllowed, TemplateInput
from shared.usecases.dossier import dossier
from tests.builders import a_draft
from tests.fakes import (
    InMemoryAgencyAdminStore,
    InMemoryAgencyStore,
    InMemoryAuditLog,
    InMemoryCaseworkStore,
    InMemoryNotificationStore,
    InMemoryPublicStore,
    InMemoryPublisher,
    InMemoryReferenceAdminStore,
    InMemoryReportStore,
    InMemoryStaffStore,
    InMemoryWebhookSender,
)

NOW = dt.datetime(2026, 4, 6, 3, 0, tzinfo=dt.UTC)
SETTINGS = Settings(token_secret="unit-test-secret-0123456789")
REFERENCE = load_reference()

NATIONAL = Caller("nasional", Role.NATIONAL_ADMIN, "Admin Nasional", "staff:nat")
DPUPR = Caller("dpupr-cianjur", Role.AGENCY_ADMIN, "Siti Rahma", "staff:siti")
DINKES = Caller("dinkes-cianjur", Role.AGENCY_ADMIN, "Dewi", "staff:dewi")
UPTD = Caller("uptd-jalan-cianjur", Role.UNIT_OFFICER, "Budi Santoso", "staff:budi")
API_KEY = Caller("dpupr-cianjur", Role.AGENCY_ADMIN, "sistem-dpupr", "key:0123456789ab")


def an_account(
    account_id: str, agency_id: str, role: Role, *, active: bool = True, accepted: bool = True
) -> StaffAccount:
    return StaffAccount(
        account_id=account_id,
        email=f"{account_id}@cianjur.go.id",
        name=account_id.capitalize(),
        agency_id=agency_id,
        role=role,
        created_by="system",
        created_at=NOW,
        password_hash="$argon2id$stand-in" if accepted else None,
        active=active,
    )


@dataclasses.dataclass
class World:
    reports: InMemoryReportStore
    audit: InMemoryAuditLog
    casework: InMemoryCaseworkStore
    staff: InMemoryStaffStore
    ports: ConsolePorts


def world() -> World:
    reports = InMemoryReportStore()
    audit = InMemoryAuditLog()
    staff = InMemoryStaffStore(audit=audit)
    for account in (
        an_account("siti", "dpupr-cianjur", Role.AGENCY_ADMIN),
        an_account("budi", "uptd-jalan-cianjur", Role.UNIT_OFFICER),
        an_account("dewi", "dinkes-cianjur", Role.AGENCY_ADMIN),
        an_account("lama", "dpupr-cianjur", Role.UNIT_OFFICER, active=False),
        an_account("baru", "dpupr-cianjur", Role.AGENCY_ADMIN, accepted=False),
    ):
        staff.accounts[account.account_id] = account
    work = InMemoryCaseworkStore(reports, audit)
    agencies = InMemoryAgencyStore(reports)
    agency_ports = AgencyPorts(
        store=reports,
        keys=agencies,
        inbox=agencies,
        publisher=InMemoryPublisher(),
        clock=FixedClock(NOW),
        settings=SETTINGS,
        reference=REFERENCE,
        deliveries=InMemoryNotificationStore(),
        figures=InMemoryPublicStore(),
        audit=audit,
    )
    ports = ConsolePorts(
        agency=agency_ports,
        staff=staff,
        clock=FixedClock(NOW),
        settings=SETTINGS,
        publisher=InMemoryPublisher(),
        casework=work,
        agency_admin=InMemoryAgencyAdminStore(),
        webhooks=InMemoryWebhookSender(),
        reference_admin=InMemoryReferenceAdminStore(),
    )
    return World(reports, audit, work, staff, ports)


def a_report(
    w: World,
    *,
    agency_id: str | None = "dpupr-cianjur",
    unit_id: str | None = None,
    anonymous: bool = False,
) -> Report:
    report_id = w.reports.new_report_id()
    report, event = lifecycle.submit(
        dataclasses.replace(a_draft(region=Region("32", "32.03")), anonymous=anonymous),
        report_id,
        f"K{len(w.reports.reports):02d}",
        NOW,
        SETTINGS.calendar(),
        SETTINGS.deadline_policy(),
    )
    if agency_id:
        router = Actor(Role.SYSTEM, "system:route")
        command = Command(Action.DISPOSITION, router, agency_id=agency_id, data={"method": "rule"})
        report, _ = lifecycle.apply(
            report, command, NOW, SETTINGS.calendar(), SETTINGS.deadline_policy()
        )
    if unit_id:
        report = dataclasses.replace(report, unit_id=unit_id)
    w.reports.reports[report_id] = report
    w.reports.events[report_id] = [event]
    w.reports.identities[report_id] = ReporterIdentity(
        "Asep Sunandar", "asep@example.id", "+6281234567890"
    )
    return report


# --- notes -------------------------------------------------------------------------------


def test_staff_who_see_the_report_add_notes_and_read_them_oldest_first() -> None:
    w = world()
    report = a_report(w, unit_id="uptd-jalan-cianjur")
    casework.add_note(report.id, DPUPR, "  Sudah dicek ke lokasi.\r\nPerlu alat berat. ", w.ports)
    clock = w.ports.clock
    assert isinstance(clock, FixedClock)
    clock.advance(dt.timedelta(minutes=5))
    casework.add_note(report.id, UPTD, "Dijadwalkan Senin.", w.ports)

    notes = casework.notes(report.id, UPTD, w.ports)

    assert [(n.author_name, n.text) for n in notes] == [
        ("Siti Rahma", "Sudah dicek ke lokasi.\nPerlu alat berat."),
        ("Budi Santoso", "Dijadwalkan Senin."),
    ]
    assert notes[0].author_id == "staff:siti" and notes[0].agency_id == "dpupr-cianjur"


def test_a_report_out_of_scope_has_no_notes_to_read_or_write() -> None:
    w = world()
    report = a_report(w)
    with pytest.raises(ReportNotFound):
        casework.add_note(report.id, DINKES, "Bukan urusan kami.", w.ports)
    with pytest.raises(ReportNotFound):
        casework.notes(report.id, DINKES, w.ports)
    with pytest.raises(ReportNotFound):
        casework.notes("tidak-ada", NATIONAL, w.ports)
    assert w.casework.staff_notes == {}


@pytest.mark.parametrize("text", ["", "   \n ", "x" * 2001])
def test_an_empty_or_too_long_note_is_refused(text: str) -> None:
    w = world()
    report = a_report(w)
    with pytest.raises(CaseworkInvalid) as refused:
        casework.add_note(report.id, DPUPR, text, w.ports)
    assert refused.value.field == "note"
    assert w.casework.staff_notes == {}


def test_no_view_of_the_report_carries_a_note_or_the_casework() -> None:
    """The reporter's, the public's and the webhook's (agency) views are built by the
    privacy module from the report alone: notes live apart, and assignment and
    priority are left out of every view."""
    w = world()
    report = a_report(w)
    casework.add_note(report.id, DPUPR, "CATATAN-INTERNAL", w.ports)
    assigned = casework.assign(report.id, DPUPR, "siti", "urgent", w.ports)

    for audience in Audience:
        shown = view(assigned, w.reports.timeline(report.id), audience, None) or {}
        text = repr(shown)
        assert "CATATAN-INTERNAL" not in text
        assert "assignee" not in text and "priority" not in text and "Siti" not in text
        assert "urgent" not in text


# --- assignment and priority -------------------------------------------------------------


def test_an_admin_assigns_an_eligible_staff_member_and_the_change_is_recorded() -> None:
    w = world()
    report = a_report(w, unit_id="uptd-jalan-cianjur")

    assigned = casework.assign(report.id, DPUPR, "budi", "high", w.ports)

    assert (assigned.assignee_id, assigned.assignee_name, assigned.priority) == (
        "budi",
        "Budi",
        Priority.HIGH,
    )
    stored = w.reports.reports[report.id]
    assert stored == assigned
    # No timeline event, and nothing the reporter sees moved.
    assert (stored.last_seq, stored.updated_at) == (report.last_seq, report.updated_at)
    [entry] = w.audit.entries("dpupr-cianjur", frozenset({"report.assigned"}), 10).entries
    assert (entry.actor_id, entry.actor_name, entry.target) == (
        "staff:siti",
        "Siti Rahma",
        report.id,
    )
    assert entry.details == {
        "tracking_code": report.tracking_code,
        "assignee": "Budi",
        "priority": "high",
    }


def test_the_eligible_are_active_accepted_staff_of_the_agency_and_its_units_who_see_it() -> None:
    w = world()
    at_agency = a_report(w)
    at_unit = a_report(w, unit_id="uptd-jalan-cianjur")

    assert [a.account_id for a in casework.assignable_staff(at_agency, w.ports)] == ["siti"]
    assert [a.account_id for a in casework.assignable_staff(at_unit, w.ports)] == ["budi", "siti"]
    assert casework.assignable_staff(a_report(w, agency_id=None), w.ports) == []


@pytest.mark.parametrize(
    ("assignee", "why"),
    [("dewi", "cannot_see"), ("lama", "unknown"), ("baru", "unknown"), ("nobody", "unknown")],
)
def test_an_assignee_who_cannot_take_the_report_is_refused(assignee: str, why: str) -> None:
    w = world()
    report = a_report(w)
    with pytest.raises(CaseworkInvalid) as refused:
        casework.assign(report.id, DPUPR, assignee, "normal", w.ports)
    assert (refused.value.field, refused.value.code) == ("assignee", why)
    assert w.reports.reports[report.id] == report
    assert list(w.audit.entries(None, None, 10).entries) == []


def test_a_unit_officer_takes_a_report_on_and_lets_it_go_but_assigns_nobody_else() -> None:
    w = world()
    report = a_report(w, unit_id="uptd-jalan-cianjur")

    taken = casework.assign(report.id, UPTD, "budi", "urgent", w.ports)
    assert taken.assignee_id == "budi"
    with pytest.raises(NotAllowed):
        casework.assign(report.id, UPTD, "siti", "urgent", w.ports)
    let_go = casework.assign(report.id, UPTD, None, "high", w.ports)
    assert (let_go.assignee_id, let_go.priority) == (None, Priority.HIGH)
    casework.assign(report.id, DPUPR, "siti", "high", w.ports)
    with pytest.raises(NotAllowed):
        casework.assign(report.id, UPTD, None, "high", w.ports)  # not theirs to let go
    # The priority alone, with the assignee as it is: anyone who sees it.
    assert casework.assign(report.id, UPTD, "siti", "normal", w.ports).priority is Priority.NORMAL


def test_an_unknown_priority_or_a_report_out_of_scope_changes_nothing() -> None:
    w = world()
    report = a_report(w)
    with pytest.raises(CaseworkInvalid) as refused:
        casework.assign(report.id, DPUPR, "siti", "sangat", w.ports)
    assert refused.value.field == "priority"
    with pytest.raises(ReportNotFound):
        casework.assign(report.id, DINKES, "dewi", "high", w.ports)
    assert w.reports.reports[report.id] == report


def test_a_new_handler_starts_unassigned_and_the_priority_stays() -> None:
    w = world()
    report = casework.assign(a_report(w).id, DPUPR, "siti", "urgent", w.ports)
    dpupr_admin = Actor(Role.AGENCY_ADMIN, "dpupr-cianjur")

    forwarded, _ = lifecycle.apply(
        report,
        Command(Action.FORWARD, dpupr_admin, unit_id="uptd-jalan-cianjur"),
        NOW,
        SETTINGS.calendar(),
        SETTINGS.deadline_policy(),
    )
    followed_up, _ = lifecycle.apply(
        dataclasses.replace(forwarded, assignee_id="budi", assignee_name="Budi"),
        Command(Action.FOLLOW_UP, Actor(Role.UNIT_OFFICER, "uptd-jalan-cianjur"), message="Ok."),
        NOW,
        SETTINGS.calendar(),
        SETTINGS.deadline_policy(),
    )

    assert (forwarded.assignee_id, forwarded.priority) == (None, Priority.URGENT)
    assert followed_up.assignee_id == "budi"  # same handler: kept


# --- response templates ------------------------------------------------------------------


def typed(title: str = "Terima kasih", ops: tuple[str, ...] = ("follow-up",)) -> TemplateInput:
    return TemplateInput(title, "Terima kasih atas laporan Anda.", list(ops))


def test_an_admin_manages_the_agency_templates_and_each_change_is_recorded() -> None:
    w = world()
    made = casework.create_template(DPUPR, typed("Salam", ("resolve", "follow-up")), w.ports)
    assert made.operations == ("follow-up", "resolve")  # the forms' order
    clock = w.ports.clock
    assert isinstance(clock, FixedClock)
    clock.advance(dt.timedelta(minutes=1))
    edited = casework.update_template(DPUPR, made.id, typed("Salam pembuka"), w.ports)
    assert w.casework.template("dpupr-cianjur", made.id) == edited
    clock.advance(dt.timedelta(minutes=1))
    casework.delete_template(DPUPR, made.id, w.ports)
    assert w.casework.template("dpupr-cianjur", made.id) is None

    logged = w.audit.entries("dpupr-cianjur", None, 10).entries
    assert [e.kind for e in reversed(logged)] == [
        "template.created",
        "template.updated",
        "template.deleted",
    ]
    assert all(e.target == made.id and e.actor_id == "staff:siti" for e in logged)


def test_an_officer_uses_the_templates_above_it_but_manages_none() -> None:
    w = world()
    made = casework.create_template(DPUPR, typed("Dari dinas"), w.ports)
    casework.create_template(DINKES, typed("Dinkes saja"), w.ports)

    assert [t.title for t in casework.templates_for(UPTD, w.ports)] == ["Dari dinas"]
    assert casework.template_for(UPTD, made.id, "follow-up", w.ports) == made
    assert casework.template_for(UPTD, made.id, "resolve", w.ports) is None  # not for that
    assert casework.template_for(DINKES, made.id, "follow-up", w.ports) is None
    with pytest.raises(NotAllowed):
        casework.create_template(UPTD, typed(), w.ports)
    with pytest.raises(NotAllowed):
        casework.delete_template(UPTD, made.id, w.ports)


def test_another_agency_template_is_not_found_for_editing_or_deleting() -> None:
    w = world()
    made = casework.create_template(DPUPR, typed(), w.ports)
    with pytest.raises(TemplateNotFound):
        casework.update_template(DINKES, made.id, typed("Diambil alih"), w.ports)
    with pytest.raises(TemplateNotFound):
        casework.delete_template(DINKES, made.id, w.ports)
    assert w.casework.template("dpupr-cianjur", made.id) == made


@pytest.mark.parametrize(
    ("title", "body", "ops", "field"),
    [
        ("", "isi", ["follow-up"], "title"),
        ("x" * 121, "isi", ["follow-up"], "title"),
        ("judul", "  ", ["follow-up"], "body"),
        ("judul", "x" * 5001, ["follow-up"], "body"),
        ("judul", "isi", [], "operations"),
        ("judul", "isi", ["verify"], "operations"),
    ],
)
def test_a_template_needs_a_title_a_text_and_the_actions_it_fits(
    title: str, body: str, ops: list[str], field: str
) -> None:
    with pytest.raises(CaseworkInvalid) as refused:
        template_fields(title, body, ops)
    assert refused.value.field == field


# --- the reporter's identity: every staff view is recorded -------------------------------


def test_the_api_detail_records_each_view_of_a_named_reporter() -> None:
    w = world()
    report = a_report(w)

    shown = agency.detail(report.id, API_KEY, w.ports.agency)

    assert shown["reporter"]["name"] == "Asep Sunandar"
    [entry] = w.audit.entries("dpupr-cianjur", frozenset({"identity.viewed"}), 10).entries
    assert (entry.actor_id, entry.actor_name, entry.target, entry.at) == (
        "key:0123456789ab",
        "sistem-dpupr",
        report.id,
        NOW,
    )
    assert "Asep" not in repr(entry)  # the record names the report, never the identity


def test_no_view_is_recorded_when_no_identity_is_shown() -> None:
    w = world()
    anonymous = a_report(w, anonymous=True)
    named = a_report(w)

    shown = agency.detail(anonymous.id, API_KEY, w.ports.agency)
    without = agency.detail(named.id, DPUPR, w.ports.agency, with_identity=False)

    assert "reporter" not in shown and "reporter" not in without
    assert agency.reporter_identity(anonymous.id, DPUPR, w.ports.agency) is None
    assert list(w.audit.entries(None, None, 10).entries) == []


def test_the_console_reveal_shows_and_records_the_identity_only_in_scope() -> None:
    w = world()
    report = a_report(w)

    shown = agency.reporter_identity(report.id, DPUPR, w.ports.agency)
    assert shown == {"name": "Asep Sunandar", "email": "asep@example.id", "phone": "+6281234567890"}
    with pytest.raises(ReportNotFound):
        agency.reporter_identity(report.id, DINKES, w.ports.agency)

    [entry] = w.audit.entries(None, None, 10).entries
    assert (entry.kind, entry.actor_id, entry.agency_id) == (
        "identity.viewed",
        "staff:siti",
        "dpupr-cianjur",
    )


def test_an_identity_is_not_shown_when_its_view_cannot_be_recorded() -> None:
    w = world()
    report = a_report(w)

    class BrokenLog(InMemoryAuditLog):
        def record(self, entry: object) -> None:
            raise ConnectionError("log unavailable")

    ports = dataclasses.replace(w.ports.agency, audit=BrokenLog())
    with pytest.raises(ConnectionError):
        agency.detail(report.id, API_KEY, ports)


def test_the_ombudsman_dossier_records_the_view_of_a_named_reporter_too() -> None:
    w = world()
    report = a_report(w)
    national_key = Caller("nasional", Role.NATIONAL_ADMIN, "ombudsman-export", "key:feedfacecafe")

    shown = dossier(report.id, national_key, w.ports.agency)

    assert shown["report"]["reporter"]["name"] == "Asep Sunandar"
    [entry] = w.audit.entries(None, frozenset({"identity.viewed"}), 10).entries
    assert (entry.actor_id, entry.target) == ("key:feedfacecafe", report.id)


# --- the inbox: assigned to me -------------------------------------------------------------


def test_the_inbox_lists_what_is_assigned_to_the_caller_with_its_priority() -> None:
    w = world()
    mine = a_report(w, unit_id="uptd-jalan-cianjur")
    other = a_report(w, unit_id="uptd-jalan-cianjur")
    casework.assign(mine.id, DPUPR, "budi", "urgent", w.ports)
    casework.assign(other.id, DPUPR, "siti", "normal", w.ports)

    shown, _ = agency.inbox(UPTD, w.ports.agency, assigned_to="budi")

    assert [(r["id"], r["assignee_name"], r["priority"]) for r in shown] == [
        (mine.id, "Budi", "urgent")
    ]
    with pytest.raises(ValueError, match="assignee"):
        agency.inbox(UPTD, w.ports.agency, assigned_to="budi", overdue=True)


def test_the_report_pages_casework_is_read_together_and_an_officer_is_offered_only_themselves() -> (
    None
):
    w = world()
    report = a_report(w, unit_id="uptd-jalan-cianjur")
    casework.add_note(report.id, DPUPR, "Catatan.", w.ports)
    casework.create_template(DPUPR, typed("Dari dinas"), w.ports)

    for_admin = casework.casework_of(report.id, DPUPR, w.ports)
    for_officer = casework.casework_of(report.id, UPTD, w.ports)

    assert for_admin.report == report
    assert [n.text for n in for_admin.notes] == ["Catatan."]
    assert [a.account_id for a in for_admin.assignable] == ["budi", "siti"]
    assert [a.account_id for a in for_officer.assignable] == ["budi"]
    assert [t.title for t in for_officer.templates] == ["Dari dinas"]
    with pytest.raises(ReportNotFound):
        casework.casework_of(report.id, DINKES, w.ports)
