"""Running the agency: its staff, where it is told, its webhook secret, its API keys.

Admins only (an officer gets the 403 page). An agency admin runs its own agency and
the units below it, the national admin every agency; a page about one agency takes it
as ``?instansi=<id>`` (a form: the hidden ``agency_id``) and defaults to the admin's
own. An agency outside the admin's reach answers the console's 404, like an unknown
one.

- ``/staf``: the staff of the agency and its units; POST invites one (an e-mail with
  a single-use link; an agency the admin does not run is the agency field's error,
  exactly as an unknown one). ``/staf/<id>/nonaktifkan``, ``/aktifkan`` and
  ``/atur-ulang-kode`` (POST) deactivate, reactivate and reset the second factor,
  offered only where shared.usecases.staff allows it (never on oneself);
  ``/staf/<id>/kirim-ulang-undangan`` (POST) e-mails a new invitation link to one who
  has not set a password yet.
- ``/pengaturan``: the webhook URL, the e-mail addresses (one per line, up to
  MAX_AGENCY_EMAILS; a wrong line is named beside the field) and the hourly digest
  (POST saves);
  ``/pengaturan/uji-webhook`` (POST) sends a signed ping now and shows the answer;
  ``/pengaturan/rotasi-rahasia`` (POST) makes a new signing secret and shows it on
  that answer only.
- ``/kunci-api``: the keys (never a key itself); POST issues one and shows it on that
  answer only; ``/kunci-api/<key id>/cabut`` (POST) revokes one.

The rules are shared.usecases.staff's and shared.usecases.agency_admin's; every change
lands in the change log with who and when.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from flask import Response
from werkzeug.routing import Rule

from shared.domain.staff import StaffAccount
from shared.ports import AgencyAdminPorts, AgencyChannel, SendOutcome
from shared.reference import MAX_AGENCY_EMAILS, Reference
from shared.usecases import agency_admin
from shared.usecases import staff as staff_usecases
from shared.usecases.agency_admin import WebhookTest
from shared.web.console.auth_pages import role_label
from shared.web.console.common import (
    ConsoleCall,
    Staff,
    done,
    local_now,
    page_error,
    posted_form,
    refused,
    render_page,
    signed_in,
    tr,
)
from shared.web.i18n import Lang

# Problem codes of shared.usecases.agency_admin -> (Bahasa Indonesia, English).
MESSAGES: Mapping[str, tuple[str, str]] = {
    "webhook-not-https": (
        "Alamat webhook harus diawali https://.",
        "The webhook address must start with https://.",
    ),
    "webhook-invalid": (
        "Masukkan alamat webhook yang benar: https://…, tanpa nama pengguna, sandi, atau "
        "bagian ?query.",
        "Enter a valid webhook address: https://…, with no user name, password or ?query.",
    ),
    "webhook-not-public": (
        "Alamat webhook harus dapat dicapai dari internet, bukan alamat internal atau privat.",
        "The webhook address must be reachable from the internet, not an internal or "
        "private address.",
    ),
    "webhook-too-long": (
        "Alamat webhook paling banyak 500 karakter.",
        "A webhook address has at most 500 characters.",
    ),
    "emails-invalid": (
        "Periksa alamat e-mail pada baris yang disebut.",
        "Check the e-mail addresses on the lines named.",
    ),
    "emails-too-many": (
        f"Paling banyak {MAX_AGENCY_EMAILS} alamat e-mail.",
        f"At most {MAX_AGENCY_EMAILS} e-mail addresses.",
    ),
    "digest-needs-email": (
        "Ringkasan per jam dikirim lewat e-mail: isi alamat e-mail.",
        "The hourly digest goes by e-mail: enter an e-mail address.",
    ),
    "no-webhook": (
        "Belum ada alamat webhook untuk diuji. Simpan alamatnya dulu.",
        "There is no webhook address to test yet. Save one first.",
    ),
    "no-secret": (
        "Belum ada rahasia penandatangan. Buat rahasia dulu.",
        "There is no signing secret yet. Make one first.",
    ),
    "role-invalid": ("Pilih peran.", "Choose a role."),
    "label-invalid": (
        f"Isi nama kunci (paling banyak {agency_admin.LABEL_MAX} karakter).",
        f"Enter a name for the key (at most {agency_admin.LABEL_MAX} characters).",
    ),
}
NOT_ALLOWED = ("Anda tidak berwenang melakukan ini.", "You are not allowed to do this.")


def _say(lang: Lang, pair: tuple[str, str]) -> str:
    return tr(lang, *pair)


def _problems(lang: Lang, problems: Mapping[str, str]) -> dict[str, str]:
    return {field: _say(lang, MESSAGES[code]) for field, code in problems.items()}


# What is wrong with one line of the e-mail addresses (agency_admin.LineProblem codes).
LINE_MESSAGES: Mapping[str, tuple[str, str]] = {
    "email-invalid": (
        "Baris {line}: bukan alamat e-mail yang benar.",
        "Line {line}: not a valid e-mail address.",
    ),
    "email-duplicate": (
        "Baris {line}: alamat ini sudah ada di baris {same_as}.",
        "Line {line}: this address is already on line {same_as}.",
    ),
}


def _channel_problems(lang: Lang, refusal: agency_admin.Invalid) -> dict[str, str]:
    """Each field's message; the addresses' names every wrong line, beside the field."""
    fields = _problems(lang, refusal.problems)
    if refusal.lines:
        fields["emails"] = " ".join(
            _say(lang, LINE_MESSAGES[wrong.code]).format(line=wrong.line, same_as=wrong.same_as)
            for wrong in refusal.lines
        )
    return fields


def admin_ports(call: ConsoleCall) -> AgencyAdminPorts:
    ports = call.ports
    return AgencyAdminPorts(
        store=ports.agency_admin,
        audit=ports.audit,
        sender=ports.webhooks,
        clock=ports.clock,
        settings=ports.settings,
        reference=ports.agency.reference,
    )


def _when(call: ConsoleCall, moment: dt.datetime | None) -> str:
    """``2026-12-07 10.32 WIB``: a moment in the deployment's time zone."""
    if moment is None:
        return ""
    local = moment.astimezone(local_now(call).tzinfo)
    zone = {"Asia/Jakarta": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}.get(
        call.ports.settings.timezone, local.strftime("%Z")
    )
    clock = f"{local:%H.%M}" if call.lang == "id" else f"{local:%H:%M}"
    return f"{local:%Y-%m-%d} {clock} {zone}"


# --- which agency ---------------------------------------------------------------------


def _agency_options(staff: Staff, reference: Reference) -> list[tuple[str, str]]:
    """(id, name) of the agencies the admin runs, its own first, then by name."""
    managed = agency_admin.managed_agencies(staff.caller, reference)
    others = sorted((reference.agency(a).name, a) for a in managed if a != staff.agency_id)
    own = (
        [(staff.agency_id, reference.agency(staff.agency_id).name)]
        if (staff.agency_id in managed)
        else []
    )
    return own + [(agency_id, name) for name, agency_id in others]


def _chosen(call: ConsoleCall, staff: Staff, wanted: str | None) -> str:
    """The agency a page is about: ``wanted`` (None: the admin's own), 404 when outside
    the admin's reach."""
    agency_id = wanted or staff.agency_id
    if agency_id not in agency_admin.managed_agencies(staff.caller, call.ports.agency.reference):
        raise _NotFoundPage
    return agency_id


class _NotFoundPage(Exception):
    pass


def _guarded(
    handler: Callable[..., Response],
) -> Callable[..., Response]:
    """Answer the use cases' "not found" with the console's 404 page."""

    def guarded(call: ConsoleCall, **args: str) -> Response:
        try:
            return handler(call, **args)
        except (_NotFoundPage, agency_admin.NotFound, staff_usecases.AccountNotFound):
            return page_error(call, 404)

    guarded.__name__ = handler.__name__
    guarded.__doc__ = handler.__doc__
    return guarded


# --- staff ----------------------------------------------------------------------------


def _account_row(
    call: ConsoleCall, staff: Staff, account: StaffAccount, reference: Reference
) -> dict[str, Any]:
    lang = call.lang
    if not account.active:
        status = tr(lang, "Nonaktif", "Deactivated")
    elif account.password_hash is None:
        status = tr(lang, "Undangan belum diterima", "Invitation not yet accepted")
    else:
        status = tr(lang, "Aktif", "Active")
    manageable = account.account_id != staff.account_id and staff_usecases.may_manage(
        staff, account, reference
    )
    return {
        "id": account.account_id,
        "name": account.name,
        "email": account.email,
        "role": role_label(lang, account.role),
        "agency": reference.agency(account.agency_id).name
        if reference.has_agency(account.agency_id)
        else account.agency_id,
        "status": status,
        "active": account.active,
        "second_factor": account.has_second_factor,
        "manageable": manageable,
        "waiting": account.active and account.password_hash is None,
    }


def _staff_page(
    call: ConsoleCall,
    staff: Staff,
    agency_id: str,
    *,
    status: int = 200,
    form: Mapping[str, str] | None = None,
    invalid: Mapping[str, str] | None = None,
    error: str = "",
) -> Response:
    reference = call.ports.agency.reference
    accounts = staff_usecases.agency_staff(staff, agency_id, call.ports)
    invalid = dict(invalid or {})
    errors = list(invalid.items()) + ([("", error)] if error else [])
    return render_page(
        call,
        "console/staff.html",
        staff,
        status=status,
        agency_id=agency_id,
        shown_agency_name=reference.agency(agency_id).name,
        agencies=_agency_options(staff, reference),
        rows=[_account_row(call, staff, a, reference) for a in accounts],
        roles=[
            (r.value, role_label(call.lang, r)) for r in agency_admin.assignable_roles(staff.caller)
        ],
        form=dict(form or {}),
        invalid=invalid,
        errors=errors,
    )


@_guarded
def staff_page(call: ConsoleCall) -> Response:
    staff = signed_in(call, admin=True)
    if call.request.method == "GET":
        return _staff_page(call, staff, _chosen(call, staff, call.request.args.get("instansi")))
    form = posted_form(call, staff)
    shown = _chosen(call, staff, form.get("shown_agency_id") or None)
    wanted = {name: form.get(name, "") for name in ("email", "name", "role", "agency_id")}
    lang = call.lang
    try:
        account = staff_usecases.invite(
            staff,
            wanted["email"],
            wanted["name"],
            wanted["role"],
            wanted["agency_id"] or shown,
            call.ports,
        )
    except staff_usecases.InvalidInput as bad:
        fields = {field: staff_usecases.message(code, lang) for field, code in bad.problems.items()}
        return _staff_page(call, staff, shown, status=422, form=wanted, invalid=fields)
    except staff_usecases.AddressTaken as taken:
        fields = {"email": taken.message(lang)}
        return _staff_page(call, staff, shown, status=409, form=wanted, invalid=fields)
    except staff_usecases.NotAllowed:
        return refused(call, staff, 403, _say(lang, NOT_ALLOWED))
    sent = tr(lang, "Undangan dikirim ke ", "Invitation sent to ") + account.email
    return done(call, "/staf", instansi=shown, ok=sent)


def _manage(
    change: Callable[..., StaffAccount], id_done: str, en_done: str
) -> Callable[..., Response]:
    def handler(call: ConsoleCall, account_id: str) -> Response:
        staff = signed_in(call, admin=True)
        form = posted_form(call, staff)
        shown = _chosen(call, staff, form.get("shown_agency_id") or None)
        try:
            account = change(staff, account_id, call.ports)
        except staff_usecases.NotAllowed:
            return refused(call, staff, 403, _say(call.lang, NOT_ALLOWED))
        message = tr(call.lang, id_done, en_done).format(name=account.name)
        return done(call, "/staf", instansi=shown, ok=message)

    return _guarded(handler)


staff_deactivate = _manage(
    staff_usecases.deactivate,
    "{name} dinonaktifkan; semua sesinya berakhir.",
    "{name} deactivated; all their sessions ended.",
)
staff_reactivate = _manage(
    staff_usecases.reactivate, "{name} diaktifkan kembali.", "{name} reactivated."
)
staff_reset_code = _manage(
    staff_usecases.reset_second_factor,
    "Kode verifikasi kedua {name} diatur ulang; ia mendaftarkannya lagi saat masuk.",
    "{name}'s second factor was reset; they enrol it again when signing in.",
)


@_guarded
def staff_resend(call: ConsoleCall, account_id: str) -> Response:
    """A new invitation link by e-mail (the first was lost or expired); the old one
    still works until it expires."""
    staff = signed_in(call, admin=True)
    form = posted_form(call, staff)
    shown = _chosen(call, staff, form.get("shown_agency_id") or None)
    try:
        account = staff_usecases.resend_invitation(staff, account_id, call.ports)
    except staff_usecases.NotWaiting as late:
        # Accepted or deactivated since the page was shown: say so on the page.
        return _staff_page(call, staff, shown, status=late.status, error=late.message(call.lang))
    except staff_usecases.NotAllowed:
        return refused(call, staff, 403, _say(call.lang, NOT_ALLOWED))
    sent = tr(call.lang, "Undangan dikirim ulang ke ", "Invitation sent again to ")
    return done(call, "/staf", instansi=shown, ok=sent + account.email)


# --- settings: channels, test delivery, secret rotation ------------------------------


def _settings_page(
    call: ConsoleCall,
    staff: Staff,
    agency_id: str,
    *,
    status: int = 200,
    form: Mapping[str, str] | None = None,
    invalid: Mapping[str, str] | None = None,
    test: WebhookTest | None = None,
    new_secret: str = "",
    previous_until: dt.datetime | None = None,
) -> Response:
    ports = admin_ports(call)
    channel: AgencyChannel = agency_admin.channels(staff.caller, agency_id, ports)
    now = ports.clock.now()
    shown = (
        dict(form)
        if form is not None
        else {
            "webhook_url": channel.webhook_url or "",
            "emails": "\n".join(channel.emails),
            "digest": "hourly" if channel.digest else "",
        }
    )
    rolling = (
        channel.previous_secret is not None
        and channel.previous_until is not None
        and (now < channel.previous_until)
    )
    invalid = dict(invalid or {})
    return render_page(
        call,
        "console/settings.html",
        staff,
        status=status,
        agency_id=agency_id,
        shown_agency_name=ports.reference.agency(agency_id).name,
        agencies=_agency_options(staff, ports.reference),
        channel=channel,
        form=shown,
        invalid=invalid,
        errors=[(field if field != "secret" else "", text) for field, text in invalid.items()],
        has_secret=bool(channel.secret),
        rolling_until=_when(call, channel.previous_until) if rolling else "",
        loopback_http=ports.settings.webhook_loopback_http,
        max_emails=MAX_AGENCY_EMAILS,
        overlap_hours=ports.settings.webhook_secret_overlap_hours,
        test=_test_view(call, test) if test is not None else None,
        new_secret=new_secret,
        new_secret_until=_when(call, previous_until),
    )


def _test_view(call: ConsoleCall, test: WebhookTest) -> dict[str, Any]:
    lang = call.lang
    result = test.result
    delivered = result.outcome is SendOutcome.DELIVERED
    answer = (
        f"HTTP {result.status_code}"
        if result.status_code is not None
        else tr(lang, "tanpa jawaban", "no answer")
    )
    return {
        "ok": delivered,
        "heading": tr(lang, "Uji webhook diterima", "Test delivery accepted")
        if delivered
        else tr(lang, "Uji webhook gagal", "Test delivery failed"),
        "answer": answer,
        "error": (result.error or "")[:200] if not delivered else "",
        "at": _when(call, test.at),
        "signatures": test.signatures,
    }


@_guarded
def settings_page(call: ConsoleCall) -> Response:
    staff = signed_in(call, admin=True)
    if call.request.method == "GET":
        return _settings_page(call, staff, _chosen(call, staff, call.request.args.get("instansi")))
    form = posted_form(call, staff)
    agency_id = _chosen(call, staff, form.get("agency_id") or None)
    wanted = {
        "webhook_url": form.get("webhook_url", ""),
        "emails": form.get("emails", ""),
        "digest": "hourly" if form.get("digest") == "hourly" else "",
    }
    try:
        agency_admin.update_channels(
            staff.caller,
            agency_id,
            webhook_url=wanted["webhook_url"],
            emails=wanted["emails"].splitlines(),
            digest=bool(wanted["digest"]),
            ports=admin_ports(call),
        )
    except agency_admin.Invalid as bad:
        fields = _channel_problems(call.lang, bad)
        return _settings_page(call, staff, agency_id, status=422, form=wanted, invalid=fields)
    saved = tr(call.lang, "Pengaturan pemberitahuan disimpan.", "Notification settings saved.")
    return done(call, "/pengaturan", instansi=agency_id, ok=saved)


@_guarded
def webhook_test(call: ConsoleCall) -> Response:
    staff = signed_in(call, admin=True)
    form = posted_form(call, staff)
    agency_id = _chosen(call, staff, form.get("agency_id") or None)
    try:
        test = agency_admin.test_webhook(staff.caller, agency_id, admin_ports(call))
    except agency_admin.Invalid as bad:
        fields = _problems(call.lang, bad.problems)
        return _settings_page(call, staff, agency_id, status=422, invalid=fields)
    return _settings_page(call, staff, agency_id, test=test)


@_guarded
def secret_rotate(call: ConsoleCall) -> Response:
    staff = signed_in(call, admin=True)
    form = posted_form(call, staff)
    agency_id = _chosen(call, staff, form.get("agency_id") or None)
    rotated = agency_admin.rotate_secret(staff.caller, agency_id, admin_ports(call))
    return _settings_page(
        call,
        staff,
        agency_id,
        new_secret=rotated.secret,
        previous_until=rotated.previous_until,
    )


# --- API keys -------------------------------------------------------------------------


def _keys_page(
    call: ConsoleCall,
    staff: Staff,
    agency_id: str,
    *,
    status: int = 200,
    form: Mapping[str, str] | None = None,
    invalid: Mapping[str, str] | None = None,
    issued: agency_admin.IssuedKey | None = None,
) -> Response:
    ports = admin_ports(call)
    reference = ports.reference
    lang = call.lang
    keys = agency_admin.api_keys(staff.caller, agency_id, ports.keys)
    rows = [
        {
            "id": key.key_hash,
            "label": key.label,
            "agency": reference.agency(key.agency_id).name
            if reference.has_agency(key.agency_id)
            else key.agency_id,
            "role": role_label(lang, key.role),
            "created": _when(call, key.created_at),
            "created_by": key.created_by,
            "revoked": key.revoked,
            "revoked_at": _when(call, key.revoked_at),
        }
        for key in keys
    ]
    invalid = dict(invalid or {})
    return render_page(
        call,
        "console/api_keys.html",
        staff,
        status=status,
        agency_id=agency_id,
        shown_agency_name=reference.agency(agency_id).name,
        agencies=_agency_options(staff, reference),
        rows=rows,
        roles=[(r.value, role_label(lang, r)) for r in agency_admin.assignable_roles(staff.caller)],
        form=dict(form or {}),
        invalid=invalid,
        errors=list(invalid.items()),
        issued=issued,
        issued_role=role_label(lang, issued.record.role) if issued else "",
    )


@_guarded
def api_keys_page(call: ConsoleCall) -> Response:
    staff = signed_in(call, admin=True)
    if call.request.method == "GET":
        return _keys_page(call, staff, _chosen(call, staff, call.request.args.get("instansi")))
    form = posted_form(call, staff)
    shown = _chosen(call, staff, form.get("shown_agency_id") or None)
    wanted = {name: form.get(name, "") for name in ("label", "role", "agency_id")}
    target = _chosen(call, staff, wanted["agency_id"] or shown)
    try:
        issued = agency_admin.issue_api_key(
            staff.caller, target, wanted["role"], wanted["label"], admin_ports(call).keys
        )
    except agency_admin.Invalid as bad:
        fields = _problems(call.lang, bad.problems)
        return _keys_page(call, staff, shown, status=422, form=wanted, invalid=fields)
    except agency_admin.NotAllowed:
        return refused(call, staff, 403, _say(call.lang, NOT_ALLOWED))
    return _keys_page(call, staff, shown, status=201, issued=issued)


@_guarded
def api_key_revoke(call: ConsoleCall, key_id: str) -> Response:
    staff = signed_in(call, admin=True)
    form = posted_form(call, staff)
    shown = _chosen(call, staff, form.get("shown_agency_id") or None)
    key = agency_admin.revoke_api_key(staff.caller, key_id, admin_ports(call).keys)
    message = tr(call.lang, "Kunci “{label}” dicabut.", "Key “{label}” revoked.")
    return done(call, "/kunci-api", instansi=shown, ok=message.format(label=key.label))


RULES = [
    Rule("/staf", methods=["GET", "POST"], endpoint="run_staff"),
    Rule(
        "/staf/<doc_id:account_id>/nonaktifkan", methods=["POST"], endpoint="run_staff_deactivate"
    ),
    Rule("/staf/<doc_id:account_id>/aktifkan", methods=["POST"], endpoint="run_staff_reactivate"),
    Rule(
        "/staf/<doc_id:account_id>/atur-ulang-kode",
        methods=["POST"],
        endpoint="run_staff_reset_code",
    ),
    Rule(
        "/staf/<doc_id:account_id>/kirim-ulang-undangan",
        methods=["POST"],
        endpoint="run_staff_resend",
    ),
    Rule("/pengaturan", methods=["GET", "POST"], endpoint="run_settings"),
    Rule("/pengaturan/uji-webhook", methods=["POST"], endpoint="run_webhook_test"),
    Rule("/pengaturan/rotasi-rahasia", methods=["POST"], endpoint="run_secret_rotate"),
    Rule("/kunci-api", methods=["GET", "POST"], endpoint="run_api_keys"),
    Rule("/kunci-api/<doc_id:key_id>/cabut", methods=["POST"], endpoint="run_api_key_revoke"),
]
HANDLERS: Mapping[str, Callable[..., Response]] = {
    "run_staff": staff_page,
    "run_staff_deactivate": staff_deactivate,
    "run_staff_reactivate": staff_reactivate,
    "run_staff_reset_code": staff_reset_code,
    "run_staff_resend": staff_resend,
    "run_settings": settings_page,
    "run_webhook_test": webhook_test,
    "run_secret_rotate": secret_rotate,
    "run_api_keys": api_keys_page,
    "run_api_key_revoke": api_key_revoke,
}
