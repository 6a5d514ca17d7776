"""The console's shell: who is signed in, its forms, its pages and their answers.

Every console page module codes against this module only:

- :func:`signed_in` — the staff member of a full session (cookie), or a Problem: a
  303 to ``/masuk?next=<path>`` when not signed in (an expired or revoked session and
  a deactivated account are "not signed in"), the 403 page when the page needs an
  admin (or the national admin) and the member is not one.
- :func:`posted_form` — a POST's form once its hidden ``csrf`` field matches the
  session's token (constant time); otherwise the 403 page and nothing changes.
  :func:`posted_form_with_files` is the same for a form that carries files.
- :func:`render_page` — a page in the console layout (templates/console/base.html);
  the template gets ``lang``, ``tr``, ``url``, ``staff``, ``csrf``, ``now`` and what
  the handler passes. The layout's own names are taken too (a handler passing one of
  them fails loudly): ``other_lang``, ``switch_url``, ``css``, ``nav``,
  ``current_path``, ``status_message``, ``staff_agency``, ``staff_agency_short``.
- :func:`tr` — the one way console code and templates say a thing in both languages:
  ``tr(lang, "Kotak masuk", "Inbox")``; templates call ``{{ tr("Kotak masuk", "Inbox") }}``.
- :func:`done` (303 after a POST that worked, with an optional status message),
  :func:`refused` (a form refused: re-rendered with the reason, nothing changed) and
  :func:`page_error` (404/405/500 as a console page).

A report the staff member may not see answers :func:`page_error` 404, exactly like an
unknown one. Every state change is a POST carrying ``csrf``.

The session cookie is ``__Host-lapor_console`` (Secure, HttpOnly, SameSite=Lax,
Path=/) and holds only the session's random token; the session itself is kept server
side (shared.usecases.staff). Browsers refuse a ``Secure`` cookie over plain HTTP, so
the local stack and the tests set ``LAPOR_CONSOLE_INSECURE_COOKIES=1``: the cookie is
then ``lapor_console`` without ``Secure``. That is a setting, never guessed from the
request's Host header, which the client controls.

Forms shown before there is a session (sign-in, forgotten password, invitation,
reset) are protected by a double-submit token: a random value in a short-lived
``lapor_console_form`` cookie that the form's ``csrf`` field must repeat, so another
site cannot sign a visitor in to an account of its choosing.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

from flask import Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from shared import wiring
from shared.config import Settings
from shared.domain.report import Role
from shared.domain.staff import SessionStage
from shared.ports import ConsolePorts
from shared.reference import Reference
from shared.usecases import staff as staff_usecases
from shared.usecases.agency import Caller, scope_of
from shared.web.dispatch import Call
from shared.web.http import (
    MULTIPART_MEDIA_TYPE,
    BodyTooLarge,
    Problem,
    media_type,
    read_multipart,
)
from shared.web.i18n import Lang
from shared.web.pages import TEMPLATES

if TYPE_CHECKING:
    from shared.usecases.attachments import Upload

ConsoleCall = Call[ConsolePorts]

SESSION_COOKIE = "lapor_console"
FORM_COOKIE = "lapor_console_form"
SIGN_IN_PATH = "/masuk"
HOME_PATH = "/kotak-masuk"
# Where a session that still needs its second factor (or its enrolment) is sent.
SECOND_FACTOR_PATH = "/masuk/kode"
ENROL_PATH = "/masuk/daftar-kode"
# The most a console form may post (the longest is a follow-up text of 5,000 chars);
# a form with files may post the files' limit on top.
MAX_FORM_BYTES = 64 * 1024
_MAX_FORM_FIELDS = 20
# The request remembers who signed in, so an error page rendered later in the same
# request shows the same navigation without reading the session again.
_STAFF_KEY = "lapor.console.staff"
_STATUS_MAC_BYTES = 12


def tr(lang: Lang, id_text: str, en_text: str) -> str:
    """The text in the page's language: Bahasa Indonesia first, English second."""
    return en_text if lang == "en" else id_text


# --- who is signed in -----------------------------------------------------------------


@dataclass(frozen=True)
class Staff:
    """Who is signed in, as a page sees them."""

    account_id: str
    email: str
    name: str
    agency_id: str
    role: Role
    session_id: str
    csrf_token: str

    @property
    def caller(self) -> Caller:
        """The same caller the agency API builds from a key: the same use cases, the
        same rules."""
        return Caller(
            self.agency_id, self.role, key_label=self.name, actor_id=f"staff:{self.account_id}"
        )

    @property
    def is_admin(self) -> bool:
        return self.role in (Role.NATIONAL_ADMIN, Role.AGENCY_ADMIN)

    @property
    def is_national(self) -> bool:
        return self.role is Role.NATIONAL_ADMIN


def cookie_name(settings: Settings, base: str = SESSION_COOKIE) -> str:
    return base if settings.console_insecure_cookies else f"__Host-{base}"


def session_token(call: ConsoleCall) -> str | None:
    """The session token the browser sent, if any (bounded: a token is 43 characters)."""
    token = call.request.cookies.get(cookie_name(call.ports.settings))
    return token if token and len(token) <= 200 else None


def signed_in(call: ConsoleCall, *, admin: bool = False, national: bool = False) -> Staff:
    """The staff member of the request's full session, or a Problem (see the module)."""
    cached = call.request.environ.get(_STAFF_KEY)
    staff = cached if isinstance(cached, Staff) else _current_staff(call)
    if staff is None:
        raise Problem(_to_sign_in(call))
    call.request.environ[_STAFF_KEY] = staff
    if (national and not staff.is_national) or (admin and not staff.is_admin):
        lang = call.lang
        raise Problem(
            message_page(
                call,
                staff,
                403,
                tr(lang, "Tidak diizinkan", "Not allowed"),
                tr(
                    lang,
                    "Halaman ini hanya untuk admin instansi atau admin nasional.",
                    "This page is for agency admins or the national admin only.",
                )
                if admin and not national
                else tr(
                    lang,
                    "Halaman ini hanya untuk admin nasional.",
                    "This page is for the national admin only.",
                ),
            )
        )
    return staff


def _current_staff(call: ConsoleCall) -> Staff | None:
    token = session_token(call)
    if token is None:
        return None
    current = staff_usecases.current_session(token, call.ports)
    if current is None:
        return None
    account, session = current.account, current.session
    if session.stage is not SessionStage.FULL:
        # Half signed in (password given, code not yet): finish that first.
        where = ENROL_PATH if session.stage is SessionStage.ENROL else SECOND_FACTOR_PATH
        raise Problem(redirect(url(call, where, next=_here(call))))
    return Staff(
        account_id=account.account_id,
        email=account.email,
        name=account.name,
        agency_id=account.agency_id,
        role=account.role,
        session_id=session.session_id,
        csrf_token=session.csrf_token,
    )


def _here(call: ConsoleCall) -> str:
    """The path (and query, without the language) to come back to after signing in."""
    query = {k: v for k, v in call.request.args.items() if k not in ("lang", "ok", "sig")}
    return call.path + ("?" + urlencode(query) if query else "")


def _to_sign_in(call: ConsoleCall) -> Response:
    wanted = _here(call) if call.request.method == "GET" else HOME_PATH
    params = {} if wanted in ("/", HOME_PATH) else {"next": wanted}
    return redirect(url(call, SIGN_IN_PATH, **params))


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a path of ours, never another site ("//evil",
    "/\\evil", "https://…" and anything odd become the inbox)."""
    if not value or len(value) > 500 or not value.startswith("/") or value.startswith("//"):
        return HOME_PATH
    if "\\" in value or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        return HOME_PATH
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return HOME_PATH
    return value


# --- forms ----------------------------------------------------------------------------


def _form(call: ConsoleCall) -> MultiDict[str, str]:
    declared = call.request.content_length
    if declared is not None and declared > MAX_FORM_BYTES:
        raise Problem(_form_refused(call, None, 413))
    call.request.max_form_memory_size = MAX_FORM_BYTES
    call.request.max_content_length = MAX_FORM_BYTES
    return call.request.form


def _form_refused(call: ConsoleCall, staff: Staff | None, status: int = 403) -> Response:
    lang = call.lang
    if status == 413:
        heading = tr(lang, "Isian terlalu panjang", "Form too long")
        detail = tr(
            lang,
            "Persingkat isian atau kirim lebih sedikit berkas, lalu kirim lagi. "
            "Tidak ada yang diubah.",
            "Shorten what you typed or send fewer files, then send again. Nothing was changed.",
        )
    elif status == 400:
        heading = tr(lang, "Formulir tidak dapat dibaca", "The form could not be read")
        detail = tr(
            lang,
            "Tidak ada yang diubah. Muat ulang halaman lalu kirim formulir lagi.",
            "Nothing was changed. Reload the page and send the form again.",
        )
    else:
        heading = tr(
            lang, "Formulir kedaluwarsa, muat ulang halaman", "The form expired: reload the page"
        )
        detail = tr(
            lang,
            "Tidak ada yang diubah. Muat ulang halaman lalu kirim formulir lagi.",
            "Nothing was changed. Reload the page and send the form again.",
        )
    return message_page(call, staff, status, heading, detail)


def posted_form(call: ConsoleCall, staff: Staff) -> MultiDict[str, str]:
    """The POST form once its ``csrf`` field matches the session's token; else the 403
    page (a Problem) and nothing changes."""
    return session_form(call, staff.csrf_token, staff)


def session_form(
    call: ConsoleCall, csrf_token: str, staff: Staff | None = None
) -> MultiDict[str, str]:
    """:func:`posted_form` for a session's token (also one not past its second factor)."""
    form = _form(call)
    _check_token(call, form.get("csrf", ""), csrf_token, staff)
    return form


def _check_token(call: ConsoleCall, sent: str, expected: str, staff: Staff | None) -> None:
    if not sent or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise Problem(_form_refused(call, staff))


def posted_form_with_files(
    call: ConsoleCall, staff: Staff, *, max_file_bytes: int, max_files: int
) -> tuple[MultiDict[str, str], list[Upload]]:
    """:func:`posted_form` for a form that may carry files (``enctype=
    "multipart/form-data"``, files in ``berkas``): the same token check, before
    anything in it is used. A urlencoded post of the same form is read as one without
    files. ``max_file_bytes``: all files together (the form's own fields come on top);
    ``max_files``: beyond it the body is refused as unreadable, so pass more than the
    count a refusal should name."""
    if media_type(call.request) != MULTIPART_MEDIA_TYPE:
        return posted_form(call, staff), []
    try:
        fields, uploads = read_multipart(
            call.request,
            max_bytes=max_file_bytes + MAX_FORM_BYTES,
            max_files=max_files,
            max_fields=_MAX_FORM_FIELDS,
            max_field_bytes=MAX_FORM_BYTES,
        )
    except BodyTooLarge:
        raise Problem(_form_refused(call, staff, 413)) from None
    except ValueError:
        raise Problem(_form_refused(call, staff, 400)) from None
    _check_token(call, fields.get("csrf", ""), staff.csrf_token, staff)
    return MultiDict(fields), uploads


def form_token(call: ConsoleCall) -> str:
    """The double-submit token of a form shown before sign-in (see the module): the
    browser's if it has one, else a new one :func:`render_page` sets as a cookie."""
    sent = call.request.cookies.get(cookie_name(call.ports.settings, FORM_COOKIE), "")
    if 20 <= len(sent) <= 100:
        return sent
    fresh = call.request.environ.get(FORM_COOKIE) or secrets.token_urlsafe(32)
    call.request.environ[FORM_COOKIE] = fresh
    return str(fresh)


def posted_public_form(call: ConsoleCall) -> MultiDict[str, str]:
    """A form posted before sign-in, once its ``csrf`` repeats the form cookie."""
    form = _form(call)
    sent = form.get("csrf", "")
    kept = call.request.cookies.get(cookie_name(call.ports.settings, FORM_COOKIE), "")
    if not sent or not kept or not hmac.compare_digest(sent.encode(), kept.encode()):
        raise Problem(_form_refused(call, None))
    return form


# --- pages ----------------------------------------------------------------------------


def _sha256_source(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


@dataclass(frozen=True)
class _Assets:
    env: Environment
    css: str
    csp: str


@cache
def _assets() -> _Assets:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    css = (TEMPLATES / "console" / "console.css").read_text().strip()
    # No script at all; the one inline stylesheet by hash; images only our own, inline
    # (the QR code of the second-factor enrolment is a data: URI) or a report's files
    # from the bucket (a thumbnail's link redirects there: see _csp).
    csp = "; ".join(
        [
            "default-src 'none'",
            f"style-src {_sha256_source(css)}",
            "img-src 'self' data: {storage}",
            "form-action 'self'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ]
    )
    return _Assets(env, css, csp)


def _csp() -> str:
    """The pages' Content-Security-Policy, with the storage origin of the running
    stack (the emulator's port is known only once it runs)."""
    return _assets().csp.replace("{storage}", wiring.storage_origin())


def url(call: ConsoleCall, path: str, **params: str) -> str:
    """A link to ``path`` that keeps English when the staff member chose it."""
    query = {k: v for k, v in params.items() if v != ""}
    if call.lang == "en":
        query["lang"] = "en"
    return path + ("?" + urlencode(query) if query else "")


def redirect(location: str, code: int = 303) -> Response:
    return Response(status=code, headers={"Location": location})


@dataclass(frozen=True)
class NavItem:
    path: str
    id_text: str
    en_text: str
    who: str  # "staff", "admin", "queue" (who has an admin queue) or "national"


# The console's navigation, in this order, for whom. tests/unit hold every path to the
# URL map, so no link here is dead.
NAV: tuple[NavItem, ...] = (
    NavItem("/kotak-masuk", "Kotak masuk", "Inbox", "staff"),
    NavItem("/antrean", "Antrean admin", "Admin queue", "queue"),
    NavItem("/angka", "Angka", "Figures", "staff"),
    NavItem("/templat", "Templat jawaban", "Response templates", "staff"),
    NavItem("/riwayat", "Riwayat perubahan", "Change log", "admin"),
    NavItem("/staf", "Staf", "Staff", "admin"),
    NavItem("/pengaturan", "Pengaturan", "Settings", "admin"),
    NavItem("/kunci-api", "Kunci API", "API keys", "admin"),
    NavItem("/instansi", "Instansi", "Agencies", "national"),
    NavItem("/aturan", "Aturan rute", "Routing rules", "national"),
    NavItem("/akun", "Akun saya", "My account", "staff"),
)


def nav_for(staff: Staff, reference: Reference) -> list[NavItem]:
    """The links ``staff`` may follow. The admin queue only for those who have one: the
    national admin and the admins of a local government (a dinas routes nothing: its
    reports arrive routed); the rule is the one the inbox uses (``scope_of``)."""
    scope = scope_of(staff.caller, reference)
    has_queue = staff.is_admin and (scope.everything or scope.queue_region is not None)
    allowed = (
        {"staff"}
        | ({"admin"} if staff.is_admin else set())
        | ({"queue"} if has_queue else set())
        | ({"national"} if staff.is_national else set())
    )
    return [item for item in NAV if item.who in allowed]


def _status_mac(secret: str, text: str) -> str:
    mac = hmac.new(secret.encode(), f"console-status\x00{text}".encode(), hashlib.sha256)
    return mac.hexdigest()[: _STATUS_MAC_BYTES * 2]


def _status_message(call: ConsoleCall) -> str:
    """The ``ok`` message :func:`done` put on the link, only if we signed it: nobody
    can make the console say their words through a crafted link."""
    text, sig = call.request.args.get("ok", ""), call.request.args.get("sig", "")
    if not text or len(text) > 300:
        return ""
    expected = _status_mac(call.ports.settings.token_secret, text)
    return text if hmac.compare_digest(sig.encode(), expected.encode()) else ""


def agency_name(call: ConsoleCall, agency_id: str, *, short: bool = False) -> str:
    """The agency's name (or short name) as the running reference has it; its id if
    the reference has no such agency."""
    reference = call.ports.agency.reference
    if not reference.has_agency(agency_id):
        return agency_id
    agency = reference.agency(agency_id)
    return agency.short_name if short else agency.name


def local_now(call: ConsoleCall) -> dt.datetime:
    return call.ports.clock.now().astimezone(ZoneInfo(call.ports.settings.timezone))


def render_page(
    call: ConsoleCall,
    template: str,
    staff: Staff | None,
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    csrf: str | None = None,
    **context: Any,
) -> Response:
    """A page in the console layout (see the module for what the template gets).

    ``csrf`` is the signed-in member's token; before sign-in, the form cookie's (see
    the module); a half-signed-in session's pages pass their session's.
    """
    built = _assets()
    lang = call.lang
    other: Lang = "en" if lang == "id" else "id"
    query = {k: v for k, v in call.request.args.items() if k not in ("lang", "ok", "sig")}
    query["lang"] = other
    if csrf is None:
        csrf = staff.csrf_token if staff is not None else form_token(call)
    page = built.env.get_template(template).render(
        lang=lang,
        other_lang=other,
        switch_url=call.path + "?" + urlencode(query),
        css=Markup(built.css),
        tr=lambda id_text, en_text: tr(lang, id_text, en_text),
        url=lambda path, **params: url(call, path, **params),
        staff=staff,
        # The signed-in member's agency (names a page's own context will not take).
        staff_agency=agency_name(call, staff.agency_id) if staff is not None else "",
        staff_agency_short=agency_name(call, staff.agency_id, short=True) if staff else "",
        nav=nav_for(staff, call.ports.agency.reference) if staff is not None else [],
        current_path=call.path,
        csrf=csrf,
        # A fresh Idempotency-Key for each form the page holds: a form sent twice (a
        # retry after a timeout) is taken once (shared.usecases.act).
        nonce=secrets.token_urlsafe(18),
        now=local_now(call),
        status_message=_status_message(call),
        **context,
    )
    response = Response(page, status=status, mimetype="text/html")
    response.headers["Content-Security-Policy"] = _csp()
    response.headers["Content-Language"] = lang
    response.headers["Vary"] = "Accept-Language, Cookie"
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    fresh = call.request.environ.get(FORM_COOKIE)
    if staff is None and fresh:
        set_cookie(response, call.ports.settings, FORM_COOKIE, str(fresh), max_age=2 * 3600)
    return response


def message_page(
    call: ConsoleCall, staff: Staff | None, status: int, heading: str, detail: str
) -> Response:
    """A page that says one thing (a refusal, an error) and links home."""
    return render_page(
        call,
        "console/message.html",
        staff,
        status=status,
        heading=heading,
        detail=detail,
        warn=status >= 400,
    )


def done(call: ConsoleCall, path: str, **params: str) -> Response:
    """303 See Other after a POST that worked. ``ok="…"`` is shown on the next page as
    a status message (signed, so only the console's own words are shown)."""
    if params.get("ok"):
        params["sig"] = _status_mac(call.ports.settings.token_secret, params["ok"])
    return redirect(url(call, path, **params))


def refused(
    call: ConsoleCall,
    staff: Staff | None,
    status: int,
    message: str,
    template: str | None = None,
    **context: Any,
) -> Response:
    """A form refused (409 stale or illegal, 422 invalid, 403 not allowed): the page
    again with ``error`` set to the reason, or a message page; nothing was changed."""
    if template is None:
        lang = call.lang
        heading = tr(lang, "Tidak dapat diproses", "Could not be done")
        return message_page(call, staff, status, heading, message)
    return render_page(call, template, staff, status=status, error=message, **context)


def page_error(call: ConsoleCall, status: int) -> Response:
    """The console's 404, 405, 500 and 503 (App.answer_error, and a report out of scope)."""
    lang = call.lang
    staff = call.request.environ.get(_STAFF_KEY)
    shown = staff if isinstance(staff, Staff) else None
    texts = {
        404: (
            tr(lang, "Halaman tidak ditemukan", "Page not found"),
            tr(
                lang,
                "Alamat ini tidak ada atau tidak dapat Anda buka.",
                "This address does not exist or is not open to you.",
            ),
        ),
        405: (
            tr(lang, "Cara membuka halaman ini tidak didukung", "Method not allowed"),
            tr(
                lang,
                "Buka halaman ini lewat tautan atau tombolnya.",
                "Open this page through its link or button.",
            ),
        ),
        500: (
            tr(lang, "Terjadi kesalahan", "Something went wrong"),
            tr(
                lang,
                "Coba lagi sebentar lagi. Tidak ada yang diubah.",
                "Try again shortly. Nothing was changed.",
            ),
        ),
        503: (
            tr(lang, "Sedang sibuk", "Busy right now"),
            tr(
                lang,
                "Layanan sedang sibuk atau penyimpanan data sedang tidak dapat dijangkau. "
                "Tidak ada yang diubah; coba lagi sebentar lagi.",
                "The service is busy or its data store cannot be reached right now. "
                "Nothing was changed; try again in a moment.",
            ),
        ),
    }
    heading, detail = texts.get(status, texts[500])
    return message_page(call, shown, status, heading, detail)


# --- cookies --------------------------------------------------------------------------


def set_cookie(
    response: Response, settings: Settings, base: str, value: str, *, max_age: int
) -> None:
    response.set_cookie(
        cookie_name(settings, base),
        value,
        max_age=max_age,
        path="/",
        secure=not settings.console_insecure_cookies,
        httponly=True,
        samesite="Lax",
    )


def clear_cookie(response: Response, settings: Settings, base: str) -> None:
    response.delete_cookie(
        cookie_name(settings, base),
        path="/",
        secure=not settings.console_insecure_cookies,
        httponly=True,
        samesite="Lax",
    )
