"""Casework pages: notes, assignment and priority, response templates, the reporter's
identity on request, and the change log.

- ``/laporan/<id>/catatan`` (POST ``catatan``): an internal note on the report.
- ``/laporan/<id>/penugasan`` (POST ``petugas``: an account id or empty, ``prioritas``:
  ``normal|high|urgent``): who handles it and how urgent it is.
- ``/laporan/<id>/identitas``: GET says what showing the identity means; POST shows it
  and records the view (who, when, which report) before the page is answered.
- ``/templat`` (+ POST: new), ``/templat/<id>`` (+ POST: save), ``/templat/<id>/hapus``
  (POST): the response templates; every staff member reads those of their agency (and
  above), admins manage their agency's.
- ``/riwayat`` (admins): the change log of the agency (the national admin: of all, or
  of one agency with ``instansi``), ``jenis=identitas`` for the identity views only,
  paged with ``setelah``.

The report page (shared.web.console.work_pages) includes ``console/_casework.html``
with ``casework`` = :func:`report_context`: ``notes`` (author, when, text),
``assignee_id``/``assignee_name``/``priority`` and their choices, ``templates`` (id,
title, operations) and ``prefill`` ({op: text}: a GET of the report page with
``templat=<id>&untuk=<op>`` puts that template's text in that action's form, no
JavaScript). The partial also reads the page's ``forms`` (each with ``op`` and
``field_id``) to offer a template only beside an action the staff member can take.
A refused note or assignment shows the report page again (422) with the reason beside
its form and what was typed; nothing is written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from flask import Response
from werkzeug.routing import Rule

from shared.domain.casework import TEMPLATE_OPERATIONS, CaseworkInvalid
from shared.domain.report import Priority
from shared.ports import AuditEntry, ReportNotFound, TemplateNotFound
from shared.reference import Reference
from shared.usecases import agency, casework
from shared.usecases.casework import NotAllowed, TemplateInput
from shared.web.agency_app import decode_cursor, encode_cursor
from shared.web.console import work_pages
from shared.web.console.common import (
    ConsoleCall,
    Staff,
    done,
    message_page,
    page_error,
    posted_form,
    render_page,
    signed_in,
    tr,
    url,
)
from shared.web.i18n import Lang, format_datetime

HISTORY_PAGE = 50
AUDIT_AGENCIES = 30  # one change-log query names at most 30 agencies (Firestore's "in")
# What a refused casework form left to show on the report page it is re-rendered in.
_REFUSED_KEY = "lapor.console.casework_refused"

PRIORITY_LABELS: Mapping[Priority, tuple[str, str]] = {
    Priority.NORMAL: ("Biasa", "Normal"),
    Priority.HIGH: ("Tinggi", "High"),
    Priority.URGENT: ("Mendesak", "Urgent"),
}
OPERATION_LABELS: Mapping[str, tuple[str, str]] = {
    "follow-up": ("Tindak lanjut", "Follow-up"),
    "resolve": ("Selesaikan", "Resolve"),
    "hold": ("Tunda (tanya pelapor)", "Hold (ask the reporter)"),
    "not-our-authority": ("Bukan wewenang", "Not our authority"),
    "archive": ("Arsipkan", "Archive"),
    "mark-supervisory": ("Berkadar pengawasan", "Needs supervision"),
}
KIND_LABELS: Mapping[str, tuple[str, str]] = {
    "identity.viewed": ("Melihat identitas pelapor", "Viewed the reporter's identity"),
    "identity.erased": (
        "Data kontak pelapor dihapus",
        "The reporter's contact details were erased",
    ),
    "report.assigned": ("Menugaskan laporan", "Assigned a report"),
    "staff.invited": ("Mengundang staf", "Invited a staff member"),
    "staff.deactivated": ("Menonaktifkan staf", "Deactivated a staff member"),
    "staff.reactivated": ("Mengaktifkan kembali staf", "Reactivated a staff member"),
    "staff.second_factor_reset": (
        "Mengatur ulang kode autentikator",
        "Reset an authenticator",
    ),
    "staff.second_factor_replaced": (
        "Mengganti aplikasi autentikatornya",
        "Replaced their authenticator app",
    ),
    "staff.password_reset_requested": ("Meminta atur ulang sandi", "Asked for a password reset"),
    "channels.updated": ("Mengubah saluran pemberitahuan", "Changed the notification channels"),
    "webhook.tested": ("Menguji webhook", "Tested the webhook"),
    "webhook.secret_rotated": ("Mengganti rahasia webhook", "Rotated the webhook secret"),
    "api_key.issued": ("Menerbitkan kunci API", "Issued an API key"),
    "api_key.revoked": ("Mencabut kunci API", "Revoked an API key"),
    "agency.created": ("Menambah instansi", "Added an agency"),
    "agency.updated": ("Mengubah instansi", "Changed an agency"),
    "rule.created": ("Menambah aturan rute", "Added a routing rule"),
    "rule.updated": ("Mengubah aturan rute", "Changed a routing rule"),
    "rule.deleted": ("Menghapus aturan rute", "Deleted a routing rule"),
    "template.created": ("Menambah templat jawaban", "Added a response template"),
    "template.updated": ("Mengubah templat jawaban", "Changed a response template"),
    "template.deleted": ("Menghapus templat jawaban", "Deleted a response template"),
}
_REPORT_KINDS = frozenset({"identity.viewed", "identity.erased", "report.assigned"})


def _when(call: ConsoleCall, moment: Any) -> str:
    return format_datetime(moment.isoformat(), call.lang, call.ports.settings.timezone)


def _invalid_text(lang: Lang, refused: CaseworkInvalid) -> str:
    texts: Mapping[tuple[str, str], tuple[str, str]] = {
        ("note", "required"): ("Tulis isi catatan.", "Write the note."),
        ("note", "too_long"): (
            "Catatan paling banyak 2.000 karakter.",
            "A note has at most 2,000 characters.",
        ),
        ("assignee", "unknown"): (
            "Petugas itu tidak ada atau tidak aktif.",
            "That staff member does not exist or is not active.",
        ),
        ("assignee", "cannot_see"): (
            "Petugas itu tidak dapat melihat laporan ini.",
            "That staff member cannot see this report.",
        ),
        ("priority", "unknown"): ("Pilih prioritas dari daftar.", "Pick a priority from the list."),
        ("title", "required"): ("Tulis judul templat.", "Write the template's title."),
        ("title", "too_long"): (
            "Judul paling banyak 120 karakter.",
            "A title has at most 120 characters.",
        ),
        ("body", "required"): ("Tulis isi templat.", "Write the template's text."),
        ("body", "too_long"): (
            "Isi paling banyak 5.000 karakter.",
            "A text has at most 5,000 characters.",
        ),
        ("operations", "required"): (
            "Pilih sedikitnya satu tindakan.",
            "Pick at least one action.",
        ),
        ("operations", "unknown"): ("Pilih tindakan dari daftar.", "Pick actions from the list."),
    }
    pair = texts.get((refused.field, refused.code), (str(refused), str(refused)))
    return tr(lang, *pair)


# --- the report page's casework (included by work_pages) -------------------------------


def report_context(call: ConsoleCall, staff: Staff, shown: Mapping[str, Any]) -> dict[str, Any]:
    """The partial's context for the report ``shown`` (the caller may see it)."""
    lang = call.lang
    ports = call.ports
    work = casework.casework_of(str(shown["id"]), staff.caller, ports)
    report = work.report
    refused: Mapping[str, str] = call.request.environ.get(_REFUSED_KEY, {})
    choices = [(a.account_id, a.name) for a in work.assignable]
    if report.assignee_id and report.assignee_id not in {c[0] for c in choices}:
        choices.append((report.assignee_id, report.assignee_name or report.assignee_id))
    prefill: dict[str, str] = {}
    wanted_id = call.request.args.get("templat", "")[:64]
    wanted_op = call.request.args.get("untuk", "")
    if wanted_id and wanted_op in TEMPLATE_OPERATIONS:
        chosen = casework.fitting(work.templates, wanted_id, wanted_op)
        if chosen is not None:
            prefill[wanted_op] = chosen.body
    return {
        "notes": [
            {"author": n.author_name, "when": _when(call, n.at), "text": n.text} for n in work.notes
        ],
        "note_value": refused.get("note_value", ""),
        "note_error": refused.get("note_error", ""),
        "assignee_id": report.assignee_id or "",
        "assignee_name": report.assignee_name or "",
        "assignee_choices": choices,
        "priority": report.priority.value,
        "priority_label": tr(lang, *PRIORITY_LABELS[report.priority]),
        "priorities": [(p.value, tr(lang, *PRIORITY_LABELS[p])) for p in Priority],
        "assign_error": refused.get("assign_error", ""),
        "templates": [
            {"id": t.id, "title": t.title, "operations": list(t.operations)} for t in work.templates
        ],
        "operation_labels": {op: tr(lang, *pair) for op, pair in OPERATION_LABELS.items()},
        "prefill": prefill,
    }


def _report_again(call: ConsoleCall, report_id: str, refused: Mapping[str, str]) -> Response:
    """The report page with a refused casework form's reason (422); nothing written."""
    call.request.environ[_REFUSED_KEY] = dict(refused)
    response = work_pages.report_page(call, report_id)
    if response.status_code == 200:
        response.status_code = 422
    return response


def _report_path(report_id: str) -> str:
    return f"/laporan/{quote(report_id)}"


def add_note(call: ConsoleCall, report_id: str) -> Response:
    staff = signed_in(call)
    form = posted_form(call, staff)
    text = form.get("catatan", "")
    try:
        casework.add_note(report_id[:64], staff.caller, text, call.ports)
    except ReportNotFound:
        return page_error(call, 404)
    except CaseworkInvalid as refused:
        return _report_again(
            call,
            report_id,
            {"note_value": text[:2500], "note_error": _invalid_text(call.lang, refused)},
        )
    ok = tr(call.lang, "Catatan disimpan.", "Note saved.")
    return done(call, _report_path(report_id), ok=ok)


def assign(call: ConsoleCall, report_id: str) -> Response:
    staff = signed_in(call)
    form = posted_form(call, staff)
    lang = call.lang
    try:
        casework.assign(
            report_id[:64],
            staff.caller,
            form.get("petugas", "")[:64] or None,
            form.get("prioritas", ""),
            call.ports,
        )
    except ReportNotFound:
        return page_error(call, 404)
    except CaseworkInvalid as refused:
        return _report_again(call, report_id, {"assign_error": _invalid_text(lang, refused)})
    except NotAllowed:
        message = tr(
            lang,
            "Petugas unit hanya dapat mengambil laporan untuk dirinya sendiri atau "
            "melepasnya. Tidak ada yang diubah.",
            "A unit officer can only take a report on themselves or let it go. "
            "Nothing was changed.",
        )
        response = _report_again(call, report_id, {"assign_error": message})
        response.status_code = 403
        return response
    ok = tr(lang, "Penugasan disimpan.", "Assignment saved.")
    return done(call, _report_path(report_id), ok=ok)


# --- the reporter's identity, on request and recorded ---------------------------------


def identity(call: ConsoleCall, report_id: str) -> Response:
    staff = signed_in(call)
    report_id = report_id[:64]
    try:
        report = casework.visible_report(report_id, staff.caller, call.ports)
    except ReportNotFound:
        return page_error(call, 404)
    reporter = None
    if call.request.method == "POST":
        posted_form(call, staff)
        try:
            reporter = agency.reporter_identity(report_id, staff.caller, call.ports.agency)
        except ReportNotFound:
            return page_error(call, 404)
    return render_page(
        call,
        "console/identity.html",
        staff,
        report_id=report_id,
        tracking_code=report.tracking_code,
        title=report.title,
        report_path=_report_path(report_id),
        anonymous=report.anonymous,
        asked=call.request.method == "POST",
        reporter=reporter,
    )


# --- response templates ----------------------------------------------------------------


def _typed(form: Mapping[str, Any], lists: Sequence[str]) -> TemplateInput:
    return TemplateInput(
        title=str(form.get("judul", ""))[:500],
        body=str(form.get("isi", ""))[:6000],
        operations=[op for op in lists if op in TEMPLATE_OPERATIONS],
    )


def _templates_page(
    call: ConsoleCall,
    staff: Staff,
    *,
    editing: str | None = None,
    status: int = 200,
    typed: TemplateInput | None = None,
    errors: Sequence[tuple[str, str]] = (),
) -> Response:
    lang = call.lang
    caller = staff.caller
    templates = casework.templates_for(caller, call.ports)
    current = None
    if editing is not None:
        current = next(
            (t for t in templates if t.id == editing and t.agency_id == staff.agency_id), None
        )
        if current is None or not casework.may_manage_templates(caller):
            return page_error(call, 404)
    if typed is None and current is not None:
        typed = TemplateInput(current.title, current.body, list(current.operations))
    agencies = call.ports.agency.reference
    return render_page(
        call,
        "console/templates.html",
        staff,
        status=status,
        templates=[
            {
                "id": t.id,
                "title": t.title,
                "body": t.body,
                "operations": [tr(lang, *OPERATION_LABELS[op]) for op in t.operations],
                "agency": agencies.agency(t.agency_id).name
                if agencies.has_agency(t.agency_id)
                else t.agency_id,
                "own": t.agency_id == staff.agency_id,
                "updated": f"{_when(call, t.updated_at)} · {t.updated_by}",
            }
            for t in templates
        ],
        manage=casework.may_manage_templates(caller),
        editing=current.id if current is not None else None,
        typed=typed or TemplateInput("", "", []),
        operation_choices=[(op, tr(lang, *OPERATION_LABELS[op])) for op in TEMPLATE_OPERATIONS],
        errors=list(errors),
    )


def templates_page(call: ConsoleCall) -> Response:
    return _templates_page(call, signed_in(call))


def template_page(call: ConsoleCall, template_id: str) -> Response:
    return _templates_page(call, signed_in(call, admin=True), editing=template_id[:64])


def _field_id(field: str) -> str:
    return {"title": "judul", "body": "isi", "operations": "untuk-follow-up"}.get(field, field)


def create_template(call: ConsoleCall) -> Response:
    staff = signed_in(call, admin=True)
    form = posted_form(call, staff)
    typed = _typed(form, form.getlist("untuk"))
    try:
        casework.create_template(staff.caller, typed, call.ports)
    except CaseworkInvalid as refused:
        error = (_field_id(refused.field), _invalid_text(call.lang, refused))
        return _templates_page(call, staff, status=422, typed=typed, errors=[error])
    return done(call, "/templat", ok=tr(call.lang, "Templat ditambahkan.", "Template added."))


def save_template(call: ConsoleCall, template_id: str) -> Response:
    staff = signed_in(call, admin=True)
    form = posted_form(call, staff)
    typed = _typed(form, form.getlist("untuk"))
    try:
        casework.update_template(staff.caller, template_id[:64], typed, call.ports)
    except TemplateNotFound:
        return page_error(call, 404)
    except CaseworkInvalid as refused:
        error = (_field_id(refused.field), _invalid_text(call.lang, refused))
        return _templates_page(
            call, staff, editing=template_id[:64], status=422, typed=typed, errors=[error]
        )
    return done(call, "/templat", ok=tr(call.lang, "Templat disimpan.", "Template saved."))


def delete_template(call: ConsoleCall, template_id: str) -> Response:
    staff = signed_in(call, admin=True)
    posted_form(call, staff)
    try:
        casework.delete_template(staff.caller, template_id[:64], call.ports)
    except TemplateNotFound:
        return page_error(call, 404)
    return done(call, "/templat", ok=tr(call.lang, "Templat dihapus.", "Template deleted."))


# --- the change log --------------------------------------------------------------------


def _entry_row(call: ConsoleCall, entry: AuditEntry) -> dict[str, Any]:
    lang = call.lang
    reference = call.ports.agency.reference
    details = dict(entry.details)
    code = details.pop("tracking_code", "")
    shown_details = "; ".join(f"{k}: {v}" for k, v in details.items() if v)
    return {
        "when": _when(call, entry.at),
        "who": entry.actor_name or entry.actor_id,
        "actor_id": entry.actor_id,
        "what": tr(lang, *KIND_LABELS.get(entry.kind, (entry.kind, entry.kind))),
        "report_path": _report_path(entry.target) if entry.kind in _REPORT_KINDS else "",
        "target": code or entry.target,
        "agency": reference.agency(entry.agency_id).short_name
        if reference.has_agency(entry.agency_id)
        else entry.agency_id,
        "details": shown_details,
    }


def _with_units(reference: Reference, agency_id: str) -> frozenset[str]:
    """An agency and those below it (its units), as far as one query allows: the agency
    itself always (an unknown one: only itself, so nothing is shown)."""
    if not reference.has_agency(agency_id):
        return frozenset({agency_id})
    below = sorted(reference.descendants(agency_id) - {agency_id})
    return frozenset({agency_id, *below[: AUDIT_AGENCIES - 1]})


def history_page(call: ConsoleCall) -> Response:
    staff = signed_in(call, admin=True)
    args = call.request.args
    reference = call.ports.agency.reference
    only_views = args.get("jenis") == "identitas"
    wanted = args.get("instansi", "") if staff.is_national else staff.agency_id
    agencies = _with_units(reference, wanted) if wanted else None
    after = None
    if args.get("setelah"):
        try:
            after = decode_cursor(args["setelah"])
        except ValueError:
            return message_page(
                call,
                staff,
                400,
                tr(call.lang, "Tautan halaman tidak valid", "Invalid page link"),
                tr(call.lang, "Buka riwayat dari awal.", "Open the change log from the start."),
            )
    kinds = frozenset({"identity.viewed"}) if only_views else None
    page = call.ports.audit.entries(agencies, kinds, HISTORY_PAGE, after)
    params = {"jenis": "identitas" if only_views else "", "instansi": args.get("instansi", "")}
    return render_page(
        call,
        "console/history.html",
        staff,
        entries=[_entry_row(call, e) for e in page.entries],
        only_views=only_views,
        agency_choices=[(a.id, a.name) for a in reference.agencies] if staff.is_national else [],
        instansi=args.get("instansi", ""),
        first_page=after is None,
        first_url=url(call, "/riwayat", **params),
        next_url=url(call, "/riwayat", **params, setelah=encode_cursor(page.next_after))
        if page.next_after
        else "",
    )


RULES: Sequence[Rule] = [
    Rule("/laporan/<doc_id:report_id>/catatan", methods=["POST"], endpoint="casework.note"),
    Rule("/laporan/<doc_id:report_id>/penugasan", methods=["POST"], endpoint="casework.assign"),
    Rule(
        "/laporan/<doc_id:report_id>/identitas",
        methods=["GET", "POST"],
        endpoint="casework.identity",
    ),
    Rule("/templat", methods=["GET"], endpoint="casework.templates"),
    Rule("/templat", methods=["POST"], endpoint="casework.create_template"),
    Rule("/templat/<doc_id:template_id>", methods=["GET"], endpoint="casework.template"),
    Rule("/templat/<doc_id:template_id>", methods=["POST"], endpoint="casework.save_template"),
    Rule(
        "/templat/<doc_id:template_id>/hapus", methods=["POST"], endpoint="casework.delete_template"
    ),
    Rule("/riwayat", methods=["GET"], endpoint="casework.history"),
]
HANDLERS: Mapping[str, Callable[..., Response]] = {
    "casework.note": add_note,
    "casework.assign": assign,
    "casework.identity": identity,
    "casework.templates": templates_page,
    "casework.create_template": create_template,
    "casework.template": template_page,
    "casework.save_template": save_template,
    "casework.delete_template": delete_template,
    "casework.history": history_page,
}
