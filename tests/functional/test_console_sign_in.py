"""The console's sign-in through functions-framework against the real emulators:
password and TOTP, the admins' enrolment, cookies, CSRF, sign-out (here and
everywhere), expiry and deactivation, lockout, invitations and password resets, and
no open redirect after sign-in."""

from __future__ import annotations

import datetime as dt
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

import pyotp
import pytest
from google.cloud import firestore

from shared import wiring
from shared.domain.report import Role
from shared.domain.staff import link_token
from shared.usecases import staff as staff_usecases
from tests.functional.console_support import (
    PASSWORD,
    ConsoleClient,
    csrf_of,
    location,
    new_member,
    sign_in,
)

SignedIn = Callable[..., ConsoleClient]


def _sign_in_form(browser: ConsoleClient, email: str, password: str, **extra: str) -> Any:
    page = browser.get("/masuk")
    return browser.post(
        "/masuk", {"email": email, "password": password, **extra}, csrf=csrf_of(page.text)
    )


# --- the pages and their headers ---------------------------------------------------------


def test_the_sign_in_page_is_indonesian_first_without_script_and_not_cached(
    anonymous_client: ConsoleClient,
) -> None:
    page = anonymous_client.get("/masuk")
    assert page.status_code == 200
    html = page.text
    assert '<html lang="id">' in html
    assert "Masuk ke konsol" in html and 'for="email"' in html and 'for="password"' in html
    assert "<script" not in html
    policy = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy
    assert "form-action 'self'" in policy and "frame-ancestors 'none'" in policy
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["X-Frame-Options"] == "DENY"
    english = anonymous_client.get("/masuk?lang=en")
    assert '<html lang="en">' in english.text and "Sign in to the console" in english.text


def test_the_root_and_health_answer(anonymous_client: ConsoleClient) -> None:
    root = anonymous_client.get("/")
    assert root.status_code == 303 and location(root) == "/kotak-masuk"
    assert anonymous_client.get("/healthz").json == {"status": "ok"}
    missing = anonymous_client.get("/tidak-ada")
    assert missing.status_code == 404 and "Halaman tidak ditemukan" in missing.text


def test_a_page_asks_to_sign_in_and_comes_back_after(anonymous_client: ConsoleClient) -> None:
    answer = anonymous_client.get("/akun")
    assert answer.status_code == 303
    assert location(answer) == "/masuk?next=%2Fakun"
    member = new_member(Role.UNIT_OFFICER, "uptd-jalan-cianjur")
    page = anonymous_client.get(location(answer))
    assert 'name="next" value="/akun"' in page.text
    signed = anonymous_client.post(
        "/masuk",
        {"email": member.email, "password": PASSWORD, "next": "/akun"},
        csrf=csrf_of(page.text),
    )
    assert signed.status_code == 303 and location(signed) == "/akun"
    # Signed in already, the sign-in page goes where it would have gone.
    again = anonymous_client.get("/masuk?next=%2Fakun")
    assert again.status_code == 303 and location(again) == "/akun"


@pytest.mark.parametrize(
    "wanted",
    ["//evil.example/x", "https://evil.example/", "/\\evil.example", "evil.example", "/\tx"],
)
def test_after_sign_in_no_other_site_is_reached(
    anonymous_client: ConsoleClient, wanted: str
) -> None:
    member = new_member(Role.UNIT_OFFICER, "uptd-jalan-cianjur")
    answer = _sign_in_form(anonymous_client, member.email, PASSWORD, next=wanted)
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/kotak-masuk"


# --- password and code ---------------------------------------------------------------------


def test_an_officer_signs_in_with_a_password_and_gets_a_session_cookie(
    anonymous_client: ConsoleClient,
) -> None:
    member = new_member(Role.UNIT_OFFICER, "uptd-jalan-cianjur")
    answer = _sign_in_form(anonymous_client, member.email, PASSWORD)
    assert answer.status_code == 303 and location(answer) == "/kotak-masuk"
    cookie = next(c for c in answer.headers.getlist("Set-Cookie") if c.startswith("lapor_console="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    token = cookie.split(";")[0].split("=", 1)[1]
    assert len(token) >= 40
    account = anonymous_client.get("/akun")
    assert account.status_code == 200 and member.email in account.text


def test_an_admin_needs_the_code_after_the_password(anonymous_client: ConsoleClient) -> None:
    member = new_member(Role.AGENCY_ADMIN, "dpupr-cianjur")
    answer = _sign_in_form(anonymous_client, member.email, PASSWORD, next="/akun")
    assert location(answer) == "/masuk/kode?next=%2Fakun"
    # Half signed in is not signed in.
    assert location(anonymous_client.get("/akun")).startswith("/masuk/kode")
    page = anonymous_client.get("/masuk/kode?next=%2Fakun")
    assert "Kode dari aplikasi autentikator" in page.text
    wrong = anonymous_client.post("/masuk/kode?next=%2Fakun", {"code": "000000"})
    assert wrong.status_code == 401
    assert 'href="#code"' in wrong.text and 'aria-invalid="true"' in wrong.text
    right = anonymous_client.post("/masuk/kode?next=%2Fakun", {"code": member.code()})
    assert right.status_code == 303 and location(right) == "/akun"
    assert anonymous_client.get("/akun").status_code == 200


def test_the_tests_hash_passwords_at_the_least_cost(signed_in_client: SignedIn) -> None:
    """CHEAP_PASSWORD_HASHES reaches the use cases the pages and the fixtures call."""
    officer = signed_in_client(Role.UNIT_OFFICER, "uptd-jalan-cianjur")
    assert officer.member is not None
    account = wiring.staff_store().account(officer.member.account_id)
    assert account is not None and account.password_hash is not None
    assert account.password_hash.startswith("$argon2id$v=19$m=8192,t=1,")


def test_a_wrong_password_and_an_unknown_address_get_the_same_answer(
    anonymous_client: ConsoleClient,
) -> None:
    member = new_member(Role.UNIT_OFFICER, "uptd-jalan-cianjur")
    wrong = _sign_in_form(anonymous_client, member.email, "bukan kata sandinya")
    unknown = _sign_in_form(anonymous_client, "tidak-ada@contoh.go.id", "bukan kata sandinya")
    for answer in (wrong, unknown):
        assert answer.status_code == 401
        assert "E-mail atau kata sandi salah." in answer.text
        assert 'href="#email"' in answer.text  # the summary links to the field
        assert not any(c.startswith("lapor_console=") for c in answer.headers.getlist("Set-Cookie"))


def test_repeated_failures_lock_the_address_until_a_time_in_wib(
    anonymous_client: ConsoleClient,
) -> None:
    member = new_member(Role.UNIT_OFFICER, "uptd-jalan-cianjur")
    for _ in range(5):
        _sign_in_form(anonymous_client, member.email, "bukan kata sandinya")
    locked = _sign_in_form(anonymous_client, member.email, PASSWORD)
    assert locked.status_code == 429
    assert 14 * 60 < int(locked.headers["Retry-After"]) <= 15 * 60
    assert re.search(r"Terlalu banyak percobaan\. Coba lagi setelah \d\d\.\d\d WIB\.", locked.text)


def test_a_form_without_its_token_changes_nothing(signed_in_client: SignedIn) -> None:
    officer = signed_in_client(Role.UNIT_OFFICER, "uptd-jalan-cianjur")
    for token in (None, "salah"):
        refused = officer.post("/akun/keluar-semua", csrf=token)
        assert refused.status_code == 403
        assert "Formulir kedaluwarsa, muat ulang halaman" in refused.text
    assert officer.get("/akun").status_code == 200  # still signed in
    # The sign-in form checks its own token (a cookie the form repeats) too.
    stranger = ConsoleClient(officer.client.application.test_client())
    member = new_member(Role.UNIT_OFFICER, "uptd-jalan-cianjur")
    forged = stranger.post("/masuk", {"email": member.email, "password": PASSWORD}, csrf="x" * 43)
    assert forged.status_code == 403


def test_production_cookies_are_secure_host_only(
    console_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAPOR_CONSOLE_INSECURE_COOKIES", "false")
    wiring.reset()
    member = new_member(Role.UNIT_OFFICER, "uptd-jalan-cianjur")
    client = console_app.test_client()
    page = client.get("/masuk", base_url="https://console.example")
    form_cookie = page.headers["Set-Cookie"]
    assert form_cookie.startswith("__Host-lapor_console_form=") and "Secure" in form_cookie
    answer = client.post(
        "/masuk",
        data={"email": member.email, "password": PASSWORD, "csrf": csrf_of(page.text)},
        base_url="https://console.example",
    )
    assert answer.status_code == 303
    cookie = next(c for c in answer.headers.getlist("Set-Cookie") if "lapor_console=" in c)
    assert cookie.startswith("__Host-lapor_console=")
    for part in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
        assert part in cookie
    assert "Domain=" not in cookie


# --- enrolment -----------------------------------------------------------------------------


def test_an_admin_without_a_second_factor_enrols_before_anything_else(
    anonymous_client: ConsoleClient,
) -> None:
    member = new_member(Role.AGENCY_ADMIN, "dinkes-cianjur", second_factor=False)
    answer = _sign_in_form(anonymous_client, member.email, PASSWORD)
    assert location(answer) == "/masuk/daftar-kode"
    assert location(anonymous_client.get("/akun")).startswith("/masuk/daftar-kode")
    page = anonymous_client.get("/masuk/daftar-kode")
    assert page.status_code == 200
    assert "data:image/svg+xml;base64," in page.text and "otpauth://totp/" in page.text
    secret = re.search(r'class="secret">([A-Z2-7 ]+)<', page.text)
    assert secret, "the key is shown"
    grouped = secret.group(1)
    assert all(len(group) == 4 for group in grouped.split()[:-1])
    again = anonymous_client.get("/masuk/daftar-kode")
    assert grouped in again.text  # the same key after a reload
    wrong = anonymous_client.post("/masuk/daftar-kode", {"code": "123456"})
    assert wrong.status_code == 422 and grouped in wrong.text
    code = pyotp.TOTP(grouped.replace(" ", "")).now()
    done = anonymous_client.post("/masuk/daftar-kode", {"code": code})
    assert done.status_code == 303 and location(done).startswith("/kotak-masuk")
    assert anonymous_client.get("/akun").status_code == 200
    account = wiring.staff_store().account(member.account_id)
    assert account is not None and account.has_second_factor


def test_an_officer_may_add_a_second_factor_from_the_account_page(
    signed_in_client: SignedIn,
) -> None:
    officer = signed_in_client(Role.UNIT_OFFICER, "uptd-jalan-cianjur")
    assert officer.member is not None
    assert "Belum aktif" in officer.get("/akun").text
    page = officer.get("/masuk/daftar-kode")
    assert page.status_code == 200 and "Admin wajib" not in page.text
    secret = re.search(r'class="secret">([A-Z2-7 ]+)<', page.text)
    assert secret
    done = officer.post(
        "/masuk/daftar-kode", {"code": pyotp.TOTP(secret.group(1).replace(" ", "")).now()}
    )
    assert done.status_code == 303 and location(done).startswith("/akun?ok=")
    assert "Aktif" in officer.get("/akun").text
    # From now on the code is asked after the password.
    again = _sign_in_form(
        ConsoleClient(officer.client.application.test_client()), officer.member.email, PASSWORD
    )
    assert location(again).startswith("/masuk/kode")


def test_replacing_a_second_factor_takes_the_password_and_a_code_of_the_old_one(
    signed_in_client: SignedIn,
) -> None:
    admin = signed_in_client(Role.AGENCY_ADMIN, "dpupr-cianjur")
    member = admin.member
    assert member is not None
    assert "ganti aplikasi autentikator" in admin.get("/akun").text
    page = admin.get("/masuk/daftar-kode")
    assert page.status_code == 200 and "Ganti aplikasi autentikator" in page.text
    secret = re.search(r'class="secret">([A-Z2-7 ]+)<', page.text)
    assert secret
    new_secret = secret.group(1).replace(" ", "")
    new_code = pyotp.TOTP(new_secret).now()

    def stored_secret() -> str | None:
        account = wiring.staff_store().account(member.account_id)
        assert account is not None
        return account.totp_secret

    # The session cookie alone (a browser left signed in, a stolen cookie) is not enough.
    alone = admin.post("/masuk/daftar-kode", {"code": new_code})
    assert alone.status_code == 422
    assert 'href="#password"' in alone.text and 'href="#current_code"' in alone.text
    for password, old_code in ((PASSWORD, "000000"), ("bukan kata sandinya", member.code(1))):
        wrong = admin.post(
            "/masuk/daftar-kode",
            {"code": new_code, "password": password, "current_code": old_code},
        )
        assert wrong.status_code == 401
        assert "Kata sandi atau kode dari aplikasi autentikator yang sekarang salah" in wrong.text
    assert stored_secret() == member.totp_secret
    done = admin.post(
        "/masuk/daftar-kode",
        {"code": new_code, "password": PASSWORD, "current_code": member.code(1)},
    )
    assert done.status_code == 303 and location(done).startswith("/akun?ok=")
    assert stored_secret() == new_secret


def test_replacing_a_second_factor_signs_out_the_other_sessions_and_is_in_the_change_log(
    signed_in_client: SignedIn, console_app: Any
) -> None:
    # An officer signs in by the password alone until it enrols, so two browsers hold a
    # session of one account without racing for the same 30-second code.
    name = f"Sari Ganti {uuid.uuid4().hex[:6]}"
    here = signed_in_client(Role.UNIT_OFFICER, "uptd-jalan-cianjur", name=name)
    member = here.member
    assert member is not None
    elsewhere = ConsoleClient(console_app.test_client())
    sign_in(elsewhere, member)

    def enrol_page(browser: ConsoleClient) -> str:
        page = browser.get("/masuk/daftar-kode")
        found = re.search(r'class="secret">([A-Z2-7 ]+)<', page.text)
        assert page.status_code == 200 and found
        return found.group(1).replace(" ", "")

    first = enrol_page(here)
    enrolled = here.post("/masuk/daftar-kode", {"code": pyotp.TOTP(first).now()})
    assert enrolled.status_code == 303
    assert elsewhere.get("/akun").status_code == 200  # a first enrolment ends nothing

    second = enrol_page(here)
    replaced = here.post(
        "/masuk/daftar-kode",
        {
            "code": pyotp.TOTP(second).now(),
            "password": PASSWORD,
            "current_code": pyotp.TOTP(first).at(time.time() + 30),  # the enrolment used now's
        },
    )
    assert replaced.status_code == 303 and location(replaced).startswith("/akun?ok=")
    assert "Sesi Anda yang lain telah diakhiri" in here.get(location(replaced)).text
    assert location(elsewhere.get("/kotak-masuk")).startswith("/masuk")
    assert here.get("/kotak-masuk").status_code == 200  # the one that replaced it stays
    account = wiring.staff_store().account(member.account_id)
    assert account is not None and account.totp_secret == second
    assert len(staff_usecases.sessions_of(member.account_id, wiring.console_ports())) == 1

    admin = signed_in_client(Role.AGENCY_ADMIN, "dpupr-cianjur")  # runs the officer's unit
    log = admin.get("/riwayat")
    assert log.status_code == 200
    row = next(r for r in log.text.split("<tr") if name in r)
    assert "Mengganti aplikasi autentikatornya" in row
    assert first not in log.text and second not in log.text


# --- signing out, expiry, deactivation -------------------------------------------------------


def test_signing_out_ends_the_session(signed_in_client: SignedIn) -> None:
    officer = signed_in_client(Role.UNIT_OFFICER, "uptd-jalan-cianjur")
    answer = officer.post("/keluar")
    assert answer.status_code == 303 and location(answer).startswith("/masuk?ok=")
    assert 'role="status">Anda sudah keluar.<' in officer.get(location(answer)).text
    assert location(officer.get("/akun")).startswith("/masuk")


def test_signing_out_everywhere_ends_every_session(signed_in_client: SignedIn) -> None:
    phone = signed_in_client(Role.UNIT_OFFICER, "uptd-jalan-cianjur")
    assert phone.member is not None
    laptop = ConsoleClient(phone.client.application.test_client())
    sign_in(laptop, phone.member)
    page = laptop.get("/akun")
    assert page.text.count("<tr>") == 3  # the header and two sessions
    answer = laptop.post("/akun/keluar-semua")
    assert answer.status_code == 303
    for browser in (phone, laptop):
        assert location(browser.get("/akun")).startswith("/masuk")


def test_an_idle_or_old_session_is_over(signed_in_client: SignedIn, db: firestore.Client) -> None:
    officer = signed_in_client(Role.UNIT_OFFICER, "uptd-jalan-cianjur")
    assert officer.member is not None
    sessions = db.collection("staff_sessions").where(
        filter=firestore.FieldFilter("account_id", "==", officer.member.account_id)
    )
    [session] = list(sessions.stream())
    idle = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=31)
    session.reference.update({"last_seen_at": idle})
    assert location(officer.get("/akun")).startswith("/masuk")

    other = signed_in_client(Role.UNIT_OFFICER, "uptd-jalan-cianjur")
    assert other.member is not None
    [session] = list(
        db.collection("staff_sessions")
        .where(filter=firestore.FieldFilter("account_id", "==", other.member.account_id))
        .stream()
    )
    session.reference.update({"created_at": dt.datetime.now(dt.UTC) - dt.timedelta(hours=13)})
    assert location(other.get("/akun")).startswith("/masuk")


def test_a_deactivated_account_is_signed_out_at_once(signed_in_client: SignedIn) -> None:
    officer = signed_in_client(Role.UNIT_OFFICER, "uptd-jalan-cianjur")
    assert officer.member is not None
    staff_usecases.deactivate(
        staff_usecases.SYSTEM, officer.member.account_id, wiring.console_ports()
    )
    assert location(officer.get("/akun")).startswith("/masuk")
    again = _sign_in_form(
        ConsoleClient(officer.client.application.test_client()), officer.member.email, PASSWORD
    )
    assert again.status_code == 401


# --- invitations and password resets -------------------------------------------------------


def _link_token(db: firestore.Client, kind: str, account_id: str) -> str:
    """The token notify would put in the e-mail: derived from the link id on the bus."""
    for entry in db.collection("outbox").stream():
        data = entry.to_dict() or {}
        payload = data.get("data") or {}
        if payload.get("kind") == kind and payload.get("account_id") == account_id:
            secret = wiring.console_ports().settings.token_secret
            return link_token(secret, payload["link_id"])
    raise AssertionError(f"no {kind} for {account_id} in the outbox")


def test_an_invited_person_sets_a_password_once_and_signs_in(
    anonymous_client: ConsoleClient, db: firestore.Client
) -> None:
    invited = staff_usecases.invite(
        staff_usecases.SYSTEM,
        "siti.baru@dpupr-cianjur.go.id",
        "Siti Baru",
        Role.UNIT_OFFICER,
        "uptd-jalan-cianjur",
        wiring.console_ports(),
    )
    token = _link_token(db, "staff.invitation", invited.account_id)
    page = anonymous_client.get(f"/undangan/{token}")
    assert page.status_code == 200 and "siti.baru@dpupr-cianjur.go.id" in page.text
    short = anonymous_client.post(f"/undangan/{token}", {"password": "pendek", "confirm": "pendek"})
    assert short.status_code == 422 and "paling sedikit 12 karakter" in short.text
    differ = anonymous_client.post(
        f"/undangan/{token}", {"password": PASSWORD, "confirm": PASSWORD + "x"}
    )
    assert differ.status_code == 422 and 'href="#confirm"' in differ.text
    accepted = anonymous_client.post(
        f"/undangan/{token}", {"password": PASSWORD, "confirm": PASSWORD}
    )
    assert accepted.status_code == 303 and location(accepted).startswith("/masuk")
    assert anonymous_client.get(f"/undangan/{token}").status_code == 404  # once only
    signed = _sign_in_form(anonymous_client, "siti.baru@dpupr-cianjur.go.id", PASSWORD)
    assert signed.status_code == 303 and location(signed) == "/kotak-masuk"


def test_a_password_reset_answers_the_same_for_any_address_and_ends_sessions(
    signed_in_client: SignedIn, anonymous_client: ConsoleClient, db: firestore.Client
) -> None:
    officer = signed_in_client(Role.UNIT_OFFICER, "uptd-jalan-cianjur")
    assert officer.member is not None
    answers, took = [], []
    for email in (officer.member.email, "tidak-ada@contoh.go.id"):
        page = anonymous_client.get("/lupa-sandi")
        started = time.monotonic()
        answers.append(
            anonymous_client.post("/lupa-sandi", {"email": email}, csrf=csrf_of(page.text))
        )
        took.append(time.monotonic() - started)
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].text == answers[1].text
    assert min(took) >= 1.0  # LAPOR_CONSOLE_RESET_MIN_RESPONSE_S, known address or not
    token = _link_token(db, "staff.password_reset", officer.member.account_id)
    new_password = "teh manis hangat di pagi hari"
    page = anonymous_client.get(f"/sandi/{token}")
    done = anonymous_client.post(
        f"/sandi/{token}",
        {"password": new_password, "confirm": new_password},
        csrf=csrf_of(page.text),
    )
    assert done.status_code == 303
    assert location(officer.get("/akun")).startswith("/masuk")  # the old session is over
    fresh = ConsoleClient(anonymous_client.client.application.test_client())
    assert _sign_in_form(fresh, officer.member.email, new_password).status_code == 303
    assert anonymous_client.get(f"/sandi/{token}").status_code == 404


def test_an_unknown_link_is_the_link_page_not_an_error(anonymous_client: ConsoleClient) -> None:
    for path in ("/undangan/bukan-token", "/sandi/bukan-token"):
        answer = anonymous_client.get(path)
        assert answer.status_code == 404 and "Tautan tidak berlaku" in answer.text
