"""Casework around a report, for staff: internal notes, assignment and priority, and the
agency's response templates (the rules: shared.domain.casework).

Who may do what (the report's visibility is the agency API's: ``scope_of``/``may_see``,
and a report the caller may not see is ReportNotFound, exactly like an unknown one):

- notes: anyone who may see the report reads and adds them;
- assignment: the assignee is an active staff member (invitation accepted) who may see
  the report. An admin assigns anyone eligible; a unit officer only takes it on
  themselves or lets it go (``NotAllowed`` otherwise). Anyone who may see it sets the
  priority. Recorded as ``report.assigned``, with the change, in one transaction;
- templates: every staff member uses those of their agency and of the agencies above
  it (a unit's officer gets the dinas's); an agency admin (the national admin for the
  national body) manages those of their own agency. Each change is recorded
  (``template.created|updated|deleted``) in the same commit.

The reporter's identity is read through ``shared.usecases.agency.reporter_identity``,
which records the view: the console's reveal and the API's detail share it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from shared.domain.casework import (
    Assignment,
    CaseworkInvalid,
    ResponseTemplate,
    StaffNote,
    note_text,
    priority_of,
    template_fields,
)
from shared.domain.report import Report
from shared.domain.staff import StaffAccount
from shared.ports import AuditEntry, ConsolePorts, ReportNotFound, TemplateNotFound
from shared.usecases.agency import Caller, may_see, scope_of

NOTES_SHOWN = 50  # a report's newest notes on its page


class NotAllowed(Exception):
    """The caller sees the report (or the page) but may not make this change."""


# --- the report, as the caller may see it ----------------------------------------------


def visible_report(report_id: str, caller: Caller, ports: ConsolePorts) -> Report:
    report = ports.agency.store.get(report_id)
    if report is None or not may_see(scope_of(caller, ports.agency.reference), report):
        raise ReportNotFound(report_id)
    return report


def _may_see(account: StaffAccount, report: Report, ports: ConsolePorts) -> bool:
    caller = Caller(account.agency_id, account.role)
    return may_see(scope_of(caller, ports.agency.reference), report)


@dataclass(frozen=True)
class Casework:
    """What a report page shows of the casework."""

    report: Report
    notes: list[StaffNote]
    assignable: list[StaffAccount]  # whom the caller may give the report to
    templates: list[ResponseTemplate]  # the caller's


def casework_of(report_id: str, caller: Caller, ports: ConsolePorts) -> Casework:
    """The report's casework as the caller may see it, in four reads: the report, its
    notes, the staff of its agency and units, the caller's templates. ReportNotFound
    out of scope."""
    report = visible_report(report_id, caller, ports)
    eligible = assignable_staff(report, ports)
    if not caller.is_admin:  # an officer takes it on or lets it go, no one else
        own_id = caller.actor_id.removeprefix("staff:")
        eligible = [a for a in eligible if a.account_id == own_id]
    return Casework(
        report=report,
        notes=ports.casework.notes(report.id, NOTES_SHOWN),
        assignable=eligible,
        templates=templates_for(caller, ports),
    )


# --- notes ---------------------------------------------------------------------------


def notes(report_id: str, caller: Caller, ports: ConsolePorts) -> list[StaffNote]:
    """The report's newest notes, oldest first."""
    visible_report(report_id, caller, ports)
    return ports.casework.notes(report_id, NOTES_SHOWN)


def add_note(report_id: str, caller: Caller, text: str, ports: ConsolePorts) -> StaffNote:
    """CaseworkInvalid (field ``note``) for an empty or too long text."""
    cleaned = note_text(text)
    visible_report(report_id, caller, ports)
    return ports.casework.add_note(
        StaffNote(
            id="",
            report_id=report_id,
            author_id=caller.actor_id,
            author_name=caller.key_label,
            agency_id=caller.agency_id,
            text=cleaned,
            at=ports.clock.now(),
        )
    )


# --- assignment and priority ----------------------------------------------------------


def assignable_staff(report: Report, ports: ConsolePorts) -> list[StaffAccount]:
    """Who may be given the report, by name: active staff of its agency and the units
    below it who may see it (nobody while it is unrouted: routing decides the agency)."""
    reference = ports.agency.reference
    if report.agency_id is not None and reference.has_agency(report.agency_id):
        agencies: frozenset[str] = reference.descendants(report.agency_id)
    else:
        agencies = frozenset()
    accounts = ports.staff.accounts_in(sorted(agencies)) if agencies else []
    eligible = [a for a in accounts if _assignable(a) and _may_see(a, report, ports)]
    return sorted(eligible, key=lambda a: (a.name.casefold(), a.account_id))


def _assignable(account: StaffAccount) -> bool:
    return account.active and account.password_hash is not None


def assign(
    report_id: str,
    caller: Caller,
    assignee_id: str | None,
    priority: str,
    ports: ConsolePorts,
) -> Report:
    """Give the report to ``assignee_id`` (None: nobody) with ``priority``; decided on
    the current report inside the transaction. ReportNotFound, NotAllowed, or
    CaseworkInvalid (field ``assignee`` or ``priority``); then nothing is written."""
    wanted = priority_of(priority)
    account: StaffAccount | None = None
    if assignee_id:
        account = ports.staff.account(assignee_id)
        if account is None or not _assignable(account):
            raise CaseworkInvalid("assignee", "unknown", "no active staff member by that id")
    scope = scope_of(caller, ports.agency.reference)
    own_id = caller.actor_id.removeprefix("staff:")
    now = ports.clock.now()

    def decide(report: Report) -> tuple[Assignment, AuditEntry]:
        if not may_see(scope, report):
            raise ReportNotFound(report_id)
        if account is not None and not _may_see(account, report, ports):
            raise CaseworkInvalid("assignee", "cannot_see", "that staff member cannot see it")
        changes_assignee = (account.account_id if account else None) != report.assignee_id
        if changes_assignee and not caller.is_admin:
            # An officer takes it on or lets it go, and only for themselves.
            theirs = (account is not None and account.account_id == own_id) or (
                account is None and report.assignee_id == own_id
            )
            if not theirs:
                raise NotAllowed("a unit officer assigns only themselves")
        assignment = Assignment(
            assignee_id=account.account_id if account else None,
            assignee_name=account.name if account else None,
            priority=wanted,
        )
        entry = AuditEntry(
            at=now,
            agency_id=report.agency_id or caller.agency_id,
            actor_id=caller.actor_id,
            actor_name=caller.key_label,
            kind="report.assigned",
            target=report.id,
            details={
                "tracking_code": report.tracking_code,
                "assignee": assignment.assignee_name or "",
                "priority": assignment.priority.value,
            },
        )
        return assignment, entry

    return ports.casework.assign(report_id, decide)


# --- response templates ----------------------------------------------------------------


def template_agencies(caller: Caller, ports: ConsolePorts) -> list[str]:
    """Whose templates the caller uses: their agency's, then those above it."""
    reference = ports.agency.reference
    if not reference.has_agency(caller.agency_id):
        return []
    return [caller.agency_id, *(a.id for a in reference.ancestors(caller.agency_id))]


def templates_for(caller: Caller, ports: ConsolePorts) -> list[ResponseTemplate]:
    return ports.casework.templates(template_agencies(caller, ports))


def template_for(
    caller: Caller, template_id: str, operation: str, ports: ConsolePorts
) -> ResponseTemplate | None:
    """One of the caller's templates that fits ``operation`` (None when it does not)."""
    return fitting(templates_for(caller, ports), template_id, operation)


def fitting(
    templates: Sequence[ResponseTemplate], template_id: str, operation: str
) -> ResponseTemplate | None:
    """The template ``template_id`` among ``templates`` if it is for ``operation``."""
    return next((t for t in templates if t.id == template_id and operation in t.operations), None)


def may_manage_templates(caller: Caller) -> bool:
    return caller.is_admin


def _managed(caller: Caller) -> None:
    if not may_manage_templates(caller):
        raise NotAllowed("only admins manage response templates")


@dataclass(frozen=True)
class TemplateInput:
    title: str
    body: str
    operations: Sequence[str]


def _entry(
    caller: Caller, kind: str, template: ResponseTemplate, ports: ConsolePorts
) -> AuditEntry:
    return AuditEntry(
        at=ports.clock.now(),
        agency_id=template.agency_id,
        actor_id=caller.actor_id,
        actor_name=caller.key_label,
        kind=kind,
        target=template.id,
        details={"title": template.title},
    )


def create_template(caller: Caller, typed: TemplateInput, ports: ConsolePorts) -> ResponseTemplate:
    """A new template of the caller's agency; NotAllowed or CaseworkInvalid."""
    _managed(caller)
    title, body, operations = template_fields(typed.title, typed.body, list(typed.operations))
    template = ResponseTemplate(
        id=uuid.uuid4().hex,
        agency_id=caller.agency_id,
        title=title,
        body=body,
        operations=operations,
        updated_at=ports.clock.now(),
        updated_by=caller.key_label,
    )
    ports.casework.save_template(
        template, _entry(caller, "template.created", template, ports), new=True
    )
    return template


def update_template(
    caller: Caller, template_id: str, typed: TemplateInput, ports: ConsolePorts
) -> ResponseTemplate:
    """TemplateNotFound unless it is one of the caller's agency's; NotAllowed or
    CaseworkInvalid."""
    _managed(caller)
    if ports.casework.template(caller.agency_id, template_id) is None:
        raise TemplateNotFound(template_id)
    title, body, operations = template_fields(typed.title, typed.body, list(typed.operations))
    template = ResponseTemplate(
        id=template_id,
        agency_id=caller.agency_id,
        title=title,
        body=body,
        operations=operations,
        updated_at=ports.clock.now(),
        updated_by=caller.key_label,
    )
    ports.casework.save_template(
        template, _entry(caller, "template.updated", template, ports), new=False
    )
    return template


def delete_template(caller: Caller, template_id: str, ports: ConsolePorts) -> None:
    _managed(caller)
    template = ports.casework.template(caller.agency_id, template_id)
    if template is None:
        raise TemplateNotFound(template_id)
    ports.casework.delete_template(
        caller.agency_id, template_id, _entry(caller, "template.deleted", template, ports)
    )
