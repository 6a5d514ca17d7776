"""Staff accounts, their sessions and one-time links: the rules, with no I/O.

- An account is one person: an e-mail address (lower-cased, unique), a name, an
  agency and a role. It signs in with a password (kept as an Argon2id hash by the use
  case) and, once enrolled, a TOTP code; admins must enrol before anything else.
- Repeated failures lock the address (not the client): :data:`MAX_FAILURES` wrong
  passwords or codes in a row lock it for :data:`FIRST_LOCK`, each further
  MAX_FAILURES twice as long (at most :data:`LONGEST_LOCK`). The count is kept per
  address (:class:`SignInThrottle`), known or not, so a lock tells nothing about
  whether the address has an account.
- A session is server-side; the browser holds only its random token, and the
  session is stored under the token's SHA-256 (:func:`token_key`). It expires after a
  while idle and at an absolute age, whichever comes first; one not yet past the
  second factor expires sooner (:data:`PARTIAL_SESSION`). Every session of an account
  names the account's ``session_epoch``: bumping it (sign out everywhere, deactivation,
  a reset password or second factor) ends them all in one write.
- A one-time link (an invitation, a password reset) is stored under the SHA-256 of its
  token (:func:`token_key`), and the token itself is derived from the link's random id
  under the deployment's secret (:func:`link_token`): the id may travel on the bus
  (notify derives the token to put in the e-mail), the token never does, and neither a
  copy of the database nor of the bus can open a link without the secret.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass, replace
from enum import StrEnum

import pyotp

from shared.domain.report import Role

# --- accounts ----------------------------------------------------------------------------

STAFF_ROLES = (Role.NATIONAL_ADMIN, Role.AGENCY_ADMIN, Role.UNIT_OFFICER)
# Higher may grant lower or equal, never higher.
_RANK = {Role.UNIT_OFFICER: 1, Role.AGENCY_ADMIN: 2, Role.NATIONAL_ADMIN: 3}
ADMIN_ROLES = frozenset({Role.NATIONAL_ADMIN, Role.AGENCY_ADMIN})
MAX_EMAIL = 254
MAX_NAME = 120


def normal_email(email: str) -> str:
    """The form an address is stored and looked up in."""
    return email.strip().lower()


def may_grant(granter: Role, role: Role) -> bool:
    """Whether someone with ``granter`` may give ``role`` to another person."""
    return role in _RANK and granter in _RANK and _RANK[role] <= _RANK[granter]


@dataclass(frozen=True)
class StaffAccount:
    account_id: str
    email: str  # normal_email()
    name: str
    agency_id: str
    role: Role
    created_by: str  # the audit actor id: "staff:<account id>" or "system"
    created_at: dt.datetime
    password_hash: str | None = None  # None until the invitation is accepted
    totp_secret: str | None = None  # base32; None until enrolled
    totp_last_step: int = 0  # the last 30-s step whose code was accepted: each code works once
    active: bool = True
    session_epoch: int = 0  # sessions of an older epoch are over
    password_changed_at: dt.datetime | None = None

    @property
    def is_admin(self) -> bool:
        return self.role in ADMIN_ROLES

    @property
    def has_second_factor(self) -> bool:
        return self.totp_secret is not None

    @property
    def may_sign_in(self) -> bool:
        return self.active and self.password_hash is not None

    def ended_sessions(self) -> StaffAccount:
        """This account with every session it has ended."""
        return replace(self, session_epoch=self.session_epoch + 1)


# --- sign-in failures and locks ---------------------------------------------------------------

MAX_FAILURES = 5
FIRST_LOCK = dt.timedelta(minutes=15)
LONGEST_LOCK = dt.timedelta(hours=24)


@dataclass(frozen=True)
class SignInThrottle:
    """Failed attempts on one address (its key: a keyed hash of the address). The
    count only grows until a success clears it, so the store can count with an atomic
    increment (a burst of guesses at once is counted exactly, with no transaction to
    contend on); the lock is written by the attempt whose count is a multiple of
    MAX_FAILURES (:func:`lock_after`)."""

    key: str
    failures: int = 0  # in a row, since the last success
    locked_until: dt.datetime | None = None

    def is_locked(self, now: dt.datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until

    @property
    def is_clean(self) -> bool:
        return self.failures == 0 and self.locked_until is None


def lock_after(failures: int, now: dt.datetime) -> dt.datetime | None:
    """Until when the ``failures``-th failure in a row locks the address, or None: every
    MAX_FAILURES-th does, for FIRST_LOCK, each lock twice as long as the one before, at
    most LONGEST_LOCK."""
    if failures <= 0 or failures % MAX_FAILURES:
        return None
    doublings = min(failures // MAX_FAILURES - 1, 16)
    return now + min(FIRST_LOCK * (1 << doublings), LONGEST_LOCK)


# --- passwords ---------------------------------------------------------------------------------

MIN_PASSWORD = 12
MAX_PASSWORD = 128

# The commonest passwords long enough to pass the length rule (from the published
# leaked-password lists, and Indonesian favourites): a guesser tries these first.
COMMON_PASSWORDS = frozenset(
    {
        "123456789012",
        "1234567890123",
        "12345678901234",
        "123456789123",
        "111111111111",
        "000000000000",
        "123123123123",
        "qwertyuiopas",
        "qwertyuiop123",
        "qwertyuiop1234",
        "qwerty123456",
        "1q2w3e4r5t6y",
        "1qaz2wsx3edc",
        "zaq12wsxcde3",
        "asdfghjkl123",
        "password1234",
        "password12345",
        "password123456",
        "passwordpassword",
        "p@ssw0rd1234",
        "p@ssword1234",
        "iloveyou1234",
        "welcome12345",
        "letmein12345",
        "administrator",
        "admin1234567",
        "adminadmin123",
        "changeme1234",
        "football1234",
        "sunshine1234",
        "princess1234",
        "abcdefghijkl",
        "abcd12345678",
        "abc123456789",
        "bismillah123",
        "bismillah1234",
        "bismillah12345",
        "alhamdulillah",
        "alhamdulillah1",
        "indonesia123",
        "indonesia1234",
        "indonesia12345",
        "jakarta12345",
        "sayangkamu123",
        "kamusayang123",
        "rahasia12345",
        "rahasiasekali",
        "lapor1234567",
        "laporlapor123",
        "merdeka12345",
        "garuda123456",
        "pancasila123",
        "pancasila1945",
        "cianjur12345",
    }
)


class PasswordProblem(StrEnum):
    TOO_SHORT = "password-too-short"
    TOO_LONG = "password-too-long"
    IS_EMAIL = "password-is-email"
    TOO_COMMON = "password-too-common"


def password_problem(password: str, email: str) -> PasswordProblem | None:
    """What is wrong with ``password`` for the account ``email``, or None."""
    if len(password) < MIN_PASSWORD:
        return PasswordProblem.TOO_SHORT
    if len(password) > MAX_PASSWORD:
        return PasswordProblem.TOO_LONG
    folded = password.strip().casefold()
    address = normal_email(email)
    if folded in (address, address.partition("@")[0]):
        return PasswordProblem.IS_EMAIL
    if folded in COMMON_PASSWORDS or len(set(folded)) <= 2:
        return PasswordProblem.TOO_COMMON
    return None


# --- the second factor (TOTP, RFC 6238: 30-s steps, 6 digits) ----------------------------------

TOTP_STEP_S = 30
TOTP_ISSUER = "Lapor"


def totp_step(now: dt.datetime) -> int:
    return int(now.timestamp()) // TOTP_STEP_S


def accepted_step(secret: str, code: str, now: dt.datetime, last_step: int) -> int | None:
    """The step whose code ``code`` is (this one, the one before or after: a phone's
    clock may be off by a little), or None. A step at or before ``last_step`` is
    refused: each code is accepted once."""
    digits = "".join(code.split())
    if len(digits) != 6 or not digits.isdigit():
        return None
    totp = pyotp.TOTP(secret, interval=TOTP_STEP_S)
    current = totp_step(now)
    for step in (current - 1, current, current + 1):
        if step > last_step and hmac.compare_digest(totp.at(step * TOTP_STEP_S), digits):
            return step
    return None


def otpauth_uri(secret: str, email: str) -> str:
    """What an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret, interval=TOTP_STEP_S).provisioning_uri(
        name=email, issuer_name=TOTP_ISSUER
    )


# --- sessions ----------------------------------------------------------------------------------

PARTIAL_SESSION = dt.timedelta(minutes=10)  # to type the code, or enrol
TOUCH_EVERY = dt.timedelta(minutes=5)  # the idle timer is written at most this often


class SessionStage(StrEnum):
    SECOND_FACTOR = "second_factor"  # the password was right; the code is next
    ENROL = "enrol"  # an admin without a second factor: enrol it first
    FULL = "full"


def token_key(token: str) -> str:
    """Where a session or a link is stored: its token's SHA-256. Tokens carry at least
    192 random bits, so no salt is needed and a lookup is one read."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class StaffSession:
    session_id: str  # token_key(the cookie's token)
    account_id: str
    epoch: int  # the account's session_epoch when it began
    stage: SessionStage
    csrf_token: str
    created_at: dt.datetime
    last_seen_at: dt.datetime
    client: str = ""  # the browser, as its User-Agent says (for "your sessions")
    pending_totp_secret: str | None = None  # enrolment shown, not yet confirmed

    def expires_at(self, idle: dt.timedelta, absolute: dt.timedelta) -> dt.datetime:
        if self.stage is not SessionStage.FULL:
            return self.created_at + PARTIAL_SESSION
        return min(self.last_seen_at + idle, self.created_at + absolute)

    def is_live(
        self, account: StaffAccount, now: dt.datetime, idle: dt.timedelta, absolute: dt.timedelta
    ) -> bool:
        return (
            account.account_id == self.account_id
            and account.active
            and account.session_epoch == self.epoch
            and now < self.expires_at(idle, absolute)
        )

    def needs_touch(self, now: dt.datetime) -> bool:
        return now - self.last_seen_at >= TOUCH_EVERY


# --- one-time links ----------------------------------------------------------------------------


class LinkPurpose(StrEnum):
    INVITATION = "invitation"
    PASSWORD_RESET = "password_reset"


def link_token(secret: str, link_id: str) -> str:
    """The token in a link's URL, derived from its id (see the module docstring)."""
    mac = hmac.new(secret.encode(), f"staff-link\x00{link_id}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()[:24]).decode()


@dataclass(frozen=True)
class StaffLink:
    key: str  # token_key(link_token(secret, link id)): its document id
    purpose: LinkPurpose
    account_id: str
    created_at: dt.datetime
    expires_at: dt.datetime
    used_at: dt.datetime | None = None

    def is_usable(self, now: dt.datetime) -> bool:
        return self.used_at is None and now < self.expires_at
