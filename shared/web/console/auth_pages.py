"""Signing in and out, the second factor, one's own account, invitations and password
resets: the console's pages before (and around) everything else.

- ``/masuk``: e-mail and password. A right password starts a session at the stage
  the account needs next: the code (``/masuk/kode``), an admin's enrolment of the
  second factor (``/masuk/daftar-kode``), or the console itself. After the last step
  the member goes to ``next`` when it is a path of ours (never another site).
- ``/masuk/daftar-kode`` enrols an authenticator app: the key grouped in fours, its
  otpauth URI and a QR code (inline SVG as a data: URI); a code confirms it.
- ``/keluar`` (POST) ends this session; ``/akun`` lists one's sessions and
  ``/akun/keluar-semua`` (POST) ends every one of them.
- ``/undangan/<token>`` sets the first password of an invited account,
  ``/lupa-sandi`` asks for a reset link (the same answer whether or not the address is
  known) and ``/sandi/<token>`` sets a new password. Both links are single-use and
  expire; then the member signs in as usual (an admin enrols the second factor then).

The rules (hashes, lockout, expiry, the links) are shared.usecases.staff's; this module
turns forms into its calls and its answers into pages.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import time
from collections.abc import Callable, Mapping
from typing import Any

from flask import Response
from werkzeug.routing import Rule

from shared.domain.report import Role
from shared.domain.staff import LinkPurpose, SessionStage, StaffSession, otpauth_uri
from shared.usecases import staff as staff_usecases
from shared.web.console.common import (
    ENROL_PATH,
    HOME_PATH,
    SECOND_FACTOR_PATH,
    SESSION_COOKIE,
    SIGN_IN_PATH,
    ConsoleCall,
    Staff,
    clear_cookie,
    done,
    local_now,
    posted_form,
    posted_public_form,
    redirect,
    render_page,
    safe_next,
    session_form,
    session_token,
    set_cookie,
    signed_in,
    tr,
    url,
)
from shared.web.http import client_address
from shared.web.i18n import Lang, format_datetime

Invalid = dict[str, str]


def _errors(invalid: Mapping[str, str]) -> list[tuple[str, str]]:
    """The error summary's entries, each linking to its field."""
    return list(invalid.items())


def _clock_time(call: ConsoleCall, moment: dt.datetime) -> str:
    """``14.05 WIB``: when a lock ends, in the deployment's time zone."""
    local = moment.astimezone(local_now(call).tzinfo)
    zone = {"Asia/Jakarta": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}.get(
        call.ports.settings.timezone, local.strftime("%Z")
    )
    return f"{local:%H.%M} {zone}" if call.lang == "id" else f"{local:%H:%M} {zone}"


def role_label(lang: Lang, role: Role) -> str:
    return {
        Role.NATIONAL_ADMIN: tr(lang, "Admin nasional", "National admin"),
        Role.AGENCY_ADMIN: tr(lang, "Admin instansi", "Agency admin"),
        Role.UNIT_OFFICER: tr(lang, "Petugas unit", "Unit officer"),
    }.get(role, role.value)


def _start_session(call: ConsoleCall, token: str, response: Response) -> Response:
    """Hand the browser its session token (the only thing it keeps)."""
    hours = call.ports.settings.console_absolute_hours
    set_cookie(response, call.ports.settings, SESSION_COOKIE, token, max_age=hours * 3600)
    return response


def _next_step(call: ConsoleCall, stage: SessionStage, wanted: str) -> str:
    if stage is SessionStage.SECOND_FACTOR:
        return url(call, SECOND_FACTOR_PATH, next=_next_param(wanted))
    if stage is SessionStage.ENROL:
        return url(call, ENROL_PATH, next=_next_param(wanted))
    return _with_lang(call, wanted)


def _next_param(wanted: str) -> str:
    return "" if wanted == HOME_PATH else wanted


def _with_lang(call: ConsoleCall, path: str) -> str:
    if call.lang != "en" or "lang=" in path:
        return path
    return path + ("&" if "?" in path else "?") + "lang=en"


# --- signing in -----------------------------------------------------------------------


def home(call: ConsoleCall) -> Response:
    return redirect(url(call, HOME_PATH))


def sign_in(call: ConsoleCall) -> Response:
    lang = call.lang
    wanted = safe_next(call.request.values.get("next"))
    if call.request.method == "GET":
        if _partial(call, SessionStage.FULL) is not None:
            return redirect(_with_lang(call, wanted))  # already signed in
        return _sign_in_page(call, wanted)
    form = posted_public_form(call)
    email = form.get("email", "").strip()[:254]
    password = form.get("password", "")[:200]
    invalid: Invalid = {}
    if not email:
        invalid["email"] = tr(lang, "Tulis alamat e-mail Anda.", "Type your e-mail address.")
    if not password:
        invalid["password"] = tr(lang, "Tulis kata sandi Anda.", "Type your password.")
    if invalid:
        return _sign_in_page(call, wanted, email=email, invalid=invalid, status=422)
    try:
        signed = staff_usecases.sign_in(
            email,
            password,
            call.ports,
            client_key=_client(call),
            user_agent=call.request.user_agent.string,
        )
    except staff_usecases.SignInRefused as refused:
        # Which of the two was wrong is not told: the summary links to the first field.
        return _sign_in_page(
            call, wanted, email=email, invalid={"email": refused.message(lang)}, status=401
        )
    except staff_usecases.StaffError as refused:
        return _sign_in_page(
            call,
            wanted,
            email=email,
            general=_refusal(call, refused),
            status=refused.status,
            headers=_retry_after(call, refused),
        )
    response = redirect(_next_step(call, signed.session.stage, wanted))
    return _start_session(call, signed.token, response)


def _retry_after(call: ConsoleCall, refused: staff_usecases.StaffError) -> dict[str, str]:
    """How long a lock or a client's limit lasts, for Retry-After (RFC 9110)."""
    if isinstance(refused, staff_usecases.ClientLimited):
        return {"Retry-After": str(refused.retry_after_s)}
    if isinstance(refused, staff_usecases.AccountLocked):
        left = (refused.until - call.ports.clock.now()).total_seconds()
        return {"Retry-After": str(max(1, int(left)))}
    return {}


def _client(call: ConsoleCall) -> str:
    return client_address(call.request, call.ports.settings.trusted_proxy_hops)


def _refusal(call: ConsoleCall, refused: staff_usecases.StaffError) -> str:
    """What a refusal says; a lock names when it ends, in the deployment's time zone."""
    if isinstance(refused, staff_usecases.AccountLocked):
        return refused.message(call.lang, _clock_time(call, refused.until))
    return refused.message(call.lang)


def _sign_in_page(
    call: ConsoleCall,
    wanted: str,
    *,
    email: str = "",
    invalid: Invalid | None = None,
    general: str = "",
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    fields = invalid or {}
    errors = _errors(fields) + ([("", general)] if general else [])
    return render_page(
        call,
        "console/sign_in.html",
        None,
        status=status,
        headers=headers,
        next=_next_param(wanted),
        email=email,
        invalid=fields,
        errors=errors,
    )


def _partial(call: ConsoleCall, stage: SessionStage) -> tuple[str, StaffSession] | None:
    """The token and session of the browser's session if it is at ``stage``."""
    token = session_token(call)
    if token is None:
        return None
    current = staff_usecases.current_session(token, call.ports)
    if current is None or current.session.stage is not stage:
        return None
    return token, current.session


def second_factor(call: ConsoleCall) -> Response:
    wanted = safe_next(call.request.values.get("next"))
    partial = _partial(call, SessionStage.SECOND_FACTOR)
    if partial is None:
        return redirect(url(call, SIGN_IN_PATH, next=_next_param(wanted)))
    token, session = partial
    if call.request.method == "GET":
        return _code_page(call, session.csrf_token, wanted)
    form = session_form(call, session.csrf_token)
    try:
        staff_usecases.verify_second_factor(token, form.get("code", "")[:20], call.ports)
    except staff_usecases.CodeRefused as refused:
        invalid = {"code": refused.message(call.lang)}
        return _code_page(call, session.csrf_token, wanted, invalid, status=401)
    except staff_usecases.StaffError as refused:
        # Locked, or the half-session is over: start again from the password.
        page = _sign_in_page(
            call,
            wanted,
            general=_refusal(call, refused),
            status=refused.status,
            headers=_retry_after(call, refused),
        )
        clear_cookie(page, call.ports.settings, SESSION_COOKIE)
        return page
    return redirect(_with_lang(call, wanted))


def _code_page(
    call: ConsoleCall,
    csrf: str,
    wanted: str,
    invalid: Invalid | None = None,
    status: int = 200,
) -> Response:
    fields = invalid or {}
    return _render_partial(
        call,
        "console/second_factor.html",
        csrf,
        status=status,
        next=_next_param(wanted),
        invalid=fields,
        errors=_errors(fields),
    )


def _render_partial(
    call: ConsoleCall, template: str, csrf: str, *, status: int = 200, **context: Any
) -> Response:
    """A page of a half-signed-in session: no navigation, the session's CSRF token."""
    return render_page(call, template, None, status=status, csrf=csrf, **context)


def sign_out(call: ConsoleCall) -> Response:
    """Ends this session (at any stage). A form whose token does not match ends nothing:
    another site must not be able to sign a member out."""
    token = session_token(call)
    current = staff_usecases.current_session(token, call.ports) if token else None
    if token is not None and current is not None:
        session_form(call, current.session.csrf_token)
        staff_usecases.sign_out(token, call.ports)
    response = done(
        call, SIGN_IN_PATH, ok=tr(call.lang, "Anda sudah keluar.", "You have signed out.")
    )
    clear_cookie(response, call.ports.settings, SESSION_COOKIE)
    return response


# --- the second factor's enrolment ------------------------------------------------------


def _qr_data_uri(text: str) -> str:
    # Imported here: qrcode loads Pillow when it is installed, and only the enrolment
    # page draws a code (every other console cold start would pay for it).
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def enrol(call: ConsoleCall) -> Response:
    """An admin's required enrolment (a session at the stage ``enrol``), or a signed-in
    member adding (or replacing) the second factor from /akun. Replacing one already
    enrolled asks for the password and a code of the old one too (the use case checks
    them): the session cookie alone must not take the account's second factor over."""
    lang = call.lang
    wanted = safe_next(call.request.values.get("next"))
    staff: Staff | None = None
    replacing = False
    partial = _partial(call, SessionStage.ENROL)
    if partial is not None:
        token, session = partial
    else:
        staff = signed_in(call)
        token = session_token(call) or ""
        current = staff_usecases.current_session(token, call.ports)
        if current is None:
            return redirect(url(call, SIGN_IN_PATH))
        session = current.session
        replacing = current.account.has_second_factor
    invalid: Invalid = {}
    general = ""
    status = 200
    headers: dict[str, str] = {}
    if call.request.method == "POST":
        form = session_form(call, session.csrf_token)
        password = form.get("password", "")[:200]
        current_code = form.get("current_code", "")[:20]
        invalid = _reauth_missing(lang, password, current_code) if replacing else {}
        status = 422
        if not invalid:
            try:
                staff_usecases.confirm_second_factor(
                    token,
                    form.get("code", "")[:20],
                    call.ports,
                    password=password,
                    current_code=current_code,
                )
            except staff_usecases.CodeRefused as refused:
                invalid = {"code": refused.message(lang)}
            except staff_usecases.ReauthRefused as refused:
                # Which of the two was wrong is not told, as at sign-in.
                invalid, status = {"password": refused.message(lang)}, refused.status
            except staff_usecases.AccountLocked as refused:
                general, status = _refusal(call, refused), refused.status
                headers = _retry_after(call, refused)
            except staff_usecases.SessionOver as refused:
                page = _sign_in_page(call, wanted, general=refused.message(lang), status=401)
                clear_cookie(page, call.ports.settings, SESSION_COOKIE)
                return page
            else:
                message = (
                    tr(
                        lang,
                        "Aplikasi autentikator diganti. Sesi Anda yang lain telah diakhiri.",
                        "Authenticator app replaced. Your other sessions have ended.",
                    )
                    if replacing
                    else tr(lang, "Aplikasi autentikator terdaftar.", "Authenticator app set up.")
                )
                return done(call, wanted if staff is None else "/akun", ok=message)
    # The same key again after a wrong code or a reload: the member may have scanned it.
    if session.pending_totp_secret is not None:
        secret = session.pending_totp_secret
        uri = otpauth_uri(secret, staff.email if staff else _account_email(call, session))
        shown = staff_usecases.Enrolment(secret, uri)
    else:
        shown = staff_usecases.enrol_second_factor(token, call.ports)
    return render_page(
        call,
        "console/enrol.html",
        staff,
        status=status,
        headers=headers,
        csrf=session.csrf_token,
        required=staff is None,
        replacing=replacing,
        next=_next_param(wanted),
        grouped_secret=shown.grouped,
        otpauth_uri=shown.uri,
        qr_data_uri=_qr_data_uri(shown.uri),
        invalid=invalid,
        errors=_errors(invalid) + ([("", general)] if general else []),
    )


def _reauth_missing(lang: Lang, password: str, current_code: str) -> Invalid:
    """The fields a replacement of the second factor needs and the form lacks."""
    invalid: Invalid = {}
    if not password:
        invalid["password"] = tr(lang, "Tulis kata sandi Anda.", "Type your password.")
    if not current_code.strip():
        invalid["current_code"] = tr(
            lang,
            "Tulis kode yang sekarang tampil di aplikasi autentikator lama Anda.",
            "Type the code your current authenticator app shows now.",
        )
    return invalid


def _account_email(call: ConsoleCall, session: StaffSession) -> str:
    account = call.ports.staff.account(session.account_id)
    return account.email if account is not None else ""


# --- one's own account ------------------------------------------------------------------


def account(call: ConsoleCall) -> Response:
    staff = signed_in(call)
    lang = call.lang
    sessions = staff_usecases.sessions_of(staff.account_id, call.ports)
    zone = call.ports.settings.timezone
    rows = [
        {
            "client": browser_name(session.client, lang),
            "created": format_datetime(session.created_at.isoformat(), lang, zone),
            "last_seen": format_datetime(session.last_seen_at.isoformat(), lang, zone),
            "current": session.session_id == staff.session_id,
        }
        for session in sessions
    ]
    account = call.ports.staff.account(staff.account_id)
    return render_page(
        call,
        "console/account.html",
        staff,
        sessions=rows,
        role_label=role_label(lang, staff.role),
        has_second_factor=account is not None and account.has_second_factor,
    )


# (what the User-Agent contains, what to call it), first match wins: Edge and Opera
# also say Chrome, and Chrome also says Safari.
_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"),
             ("Chrome/", "Chrome"), ("Safari/", "Safari"))  # fmt: skip
_SYSTEMS = (("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"),
            ("Windows", "Windows"), ("Mac OS X", "macOS"), ("Linux", "Linux"))  # fmt: skip


def browser_name(user_agent: str, lang: Lang) -> str:
    """A short name such as "Chrome di Android": enough to tell one's sessions apart,
    without showing the whole User-Agent string."""
    browser = next((name for mark, name in _BROWSERS if mark in user_agent), "")
    system = next((name for mark, name in _SYSTEMS if mark in user_agent), "")
    if browser and system:
        return f"{browser} {tr(lang, 'di', 'on')} {system}"
    return browser or system or tr(lang, "Peramban tidak dikenal", "Unknown browser")


def sign_out_everywhere(call: ConsoleCall) -> Response:
    staff = signed_in(call)
    posted_form(call, staff)
    staff_usecases.sign_out_everywhere(staff.account_id, call.ports)
    response = done(
        call,
        SIGN_IN_PATH,
        ok=tr(call.lang, "Anda sudah keluar dari semua sesi.", "You have signed out everywhere."),
    )
    clear_cookie(response, call.ports.settings, SESSION_COOKIE)
    return response


# --- invitations and password resets ----------------------------------------------------


def _link_gone(call: ConsoleCall) -> Response:
    lang = call.lang
    return render_page(
        call,
        "console/message.html",
        None,
        status=404,
        heading=tr(lang, "Tautan tidak berlaku", "This link does not work"),
        detail=staff_usecases.message("link-invalid", lang)
        + " "
        + tr(
            lang,
            'Minta tautan baru kepada admin instansi Anda, atau lewat "Lupa kata sandi?".',
            'Ask your agency admin for a new one, or use "Forgot your password?".',
        ),
        warn=True,
    )


def invitation(call: ConsoleCall, token: str) -> Response:
    return _password_link(call, token, LinkPurpose.INVITATION)


def password_reset(call: ConsoleCall, token: str) -> Response:
    return _password_link(call, token, LinkPurpose.PASSWORD_RESET)


def _password_link(call: ConsoleCall, token: str, purpose: LinkPurpose) -> Response:
    """The page of an invitation or a reset link: a new password, then sign in."""
    lang = call.lang
    found = staff_usecases.link_for(token, purpose, call.ports)
    if found is None:
        return _link_gone(call)
    invited = purpose is LinkPurpose.INVITATION
    heading = (
        tr(lang, "Selamat datang: buat kata sandi", "Welcome: choose a password")
        if invited
        else tr(lang, "Buat kata sandi baru", "Choose a new password")
    )
    account = found.account
    invalid: Invalid = {}
    if call.request.method == "POST":
        form = posted_public_form(call)
        password = form.get("password", "")[:200]
        if form.get("confirm", "") != password:
            invalid["confirm"] = tr(
                lang, "Kedua kata sandi tidak sama.", "The two passwords are not the same."
            )
        else:
            use = staff_usecases.accept_invitation if invited else staff_usecases.reset_password
            try:
                use(token, password, call.ports)
            except staff_usecases.LinkInvalid:
                return _link_gone(call)
            except staff_usecases.InvalidInput as refused:
                invalid = {
                    "password": " ".join(
                        staff_usecases.message(code, lang) for code in refused.problems.values()
                    )
                }
            else:
                ok = tr(
                    lang, "Kata sandi tersimpan. Silakan masuk.", "Password saved. Please sign in."
                )
                return done(call, SIGN_IN_PATH, ok=ok)
    return render_page(
        call,
        "console/set_password.html",
        None,
        status=422 if invalid else 200,
        heading=heading,
        intro=tr(
            lang,
            f"Akun {account.email} ({account.name}).",
            f"The account of {account.email} ({account.name}).",
        ),
        action=url(call, f"/undangan/{token}" if invited else f"/sandi/{token}"),
        invalid=invalid,
        errors=_errors(invalid),
    )


def forgot_password(call: ConsoleCall) -> Response:
    """The same answer whether or not the address has an account. The e-mail is in the
    page's language: whoever asks is the account's owner, reading it."""
    lang = call.lang
    if call.request.method == "GET":
        return _forgot_page(call)
    form = posted_public_form(call)
    email = form.get("email", "").strip()[:254]
    if "@" not in email:
        invalid = {
            "email": tr(
                lang, "Tulis alamat e-mail akun Anda.", "Type your account's e-mail address."
            )
        }
        return _forgot_page(call, email=email, invalid=invalid, status=422)
    started = time.monotonic()
    try:
        staff_usecases.request_password_reset(
            email, call.ports, client_key=_client(call), language=lang
        )
    except staff_usecases.ClientLimited as refused:
        return _forgot_page(
            call,
            email=email,
            general=refused.message(lang),
            status=429,
            headers=_retry_after(call, refused),
        )
    # A known address writes and publishes; answer no sooner than the least time, so
    # the answer's timing does not tell whether the address has an account.
    least = call.ports.settings.console_reset_min_response_s
    time.sleep(max(0.0, started + least - time.monotonic()))
    return _forgot_page(call, sent=True)


def _forgot_page(
    call: ConsoleCall,
    *,
    sent: bool = False,
    email: str = "",
    invalid: Invalid | None = None,
    general: str = "",
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    fields = invalid or {}
    errors = _errors(fields) + ([("", general)] if general else [])
    return render_page(
        call,
        "console/forgot.html",
        None,
        status=status,
        headers=headers,
        sent=sent,
        email=email,
        invalid=fields,
        errors=errors,
    )


RULES = [
    Rule("/", methods=["GET"], endpoint="home"),
    Rule("/masuk", methods=["GET", "POST"], endpoint="sign_in"),
    Rule("/masuk/kode", methods=["GET", "POST"], endpoint="second_factor"),
    Rule("/masuk/daftar-kode", methods=["GET", "POST"], endpoint="enrol"),
    Rule("/keluar", methods=["POST"], endpoint="sign_out"),
    Rule("/akun", methods=["GET"], endpoint="account"),
    Rule("/akun/keluar-semua", methods=["POST"], endpoint="sign_out_everywhere"),
    Rule("/undangan/<token>", methods=["GET", "POST"], endpoint="invitation"),
    Rule("/lupa-sandi", methods=["GET", "POST"], endpoint="forgot_password"),
    Rule("/sandi/<token>", methods=["GET", "POST"], endpoint="password_reset"),
]
HANDLERS: Mapping[str, Callable[..., Response]] = {
    "home": home,
    "sign_in": sign_in,
    "second_factor": second_factor,
    "enrol": enrol,
    "sign_out": sign_out,
    "account": account,
    "sign_out_everywhere": sign_out_everywhere,
    "invitation": invitation,
    "forgot_password": forgot_password,
    "password_reset": password_reset,
}
