"""Staff sign-in and accounts through the use cases, on the in-memory store: what a
person can and cannot do, what is written, what is told, and what is recorded."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any

import pyotp
import pytest
from argon2 import PasswordHasher

from shared.config import Settings
from shared.domain.report import Role
from shared.domain.staff import (
    FIRST_LOCK,
    MAX_FAILURES,
    LinkPurpose,
    SessionStage,
    StaffAccount,
    link_token,
)
from shared.ports import FixedClock
from shared.reference import Reference, load_reference
from shared.usecases import staff as uc
from tests.fakes import InMemoryPublisher, InMemoryStaffStore

NOW = dt.datetime(2026, 3, 2, 3, 0, 10, tzinfo=dt.UTC)
PASSWORD = "kopi susu gula aren"
REFERENCE = load_reference()


@dataclass(frozen=True)
class _Agency:
    reference: Reference


@dataclass
class Ports:
    """The staff use cases' ports, all in memory (ConsolePorts has the same fields)."""

    staff: InMemoryStaffStore = field(default_factory=InMemoryStaffStore)
    clock: FixedClock = field(default_factory=lambda: FixedClock(NOW))
    settings: Settings = field(
        default_factory=lambda: Settings(
            token_secret="unit-test-secret-0123456789",
            console_url="https://console.lapor.test",
            staff_client_limit=1000,
            # The least Argon2 cost allowed: the unit tier stays fast.
            staff_hash_time_cost=1,
            staff_hash_memory_kib=8192,
        )
    )
    publisher: InMemoryPublisher = field(default_factory=InMemoryPublisher)
    agency: _Agency = field(default_factory=lambda: _Agency(REFERENCE))


@pytest.fixture
def ports() -> Ports:
    return Ports()


def an_account(
    ports: Ports,
    role: Role = Role.UNIT_OFFICER,
    agency_id: str = "uptd-jalan-cianjur",
    email: str = "budi@uptd.example",
    *,
    totp_secret: str | None = None,
) -> StaffAccount:
    return uc.create_account(
        email, "Budi", role, agency_id, PASSWORD, ports, totp_secret=totp_secret
    )


def an_admin(ports: Ports, agency_id: str = "dpupr-cianjur", **how: Any) -> StaffAccount:
    email = how.pop("email", f"admin@{agency_id}.example")
    role = Role.NATIONAL_ADMIN if agency_id == "nasional" else Role.AGENCY_ADMIN
    secret = how.pop("totp_secret", pyotp.random_base32())
    return an_account(ports, role, agency_id, email, totp_secret=secret)


def sign_in(ports: Ports, email: str = "budi@uptd.example", password: str = PASSWORD) -> uc.SignIn:
    return uc.sign_in(email, password, ports, client_key="203.0.113.7", user_agent="Firefox")


def code_now(secret: str | None, ports: Ports) -> str:
    assert secret is not None
    return uc.current_code(secret, ports.clock.now())


def fully_signed_in(ports: Ports, account: StaffAccount) -> str:
    signed = sign_in(ports, account.email)
    if signed.session.stage is SessionStage.SECOND_FACTOR:
        uc.verify_second_factor(signed.token, code_now(account.totp_secret, ports), ports)
    return signed.token


def invitation_token(ports: Ports, account_id: str, kind: str = "staff.invitation") -> str:
    """The token notify would put in the e-mail, from the outbox entry's link id."""
    data = next(
        m.data
        for m in ports.staff.outbox.values()
        if m.data["account_id"] == account_id and m.data["kind"] == kind
    )
    return link_token(ports.settings.token_secret, str(data["link_id"]))


# --- signing in ---


def test_an_officer_without_a_second_factor_is_signed_in_by_the_password(ports: Ports) -> None:
    account = an_account(ports)
    signed = uc.sign_in(" Budi@UPTD.example ", PASSWORD, ports, client_key="c", user_agent="UA")
    assert signed.session.stage is SessionStage.FULL
    assert signed.account.account_id == account.account_id
    found = uc.current_session(signed.token, ports)
    assert found is not None and found.account.email == "budi@uptd.example"
    assert found.session.client == "UA"


def test_the_cookie_token_is_not_what_is_stored(ports: Ports) -> None:
    an_account(ports)
    signed = sign_in(ports)
    assert signed.token not in ports.staff.sessions
    assert signed.session.session_id in ports.staff.sessions
    assert signed.session.csrf_token and signed.session.csrf_token != signed.token


def test_an_admin_with_a_second_factor_must_give_the_code_first(ports: Ports) -> None:
    admin = an_admin(ports)
    signed = sign_in(ports, admin.email)
    assert signed.session.stage is SessionStage.SECOND_FACTOR
    session = uc.verify_second_factor(signed.token, code_now(admin.totp_secret, ports), ports)
    assert session.stage is SessionStage.FULL
    current = uc.current_session(signed.token, ports)
    assert current is not None and current.session.stage is SessionStage.FULL


def test_an_admin_without_a_second_factor_must_enrol_one(ports: Ports) -> None:
    admin = an_admin(ports, totp_secret=None)
    signed = sign_in(ports, admin.email)
    assert signed.session.stage is SessionStage.ENROL
    enrolment = uc.enrol_second_factor(signed.token, ports)
    assert enrolment.uri.startswith("otpauth://totp/Lapor:")
    assert enrolment.grouped.replace(" ", "") == enrolment.secret
    with pytest.raises(uc.CodeRefused):
        uc.confirm_second_factor(signed.token, "000000", ports)
    session = uc.confirm_second_factor(signed.token, code_now(enrolment.secret, ports), ports)
    assert session.stage is SessionStage.FULL
    stored = ports.staff.accounts[admin.account_id]
    assert stored.totp_secret == enrolment.secret
    # The next sign-in asks for the code.
    ports.clock.advance(dt.timedelta(minutes=1))
    assert sign_in(ports, admin.email).session.stage is SessionStage.SECOND_FACTOR


def test_replacing_a_second_factor_takes_the_password_and_a_code_of_the_old_one(
    ports: Ports,
) -> None:
    admin = an_admin(ports)
    token = fully_signed_in(ports, admin)
    ports.clock.advance(dt.timedelta(seconds=30))  # the sign-in's code is used
    new = uc.enrol_second_factor(token, ports)
    new_code, old_code = code_now(new.secret, ports), code_now(admin.totp_secret, ports)
    for password, current_code in (("", ""), (PASSWORD, ""), ("wrong password here", old_code),
                                   (PASSWORD, "000000")):  # fmt: skip
        with pytest.raises(uc.ReauthRefused):
            uc.confirm_second_factor(
                token, new_code, ports, password=password, current_code=current_code
            )
    assert ports.staff.accounts[admin.account_id].totp_secret == admin.totp_secret
    uc.confirm_second_factor(token, new_code, ports, password=PASSWORD, current_code=old_code)
    assert ports.staff.accounts[admin.account_id].totp_secret == new.secret


def test_guessing_the_password_to_replace_a_second_factor_locks_the_address(
    ports: Ports,
) -> None:
    admin = an_admin(ports)
    token = fully_signed_in(ports, admin)
    new = uc.enrol_second_factor(token, ports)
    for _ in range(MAX_FAILURES - 1):
        with pytest.raises(uc.ReauthRefused):
            uc.confirm_second_factor(token, code_now(new.secret, ports), ports, password="guess")
    with pytest.raises(uc.AccountLocked):
        uc.confirm_second_factor(token, code_now(new.secret, ports), ports, password="guess")
    with pytest.raises(uc.AccountLocked):
        sign_in(ports, admin.email)
    assert ports.staff.accounts[admin.account_id].totp_secret == admin.totp_secret


def test_replacing_a_second_factor_ends_every_other_session_and_is_recorded_in_its_commit(
    ports: Ports,
) -> None:
    admin = an_admin(ports)
    token = fully_signed_in(ports, admin)
    ports.clock.advance(dt.timedelta(seconds=30))  # each sign-in takes a code of its own
    elsewhere = fully_signed_in(ports, admin)
    halfway = sign_in(ports, admin.email).token  # the password given, the code not yet
    ports.clock.advance(dt.timedelta(seconds=30))
    new = uc.enrol_second_factor(token, ports)
    commits = ports.staff.commits
    kept = uc.confirm_second_factor(
        token,
        code_now(new.secret, ports),
        ports,
        password=PASSWORD,
        current_code=code_now(admin.totp_secret, ports),
    )
    assert ports.staff.commits == commits + 1  # the factor, the epoch and the record
    stored = ports.staff.accounts[admin.account_id]
    assert stored.totp_secret == new.secret
    assert stored.session_epoch == admin.session_epoch + 1
    current = uc.current_session(token, ports)
    assert current is not None and current.session.stage is SessionStage.FULL
    assert kept.epoch == stored.session_epoch and kept.csrf_token == current.session.csrf_token
    assert uc.current_session(elsewhere, ports) is None
    with pytest.raises(uc.SessionOver):
        uc.verify_second_factor(halfway, code_now(new.secret, ports), ports)
    assert list(ports.staff.sessions) == [kept.session_id]  # the others are tidied away
    (entry,) = [
        e for e in ports.staff.audit.logged.values() if e.kind == "staff.second_factor_replaced"
    ]
    assert (entry.agency_id, entry.actor_id, entry.actor_name, entry.target) == (
        "dpupr-cianjur",
        f"staff:{admin.account_id}",
        admin.name,
        admin.account_id,
    )
    assert entry.at == NOW + dt.timedelta(minutes=1)
    assert admin.totp_secret is not None
    assert new.secret not in repr(entry) and admin.totp_secret not in repr(entry)


def test_a_first_enrolment_ends_no_session_and_records_nothing(ports: Ports) -> None:
    officer = an_account(ports)
    token, other = sign_in(ports).token, sign_in(ports).token
    enrolment = uc.enrol_second_factor(token, ports)
    uc.confirm_second_factor(token, code_now(enrolment.secret, ports), ports)
    assert ports.staff.accounts[officer.account_id].session_epoch == officer.session_epoch
    assert uc.current_session(token, ports) is not None
    assert uc.current_session(other, ports) is not None
    assert not any(e.target == officer.account_id and e.kind != "staff.invited"
                   for e in ports.staff.audit.logged.values())  # fmt: skip


def test_a_code_is_not_accepted_twice(ports: Ports) -> None:
    admin = an_admin(ports)
    code = code_now(admin.totp_secret, ports)
    uc.verify_second_factor(sign_in(ports, admin.email).token, code, ports)
    again = sign_in(ports, admin.email)
    with pytest.raises(uc.CodeRefused):
        uc.verify_second_factor(again.token, code, ports)


def test_a_session_waiting_for_its_code_is_not_a_sign_in(ports: Ports) -> None:
    admin = an_admin(ports)
    signed = sign_in(ports, admin.email)
    current = uc.current_session(signed.token, ports)
    assert current is not None and current.session.stage is SessionStage.SECOND_FACTOR
    ports.clock.advance(dt.timedelta(minutes=10))
    assert uc.current_session(signed.token, ports) is None
    with pytest.raises(uc.SessionOver):
        uc.verify_second_factor(signed.token, code_now(admin.totp_secret, ports), ports)


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("budi@uptd.example", "wrong password here"),
        ("nobody@uptd.example", PASSWORD),
        ("", ""),
    ],
)
def test_a_wrong_address_or_password_gets_one_answer(
    ports: Ports, email: str, password: str
) -> None:
    an_account(ports)
    with pytest.raises(uc.SignInRefused) as refused:
        uc.sign_in(email, password, ports, client_key="c")
    assert refused.value.message("id") == "E-mail atau kata sandi salah."
    assert refused.value.message("en") == "Wrong e-mail address or password."


def test_an_unknown_address_costs_the_same_hash_check(
    ports: Ports, monkeypatch: pytest.MonkeyPatch
) -> None:
    an_account(ports)
    checked: list[str] = []
    real = PasswordHasher.verify

    def counting(self: PasswordHasher, hash: str, password: str) -> bool:
        checked.append(hash)
        return real(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting)
    for email in ("budi@uptd.example", "nobody@uptd.example"):
        with pytest.raises(uc.SignInRefused):
            uc.sign_in(email, "wrong password here", ports, client_key="c")
    assert len(checked) == 2 and all(h.startswith("$argon2id$") for h in checked)


def test_five_failures_lock_the_address_even_for_the_right_password(ports: Ports) -> None:
    an_account(ports)
    for _ in range(MAX_FAILURES):
        with pytest.raises(uc.SignInRefused):
            sign_in(ports, password="wrong password here")
    with pytest.raises(uc.AccountLocked) as locked:
        sign_in(ports)
    assert locked.value.until == NOW + FIRST_LOCK
    assert "Terlalu banyak percobaan" in locked.value.message("id", "10.15 WIB")
    assert "10.15 WIB" in locked.value.message("id", "10.15 WIB")
    ports.clock.advance(FIRST_LOCK)
    assert sign_in(ports).session.stage is SessionStage.FULL


def test_an_unknown_address_locks_too_so_a_lock_says_nothing(ports: Ports) -> None:
    for _ in range(MAX_FAILURES):
        with pytest.raises(uc.SignInRefused):
            sign_in(ports, "nobody@uptd.example")
    with pytest.raises(uc.AccountLocked):
        sign_in(ports, "nobody@uptd.example")


def test_a_success_forgets_earlier_failures(ports: Ports) -> None:
    an_account(ports)
    for _ in range(MAX_FAILURES - 1):
        with pytest.raises(uc.SignInRefused):
            sign_in(ports, password="wrong password here")
    sign_in(ports)
    for _ in range(MAX_FAILURES - 1):
        with pytest.raises(uc.SignInRefused):
            sign_in(ports, password="wrong password here")
    assert sign_in(ports).session.stage is SessionStage.FULL


def test_wrong_codes_count_as_failures_of_the_address(ports: Ports) -> None:
    admin = an_admin(ports)
    signed = sign_in(ports, admin.email)
    for _ in range(MAX_FAILURES - 1):
        with pytest.raises(uc.CodeRefused):
            uc.verify_second_factor(signed.token, "000000", ports)
    with pytest.raises(uc.AccountLocked):
        uc.verify_second_factor(signed.token, "000000", ports)
    with pytest.raises(uc.AccountLocked):
        sign_in(ports, admin.email)


def test_a_client_trying_too_often_is_slowed_before_any_lookup(ports: Ports) -> None:
    ports.settings = ports.settings.model_copy(update={"staff_client_limit": 3})
    an_account(ports)
    for _ in range(3):
        sign_in(ports)
    with pytest.raises(uc.ClientLimited) as limited:
        sign_in(ports)
    assert 0 < limited.value.retry_after_s <= ports.settings.staff_client_window_s
    # Another client is not slowed by it.
    uc.sign_in("budi@uptd.example", PASSWORD, ports, client_key="198.51.100.1")


def test_a_deactivated_or_not_yet_accepted_account_cannot_sign_in(ports: Ports) -> None:
    account = an_account(ports)
    uc.deactivate(uc.SYSTEM, account.account_id, ports)
    with pytest.raises(uc.SignInRefused):
        sign_in(ports)
    uc.invite(uc.SYSTEM, "new@uptd.example", "Baru", Role.UNIT_OFFICER, "uptd-jalan-cianjur", ports)
    with pytest.raises(uc.SignInRefused):
        sign_in(ports, "new@uptd.example", "")


def test_a_hash_made_with_older_parameters_is_replaced_at_sign_in(ports: Ports) -> None:
    account = an_account(ports)
    # Made when the deployment asked for less than it does now (one pass, two lanes).
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=2).hash(PASSWORD)
    stored_before = ports.staff.accounts[account.account_id]
    ports.staff.accounts[account.account_id] = replace(stored_before, password_hash=weak)
    sign_in(ports)
    stored = ports.staff.accounts[account.account_id].password_hash
    current = PasswordHasher(time_cost=1, memory_cost=8192)
    assert stored != weak and not current.check_needs_rehash(stored or "")
    assert sign_in(ports).session.stage is SessionStage.FULL


# --- sessions ---


def test_a_session_ends_after_thirty_idle_minutes(ports: Ports) -> None:
    an_account(ports)
    token = sign_in(ports).token
    ports.clock.advance(dt.timedelta(minutes=29))
    assert uc.current_session(token, ports) is not None  # and keeps it fresh
    ports.clock.advance(dt.timedelta(minutes=29))
    assert uc.current_session(token, ports) is not None
    ports.clock.advance(dt.timedelta(minutes=30))
    assert uc.current_session(token, ports) is None


def test_the_idle_timer_is_written_only_every_five_minutes(ports: Ports) -> None:
    an_account(ports)
    signed = sign_in(ports)
    ports.clock.advance(dt.timedelta(minutes=4))
    uc.current_session(signed.token, ports)
    assert ports.staff.sessions[signed.session.session_id].last_seen_at == NOW
    ports.clock.advance(dt.timedelta(minutes=1))
    uc.current_session(signed.token, ports)
    assert ports.staff.sessions[signed.session.session_id].last_seen_at == ports.clock.now()


def test_a_session_ends_after_twelve_hours_however_busy(ports: Ports) -> None:
    an_account(ports)
    token = sign_in(ports).token
    for _ in range(12 * 4 - 1):
        ports.clock.advance(dt.timedelta(minutes=15))
        assert uc.current_session(token, ports) is not None
    ports.clock.advance(dt.timedelta(minutes=15))
    assert uc.current_session(token, ports) is None


@pytest.mark.parametrize("token", ["", "not-a-session", "x" * 500])
def test_an_unknown_token_is_no_session(ports: Ports, token: str) -> None:
    assert uc.current_session(token, ports) is None


def test_signing_out_ends_that_session_only(ports: Ports) -> None:
    an_account(ports)
    first, second = sign_in(ports), sign_in(ports)
    uc.sign_out(first.token, ports)
    assert uc.current_session(first.token, ports) is None
    assert uc.current_session(second.token, ports) is not None


def test_signing_out_everywhere_ends_every_session(ports: Ports) -> None:
    account = an_account(ports)
    tokens = [sign_in(ports).token for _ in range(3)]
    assert len(uc.sessions_of(account.account_id, ports)) == 3
    uc.sign_out_everywhere(account.account_id, ports)
    assert all(uc.current_session(token, ports) is None for token in tokens)
    assert uc.sessions_of(account.account_id, ports) == []
    assert sign_in(ports).session.stage is SessionStage.FULL  # a new one still works


def test_sessions_of_lists_only_live_full_sessions_newest_first(ports: Ports) -> None:
    account = an_account(ports)
    old = sign_in(ports)
    ports.clock.advance(dt.timedelta(minutes=10))
    new = sign_in(ports)
    listed = uc.sessions_of(account.account_id, ports)
    assert [s.session_id for s in listed] == [new.session.session_id, old.session.session_id]
    ports.clock.advance(dt.timedelta(minutes=25))
    assert [s.session_id for s in uc.sessions_of(account.account_id, ports)] == [
        new.session.session_id
    ]


# --- invitations ---


def test_an_agency_admin_invites_an_officer_into_its_unit(ports: Ports) -> None:
    admin = an_admin(ports)
    invited = uc.invite(
        admin, " Rina@UPTD.example", "  Rina   Wati ", "unit_officer", "uptd-jalan-cianjur", ports
    )
    assert (invited.email, invited.name, invited.role) == (
        "rina@uptd.example",
        "Rina Wati",
        Role.UNIT_OFFICER,
    )
    assert invited.password_hash is None and invited.created_by == f"staff:{admin.account_id}"
    # The e-mail goes through the outbox, naming the account and the link, not the
    # address or the token; it is published after the commit.
    (message,) = [m for m in ports.staff.outbox.values() if m.data["kind"] == "staff.invitation"]
    assert message.topic == "agency-notifications"
    assert set(message.data) == {
        "notification_id", "kind", "agency_id", "account_id", "link_id", "language"
    }  # fmt: skip
    assert message.data["account_id"] == invited.account_id
    assert "rina" not in str(message.data)
    assert [m.id for m in ports.publisher.published] == [message.id]
    (entry,) = [e for e in ports.staff.audit.logged.values() if e.kind == "staff.invited"
                and e.target == invited.account_id]  # fmt: skip
    assert entry.actor_id == f"staff:{admin.account_id}" and entry.agency_id == "uptd-jalan-cianjur"
    assert entry.details == {"email": "rina@uptd.example", "role": "unit_officer"}


def test_the_invited_person_sets_a_password_once_then_signs_in(ports: Ports) -> None:
    invited = uc.invite(
        uc.SYSTEM, "rina@uptd.example", "Rina", "unit_officer", "uptd-jalan-cianjur", ports
    )
    token = invitation_token(ports, invited.account_id)
    found = uc.link_for(token, LinkPurpose.INVITATION, ports)
    assert found is not None and found.account.email == "rina@uptd.example"
    assert uc.link_for(token, LinkPurpose.PASSWORD_RESET, ports) is None
    with pytest.raises(uc.InvalidInput) as weak:
        uc.accept_invitation(token, "password1234", ports)
    assert weak.value.problems == {"password": "password-too-common"}
    uc.accept_invitation(token, PASSWORD, ports)  # the weak try did not use the link
    assert sign_in(ports, "rina@uptd.example").session.stage is SessionStage.FULL
    with pytest.raises(uc.LinkInvalid):
        uc.accept_invitation(token, "another good passphrase", ports)
    assert uc.link_for(token, LinkPurpose.INVITATION, ports) is None


def test_an_invited_admin_enrols_a_second_factor_at_the_first_sign_in(ports: Ports) -> None:
    invited = uc.invite(
        uc.SYSTEM, "kepala@dinkes.example", "Kepala", "agency_admin", "dinkes-cianjur", ports
    )
    uc.accept_invitation(invitation_token(ports, invited.account_id), PASSWORD, ports)
    assert sign_in(ports, "kepala@dinkes.example").session.stage is SessionStage.ENROL


def test_an_invitation_expires_after_seven_days(ports: Ports) -> None:
    invited = uc.invite(
        uc.SYSTEM, "rina@uptd.example", "Rina", "unit_officer", "uptd-jalan-cianjur", ports
    )
    token = invitation_token(ports, invited.account_id)
    ports.clock.advance(dt.timedelta(days=7))
    with pytest.raises(uc.LinkInvalid):
        uc.accept_invitation(token, PASSWORD, ports)


@pytest.mark.parametrize("token", ["", "nonsense", "x" * 300])
def test_a_made_up_link_is_invalid(ports: Ports, token: str) -> None:
    with pytest.raises(uc.LinkInvalid):
        uc.accept_invitation(token, PASSWORD, ports)


@pytest.mark.parametrize(
    "agency_id",
    [
        "dinkes-cianjur",  # another agency
        "pemkab-cianjur",  # the agency above
        "nasional",  # the national agency
        "no-such-agency",  # none at all: the others answer exactly as this one
    ],
)
def test_an_agency_admin_invites_only_into_what_it_runs_and_another_agency_is_as_unknown(
    ports: Ports, agency_id: str
) -> None:
    admin = an_admin(ports)
    for role in (Role.UNIT_OFFICER, Role.AGENCY_ADMIN, Role.NATIONAL_ADMIN):
        with pytest.raises(uc.InvalidInput) as refused:
            uc.invite(admin, "x@y.example", "X", role, agency_id, ports)
        assert refused.value.problems == {"agency_id": "agency-invalid"}
    with pytest.raises(uc.InvalidInput) as refused:  # another field wrong too: the same
        uc.invite(admin, "bukan-alamat", "X", Role.UNIT_OFFICER, agency_id, ports)
    assert refused.value.problems == {"email": "email-invalid", "agency_id": "agency-invalid"}
    assert ports.staff.outbox == {} and len(ports.staff.accounts) == 1


def test_an_officer_invites_no_one(ports: Ports) -> None:
    officer = an_account(ports)
    with pytest.raises(uc.NotAllowed):
        uc.invite(officer, "x@y.example", "X", "unit_officer", "uptd-jalan-cianjur", ports)


def test_the_national_admin_invites_anywhere(ports: Ports) -> None:
    national = an_admin(ports, "nasional")
    uc.invite(national, "a@dinkes.example", "A", "agency_admin", "dinkes-cianjur", ports)
    uc.invite(national, "b@kemen.example", "B", "national_admin", "nasional", ports)


@pytest.mark.parametrize(
    ("email", "name", "role", "agency_id", "problems"),
    [
        ("not-an-address", "X", "unit_officer", "uptd-jalan-cianjur", {"email": "email-invalid"}),
        ("x@y.example", "   ", "unit_officer", "uptd-jalan-cianjur", {"name": "name-required"}),
        ("x@y.example", "X", "reporter", "uptd-jalan-cianjur", {"role": "role-invalid"}),
        ("x@y.example", "X", "unit_officer", "no-such-agency", {"agency_id": "agency-invalid"}),
        ("x@y.example", "X", "national_admin", "dinkes-cianjur", {"role": "role-invalid"}),
        ("x@y.example", "X", "agency_admin", "nasional", {"role": "role-invalid"}),
    ],
)
def test_an_invitation_is_checked_field_by_field(
    ports: Ports, email: str, name: str, role: str, agency_id: str, problems: dict[str, str]
) -> None:
    with pytest.raises(uc.InvalidInput) as invalid:
        uc.invite(uc.SYSTEM, email, name, role, agency_id, ports)
    assert invalid.value.problems == problems
    assert all(uc.message(code, "en") for code in problems.values())


def test_an_address_has_one_account(ports: Ports) -> None:
    an_account(ports)
    with pytest.raises(uc.AddressTaken):
        uc.invite(uc.SYSTEM, "BUDI@uptd.example", "B", "unit_officer", "uptd-jalan-cianjur", ports)
    assert ports.staff.outbox == {}


# --- password resets ---


def test_a_reset_link_is_sent_only_to_a_known_active_address(ports: Ports) -> None:
    account = an_account(ports)
    uc.request_password_reset("nobody@uptd.example", ports, client_key="c")
    assert ports.staff.outbox == {}
    uc.request_password_reset("Budi@uptd.example", ports, client_key="c", language="en")
    (message,) = ports.staff.outbox.values()
    assert message.data["kind"] == "staff.password_reset"
    assert message.data["language"] == "en"
    assert message.data["account_id"] == account.account_id
    (entry,) = [
        e for e in ports.staff.audit.logged.values() if e.kind == "staff.password_reset_requested"
    ]
    assert entry.target == account.account_id


def test_a_reset_sets_the_password_ends_sessions_and_lifts_a_lock(ports: Ports) -> None:
    account = an_account(ports)
    old_session = sign_in(ports).token
    for _ in range(MAX_FAILURES):
        with pytest.raises(uc.SignInRefused):
            sign_in(ports, password="wrong password here")
    uc.request_password_reset(account.email, ports, client_key="c")
    token = invitation_token(ports, account.account_id, "staff.password_reset")
    uc.reset_password(token, "a brand new passphrase", ports)
    assert uc.current_session(old_session, ports) is None
    assert sign_in(ports, password="a brand new passphrase").session.stage is SessionStage.FULL
    with pytest.raises(uc.SignInRefused):
        sign_in(ports)  # the old password


def test_a_reset_link_lasts_an_hour(ports: Ports) -> None:
    account = an_account(ports)
    uc.request_password_reset(account.email, ports, client_key="c")
    token = invitation_token(ports, account.account_id, "staff.password_reset")
    ports.clock.advance(dt.timedelta(minutes=60))
    with pytest.raises(uc.LinkInvalid):
        uc.reset_password(token, "a brand new passphrase", ports)


def test_at_most_three_reset_links_an_hour_go_to_one_account(ports: Ports) -> None:
    account = an_account(ports)
    for _ in range(5):
        uc.request_password_reset(account.email, ports, client_key="c")
    assert len(ports.staff.outbox) == uc.RESETS_PER_HOUR == 3
    ports.clock.advance(dt.timedelta(hours=1))
    uc.request_password_reset(account.email, ports, client_key="c")
    assert len(ports.staff.outbox) == 4


def test_a_lost_invitation_is_sent_again_until_the_password_is_set(ports: Ports) -> None:
    admin = an_admin(ports)
    invited = uc.invite(admin, "rina@uptd.example", "Rina", "unit_officer",
                        "uptd-jalan-cianjur", ports)  # fmt: skip
    first = invitation_token(ports, invited.account_id)
    ports.clock.advance(dt.timedelta(days=8))
    uc.resend_invitation(admin, invited.account_id, ports)
    (again,) = [e for e in ports.staff.audit.logged.values() if e.details.get("again") == "yes"]
    assert (again.kind, again.target) == ("staff.invited", invited.account_id)
    tokens = {
        link_token(ports.settings.token_secret, str(m.data["link_id"]))
        for m in ports.staff.outbox.values()
    }
    (second,) = tokens - {first}
    with pytest.raises(uc.LinkInvalid):
        uc.accept_invitation(first, PASSWORD, ports)  # expired
    uc.accept_invitation(second, PASSWORD, ports)
    with pytest.raises(uc.NotWaiting):
        uc.resend_invitation(admin, invited.account_id, ports)
    other = uc.invite(uc.SYSTEM, "x@dinkes.example", "X", "unit_officer", "dinkes-cianjur", ports)
    with pytest.raises(uc.AccountNotFound):  # another agency's: as an unknown one
        uc.resend_invitation(admin, other.account_id, ports)
    with pytest.raises(uc.AccountNotFound):
        uc.resend_invitation(admin, "no-such-account", ports)


def test_an_invitation_link_does_not_reset_a_password(ports: Ports) -> None:
    invited = uc.invite(
        uc.SYSTEM, "rina@uptd.example", "Rina", "unit_officer", "uptd-jalan-cianjur", ports
    )
    with pytest.raises(uc.LinkInvalid):
        uc.reset_password(invitation_token(ports, invited.account_id), PASSWORD, ports)


# --- running the staff ---


def test_deactivating_ends_sessions_and_is_recorded(ports: Ports) -> None:
    admin = an_admin(ports)
    officer = an_account(ports)
    token = sign_in(ports).token
    changed = uc.deactivate(admin, officer.account_id, ports)
    assert not changed.active
    assert uc.current_session(token, ports) is None
    assert ports.staff.sessions_of(officer.account_id) == []
    kinds = [e.kind for e in ports.staff.audit.logged.values() if e.target == officer.account_id]
    assert "staff.deactivated" in kinds
    uc.reactivate(admin, officer.account_id, ports)
    assert sign_in(ports).session.stage is SessionStage.FULL


def test_no_one_deactivates_themselves(ports: Ports) -> None:
    admin = an_admin(ports)
    with pytest.raises(uc.NotAllowed):
        uc.deactivate(admin, admin.account_id, ports)
    assert ports.staff.accounts[admin.account_id].active
    officer = an_account(ports)
    with pytest.raises(uc.NotAllowed):
        uc.deactivate(officer, officer.account_id, ports)


def test_an_officer_manages_no_one_else_and_sees_no_one(ports: Ports) -> None:
    officer = an_account(ports)
    colleague = an_account(ports, email="siti@uptd.example")
    with pytest.raises(uc.AccountNotFound):
        uc.deactivate(officer, colleague.account_id, ports)


def test_an_agency_admin_manages_only_its_own_tree(ports: Ports) -> None:
    admin = an_admin(ports)
    other = an_account(ports, Role.UNIT_OFFICER, "dinkes-cianjur", "x@dinkes.example")
    # Another agency's account is, to this admin, as unknown as a made-up id.
    for change in (uc.deactivate, uc.reactivate, uc.reset_second_factor):
        with pytest.raises(uc.AccountNotFound):
            change(admin, other.account_id, ports)
    assert ports.staff.accounts[other.account_id] == other
    assert not uc.may_manage(admin, other, REFERENCE)
    national = an_admin(ports, "nasional")
    assert uc.may_manage(national, other, REFERENCE)
    assert not uc.may_manage(admin, national, REFERENCE)


def test_an_unknown_account_is_not_found(ports: Ports) -> None:
    with pytest.raises(uc.AccountNotFound):
        uc.deactivate(uc.SYSTEM, "no-such-account", ports)


def test_resetting_the_second_factor_makes_an_admin_enrol_again(ports: Ports) -> None:
    national = an_admin(ports, "nasional")
    admin = an_admin(ports)
    token = fully_signed_in(ports, admin)
    uc.reset_second_factor(national, admin.account_id, ports)
    assert uc.current_session(token, ports) is None
    assert ports.staff.accounts[admin.account_id].totp_secret is None
    assert sign_in(ports, admin.email).session.stage is SessionStage.ENROL


def test_agency_staff_lists_the_agency_and_its_units(ports: Ports) -> None:
    admin = an_admin(ports)
    officer = an_account(ports)
    an_account(ports, Role.UNIT_OFFICER, "dinkes-cianjur", "x@dinkes.example")
    listed = uc.agency_staff(admin, None, ports)
    assert {a.account_id for a in listed} == {admin.account_id, officer.account_id}
    with pytest.raises(uc.NotAllowed):
        uc.agency_staff(admin, "dinkes-cianjur", ports)
    national = an_admin(ports, "nasional")
    assert len(uc.agency_staff(national, "pemkab-cianjur", ports)) == 3


def test_every_message_code_has_both_languages() -> None:
    for code, (id_text, en_text) in uc.MESSAGES.items():
        assert id_text and en_text and id_text != en_text, code
