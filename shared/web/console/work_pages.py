"""Casework pages: the inbox, a report and its actions, the admin queue, the figures.

- ``/kotak-masuk``: what waits for the staff member: counts per state, overdue,
  escalated and assigned to them (each a link that filters), filters (``status``,
  ``terlambat=1``, ``eskalasi=1``, ``saya=1``: assigned to me, with a status only),
  search by tracking code (``kode``: typed as a citizen would; a report out of scope
  is "not found", exactly like an unknown code) and paging (``setelah``: the agency
  API's cursor).
- ``/laporan/<report_id>``: the report, its deadlines, escalation tiers, timeline and
  deliveries, and exactly the actions the lifecycle allows this person now, each a
  form carrying the report's version (``seq``). The reporter's identity is never on
  it: where the privacy view allows (not anonymous) a button asks for it (the casework
  pages' reveal, which records the view).
- ``/laporan/<report_id>/tindakan/<op>`` (POST): one action, ``op`` as in the agency
  API (``verify``, ``forward``, ``follow-up``, ``not-our-authority``, ``hold``,
  ``archive``, ``resolve``, ``mark-supervisory``), its fields validated by the API's
  own body models. A refused action (the report changed meanwhile: 409; illegal now:
  409; not for this role: 403; invalid: 422) shows the report again with the reason
  and what was typed, and nothing changes. A follow-up and a resolution may bring
  files (``FILE_OPS``: multipart, field ``berkas``), checked before anything is stored
  (a refusal names every refused file, 422, nothing stored); the report page shows
  the files and the exact place (shared.web.console.evidence_pages).
- ``/antrean`` (admins): the unrouted reports in the admin's scope with the
  classifier's suggestion; ``/antrean/<report_id>/rute`` (POST) routes one in one step.
- ``/angka`` (+ ``/angka/tren.svg``): the agency's own figures from the daily report
  (the national admin: the nation's), with the trend chart beside a table of it.

Every rule is the agency API's (shared.usecases.agency: scope_of, may_see, inbox,
detail, take_action): the console builds the same Caller from the signed-in member.

The report page includes ``console/_casework.html`` (notes, assignment, templates)
with the context :func:`shared.web.console.casework_pages.report_context` returns for
the report; its ``prefill`` ({op: text}, from a response template) fills that action's
form.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from flask import Response
from pydantic import ValidationError
from werkzeug.routing import Rule

from shared.domain.report import (
    ATTACHING_ACTIONS,
    PERMITTED_ROLES,
    TRANSITIONS,
    Action,
    IllegalTransition,
    InvalidCommand,
    LifecycleError,
    NotPermitted,
    ReportType,
    Role,
    State,
)
from shared.domain.tracking import InvalidTrackingCode
from shared.ports import ReportNotFound
from shared.reference import AgencyKind, Reference
from shared.usecases import agency, evidence, public_figures
from shared.usecases.agency import AgencyCommand, Caller, NotTheReceivingAgency, ReportChanged
from shared.usecases.daily_report import NATIONAL
from shared.web import charts
from shared.web.agency_app import OPERATIONS, TEXT_MAX, decode_cursor, encode_cursor
from shared.web.catalog import catalog_of
from shared.web.console import evidence_pages
from shared.web.console.common import (
    ConsoleCall,
    Staff,
    done,
    message_page,
    page_error,
    posted_form,
    posted_form_with_files,
    render_page,
    signed_in,
    tr,
    url,
)
from shared.web.http import FILE_FIELD, IDEMPOTENCY_KEY, Problem
from shared.web.i18n import (
    Lang,
    event_label,
    format_date,
    format_datetime,
    format_number,
    format_share,
    format_short_date,
    state_label,
    t,
)
from shared.web.public_pages import Line, figure_lines

PAGE_SIZE = 25
# The states in the order work moves through them, for the counts and the filter.
WORK_ORDER = (
    State.SUBMITTED,
    State.ON_HOLD,
    State.DISPOSITIONED,
    State.IN_PROGRESS,
    State.RESOLVED,
    State.CLOSED,
    State.ARCHIVED,
)
_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_SEQ = re.compile(r"[0-9]{1,9}")
_CHART_DAYS_LABELLED = 15


# --- shared pieces -----------------------------------------------------------------------


def _agency_name(reference: Reference, agency_id: str | None) -> str:
    if not agency_id:
        return ""
    return reference.agency(agency_id).name if reference.has_agency(agency_id) else agency_id


def _formatters(call: ConsoleCall) -> dict[str, Any]:
    lang = call.lang
    zone = call.ports.settings.timezone
    reference = call.ports.agency.reference
    known = catalog_of(reference)
    return {
        "fdate": lambda value: format_date(value, lang),
        "fdatetime": lambda value: format_datetime(value, lang, zone) if value else "",
        "num": lambda value: format_number(value, lang),
        "pct": lambda share: format_share(share, lang),
        "slabel": lambda state: state_label(state, lang),
        "tlabel": lambda kind: t(f"type_{kind}", lang),
        "category": lambda category_id: known.category_label(category_id, lang),
        "region": lambda province, regency: known.region_label(province, regency),
        "agency_name": lambda agency_id: _agency_name(reference, agency_id),
        "rlabel": lambda role: tr(lang, *_ROLE_LABELS.get(role, (role, role))),
        "tierlabel": lambda tier_id: _tier_label(tier_id, lang),
    }


_ROLE_LABELS: Mapping[str, tuple[str, str]] = {
    Role.REPORTER.value: ("Pelapor", "Reporter"),
    Role.NATIONAL_ADMIN.value: ("Admin nasional", "National admin"),
    Role.AGENCY_ADMIN.value: ("Admin instansi", "Agency admin"),
    Role.UNIT_OFFICER.value: ("Petugas unit", "Unit officer"),
    Role.SYSTEM.value: ("Sistem", "System"),
}


def _parse_seq(text: str | None) -> int | None:
    return int(text) if text and _SEQ.fullmatch(text) else None


def _bad_request(call: ConsoleCall, staff: Staff, detail: str) -> Problem:
    heading = tr(call.lang, "Alamat tidak sah", "Bad address")
    return Problem(message_page(call, staff, 400, heading, detail))


def _cursor(call: ConsoleCall, staff: Staff) -> tuple[str, str] | None:
    text = call.request.args.get("setelah")
    if not text:
        return None
    try:
        return decode_cursor(text[:400])
    except ValueError:
        detail = tr(
            call.lang,
            "Tautan halaman ini rusak. Buka lagi dari halaman pertama.",
            "This page's link is broken. Start again from the first page.",
        )
        raise _bad_request(call, staff, detail) from None


# --- the inbox ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CountLink:
    """One figure of the inbox, linking to the inbox filtered on it."""

    label: str
    count: int
    href: str
    current: bool


@dataclass(frozen=True)
class Filters:
    status: State | None = None
    overdue: bool = False
    escalated: bool = False
    mine: bool = False  # assigned to the signed-in member: with a status only

    def params(self) -> dict[str, str]:
        params = {"status": self.status.value} if self.status else {}
        if self.overdue:
            params["terlambat"] = "1"
        if self.escalated:
            params["eskalasi"] = "1"
        if self.mine:
            params["saya"] = "1"
        return params

    @property
    def any(self) -> bool:
        return bool(self.params())


def _flag(call: ConsoleCall, name: str) -> bool:
    return call.request.args.get(name, "") in ("1", "ya", "true")


def _filters(call: ConsoleCall, staff: Staff) -> Filters:
    status: State | None = None
    asked = call.request.args.get("status", "")
    if asked:
        try:
            status = State(asked)
        except ValueError:
            detail = tr(call.lang, "Status itu tidak dikenal.", "That status is not known.")
            raise _bad_request(call, staff, detail) from None
    filters = Filters(
        status, _flag(call, "terlambat"), _flag(call, "eskalasi"), _flag(call, "saya")
    )
    if filters.mine and (filters.overdue or filters.escalated):
        detail = tr(
            call.lang,
            "“Ditugaskan ke saya” hanya dapat digabung dengan status, tidak dengan "
            "“terlambat” atau “tereskalasi”.",
            "“Assigned to me” goes with a status only, not with “overdue” or “escalated”.",
        )
        raise _bad_request(call, staff, detail)
    return filters


def _inbox_states(staff: Staff) -> list[State]:
    """The states an inbox can hold: an unrouted report is only in the national admin's
    (the others' are in their admin queue)."""
    return [
        state
        for state in WORK_ORDER
        if staff.is_national or state not in (State.SUBMITTED, State.ON_HOLD)
    ]


def _count_links(
    call: ConsoleCall, counts: agency.InboxCounts, filters: Filters, staff: Staff
) -> list[CountLink]:
    lang = call.lang
    shown_states = _inbox_states(staff)
    links = [
        CountLink(
            tr(lang, "Ditugaskan ke saya", "Assigned to me"),
            counts.assigned or 0,
            url(call, "/kotak-masuk", saya="1"),
            filters == Filters(mine=True),
        ),
        CountLink(
            tr(lang, "Terlambat", "Overdue"),
            counts.overdue,
            url(call, "/kotak-masuk", terlambat="1"),
            filters == Filters(overdue=True),
        ),
        CountLink(
            tr(lang, "Tereskalasi", "Escalated"),
            counts.escalated,
            url(call, "/kotak-masuk", eskalasi="1"),
            filters == Filters(escalated=True),
        ),
    ]
    links += [
        CountLink(
            state_label(state.value, lang),
            counts.by_state[state],
            url(call, "/kotak-masuk", status=state.value),
            filters == Filters(status=state),
        )
        for state in shown_states
    ]
    if counts.admin_queue is not None:
        links.append(
            CountLink(
                tr(lang, "Antrean admin (belum dirutekan)", "Admin queue (not yet routed)"),
                counts.admin_queue,
                url(call, "/antrean"),
                False,
            )
        )
    return links


def _search(call: ConsoleCall, staff: Staff, text: str) -> Response | tuple[int, str]:
    """A redirect to the report the code names, or (status, why) to show on the inbox."""
    lang = call.lang
    try:
        report_id = agency.find_by_code(text[:40], staff.caller, call.ports.agency)
    except InvalidTrackingCode:
        return 400, tr(
            lang,
            "Kode pelacakan itu tidak sah: 9 huruf/angka seperti K7M-2XQ-9RJ. Periksa lagi.",
            "That tracking code is not valid: 9 letters/digits like K7M-2XQ-9RJ. Check it.",
        )
    except ReportNotFound:
        return 404, tr(
            lang,
            "Tidak ada laporan dengan kode itu yang dapat Anda buka.",
            "There is no report with that code that you can open.",
        )
    return done(call, f"/laporan/{quote(report_id)}")


def inbox_page(call: ConsoleCall) -> Response:
    staff = signed_in(call)
    lang = call.lang
    filters = _filters(call, staff)
    after = _cursor(call, staff)
    code = call.request.args.get("kode", "").strip()
    status, error = 200, ""
    if code:
        found = _search(call, staff, code)
        if isinstance(found, Response):
            return found
        status, error = found
    ports = call.ports.agency
    # The figures and the page are independent reads: run them side by side.
    with ThreadPoolExecutor(max_workers=1) as pool:
        counting = pool.submit(
            agency.inbox_counts, staff.caller, ports, assigned_to=staff.account_id
        )
        rows, next_after = agency.inbox(
            staff.caller,
            ports,
            status=filters.status,
            overdue=filters.overdue,
            escalated=filters.escalated,
            limit=PAGE_SIZE,
            after=after,
            assigned_to=staff.account_id if filters.mine else None,
        )
        counts = counting.result()
    next_url = (
        url(call, "/kotak-masuk", **filters.params(), setelah=encode_cursor(next_after))
        if next_after
        else None
    )
    return render_page(
        call,
        "console/inbox.html",
        staff,
        status=status,
        counts=_count_links(call, counts, filters, staff),
        filters=filters,
        states=[(s.value, state_label(s.value, lang)) for s in _inbox_states(staff)],
        rows=rows,
        next_url=next_url,
        first_url=url(call, "/kotak-masuk", **filters.params()) if after else None,
        clear_url=url(call, "/kotak-masuk"),
        code=code,
        errors=[("kode", error)] if error else [],
        **_formatters(call),
    )


# --- the report and its actions ------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass
class ActionForm:
    """One action's form on the report page."""

    op: str
    heading: str
    name: str  # the form field's: agency_id, unit_id, message or reason
    field_label: str
    hint: str
    button: str
    choices: list[Choice] = field(default_factory=list)  # a select when not empty
    value: str = ""
    error: str = ""
    danger: bool = False
    takes_files: bool = False  # a multipart form with a file input (FILE_OPS)
    file_errors: tuple[str, ...] = ()  # each refused file's reason

    @property
    def field_id(self) -> str:
        return _field_id(self.op)

    @property
    def files_id(self) -> str:
        return _files_id(self.op)

    @property
    def open(self) -> bool:
        return bool(self.error or self.value or self.file_errors)


# op -> (heading, field label, hint, button), each (id, en); the op's body model names
# its one field.
_ACTION_TEXTS: Mapping[str, tuple[tuple[str, str], ...]] = {
    "verify": (
        ("Verifikasi dan disposisikan", "Verify and disposition"),
        ("Instansi tujuan", "Agency"),
        (
            "Laporan diteruskan ke instansi ini; batas waktu penyelesaian mulai berjalan.",
            "The report goes to this agency; its resolution deadline starts.",
        ),
        ("Disposisikan", "Disposition"),
    ),
    "forward": (
        ("Teruskan ke unit kerja", "Forward to a unit"),
        ("Unit kerja", "Unit"),
        (
            "Petugas unit ini akan melihat dan menindaklanjuti laporan.",
            "This unit's officers will see the report and act on it.",
        ),
        ("Teruskan", "Forward"),
    ),
    "follow-up": (
        ("Tindak lanjut", "Follow up"),
        ("Tanggapan untuk pelapor", "Response to the reporter"),
        (
            "Pelapor membaca tanggapan ini; bila laporan tidak rahasia, publik juga.",
            "The reporter reads this; the public too unless the report is confidential.",
        ),
        ("Kirim tindak lanjut", "Send the follow-up"),
    ),
    "resolve": (
        ("Nyatakan selesai", "Declare resolved"),
        ("Penjelasan penyelesaian", "How it was resolved"),
        (
            "Pelapor diminta mengonfirmasi; tanpa jawaban laporan ditutup otomatis.",
            "The reporter is asked to confirm; without an answer it closes by itself.",
        ),
        ("Nyatakan selesai", "Declare resolved"),
    ),
    "not-our-authority": (
        ("Bukan wewenang", "Not our authority"),
        ("Alasan", "Reason"),
        (
            "Laporan kembali untuk dirutekan ulang dan tidak akan dikirim lagi ke instansi "
            "ini. Pelapor dapat membaca alasannya.",
            "The report goes back to be routed again, never to this agency. The reporter "
            "can read the reason.",
        ),
        ("Kembalikan untuk dirutekan ulang", "Send back for routing"),
    ),
    "hold": (
        ("Tunda: minta keterangan pelapor", "Hold: ask the reporter for more"),
        ("Keterangan yang diperlukan", "What is needed"),
        (
            "Batas waktu berhenti sampai pelapor menjawab. Pelapor membaca pertanyaan ini.",
            "The deadline pauses until the reporter answers. The reporter reads this.",
        ),
        ("Tunda", "Put on hold"),
    ),
    "archive": (
        ("Arsipkan", "Archive"),
        ("Alasan pengarsipan", "Why it is archived"),
        (
            "Untuk laporan ganda, tidak jelas atau di luar layanan. Tidak dapat dibatalkan; "
            "pelapor dapat membaca alasannya.",
            "For duplicates, unclear or out-of-service reports. It cannot be undone; the "
            "reporter can read the reason.",
        ),
        ("Arsipkan", "Archive"),
    ),
    "mark-supervisory": (
        ("Tandai berkadar pengawasan", "Mark as needing supervisory investigation"),
        ("Alasan", "Reason"),
        (
            "Pengaduan yang perlu pemeriksaan: batas waktu menjadi 60 hari kerja. Pelapor "
            "dapat membaca alasannya.",
            "A complaint that needs an investigation: the deadline becomes 60 working days. "
            "The reporter can read the reason.",
        ),
        ("Tandai", "Mark"),
    ),
}
_FIELD_OF: Mapping[str, str] = {
    op: next(iter(operation.body.model_fields)) for op, operation in OPERATIONS.items()
}
# The actions whose form may carry files: a follow-up's or a resolution's photo.
FILE_OPS = frozenset(op for op, o in OPERATIONS.items() if o.action in ATTACHING_ACTIONS)


def _field_id(op: str) -> str:
    """The id of an action form's one field (the error summary links to it)."""
    return f"{op}-{_FIELD_OF[op].replace('_', '-')}"


def _files_id(op: str) -> str:
    """The id of an action form's file input."""
    return f"{op}-{FILE_FIELD}"


def route_choices(caller: Caller, reference: Reference) -> list[Choice]:
    """The agencies the caller may route to (agency_app's verify: may_route_to), by name."""
    ids = [a.id for a in reference.agencies if agency.may_route_to(caller, reference, a.id)]
    return sorted((Choice(i, reference.agency(i).name) for i in ids), key=lambda c: c.label.lower())


def _unit_choices(reference: Reference, agency_id: str | None) -> list[Choice]:
    if not agency_id or not reference.has_agency(agency_id):
        return []
    units = [
        reference.agency(i)
        for i in reference.descendants(agency_id)
        if reference.agency(i).kind is AgencyKind.UNIT
    ]
    return sorted((Choice(u.id, u.name) for u in units), key=lambda c: c.label.lower())


def allowed_operations(shown: Mapping[str, Any], caller: Caller, reference: Reference) -> list[str]:
    """The operations this caller may take on the report as shown, in OPERATIONS' order:
    the lifecycle's transitions from its state, the roles it permits, the API's
    admins-only operations and take_action's own checks (who archives a routed report,
    what a disposition and a forward may target)."""
    state = State(shown["state"])
    allowed = []
    for op, operation in OPERATIONS.items():
        action = operation.action
        if (state, action) not in TRANSITIONS or caller.role not in PERMITTED_ROLES[action]:
            continue
        if operation.admins_only and not caller.is_admin:
            continue
        if action is Action.ARCHIVE and state is State.DISPOSITIONED:
            receiving = caller.role is Role.AGENCY_ADMIN and caller.agency_id == shown["agency_id"]
            if not receiving:
                continue
        if action is Action.MARK_SUPERVISORY and shown["type"] != ReportType.COMPLAINT.value:
            continue
        if action is Action.DISPOSITION and not route_choices(caller, reference):
            continue
        if action is Action.FORWARD and not _unit_choices(reference, shown.get("agency_id")):
            continue
        allowed.append(op)
    return allowed


def _action_forms(
    call: ConsoleCall,
    staff: Staff,
    shown: Mapping[str, Any],
    values: Mapping[str, str],
    failed: tuple[str, str] | None,
    refused_files: tuple[str, tuple[str, ...]] | None = None,
) -> list[ActionForm]:
    """The report's action forms; ``values``: what to put in each (op -> text),
    ``failed``: (op, error) of a refused one, ``refused_files``: (op, each refused
    file's reason)."""
    lang = call.lang
    reference = call.ports.agency.reference
    forms = []
    for op in allowed_operations(shown, staff.caller, reference):
        heading, label, hint, button = (tr(lang, *pair) for pair in _ACTION_TEXTS[op])
        choices: list[Choice] = []
        if op == "verify":
            choices = route_choices(staff.caller, reference)
        elif op == "forward":
            choices = _unit_choices(reference, shown.get("agency_id"))
        forms.append(
            ActionForm(
                op=op,
                heading=heading,
                name=_FIELD_OF[op],
                field_label=label,
                hint=hint,
                button=button,
                choices=choices,
                value=values.get(op, ""),
                error=failed[1] if failed and failed[0] == op else "",
                danger=op == "archive",
                takes_files=op in FILE_OPS,
                file_errors=refused_files[1] if refused_files and refused_files[0] == op else (),
            )
        )
    return forms


# The bundled tiers (shared/reference/escalation.toml) by name; a deployment's own
# tiers show their id.
_TIER_LABELS: Mapping[str, tuple[str, str]] = {
    "reminder": ("Pengingat sebelum batas waktu", "Reminder before the deadline"),
    "overdue": ("Terlambat: admin instansi diberi tahu", "Overdue: the agency admin told"),
    "national": ("Terlambat: admin nasional diberi tahu", "Overdue: the national admin told"),
    "ombudsman": ("Diteruskan ke Ombudsman", "Raised to the Ombudsman"),
    "verify-overdue": (
        "Verifikasi terlambat: admin wilayah diberi tahu",
        "Verification overdue: the regional admin told",
    ),
    "verify-national": (
        "Verifikasi terlambat: admin nasional diberi tahu",
        "Verification overdue: the national admin told",
    ),
}


def _tier_label(tier_id: str, lang: Lang) -> str:
    pair = _TIER_LABELS.get(tier_id)
    return tr(lang, *pair) if pair else tier_id


def _report_page(
    call: ConsoleCall,
    staff: Staff,
    report_id: str,
    *,
    status: int = 200,
    values: Mapping[str, str] | None = None,
    failed: tuple[str, str] | None = None,
    refused_files: tuple[str, tuple[str, ...]] | None = None,
) -> Response:
    lang = call.lang
    ports = call.ports.agency
    reference = ports.reference
    try:
        shown = agency.detail(report_id[:64], staff.caller, ports, with_identity=False)
    except ReportNotFound:
        return page_error(call, 404)
    casework = _casework_context(call, staff, shown)
    prefill = {**casework["prefill"], **(values or {})}
    forms = _action_forms(call, staff, shown, prefill, failed, refused_files)
    timeline = [
        {**event, "label": event_label(event, lang, lambda a: _agency_name(reference, a))}
        for event in shown["timeline"]
    ]
    files = evidence_pages.report_files(call, shown, {e["seq"]: e["label"] for e in timeline})
    errors: list[tuple[str, str]] = []
    if failed:
        # Linked to its field while that form is still offered (after a change it may not be).
        offered = {form.op for form in forms}
        errors.append((_field_id(failed[0]) if failed[0] in offered else "", failed[1]))
    if refused_files:
        op, reasons = refused_files
        offered = {form.op for form in forms}
        errors.extend((_files_id(op) if op in offered else "", reason) for reason in reasons)
    return render_page(
        call,
        "console/report.html",
        staff,
        status=status,
        report=shown,
        report_path=f"/laporan/{quote(shown['id'])}",
        timeline=list(reversed(timeline)),  # newest first: what happened last is on top
        forms=forms,
        errors=errors,
        escalations=[_tier_label(tier, lang) for tier in shown.get("escalations", [])],
        casework=casework,
        files=files,
        files_by_event=evidence_pages.files_by_event(files),
        file_limits=evidence_pages.limits_hint(call),
        file_types=evidence_pages.ACCEPTED_FILES,
        place=evidence_pages.report_place(call, shown),
        **_formatters(call),
    )


def _casework_context(call: ConsoleCall, staff: Staff, shown: Mapping[str, Any]) -> dict[str, Any]:
    """The casework partial's context for the report (notes, assignment, templates)."""
    # Imported here: the casework pages import this module (they re-render its report page).
    from shared.web.console import casework_pages

    return casework_pages.report_context(call, staff, shown)


def report_page(call: ConsoleCall, report_id: str) -> Response:
    staff = signed_in(call)
    return _report_page(call, staff, report_id)


def _refusal(call: ConsoleCall, exc: LifecycleError) -> tuple[int, str]:
    """The status and the message of a refused action (nothing was changed)."""
    lang = call.lang
    if isinstance(exc, ReportChanged):
        return 409, tr(
            lang,
            "Laporan ini sudah berubah sejak halaman ini dibuka, jadi tidak ada yang diubah. "
            "Baca riwayat terbaru di bawah, lalu ulangi bila masih perlu.",
            "This report changed since this page was opened, so nothing was changed. "
            "Read the latest timeline below, then try again if it is still needed.",
        )
    if isinstance(exc, IllegalTransition):
        state = state_label(exc.state.value, lang)
        return 409, tr(
            lang,
            f"Tindakan ini tidak dapat dilakukan pada laporan berstatus \u201c{state}\u201d. "
            "Tidak ada yang diubah.",
            f"This action cannot be taken on a report that is \u201c{state}\u201d. "
            "Nothing was changed.",
        )
    if isinstance(exc, NotTheReceivingAgency):
        return 403, tr(
            lang,
            "Hanya admin instansi tujuan disposisi yang dapat mengarsipkan laporan ini "
            "sebelum ada tindak lanjut. Tidak ada yang diubah.",
            "Only the admin of the agency the report was dispositioned to may archive it "
            "before any follow-up. Nothing was changed.",
        )
    if isinstance(exc, NotPermitted):
        return 403, tr(
            lang,
            "Peran Anda tidak diizinkan melakukan tindakan ini. Tidak ada yang diubah.",
            "Your role may not take this action. Nothing was changed.",
        )
    if isinstance(exc, InvalidCommand):
        return 422, tr(
            lang,
            f"Isian tidak dapat diterima ({exc}). Tidak ada yang diubah.",
            f"This cannot be accepted ({exc}). Nothing was changed.",
        )
    return 409, tr(lang, "Tindakan ditolak. Tidak ada yang diubah.", "Refused. Nothing changed.")


def _invalid_field(call: ConsoleCall, op: str, errors: ValidationError) -> str:
    lang = call.lang
    kinds = {str(e.get("type", "")) for e in errors.errors()}
    if _FIELD_OF[op] in ("agency_id", "unit_id"):
        return tr(lang, "Pilih salah satu dari daftar.", "Choose one from the list.")
    if "string_too_long" in kinds:
        most = format_number(TEXT_MAX, lang)
        return tr(lang, f"Paling banyak {most} karakter.", f"At most {most} characters.")
    return tr(lang, "Isi kolom ini.", "Fill in this field.")


@dataclass(frozen=True)
class _Posted:
    command: AgencyCommand
    seq: int  # the report's version the form was made from


def _posted_action(
    call: ConsoleCall, op: str, form: Mapping[str, str]
) -> _Posted | tuple[int, str]:
    """The command a form asks for, or (status, why) it is refused before any read."""
    lang = call.lang
    seq = _parse_seq(form.get("seq"))
    if seq is None:
        return 409, tr(
            lang,
            "Formulir ini tidak lengkap. Muat ulang halaman laporan lalu coba lagi.",
            "This form is incomplete. Reload the report page and try again.",
        )
    operation = OPERATIONS[op]
    name = _FIELD_OF[op]
    try:
        body = operation.body.model_validate({name: form.get(name, "")})
    except ValidationError as invalid:
        return 422, _invalid_field(call, op, invalid)
    fields = body.model_dump()
    command = AgencyCommand(
        action=operation.action,
        reason=fields.get("reason"),
        message=fields.get("message"),
        agency_id=fields.get("agency_id"),
        unit_id=fields.get("unit_id"),
    )
    return _Posted(command, seq)


def act(call: ConsoleCall, report_id: str, op: str) -> Response:
    staff = signed_in(call)
    settings = call.ports.settings
    form, uploads = posted_form_with_files(
        call,
        staff,
        max_file_bytes=settings.attachment_max_total_bytes,
        # More than the count limit: one file too many is refused by name, below.
        max_files=2 * settings.attachment_max_count,
    )
    report_id = report_id[:64]
    typed = form.get(_FIELD_OF[op], "")[:TEXT_MAX]
    nonce = form.get("nonce", "")
    posted = _posted_action(call, op, form)
    if not isinstance(posted, _Posted):
        status, why = posted
        return _report_page(
            call, staff, report_id, status=status, values={op: typed}, failed=(op, why)
        )
    if uploads and op not in FILE_OPS:
        why = tr(
            call.lang,
            "Berkas hanya dapat dilampirkan pada tindak lanjut atau penyelesaian. "
            "Tidak ada yang diubah.",
            "Files can only be attached to a follow-up or a resolution. Nothing was changed.",
        )
        return _report_page(
            call, staff, report_id, status=422, values={op: typed}, failed=(op, why)
        )
    try:
        # Checked before anything is read or stored: a refusal names every file.
        files = evidence.safe_files(uploads, settings, call.ports.agency.scanner)
    except evidence.FilesRefused as refusal:
        reasons = tuple(refusal.messages(call.lang))
        return _report_page(
            call, staff, report_id, status=422, values={op: typed}, refused_files=(op, reasons)
        )
    try:
        acted = agency.take_action(
            report_id,
            staff.caller,
            posted.command,
            call.ports.agency,
            expected_seq=posted.seq,
            files=files,
            idempotency_key=nonce if IDEMPOTENCY_KEY.fullmatch(nonce) else None,
        )
    except ReportNotFound:
        return page_error(call, 404)
    except LifecycleError as exc:
        status, why = _refusal(call, exc)
        return _report_page(
            call, staff, report_id, status=status, values={op: typed}, failed=(op, why)
        )
    heading = tr(call.lang, *_ACTION_TEXTS[op][0])
    if files:
        count = format_number(len(files), call.lang)
        heading += tr(
            call.lang, f" ({count} berkas)", f" ({count} file{'s' if len(files) > 1 else ''})"
        )
    ok = tr(call.lang, f"Tercatat: {heading}.", f"Done: {heading}.")
    return done(call, f"/laporan/{quote(acted.report.id)}", ok=ok)


# --- the admin queue ------------------------------------------------------------------


def _queue_page(call: ConsoleCall, staff: Staff, *, status: int = 200, error: str = "") -> Response:
    lang = call.lang
    after = _cursor(call, staff)
    ports = call.ports.agency
    rows, next_after = agency.inbox(
        staff.caller, ports, admin_queue=True, limit=PAGE_SIZE, after=after
    )
    reference = ports.reference
    choices = route_choices(staff.caller, reference)
    routable = {choice.value for choice in choices}
    items = []
    for row in rows:
        queue = row.get("admin_queue") or {}
        suggested = queue.get("suggested_agency_id")
        confidence = queue.get("confidence")
        items.append(
            {
                "row": row,
                "reason": queue.get("reason"),
                "suggested": suggested if suggested in routable else None,
                "suggested_name": _agency_name(reference, suggested),
                "suggested_short": (
                    reference.agency(suggested).short_name
                    if suggested and reference.has_agency(suggested)
                    else ""
                ),
                "confidence": format_share(confidence, lang) if confidence is not None else "",
            }
        )
    next_url = url(call, "/antrean", setelah=encode_cursor(next_after)) if next_after else None
    scope = agency.scope_of(staff.caller, reference)
    return render_page(
        call,
        "console/queue.html",
        staff,
        status=status,
        has_queue=scope.everything or scope.queue_region is not None,
        items=items,
        choices=choices,
        next_url=next_url,
        first_url=url(call, "/antrean") if after else None,
        errors=[("", error)] if error else [],
        **_formatters(call),
    )


def queue_page(call: ConsoleCall) -> Response:
    staff = signed_in(call, admin=True)
    return _queue_page(call, staff)


def route_from_queue(call: ConsoleCall, report_id: str) -> Response:
    staff = signed_in(call, admin=True)
    form = posted_form(call, staff)
    report_id = report_id[:64]
    posted = _posted_action(call, "verify", form)
    if not isinstance(posted, _Posted):
        status, why = posted
        return _queue_page(call, staff, status=status, error=why)
    try:
        acted = agency.take_action(
            report_id, staff.caller, posted.command, call.ports.agency, expected_seq=posted.seq
        )
    except ReportNotFound:
        return page_error(call, 404)
    except LifecycleError as exc:
        status, why = _refusal(call, exc)
        return _queue_page(call, staff, status=status, error=why)
    name = _agency_name(call.ports.agency.reference, acted.report.agency_id)
    code = acted.report.tracking_code
    ok = tr(call.lang, f"{code} didisposisikan ke {name}.", f"{code} dispositioned to {name}.")
    return done(call, "/antrean", ok=ok)


# --- the figures ------------------------------------------------------------------------


def _asked_day(call: ConsoleCall, staff: Staff) -> dt.date | None:
    text = call.request.args.get("tanggal")
    if text is None:
        return None
    try:
        if not _DAY.match(text):
            raise ValueError
        return dt.date.fromisoformat(text)
    except ValueError:
        detail = tr(call.lang, "Tanggal itu tidak sah.", "That date is not valid.")
        raise _bad_request(call, staff, detail) from None


def _counted_agency(call: ConsoleCall, agency_id: str) -> str:
    """Where an agency's reports are counted: the figures count a forwarded report for
    the agency that holds it, never its unit, so a unit's are its agency's."""
    reference = call.ports.agency.reference
    while reference.has_agency(agency_id):
        agency = reference.agency(agency_id)
        if agency.kind is not AgencyKind.UNIT or not agency.parent:
            break
        agency_id = agency.parent
    return agency_id


def _figures_of(call: ConsoleCall, staff: Staff) -> tuple[str, public_figures.ScopeOfDay | None]:
    """The staff member's scope (their agency; the national admin: the nation) and its
    figures of the asked day (the latest when none is asked)."""
    scope_id = NATIONAL if staff.is_national else _counted_agency(call, staff.agency_id)
    day = _asked_day(call, staff)
    return scope_id, public_figures.scope(call.ports.agency.figures, scope_id, day)


def figures_page(call: ConsoleCall) -> Response:
    staff = signed_in(call)
    lang = call.lang
    scope_id, found = _figures_of(call, staff)
    figures = found.figures if found else None
    tiers = [tier.id for tier in call.ports.settings.escalation_tiers]
    reference = call.ports.agency.reference
    own: list[Line] = figure_lines(figures.own, tiers, lang) if figures else []
    # An agency with units (or dinas) below it answers for them too: its headline
    # figures are the whole subtree's, its own row comes after.
    below = scope_id != NATIONAL and len(reference.descendants(scope_id)) > 1
    wider = figures.subtree if figures and below else None
    subtree: list[Line] = figure_lines(wider, tiers, lang) if wider else []
    name = (
        tr(lang, "Seluruh Indonesia", "All of Indonesia")
        if scope_id == NATIONAL
        else _agency_name(reference, scope_id)
    )
    day_text = found.day.isoformat() if found else ""
    trend = figures.trend if figures else []
    first, last = (trend[0].day, trend[-1].day) if trend else (None, None)
    return render_page(
        call,
        "console/figures.html",
        staff,
        # A day asked for and not published is "not found"; no figures yet is not.
        status=404 if "tanggal" in call.request.args and figures is None else 200,
        scope_name=name,
        of_unit=not staff.is_national and scope_id != staff.agency_id,
        day=found.day if found else None,
        figures=figures,
        headline=wider or (figures.own if figures else None),
        own_lines=own,
        subtree_lines=subtree,
        chart_url=url(call, "/angka/tren.svg", tanggal=day_text) if trend else "",
        chart_alt=(
            tr(
                lang,
                f"Grafik garis laporan diterima dan ditutup per hari, {format_date(first, lang)}"
                f" sampai {format_date(last, lang)}; angkanya ada di tabel di bawah.",
                f"Line chart of reports received and closed per day, {format_date(first, lang)}"
                f" to {format_date(last, lang)}; the numbers are in the table below.",
            )
            if trend
            else ""
        ),
        trend=trend,
        definitions_url=call.ports.settings.public_base_url.rstrip("/") + "/statistik/definisi",
        **_formatters(call),
    )


def trend_chart(call: ConsoleCall) -> Response:
    staff = signed_in(call)
    lang = call.lang
    _, found = _figures_of(call, staff)
    if found is None or found.figures is None or not found.figures.trend:
        return page_error(call, 404)
    trend = found.figures.trend
    chart = charts.line_chart(
        tr(lang, "Laporan per hari", "Reports per day"),
        [format_short_date(point.day, lang) for point in trend],
        [
            (tr(lang, "Diterima", "Received"), [point.received for point in trend]),
            (tr(lang, "Ditutup", "Closed"), [point.closed for point in trend]),
        ],
        label_every=_CHART_DAYS_LABELLED,
        number=lambda value: format_number(value, lang),
    )
    response = Response(chart.svg, mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = chart.csp
    response.headers["Content-Language"] = lang
    response.headers["Vary"] = "Accept-Language, Cookie"
    response.headers["Cache-Control"] = "private, no-store"
    return response


# An operation outside the map is a 404 before the session or the form is looked at.
_OPERATION = "<any({}):op>".format(", ".join(f'"{name}"' for name in OPERATIONS))

RULES: Sequence[Rule] = [
    Rule("/kotak-masuk", methods=["GET"], endpoint="work.inbox"),
    Rule("/laporan/<doc_id:report_id>", methods=["GET"], endpoint="work.report"),
    Rule(
        f"/laporan/<doc_id:report_id>/tindakan/{_OPERATION}", methods=["POST"], endpoint="work.act"
    ),
    Rule("/antrean", methods=["GET"], endpoint="work.queue"),
    Rule("/antrean/<doc_id:report_id>/rute", methods=["POST"], endpoint="work.route"),
    Rule("/angka", methods=["GET"], endpoint="work.figures"),
    Rule("/angka/tren.svg", methods=["GET"], endpoint="work.trend_chart"),
]
HANDLERS: Mapping[str, Callable[..., Response]] = {
    "work.inbox": inbox_page,
    "work.report": report_page,
    "work.act": act,
    "work.queue": queue_page,
    "work.route": route_from_queue,
    "work.figures": figures_page,
    "work.trend_chart": trend_chart,
}
