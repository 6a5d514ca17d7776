"""The rules of staff accounts: passwords, the sign-in throttle, TOTP codes, when a
session is over, and the one-time links' tokens."""

from __future__ import annotations

import datetime as dt

import pyotp
import pytest

from shared.domain.report import Role
from shared.domain.staff import (
    FIRST_LOCK,
    LONGEST_LOCK,
    MAX_FAILURES,
    PARTIAL_SESSION,
    PasswordProblem,
    SessionStage,
    SignInThrottle,
    StaffAccount,
    StaffSession,
    accepted_step,
    link_token,
    lock_after,
    may_grant,
    normal_email,
    otpauth_uri,
    password_problem,
    token_key,
    totp_step,
)

NOW = dt.datetime(2026, 3, 2, 3, 0, 10, tzinfo=dt.UTC)
IDLE = dt.timedelta(minutes=30)
ABSOLUTE = dt.timedelta(hours=12)
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def an_account(**changes: object) -> StaffAccount:
    fields: dict[str, object] = {
        "account_id": "acc1",
        "email": "siti@dpupr.example",
        "name": "Siti",
        "agency_id": "dpupr-cianjur",
        "role": Role.AGENCY_ADMIN,
        "created_by": "system",
        "created_at": NOW,
        "password_hash": "$argon2id$...",
    }
    fields.update(changes)
    return StaffAccount(**fields)  # type: ignore[arg-type]


def a_session(**changes: object) -> StaffSession:
    fields: dict[str, object] = {
        "session_id": "s1",
        "account_id": "acc1",
        "epoch": 0,
        "stage": SessionStage.FULL,
        "csrf_token": "csrf",
        "created_at": NOW,
        "last_seen_at": NOW,
    }
    fields.update(changes)
    return StaffSession(**fields)  # type: ignore[arg-type]


# --- passwords ---


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short pass1", PasswordProblem.TOO_SHORT),
        ("x" * 129, PasswordProblem.TOO_LONG),
        ("Siti@DPUPR.example", PasswordProblem.IS_EMAIL),
        ("siti@dpupr.example", PasswordProblem.IS_EMAIL),
        ("password1234", PasswordProblem.TOO_COMMON),
        ("Bismillah123", PasswordProblem.TOO_COMMON),
        ("abababababababab", PasswordProblem.TOO_COMMON),
        ("correct horse battery staple", None),
        ("x" * 12 + "yz", None),
    ],
)
def test_a_password_is_long_enough_not_the_email_and_not_a_common_one(
    password: str, problem: PasswordProblem | None
) -> None:
    assert password_problem(password, "siti@dpupr.example") is problem


def test_the_email_local_part_is_not_a_password_either() -> None:
    assert password_problem("sitinurhaliza", "SitiNurhaliza@x.example") is PasswordProblem.IS_EMAIL


def test_addresses_are_compared_lower_cased_and_trimmed() -> None:
    assert normal_email("  Siti@DPUPR.Example ") == "siti@dpupr.example"


# --- the throttle ---


def test_failures_below_the_limit_do_not_lock() -> None:
    assert all(lock_after(n, NOW) is None for n in range(MAX_FAILURES))


def test_every_fifth_failure_locks_and_each_lock_doubles() -> None:
    assert lock_after(MAX_FAILURES, NOW) == NOW + FIRST_LOCK
    assert lock_after(MAX_FAILURES + 1, NOW) is None  # a guess at the same moment
    assert lock_after(2 * MAX_FAILURES, NOW) == NOW + 2 * FIRST_LOCK
    assert lock_after(3 * MAX_FAILURES, NOW) == NOW + 4 * FIRST_LOCK


def test_a_lock_never_lasts_more_than_a_day() -> None:
    assert lock_after(20 * MAX_FAILURES, NOW) == NOW + LONGEST_LOCK
    assert lock_after(10_000 * MAX_FAILURES, NOW) == NOW + LONGEST_LOCK


def test_a_lock_holds_until_its_time() -> None:
    throttle = SignInThrottle("k", failures=5, locked_until=NOW + FIRST_LOCK)
    assert throttle.is_locked(NOW + FIRST_LOCK - dt.timedelta(seconds=1))
    assert not throttle.is_locked(NOW + FIRST_LOCK)
    assert not throttle.is_clean and SignInThrottle("k").is_clean


# --- the second factor ---


def _code(at: dt.datetime) -> str:
    return str(pyotp.TOTP(SECRET).at(at))


def test_the_current_code_is_accepted_as_its_step() -> None:
    assert accepted_step(SECRET, _code(NOW), NOW, 0) == totp_step(NOW)


def test_a_code_one_step_early_or_late_is_accepted_two_are_not() -> None:
    step = dt.timedelta(seconds=30)
    assert accepted_step(SECRET, _code(NOW - step), NOW, 0) == totp_step(NOW) - 1
    assert accepted_step(SECRET, _code(NOW + step), NOW, 0) == totp_step(NOW) + 1
    assert accepted_step(SECRET, _code(NOW - 2 * step), NOW, 0) is None


def test_a_code_is_accepted_once() -> None:
    used = accepted_step(SECRET, _code(NOW), NOW, 0)
    assert used is not None
    assert accepted_step(SECRET, _code(NOW), NOW, used) is None
    # An earlier step's code is no good either once a later one was used.
    previous = _code(NOW - dt.timedelta(seconds=30))
    assert accepted_step(SECRET, previous, NOW, used) is None


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "12 34 5x"])
def test_a_malformed_code_is_refused(code: str) -> None:
    assert accepted_step(SECRET, code, NOW, 0) is None


def test_a_code_typed_with_spaces_is_read() -> None:
    code = _code(NOW)
    assert accepted_step(SECRET, f"{code[:3]} {code[3:]}", NOW, 0) == totp_step(NOW)


def test_the_otpauth_uri_names_the_issuer_and_the_account() -> None:
    uri = otpauth_uri(SECRET, "siti@dpupr.example")
    assert uri.startswith("otpauth://totp/Lapor:siti%40dpupr.example?")
    assert f"secret={SECRET}" in uri and "issuer=Lapor" in uri


# --- sessions ---


def test_a_full_session_ends_after_its_idle_time() -> None:
    session = a_session()
    assert session.is_live(an_account(), NOW + IDLE - dt.timedelta(seconds=1), IDLE, ABSOLUTE)
    assert not session.is_live(an_account(), NOW + IDLE, IDLE, ABSOLUTE)


def test_a_session_in_use_still_ends_at_its_absolute_age() -> None:
    session = a_session(last_seen_at=NOW + ABSOLUTE - dt.timedelta(minutes=1))
    assert session.is_live(an_account(), NOW + ABSOLUTE - dt.timedelta(seconds=1), IDLE, ABSOLUTE)
    assert not session.is_live(an_account(), NOW + ABSOLUTE, IDLE, ABSOLUTE)


def test_a_session_before_its_second_factor_lasts_ten_minutes() -> None:
    session = a_session(stage=SessionStage.SECOND_FACTOR)
    assert session.is_live(an_account(), NOW + PARTIAL_SESSION / 2, IDLE, ABSOLUTE)
    assert not session.is_live(an_account(), NOW + PARTIAL_SESSION, IDLE, ABSOLUTE)


def test_a_session_of_an_older_epoch_or_a_deactivated_account_is_over() -> None:
    session = a_session()
    assert not session.is_live(an_account().ended_sessions(), NOW, IDLE, ABSOLUTE)
    assert not session.is_live(an_account(active=False), NOW, IDLE, ABSOLUTE)
    assert not session.is_live(an_account(account_id="other"), NOW, IDLE, ABSOLUTE)


def test_the_idle_timer_is_written_at_most_every_five_minutes() -> None:
    session = a_session()
    assert not session.needs_touch(NOW + dt.timedelta(minutes=4, seconds=59))
    assert session.needs_touch(NOW + dt.timedelta(minutes=5))


# --- links and roles ---


def test_a_link_token_comes_from_its_id_and_the_secret_only() -> None:
    token = link_token("secret-one-0123456789", "a" * 32)
    assert token == link_token("secret-one-0123456789", "a" * 32)
    assert token != link_token("secret-two-0123456789", "a" * 32)
    assert token != link_token("secret-one-0123456789", "b" * 32)
    assert len(token) == 32 and "a" * 32 not in token
    assert token_key(token) != token and len(token_key(token)) == 64


@pytest.mark.parametrize(
    ("granter", "role", "allowed"),
    [
        (Role.NATIONAL_ADMIN, Role.NATIONAL_ADMIN, True),
        (Role.AGENCY_ADMIN, Role.AGENCY_ADMIN, True),
        (Role.AGENCY_ADMIN, Role.UNIT_OFFICER, True),
        (Role.AGENCY_ADMIN, Role.NATIONAL_ADMIN, False),
        (Role.UNIT_OFFICER, Role.UNIT_OFFICER, True),
        (Role.UNIT_OFFICER, Role.AGENCY_ADMIN, False),
        (Role.AGENCY_ADMIN, Role.SYSTEM, False),
    ],
)
def test_a_role_may_be_granted_only_up_to_ones_own(
    granter: Role, role: Role, allowed: bool
) -> None:
    assert may_grant(granter, role) is allowed
