"""Staff accounts and sign-in: what the console's sign-in, account and staff pages call.

Every function takes ``ports`` (:class:`shared.ports.StaffPorts`: ConsolePorts is one)
and raises a :class:`StaffError` (``code``, ``status`` and a message in both languages:
:meth:`StaffError.message`) for anything the person must be told.

Signing in (the pages ``/masuk``, ``/masuk/kode``, ``/masuk/daftar-kode``, ``/keluar``,
``/akun``)::

    sign_in(email, password, ports, *, client_key, user_agent="") -> SignIn
        # SignIn(token, session, account): the token goes in the cookie; the session's
        # stage says what is next: SECOND_FACTOR (ask the code), ENROL (an admin with
        # no second factor: enrol now), FULL (signed in). Raises SignInRefused (a wrong
        # address or password, an account deactivated or not yet accepted: one
        # answer), AccountLocked (.until), ClientLimited (.retry_after_s).
    verify_second_factor(token, code, ports) -> StaffSession
        # now FULL; CodeRefused, AccountLocked, SessionOver
    enrol_second_factor(token, ports) -> Enrolment
        # Enrolment(secret, uri, .grouped): a new secret, kept on the session until
        # confirmed; for an ENROL session, or a FULL one (/akun)
    confirm_second_factor(token, code, ports, *, password="", current_code="")
        -> StaffSession
        # now FULL, and the account's second factor is that secret; CodeRefused,
        # SessionOver. Replacing an enrolled one takes the password and a code of the
        # old one too: ReauthRefused (a failed sign-in), AccountLocked; it ends every
        # other session of the account and is recorded (staff.second_factor_replaced)
    current_session(token, ports) -> SignedIn | None
        # SignedIn(account, session) at any stage: a page wants session.stage FULL
    sign_out(token, ports) -> None
    sign_out_everywhere(account_id, ports) -> None   # every session, this one too
    sessions_of(account_id, ports) -> list[StaffSession]   # the live ones, newest first

One-time links (``/undangan/<token>``, ``/lupa-sandi``, ``/sandi/<token>``)::

    request_password_reset(email, ports, *, client_key, language="id") -> None
        # the same answer whether the address is known or not; ClientLimited; at
        # most RESETS_PER_HOUR links an hour per account, silently
    link_for(token, purpose, ports) -> LinkFor | None
        # LinkFor(link, account): whom a usable link is for (its GET page);
        # purpose: LinkPurpose.INVITATION or LinkPurpose.PASSWORD_RESET
    accept_invitation(token, password, ports) -> StaffAccount   # LinkInvalid, InvalidInput
    reset_password(token, password, ports) -> StaffAccount
        # LinkInvalid, InvalidInput; every session of the account ends

Running the agency's staff (``/staf``): ``by`` is whoever acts (the console's Staff,
or anything with ``account_id``, ``name``, ``agency_id`` and ``role``:
:class:`StaffActor`)::

    agency_staff(by, agency_id, ports) -> list[StaffAccount]
        # of agency_id and every unit below it (None: the actor's agency); NotAllowed
    invite(by, email, name, role, agency_id, ports) -> StaffAccount
        # e-mails the invitation; NotAllowed (a role above one's own), InvalidInput
        # (.problems; an agency ``by`` does not run is "agency-invalid", as an unknown
        # one), AddressTaken
    resend_invitation(by, account_id, ports) -> StaffAccount
        # a new invitation link, while the account has no password yet; NotWaiting,
        # NotAllowed, AccountNotFound
    deactivate(by, account_id, ports) -> StaffAccount
        # its sessions end; NotAllowed (oneself, a role above one's own),
        # AccountNotFound (also an account of an agency ``by`` does not run)
    reactivate(by, account_id, ports) -> StaffAccount
    reset_second_factor(by, account_id, ports) -> StaffAccount
        # its sessions end; it enrols again at its next sign-in
    may_manage(by, account, reference) -> bool   # whether to offer those three buttons

For tools (tools/staff.py, the demo accounts)::

    create_account(email, name, role, agency_id, password, ports, *,
                   totp_secret=None, by=SYSTEM) -> StaffAccount
    current_code(secret, now) -> str

Every refusal is a :class:`StaffError`: ``code`` (a key of :data:`MESSAGES`),
``status`` (the HTTP status a page answers with) and ``message(lang)``;
InvalidInput's ``problems`` map a form field to a message code.

Who may do what: the national admin manages anyone; an agency admin the accounts of its
agency and the units below it, granting a role up to its own, never itself
deactivated (or its second factor reset) by itself; a unit officer manages no one.
A national admin belongs to a national agency, no one else does.

Links: a link's random id travels in the ``staff.invitation`` or
``staff.password_reset`` notification (outbox → notify → e-mail, retried and
dead-lettered like every notification); notify derives the token from it as
HMAC(token_secret, id) (shared.domain.staff.link_token); the store keeps only the
token's SHA-256 as the link's document id. So the token crosses neither the bus nor the
database, and a link opens only once (marked used in the transaction that uses it)
before it expires (invitations ``staff_invitation_days``, resets ``staff_reset_minutes``).

Sign-in: an unknown address is checked against a dummy hash, so it takes the time a
known one does; failures are counted per address whether it has an account or not
(shared.domain.staff.SignInThrottle: each 5 in a row lock it, 15 min, then twice as
long each time; an atomic increment, so guesses at once all count); each client may try
``staff_client_limit`` times per ``staff_client_window_s`` (rate slots, like the
submissions'). A right password rehashes when the Argon2 settings have moved.
Sessions: idle ``console_idle_minutes``, absolute ``console_absolute_hours``, the idle
timer written at most every 5 minutes; ending them all is one write (the account's
``session_epoch``); ending all but one (a replaced second factor) bumps it and moves
that one to the new epoch in the same commit.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
from dataclasses import dataclass, replace
from functools import cache
from typing import TYPE_CHECKING, Protocol

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from shared.domain.report import Role
from shared.domain.staff import (
    MAX_EMAIL,
    MAX_NAME,
    STAFF_ROLES,
    LinkPurpose,
    PasswordProblem,
    SessionStage,
    SignInThrottle,
    StaffAccount,
    StaffLink,
    StaffSession,
    accepted_step,
    link_token,
    lock_after,
    may_grant,
    normal_email,
    otpauth_uri,
    password_problem,
    token_key,
)
from shared.ports import (
    AuditEntry,
    EmailTaken,
    OutboxMessage,
    StaffNotFound,
    StaffPorts,
    StaffUpdate,
)
from shared.reference import AgencyKind
from shared.tokens import pseudonym
from shared.topology import AGENCY_NOTIFICATIONS
from shared.usecases.notify import staff_notification
from shared.usecases.outbox import publish_committed
from shared.usecases.rate_limit import claim_slot
from shared.usecases.submit import RateLimited
from shared.web.i18n import Lang

if TYPE_CHECKING:
    from shared.config import Settings
    from shared.reference import Reference

log = logging.getLogger(__name__)

SOURCE = "//lapor/functions/console"
STAFF_MAIL_TYPE = "id.lapor.staff.mail.v1"
RESETS_PER_HOUR = 3  # reset links e-mailed per account per hour, at most
_EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


# --- who acts ------------------------------------------------------------------------------


class StaffActor(Protocol):
    """Whoever manages accounts: a signed-in staff member (the console's Staff)."""

    @property
    def account_id(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def agency_id(self) -> str: ...

    @property
    def role(self) -> Role: ...


@dataclass(frozen=True)
class Operator:
    """An actor that is no signed-in person: the command line, the demo seeding."""

    account_id: str
    name: str
    agency_id: str
    role: Role


SYSTEM = Operator("system", "Lapor (command line)", "nasional", Role.NATIONAL_ADMIN)


def actor_id(by: StaffActor) -> str:
    """How the change log names ``by``."""
    return "system" if isinstance(by, Operator) else f"staff:{by.account_id}"


# --- what the person is told ------------------------------------------------------------------

# code -> (Bahasa Indonesia, English). Pages show these; H2's and H5's tests look for them.
MESSAGES: dict[str, tuple[str, str]] = {
    "sign-in-refused": (
        "E-mail atau kata sandi salah.",
        "Wrong e-mail address or password.",
    ),
    "locked": (
        "Terlalu banyak percobaan. Coba lagi setelah {until}.",
        "Too many attempts. Try again after {until}.",
    ),
    "client-limited": (
        "Terlalu banyak percobaan dari perangkat ini. Coba lagi nanti.",
        "Too many attempts from this device. Try again later.",
    ),
    "code-refused": (
        "Kode salah atau sudah dipakai. Masukkan kode yang sedang tampil di aplikasi.",
        "Wrong or already used code. Enter the code your app shows now.",
    ),
    "reauth-refused": (
        "Kata sandi atau kode dari aplikasi autentikator yang sekarang salah.",
        "Wrong password or code from your current authenticator app.",
    ),
    "session-over": (
        "Sesi Anda telah berakhir. Silakan masuk lagi.",
        "Your session has ended. Please sign in again.",
    ),
    "link-invalid": (
        "Tautan ini tidak berlaku: sudah dipakai, kedaluwarsa, atau salah.",
        "This link is not valid: already used, expired or wrong.",
    ),
    "not-allowed": (
        "Anda tidak berwenang melakukan ini.",
        "You are not allowed to do this.",
    ),
    "not-found": ("Akun tidak ditemukan.", "Account not found."),
    "not-waiting": (
        "Undangan tidak dikirim ulang: akun ini sudah memiliki kata sandi atau nonaktif.",
        "Not sent again: this account has a password already or is deactivated.",
    ),
    "email-taken": (
        "Alamat e-mail ini sudah memiliki akun.",
        "This e-mail address already has an account.",
    ),
    "email-invalid": ("Masukkan alamat e-mail yang benar.", "Enter a valid e-mail address."),
    "name-required": (
        f"Isi nama (paling banyak {MAX_NAME} karakter).",
        f"Enter a name (at most {MAX_NAME} characters).",
    ),
    "role-invalid": ("Pilih peran.", "Choose a role."),
    "agency-invalid": ("Pilih instansi.", "Choose an agency."),
    PasswordProblem.TOO_SHORT: (
        "Kata sandi paling sedikit 12 karakter.",
        "A password has at least 12 characters.",
    ),
    PasswordProblem.TOO_LONG: (
        "Kata sandi paling banyak 128 karakter.",
        "A password has at most 128 characters.",
    ),
    PasswordProblem.IS_EMAIL: (
        "Kata sandi tidak boleh sama dengan alamat e-mail.",
        "The password must not be your e-mail address.",
    ),
    PasswordProblem.TOO_COMMON: (
        "Kata sandi ini terlalu umum. Pilih yang lain, misalnya beberapa kata acak.",
        "This password is too common. Choose another, such as a few random words.",
    ),
}


def message(code: str, lang: str, **values: str) -> str:
    """The text of ``code`` in ``lang`` ("id" or "en")."""
    id_text, en_text = MESSAGES[code]
    return (en_text if lang == "en" else id_text).format(**values)


class StaffError(Exception):
    code = "error"
    status = 400

    def message(self, lang: str) -> str:
        return message(self.code, lang)


class SignInRefused(StaffError):
    code, status = "sign-in-refused", 401


class AccountLocked(StaffError):
    """Too many failures on this address; ``until`` is aware UTC (show it in WIB)."""

    code, status = "locked", 429

    def __init__(self, until: dt.datetime) -> None:
        super().__init__(until.isoformat())
        self.until = until

    def message(self, lang: str, until_text: str | None = None) -> str:
        return message(self.code, lang, until=until_text or self.until.strftime("%H:%M UTC"))


class ClientLimited(StaffError):
    code, status = "client-limited", 429

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"retry after {retry_after_s}s")
        self.retry_after_s = retry_after_s


class CodeRefused(StaffError):
    code, status = "code-refused", 401


class ReauthRefused(StaffError):
    """Replacing a second factor: the password or the current factor's code is wrong."""

    code, status = "reauth-refused", 401


class SessionOver(StaffError):
    code, status = "session-over", 401


class LinkInvalid(StaffError):
    code, status = "link-invalid", 410


class NotAllowed(StaffError):
    code, status = "not-allowed", 403


class AccountNotFound(StaffError):
    code, status = "not-found", 404


class NotWaiting(StaffError):
    """An invitation sent again to an account that accepted it already, or deactivated."""

    code, status = "not-waiting", 409


class AddressTaken(StaffError):
    code, status = "email-taken", 409


class InvalidInput(StaffError):
    """``problems``: field name -> message code (fields: email, name, role, agency_id,
    password)."""

    code, status = "invalid", 422

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__(", ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = problems

    def message(self, lang: str) -> str:
        return " ".join(message(code, lang) for code in self.problems.values())


# --- passwords -------------------------------------------------------------------------------


def _hasher(settings: Settings) -> PasswordHasher:
    return _hasher_with(settings.staff_hash_time_cost, settings.staff_hash_memory_kib)


@cache
def _hasher_with(time_cost: int, memory_kib: int) -> PasswordHasher:
    # Argon2id; the library's other defaults (4 lanes, 16-byte salt, 32-byte hash).
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)


@cache
def _dummy_hash(time_cost: int, memory_kib: int) -> str:
    """Checked against when the address has no account, so that costs the same time."""
    return _hasher_with(time_cost, memory_kib).hash(secrets.token_urlsafe(16))


def hash_password(password: str, settings: Settings) -> str:
    return _hasher(settings).hash(password)


def _password_matches(stored: str | None, password: str, settings: Settings) -> bool:
    hasher = _hasher(settings)
    dummy = _dummy_hash(settings.staff_hash_time_cost, settings.staff_hash_memory_kib)
    try:
        return hasher.verify(stored or dummy, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def _check_password(password: str, email: str) -> None:
    problem = password_problem(password, email)
    if problem is not None:
        raise InvalidInput({"password": problem.value})


# --- signing in ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignIn:
    token: str  # for the cookie; never stored
    session: StaffSession
    account: StaffAccount


@dataclass(frozen=True)
class SignedIn:
    account: StaffAccount
    session: StaffSession


@dataclass(frozen=True)
class Enrolment:
    secret: str  # base32, for typing into the app
    uri: str  # otpauth://, for the QR code

    @property
    def grouped(self) -> str:
        """The secret in groups of four, as people type it."""
        return " ".join(self.secret[i : i + 4] for i in range(0, len(self.secret), 4))


def _throttle_key(ports: StaffPorts, email: str) -> str:
    return pseudonym(ports.settings.token_secret, "staff-sign-in", normal_email(email))


def _claim_client_slot(client_key: str, purpose: str, ports: StaffPorts) -> None:
    """One of the client's attempts in this window, or ClientLimited (before any lookup)."""
    settings = ports.settings
    client = pseudonym(settings.token_secret, "client", client_key)
    window_s, limit = settings.staff_client_window_s, settings.staff_client_limit
    try:
        claim_slot(
            ports.staff, f"staff-{purpose}:{client}", now=ports.clock.now(),
            window_s=window_s, limit=limit,
        )  # fmt: skip
    except RateLimited as limited:
        raise ClientLimited(limited.retry_after_s) from None


def _first_stage(account: StaffAccount) -> SessionStage:
    if account.has_second_factor:
        return SessionStage.SECOND_FACTOR
    return SessionStage.ENROL if account.is_admin else SessionStage.FULL


def sign_in(
    email: str, password: str, ports: StaffPorts, *, client_key: str, user_agent: str = ""
) -> SignIn:
    """Check the address and password; on success a new session (see the module
    docstring for what its stage means)."""
    _claim_client_slot(client_key, "sign-in", ports)
    now = ports.clock.now()
    key = _throttle_key(ports, email)
    throttle = ports.staff.throttle(key)
    if throttle.is_locked(now):
        assert throttle.locked_until is not None
        raise AccountLocked(throttle.locked_until)
    address = normal_email(email)
    account = ports.staff.account_by_email(address) if len(address) <= MAX_EMAIL else None
    # Always one hash check, so an unknown address answers no sooner than a known one.
    matches = _password_matches(
        account.password_hash if account else None, password, ports.settings
    )
    if account is None or not matches or not account.may_sign_in:
        _count_failure(key, ports)
        raise SignInRefused
    token = secrets.token_urlsafe(32)
    stage = _first_stage(account)
    session = StaffSession(
        session_id=token_key(token),
        account_id=account.account_id,
        epoch=account.session_epoch,
        stage=stage,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        last_seen_at=now,
        client=user_agent[:200],
    )
    forgiven = None if throttle.is_clean else SignInThrottle(key)
    stored_hash = account.password_hash
    outdated = _hasher(ports.settings).check_needs_rehash(stored_hash or "")
    rehashed = hash_password(password, ports.settings) if outdated else None

    def decide(fresh: StaffAccount) -> StaffUpdate:
        if not fresh.may_sign_in or fresh.password_hash != stored_hash:
            raise SignInRefused  # deactivated or its password changed meanwhile
        saved = replace(fresh, password_hash=rehashed) if rehashed else None
        return StaffUpdate(
            account=saved,
            sessions=(replace(session, epoch=fresh.session_epoch),),
            # The failures are forgiven once the second factor is right too (and only
            # written when there were some).
            throttle=forgiven if stage is SessionStage.FULL else None,
        )

    try:
        update = ports.staff.update_account(account.account_id, decide)
    except StaffNotFound:
        raise SignInRefused from None
    log.info("staff signed in", extra={"account_id": account.account_id, "stage": stage.value})
    return SignIn(token, update.sessions[0], update.account or account)


def _count_failure(key: str, ports: StaffPorts) -> dt.datetime | None:
    """Count a failure of the address; until when it is now locked, or None."""
    now = ports.clock.now()
    until = lock_after(ports.staff.count_failure(key, now), now)
    if until is not None:
        ports.staff.lock(key, until)
        log.warning("staff sign-in locked", extra={"throttle": key[:12], "until": until})
    return until


def _live(token: str, ports: StaffPorts) -> SignedIn | None:
    if not token or len(token) > 200:
        return None
    session = ports.staff.session(token_key(token))
    if session is None:
        return None
    account = ports.staff.account(session.account_id)
    settings = ports.settings
    idle = dt.timedelta(minutes=settings.console_idle_minutes)
    absolute = dt.timedelta(hours=settings.console_absolute_hours)
    if account is None or not session.is_live(account, ports.clock.now(), idle, absolute):
        return None
    return SignedIn(account, session)


def current_session(token: str, ports: StaffPorts) -> SignedIn | None:
    """Who ``token`` (the cookie) signs in, at whatever stage, or None when it is no
    session, or one ended, expired, or of an account deactivated since. Keeps the idle
    timer: writes last_seen_at when the last write is 5 minutes old or more."""
    found = _live(token, ports)
    if found is None:
        return None
    now = ports.clock.now()
    if found.session.stage is SessionStage.FULL and found.session.needs_touch(now):
        ports.staff.touch_session(found.session.session_id, now)
        found = SignedIn(found.account, replace(found.session, last_seen_at=now))
    return found


def _partial(token: str, stage: SessionStage, ports: StaffPorts) -> SignedIn:
    found = _live(token, ports)
    if found is None or found.session.stage is not stage:
        raise SessionOver
    return found


def verify_second_factor(token: str, code: str, ports: StaffPorts) -> StaffSession:
    """The code after the password: the session becomes FULL. A wrong code counts as a
    failed sign-in of the address."""
    found = _partial(token, SessionStage.SECOND_FACTOR, ports)
    key = _throttle_key(ports, found.account.email)
    now = ports.clock.now()
    throttle = ports.staff.throttle(key)
    if throttle.is_locked(now):
        assert throttle.locked_until is not None
        raise AccountLocked(throttle.locked_until)

    def decide(session: StaffSession, account: StaffAccount) -> StaffUpdate:
        secret = account.totp_secret
        if session.stage is not SessionStage.SECOND_FACTOR or secret is None:
            raise SessionOver  # used meanwhile, or the second factor was reset
        step = accepted_step(secret, code, now, account.totp_last_step)
        if step is None:
            raise CodeRefused
        full = replace(session, stage=SessionStage.FULL, last_seen_at=now)
        return StaffUpdate(
            account=replace(account, totp_last_step=step),
            sessions=(full,),
            throttle=None if throttle.is_clean else SignInThrottle(key),
        )

    try:
        update = ports.staff.update_session(found.session.session_id, decide)
    except StaffNotFound:
        raise SessionOver from None
    except CodeRefused:
        until = _count_failure(key, ports)
        if until is not None:
            raise AccountLocked(until) from None
        raise
    return update.sessions[0]


def enrol_second_factor(token: str, ports: StaffPorts) -> Enrolment:
    """A new TOTP secret for the session's account, kept on the session until a code
    confirms it (:func:`confirm_second_factor`). For an admin's ENROL session, or a
    FULL one (an officer who chooses to; then the session's stage stays FULL until the
    code, which is when the secret replaces any earlier one)."""
    found = _live(token, ports)
    if found is None or found.session.stage not in (SessionStage.ENROL, SessionStage.FULL):
        raise SessionOver
    secret = pyotp.random_base32()  # 160 bits, as RFC 4226 recommends

    def decide(session: StaffSession, account: StaffAccount) -> StaffUpdate:
        return StaffUpdate(sessions=(replace(session, pending_totp_secret=secret),))

    try:
        ports.staff.update_session(found.session.session_id, decide)
    except StaffNotFound:
        raise SessionOver from None
    return Enrolment(secret, otpauth_uri(secret, found.account.email))


def confirm_second_factor(
    token: str, code: str, ports: StaffPorts, *, password: str = "", current_code: str = ""
) -> StaffSession:
    """A code from the secret :func:`enrol_second_factor` gave: the account's second
    factor is that secret from now on, and the session is FULL.

    Replacing a second factor already enrolled takes the account's ``password`` and a
    ``current_code`` from the factor it replaces too: a session cookie alone (a
    browser left signed in, a stolen cookie) must not be enough to take the account's
    second factor over. Either wrong: ReauthRefused, counted as a failed sign-in of the
    address (so guessing locks it: AccountLocked). A lost phone is the admin's "reset
    second factor" instead. A replacement ends every other session of the account (in
    the same commit: the session epoch; this session moves to the new one) and is
    recorded in the change log (``staff.second_factor_replaced``, in that commit too); a
    first enrolment is neither."""
    found = _live(token, ports)
    if found is None or found.session.pending_totp_secret is None:
        raise SessionOver
    secret = found.session.pending_totp_secret
    now = ports.clock.now()
    key = _throttle_key(ports, found.account.email)
    replacing = found.account.has_second_factor
    if replacing:
        throttle = ports.staff.throttle(key)
        if throttle.is_locked(now):
            assert throttle.locked_until is not None
            raise AccountLocked(throttle.locked_until)
    # The hash check (slow) before the transaction; the transaction then checks that the
    # hash it was checked against is still the account's.
    checked_hash = found.account.password_hash if replacing else None
    password_ok = replacing and _password_matches(checked_hash, password, ports.settings)

    def decide(session: StaffSession, account: StaffAccount) -> StaffUpdate:
        if session.pending_totp_secret != secret or session.epoch != account.session_epoch:
            raise SessionOver  # enrolled again meanwhile, or signed out everywhere
        old_secret = account.totp_secret
        replaces = old_secret is not None
        if old_secret is not None:
            old_step = accepted_step(old_secret, current_code, now, account.totp_last_step)
            if not password_ok or account.password_hash != checked_hash or old_step is None:
                raise ReauthRefused
        step = accepted_step(secret, code, now, 0)
        if step is None:
            raise CodeRefused
        changed = replace(account, totp_secret=secret, totp_last_step=step)
        if replaces:
            # Whoever held the old factor may be signed in elsewhere: every other
            # session ends (the epoch, one write) and this one moves to the new epoch.
            changed = changed.ended_sessions()
        return StaffUpdate(
            account=changed,
            sessions=(
                replace(
                    session,
                    stage=SessionStage.FULL,
                    pending_totp_secret=None,
                    last_seen_at=now,
                    epoch=changed.session_epoch,
                ),
            ),
            # Never the secret: who replaced whose, and when.
            audit=(_audit(account, "staff.second_factor_replaced", account, now),)
            if replaces
            else (),
        )

    try:
        update = ports.staff.update_session(found.session.session_id, decide)
    except StaffNotFound:
        raise SessionOver from None
    except ReauthRefused:
        until = _count_failure(key, ports)
        if until is not None:
            raise AccountLocked(until) from None
        raise
    kept = update.sessions[0]
    if update.audit:
        _delete_sessions(found.account.account_id, ports, keep=kept.session_id)
    log.info(
        "second factor replaced" if update.audit else "second factor enrolled",
        extra={"account_id": found.account.account_id},
    )
    return kept


def sign_out(token: str, ports: StaffPorts) -> None:
    if token and len(token) <= 200:
        ports.staff.end_sessions([token_key(token)])


def sign_out_everywhere(account_id: str, ports: StaffPorts) -> None:
    """End every session of the account at once (one write), then delete them."""
    try:
        ports.staff.update_account(account_id, lambda a: StaffUpdate(account=a.ended_sessions()))
    except StaffNotFound:
        return
    _delete_sessions(account_id, ports)


def _delete_sessions(account_id: str, ports: StaffPorts, *, keep: str = "") -> None:
    # Already over through the epoch: deleting them only tidies up "your sessions".
    ports.staff.end_sessions(
        [s.session_id for s in ports.staff.sessions_of(account_id) if s.session_id != keep]
    )


def sessions_of(account_id: str, ports: StaffPorts) -> list[StaffSession]:
    account = ports.staff.account(account_id)
    if account is None:
        return []
    now, settings = ports.clock.now(), ports.settings
    idle = dt.timedelta(minutes=settings.console_idle_minutes)
    absolute = dt.timedelta(hours=settings.console_absolute_hours)
    return [
        s
        for s in ports.staff.sessions_of(account_id)
        if s.stage is SessionStage.FULL and s.is_live(account, now, idle, absolute)
    ]


# --- one-time links ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkFor:
    link: StaffLink
    account: StaffAccount


_KINDS = {
    LinkPurpose.INVITATION: "staff.invitation",
    LinkPurpose.PASSWORD_RESET: "staff.password_reset",
}


def _new_link(
    account: StaffAccount, purpose: LinkPurpose, ports: StaffPorts, language: Lang = "id"
) -> tuple[StaffLink, OutboxMessage]:
    """A link and the notification that e-mails it (committed with it by the caller)."""
    now, settings = ports.clock.now(), ports.settings
    life = (
        dt.timedelta(days=settings.staff_invitation_days)
        if purpose is LinkPurpose.INVITATION
        else dt.timedelta(minutes=settings.staff_reset_minutes)
    )
    link_id = secrets.token_hex(16)
    key = token_key(link_token(settings.token_secret, link_id))
    link = StaffLink(key, purpose, account.account_id, now, now + life)
    message = staff_notification(
        notification_id=f"staff.{key[:32]}",
        kind=_KINDS[purpose],
        agency_id=account.agency_id,
        account_id=account.account_id,
        link_id=link_id,
        topic=AGENCY_NOTIFICATIONS,
        at=now,
        ce_type=STAFF_MAIL_TYPE,
        source=SOURCE,
        language=language,
    )
    return link, message


def link_for(token: str, purpose: LinkPurpose, ports: StaffPorts) -> LinkFor | None:
    """Whom a usable link of ``purpose`` is for (to greet them on its page), or None."""
    if not token or len(token) > 200:
        return None
    link = ports.staff.link(token_key(token))
    if link is None or link.purpose is not purpose or not link.is_usable(ports.clock.now()):
        return None
    account = ports.staff.account(link.account_id)
    if account is None or not account.active:
        return None
    return LinkFor(link, account)


def request_password_reset(
    email: str, ports: StaffPorts, *, client_key: str, language: Lang = "id"
) -> None:
    """E-mail a reset link to ``email`` when it is an active account's that has a
    password; else nothing. The caller answers the same either way (and should even out
    the timing: a known address writes and publishes)."""
    _claim_client_slot(client_key, "reset", ports)
    address = normal_email(email)
    account = ports.staff.account_by_email(address) if _EMAIL.fullmatch(address) else None
    if account is None or not account.may_sign_in:
        log.info("password reset asked; nothing sent")
        return
    # Silently at most a few links an hour per account: refusing would tell that the
    # address has an account, and nobody may flood a colleague's mailbox.
    key = f"staff-reset-account:{account.account_id}"
    try:
        claim_slot(ports.staff, key, now=ports.clock.now(), window_s=3600, limit=RESETS_PER_HOUR)
    except RateLimited:
        log.info("password reset asked; the account's hourly limit is reached")
        return
    link, mail = _new_link(account, LinkPurpose.PASSWORD_RESET, ports, language)
    entry = AuditEntry(
        at=ports.clock.now(),
        agency_id=account.agency_id,
        actor_id="system",
        actor_name=account.name,
        kind="staff.password_reset_requested",
        target=account.account_id,
    )
    try:
        ports.staff.update_account(
            account.account_id,
            lambda fresh: StaffUpdate(links=(link,), outbox=(mail,), audit=(entry,)),
        )
    except StaffNotFound:
        return
    publish_committed(ports.publisher, (mail,))
    log.info("password reset link committed", extra={"account_id": account.account_id})


def _use_link(token: str, purpose: LinkPurpose, password: str, ports: StaffPorts) -> StaffAccount:
    found = link_for(token, purpose, ports)
    if found is None:
        raise LinkInvalid
    _check_password(password, found.account.email)
    password_hash = hash_password(password, ports.settings)
    now = ports.clock.now()

    def decide(link: StaffLink, account: StaffAccount) -> StaffUpdate:
        if not link.is_usable(now) or link.purpose is not purpose or not account.active:
            raise LinkInvalid
        changed = replace(account, password_hash=password_hash, password_changed_at=now)
        return StaffUpdate(
            account=changed.ended_sessions(),
            links=(replace(link, used_at=now),),
            # A person who proved they read the mailbox is no longer locked out.
            throttle=SignInThrottle(_throttle_key(ports, account.email)),
        )

    try:
        update = ports.staff.use_link(found.link.key, decide)
    except StaffNotFound:
        raise LinkInvalid from None
    assert update.account is not None
    _delete_sessions(update.account.account_id, ports)
    return update.account


def accept_invitation(token: str, password: str, ports: StaffPorts) -> StaffAccount:
    """Set the invited account's password (the link opens once). Its owner then signs in
    as usual (an admin enrols the second factor at that first sign-in)."""
    account = _use_link(token, LinkPurpose.INVITATION, password, ports)
    log.info("invitation accepted", extra={"account_id": account.account_id})
    return account


def reset_password(token: str, password: str, ports: StaffPorts) -> StaffAccount:
    """A new password through a reset link; every session of the account ends."""
    account = _use_link(token, LinkPurpose.PASSWORD_RESET, password, ports)
    log.info("password reset", extra={"account_id": account.account_id})
    return account


# --- running the staff --------------------------------------------------------------------------


def _allowed_agencies(by: StaffActor, reference: Reference) -> frozenset[str] | None:
    """The agencies whose accounts ``by`` manages; None: every one."""
    if by.role is Role.NATIONAL_ADMIN:
        return None
    if by.role is Role.AGENCY_ADMIN and reference.has_agency(by.agency_id):
        return reference.descendants(by.agency_id)
    return frozenset()


def _in_reach(by: StaffActor, account: StaffAccount, reference: Reference) -> bool:
    """Whether ``account`` belongs to an agency ``by`` runs. One that does not is, to
    ``by``, no account at all: AccountNotFound, as an unknown id, so an id does not tell
    that another agency has that member."""
    allowed = _allowed_agencies(by, reference)
    return allowed is None or account.agency_id in allowed


def may_manage(by: StaffActor, account: StaffAccount, reference: Reference) -> bool:
    """Whether ``by`` may deactivate, reactivate or reset the second factor of
    ``account`` (never its own: someone else must)."""
    if account.account_id == by.account_id:
        return False
    return _in_reach(by, account, reference) and may_grant(by.role, account.role)


def agency_staff(by: StaffActor, agency_id: str | None, ports: StaffPorts) -> list[StaffAccount]:
    """The accounts of ``agency_id`` and the units below it (None: the actor's own
    agency), by name; NotAllowed outside what ``by`` manages."""
    reference = ports.agency.reference
    wanted = agency_id or by.agency_id
    allowed = _allowed_agencies(by, reference)
    if not reference.has_agency(wanted) or (allowed is not None and wanted not in allowed):
        raise NotAllowed
    return ports.staff.accounts_in(sorted(reference.descendants(wanted)))


def _check_new_account(
    email: str,
    name: str,
    role: Role | str,
    agency_id: str,
    reference: Reference,
    within: frozenset[str] | None = None,
) -> tuple[str, str, Role]:
    """The account's address, name and role, or InvalidInput. An agency outside
    ``within`` (the agencies the actor runs; None: every one) is refused exactly as an
    unknown one, so the answer does not tell that another agency exists."""
    problems: dict[str, str] = {}
    address = normal_email(email)
    if len(address) > MAX_EMAIL or not _EMAIL.fullmatch(address):
        problems["email"] = "email-invalid"
    clean_name = " ".join(name.split())
    if not clean_name or len(clean_name) > MAX_NAME:
        problems["name"] = "name-required"
    try:
        wanted_role = Role(role)
    except ValueError:
        wanted_role = Role.SYSTEM
    if wanted_role not in STAFF_ROLES:
        problems["role"] = "role-invalid"
    if not reference.has_agency(agency_id) or (within is not None and agency_id not in within):
        problems["agency_id"] = "agency-invalid"
    elif "role" not in problems:
        national = reference.agency(agency_id).kind is AgencyKind.NATIONAL
        if national != (wanted_role is Role.NATIONAL_ADMIN):
            problems["role"] = "role-invalid"
    if problems:
        raise InvalidInput(problems)
    return address, clean_name, wanted_role


def _audit(
    by: StaffActor, kind: str, account: StaffAccount, now: dt.datetime, **details: str
) -> AuditEntry:
    return AuditEntry(
        at=now,
        agency_id=account.agency_id,
        actor_id=actor_id(by),
        actor_name=by.name,
        kind=kind,
        target=account.account_id,
        details=details,
    )


def invite(
    by: StaffActor, email: str, name: str, role: Role | str, agency_id: str, ports: StaffPorts
) -> StaffAccount:
    """Create the account and e-mail its invitation (set a password within
    ``staff_invitation_days``). Recorded as ``staff.invited``. An agency ``by`` does not
    run is refused as an unknown one (InvalidInput, ``agency_id``), as everywhere else
    another agency is "not found"."""
    reference = ports.agency.reference
    allowed = _allowed_agencies(by, reference)
    if allowed is not None and not allowed:
        raise NotAllowed  # manages no one (an officer)
    address, clean_name, wanted_role = _check_new_account(
        email, name, role, agency_id, reference, allowed
    )
    if not may_grant(by.role, wanted_role):
        raise NotAllowed
    now = ports.clock.now()
    account = StaffAccount(
        account_id=secrets.token_hex(10),
        email=address,
        name=clean_name,
        agency_id=agency_id,
        role=wanted_role,
        created_by=actor_id(by),
        created_at=now,
    )
    link, mail = _new_link(account, LinkPurpose.INVITATION, ports)
    entry = _audit(by, "staff.invited", account, now, email=address, role=wanted_role.value)
    try:
        ports.staff.create_account(
            account, StaffUpdate(links=(link,), outbox=(mail,), audit=(entry,))
        )
    except EmailTaken:
        raise AddressTaken from None
    publish_committed(ports.publisher, (mail,))
    log.info("staff invited", extra={"account_id": account.account_id, "agency_id": agency_id})
    return account


def resend_invitation(by: StaffActor, account_id: str, ports: StaffPorts) -> StaffAccount:
    """E-mail a new invitation link to an account that has not set its password yet (the
    first mail was lost, or its link expired); recorded as ``staff.invited`` (``again``).
    NotWaiting once it has one (its owner resets it with "Lupa kata sandi?" instead) or
    while it is deactivated."""
    reference = ports.agency.reference
    now = ports.clock.now()
    account = ports.staff.account(account_id)
    if account is None:
        raise AccountNotFound
    link, mail = _new_link(account, LinkPurpose.INVITATION, ports)

    def decide(fresh: StaffAccount) -> StaffUpdate:
        if fresh.account_id != by.account_id and not _in_reach(by, fresh, reference):
            raise AccountNotFound
        if not may_manage(by, fresh, reference):
            raise NotAllowed
        if not fresh.active or fresh.password_hash is not None:
            raise NotWaiting
        entry = _audit(by, "staff.invited", fresh, now, email=fresh.email,
                       role=fresh.role.value, again="yes")  # fmt: skip
        return StaffUpdate(links=(link,), outbox=(mail,), audit=(entry,))

    try:
        ports.staff.update_account(account_id, decide)
    except StaffNotFound:
        raise AccountNotFound from None
    publish_committed(ports.publisher, (mail,))
    log.info("staff invitation sent again", extra={"account_id": account_id})
    return account


def _manage(
    by: StaffActor, account_id: str, kind: str, ports: StaffPorts, change: StaffChange
) -> StaffAccount:
    reference = ports.agency.reference
    now = ports.clock.now()

    def decide(account: StaffAccount) -> StaffUpdate:
        if account.account_id != by.account_id and not _in_reach(by, account, reference):
            raise AccountNotFound
        if not may_manage(by, account, reference):
            raise NotAllowed  # oneself, or a role above one's own
        changed = change(account)
        return StaffUpdate(account=changed, audit=(_audit(by, kind, changed, now),))

    try:
        update = ports.staff.update_account(account_id, decide)
    except StaffNotFound:
        raise AccountNotFound from None
    assert update.account is not None
    log.info("staff account changed", extra={"account_id": account_id, "change": kind})
    return update.account


class StaffChange(Protocol):
    def __call__(self, account: StaffAccount) -> StaffAccount: ...


def deactivate(by: StaffActor, account_id: str, ports: StaffPorts) -> StaffAccount:
    """The account can no longer sign in; its sessions end at once."""
    account = _manage(
        by,
        account_id,
        "staff.deactivated",
        ports,
        lambda a: replace(a, active=False).ended_sessions(),
    )
    _delete_sessions(account_id, ports)
    return account


def reactivate(by: StaffActor, account_id: str, ports: StaffPorts) -> StaffAccount:
    return _manage(by, account_id, "staff.reactivated", ports, lambda a: replace(a, active=True))


def reset_second_factor(by: StaffActor, account_id: str, ports: StaffPorts) -> StaffAccount:
    """Forget the account's TOTP secret (a lost phone); its sessions end, and it enrols
    again at its next sign-in (an admin must; an officer may)."""
    account = _manage(
        by,
        account_id,
        "staff.second_factor_reset",
        ports,
        lambda a: replace(a, totp_secret=None, totp_last_step=0).ended_sessions(),
    )
    _delete_sessions(account_id, ports)
    return account


# --- for tools -------------------------------------------------------------------------------


def create_account(
    email: str,
    name: str,
    role: Role | str,
    agency_id: str,
    password: str,
    ports: StaffPorts,
    *,
    totp_secret: str | None = None,
    by: StaffActor = SYSTEM,
) -> StaffAccount:
    """An account ready to sign in, without an invitation (the first national admin,
    the demo accounts). Recorded as ``staff.invited`` by ``by``."""
    reference = ports.agency.reference
    address, clean_name, wanted_role = _check_new_account(email, name, role, agency_id, reference)
    _check_password(password, address)
    now = ports.clock.now()
    account = StaffAccount(
        account_id=secrets.token_hex(10),
        email=address,
        name=clean_name,
        agency_id=agency_id,
        role=wanted_role,
        created_by=actor_id(by),
        created_at=now,
        password_hash=hash_password(password, ports.settings),
        password_changed_at=now,
        totp_secret=totp_secret,
    )
    entry = _audit(by, "staff.invited", account, now, email=address, role=wanted_role.value)
    try:
        ports.staff.create_account(account, StaffUpdate(audit=(entry,)))
    except EmailTaken:
        raise AddressTaken from None
    return account


def current_code(secret: str, now: dt.datetime) -> str:
    """The TOTP code an authenticator app shows now (the demo's stand-in for a phone)."""
    return str(pyotp.TOTP(secret).at(now))
